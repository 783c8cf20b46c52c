# Sourced by each tests/cli/test_cli_*.sh (not a test itself): the binary under test ($bin, the
# script's first argument), this folder ($here), the repository root ($root), a scratch folder
# ($tmp) removed on exit together with every process listed in $pids, pass/fail counting and the
# checks the scripts share. `finish NAME` prints the tally; its status is the script's.
set -u
bin="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tmp="$(mktemp -d)"
pids=()
fail=0
pass=0
cleanup() {
    exec 2>/dev/null
    for p in "${pids[@]}"; do kill -9 "$p"; done
    wait
    rm -rf "$tmp"
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

# check_contains NAME NEEDLE COMMAND...: the command succeeds and its output holds NEEDLE.
check_contains() {
    local name="$1" needle="$2"; shift 2
    local out rc
    out=$("$@" 2>&1); rc=$?
    if [ $rc -eq 0 ] && [[ "$out" == *"$needle"* ]]; then ok; else bad "$name: rc=$rc out='${out:0:400}'"; fi
}

# check_has NAME HAYSTACK NEEDLE: output already captured holds NEEDLE.
check_has() {
    if [[ "$2" == *"$3"* ]]; then ok; else bad "$1: '$3' not in output:"; echo "$2" | head -20; fi
}

# check_error NAME NEEDLE COMMAND...: the command fails as a program does (exit 1..127, not a
# signal) and its stderr holds NEEDLE.
check_error() {
    local name="$1" needle="$2"; shift 2
    local err rc
    err=$("$@" 2>&1 >/dev/null); rc=$?
    if [ $rc -ne 0 ] && [ $rc -lt 128 ] && [[ "$err" == *"$needle"* ]]; then ok; else
        bad "$name: rc=$rc stderr='$err' (wanted non-zero and '$needle')"; fi
}

# check_exit CODE NAME NEEDLE COMMAND...: the command exits with CODE, NEEDLE on its stderr.
check_exit() {
    local code="$1" name="$2" needle="$3"; shift 3
    local err rc
    err=$("$@" 2>&1 >/dev/null); rc=$?
    if [ $rc -eq "$code" ] && [[ "$err" == *"$needle"* ]]; then ok; else
        bad "$name: rc=$rc stderr='$err' (wanted $code and '$needle')"; fi
}

# For the scripts that run UEs on loopback: a free UDP port; wait_until SECONDS COMMAND...,
# true once COMMAND succeeds, false after SECONDS; lines_in FILE N, whether FILE has N lines.
free_port() {
    python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_until() {
    local limit=$(($1 * 10)) i=0; shift
    until "$@"; do
        i=$((i + 1))
        [ $i -ge $limit ] && return 1
        sleep 0.1
    done
}
lines_in() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }

finish() {
    echo "$1: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}

# tshark with pc5sec's Wireshark plugin ($PC5SEC_WIRESHARK_PLUGIN, set by ctest when the build
# has one), installed per user as docs/wireshark.md says: in a HOME of its own under $tmp.
# tshark ignores personal plugins when run as root, so as root it runs as nobody; the files it
# reads must then be readable by all (tshark_readable). have_tshark_plugin says whether it can run.
have_tshark_plugin() {
    command -v tshark >/dev/null && [ -n "${PC5SEC_WIRESHARK_PLUGIN:-}" ] &&
        [ -f "$PC5SEC_WIRESHARK_PLUGIN" ]
}
tshark_home="$tmp/wireshark-home"
tshark_pc5s() {
    $(tshark_command) "$@"
}
# The command line that runs tshark so (compare_tshark.py takes it in $PC5SEC_TSHARK).
tshark_command() {
    if [ ! -f "$tshark_home/.local/lib/wireshark/plugins/4.0/epan/pc5s.so" ]; then
        mkdir -p "$tshark_home/.local/lib/wireshark/plugins/4.0/epan"
        cp "$PC5SEC_WIRESHARK_PLUGIN" "$tshark_home/.local/lib/wireshark/plugins/4.0/epan/"
        chmod a+rx "$tmp"
        chmod -R a+rX "$tshark_home"
    fi
    if [ "$(id -u)" -eq 0 ]; then
        echo "runuser -u nobody -- env HOME=$tshark_home tshark"
    else
        echo "env HOME=$tshark_home tshark"
    fi
}
# tshark_readable FILE...: lets tshark_pc5s read them (and the folders on the way under $tmp).
tshark_readable() {
    local f d
    chmod a+rx "$tmp"
    for f in "$@"; do
        chmod a+r "$f"
        d=$(dirname "$f")
        while [ "$d" != "$tmp" ] && [ "$d" != "/" ]; do chmod a+rx "$d"; d=$(dirname "$d"); done
    done
}

#!/usr/bin/env bash
# `pc5sec ue` as a user runs it (docs/udp.md): credentials from `pc5sec provision`, then a relay, a
# target and a source as three processes on loopback. For solution A through a layer-3 and a
# layer-2 relay and solution B (hardened): every line typed at the source is printed by the
# target; the relay is killed with SIGKILL and both ends notice (keep-alive, exit 3). Solution A
# again: the source's input ends (exit 0, links released), SIGTERM stops the target and the relay
# (exit 0). The key log is private and no key appears in any output. Bad input exits 2 naming the
# option. Every wait is bounded and every process is killed on exit.
source "$(dirname "$0")/lib.sh"

running() { kill -0 "$1" 2>/dev/null; }
stopped() { ! running "$1"; }
# exit_status PID SECONDS: sets $status to the process's exit status, or "timeout" (not in a
# subshell: only this shell can wait for its children).
exit_status() {
    if wait_until "$2" stopped "$1"; then
        wait "$1"
        status=$?
    else
        status=timeout
    fi
}

"$bin" provision --out "$tmp/creds" --ue alice:end-ue:rsc=0x000001 --ue relay1:relay:rsc=0x000001 \
    --ue bob:end-ue:rsc=0x000001 >/dev/null || { echo "FAIL provision"; exit 1; }

# start NAME SOLUTION PATH: a relay, a target and a source (stdin from the fifo on fd $w). The
# free ports are picked before the processes bind them: if another program took one meanwhile
# (a UE exits 2 naming --bind), start again on new ports.
start() {
    name=$1
    d="$tmp/$name"
    mkdir -p "$d"
    local attempt
    for attempt in 1 2 3; do
        launch "$2" "$3"
        sleep 0.3
        if running "$relay" && running "$target" && running "$source"; then return; fi
        kill -9 "$relay" "$target" "$source" 2>/dev/null
        wait "$relay" "$target" "$source" 2>/dev/null
        exec {w}>&-
        echo "note: $name: a UE did not start (attempt $attempt): $(cat "$d"/*.err | grep error)"
    done
}
launch() {
    local pr pt ps
    pr=$(free_port); pt=$(free_port); ps=$(free_port)
    local common=(--solution "$1" --keepalive 0.5 ${extra:+$extra})
    local path=()
    [ -n "$2" ] && path=(--path "$2")
    rm -f "$d/in" "$d/bob.out"
    "$bin" ue --bundle "$tmp/creds/relay1" --role relay --l2-id 0x000050 --bind "127.0.0.1:$pr" \
        --peer "alice:0x00000a=127.0.0.1:$ps" --peer "bob:0x00000b=127.0.0.1:$pt" "${common[@]}" \
        2>"$d/relay.err" &
    relay=$!
    "$bin" ue --bundle "$tmp/creds/bob" --role target --l2-id 0x00000b --bind "127.0.0.1:$pt" \
        --peer "0x000050=127.0.0.1:$pr" "${common[@]}" >"$d/bob.out" 2>"$d/bob.err" &
    target=$!
    mkfifo "$d/in"
    "$bin" ue --bundle "$tmp/creds/alice" --role source --l2-id 0x00000a --bind "127.0.0.1:$ps" \
        --peer "0x000050=127.0.0.1:$pr" --target bob "${path[@]}" "${common[@]}" \
        --keylog "$d/keys.log" --pcap "$d/alice.pcap" <"$d/in" 2>"$d/alice.err" &
    source=$!
    pids+=("$relay" "$target" "$source")
    exec {w}>"$d/in"
}

# send N [FIRST]: lines FIRST..N to the source (FIRST 1 by default); checks the target printed
# exactly lines 1..N, in order.
send_and_check() {
    local n=$1 i
    for i in $(seq "${2:-1}" "$n"); do echo "$name line $i: hello through the relay" >&"$w"; done
    if wait_until 60 lines_in "$d/bob.out" "$n"; then
        if diff <(for i in $(seq 1 "$n"); do echo "$name line $i: hello through the relay"; done) \
            "$d/bob.out" >/dev/null; then ok; else bad "$name: lines differ: $(head -5 "$d/bob.out")"; fi
    else
        bad "$name: the target printed $(wc -l <"$d/bob.out") of $n lines"
        tail -5 "$d/alice.err" "$d/relay.err" "$d/bob.err"
    fi
}

no_keys_in_output() {
    local mode
    mode=$(stat -c %a "$d/keys.log")
    [ "$mode" == "600" ] && ok || bad "$name: key log mode $mode"
    local keys
    keys=$(awk '$1!="ALGS" && $1!="KNRP_SESS_ID" && $1!="DISCOVERY_ALGS" && $1 !~ /^#/ {print $3}' "$d/keys.log")
    [ -n "$keys" ] && ok || bad "$name: empty key log"
    local k leaked=0
    for k in $keys; do
        grep -q "$k" "$d"/*.err "$d"/*.out && leaked=1
    done
    [ $leaked -eq 0 ] && ok || bad "$name: a key appears in the output"
    [ "$(stat -c %s "$d/alice.pcap")" -gt 40 ] && ok || bad "$name: empty capture"
}

# The relay is killed; both ends notice by keep-alive and exit 3.
kill_relay_and_check() {
    kill -9 "$relay"
    wait "$relay" 2>/dev/null
    local rs rt
    exit_status "$source" 30; rs=$status
    exit_status "$target" 30; rt=$status
    [ "$rs" == "3" ] && ok || bad "$name: source exit $rs after the relay was killed"
    [ "$rt" == "3" ] && ok || bad "$name: target exit $rt after the relay was killed"
    grep -q "lost" "$d/alice.err" && ok || bad "$name: the source did not report the lost peer"
    grep -q "lost" "$d/bob.err" && ok || bad "$name: the target did not report the lost peer"
    exec {w}>&-
}

for run in "A-l3 A l3" "A-l2 A l2" "B-hardened B-hardened -" "B-hardened-l3 B-hardened l3"; do
    # shellcheck disable=SC2086
    set -- $run
    p=$3; [ "$p" == "-" ] && p=""
    start "$1" "$2" "$p"
    send_and_check 20
    grep -q "forwarded" "$d/relay.err" && ok || bad "$name: the relay logged no forwarding"
    grep -q "established" "$d/alice.err" && ok || bad "$name: no link in the source's log"
    kill_relay_and_check
    no_keys_in_output
done

# privacy_run NAME SOLUTION PATH: T5090 at 1 s; lines sent before and after several updates all
# arrive, in order, and both ends log their updates.
privacy_run() {
    extra="--privacy-timer 1"
    start "$1" "$2" "$3"
    send_and_check 20
    sleep 3.5
    send_and_check 40 21
    grep -q "identifiers updated" "$d/alice.err" && ok || bad "$name: no identifier update in the source's log"
    grep -q "identifiers updated" "$d/bob.err" && ok || bad "$name: no identifier update in the target's log"
    kill_relay_and_check
    no_keys_in_output
}
# Solution A through a layer-2 relay: every link changes its L2 IDs and keys every second (the
# link identifier update, docs/solution-a.md).
privacy_run A-l2-privacy A l2
# Solution B: each end UE updates its hop to the relay every second, then re-keys the link
# (docs/solution-b.md, "Link identifier update").
privacy_run B-privacy B-hardened ""
extra=""
check_error privacy-timer-range "--privacy-timer: seconds, 0..86400 (0: off)" \
    "$bin" ue --bundle "$tmp/creds/bob" --role target --l2-id 0x00000b --solution B-hardened \
    --bind "127.0.0.1:$(free_port)" --peer "0x000050=127.0.0.1:$(free_port)" --privacy-timer 90000

# Solution A, layer 3: the input ends, the source releases and exits 0; SIGTERM stops the target
# and the relay with exit 0 (their links released).
start "A-l3-eof" A l3
send_and_check 5
exec {w}>&-
exit_status "$source" 30; rs=$status
[ "$rs" == "0" ] && ok || bad "$name: source exit $rs at the end of its input"
grep -q "released by this UE" "$d/alice.err" && ok || bad "$name: the source released nothing"
grep -q "released by the peer" "$d/relay.err" && ok || bad "$name: the relay saw no release"
running "$target" && ok || bad "$name: the target stopped with the source"
kill -TERM "$target"
exit_status "$target" 20; rt=$status
[ "$rt" == "0" ] && ok || bad "$name: target exit $rt on SIGTERM"
kill -TERM "$relay"
exit_status "$relay" 20; rr=$status
[ "$rr" == "0" ] && ok || bad "$name: relay exit $rr on SIGTERM"
grep -q "keys wiped" "$d/relay.err" && ok || bad "$name: the relay's last line"
no_keys_in_output

# Bad input exits 2 naming the option.
base=(--role source --l2-id 0x00000a --bind 127.0.0.1:0 --peer 0x000050=127.0.0.1:9 --target bob)
expect_bad() {  # option-named-in-error, args...
    local opt=$1; shift
    local err rc
    err=$("$bin" ue "$@" 2>&1 </dev/null >/dev/null); rc=$?
    if [ $rc -eq 2 ] && [[ "$err" == *"$opt"* ]]; then ok; else bad "bad input ($*): rc=$rc $err"; fi
}
expect_bad --bundle --bundle "$tmp/nowhere" "${base[@]}"
expect_bad --role --bundle "$tmp/creds/relay1" "${base[@]}"
expect_bad --role --bundle "$tmp/creds/alice" --role server --l2-id 1 --bind 127.0.0.1:0 --peer 2=127.0.0.1:9
expect_bad --l2-id --bundle "$tmp/creds/alice" --role source --l2-id zz --bind 127.0.0.1:0 --peer 2=127.0.0.1:9 --target bob
expect_bad --peer --bundle "$tmp/creds/alice" --role source --l2-id 1 --bind 127.0.0.1:0 --peer bogus --target bob
expect_bad --bind --bundle "$tmp/creds/alice" --role source --l2-id 1 --bind 127.0.0.1:99999 --peer 2=127.0.0.1:9 --target bob
expect_bad --solution --bundle "$tmp/creds/alice" "${base[@]}" --solution C
expect_bad --path --bundle "$tmp/creds/alice" "${base[@]}" --path l4
expect_bad --path --bundle "$tmp/creds/alice" "${base[@]}" --solution B-hardened --path direct
expect_bad --target --bundle "$tmp/creds/alice" --role source --l2-id 1 --bind 127.0.0.1:0 --peer 2=127.0.0.1:9
expect_bad --rsc --bundle "$tmp/creds/alice" "${base[@]}" --rsc 0x000002
# A --bind address already taken: the holder binds port 0 itself and reports the port it holds, so
# no other program can take the port between picking and holding it (a race that once failed CI).
python3 -c "import socket,sys,time; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1], flush=True); time.sleep(10)" >"$tmp/held-port" &
pids+=($!)
wait_until 5 lines_in "$tmp/held-port" 1 || bad "the port holder did not start"
port=$(head -n1 "$tmp/held-port")
expect_bad --bind --bundle "$tmp/creds/alice" --role source --l2-id 1 --bind "127.0.0.1:$port" --peer 2=127.0.0.1:9 --target bob

# --log-level: what the library reports on stderr. A relay whose peers have no name says so (info);
# at level error it says nothing. A level that is not one is refused naming the option.
relay_port=$(free_port)
timeout 2 "$bin" ue --bundle "$tmp/creds/relay1" --role relay --l2-id 0x50 --bind "127.0.0.1:$relay_port" \
    --peer 1=127.0.0.1:9 >/dev/null 2>"$tmp/relay-info.err"
check_has "log level info" "$(cat "$tmp/relay-info.err")" "no peer has a name"
timeout 2 "$bin" --log-level error ue --bundle "$tmp/creds/relay1" --role relay --l2-id 0x50 \
    --bind "127.0.0.1:$relay_port" --peer 1=127.0.0.1:9 >/dev/null 2>"$tmp/relay-error.err"
[ ! -s "$tmp/relay-error.err" ] && ok || bad "log level error: $(cat "$tmp/relay-error.err")"
err=$("$bin" --log-level loud ue --bundle "$tmp/creds/relay1" 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && [[ "$err" == *"--log-level"* ]] && ok || bad "--log-level loud: rc=$rc $err"

finish "cli ue"

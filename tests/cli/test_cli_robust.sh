#!/usr/bin/env bash
# Hostile strings, files and scenario values (issue [robust] item 7), as a user meets them:
# a corrupted user info ID in a failure reason still gives valid JSON and a clean table; /dev/zero
# as a certificate is an error naming the file; directories are 0700 under umask 000; key logs
# and keys refuse symbolic links and non-regular files and are replaced atomically; unknown
# key-log labels are named in a warning and decoding goes on; out-of-range scenario values are
# errors naming the key.
source "$(dirname "$0")/lib.sh"

# ---- hostile strings in the simulator's report
cat >"$tmp/hostile.toml" <<'TOML'
name = "hostile"
path = "l3"
[[ue]]
name = "alice"
[[ue]]
name = "bob"
[[ue]]
name = "r"
relay = true
[[connect]]
source = "alice"
target = "bob"
relay = "r"
[[attacker]]
action = "modify"
[attacker.match]
message = "establishment_request"
from = "alice"
to = "r"
[attacker.modify]
set = { source_user_info = "0xff0a1b5b324a626f62" }
TOML
out=$("$bin" simulate "$tmp/hostile.toml" --out "$tmp/hostile" --json 2>/dev/null); rc=$?
if [ $rc -eq 0 ] && printf '%s' "$out" | python3 -c 'import json,sys; json.loads(sys.stdin.buffer.read().decode("utf-8"))'; then ok; else
    bad "hostile json: rc=$rc, not valid UTF-8 JSON"; fi
check_has "hostile json escaped" "$out" '\\xff'
python3 -c 'import json; json.load(open("'"$tmp"'/hostile/metrics.json", encoding="utf-8"))' && ok || bad "metrics.json invalid"
table=$("$bin" simulate "$tmp/hostile.toml" --no-files 2>/dev/null)
if printf '%s' "$table" | LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]'; then bad "control octets in the table"; else ok; fi
check_has "hostile table escaped" "$table" '\xff\x0a\x1b[2Jbob'

# ---- files
"$bin" provision --out "$tmp/creds" --ue alice:end-ue:rsc=0x000001 --ue bob:end-ue:rsc=0x000001 \
    >/dev/null || bad "provision"
cp -r "$tmp/creds/alice" "$tmp/zero"
ln -sf /dev/zero "$tmp/zero/cert.pem"
check_exit 2 "dev-zero cert" "$tmp/zero/cert.pem: larger than 64 MiB" "$bin" creds check --bundle "$tmp/zero"
check_error "dev-zero scenario" "/dev/zero: larger than 64 MiB" "$bin" simulate /dev/zero --no-files

(umask 000 && "$bin" provision --out "$tmp/open/deep" --ue carol:end-ue:rsc=0x000001 >/dev/null) ||
    bad "provision under umask 000"
for d in "$tmp/open" "$tmp/open/deep" "$tmp/open/deep/carol" "$tmp/open/deep/ca"; do
    m=$(stat -c %a "$d"); [ "$m" = 700 ] && ok || bad "$d is $m, not 700"
done
m=$(stat -c %a "$tmp/open/deep/carol/key.pem"); [ "$m" = 600 ] && ok || bad "key.pem is $m"
# A second demo into the same folder replaces its keys and key log atomically.
"$bin" demo --out "$tmp/demo" >/dev/null 2>&1 || bad "demo"
"$bin" demo --out "$tmp/demo" >/dev/null 2>&1 && ok || bad "second demo"
m=$(stat -c %a "$tmp/demo/keylog.txt"); [ "$m" = 600 ] && ok || bad "demo keylog.txt is $m"
(umask 000 && "$bin" simulate builtin:a-l3 --out "$tmp/sim-open/x" >/dev/null 2>&1) || bad "simulate"
m=$(stat -c %a "$tmp/sim-open"); [ "$m" = 700 ] && ok || bad "simulate --out parent is $m"

echo precious >"$tmp/victim"
ln -s "$tmp/victim" "$tmp/keys.log"
check_exit 2 "keylog symlink" "keys.log: is a symbolic link" "$bin" establish --path l2 --keylog "$tmp/keys.log"
[ "$(cat "$tmp/victim")" = precious ] && ok || bad "the link's target was written"
mkfifo "$tmp/fifo.log"
check_exit 2 "keylog fifo" "fifo.log: is not a regular file" "$bin" establish --keylog "$tmp/fifo.log"
check_exit 2 "ue keylog symlink" "is a symbolic link" "$bin" ue --bundle "$tmp/creds/alice" --role source \
    --l2-id 0x00000a --bind 127.0.0.1:0 --peer 0x000050=127.0.0.1:9 --target bob --keylog "$tmp/keys.log"
[ "$(cat "$tmp/victim")" = precious ] && ok || bad "the link's target was written by ue"
"$bin" establish --path l2 --keylog "$tmp/real.log" >/dev/null || bad "establish keylog"
"$bin" establish --path l2 --keylog "$tmp/real.log" >/dev/null || bad "establish keylog again"
m=$(stat -c %a "$tmp/real.log"); [ "$m" = 600 ] && ok || bad "real.log is $m"

# ---- unknown key-log labels: a warning naming the line, and decoding goes on
"$bin" simulate builtin:a-l3 --out "$tmp/kl" >/dev/null 2>&1 || bad "simulate a-l3"
printf 'KNRPP alice>r#1 00\n' >>"$tmp/kl/keylog.txt"
line=$(wc -l <"$tmp/kl/keylog.txt")
err=$("$bin" decode --pcap "$tmp/kl/capture.pcap" --keylog "$tmp/kl/keylog.txt" 2>&1 >"$tmp/kl/out"); rc=$?
[ $rc -eq 0 ] && ok || bad "decode with an unknown label: rc=$rc $err"
check_has "unknown label warning" "$err" "warning: $tmp/kl/keylog.txt: line $line: unknown label \"KNRPP\""
grep -q "deciphered" "$tmp/kl/out" && ok || bad "nothing deciphered"

# A key log is anyone's text: a link id with an escape sequence is printed escaped.
id=$(awk '$1 == "NRPEK" {print $2; exit}' "$tmp/kl/keylog.txt")
sed "s/$id/evil$(printf '\x1b')[2J/g" "$tmp/kl/keylog.txt" >"$tmp/kl/evil.txt"
out=$("$bin" decode --pcap "$tmp/kl/capture.pcap" --keylog "$tmp/kl/evil.txt" 2>&1)
if printf '%s' "$out" | grep -q $'\x1b'; then bad "ESC from a key log reached the output"; else ok; fi
check_has "escaped link id" "$out" 'link evil\x1b[2J'

# ---- scenario limits: each an error naming the key
scenario() {
    printf 'name = "t"\n[[ue]]\nname = "%s"\n[[ue]]\nname = "bob"\n[[ue]]\nname = "r"\nrelay = true\n' "$1"
    printf '[[connect]]\nsource = "%s"\ntarget = "bob"\nrelay = "r"\nat_ms = %s\n%s\n' "$1" "$2" "$3"
}
scenario alice inf "" >"$tmp/s1.toml"
check_exit 2 "at_ms inf" "connect[0].at_ms: must be a finite number" "$bin" simulate "$tmp/s1.toml" --no-files
scenario alice 0 $'[traffic]\npdus = 20000000' >"$tmp/s2.toml"
check_exit 2 "pdus" "traffic.pdus: at most 100000" "$bin" simulate "$tmp/s2.toml" --no-files
scenario alice 0 $'[medium]\ndelay_ms = 1e15' >"$tmp/s3.toml"
check_exit 2 "delay" "medium.delay_ms" "$bin" simulate "$tmp/s3.toml" --no-files
scenario 'al>ice' 0 "" >"$tmp/s4.toml"
check_exit 2 "name >" "ue[0].name: 'al>ice'" "$bin" simulate "$tmp/s4.toml" --no-files
scenario 'al ice' 0 "" >"$tmp/s5.toml"
check_exit 2 "name space" "ue[0].name" "$bin" simulate "$tmp/s5.toml" --no-files

finish "cli robust"

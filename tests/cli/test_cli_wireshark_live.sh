#!/usr/bin/env bash
# A live capture as a tester takes it (docs/wireshark.md): dumpcap on loopback while a relay, a
# target and a source run `pc5sec ue` (solution A through a layer-2 relay), then tshark with
# pc5sec's plugin and the source's key log: the UDP frames are dissected as PC5 frames (the
# heuristic UDP dissector), the source's end-to-end PDUs are deciphered on both hops with their
# MAC-I verified, and every line typed at the source is read in the clear. If this machine does
# not allow capturing, the test says so and is skipped (exit 77), never passed.
source "$(dirname "$0")/lib.sh"
if ! have_tshark_plugin; then
    echo "SKIP: tshark or this build's Wireshark plugin (not built under the sanitizers) missing"
    exit 77
fi
command -v dumpcap >/dev/null || { echo "SKIP live capture: no dumpcap"; exit 77; }
capturing() { grep -q "Capturing on" "$tmp/dumpcap.err"; }
dumpcap_gone() { ! kill -0 "$dumpcap" 2>/dev/null; }

"$bin" provision --out "$tmp/creds" --ue alice:end-ue:rsc=0x000001 --ue relay1:relay:rsc=0x000001 \
    --ue bob:end-ue:rsc=0x000001 >/dev/null || { echo "FAIL provision"; exit 1; }
pr=$(free_port); pt=$(free_port); ps=$(free_port)
dumpcap -q -i lo -f "udp and (port $pr or port $pt or port $ps)" -w "$tmp/live.pcapng" \
    2>"$tmp/dumpcap.err" &
dumpcap=$!
pids+=("$dumpcap")
if ! wait_until 10 capturing; then
    echo "SKIP live capture: dumpcap cannot capture on lo here: $(grep -v '^$' "$tmp/dumpcap.err" | head -2)"
    exit 77
fi

common=(--solution A --keepalive 0.5)
"$bin" ue --bundle "$tmp/creds/relay1" --role relay --l2-id 0x000050 --bind "127.0.0.1:$pr" \
    --peer "alice:0x00000a=127.0.0.1:$ps" --peer "bob:0x00000b=127.0.0.1:$pt" "${common[@]}" \
    2>"$tmp/relay.err" &
pids+=($!)
"$bin" ue --bundle "$tmp/creds/bob" --role target --l2-id 0x00000b --bind "127.0.0.1:$pt" \
    --peer "0x000050=127.0.0.1:$pr" "${common[@]}" >"$tmp/bob.out" 2>"$tmp/bob.err" &
pids+=($!)
sleep 0.3
lines=5
for i in $(seq 1 $lines); do echo "live line $i: hello bob"; done | {
    sleep 0.5
    cat
    sleep 2
} | "$bin" ue --bundle "$tmp/creds/alice" --role source --l2-id 0x00000a --bind "127.0.0.1:$ps" \
    --peer "0x000050=127.0.0.1:$pr" --target bob --path l2 "${common[@]}" \
    --keylog "$tmp/alice.keys" 2>"$tmp/alice.err"
wait_until 30 lines_in "$tmp/bob.out" $lines && ok || bad "bob printed $(wc -l <"$tmp/bob.out") of $lines lines: $(tail -3 "$tmp/alice.err")"
sleep 0.5
kill -INT "$dumpcap"
wait_until 10 dumpcap_gone || bad "dumpcap did not stop"

tshark_readable "$tmp/live.pcapng" "$tmp/alice.keys"
k=(-o "pc5s.keylog_file:$tmp/alice.keys")
frames=$(tshark_pc5s -r "$tmp/live.pcapng" 2>/dev/null | wc -l)
pc5=$(tshark_pc5s -r "$tmp/live.pcapng" -Y pc5s 2>/dev/null | wc -l)
[ "$frames" -gt 10 ] && [ "$pc5" -eq "$frames" ] && ok || bad "$pc5 of $frames UDP datagrams dissected as PC5 frames"
# The requests' identities are concealed on the air (docs/discovery.md, "Request privacy"): alice's
# key log (her RSC's discovery material) reveals them; without it they show as concealed.
tshark_pc5s -r "$tmp/live.pcapng" "${k[@]}" -Y 'pc5s.msg_type == 1' 2>/dev/null | grep -q "ESTABLISHMENT REQUEST" &&
    ok || bad "no establishment request in the live capture"
tshark_pc5s -r "$tmp/live.pcapng" -Y 'pc5s.req.concealed == 1 && pc5s.req.revealed == 0' 2>/dev/null | grep -q "identities concealed" &&
    ok || bad "no concealed request without the key log"
read_lines=$(tshark_pc5s -r "$tmp/live.pcapng" "${k[@]}" -Y 'pc5s.deciphered contains "live line"' 2>/dev/null | wc -l)
# Each line crosses two hops: source to relay, relay to target.
[ "$read_lines" -ge $((2 * lines)) ] && ok || bad "$read_lines frames read in the clear, wanted $((2 * lines))"
mac_bad=$(tshark_pc5s -r "$tmp/live.pcapng" "${k[@]}" -Y 'pc5s.mac_ok == 0' 2>/dev/null | wc -l)
mac_ok=$(tshark_pc5s -r "$tmp/live.pcapng" "${k[@]}" -Y 'pc5s.mac_ok == 1' 2>/dev/null | wc -l)
[ "$mac_bad" -eq 0 ] && [ "$mac_ok" -ge $((2 * lines)) ] && ok || bad "live: pc5s.mac_ok 1 on $mac_ok, 0 on $mac_bad"
echo "live capture: $frames datagrams, $read_lines with a typed line deciphered, $mac_ok MAC-I verified"
finish "cli wireshark live"

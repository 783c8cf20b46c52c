#!/usr/bin/env bash
# `pc5sec decode` as a user runs it: readable and JSON output, pcaps, bad input of every kind,
# thousands of malformed messages (never a crash), and tshark with the shipped dissector agreeing
# with `pc5sec decode --json` field by field.
source "$(dirname "$0")/lib.sh"

REQ=01010675652d737263040000100102f07012
check_contains readable "PROSE DIRECT LINK ESTABLISHMENT REQUEST" "$bin" decode $REQ
check_contains readable-policy "integrity required, ciphering preferred" "$bin" decode $REQ
check_contains json-hex "\"hex\":\"$REQ\"" "$bin" decode --json $REQ
check_contains json-type '"msg_type":1' "$bin" decode --json $REQ
check_contains two-messages "seq 8" "$bin" decode $REQ 0d082202f07012202122232425262728292a2b2c2d2e2fa5
n=$("$bin" decode --json $REQ 080c 03030a | wc -l)
[ "$n" -eq 3 ] && ok || bad "json-lines: $n lines"
check_contains provisional "provisional" "$bin" decode 0e09580c0d

check_error no-input "give a message" "$bin" decode
check_error bad-hex "hex" "$bin" decode 0g
check_error truncated "truncated message" "$bin" decode 01
check_error unknown-type "unknown message type 0x7f" "$bin" decode 7f01
check_error reserved-type "reserved value" "$bin" decode 0001
check_error missing-ie "establishment_request.source_user_info" "$bin" decode 0101
check_error past-end "length past the end" "$bin" decode 0e09580c0d3f09aa
check_error duplicate "duplicate IE" "$bin" decode 0e09580001580002
check_error second-bad "message 2" "$bin" decode 080c 0101
check_error no-pcap "no such file" "$bin" decode --pcap "$tmp/none.pcap"
printf 'not a pcap file at all, no' > "$tmp/garbage.pcap"
check_error garbage-pcap "pcap header" "$bin" decode --pcap "$tmp/garbage.pcap"

# Samples capture: every message type with all optional IEs, then with none.
"$bin" decode --write-samples "$tmp/s.pcap" && ok || bad "write-samples"
frames=$("$bin" decode --pcap "$tmp/s.pcap" --json | wc -l)
[ "$frames" -eq 46 ] && ok || bad "pcap frames: $frames"
check_contains pcap-readable "frame 46: 000a01 -> 000b02" "$bin" decode --pcap "$tmp/s.pcap"
head -c 300 "$tmp/s.pcap" > "$tmp/cut.pcap"
check_error cut-pcap "length past the end" "$bin" decode --pcap "$tmp/cut.pcap"

# Malformed messages: truncations and single-octet mutations of each sample, one process each
# (about 280 runs: what is checked here is the command's exit status and message; tests/codec
# runs far more mutants in process, and fuzz/fuzz_decode.cpp more still).
# Each must decode or exit 2 with a message; never a crash (rc >= 128) or another exit code.
"$bin" decode --pcap "$tmp/s.pcap" --json | python3 -c '
import json, random, sys
random.seed(7)
out = []
for line in sys.stdin:
    h = json.loads(line)["hex"]
    b = bytes.fromhex(h)
    for n in range(0, len(b), max(1, len(b) // 4)):
        out.append(b[:n].hex())
    for _ in range(4):
        m = bytearray(b)
        i = random.randrange(len(m))
        m[i] = random.randrange(256)
        out.append(m.hex())
print("\n".join(x for x in out if x))
' > "$tmp/mutants.txt"
count=0; crashes=0; odd=0
while read -r chunk; do
    # shellcheck disable=SC2086
    "$bin" decode $chunk >/dev/null 2>"$tmp/err"; rc=$?
    count=$((count + 1))
    if [ $rc -ge 128 ]; then crashes=$((crashes + 1)); echo "CRASH rc=$rc on $chunk"; fi
    if [ $rc -ne 0 ] && [ $rc -ne 2 ] && [ $rc -lt 128 ]; then odd=$((odd + 1)); fi
    if [ $rc -eq 2 ] && ! [ -s "$tmp/err" ]; then odd=$((odd + 1)); echo "no message for $chunk"; fi
done < "$tmp/mutants.txt"
[ $count -gt 200 ] && [ $crashes -eq 0 ] && [ $odd -eq 0 ] && ok || bad "mutants: $count run, $crashes crashes, $odd odd"

# tshark with pc5sec's Wireshark plugin agrees with pc5sec field by field.
if have_tshark_plugin; then
    tshark_readable "$tmp/s.pcap"
    if PC5SEC_TSHARK=$(tshark_command) python3 "$here/compare_tshark.py" "$bin" "$tmp/s.pcap"; then ok; else bad "tshark comparison"; fi
    # The plugin never crashes tshark or trips a dissector assertion, even on truncated and
    # mutated frames; each is dissected or marked malformed.
    python3 "$here/mutate_pcap.py" "$tmp/s.pcap" "$tmp/mut.pcap" 3 40 12 2
    tshark_readable "$tmp/mut.pcap"
    tshark_pc5s -r "$tmp/mut.pcap" -V >"$tmp/mut.txt" 2>&1; rc=$?
    [ $rc -eq 0 ] && ok || bad "tshark exit $rc on mutated frames"
    bugs=$(grep -c -i "dissector bug\|assertion" "$tmp/mut.txt")
    [ "$bugs" -eq 0 ] && ok || bad "plugin: $bugs dissector bugs on mutated frames"
    frames=$(tshark_pc5s -r "$tmp/mut.pcap" 2>/dev/null | wc -l)
    expected=$(python3 -c "import sys,struct
d=open(sys.argv[1],'rb').read(); o=24; n=0
while o < len(d): n+=1; o+=16+struct.unpack('<I',d[o+8:o+12])[0]
print(n)" "$tmp/mut.pcap")
    [ "$frames" -eq "$expected" ] && ok || bad "tshark listed $frames of $expected mutated frames"
else
    echo "SKIP tshark comparison: tshark or this build's Wireshark plugin (not in sanitizer builds) missing"
fi

# --observer: what an eavesdropper without keys or discovery material learns. Discovery is
# restricted (docs/discovery.md): none of it reads, and no identity comes from it; the
# establishment request still shows who talks to whom (docs/solution-a.md, "Identity privacy").
(cd "$tmp" && "$bin" simulate builtin:a-l3-discovery --out "$tmp/obs" >/dev/null 2>&1) || bad "observer: simulate"
"$bin" decode --pcap "$tmp/obs/capture.pcap" --observer --json >"$tmp/obs.json" 2>&1 && ok || bad "observer: exit $?"
python3 - "$tmp/obs.json" <<'PY' && ok || bad "observer: $(cat "$tmp/obs.json" | head -c 400)"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["discovery_frames"] >= 2 and j["discovery_readable"] == 0, j
fields = {i["field"] for i in j["identities"]}
assert not any(f.startswith("u2u_relay_discovery") for f in fields), fields
names = {i["identity"] for i in j["identities"]}
# The request's and step 3's identities are concealed (docs/discovery.md, "Request privacy"):
# 2 requests, 2 authentication requests and 2 responses; nothing names a UE or carries a
# certificate in clear.
assert j["requests"] == 2 and j["requests_concealed"] == 2 and j["concealed"] == 6, j
assert names == set() and j["certificates_in_clear"] == 0, j
assert {l["l2_id"] for l in j["l2_ids"]} == {0x0A, 0x0B, 0x50}, j["l2_ids"]
PY
"$bin" decode --pcap "$tmp/obs/capture.pcap" --observer | grep -q 'discovery: 2 frames, 0 readable' && ok || bad "observer: text"
"$bin" decode --pcap "$tmp/obs/capture.pcap" --observer --keylog "$tmp/obs/keylog.txt" >/dev/null 2>&1
[ $? -eq 2 ] && ok || bad "observer with --keylog not refused"
# With the key log the same discovery frames open, MIC verified.
"$bin" decode --pcap "$tmp/obs/capture.pcap" --keylog "$tmp/obs/keylog.txt" | grep -c "material: counter .*MIC verified" | grep -qx 2 && ok || bad "discovery not opened with the key log"
# ... and so do the concealed requests; without it, they say what they need.
"$bin" decode --pcap "$tmp/obs/capture.pcap" --keylog "$tmp/obs/keylog.txt" | grep -q "identities concealed on the air: revealed" && ok || bad "request not revealed with the key log"
"$bin" decode --pcap "$tmp/obs/capture.pcap" | grep -q "identities concealed on the air: give --keylog" && ok || bad "concealed request without the key log"

finish "cli decode"

#!/usr/bin/env bash
# `pc5sec decode --pcap F --keylog K` as a tester runs it on a capture of protected data PDUs
# (docs/pcap-format.md "Data PDUs and deciphering with the key log"): every PDU deciphered from
# the key log alone, MAC-I BAD on a tampered PDU, "no key" without the link's lines, hostile
# frames never a crash, a bad key log named without its value, keys never printed, and tshark
# with pc5sec's Wireshark plugin showing the same header fields and deciphering the same.
source "$(dirname "$0")/lib.sh"

# A capture of protected data PDUs (LCID 4, SRAP end to end) and one protected PC5-S PDU, with
# fresh random keys, and its key log (mode 0600).
"$bin" decode --write-data-sample "$tmp/d.pcap" "$tmp/d.keys" >/dev/null && ok || bad "write-data-sample"
mode=$(stat -c %a "$tmp/d.keys")
[ "$mode" = 600 ] && ok || bad "key log mode $mode"
"$bin" decode --pcap "$tmp/d.pcap" --keylog "$tmp/d.keys" > "$tmp/out.txt" 2>&1 && ok || bad "decode with key log"
n=$(grep -c "MAC-I ok" "$tmp/out.txt")
[ "$n" -eq 9 ] && ok || bad "MAC-I ok on $n of 9 frames"
for needle in '"hello bob"' '"hello alice"' '"hello carol, via the relay"' '"hello alice, from carol"' \
    'payload (11 octets): 000102ff2062696e617279' 'COUNT 1 (HFN 0, SN 1), DIRECTION 0 (by the MAC-I), 128-NEA2 deciphered' \
    'DIRECTION 1 (by the MAC-I), 128-NEA3 deciphered' 'SRAP: bearer 4 (data), source local UE ID 1, destination local UE ID 2' \
    'SRAP: bearer 2 (SL-SRB2)' 'PROSE DIRECT LINK KEEPALIVE REQUEST' 'flags 0x08 (on air)'; do
    [[ "$(cat "$tmp/out.txt")" == *"$needle"* ]] && ok || bad "decode output lacks $needle"
done
# Keys never leave the key log: no NRPEK / NRPIK value in the output.
leaked=0
while read -r label _ value; do
    if [ "$label" = NRPEK ] || [ "$label" = NRPIK ]; then
        grep -q "$value" "$tmp/out.txt" && leaked=$((leaked + 1))
        "$bin" decode --pcap "$tmp/d.pcap" --keylog "$tmp/d.keys" --json | grep -q "$value" && leaked=$((leaked + 1))
    fi
done < "$tmp/d.keys"
[ $leaked -eq 0 ] && ok || bad "$leaked keys printed"

# JSON: one object per frame, the deciphering under "decrypted".
"$bin" decode --pcap "$tmp/d.pcap" --keylog "$tmp/d.keys" --json | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
assert len(rows) == 9, len(rows)
texts = []
for r in rows:
    d = r["decrypted"]
    assert d["verdict"] == "opened", d
    o = d["openings"][0]
    assert o["mac"] == "ok" and d["direction_from"] == "mac-i", d
    assert r["frame"]["flags"] == 8
    texts.append(o.get("text") or o.get("message", {}).get("msg_name"))
assert rows[0]["data"]["knrp_sess_id"] == rows[1]["data"]["knrp_sess_id"]
assert rows[1]["data"]["sn"] == 1 and rows[1]["decrypted"]["openings"][0]["count"] == 1
assert rows[3]["srap"] == {"dc": 1, "bearer": 4, "src_ue": 0, "dst_ue": 2}, rows[3]["srap"]
assert rows[7]["pdcp"]["sn"] == 0 and rows[7]["decrypted"]["bearer"] == 2
assert texts == ["hello bob", None, "hello alice", "hello carol, via the relay",
                 "hello carol, via the relay", "hello alice, from carol", "hello alice, from carol",
                 "keepalive_request", "keepalive_request"], texts
' && ok || bad "json"

# Without a key log: headers and ciphered bytes only.
check_contains no-keylog "no key: give --keylog to decipher" "$bin" decode --pcap "$tmp/d.pcap"
# Without the end-to-end link's lines: its PDUs have no key, the hop's still open.
grep -v "alice>carol" "$tmp/d.keys" > "$tmp/hop.keys"
"$bin" decode --pcap "$tmp/d.pcap" --keylog "$tmp/hop.keys" > "$tmp/hop.txt" 2>&1 && ok || bad "partial key log"
[ "$(grep -c 'no key: KNRP-sess ID 0x' "$tmp/hop.txt")" -eq 6 ] && ok || bad "no key: $(grep -c 'no key' "$tmp/hop.txt")"
[ "$(grep -c 'MAC-I ok' "$tmp/hop.txt")" -eq 3 ] && ok || bad "hop PDUs with a partial key log"

# A tampered MAC-I (the last octet of frame 2) and a tampered payload octet (frame 4).
python3 - "$tmp/d.pcap" "$tmp/t.pcap" <<'PY'
import struct, sys
data = bytearray(open(sys.argv[1], "rb").read())
off, n = 24, 0
while off < len(data):
    incl = struct.unpack("<I", data[off + 8:off + 12])[0]
    n += 1
    if n == 2:
        data[off + 16 + incl - 1] ^= 0x01
    if n == 4:
        data[off + 16 + 12 + 3 + 5] ^= 0x80
    off += 16 + incl
open(sys.argv[2], "wb").write(data)
PY
"$bin" decode --pcap "$tmp/t.pcap" --keylog "$tmp/d.keys" > "$tmp/t.txt" 2>&1 && ok || bad "decode tampered"
[ "$(grep -c 'MAC-I BAD' "$tmp/t.txt")" -eq 2 ] && ok || bad "MAC-I BAD: $(grep -c 'MAC-I BAD' "$tmp/t.txt")"
[ "$(grep -c 'MAC-I ok' "$tmp/t.txt")" -eq 7 ] && ok || bad "tampered capture: $(grep -c 'MAC-I ok' "$tmp/t.txt") ok"
grep -q 'DIRECTION 0 (by the sender, no MAC-I to tell), 128-NEA2 deciphered, MAC-I BAD' "$tmp/t.txt" && ok || bad "bad MAC-I line"

# Hostile on-air frames: truncated, mutated, other LCIDs. Never a crash, never a Lua error.
python3 - "$tmp/d.pcap" "$tmp/h.pcap" "$tmp/p.pcap" <<'PY'
import random, struct, sys
random.seed(5)
data = open(sys.argv[1], "rb").read()
frames, off = [], 24
while off < len(data):
    incl = struct.unpack("<I", data[off + 8:off + 12])[0]
    frames.append(data[off + 16:off + 16 + incl])
    off += 16 + incl
out = bytearray(data[:24])
for f in frames:
    for _ in range(60):
        m = bytearray(f)
        k = random.randrange(4)
        if k == 0:
            m = m[:random.randrange(12, len(m) + 1)]
        elif k == 1:
            m[random.randrange(12, len(m))] = random.randrange(256)
        elif k == 2:
            m[10] = random.choice([0, 1, 2, 3, 4, 19, 20, 55, 58, 63, 255])
        else:
            m = m[:12] + bytes(random.randrange(256) for _ in range(random.randrange(40)))
        out += struct.pack("<IIII", 0, 0, len(m), len(m)) + m
open(sys.argv[2], "wb").write(out)
# For the dissector only (pc5sec decode stops at a malformed plain message, naming its field):
# plain PC5-S messages of every type with short, random IEs: an LV or TLV length that is too
# short for its value (a two-octet UE security capabilities of length 1, ...) is malformed.
out = bytearray(data[:24])
head = bytearray(frames[0][:12])
head[1], head[10], head[11] = 12, 0, 0
ieis = [0, 1, 2, 3, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x52, 0x53, 0x54, 0x57, 0x58, 0x74, 0x75, 0x76,
        0x70, 0x80, 0x90, 0xB0, 0xB1, 0xFF]
for _ in range(3000):
    body = bytes([random.choice([1, 2, 3, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 0x30]),
                  random.randrange(256)])
    n = random.randrange(30)
    if random.randrange(2):
        body += bytes(random.choice(ieis) for _ in range(n))
    else:
        body += bytes(random.choice([0, 1, 2, 0xFF, random.randrange(256)]) for _ in range(n))
    m = head + body
    out += struct.pack("<IIII", 0, 0, len(m), len(m)) + m
open(sys.argv[3], "wb").write(out)
PY
"$bin" decode --pcap "$tmp/h.pcap" --keylog "$tmp/d.keys" > "$tmp/h.txt" 2>&1; rc=$?
# Plaintext frames (LCID 0 with the flag off are not produced here) decode or name a field.
[ $rc -lt 128 ] && ok || bad "hostile capture: rc=$rc"
[ $rc -eq 0 ] && ok || bad "hostile capture exit $rc: $(tail -1 "$tmp/h.txt")"
grep -q "malformed: data.header" "$tmp/h.txt" && ok || bad "no malformed data.header reported"
"$bin" decode --pcap "$tmp/h.pcap" --keylog "$tmp/d.keys" --json > /dev/null 2>&1; rc=$?
[ $rc -eq 0 ] && ok || bad "hostile capture, json: rc=$rc"

# Bad input.
check_error keylog-no-pcap "--keylog" "$bin" decode --keylog "$tmp/d.keys" 0101
check_error keylog-missing "none.keys: cannot be read" "$bin" decode --pcap "$tmp/d.pcap" --keylog "$tmp/none.keys"
printf 'NRPEK alice>bob#00000001 00112233445566778899aabbccddee\n' > "$tmp/short.keys"
check_error keylog-short-key "key log NRPEK alice>bob#00000001" "$bin" decode --pcap "$tmp/d.pcap" --keylog "$tmp/short.keys"
err=$("$bin" decode --pcap "$tmp/d.pcap" --keylog "$tmp/short.keys" 2>&1 >/dev/null)
[[ "$err" != *"00112233"* ]] && ok || bad "a bad key's value was printed: $err"
printf 'ALGS alice>bob#00000001 7 2\n' > "$tmp/algs.keys"
check_error keylog-algs "key log ALGS alice>bob#00000001" "$bin" decode --pcap "$tmp/d.pcap" --keylog "$tmp/algs.keys"
printf 'NRPEK\n' > "$tmp/line.keys"
check_error keylog-line "line 1" "$bin" decode --pcap "$tmp/d.pcap" --keylog "$tmp/line.keys"
check_error write-data-sample-args "write-data-sample" "$bin" decode --write-data-sample "$tmp/x.pcap"

# tshark with the plugin: the on-air header fields, then field by field with pc5sec.
if have_tshark_plugin; then
    tshark_readable "$tmp/d.pcap" "$tmp/d.keys" "$tmp/h.pcap" "$tmp/p.pcap"
    fields=$(tshark_pc5s -r "$tmp/d.pcap" -T fields -E separator=/s \
        -e pc5s.hdr.flags.on_air -e pc5s.hdr.lcid -e pc5s.srap.bearer -e pc5s.srap.src_ue \
        -e pc5s.srap.dst_ue -e pc5s.data.knrp_sess_id -e pc5s.data.dc -e pc5s.data.sn \
        -e pc5s.pdcp.sn 2>/dev/null)
    id=$(sed -n 's/^KNRP_SESS_ID alice>bob#[0-9a-f]* //p' "$tmp/d.keys")
    e2e=$(sed -n 's/^KNRP_SESS_ID alice>carol#[0-9a-f]* //p' "$tmp/d.keys")
    line2=$(echo "$fields" | sed -n 2p)
    line5=$(echo "$fields" | sed -n 5p)
    line8=$(echo "$fields" | sed -n 8p)
    [ "$line2" = "1 4    0x$id 1 1 " ] && ok || bad "tshark frame 2: '$line2'"
    [ "$line5" = "1 55 4 1 2 0x$e2e 1 0 " ] && ok || bad "tshark frame 5: '$line5'"
    [ "$line8" = "1 55 2 0 2    0" ] && ok || bad "tshark frame 8: '$line8'"
    tshark_pc5s -r "$tmp/d.pcap" -V 2>&1 | grep -q "Ciphered payload and MAC-I" && ok || bad "tshark -V"
    export PC5SEC_TSHARK; PC5SEC_TSHARK=$(tshark_command)
    if python3 "$here/compare_tshark.py" "$bin" "$tmp/d.pcap" "$tmp/d.keys"; then ok; else bad "tshark comparison"; fi
    if python3 "$here/compare_tshark.py" "$bin" "$tmp/d.pcap"; then ok; else bad "tshark comparison without the key log"; fi
    for f in h p; do
        tshark_pc5s -r "$tmp/$f.pcap" -o "pc5s.keylog_file:$tmp/d.keys" -V >"$tmp/$f.txt" 2>&1 ||
            bad "tshark failed on hostile frames ($f.pcap)"
        grep -qi "dissector bug" "$tmp/$f.txt" && bad "plugin: dissector bug on hostile frames ($f.pcap)"
    done
    ok
else
    echo "SKIP tshark checks: tshark or this build's Wireshark plugin (not in sanitizer builds) missing"
fi

finish "cli decode --keylog"

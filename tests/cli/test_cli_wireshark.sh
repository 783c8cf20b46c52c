#!/usr/bin/env bash
# pc5sec's Wireshark plugin as a tester uses it (docs/wireshark.md), in tshark with the plugin
# installed per user: simulated captures of both solutions deciphered with their key logs (every
# protected PDU opened, pc5s.mac_ok 1 on all, no expert warning or error, and field by field what
# `pc5sec decode --json --keylog` gives); one MAC-I bit flipped (pc5s.mac_ok 0 and an expert
# error); a frame replayed (pc5s.replayed and a warning); no key log (nothing deciphered, no
# expert info but "no key"); a bad key log (named, nothing deciphered); a fuzzed capture (tshark
# never crashes). The live capture of `pc5sec ue` is test_cli_wireshark_live.sh.
source "$(dirname "$0")/lib.sh"
if ! have_tshark_plugin; then
    echo "SKIP: tshark or this build's Wireshark plugin (not built under the sanitizers) missing"
    exit 77
fi
export PC5SEC_TSHARK; PC5SEC_TSHARK=$(tshark_command)
count() { wc -l | tr -d ' '; }

tshark_pc5s -G plugins 2>/dev/null | grep -q "pc5s.so" && ok || bad "tshark -G plugins does not list pc5s.so"

# a-l2-privacy-timer: every link's L2 IDs, KNRP-sess ID and SRAP local UE IDs change every
# 10 s (the link identifier update); b-l2-privacy-timer: each solution B hop's, on LCID 2 under
# the hop's keys: the key log still opens every PDU.
for s in a-l2 a-l3 b-hardened-l3 b-literal a-l2-privacy-timer b-l2-privacy-timer; do
    what="builtin:$s"
    [ -f "$here/../../examples/$s.toml" ] && what="$here/../../examples/$s.toml"
    (cd "$tmp" && "$bin" simulate "$what" --out "$tmp/$s" >/dev/null 2>&1) || bad "$s: simulate"
    cap="$tmp/$s/capture.pcap"
    keys="$tmp/$s/keylog.txt"
    tshark_readable "$cap" "$keys"
    k=(-o "pc5s.keylog_file:$keys")
    protected=$(tshark_pc5s -r "$cap" "${k[@]}" -Y 'pc5s.pdcp.knrp_sess_id || pc5s.data.knrp_sess_id' 2>/dev/null | count)
    opened=$(tshark_pc5s -r "$cap" "${k[@]}" -Y 'pc5s.verdict == 1' 2>/dev/null | count)
    mac_ok=$(tshark_pc5s -r "$cap" "${k[@]}" -Y 'pc5s.mac_ok == 1 && !(pc5s.mac_ok == 0)' 2>/dev/null | count)
    mac_bad=$(tshark_pc5s -r "$cap" "${k[@]}" -Y 'pc5s.mac_ok == 0' 2>/dev/null | count)
    [ "$protected" -gt 5 ] && [ "$opened" -eq "$protected" ] && ok ||
        bad "$s: $opened of $protected protected PDUs deciphered"
    [ "$mac_ok" -eq "$protected" ] && [ "$mac_bad" -eq 0 ] && ok ||
        bad "$s: pc5s.mac_ok 1 on $mac_ok, 0 on $mac_bad of $protected"
    experts=$(tshark_pc5s -r "$cap" "${k[@]}" -q -z expert,warn 2>/dev/null | grep -c "PC5-S")
    [ "$experts" -eq 0 ] && ok || bad "$s: $experts expert warnings or errors with the key log"
    python3 "$here/compare_tshark.py" "$bin" "$cap" "$keys" >"$tmp/$s.cmp" && ok ||
        bad "$s: tshark and pc5sec decode --json differ: $(head -5 "$tmp/$s.cmp")"
    # Without the key log: nothing deciphered, and no expert info but "no key".
    none=$(tshark_pc5s -r "$cap" -Y 'pc5s.deciphered' 2>/dev/null | count)
    [ "$none" -eq 0 ] && ok || bad "$s: $none frames deciphered without a key log"
    # (A concealed establishment request says it needs the key log too: docs/discovery.md.)
    other=$(tshark_pc5s -r "$cap" -q -z expert,warn 2>/dev/null | grep "PC5-S" | grep -vcE "No key for KNRP-sess ID|Concealed message: no key log")
    nokey=$(tshark_pc5s -r "$cap" -q -z expert,warn 2>/dev/null | grep -c "No key for KNRP-sess ID")
    [ "$other" -eq 0 ] && [ "$nokey" -gt 0 ] && ok ||
        bad "$s: without the key log $other expert infos other than $nokey 'no key'"
done

# Discovery on LCID 58 (docs/discovery.md): restricted, so without the key log it is scrambled
# (no relay name, no RSC, a "no key log" expert note); with it every discovery frame opens, MIC
# verified, field by field what `pc5sec decode --json --keylog` gives.
for s in a-l3-discovery b-hardened-discovery; do
    (cd "$tmp" && "$bin" simulate "builtin:$s" --out "$tmp/$s" >/dev/null 2>&1) || bad "$s: simulate"
    cap="$tmp/$s/capture.pcap"
    keys="$tmp/$s/keylog.txt"
    tshark_readable "$cap" "$keys"
    k=(-o "pc5s.keylog_file:$keys")
    disc=$(tshark_pc5s -r "$cap" -Y 'pc5s.hdr.lcid == 58' 2>/dev/null | count)
    restricted=$(tshark_pc5s -r "$cap" -Y 'pc5s.disc.restricted == 1' 2>/dev/null | count)
    opened=$(tshark_pc5s -r "$cap" "${k[@]}" -Y 'pc5s.disc.opened == 1 && pc5s.relay_service_code' 2>/dev/null | count)
    blind=$(tshark_pc5s -r "$cap" -Y 'pc5s.disc.opened == 1 || pc5s.relay_user_info || pc5s.discoverer_user_info' 2>/dev/null | count)
    [ "$disc" -ge 2 ] && [ "$restricted" -eq "$disc" ] && [ "$opened" -eq "$disc" ] && [ "$blind" -eq 0 ] && ok ||
        bad "$s: $disc discovery frames, $restricted restricted, $opened opened with the key log, $blind read without it"
    tshark_pc5s -r "$cap" -q -z expert,warn 2>/dev/null | grep -q "Restricted discovery: no key log" && ok ||
        bad "$s: no expert note for restricted discovery without a key log"
    python3 "$here/compare_tshark.py" "$bin" "$cap" "$keys" >"$tmp/$s.cmp" && ok ||
        bad "$s: tshark and pc5sec decode --json --keylog differ: $(head -5 "$tmp/$s.cmp")"
    python3 "$here/compare_tshark.py" "$bin" "$cap" >"$tmp/$s.cmp0" && ok ||
        bad "$s: tshark and pc5sec decode --json differ without a key log: $(head -5 "$tmp/$s.cmp0")"
done

# The L2 IDs carry their user info IDs, and each link is a conversation. The names come from
# the requests, whose identities are concealed on the air: with the key log they are named, and
# without it alice's L2 ID stays unnamed (what an observer outside the RSC sees).
keys_l2="$tmp/a-l2/keylog.txt"
tshark_pc5s -r "$tmp/a-l2/capture.pcap" -o "pc5s.keylog_file:$keys_l2" 2>/dev/null | grep -q "0x00000a (alice)" && ok || bad "addresses not named"
tshark_pc5s -r "$tmp/a-l2/capture.pcap" 2>/dev/null | grep -q "(alice)" && bad "alice named without the key log" || ok
concealed=$(tshark_pc5s -r "$tmp/a-l2/capture.pcap" -Y 'pc5s.req.concealed == 1 && pc5s.req.revealed == 0' 2>/dev/null | count)
[ "$concealed" -ge 1 ] && ok || bad "no concealed request shown as such without the key log"
conv=$(tshark_pc5s -r "$tmp/a-l2/capture.pcap" -q -z conv,pc5s 2>/dev/null | grep -c "<->")
[ "$conv" -ge 3 ] && ok || bad "tshark -z conv,pc5s: $conv conversations"

# edit_frame IN OUT N ACTION: frame N's last octet flipped (flip), or frame N appended again
# at the end (replay).
edit_frame() {
    python3 - "$@" <<'PY'
import struct, sys
src, dst, n, action = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
d = bytearray(open(src, "rb").read())
off, i = 24, 0
while off < len(d):
    incl = struct.unpack_from("<I", d, off + 8)[0]
    i += 1
    if i == n:
        if action == "flip":
            d[off + 16 + incl - 1] ^= 0x01
        else:
            d += d[off:off + 16 + incl]
        break
    off += 16 + incl
open(dst, "wb").write(d)
PY
}
cap="$tmp/a-l2/capture.pcap"; keys="$tmp/a-l2/keylog.txt"
n=$(tshark_pc5s -r "$cap" -Y 'pc5s.data.knrp_sess_id' -T fields -e frame.number 2>/dev/null | head -1)
edit_frame "$cap" "$tmp/flipped.pcap" "$n" flip
edit_frame "$cap" "$tmp/replayed.pcap" "$n" replay
tshark_readable "$tmp/flipped.pcap" "$tmp/replayed.pcap"
bad_frames=$(tshark_pc5s -r "$tmp/flipped.pcap" -o "pc5s.keylog_file:$keys" -Y 'pc5s.mac_ok == 0' -T fields -e frame.number 2>/dev/null)
[ "$bad_frames" = "$n" ] && ok || bad "flipped MAC-I bit in frame $n: pc5s.mac_ok == 0 on '$bad_frames'"
tshark_pc5s -r "$tmp/flipped.pcap" -o "pc5s.keylog_file:$keys" -q -z expert,error 2>/dev/null |
    grep -q "MAC-I does not verify" && ok || bad "flipped MAC-I bit: no expert error"
replayed=$(tshark_pc5s -r "$tmp/replayed.pcap" -o "pc5s.keylog_file:$keys" -Y 'pc5s.replayed' -T fields -e frame.number 2>/dev/null)
last=$(tshark_pc5s -r "$tmp/replayed.pcap" 2>/dev/null | count)
[ "$replayed" = "$last" ] && ok || bad "replayed frame $last: pc5s.replayed on '$replayed'"
tshark_pc5s -r "$tmp/replayed.pcap" -o "pc5s.keylog_file:$keys" -q -z expert,warn 2>/dev/null |
    grep -q "Replayed COUNT" && ok || bad "replayed frame: no expert warning"

# The key log from the environment (as SSLKEYLOGFILE), and a bad key log named.
n_env=$(PC5SEC_KEYLOGFILE="$keys" tshark_pc5s -r "$cap" -Y 'pc5s.verdict == 1' 2>/dev/null | count)
[ "$n_env" -gt 5 ] && ok || bad "PC5SEC_KEYLOGFILE: $n_env frames deciphered"
printf 'NRPEK alice>bob#1 zz\n' >"$tmp/bad.keys"
tshark_readable "$tmp/bad.keys"
tshark_pc5s -r "$cap" -o "pc5s.keylog_file:$tmp/bad.keys" -q -z expert,error 2>/dev/null |
    grep -q "key log $tmp/bad.keys" && ok || bad "a bad key log is not named in an expert error"

# A fuzzed capture, with the key log: tshark never crashes, every frame is listed.
python3 "$here/mutate_pcap.py" "$cap" "$tmp/fuzz.pcap" 7 15 0 3
tshark_readable "$tmp/fuzz.pcap"
tshark_pc5s -r "$tmp/fuzz.pcap" -o "pc5s.keylog_file:$keys" -V >"$tmp/fuzz.txt" 2>&1; rc=$?
[ $rc -eq 0 ] && ok || bad "tshark exit $rc on the fuzzed capture: $(tail -3 "$tmp/fuzz.txt")"
grep -qi "dissector bug" "$tmp/fuzz.txt" && bad "plugin: dissector bug on the fuzzed capture" || ok

finish "cli wireshark"

#!/usr/bin/env bash
# `pc5sec scenarios`, `pc5sec simulate` and `pc5sec demo` as a new user runs them: the files they
# write, the JSON schema of docs/metrics.md, a user's own scenario file (examples/), bad input,
# and tshark reading the capture when tshark is installed.
source "$(dirname "$0")/lib.sh"
check() {  # name, python condition on the JSON file $2
    local v; v=$(python3 -c "import json,sys; d=json.load(open('$2')); print($3)" 2>&1)
    if [ "$v" == "True" ]; then ok; else bad "$1: $3 -> $v"; fi
}

# The list names at least the scenarios the issue asks for.
list=$("$bin" scenarios)
for want in a-direct a-l3 a-l2 b-literal b-hardened a-l3-ooc b-hardened-ooc attack-tamper-mac \
    attack-replay attack-revoked attack-tampering-relay-b-hardened scale-10k; do
    if grep -q "builtin:$want " <<<"$list"; then ok; else bad "scenarios lacks $want"; fi
done
"$bin" scenarios --show a-l3 >"$tmp/a-l3.toml" && grep -q 'path = "l3"' "$tmp/a-l3.toml" && ok || bad "--show"

# A run writes its files; the JSON has the documented fields.
if "$bin" simulate builtin:a-l2 --out "$tmp/a-l2" >"$tmp/out.txt" 2>"$tmp/err"; then ok; else bad "simulate a-l2: $(cat "$tmp/err")"; fi
for f in capture.pcap keylog.txt metrics.json seq-01-alice-bob.svg; do
    [ -s "$tmp/a-l2/$f" ] && ok || bad "a-l2 wrote no $f"
done
[ "$(stat -c %a "$tmp/a-l2/keylog.txt")" == "600" ] && ok || bad "keylog.txt is not 0600"
grep -q "wall .* s, peak memory .* MiB" "$tmp/err" && ok || bad "no wall time / peak memory: $(cat "$tmp/err")"
m="$tmp/a-l2/metrics.json"
check "links fields" "$m" "all(set(['id','a','b','kind','solution','state','cause','knrp_id','knrp_sess_id','algorithms','latency_ms','fingerprints']) <= set(l) for l in d['links'])"
check "three links, one e2e" "$m" "len(d['links'])==3 and sorted(l['kind'] for l in d['links'])==['e2e','hop','hop']"
check "both ends agree" "$m" "all(l['keys_agree'] and len(l['fingerprints'])==2 for l in d['links'])"
check "messages" "$m" "d['messages']['establishment_request']['count']>=3 and d['messages_total']['bytes']>0"
check "crypto" "$m" "d['crypto']['sign']>0 and d['crypto']['key_agreement']>0"
check "data" "$m" "d['data']['offered']==20 and d['data']['delivered']==20 and d['data']['dropped']==0"
check "expectations" "$m" "d['expectations']['met'] is True"

# --json prints the same document; two runs are identical.
"$bin" simulate builtin:b-hardened --json --no-files >"$tmp/1.json" 2>/dev/null
"$bin" simulate builtin:b-hardened --json --no-files >"$tmp/2.json" 2>/dev/null
cmp -s "$tmp/1.json" "$tmp/2.json" && ok || bad "two runs of b-hardened differ"
check "b-hardened KD" "$tmp/1.json" "any('KD' in fp for l in d['links'] for fp in l['fingerprints'].values())"

# An attack: the link fails with its cause, and the run still meets its expectation (exit 0).
"$bin" simulate builtin:attack-revoked --json --no-files >"$tmp/rev.json" 2>/dev/null && ok || bad "attack-revoked exit"
check "revoked cause 6" "$tmp/rev.json" "any(l['state']=='failed' and l['cause']==6 for l in d['links'])"

# The capture opened with the key log alone: the source's data in clear, the attacker's
# tampered PDUs with a bad MAC-I, its made-up ones with no key.
"$bin" simulate builtin:attack-tamper-data --out "$tmp/td" >/dev/null 2>&1
"$bin" decode --pcap "$tmp/td/capture.pcap" --keylog "$tmp/td/keylog.txt" >"$tmp/td.txt" 2>&1
grep -q '"pc5sec data alice -> bob #0' "$tmp/td.txt" && ok || bad "decode --keylog: no payload in clear"
[ "$(grep -c 'MAC-I BAD' "$tmp/td.txt")" -eq 5 ] && ok || bad "decode --keylog: $(grep -c 'MAC-I BAD' "$tmp/td.txt") bad MAC-Is (wanted the 5 tampered)"
"$bin" simulate builtin:attack-inject-data --out "$tmp/id" >/dev/null 2>&1
[ "$("$bin" decode --pcap "$tmp/id/capture.pcap" --keylog "$tmp/id/keylog.txt" | grep -ci 'no key')" -eq 5 ] && ok || bad "decode --keylog: injected PDUs"

# A user's own file: every example runs.
for f in "$root"/examples/*.toml; do
    if "$bin" simulate "$f" --no-files >/dev/null 2>"$tmp/err"; then ok; else bad "example $f: $(cat "$tmp/err")"; fi
done

# Every attack of examples/attacks/ runs, meets its expected outcome and says per rule how often
# it fired and what came of it.
for f in "$root"/examples/attacks/*.toml; do
    if "$bin" simulate "$f" --no-files >"$tmp/out.txt" 2>"$tmp/err"; then ok; else bad "attack example $f: $(cat "$tmp/out.txt" "$tmp/err" | tail -5)"; fi
    grep -q "attacker .*: fired [0-9]* times -> " "$tmp/out.txt" && ok || bad "attack example $f: no per-rule line"
done
n_attacks=$(ls "$root"/examples/attacks/*.toml | wc -l)
[ "$n_attacks" -ge 8 ] && ok || bad "examples/attacks has $n_attacks files"
"$bin" simulate builtin:attack-tamper-mac --json --no-files >"$tmp/tm.json" 2>/dev/null
check "attacker in metrics" "$tmp/tm.json" "d['attacker'][0]['rule']=='tamper-mac' and d['attacker'][0]['fired']>=1 and d['attacker'][0]['outcome']=='refused' and d['attacker'][0]['victims']['dropped']['bad-mac']>=1"
printf 'name = "x"\n[[ue]]\nname = "a"\n[[ue]]\nname = "b"\n[[connect]]\nsource = "a"\ntarget = "b"\nrelay = "auto"\n[[attacker]]\naction = "modify"\nmatch = { from = "a", message = "establishment_request" }\nmodify = { set = { foo = 1 } }\n' >"$tmp/badrule.toml"
"$bin" simulate "$tmp/badrule.toml" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'attacker\[0\].modify.set.foo' "$tmp/err" && grep -q 'unknown IE "foo"' "$tmp/err" && ok || bad "bad rule: rc=$rc $(cat "$tmp/err")"

# Bad input: a clear error naming the key, exit 2.
printf 'name = "x"\nsolution = "A"\n[medium]\nloss = 2\n' >"$tmp/bad.toml"
"$bin" simulate "$tmp/bad.toml" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "medium.loss" "$tmp/err" && ok || bad "bad loss: rc=$rc $(cat "$tmp/err")"
"$bin" simulate builtin:nope >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && grep -q "pc5sec scenarios" "$tmp/err" && ok || bad "unknown builtin: rc=$rc"
"$bin" simulate "$tmp/missing.toml" >/dev/null 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && ok || bad "missing file: rc=$rc"

# The demo, as a new user runs it.
(cd "$tmp" && "$bin" demo --out demo-out >demo.txt 2>demo.err); rc=$?
[ $rc -eq 0 ] && ok || bad "demo rc=$rc $(tail -3 "$tmp/demo.err")"
for f in capture.pcap keylog.txt metrics.json credentials/alice/cert.pem credentials/ca/ca.pem a-l3/metrics.json; do
    [ -s "$tmp/demo-out/$f" ] && ok || bad "demo wrote no $f"
done
n_svg=$(ls "$tmp"/demo-out/*.svg 2>/dev/null | wc -l)
[ "$n_svg" -ge 8 ] && ok || bad "demo wrote $n_svg SVGs"
grep -q "b-hardened" "$tmp/demo.txt" && grep -q "attack-tamper-mac" "$tmp/demo.txt" && ok || bad "demo table"
check "demo metrics" "$tmp/demo-out/metrics.json" "len(d['scenarios'])>=8 and all(s['expectations']['met'] for s in d['scenarios'])"
"$bin" creds check --bundle "$tmp/demo-out/credentials/alice" --peer "$tmp/demo-out/credentials/relay-1/cert.pem" --relay-rsc 0x00A001 >/dev/null 2>&1 && ok || bad "demo credentials do not load with pc5sec creds"
python3 -c "import xml.dom.minidom,glob; [xml.dom.minidom.parse(f) for f in glob.glob('$tmp/demo-out/*.svg')]" && ok || bad "an SVG is not well-formed XML"

# tshark reads the capture with pc5sec's Wireshark plugin (when this build has one).
if have_tshark_plugin; then
    tshark_readable "$tmp/demo-out/capture.pcap" "$tmp/a-l2/capture.pcap"
    frames=$(tshark_pc5s -r "$tmp/demo-out/capture.pcap" 2>/dev/null | wc -l)
    [ "$frames" -gt 100 ] && ok || bad "tshark read $frames frames"
    n=$(tshark_pc5s -r "$tmp/a-l2/capture.pcap" -Y 'pc5s.msg_type' 2>/dev/null | wc -l)
    # The capture holds the air: the messages in clear (discovery, the integrity-only security
    # mode commands; SL-SRB0 but for the requests and step 3, whose identities are concealed)
    # dissect; the rest stays ciphered without the key log.
    [ "$n" -ge 3 ] && ok || bad "tshark found $n PC5-S messages in a-l2"
    c=$(tshark_pc5s -r "$tmp/a-l2/capture.pcap" -Y 'pc5s.req.concealed == 1' 2>/dev/null | wc -l)
    [ "$c" -ge 6 ] && ok || bad "tshark found $c concealed messages in a-l2"
    n=$(tshark_pc5s -r "$tmp/a-l2/capture.pcap" -Y 'pc5s.pdcp.ciphered' 2>/dev/null | wc -l)
    [ "$n" -ge 6 ] && ok || bad "tshark found $n ciphered PC5-S PDUs in a-l2"
    # The demo's capture with its key log, as the demo's last lines say: every protected PDU
    # has its key; a bad MAC-I only in the attack scenarios (the sixth on, a minute apart:
    # attack-tamper-mac and attack-tamper-data tamper with MAC-Is); field by field what
    # `pc5sec decode --json --keylog` gives.
    tshark_readable "$tmp/demo-out/keylog.txt"
    k=(-o "pc5s.keylog_file:$tmp/demo-out/keylog.txt")
    opened=$(tshark_pc5s -r "$tmp/demo-out/capture.pcap" "${k[@]}" -Y 'pc5s.verdict == 1' 2>/dev/null | wc -l)
    nokey=$(tshark_pc5s -r "$tmp/demo-out/capture.pcap" "${k[@]}" -Y 'pc5s.verdict == 3' 2>/dev/null | wc -l)
    early_bad=$(tshark_pc5s -r "$tmp/demo-out/capture.pcap" "${k[@]}" -Y 'pc5s.mac_ok == 0 && frame.time_relative < 300' 2>/dev/null | wc -l)
    [ "$opened" -gt 100 ] && [ "$nokey" -eq 0 ] && [ "$early_bad" -eq 0 ] && ok ||
        bad "demo capture: $opened deciphered, $nokey without a key, $early_bad bad MAC-Is outside the attacks"
    PC5SEC_TSHARK=$(tshark_command) python3 "$here/compare_tshark.py" "$bin" \
        "$tmp/demo-out/capture.pcap" "$tmp/demo-out/keylog.txt" >"$tmp/demo.cmp" && ok ||
        bad "demo capture: tshark and pc5sec decode --json differ: $(head -3 "$tmp/demo.cmp")"
else
    echo "SKIP tshark: tshark or this build's Wireshark plugin (not in sanitizer builds) missing"
fi

finish "cli simulate"

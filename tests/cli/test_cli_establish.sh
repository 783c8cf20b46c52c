#!/usr/bin/env bash
# `pc5sec establish` as a user runs it: both solutions on every path, every reject the options can
# provoke (with its cause), the key log recomputed independently with `pc5sec crypto`, bad input.
source "$(dirname "$0")/lib.sh"
jq_py() {  # json expression -> value, with python3
    python3 -c "import json,sys; d=json.load(open('$1')); print($2)"
}
# name, expected exit code, python expression on the JSON that must print True, args...
expect() {
    local name="$1" rc_want="$2" cond="$3"; shift 3
    "$bin" establish --json "$@" >"$tmp/out.json" 2>"$tmp/err"; local rc=$?
    if [ $rc -ne "$rc_want" ]; then bad "$name: rc=$rc (wanted $rc_want) $(cat "$tmp/err")"; return; fi
    local v; v=$(jq_py "$tmp/out.json" "$cond" 2>&1)
    if [ "$v" == "True" ]; then ok; else bad "$name: $cond -> $v"; head -c 2000 "$tmp/out.json"; fi
}
up='lambda d,ue,kind: [l for l in d["links"] if l["ue"]==ue and l.get("kind")==kind and l["state"]=="established"]'
cause='lambda d,ue: [l["cause"] for l in d["links"] if l["ue"]==ue and l["state"]=="failed"]'

# Solution A: both ends of every link agree; keys differ between hops.
for path in direct l3 l2; do
    expect "A $path" 0 "all(l['state']=='established' for l in d['links']) and len(set(json.dumps(l['fingerprints'],sort_keys=True) for l in d['links'])) == len(d['links'])//2" --path $path
done
expect "A l2 e2e" 0 "len(($up)(d,'alice','e2e'))==1 and len(($up)(d,'relay-1','e2e'))==0" --path l2
expect "A out of coverage" 0 "all(l['state']=='established' for l in d['links'])" --path l3 --out-of-coverage
expect "A reuse" 0 "sum(1 for l in d['links'] if l.get('knrp_reused'))==4" --path l3 --reuse
expect "A psk" 0 "d['crypto']['sign']==0 and len(d['links'])==2" --path direct --psk
expect "A null integrity" 0 "all(l['algorithms']=='nea0/nia0' for l in d['links'])" --path direct --source-integrity not-needed --target-integrity not-needed
# Solution B through the relay, both modes: one end-to-end link with one KD, at both ends only.
e2e='lambda d: [l for l in d["links"] if l.get("kind")=="e2e"]'
for mode in B-literal B-hardened; do
    expect "$mode" 0 "len(($e2e)(d))==2 and ($e2e)(d)[0]['fingerprints']['KD']==($e2e)(d)[1]['fingerprints']['KD']" --solution $mode --path l2
done

# Rejects, each with its cause (exit 1: the source has no link).
# An unprotected reject is confirmed by asking once more (docs/solution-a.md, invariant 1): the
# refusing end may refuse twice, always with the same cause.
expect "policy mismatch #10" 1 "($cause)(d,'alice')==[10] and set(($cause)(d,'bob'))=={10}" --path direct --source-integrity not-needed
expect "tampered request #6" 1 "set(($cause)(d,'bob'))=={6}" --path direct --attack tamper-request
expect "bad MAC never installs keys" 1 "d['drops'].get('bad-mac')==4 and not any(l['state']=='established' for l in d['links'])" --path direct --attack tamper-mac
expect "unauthorised relay #11" 1 "($cause)(d,'alice')==[11] and set(($cause)(d,'relay-1'))=={11}" --path l3 --attack unauthorised-relay
expect "foreign CA #6" 1 "6 in ($cause)(d,'bob')" --path direct --attack foreign-ca
# [a-state]: a forged request on a live link leaves it working (the source keeps its link and
# no link is released); a revoked source reusing its cached KNRP is refused #6; a flood of
# requests at the relay makes no hop towards the target beyond the genuine one.
expect "forged request on a live link" 0 "all(l['state']!='released' for l in d['links']) and set(($cause)(d,'bob'))=={6} and d['attacker'][-1]['fired']>=1" --path direct --attack forged-request-on-live-link
expect "revoked with cached KNRP #6" 1 "6 in ($cause)(d,'bob') and ($cause)(d,'alice')[-1]==6" --path direct --attack revoked-with-cached-knrp
expect "request flood" 0 "len([l for l in d['links'] if l['state']=='established' and l['ue']=='bob'])==1" --path l3 --attack request-flood
expect "revoked #6" 1 "6 in ($cause)(d,'relay-1')" --path l3 --attack revoked
expect "expired out of coverage #6" 1 "($cause)(d,'alice')==[6] and d['messages']==0" --attack expired --out-of-coverage
expect "expired in coverage renewed" 0 "all(l['state']=='established' for l in d['links'])" --attack expired
expect "replay leaves nothing" 0 "($cause)(d,'bob')==[4] and d['drops'].get('unexpected',0)>=1" --path direct --attack replay
expect "B unauthorised relay #11" 1 "11 in ($cause)(d,'relay-1')" --solution B-hardened --attack unauthorised-relay
expect "B tampering relay" 1 "len(($cause)(d,'bob'))==1" --solution B-hardened --attack tampering-relay
expect "B foreign CA #6" 1 "6 in ($cause)(d,'relay-1')" --solution B-hardened --attack foreign-ca
# [b-complete]: forged rejects in every UE's name change nothing, in either solution; a request
# replayed 62 minutes later is refused as stale by B-hardened and replaces the target's keys in
# B-literal (seed 001's gap, said in the output); a target not authorised for the RSC is refused
# #11 except by B-literal; without the source's key confirmation B-hardened's target never calls
# the link established.
for sol in A B-literal B-hardened; do
    expect "$sol forged rejects" 0 "all(l['state']=='established' for l in d['links']) and sum(a['fired'] for a in d['attacker'] if a['action']=='inject')==1025" --solution $sol --attack forged-reject
done
expect "B-hardened stale replay #6" 0 "($cause)(d,'bob')==[6] and len(($up)(d,'bob','e2e'))==1" --solution B-hardened --attack stale-replay
expect "B-literal stale replay accepted" 0 "len(($up)(d,'bob','e2e'))==2 and 'no freshness' in d['security_note']" --solution B-literal --attack stale-replay
expect "B-hardened target not authorised #11" 1 "set(($cause)(d,'bob'))=={11}" --solution B-hardened --attack target-not-authorised
expect "A target not authorised #11" 1 "11 in ($cause)(d,'bob')" --attack target-not-authorised
expect "B-literal target not authorised linked" 0 "len(($up)(d,'bob','e2e'))==1" --solution B-literal --attack target-not-authorised
expect "B-hardened unconfirmed target" 0 "($cause)(d,'bob')==[4] and not ($up)(d,'bob','e2e') and any(l['state']=='released' and l['ue']=='alice' for l in d['links'])" --solution B-hardened --attack unconfirmed-target
expect "B-hardened rogue relay not authorised #11" 1 "set(($cause)(d,'bob'))=={11} and ($cause)(d,'alice')==[11]" --solution B-hardened --attack relay-not-authorised-for-target
expect "B-literal rogue relay not authorised linked" 0 "len(($up)(d,'bob','e2e'))==1" --solution B-literal --attack relay-not-authorised-for-target
expect "B-literal unconfirmed target established" 0 "len(($up)(d,'bob','e2e'))==1" --solution B-literal --attack unconfirmed-target
# --path: B defaults to l2. Both paths have a hop link to each end (keys the relay shares with
# that end only, none from KD at the relay); direct is refused with the reason, never ignored.
# What differs is the data: by SRAP beside the hops (l2), inside IPv6 packets on them (l3).
expect "B default path l2" 0 "d['path']=='l2' and len(($up)(d,'relay-1','hop'))==2 and not ($up)(d,'relay-1','e2e') and all('KD' not in l['fingerprints'] for l in d['links'] if l['ue']=='relay-1')" --solution B-hardened
for sol in B-hardened B-literal; do
    expect "$sol l3: two hops, one end-to-end link" 0 "d['path']=='l3' and len(($up)(d,'relay-1','hop'))==2 and len(($up)(d,'alice','hop'))==1 and len(($up)(d,'bob','hop'))==1 and len(($up)(d,'alice','e2e'))==1 and len(($up)(d,'bob','e2e'))==1 and not ($up)(d,'relay-1','e2e') and all('KD' not in l['fingerprints'] for l in d['links'] if l['ue']=='relay-1') and len(set(json.dumps(l['fingerprints'],sort_keys=True) for l in d['links']))==3" --solution $sol --path l3
done
err=$("$bin" establish --solution B-hardened --path direct 2>&1 >/dev/null); rc=$?
[ $rc -eq 2 ] && [[ "$err" == *"relay"* ]] && ok || bad "B --path direct: rc=$rc $err"

# The key log: NRPEK/NRPIK recomputed from KNRP and the nonces with `pc5sec crypto`.
"$bin" establish --path direct --keylog "$tmp/keys.log" >/dev/null 2>&1 || bad "keylog run"
mode=$(stat -c %a "$tmp/keys.log")
[ "$mode" == "600" ] && ok || bad "key log mode $mode"
id=$(awk '$1=="KNRP"{print $2; exit}' "$tmp/keys.log")
get() { awk -v l="$1" -v i="$id" '$1==l && $2==i {print $3}' "$tmp/keys.log" | tail -1; }
sess=$("$bin" crypto knrp-sess --knrp "$(get KNRP)" --nonce1 "$(get NONCE_1)" --nonce2 "$(get NONCE_2)")
[ "$sess" == "$(get KNRP_SESS)" ] && ok || bad "KNRP-sess from the log: $sess vs $(get KNRP_SESS)"
alg_c=$(awk -v i="$id" '$1=="ALGS" && $2==i {print $3}' "$tmp/keys.log" | tail -1)
alg_i=$(awk -v i="$id" '$1=="ALGS" && $2==i {print $4}' "$tmp/keys.log" | tail -1)
[ "$("$bin" crypto nrpek --knrp-sess "$sess" --alg "$alg_c")" == "$(get NRPEK)" ] && ok || bad "NRPEK from the log"
[ "$("$bin" crypto nrpik --knrp-sess "$sess" --alg "$alg_i")" == "$(get NRPIK)" ] && ok || bad "NRPIK from the log"
# The text output never shows a key: the fingerprints only.
text=$("$bin" establish --path direct 2>&1)
if [[ "$text" == *"$(get NRPEK)"* ]]; then bad "a key in the output"; else ok; fi

# Bad input exits 2 naming the option.
for args in "--solution C" "--path l4" "--attack nope" "--solution B-hardened --path direct" \
            "--solution B-literal --attack tamper-mac" "--source-integrity maybe --path direct" \
            "--attack relay-not-authorised-for-target"; do
    # shellcheck disable=SC2086
    err=$("$bin" establish $args 2>&1 >/dev/null); rc=$?
    if [ $rc -eq 2 ] && [[ "$err" == *"--"* ]]; then ok; else bad "bad input '$args': rc=$rc $err"; fi
done

finish "cli establish"

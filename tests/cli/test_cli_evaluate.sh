#!/usr/bin/env bash
# `pc5sec evaluate --quick` as a new user runs it: the report and its files, plots drawn by
# gnuplot (when installed) and inlined in the HTML, the tables of docs/evaluation.md (the same
# sections, columns and rows: the document cannot fall behind the code), a seeded study that
# gives the same tables twice, and cells of the attack matrix re-run from their scenario files.
source "$(dirname "$0")/lib.sh"
out="$tmp/ev"
if "$bin" evaluate --quick --out "$out" >"$tmp/stdout" 2>"$tmp/stderr"; then ok; else bad "evaluate --quick: $(tail -5 "$tmp/stderr")"; fi
check_has "stdout names the report" "$(cat "$tmp/stdout")" "evaluation.html"
for f in evaluation.md evaluation.html evaluation/plots/bytes-by-kind.dat \
    evaluation/plots/loss-success.dat evaluation/plots/sources-latency.dat; do
    [ -s "$out/$f" ] && ok || bad "evaluate wrote no $f"
done
if command -v gnuplot >/dev/null; then
    for p in bytes-by-kind loss-success loss-latency sources-latency; do
        [ -s "$out/evaluation/plots/$p.svg" ] && ok || bad "no plot $p.svg"
    done
    # Self-contained: the plots are inline, nothing is fetched.
    [ "$(grep -c '<svg' "$out/evaluation.html")" -ge 4 ] && ok || bad "the HTML does not inline its plots"
else
    grep -q "gnuplot is not installed" "$tmp/stdout" && ok || bad "no word that gnuplot is missing"
fi
grep -q 'src="http\|href="http\|<script' "$out/evaluation.html" && bad "the HTML fetches or runs something" || ok
# The tables of the repository's document: same sections, columns and rows.
if python3 "$here/compare_evaluation.py" shape "$root/docs/evaluation.md" "$out/evaluation.md" >"$tmp/cmp"; then ok; else bad "docs/evaluation.md is behind the code: $(head -5 "$tmp/cmp")"; fi
# Reproducible: a second run gives the same tables (the measured profile's columns aside).
"$bin" evaluate --quick --out "$tmp/ev2" >/dev/null 2>&1
if python3 "$here/compare_evaluation.py" same "$out/evaluation.md" "$tmp/ev2/evaluation.md" >"$tmp/cmp2"; then ok; else bad "two seeded studies differ: $(head -5 "$tmp/cmp2")"; fi
# Each cell links to a scenario file that runs again as it is.
n=$(ls "$out"/evaluation/scenarios/*.toml | wc -l)
[ "$n" -ge 150 ] && ok || bad "only $n scenario files for the attack matrix"
grep -q 'refused (#6)\](evaluation/scenarios/attack-foreign-ca--a-l3.toml)' "$out/evaluation.md" && ok || bad "foreign-ca on A-l3 not refused #6"
grep -q 'undetected (linked)\](evaluation/scenarios/attack-foreign-ca--b-literal-l2.toml)' "$out/evaluation.md" && ok || bad "foreign-ca on B-literal not undetected"
# By hand: each file's `attack outcome` line is the cell's text.
for cell in attack-foreign-ca--a-l3 attack-key-substitution--b-literal-l2 attack-smc-reflection--a-l2 \
    attack-strip-key-est-info--b-hardened-l3; do
    want=$(grep -o "\[[^]]*\](evaluation/scenarios/$cell.toml)" "$out/evaluation.md" | sed 's/^\[\(.*\)\](.*/\1/')
    got=$("$bin" simulate "$out/evaluation/scenarios/$cell.toml" --no-files 2>/dev/null | sed -n 's/^  attack outcome: //p')
    [ -n "$want" ] && [ "$want" == "$got" ] && ok || bad "$cell: the matrix says '$want', a re-run '$got'"
done
for cell in attack-foreign-ca--a-l3 attack-foreign-ca--b-literal-l2 attack-tamper-data--a-l2; do
    "$bin" simulate "$out/evaluation/scenarios/$cell.toml" --no-files --json >"$tmp/$cell.json" 2>/dev/null && ok || bad "re-run of $cell failed"
done
python3 - "$tmp" <<'PY' && ok || bad "re-runs do not give the cells' outcomes"
import json, sys
def load(n):
    t = open(f"{sys.argv[1]}/{n}.json").read()
    return json.JSONDecoder().raw_decode(t)[0]
a = load("attack-foreign-ca--a-l3")
assert any(l["state"] == "failed" and l["cause"] == 6 for l in a["links"]), a["links"]
b = load("attack-foreign-ca--b-literal-l2")
assert b["establishment"]["established"] == 1
c = load("attack-tamper-data--a-l2")
assert c["data"]["drops"].get("bad-mac", 0) >= 1 and c["data"]["delivered_garbled"] == 0
PY
# The properties are derived: forward secrecy fails for B-literal only, the layer-3 relay of A
# reads the data.
grep "^| forward secrecy" "$out/evaluation.md" | grep -q "| no: 1 of 3 links' keys recomputed | no: 1 of 3" && ok || bad "forward secrecy row: $(grep '^| forward secrecy' "$out/evaluation.md")"
grep "^| end-to-end confidentiality" "$out/evaluation.md" | grep -q "| no: the relay's keys open 40 of 40 data PDUs |" && ok || bad "A-l3 relay row: $(grep '^| end-to-end' "$out/evaluation.md")"
# Without gnuplot: the tables and data files all the same, and a word saying why no plot.
if PATH=/nonexistent "$bin" evaluate --quick --out "$tmp/noplot" >"$tmp/noplot.out" 2>&1; then ok; else bad "evaluate without gnuplot failed: $(tail -3 "$tmp/noplot.out")"; fi
grep -q "not drawn: gnuplot is not installed" "$tmp/noplot.out" && ok || bad "no word that gnuplot is missing: $(cat "$tmp/noplot.out")"
[ -s "$tmp/noplot/evaluation.md" ] && [ -s "$tmp/noplot/evaluation/plots/loss-success.dat" ] && ok || bad "no tables or data without gnuplot"
grep -q "not drawn: gnuplot is not installed" "$tmp/noplot/evaluation.html" && ok || bad "the HTML does not say the plots are missing"
# Bad input.
check_error "bad seed" "seed" "$bin" evaluate --quick --seed x --out "$tmp/bad"
finish evaluate

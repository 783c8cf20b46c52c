#!/usr/bin/env bash
# `pc5sec bench --json` prints rows with the documented fields (a short run; figures not judged).
set -eu
bin="$1"
out=$("$bin" bench --json --filter 1500 --min-time 0.01)
python3 - "$out" <<'PY'
import json, sys
rows = json.loads(sys.argv[1])
assert rows, "no rows"
for r in rows:
    for f in ("name", "value", "unit"):
        assert f in r, (f, r)
    if "ratio" in r:
        assert "ratio_of" in r and r["ratio"] > 0, r
names = {r["name"] for r in rows}
for want in ("nea2-burst-1500", "nia3-single-1500", "raw-ipsecmb-burst-nea1-1500", "openssl-aes128-ctr-1500"):
    assert want in names, want
print(f"bench json: {len(rows)} rows, 1 passed, 0 failed")
PY

#!/usr/bin/env bash
# `pc5sec simulate` across threads and MPI ranks as a user runs it (docs/scale.md): the files are
# the same octets on 1 and 2 threads and under `mpirun -n 2` (when this build has MPI and
# mpirun is installed); --progress draws its bar; a scenario whose zones cannot run apart is
# refused more than one thread, saying why; the stats line gives bytes per UE.
source "$(dirname "$0")/lib.sh"
cat >"$tmp/zoned.toml" <<'TOML'
name = "zoned"
solution = "A"
path = "l3"
seed = 3
duration_s = 30

[scale]
pairs = 60
relays = 12
zone_relays = 3

[medium]
loss = 0.05
rlc_am = true

[traffic]
pdus = 2
size = 80

[expect]
established = true
TOML
run_to() {  # run_to DIR THREADS: simulate into DIR, stdout to DIR.json, stderr to DIR.err
    "$bin" simulate "$tmp/zoned.toml" --out "$1" --json --threads "$2" >"$1.json" 2>"$1.err"
}
run_to "$tmp/one" 1 && ok || bad "1 thread: $(tail -3 "$tmp/one.err")"
run_to "$tmp/two" 2 && ok || bad "2 threads: $(tail -3 "$tmp/two.err")"
same_files() {  # same_files NAME DIR: DIR holds what $tmp/one holds, octet for octet
    if diff -r "$tmp/one" "$2" >/dev/null && cmp -s "$tmp/one.json" "$2.json"; then ok; else
        bad "$1: the files differ from one thread's: $(diff -rq "$tmp/one" "$2" | head -3)"; fi
}
same_files "2 threads" "$tmp/two"
for f in capture.pcap keylog.txt metrics.json seq-01-src-1-dst-1.svg; do
    [ -s "$tmp/one/$f" ] && ok || bad "no $f"
done
check_has "stats line" "$(cat "$tmp/two.err")" "bytes per UE"
check_has "threads in the stats" "$(cat "$tmp/two.err")" "2 threads"
# --progress on a file (not a terminal): the bar with zones, events, links, ETA.
"$bin" simulate "$tmp/zoned.toml" --no-files --progress --threads 2 >/dev/null 2>"$tmp/progress.err" && ok || bad "--progress failed"
check_has "progress bar" "$(tr '\r' '\n' <"$tmp/progress.err")" "zones 4/4"
check_has "progress ETA" "$(cat "$tmp/progress.err")" "ETA"
# Not partitionable: refused more than one thread, with the reason; one thread runs.
check_error "attack on 2 threads" "runs on one thread only: it has one zone" \
    "$bin" simulate builtin:a-l3 --no-files --threads 2
check_contains "attack on 1 thread" "expectations: met" "$bin" simulate builtin:a-l3 --no-files --threads 1
# MPI: two ranks on loopback give what one process gives.
if command -v mpirun >/dev/null && ldd "$bin" | grep -q libmpi; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl=self,tcp \
        OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo
    if timeout 120 mpirun --oversubscribe -n 2 "$bin" simulate "$tmp/zoned.toml" --out "$tmp/mpi" --json \
        >"$tmp/mpi.json" 2>"$tmp/mpi.err"; then ok; else bad "mpirun -n 2: $(tail -5 "$tmp/mpi.err")"; fi
    same_files "mpirun -n 2" "$tmp/mpi"
    check_has "ranks in the stats" "$(cat "$tmp/mpi.err")" "2 ranks"
else
    echo "SKIP mpirun: this build has no MPI (PC5SEC_MPI) or mpirun is missing"
fi
finish "scale"

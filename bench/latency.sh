#!/bin/bash
# Reaction latency of the closed loop, measured on the real kernel in the test
# VM (scripts/bench runs it there). Each run: a Go child with the agent, under
# memgov run -v, in a 256M box; its heap holds 60M of garbage; then 60M appear
# outside the heap (mmap). Measured:
#   detection  the jump (the child's CLOCK_MONOTONIC stamps) -> memgov's first
#              target-down decision (stamped with the same clock)
#   actuation  memgov sends a target -> the agent acknowledges it applied
#              (debug.SetMemoryLimit), for every target of every run
# Usage: latency.sh MEMGOV WORKLOAD OUTDIR [RUNS]
set -u
MEMGOV=$(realpath "$1")
WORKLOAD=$(realpath "$2")
OUT=$3
RUNS=${4:-5}
T=$(mktemp -d /tmp/bench.XXXXXX)
export GOGC=off
mkdir -p "$OUT"
det_csv=$OUT/detection.csv
act_csv=$OUT/actuation.csv
echo "run,from_jump_start_ms,from_jump_end_ms" >"$det_csv"
echo "run,target_to_applied_us" >"$act_csv"

for run in $(seq "$RUNS"); do
        # The first run is also traced, for the plot in the report (scripts/plot-trace).
        trace=()
        [ "$run" -eq 1 ] && trace=(--trace "$OUT/burst-trace.jsonl")
        "$MEMGOV" run -v --memory-max 256M --name bench-$run "${trace[@]}" -- "$WORKLOAD" burst -outside 60 \
                >"$T/out" 2>"$T/err"
        rc=$?
        start=$(sed -n 's/^jump at_us=//p' "$T/out")
        end=$(sed -n 's/^jumped at_us=//p' "$T/out")
        decision=$(awk -v s="$start" '/rule=target-down/ { for (i = 1; i <= NF; i++) if ($i ~ /^at_us=/) { v = substr($i, 7); if (v + 0 >= s + 0) { print v; exit } } }' "$T/err")
        if [ $rc -ne 0 ] || [ -z "$start" ] || [ -z "$decision" ]; then
                echo "latency.sh: run $run: exit $rc, jump '${start}', decision '${decision}'" >&2
                tail -5 "$T/err" >&2
                continue
        fi
        echo "$run,$(((decision - start) / 1000)),$(((decision - end) / 1000))" >>"$det_csv"
        sed -n 's/.*applied target [0-9]* (limit [^)]*) in \([0-9]*\)us\./\1/p' "$T/err" | sed "s/^/$run,/" >>"$act_csv"
done

# pct FILE COLUMN P: the P-th percentile (nearest rank) of a CSV column.
pct() {
        tail -n +2 "$1" | cut -d, -f"$2" | sort -n | awk -v p="$3" '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit } i = int((p / 100) * NR + 0.999999); if (i < 1) i = 1; print v[i] }'
}
n_det=$(($(wc -l <"$det_csv") - 1))
n_act=$(($(wc -l <"$act_csv") - 1))
{
        echo "# Reaction latency ($(date -u +%Y-%m-%d), test VM: qemu TCG, $(nproc) vCPUs, $(uname -r))"
        echo
        echo "Measured under software emulation, where CPU-bound work runs roughly 10-30x slower than on"
        echo "the host: read these as upper bounds and for comparison between runs, not as what real"
        echo "hardware gives. Made by scripts/bench (bench/latency.sh); raw data in detection.csv and"
        echo "actuation.csv."
        echo
        echo "| what | samples | p50 | p99 |"
        echo "|---|---|---|---|"
        echo "| detection: 60M jump outside the heap starts -> first target-down decision (ms) | $n_det | $(pct "$det_csv" 2 50) | $(pct "$det_csv" 2 99) |"
        echo "| detection: the jump is fully touched -> first target-down decision (ms) | $n_det | $(pct "$det_csv" 3 50) | $(pct "$det_csv" 3 99) |"
        echo "| actuation: target sent -> the Go agent applied it (us) | $n_act | $(pct "$act_csv" 2 50) | $(pct "$act_csv" 2 99) |"
        echo
        echo "Detection here is bounded by the sampling tick (1 s; 250 ms above 80% of the limit or under"
        echo "pressure): growth without stall raises no kernel event (cgroup v2 has no usage thresholds,"
        echo "and PSI fires only on stalls), so memgov sees it at the next sample. A negative 'fully"
        echo "touched' figure means memgov decided while the child was still touching the new memory."
        echo "These machines have 2 cores; another VM running at the same time slows every figure."
        echo
        echo "The first run, as memgov traced it (--trace burst-trace.jsonl; scripts/bench draws it with"
        echo "scripts/plot-trace):"
        echo
        echo "![memory.current, memory.max and the GC target in the first run](burst.png)"
} >"$OUT/latency.md"
cat "$OUT/latency.md"
rm -rf "$T"
[ "$n_det" -gt 0 ]

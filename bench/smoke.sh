#!/bin/bash
# A cheap run of the benchmark's parts, so they cannot rot between full runs
# (ctest vm.bench.smoke): one Go shape under every strategy once, a short idle
# measurement, then the report on the host. Checks that each part produced its
# rows and that the report judged the goals; it asserts no goal (that is the
# full run's report, scripts/bench).
# Usage: smoke.sh MEMGOV GO-WORKLOAD SCRATCH-DIR
set -euo pipefail
here=$(dirname "$(realpath "$0")")
memgov=$(realpath "$1")
workload=$(realpath "$2")
out=$(realpath -m "$3")
rm -rf "$out"
mkdir -p "$out"

"$here/../tests/vm/vmrun" --timeout 240 --share "$out" -- env IDLE_SECS=3 SETTLE_SECS=1 sh -c \
        '"$1"/matrix.sh "$2" go "$3" "$4" 1 outside-mmap && "$1"/overhead.sh "$2" "$3" "$4"' sh \
        "$here" "$memgov" "$workload" "$out"
"$here/report.py" "$out"

status=0
check() { # WHAT COMMAND...
        local what=$1
        shift
        if "$@"; then echo "ok - $what"; else
                echo "not ok - $what"
                status=1
        fi
}
rows() { tail -n +2 "$1" | grep -c .; }
check "one row per strategy in matrix-go.csv" [ "$(rows "$out/matrix-go.csv")" -eq 5 ]
check "every run has an outcome and a peak" \
        awk -F, 'NR > 1 && ($7 == "" || $11 == "") { bad = 1 } END { exit bad }' "$out/matrix-go.csv"
check "the unconstrained run completed" grep -q '^go,outside-mmap,unconstrained,1,[^,]*,0,completed,' "$out/matrix-go.csv"
check "--no-agent: the env run had no agent, the agent run had one" \
        sh -c '! grep -q runtime_total "$1"/traces/go-outside-mmap-env.jsonl &&
                grep -q runtime_total "$1"/traces/go-outside-mmap-agent.jsonl' sh "$out"
check "memgov and tini idle in overhead.csv" [ "$(rows "$out/overhead.csv")" -eq 3 ]
check "the report judged the goals" grep -q "^| 0 OOM kills on every shape" "$out/report.md"
check "the plots were drawn" test -s "$out/oom.png" -a -s "$out/wall.png" -a -s "$out/peak.png"
echo "bench smoke: $([ $status -eq 0 ] && echo passed || echo failed)"
exit $status

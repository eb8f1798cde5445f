#!/bin/bash
# A cheap run of the benchmark's parts, so they cannot rot between full runs
# (ctest vm.bench.smoke): one Go shape under every strategy once, the jump
# shape with the agent once, one latency run, a short idle measurement, then
# on the host the Go agent's wake-up (a few lines) and the report. Checks that
# each part produced its rows and that the report judged the goals; it asserts
# no goal and no outcome of a race between memgov and the program (that is the
# full run's report, scripts/bench).
# Usage: smoke.sh MEMGOV GO-WORKLOAD LOOP-WORKLOAD SCRATCH-DIR AGENTWAKE
#   LOOP-WORKLOAD: tests/loop/workload (bench/latency.sh's program)
#   AGENTWAKE: bench/agentwake built (bench/agent-wake.py's program)
set -euo pipefail
here=$(dirname "$(realpath "$0")")
memgov=$(realpath "$1")
workload=$(realpath "$2")
loop=$(realpath "$3")
out=$(realpath -m "$4")
agentwake=$(realpath "$5")
rm -rf "$out"
mkdir -p "$out"

# Each part runs even when one before it failed: the checks below say which part left no rows.
"$here/../tests/vm/vmrun" --timeout 420 --share "$out" -- env IDLE_SECS=3 SETTLE_SECS=1 sh -c '
        "$1"/matrix.sh "$2" go "$3" "$5" 1 outside-mmap || echo "smoke: matrix.sh exited $?" >&2
        STRATEGIES=agent "$1"/matrix.sh "$2" go "$3" "$5" 1 jump || echo "smoke: matrix.sh jump exited $?" >&2
        "$1"/latency.sh "$2" "$4" "$5" 1 >/dev/null || echo "smoke: latency.sh exited $?" >&2
        "$1"/overhead.sh "$2" "$3" "$5" || echo "smoke: overhead.sh exited $?" >&2' sh \
        "$here" "$memgov" "$workload" "$loop" "$out" || echo "smoke: vmrun exited $?" >&2
"$here/agent-wake.py" "$agentwake" 20 0 1 >"$out/agent-wake.csv" || echo "smoke: agent-wake.py exited $?" >&2
"$here/report.py" "$out" || echo "smoke: report.py exited $?" >&2

status=0
check() { # WHAT COMMAND...
        local what=$1
        shift
        if "$@"; then echo "ok - $what"; else
                echo "not ok - $what"
                status=1
        fi
}
rows() { # CSV [PATTERN]: its data rows (matching PATTERN); 0 when it is missing
        [ -f "$1" ] || { echo 0; return; }
        tail -n +2 "$1" | grep -c "${2:-.}" || true
}
check "one row per strategy for outside-mmap in matrix-go.csv" [ "$(rows "$out/matrix-go.csv" '^go,outside-mmap,')" -eq 5 ]
check "one row for jump with the agent in matrix-go.csv" [ "$(rows "$out/matrix-go.csv" '^go,jump,agent,')" -eq 1 ]
check "every run has an outcome and a peak" \
        awk -F, 'NR > 1 && ($7 == "" || $11 == "") { bad = 1 } END { exit bad }' "$out/matrix-go.csv"
check "the unconstrained run completed" grep -q '^go,outside-mmap,unconstrained,1,[^,]*,0,completed,' "$out/matrix-go.csv"
# What memgov logs when an agent says hello (governor/agent-log.c), whether or not the run then survives to
# the agent's first stats.
connected='^memgov: Agent [0-9]* connected: go '
check "--no-agent: the env run had no agent, the agent run had one" \
        sh -c '! grep -q "$2" "$1"/logs/go-outside-mmap-env.log && grep -q "$2" "$1"/logs/go-outside-mmap-agent.log' \
        sh "$out" "$connected"
check "the jump run's agent connected" grep -q "$connected" "$out/logs/go-jump-agent.log"
check "latency: a detection row in detection.csv" [ "$(rows "$out/detection.csv")" -ge 1 ]
check "latency: actuation rows in actuation.csv" [ "$(rows "$out/actuation.csv")" -ge 1 ]
check "memgov and tini idle in overhead.csv" [ "$(rows "$out/overhead.csv")" -eq 3 ]
check "the report judged the goals" grep -q "^| 0 OOM kills on every shape" "$out/report.md"
check "the report has the detection figures" grep -q "^| detection: the jump starts .* | [0-9.][0-9.]* | [0-9.][0-9.]* |$" "$out/report.md"
check "agent-wake: three rows for each of 0 and 1 busy goroutines" \
        [ "$(rows "$out/agent-wake.csv" '^[01],')" -eq 6 ]
check "the report has the agent's wake-up" grep -q "^| 1 | target written -> the agent's applied at_us= | [0-9]" "$out/report.md"
check "the plots were drawn" test -s "$out/oom.png" -a -s "$out/wall.png" -a -s "$out/peak.png"
echo "bench smoke: $([ $status -eq 0 ] && echo passed || echo failed)"
exit $status

#!/bin/bash
# vm.see: run-see.sh in the test VM (one boot), then, on the host, the checks
# that need python and gnuplot (both crawl under software emulation): the Go
# run's --trace is JSON lines of the expected shape, and it plots to a PNG.
# Usage: vm-see.sh VMRUN MEMGOV WORKLOAD HELPER PLOT-TRACE OUTDIR JOURNAL-SINK
set -u
VMRUN=$1 MEMGOV=$2 WORKLOAD=$3 HELPER=$4 PLOT=$5 OUT=$6 SINK=$7
here=$(dirname "$(realpath "$0")")
rm -rf "$OUT"
mkdir -p "$OUT"

"$VMRUN" --cgroup v2 --memory 1024 --timeout 480 --share "$OUT" -- "$here/run-see.sh" "$MEMGOV" "$WORKLOAD" "$HELPER" "$OUT" "$SINK"
status=$?

if [ ! -s "$OUT/trace.jsonl" ]; then
        echo "not ok - the trace of the Go run: missing"
        exit 1
fi
if stat=$(python3 - "$OUT/trace.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines[0]["type"] == "start", lines[0]
samples = [l for l in lines if l["type"] == "sample"]
decisions = [l for l in lines if l["type"] == "decision"]
assert len(samples) >= 10, "only %d samples" % len(samples)
# memory.high is "max" until the agent's first target, then memgov's guard: memory.max less half the law's
# 5% headroom, in pages (docs/control-law.md, "The guard").
guard = ((256 << 20) - (256 << 20) * 500 // 10000 * 5000 // 10000) & ~4095
assert all(s["max"] == 256 << 20 and s["high"] in (None, guard) for s in samples), "limits"
assert any(s["high"] == guard for s in samples), "no guard"
assert all(a["t"] <= b["t"] for a, b in zip(lines, lines[1:])), "time goes backwards"
assert any("lower-target" in d["actions"] for d in decisions), "no lower-target decision"
assert any(s.get("heap_live") for s in samples), "no agent stats"
assert any(s["target"] is not None and s["target"] < 200 << 20 for s in samples), "target never below 200M"
print("%d samples, %d decisions" % (len(samples), len(decisions)))
PY
); then
        echo "ok - the trace of the Go run is JSON lines: $stat"
else
        echo "not ok - the trace of the Go run"
        status=1
fi
if out=$("$here/status-schema.py" "$OUT/status.json" --agent --decisions 2>&1); then
        echo "ok - memgov status --json of the Go run matches docs/status.md"
else
        echo "not ok - memgov status --json of the Go run: $out"
        status=1
fi
if out=$("$here/plot-check.sh" "$PLOT" "$OUT/trace.jsonl" "$OUT" 2>&1); then
        echo "ok - the trace plots: $(echo "$out" | grep -o 'PNG [0-9x]*, [0-9]* bytes')"
else
        echo "not ok - the trace plots: $out"
        status=1
fi
exit $status

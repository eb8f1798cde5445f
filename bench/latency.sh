#!/bin/bash
# Reaction latency of the closed loop, measured on the real kernel in the test
# VM (scripts/bench runs it there). Each run: a Go child with the agent, under
# memgov run -v, in a 256M box; its heap holds 60M of garbage; then 60M appear
# outside the heap (mmap). Read from memgov's -v log by its stable fields, not
# by rule names (which rule fires first changes as the law changes):
#   detection  the jump (the child's CLOCK_MONOTONIC stamps, "jump at_us=") ->
#              memgov's first decision at or after it whose actions= include
#              lower-target (its at_us=, the same clock), with that decision's
#              on= (what woke memgov: tick, memory.events, psi-some, ...); and
#              from the child's stamp once the jump's first 2 MiB are touched
#              ("jump_2m at_us="): by then the group is charged 2M or more, so
#              this part is memgov's, while the first part also holds how long
#              the emulated child took to touch its first pages
#   applied    that decision's target -> the agent applied it ("Agent N
#              applied target S (limit L) in Dus by its clock, acknowledged
#              after Aus."): D from memgov's write to the agent's own
#              CLOCK_MONOTONIC stamp once the runtime had the limit (applied's
#              at_us=, docs/protocol.md), A to memgov reading the answer, which
#              also waits for memgov's loop. Without a stamp the line is "in
#              Dus." and D is A. The target is sent in the step that made the
#              decision, so jump -> applied is detection + D
#   actuation  every target of every run: sent -> applied (D) and sent ->
#              acknowledged (A), with the on= of the decision that sent it and
#              the clock D was read on (agent, or ack)
# Usage: latency.sh MEMGOV WORKLOAD OUTDIR [RUNS]
#   WORKLOAD is tests/loop/workload (its burst shape prints the jump's stamps).
set -u
MEMGOV=$(realpath "$1")
WORKLOAD=$(realpath "$2")
OUT=$3
RUNS=${4:-5}
T=$(mktemp -d /tmp/bench.XXXXXX)
export GOGC=off
# The fields are read from text lines; a file on stderr would get logfmt.
export MEMGOV_LOG_FORMAT=text
mkdir -p "$OUT"
det_csv=$OUT/detection.csv
act_csv=$OUT/actuation.csv
echo "run,on,actions,from_jump_start_ms,from_jump_end_ms,applied_after_decision_us,from_jump_start_to_applied_ms,from_jump_2m_ms" >"$det_csv"
echo "run,on,target_to_applied_us,target_to_ack_us,clock" >"$act_csv"

# decisions LOG START RUN DET-CSV ACT-CSV END FIRST-2M: appends the run's detection row (if any) and its actuation rows;
# exits 1 when no decision at or after START lowered the target.
decisions() {
        awk -v s="$2" -v e="$6" -v m="$7" -v run="$3" -v det="$4" -v act="$5" '
        function field(name,   i) {
                for (i = 1; i <= NF; i++)
                        if (index($i, name "=") == 1)
                                return substr($i, length(name) + 2)
                return ""
        }
        / decision .*actions=/ {
                on = field("on"); at = field("at_us"); actions = field("actions")
                pending = 0
                if (!found && at != "" && at + 0 >= s + 0 && ("," actions ",") ~ /,lower-target,/) {
                        found = 1; pending = 1; d_on = on; d_actions = actions; d_at = at
                }
                next
        }
        / applied target [0-9]+ \(limit [^)]*\) in [0-9]+us( by its clock, acknowledged after [0-9]+us)?\./ {
                took = $0; sub(/.* in /, "", took); sub(/us.*/, "", took)
                ack = took; clock = "ack"
                if ($0 ~ / by its clock, acknowledged after /) {
                        ack = $0; sub(/.* acknowledged after /, "", ack); sub(/us\..*/, "", ack)
                        clock = "agent"
                }
                printf "%s,%s,%s,%s,%s\n", run, (on == "" ? "none" : on), took, ack, clock >> act
                if (pending) { d_took = took; pending = 0 }
        }
        END {
                if (!found)
                        exit 1
                # actions= is comma-separated; ";" keeps the CSV plain.
                gsub(/,/, ";", d_actions)
                printf "%s,%s,%s,%.1f,%.1f,%s,%s,%s\n", run, d_on, d_actions, (d_at - s) / 1000, (d_at - e) / 1000,
                        d_took, (d_took == "" ? "" : sprintf("%.1f", (d_at - s + d_took) / 1000)),
                        (m == "" ? "" : sprintf("%.1f", (d_at - m) / 1000)) >> det
        }' "$1"
}

for run in $(seq "$RUNS"); do
        # The first run is also traced, for the plot in the report (scripts/plot-trace).
        trace=()
        [ "$run" -eq 1 ] && trace=(--trace "$OUT/burst-trace.jsonl")
        "$MEMGOV" run -v --memory-max 256M --name bench-$run "${trace[@]}" -- "$WORKLOAD" burst -outside 60 \
                >"$T/out" 2>"$T/err"
        rc=$?
        # The first run's log is kept: what the figures were read from.
        [ "$run" -eq 1 ] && cp "$T/err" "$OUT/latency-run1.log"
        start=$(sed -n 's/^jump at_us=//p' "$T/out")
        end=$(sed -n 's/^jumped at_us=//p' "$T/out")
        first=$(sed -n 's/^jump_2m at_us=//p' "$T/out")
        if [ $rc -ne 0 ] || [ -z "$start" ] || [ -z "$end" ] ||
                ! decisions "$T/err" "$start" "$run" "$det_csv" "$act_csv" "$end" "$first"; then
                echo "latency.sh: run $run: exit $rc, jump '${start}'..'${end}', no decision with actions=lower-target after the jump" >&2
                tail -5 "$T/err" >&2
                continue
        fi
done

# pct FILE COLUMN P [ON]: the P-th percentile (nearest rank) of a CSV column, of the rows whose on= (column 2) is
# ON if given; "n/a" when there is none.
pct() {
        tail -n +2 "$1" | awk -F, -v on="${4-}" -v c="$2" 'on == "" || $2 == on { if ($c != "") print $c }' | sort -g |
                awk -v p="$3" '{ v[NR] = $1 } END { if (NR == 0) { print "n/a"; exit } i = int((p / 100) * NR + 0.999999); if (i < 1) i = 1; print v[i] }'
}
count() { tail -n +2 "$1" | awk -F, -v on="${2-}" -v c="${3:-1}" '(on == "" || $2 == on) && $c != "" { n++ } END { print n + 0 }'; }
n_det=$(count "$det_csv")
sources() { tail -n +2 "$1" | cut -d, -f2 | sort -u; }
{
        echo "# Reaction latency ($(date -u +%Y-%m-%d), test VM: qemu TCG, $(nproc) vCPUs, $(uname -r))"
        echo
        echo "Measured under software emulation, where CPU-bound work runs roughly 10-30x slower than on"
        echo "the host: read these as upper bounds and for comparison between runs, not as what real"
        echo "hardware gives. Made by scripts/bench (bench/latency.sh); raw data in detection.csv and"
        echo "actuation.csv, the first run's memgov -v log in latency-run1.log."
        echo
        echo "Each row names its event source: on= of memgov's decision (what woke it: tick is its sampling"
        echo "tick; memory.events, psi-some, psi-full and agent-stats are events)."
        echo
        echo "| what | on= | samples | p50 | p99 |"
        echo "|---|---|---|---|---|"
        for on in $(sources "$det_csv"); do
                echo "| detection: 60M jump outside the heap starts -> first decision with actions=lower-target (ms) | $on | $(count "$det_csv" "$on") | $(pct "$det_csv" 4 50 "$on") | $(pct "$det_csv" 4 99 "$on") |"
                echo "| detection: the jump's first 2 MiB are touched -> that decision (ms) | $on | $(count "$det_csv" "$on" 8) | $(pct "$det_csv" 8 50 "$on") | $(pct "$det_csv" 8 99 "$on") |"
                echo "| detection: the jump is fully touched -> that decision (ms) | $on | $(count "$det_csv" "$on") | $(pct "$det_csv" 5 50 "$on") | $(pct "$det_csv" 5 99 "$on") |"
                echo "| that decision's target -> the Go agent applied it (us) | $on | $(count "$det_csv" "$on" 6) | $(pct "$det_csv" 6 50 "$on") | $(pct "$det_csv" 6 99 "$on") |"
                echo "| the jump starts -> the Go agent applied the target (ms) | $on | $(count "$det_csv" "$on" 7) | $(pct "$det_csv" 7 50 "$on") | $(pct "$det_csv" 7 99 "$on") |"
        done
        for on in $(sources "$act_csv"); do
                echo "| actuation: every target sent -> the Go agent applied it (us; $(tail -n +2 "$act_csv" | awk -F, -v on="$on" '$2 == on && $5 == "agent" { n++ } END { print n + 0 }') by the agent's clock) | $on | $(count "$act_csv" "$on") | $(pct "$act_csv" 3 50 "$on") | $(pct "$act_csv" 3 99 "$on") |"
                echo "| every target sent -> memgov read the acknowledgement (us) | $on | $(count "$act_csv" "$on" 4) | $(pct "$act_csv" 4 50 "$on") | $(pct "$act_csv" 4 99 "$on") |"
        done
        [ "$n_det" -gt 0 ] || echo "| detection | - | 0 | n/a | n/a |"
        echo
        echo "A target is applied when the Go agent's own stamp says (applied's at_us=, CLOCK_MONOTONIC like"
        echo "memgov's); memgov reads the answer later, once its loop gets to it (the acknowledgement row)."
        echo "memgov sends the target in the same step as the decision, so 'the jump starts -> applied' is"
        echo "the detection figure plus that one. A negative 'fully touched' figure means memgov decided while the child"
        echo "was still touching the new memory. The jump's first 2 MiB are its unaligned head in 4 KiB"
        echo "pages and then a huge page: under emulation the child took 15-350 ms to touch them (measured"
        echo "in a plain group without memgov, docs/design.md), and the group's charge barely moves meanwhile."
        echo "From that stamp on, the figure is memgov's. These machines have 2 cores; another VM running at the"
        echo "same time slows every figure."
        echo
        echo "The first run, as memgov traced it (--trace burst-trace.jsonl; scripts/bench draws it with"
        echo "scripts/plot-trace):"
        echo
        echo "![memory.current, memory.max and the GC target in the first run](burst.png)"
} >"$OUT/latency.md"
cat "$OUT/latency.md"
rm -rf "$T"
[ "$n_det" -gt 0 ]

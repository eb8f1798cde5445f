#!/bin/bash
# In-place resize through a real OCI runtime, measured in the test VM (issue 19): memgov is PID 1 of a runc
# container whose Go child (tests/real/child, with the agent) holds 40M live and churns 10 MiB/s; then
# `runc update --memory` lowers the limit (300M -> 150M) and raises it back, N times. A measurement, not a
# test: nothing here passes or fails on a number.
#
# Per update, from memgov's -v log (the same clock, CLOCK_MONOTONIC, as the script's stamps):
#   decision_us  just before `runc update` starts -> the first decision that carries the new limit (its
#                at_us=, with its on=: "limits" when the inotify watch on memory.max woke memgov)
#   applied_us   just before `runc update` starts -> the agent applied that decision's target: the decision's
#                at_us plus the target's sent -> applied time ("applied target S (limit L) in Dus", by the agent's clock),
#                as bench/latency.sh reads it
#   after_return_us  the same, from `runc update` returning (negative: applied before runc had exited)
#   update_us    how long `runc update` itself took (a Go program starting in an emulated VM)
# A raise waits for the law's window by design (docs/control-law.md, "Up: slowly": one step of at most 5% of
# the limit per 10 s window), so the "up" rows measure the window, not a reaction.
#
# Then, beside it, a decrease that the program grows into afterwards: 100M live, churn 20 MiB/s, limit 300M
# lowered to 180M as soon as the child is ready (usage near 110M then). Once under memgov, once with
# GOMEMLIMIT fixed at 90% of the original limit and no memgov (automemlimit's setting, which does not follow
# a resize); each with GOGC=off (the heap grows to the Go limit, so the static one must cross 180M) and with
# GOGC=100 (a heap goal near 200M, reached or not within the run depending on where the GC cycle stood).
# Each runs 20 s after the decrease; the outcome (alive, or OOM-killed by the kernel's own account) is
# recorded.
#
# Usage, from the top of the tree (runc from scripts/deps; in the VM only, never on the host):
#   flock /tmp/memgov-vm.lock tests/vm/vmrun --timeout 900 --share "$PWD/OUT" -- \
#           bench/resize-runc.sh build/memgov build/tests/real/child OUT [CYCLES]
# Writes OUT/resize-runc.csv (one row per update), OUT/resize-runc-static.csv (the comparison) and
# OUT/resize-runc.txt (the p50/p99 lines, also printed); the containers' output in OUT/resize-runc-logs/.
set -u
if [ $# -lt 3 ]; then
        echo "usage: resize-runc.sh MEMGOV CHILD OUTDIR [CYCLES]" >&2
        exit 64
fi
MEMGOV=$(realpath "$1")
CHILD=$(realpath "$2")
OUT=$(realpath -m "$3")
CYCLES=${4:-20}
case $CYCLES in '' | *[!0-9]*) echo "resize-runc.sh: CYCLES '$CYCLES': expected a whole number" >&2 && exit 64 ;; esac
if [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] || ! grep -q memgov.vmrun=1 /proc/cmdline; then
        echo "resize-runc.sh: runs containers with runc; run me through tests/vm/vmrun" >&2
        exit 2
fi
T=$(mktemp -d /tmp/resize-runc.XXXXXX)
# The fields carry memgov's own times: polling its log more often only takes CPU from it.
OCI_WAIT_POLL=0.2
. "$(dirname "$(realpath "$0")")/../tests/real/oci.sh"
oci_init || exit 2
trap 'oci_fini; rm -rf "$T"' EXIT
# The fields are read from text lines; a file on stderr would get logfmt.
export MEMGOV_LOG_FORMAT=text
mkdir -p "$OUT/resize-runc-logs" || exit 1
MIB=$((1 << 20))
HIGH=$((300 * MIB)) LOW=$((150 * MIB))
BINDS=(--bind "$(dirname "$MEMGOV")" --bind "$(dirname "$CHILD")")

# CLOCK_MONOTONIC (memgov's at_us) = bash's $EPOCHREALTIME - OFFSET; the VM has no NTP to move either.
OFFSET=$(python3 -c 'import time; print(time.time_ns() // 1000 - time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)')
mono_us() { local r=${1/./}; echo $((10#$r - OFFSET)); }

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

# --- N update cycles ------------------------------------------------------------------------------------

csv=$OUT/resize-runc.csv
echo "cycle,direction,from_mib,to_mib,on,actions,update_us,decision_us,applied_us,after_return_us,applied_limit_mib" >"$csv"
oci_bundle rs $HIGH "${BINDS[@]}" -- "$MEMGOV" run -v -- "$CHILD" serve -live 40 -churn 10
oci_start rs
rs=$!
ERR=$T/rs.err
if ! wait_line "$T/rs.out" 0 '^ready' >/dev/null || ! wait_line "$ERR" 0 'Agent 1 applied target' >/dev/null; then
        echo "resize-runc.sh: the child never became ready with its first target applied:" >&2
        tail -5 "$ERR" >&2
        exit 1
fi

# update DIRECTION FROM TO CYCLE: one `runc update`, one CSV row
update() {
        local from t0 t1 d a at took
        from=$(wc -l <"$ERR")
        t0=$EPOCHREALTIME
        oci_runc update --memory "$3" rs || return 1
        t1=$EPOCHREALTIME
        d=$(wait_line "$ERR" "$from" "decision .* limit=$(($3 / MIB))(\.0)?M ") || {
                echo "resize-runc.sh: cycle $4 ($1): no decision at limit=$(($3 / MIB))M" >&2
                return 1
        }
        from=$(grep -n -F -- "$d" "$ERR" | tail -1 | cut -d: -f1)
        a=$(wait_line "$ERR" "$from" "Agent 1 applied target [0-9]+ \(limit [0-9.]+[KMG]?\) in [0-9]+us") || {
                echo "resize-runc.sh: cycle $4 ($1): no acknowledgement after: $d" >&2
                return 1
        }
        at=$(field at_us "$d")
        # "in Dus." or "in Dus by its clock, acknowledged after Aus.": D is the agent's stamp where it gave one.
        took=$(sed -n 's/.* in \([0-9]*\)us[ .].*/\1/p' <<<"$a")
        t0=$(mono_us "$t0") t1=$(mono_us "$t1")
        echo "$4,$1,$(($2 / MIB)),$(($3 / MIB)),$(field on "$d"),$(field actions "$d"),$((t1 - t0)),$((at - t0)),$((at + took - t0)),$((at + took - t1)),$(sed -n 's/.*(limit \([0-9.]*\)M).*/\1/p' <<<"$a")" >>"$csv"
}
for i in $(seq "$CYCLES"); do
        update down $HIGH $LOW "$i" || break
        update up $LOW $HIGH "$i" || break
        echo "cycle $i: $(tail -2 "$csv" | cut -d, -f2,5,9 | tr '\n' ' ')" >&2
done
alive=no
kill -0 $rs 2>/dev/null && alive=yes
oci_runc kill rs TERM
wait $rs
rs_status=$?
cp "$T/rs.out" "$T/rs.err" "$OUT/resize-runc-logs/"

# --- a decrease the program grows into: memgov beside static 90% ----------------------------------------

static_csv=$OUT/resize-runc-static.csv
echo "variant,gogc,limit_mib,lowered_to_mib,gomemlimit_at_start,outcome,runc_status,oom_kills,peak_mib_while_alive,last_go_limit_mib" >"$static_csv"
# grow VARIANT GOGC ARGS...: one container, 300M lowered to 180M when the child is ready, 20 s, then TERM
grow() {
        local v=$1 gogc=$2 c=grow-$1-gogc$2
        shift 2
        oci_bundle $c $HIGH "${BINDS[@]}" --env GOGC=$gogc -- "$@"
        oci_start $c
        local pid=$! g=/sys/fs/cgroup/$OCI_PARENT/$c outcome status kills peak=0 p
        if wait_line "$T/$c.out" 0 '^ready' >/dev/null; then
                oci_runc update --memory $((180 * MIB)) $c
                local end=$((SECONDS + 20))
                # memory.peak as last read: the group goes with the container when its PID 1 dies
                while [ $SECONDS -lt $end ] && kill -0 $pid 2>/dev/null; do
                        p=$(cat $g/memory.peak 2>/dev/null) && peak=$((p / MIB))
                        sleep 0.5
                done
        fi
        if kill -0 $pid 2>/dev/null; then
                outcome=alive
                oci_runc kill $c TERM
        else
                outcome=died
        fi
        wait $pid
        status=$?
        # the kernel's own account of OOM kills in the container's group (it is gone by now)
        kills=$(dmesg | grep -c "oom-kill:.*task_memcg=/$OCI_PARENT/$c,")
        [ "$kills" -gt 0 ] && outcome=oom-killed
        echo "$v,$gogc,300,180,$(sed -n 's/^env GOMEMLIMIT=//p' "$T/$c.out"),$outcome,$status,$kills,$peak,$(($(sed -n 's/^limit bytes=//p' "$T/$c.out" | tail -1) / MIB))" >>"$static_csv"
        cp "$T/$c.out" "$T/$c.err" "$OUT/resize-runc-logs/"
}
for gogc in off 100; do
        grow memgov $gogc "$MEMGOV" run -v -- "$CHILD" serve -live 100 -churn 20
        # PID 1 here is the Go program itself: the kernel spares it its own SIGTERM, so the Go runtime
        # exits 2 instead of dying of the signal. Only the outcome matters.
        grow static90 $gogc env GOMEMLIMIT=$((HIGH * 9 / 10)) "$CHILD" serve -live 100 -churn 20
done

# --- summary --------------------------------------------------------------------------------------------

python3 - "$csv" "$static_csv" "$CYCLES" "$alive" "$rs_status" <<'PY' | tee "$OUT/resize-runc.txt"
import csv, sys

rows = list(csv.DictReader(open(sys.argv[1])))


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


print(f"resize-runc: {len(rows)} updates of {2 * int(sys.argv[3])} asked; the child alive at the end: {sys.argv[4]} (runc run then exited {sys.argv[5]} on TERM)")
for d in ("down", "up"):
    r = [x for x in rows if x["direction"] == d]
    if not r:
        continue
    on = sorted({x["on"] for x in r})
    for col, what in (("applied_us", "update start -> agent applied"), ("after_return_us", "update returned -> agent applied"),
                      ("decision_us", "update start -> decision"), ("update_us", "runc update itself")):
        v = [int(x[col]) for x in r]
        print(f"{d:4} {what:34} p50 {pct(v, 50) / 1000:9.1f} ms  p99 {pct(v, 99) / 1000:9.1f} ms  (n={len(v)}, on={'/'.join(on)})")
for x in csv.DictReader(open(sys.argv[2])):
    print(f"decrease 300M -> 180M, program grows into it: {x['variant']:8} GOGC={x['gogc']:3} GOMEMLIMIT at start {x['gomemlimit_at_start']}: "
          f"{x['outcome']} (runc run {x['runc_status']}, oom_kill {x['oom_kills']}, peak {x['peak_mib_while_alive']}M while alive, Go limit at the end {x['last_go_limit_mib']}M)")
PY

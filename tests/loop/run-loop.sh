#!/bin/bash
# The closed loop against a real kernel with real Go children (issue "Close the
# loop", tests (a)-(d)). Each shape runs twice where it can: under the static
# setting automemlimit gives (GOMEMLIMIT at 90% of memory.max, set once, in a
# bare cgroup with no memgov), and under memgov run with the Go agent linked in.
# Runs as root inside tests/vm/vmrun (cgroup v2).
# Usage: run-loop.sh MEMGOV WORKLOAD CACHEFILE
# CACHEFILE: a host file of at least 150M (sparse is fine), read through the VM's 9p root to make page cache.
set -u
MEMGOV=$(realpath "$1")
WORKLOAD=$(realpath "$2")
CACHEFILE=${3:-}
CG=/sys/fs/cgroup
T=$(mktemp -d /tmp/loop.XXXXXX)
passed=0
failed=0
export GOGC=off # the setting that pairs with GOMEMLIMIT: the heap grows to the limit

begin() {
        current=$1
        started=$(date +%s%N)
}
took_ms() { echo $((($(date +%s%N) - started) / 1000000)); }
pass() {
        passed=$((passed + 1))
        echo "ok - $current ($(took_ms)ms)"
}
fail() {
        failed=$((failed + 1))
        echo "not ok - $current: $* ($(took_ms)ms)"
        for f in out err; do
                [ -s "$T/$f" ] && tail -n 15 "$T/$f" | sed "s/^/#   $f: /"
        done
        return 0
}

# static MAX CMD...: the automemlimit baseline. GOMEMLIMIT = 90% of MAX, set once.
static() {
        local max=$1 cg=$CG/static-$$-$RANDOM rc
        shift
        mkdir "$cg"
        echo "$max" >"$cg/memory.max"
        echo 1 >"$cg/memory.oom.group"
        (
                echo $BASHPID >"$cg/cgroup.procs"
                GOMEMLIMIT=$((max * 9 / 10)) exec "$@"
        ) >"$T/out" 2>"$T/err"
        rc=$?
        oom_kill=$(awk '$1 == "oom_kill" {print $2}' "$cg/memory.events")
        rmdir "$cg"
        return $rc
}

MAX=$((256 << 20))

# (a) --------------------------------------------------------------------------
begin "(a) outside-heap growth: the static GOMEMLIMIT is OOM-killed"
static $MAX "$WORKLOAD" outside
rc=$?
if [ $rc -eq 137 ] && [ "$oom_kill" -gt 0 ]; then pass; else fail "exit $rc, oom_kill=$oom_kill (want 137, >0)"; fi

begin "(a) outside-heap growth: completes under memgov"
"$MEMGOV" run -v --memory-max $MAX --name loop-a -- "$WORKLOAD" outside >"$T/out" 2>"$T/err"
rc=$?
limit=$(sed -n 's/^completed .*limit_mib=\([0-9]*\)$/\1/p' "$T/out")
# 256M less the 120M outside and the headroom leaves about 120M for the heap.
if [ $rc -eq 0 ] && [ -n "$limit" ] && [ "$limit" -lt 140 ] && grep -q "rule=target-down" "$T/err"; then
        echo "#   the Go runtime's limit ended at ${limit}M (the launch value was 230M)"
        pass
else
        fail "exit $rc, final limit '${limit}'M (want 0, a limit below 140M, target-down decisions)"
fi

# (b) --------------------------------------------------------------------------
begin "(b) an unbounded leak ends with 'cannot fit' and exit 122, not hours of GC"
"$MEMGOV" run -v --memory-max $MAX --on-cannot-fit kill --name loop-b -- "$WORKLOAD" leak >"$T/out" 2>"$T/err"
rc=$?
ms=$(took_ms)
if [ $rc -eq 122 ] && grep -q "cannot fit" "$T/err" && [ "$(grep -c 'memgov: cannot fit' "$T/err")" -eq 1 ] &&
        grep -qE "what to change: the live heap alone is [0-9.]+M; raise memory.max to at least" "$T/err"; then
        pass
else
        fail "exit $rc after ${ms}ms (want 122 and exactly one 'cannot fit' line)"
fi

begin "(b) with --on-cannot-fit let-oom the kernel ends it, and memgov reports both"
"$MEMGOV" run -v --memory-max $MAX --name loop-b2 -- "$WORKLOAD" leak >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 137 ] && grep -q "cannot fit" "$T/err" && grep -q "was OOM-killed" "$T/err"; then
        pass
else
        fail "exit $rc (want 137, a 'cannot fit' line and the OOM line)"
fi

# (c) --------------------------------------------------------------------------
# With GOGC=off the next GC comes when the heap reaches the limit. A jump of memory outside the heap must
# make memgov lower the target, so the GC comes at a smaller heap than without the jump.
heap_at_first_gc() { # NAME OUTSIDE_MIB
        "$MEMGOV" run -v --memory-max $MAX --name "$1" -- "$WORKLOAD" burst -outside "$2" >"$T/out" 2>"$T/err" || return 1
        sed -n 's/^first_gc heap_mib=\([0-9]*\).*/\1/p' "$T/out"
}
begin "(c) a burst of pressure brings an earlier GC"
quiet=$(heap_at_first_gc loop-c0 0)
rc0=$?
jumped=$(heap_at_first_gc loop-c1 60)
rc1=$?
echo "#   first GC at a heap of ${quiet:-?}M without the jump, ${jumped:-?}M after a 60M jump"
if [ $rc0 -eq 0 ] && [ $rc1 -eq 0 ] && [ -n "$quiet" ] && [ -n "$jumped" ] && [ $((jumped + 25)) -lt "$quiet" ]; then
        pass
else
        fail "exit $rc0/$rc1; want both to complete and the GC at least 25M earlier after the jump"
fi

begin "(c2) the jump's page faults wake memgov, far below the limit"
# The jump run's log (the last heap_at_first_gc). Far below the limit and still for 2 s, memgov waits on the
# pace's long interval; the first fault of the 60M jump must wake it (platform/linux/watch-faults.c). The VM
# runs memgov as root on 6.1, where perf events are allowed: a refusal is a failure here.
if grep -q "Sampled on=faults" "$T/err"; then
        pass
else
        fail "no sample woken by a page fault in the jump run's log$(grep -o "No watch on the group's page faults ([^)]*)" "$T/err" | sed 's/^/: /')"
fi

begin "(c3) the Go agent's applied is timed by its own clock"
# applied's at_us= is CLOCK_MONOTONIC, memgov's clock: memgov takes it (docs/protocol.md). A stamp from another
# clock would fall outside the send and the arrival, and the line would say "in Dus." alone.
if grep -qE "Agent [0-9]+ applied target [0-9]+ \(limit [^)]*\) in [0-9]+us by its clock, acknowledged after [0-9]+us\." "$T/err"; then
        echo "#   $(grep -oE "applied target [0-9]+ \(limit [^)]*\) in [0-9]+us by its clock, acknowledged after [0-9]+us" "$T/err" | head -2 | tr '\n' ';')"
        pass
else
        fail "no applied timed by the agent's clock: $(grep -oE "applied target .*" "$T/err" | head -2 | tr '\n' ';')"
fi

# (d) --------------------------------------------------------------------------
# resize_run NAME CMD...: starts CMD, lowers memory.max of group NAME to 160M once the
# workload says its heap is low, waits for CMD.
resize_run() {
        local group=$1 pid
        shift
        "$@" >"$T/out" 2>"$T/err" &
        pid=$!
        for _ in $(seq 400); do
                grep -q "^low" "$T/out" 2>/dev/null && break
                sleep 0.05
        done
        local dir
        dir=$(find $CG -maxdepth 1 -name "$group*" | head -1)
        if [ -z "$dir" ] || ! grep -q "^low" "$T/out"; then
                echo "# resize_run: the workload never reported its low point" >>"$T/err"
                kill -9 $pid 2>/dev/null
                wait $pid
                return 99
        fi
        echo $((160 << 20)) >"$dir/memory.max"
        wait $pid
}

begin "(d) memory.max lowered at run time: the static GOMEMLIMIT is OOM-killed"
resize_run static static $MAX "$WORKLOAD" resize
rc=$?
if [ $rc -eq 137 ]; then pass; else fail "exit $rc (want 137)"; fi

begin "(d) memory.max lowered at run time: memgov brings the target down first"
resize_run loop-d "$MEMGOV" run -v --memory-max $MAX --name loop-d -- "$WORKLOAD" resize
rc=$?
# The child reports the limit its runtime ended with: it must have come down below the new memory.max.
limit=$(sed -n 's/^completed .*limit_mib=\([0-9]*\)$/\1/p' "$T/out")
if [ $rc -eq 0 ] && [ -n "$limit" ] && [ "$limit" -lt 160 ]; then
        echo "#   the Go runtime's limit ended at ${limit}M, below the new memory.max of 160M"
        pass
else
        fail "exit $rc, final limit '${limit}'M (want 0 and a limit below 160M)"
fi

# (e) --------------------------------------------------------------------------
begin "(e) without an agent, memgov reclaims the group's page cache through memory.reclaim"
# The host root is 9p with cache=loose in the VM: reading a host file fills page cache charged to the
# reader's group. Read 150M in a 96M box, then idle: usage sits near the limit, and the law's reclaim rung
# (above 90% of the limit) must write memory.reclaim. The child has no agent.
if [ -r "$CACHEFILE" ]; then
        # Pages cached by an earlier read were charged to a group gone since; drop them so this read charges
        # the new group.
        sync
        echo 3 >/proc/sys/vm/drop_caches
        "$MEMGOV" run -v --memory-max 96M --name loop-e -- sh -c 'cat "$1" >/dev/null && sleep 4' sh "$CACHEFILE" \
                >"$T/out" 2>"$T/err"
        rc=$?
        writes=$(grep -cE "Wrote memory.reclaim|reclaimed less than asked" "$T/err")
        if [ $rc -eq 0 ] && grep -q "rule=reclaim" "$T/err" && [ "$writes" -gt 0 ]; then
                echo "#   $writes reclaim write(s); $(grep -m1 'Wrote memory.reclaim' "$T/err" | sed 's/memgov: //')"
                pass
        else
                fail "exit $rc, $writes reclaim writes; want reclaim decisions and memory.reclaim writes"
        fi
else
        fail "no CACHEFILE given (the third argument)"
fi

rm -rf "$T"
echo "loop: $passed passed, $failed failed"
[ $failed -eq 0 ]

#!/bin/bash
# `memgov run` end to end on cgroup v1 and hybrid hosts: the v2 suite's
# behaviours where the kernel allows them (docs/cgroup-v1.md lists where it
# does not). Runs as root inside the test VM, one boot per mode; it creates and
# removes cgroups, so never run it on a host whose cgroups are not yours.
# Usage: run-v1.sh MEMGOV HELPER v1|hybrid [WORKLOAD]   (inside tests/vm/vmrun --cgroup v1|hybrid)
# WORKLOAD: tests/loop's Go workload (with the Go agent), for the closed-loop checks.
set -u
MEMGOV=$(realpath "$1")
HELPER=$(realpath "$2")
mode=$3
WORKLOAD=${4:+$(realpath "$4")}
CG=/sys/fs/cgroup/memory # where no_group looks: the v1 memory hierarchy
U=/sys/fs/cgroup/unified # hybrid: the cgroup2 tree, where the group's twin goes
T=$(mktemp -d /tmp/e2e-v1.XXXXXX)
. "$(dirname "$0")/../lib/harness.sh"

if [ "$(stat -fc %T /sys/fs/cgroup)" != tmpfs ] || [ "$(stat -fc %T $CG)" != cgroupfs ]; then
        echo "run-v1.sh: no cgroup v1 memory hierarchy at $CG; run me through tests/vm/vmrun --cgroup $mode" >&2
        exit 2
fi

# no_groups NAME: gone from the memory hierarchy and, on hybrid, from the cgroup2 tree.
no_groups() {
        no_group "$1" || return 1
        if [ "$mode" = hybrid ] && [ -e "$U/$1" ]; then
                fail "twin $U/$1 left behind"
                return 1
        fi
        return 0
}
# The child's memory group, as a path under $CG, from its /proc/self/cgroup.
SHOW='g=$(grep -E "^[0-9]+:([^:]*,)?memory(,[^:]*)?:" /proc/self/cgroup | cut -d: -f3); d=/sys/fs/cgroup/memory$g
echo group=$g; echo limit=$(cat $d/memory.limit_in_bytes); echo soft=$(cat $d/memory.soft_limit_in_bytes)
[ -e $d/memory.memsw.limit_in_bytes ] && echo memsw=$(cat $d/memory.memsw.limit_in_bytes)
grep "^0::" /proc/self/cgroup | sed "s/^0::/unified=/"; echo GOMEMLIMIT=${GOMEMLIMIT-unset}'

# --- detection ----------------------------------------------------------------

begin "explain names the mode, the memory hierarchy and where pressure comes from"
mg explain --memory-max 64M --name ex -- true
expect "exit" $? 0 && expect_grep "memory hierarchy" "$T/out" "^backend: .* at /sys/fs/cgroup/memory$" &&
        case $mode in
        v1) expect_grep mode "$T/out" "^backend: +cgroup v1 at" &&
                expect_grep pressure "$T/out" "^pressure: +/proc/pressure/memory \(system-wide" ;;
        hybrid) expect_grep mode "$T/out" "^backend: +hybrid" &&
                expect_grep twin "$T/out" "^cgroup2 tree: +/sys/fs/cgroup/unified" &&
                expect_grep pressure "$T/out" "^pressure: +memory.pressure of the group's twin" ;;
        esac && expect_grep limit "$T/out" "^memory.limit_in_bytes 64M$" &&
        expect_grep group "$T/out" "^cgroup: +/sys/fs/cgroup/memory/ex$" && no_groups ex && pass

# --- limits and environment -----------------------------------------------------

begin "limits appear in the child's v1 memory group, and GOMEMLIMIT is the budget"
mg run --memory-max 64M --memory-high 48M --name lim -- sh -c "$SHOW"
expect "exit" $? 0 && expect_grep group "$T/out" "^group=/lim$" &&
        expect_grep limit "$T/out" "^limit=67108864$" && expect_grep soft "$T/out" "^soft=50331648$" &&
        expect_grep GOMEMLIMIT "$T/out" "^GOMEMLIMIT=41943040$" &&
        if [ "$mode" = hybrid ]; then expect_grep twin "$T/out" "^unified=/lim$"; fi && no_groups lim && pass

begin "no --memory-high: the soft limit is unlimited, GOMEMLIMIT follows the hard limit"
mg run --memory-max 1G --name lim2 -- sh -c "$SHOW"
expect "exit" $? 0 && expect_grep soft "$T/out" "^soft=9223372036854771712$" &&
        expect_grep GOMEMLIMIT "$T/out" "^GOMEMLIMIT=966367642$" && no_groups lim2 && pass

begin "--swap-max sets memory.memsw.limit_in_bytes to memory plus swap, or says why it cannot"
mg run --memory-max 64M --swap-max 16M --name swp -- sh -c "$SHOW"
rc=$?
if grep -q "^memsw=" "$T/out"; then
        expect "exit" $rc 0 && expect_grep memsw "$T/out" "^memsw=83886080$" && no_groups swp &&
                pass "memsw is 64M + 16M"
else
        expect "exit" $rc 125 && expect_grep reason "$T/err" "no memory.memsw.limit_in_bytes: swap accounting is off" &&
                no_groups swp && pass "no swap accounting in this kernel: refused"
fi

begin "--swap-max without --memory-max is refused on v1 (memsw counts memory plus swap)"
mg run --swap-max 16M --name swp2 -- true
expect "exit" $? 125 && expect_grep reason "$T/err" "(needs --memory-max on cgroup v1|swap accounting is off)" &&
        no_groups swp2 && pass

# --- exit codes -------------------------------------------------------------------

for code in 0 42; do
        begin "exit code $code is passed through"
        mg run --name ex$code -- "$HELPER" exit $code
        expect "exit" $? $code && no_groups ex$code && pass
done
begin "death by SIGTERM is 143"
mg run --name sig15 -- "$HELPER" kill-self 15
expect "exit" $? 143 && no_groups sig15 && pass
begin "command not found is 127 and makes no group"
mg run --name nf -- /nonexistent/cmd
expect "exit" $? 127 && no_groups nf && pass

# --- OOM --------------------------------------------------------------------------

begin "OOM kill is reported with the limit and the peak; pressure_level events reach the law first"
# Anonymous memory at the limit with no swap: reclaim fails, vmpressure says "critical" (all three
# listeners hear it) before the OOM killer runs. The law goes critical on it (or on the OOM notification
# of the same moment: this does not tell the two apart).
mg run -v --memory-max 32M --name oom -- "$HELPER" alloc 200
expect "exit" $? 137 &&
        expect_grep "pressure_level counted" "$T/err" "Pressure notifications so far: some=[1-9][0-9]* full=[1-9]" &&
        expect_grep "law critical" "$T/err" "decision rule=[a-z-]+ level=critical" &&
        expect_grep message "$T/err" "was OOM-killed: memory.max=32.0M, peak=3[0-9]\.[0-9]M" &&
        expect_grep "post-mortem" "$T/err" "post-mortem: .*e2e-helper was OOM-killed" &&
        case $mode in
        v1) expect_grep "pressure, labelled" "$T/err" "pressure \(system-wide\): some" ;;
        hybrid) expect_grep "the group's pressure" "$T/err" "memgov: pressure: some" ;;
        esac && no_groups oom && pass

# --- events -------------------------------------------------------------------------

begin "crossing the usage threshold wakes the governor (eventfd), and it then stays idle"
# 80% of 64M is the threshold; the helper holds 56M for 3 s. The loop must wake on the eventfd
# (on=memory.events) and not spin afterwards. An eventfd left unread wakes the loop again at once, every
# 10 ms (the coalescing delay): hundreds of on=memory.events samples in 3 s. Each crossing wakes it once.
# The paced samples are not counted: their number follows the growth and the pressure (policy/pace.c),
# so it depends on how fast the helper allocates.
mg run -v --memory-max 64M --name thr -- "$HELPER" alloc 56 3
rc=$?
n=$(grep -c "Sampled on=memory.events" "$T/err")
expect "exit" $rc 0 && expect_grep woken "$T/err" "Sampled on=memory.events" && no_groups thr &&
        if [ "$n" -gt 20 ]; then fail "$n samples on memory.events in ~3 s: the loop spins"; else pass "$n samples on memory.events"; fi

begin "PSI triggers are armed where this mode has PSI"
mg run -v --name psi -- true
expect "exit" $? 0 && expect_grep some "$T/err" "PSI trigger armed: some 50000us in 1000000us" &&
        expect_grep full "$T/err" "PSI trigger armed: full 100000us in 1000000us" && no_groups psi && pass

# --- kill and cleanup --------------------------------------------------------------

begin "SIGTERM to memgov: a child ignoring it is killed after --grace"
"$MEMGOV" run --grace 1s --name grace -- "$HELPER" ignore-term >"$T/out" 2>"$T/err" &
pid=$!
if wait_for "$T/out" ready; then
        kill -TERM $pid
        wait $pid
        expect "exit" $? 137 && no_groups grace && pass
else
        fail "child never got ready"
        kill -9 $pid
fi

begin "descendants left behind get the grace period, then are killed"
mg run --grace 500ms --name orphans -- "$HELPER" orphan "$T/orphan"
rc=$?
gpid=$(cat "$T/orphan" 2>/dev/null)
expect "exit" $rc 0 && no_groups orphans && expect_grep notice "$T/err" "descendants still run" &&
        if [ -n "$gpid" ] && kill -0 "$gpid" 2>/dev/null; then fail "grandchild $gpid survived"; else pass; fi

begin "a child that forks at once keeps its descendants in the group"
mg run --name forky -- sh -c 'for i in 1 2 3 4; do (grep -E ":memory:" /proc/self/cgroup) & done; wait'
expect "exit" $? 0 && expect "lines" "$(grep -c ':memory:/forky$' "$T/out")" 4 && no_groups forky && pass

begin "memgov SIGKILLed: its child dies with it, and the next memgov removes the stale group"
"$MEMGOV" run -- sleep 60 >"$T/out" 2>"$T/err" &
pid=$!
for _ in $(seq 100); do [ -d "$CG/memgov-sleep-$pid" ] && break; sleep 0.1; done
kill -9 $pid
wait $pid 2>/dev/null
for _ in $(seq 50); do [ -z "$(cat "$CG/memgov-sleep-$pid/cgroup.procs" 2>/dev/null)" ] && break; sleep 0.1; done
stale=$([ -d "$CG/memgov-sleep-$pid" ] && echo yes)
mg run -- true
expect "exit" $? 0 && expect "stale group was there" "$stale" yes &&
        expect_grep notice "$T/err" "Removed stale group $CG/memgov-sleep-$pid" &&
        if [ "$mode" = hybrid ]; then expect_grep "twin notice" "$T/err" "Removed stale group $U/memgov-sleep-$pid"; fi &&
        no_groups "memgov-sleep-$pid" && pass

# --- the closed loop, with the Go agent ----------------------------------------------

if [ -n "$WORKLOAD" ]; then
        begin "outside-heap growth: the GC target comes down and the Go child completes"
        # As tests/loop's (a): 120M outside the Go heap in a 256M box; the static GOMEMLIMIT is OOM-killed
        # there on v2. The target must come down from the launch value (230M).
        GOGC=off "$MEMGOV" run -v --memory-max 256M --name loop-a -- "$WORKLOAD" outside >"$T/out" 2>"$T/err"
        rc=$?
        limit=$(sed -n 's/^completed .*limit_mib=\([0-9]*\)$/\1/p' "$T/out")
        expect "exit" $rc 0 && expect_grep "target-down" "$T/err" "rule=target-down" && no_groups loop-a &&
                if [ -n "$limit" ] && [ "$limit" -lt 140 ]; then pass "the runtime's limit ended at ${limit}M"; else
                        fail "final limit '${limit}'M, want below 140M"; fi

        begin "memory.limit_in_bytes lowered at run time: the GC target follows it down"
        GOGC=off "$MEMGOV" run -v --memory-max 256M --name loop-d -- "$WORKLOAD" resize >"$T/out" 2>"$T/err" &
        pid=$!
        wait_for "$T/out" "^low" && echo $((160 << 20)) >"$CG/loop-d/memory.limit_in_bytes"
        wait $pid
        rc=$?
        limit=$(sed -n 's/^completed .*limit_mib=\([0-9]*\)$/\1/p' "$T/out")
        expect "exit" $rc 0 && no_groups loop-d &&
                if [ -n "$limit" ] && [ "$limit" -lt 160 ]; then pass "the runtime's limit ended at ${limit}M"; else
                        fail "final limit '${limit}'M, want below the new 160M"; fi
fi

begin "observe mode is refused with the reason"
mg run --observe -- true
expect "exit" $? 125 && expect_grep reason "$T/err" "observe mode needs cgroup v2" && pass

begin "a memory hierarchy mounted elsewhere is found through libcgroup"
# Move the hierarchy away from /sys/fs/cgroup/memory: memgov asks libcgroup (cgroup_init() reads the mount
# table) where the memory controller is, and makes its group there. Moved back afterwards.
mkdir -p /run/memcg-elsewhere
if mount --move $CG /run/memcg-elsewhere; then
        mg explain --memory-max 64M --name moved -- true
        explained=$?
        cp "$T/out" "$T/explain"
        mg run --memory-max 64M --name moved -- sh -c 'grep -E "^[0-9]+:([^:]*,)?memory(,[^:]*)?:" /proc/self/cgroup | cut -d: -f3; cat /run/memcg-elsewhere/moved/memory.limit_in_bytes'
        ran=$?
        left=$([ -e /run/memcg-elsewhere/moved ] && echo yes)
        mount --move /run/memcg-elsewhere $CG || fail "could not move the hierarchy back"
        expect "explain" $explained 0 && expect_grep root "$T/explain" "^cgroup: +/run/memcg-elsewhere/moved$" &&
                expect "run" $ran 0 && expect "group and limit" "$(tr '\n' ' ' <"$T/out")" "/moved 67108864 " &&
                expect "group left" "$left" "" && pass
else
        fail "mount --move $CG failed; this VM cannot run the check"
fi

begin "nothing of memgov's is left in either hierarchy"
left=$(find $CG $([ "$mode" = hybrid ] && echo $U) -mindepth 1 -maxdepth 1 -type d -name 'memgov-*')
expect "left" "$left" "" && pass

finish "run-v1-$mode"

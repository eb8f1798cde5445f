#!/bin/bash
# End-to-end tests of `memgov run`, from outside the built binary. Runs as root
# inside the test VM (tests/vm/vmrun), on a real kernel with cgroup v2; it
# creates and removes cgroups, so never run it on a host whose cgroups are not
# yours. Usage: run-e2e.sh MEMGOV HELPER
set -u
MEMGOV=$(realpath "$1")
HELPER=$(realpath "$2")
CG=/sys/fs/cgroup
T=$(mktemp -d /tmp/e2e.XXXXXX)
. "$(dirname "$0")/../lib/harness.sh"
require_cgroup2 run-e2e.sh

# --- limits and environment -------------------------------------------------

begin "limits appear in the child's own cgroup files"
mg run --memory-max 64M --memory-high 48M --swap-max 0 --name lim -- "$HELPER" limits
rc=$?
expect "exit" $rc 0 &&
        expect_grep memory.max "$T/out" "^memory.max=67108864$" &&
        expect_grep memory.high "$T/out" "^memory.high=50331648$" &&
        expect_grep memory.swap.max "$T/out" "^memory.swap.max=0$" &&
        expect_grep memory.oom.group "$T/out" "^memory.oom.group=1$" &&
        no_group lim && pass

begin "memory-high as a percentage of memory-max"
mg run --memory-max 100M --memory-high 50% --name pct -- "$HELPER" limits
expect "exit" $? 0 && expect_grep memory.high "$T/out" "^memory.high=52428800$" && no_group pct && pass

begin "child runs in the group memgov names"
mg run --name named -- "$HELPER" cgroup
expect "exit" $? 0 && expect "cgroup" "$(cat "$T/out")" "/named" && pass

begin "GOMEMLIMIT is the budget minus 10% headroom"
mg run --memory-max 1G -- "$HELPER" env GOMEMLIMIT
expect "exit" $? 0 && expect "GOMEMLIMIT" "$(cat "$T/out")" "966367642" && pass

begin "GOMEMLIMIT follows memory-high when set"
mg run --memory-max 1G --memory-high 512M -- "$HELPER" env GOMEMLIMIT
expect "exit" $? 0 && expect "GOMEMLIMIT" "$(cat "$T/out")" "483183821" && pass

begin "a GOMEMLIMIT the user set is kept, with a note"
GOMEMLIMIT=123MiB "$MEMGOV" run --memory-max 1G -- "$HELPER" env GOMEMLIMIT >"$T/out" 2>"$T/err"
expect "exit" $? 0 && expect "GOMEMLIMIT" "$(cat "$T/out")" "123MiB" &&
        expect_grep note "$T/err" "GOMEMLIMIT=123MiB is already set.*keeping it" && pass

begin "no limit, no GOMEMLIMIT"
mg run -- "$HELPER" env GOMEMLIMIT
expect "exit" $? 0 && expect "GOMEMLIMIT" "$(cat "$T/out")" "(unset)" && pass

begin "the child gets MEMGOV_FD, a socket, and systemd's memory-pressure variables"
mg run --name envs -- sh -c 'echo "fd=$MEMGOV_FD"; echo "watch=$MEMORY_PRESSURE_WATCH"; echo "write=$MEMORY_PRESSURE_WRITE"; [ -S /proc/self/fd/$MEMGOV_FD ] && echo "a socket"'
expect "exit" $? 0 && expect_grep fd "$T/out" "^fd=[0-9]+$" &&
        expect_grep socket "$T/out" "^a socket$" &&
        expect_grep watch "$T/out" "^watch=/sys/fs/cgroup/envs/memory.pressure$" &&
        expect "write" "$(sed -n 's/^write=//p' "$T/out" | base64 -d)" "some 200000 2000000" && pass

begin "inherited MEMGOV_FD and MEMORY_PRESSURE_WATCH are replaced, not passed on"
MEMGOV_FD=99 MEMORY_PRESSURE_WATCH=/elsewhere "$MEMGOV" run --name nested -- sh -c 'echo "fd=$MEMGOV_FD watch=$MEMORY_PRESSURE_WATCH"' >"$T/out" 2>"$T/err"
expect "exit" $? 0 && expect_grep replaced "$T/out" "^fd=[0-9]+ watch=/sys/fs/cgroup/nested/memory.pressure$" &&
        if grep -q "fd=99 " "$T/out"; then fail "the outer MEMGOV_FD leaked through"; else pass; fi

# The VM's kernel offers perf events, so the fault watch is on and the agents' routine report is rare.
begin "with the fault watch, the agents report every 8 s on their own"
mg run --name interval -- sh -c 'echo "interval=$MEMGOV_STATS_INTERVAL"'
expect "exit" $? 0 && expect_grep default "$T/out" "^interval=8000ms$" && pass

begin "a MEMGOV_STATS_INTERVAL the user set is kept"
MEMGOV_STATS_INTERVAL=300ms mg run --name interval2 -- sh -c 'echo "interval=$MEMGOV_STATS_INTERVAL"'
expect "exit" $? 0 && expect_grep kept "$T/out" "^interval=300ms$" && pass

begin "--no-agent sets no MEMGOV_STATS_INTERVAL"
mg run --no-agent --name interval3 -- sh -c 'echo "interval=$MEMGOV_STATS_INTERVAL"'
expect "exit" $? 0 && expect_grep no-agent "$T/out" "^interval=$" && pass

begin "as root, PSI triggers are armed on the group"
mg run -v --name psi -- true
expect "exit" $? 0 && expect_grep some "$T/err" "PSI trigger armed: some 50000us in 1000000us" &&
        expect_grep full "$T/err" "PSI trigger armed: full 100000us in 1000000us" && pass

# --- exit codes ---------------------------------------------------------------

for code in 0 1 42 255; do
        begin "exit code $code is passed through"
        mg run --name ex$code -- "$HELPER" exit $code
        expect "exit" $? $code && no_group ex$code && pass
done

begin "death by SIGTERM exits 128+15"
mg run --name sig15 -- "$HELPER" kill-self 15
expect "exit" $? 143 && no_group sig15 && pass

begin "death by SIGSEGV exits 128+11"
mg run --name sig11 -- "$HELPER" kill-self 11
expect "exit" $? 139 && no_group sig11 && pass

begin "command not found exits 127 with a message"
mg run --name nf -- /nonexistent/prog
expect "exit" $? 127 && expect_grep message "$T/err" "/nonexistent/prog: command not found" && no_group nf && pass

begin "command not found on PATH exits 127"
mg run -- memgov-no-such-program
expect "exit" $? 127 && expect_grep message "$T/err" "memgov-no-such-program: command not found" && pass

begin "a file without execute permission exits 126"
printf '#!/bin/sh\nexit 0\n' >"$T/noexec"
chmod 644 "$T/noexec"
mg run -- "$T/noexec"
expect "exit" $? 126 && expect_grep message "$T/err" "cannot execute" && pass

begin "an executable that exec refuses (ENOEXEC) exits 126 and leaves no group"
printf '\x7fELFgarbage' >"$T/badelf"
chmod 755 "$T/badelf"
mg run --name enoexec -- "$T/badelf"
expect "exit" $? 126 && expect_grep message "$T/err" "cannot execute: Exec format error" && no_group enoexec && pass

begin "a script whose interpreter is missing exits 127"
printf '#!/nonexistent/interp\n' >"$T/badinterp"
chmod 755 "$T/badinterp"
mg run --name badinterp -- "$T/badinterp"
expect "exit" $? 127 && no_group badinterp && pass

# --- OOM ------------------------------------------------------------------------

begin "OOM kill is reported with the limit and the peak"
mg run --memory-max 32M --name oom -- "$HELPER" alloc 200
rc=$?
expect "exit" $rc 137 &&
        expect_grep message "$T/err" "was OOM-killed: memory.max=32.0M, peak=3[0-9]\.[0-9]M" &&
        expect_grep "post-mortem" "$T/err" "post-mortem: .*e2e-helper was OOM-killed" &&
        expect_grep "last sample" "$T/err" "last sample \([0-9]+ms before\): current [0-9.]+[KM] = anon " &&
        # The preloaded C agent reports the helper's heap, so the guard throttles it at 28M and the law may
        # say "cannot fit" before the kernel kills (how soon depends on the machine): either post-mortem
        # names the size to raise memory.max to.
        expect_grep "advice" "$T/err" "what to change: .*raise memory.max to at least 3[0-9]\.[0-9]M" &&
        no_group oom && pass

begin "memory-high throttles without killing"
# A few percent over memory.high: enough for the kernel to count "high" events and throttle, little
# enough that the penalty (quadratic in the overage, no swap here) stays short.
mg run --memory-high 32M --name high -- "$HELPER" alloc 32
rc=$?
expect "exit" $rc 0 && no_group high && expect_grep "high events" "$T/out" "^event high [1-9]" &&
        expect_grep "no oom kill" "$T/out" "^event oom_kill 0$" &&
        if grep -q OOM "$T/err"; then fail "OOM reported under memory.high alone"; else pass; fi

begin "memgov stays idle once an event was seen (no busy loop on memory.events)"
# Crossing memory.high marks memory.events changed; unless memgov reads it through the descriptor it
# polls, the kernel keeps reporting it and the loop samples without end (189 times in 4 s, when that
# bug was in). Count memgov's samples over 4 idle seconds: the child sits at memory.high, so the
# pace is the pressing one, 100 ms (policy/pace.c): about 40, and the page-fault watch is off there.
"$MEMGOV" run -v --memory-high 32M --name idle -- "$HELPER" alloc 32 6 >"$T/out" 2>"$T/err" &
pid=$!
if wait_for "$T/out" "^event oom_kill"; then
        sleep 0.5
        n0=$(grep -c "Sampled on=" "$T/err")
        sleep 4
        n1=$(grep -c "Sampled on=" "$T/err")
        wait $pid
        rc=$?
        expect "exit" $rc 0 && expect_grep "high events" "$T/out" "^event high [1-9]" &&
                if [ $((n1 - n0)) -gt 60 ]; then fail "memgov sampled $((n1 - n0)) times in 4 idle seconds"; else pass; fi
else
        fail "child never reported"
        kill -9 $pid
fi

# --- signals --------------------------------------------------------------------

for sig in USR1 USR2 HUP WINCH QUIT TERM INT; do
        begin "SIG$sig is forwarded to the child"
        num=$(kill -l "$sig")
        rm -f "$T/got"
        "$HELPER" exec-clean "$MEMGOV" run --name fwd$sig -- "$HELPER" trap "$num" "$T/got" 7 >"$T/out" 2>"$T/err" &
        pid=$!
        if ! wait_for "$T/out" ready; then
                fail "child never got ready"
                kill -9 $pid
                continue
        fi
        kill -s "$sig" $pid
        wait $pid
        rc=$?
        expect "exit" $rc 7 && expect_grep signal "$T/got" . && no_group fwd$sig && pass
done

begin "SIGTERM to memgov: child ignoring it is killed after --grace"
"$MEMGOV" run --grace 1s --name grace -- "$HELPER" ignore-term >"$T/out" 2>"$T/err" &
pid=$!
if wait_for "$T/out" ready; then
        start=$(date +%s%N)
        kill -TERM $pid
        wait $pid
        rc=$?
        ms=$((($(date +%s%N) - start) / 1000000))
        expect "exit" $rc 137 && no_group grace &&
                if [ $ms -lt 900 ]; then fail "killed after ${ms}ms, before the 1s grace"; else pass; fi
else
        fail "child never got ready"
        kill -9 $pid
fi

begin "descendants left behind get the grace period, then cgroup.kill"
mg run --grace 500ms --name orphans -- "$HELPER" orphan "$T/orphan"
rc=$?
gpid=$(cat "$T/orphan" 2>/dev/null)
expect "exit" $rc 0 && no_group orphans && expect_grep notice "$T/err" "descendants still run" &&
        if [ -n "$gpid" ] && kill -0 "$gpid" 2>/dev/null; then fail "grandchild $gpid survived"; else pass; fi

# --- the whole tree stays in the group ----------------------------------------

begin "a child that forks at once keeps all its descendants in the group"
mg run --name forky -- "$HELPER" fork-at-once 8
expect "exit" $? 0 &&
        expect "lines" "$(grep -c '/forky$' "$T/out")" 9 && no_group forky && pass

begin "the fork+attach fallback also starts the child inside the group"
MEMGOV_SPAWN_FORK=1 "$MEMGOV" run --name forkfb -- "$HELPER" fork-at-once 4 >"$T/out" 2>"$T/err"
expect "exit" $? 0 && expect "lines" "$(grep -c '/forkfb$' "$T/out")" 5 && no_group forkfb && pass

begin "the fork fallback reports exec failure as 126/127 too"
MEMGOV_SPAWN_FORK=1 "$MEMGOV" run --name forkfb2 -- "$T/badelf" >"$T/out" 2>"$T/err"
expect "exit" $? 126 && no_group forkfb2 && pass

# --- placement ------------------------------------------------------------------

begin "--parent places the group below an existing cgroup and enables memory there"
mkdir -p $CG/e2e-parent/deeper
mg run --parent /e2e-parent/deeper --memory-max 64M --name kid -- "$HELPER" limits
rc=$?
expect "exit" $rc 0 && expect_grep max "$T/out" "^memory.max=67108864$" &&
        expect_grep subtree "$CG/e2e-parent/deeper/cgroup.subtree_control" memory &&
        no_group e2e-parent/deeper/kid && pass
rmdir $CG/e2e-parent/deeper $CG/e2e-parent

begin "--parent also takes the full /sys/fs/cgroup path"
mkdir -p $CG/e2e-full
mg run --parent $CG/e2e-full --name kid -- "$HELPER" cgroup
expect "exit" $? 0 && expect "cgroup" "$(cat "$T/out")" "/e2e-full/kid" && pass
rmdir $CG/e2e-full

begin "from a non-root cgroup, memgov moves itself into a 'supervisor' leaf"
mkdir -p $CG/e2e-svc
(
        echo $BASHPID >$CG/e2e-svc/cgroup.procs
        exec "$MEMGOV" run --name app -- "$HELPER" cgroup
) >"$T/out" 2>"$T/err"
rc=$?
expect "exit" $rc 0 && expect "cgroup" "$(cat "$T/out")" "/e2e-svc/app" &&
        [ -d $CG/e2e-svc/supervisor ] && no_group e2e-svc/app && pass
rmdir $CG/e2e-svc/supervisor $CG/e2e-svc 2>/dev/null

# --- errors ---------------------------------------------------------------------

begin "an invalid size is refused with exit 125, naming the option"
mg run --memory-max 12Q -- true
expect "exit" $? 125 && expect_grep message "$T/err" "--memory-max '12Q': expected" && pass

begin "memory-high above memory-max is refused"
mg run --memory-max 1G --memory-high 2G -- true
expect "exit" $? 125 && expect_grep message "$T/err" "memory-high is above --memory-max" && pass

begin "a percentage without memory-max is refused"
mg run --memory-high 90% -- true
expect "exit" $? 125 && expect_grep message "$T/err" "percentage needs --memory-max" && pass

begin "a missing --parent is named"
mg run --parent /no/such/group -- true
expect "exit" $? 125 && expect_grep message "$T/err" "parent cgroup /sys/fs/cgroup/no/such/group does not exist" && pass

begin "a --name that is in use is refused, and the other group is left alone"
mkdir $CG/taken
mg run --name taken -- true
expect "exit" $? 125 && expect_grep message "$T/err" "cgroup /sys/fs/cgroup/taken already exists" && [ -d $CG/taken ] && pass
rmdir $CG/taken

begin "an invalid --name is refused"
mg run --name memory.max -- true
expect "exit" $? 125 && expect_grep message "$T/err" "not a valid cgroup name" && pass

begin "not root and no delegated cgroup: a clear error"
if command -v setpriv >/dev/null; then
        setpriv --reuid=65534 --regid=65534 --clear-groups "$MEMGOV" run --parent / --name nobody -- true >"$T/out" 2>"$T/err"
        expect "exit" $? 125 && expect_grep message "$T/err" "Run as root, or pass --parent with a cgroup delegated to you" && no_group nobody && pass
else
        fail "setpriv is missing"
fi

begin "not root, delegated parent: works"
mkdir -p $CG/e2e-deleg
echo +memory >$CG/cgroup.subtree_control
chown 65534:65534 $CG/e2e-deleg $CG/e2e-deleg/cgroup.procs $CG/e2e-deleg/cgroup.subtree_control
# The delegatee must also be able to move itself: write access to the common ancestor's procs is the
# kernel's rule, so start the unprivileged memgov from inside the delegated group.
(
        echo $BASHPID >$CG/e2e-deleg/cgroup.procs
        exec setpriv --reuid=65534 --regid=65534 --clear-groups "$MEMGOV" run -v --memory-max 32M --name app -- "$HELPER" limits
) >"$T/out" 2>"$T/err"
rc=$?
# Unprivileged, the 1 s window is refused; a 2 s one is granted where the kernel allows it (6.4+, and
# Debian's 6.1 has that backported), with the stall scaled along; else memgov samples avg10.
expect "exit" $rc 0 && expect_grep max "$T/out" "^memory.max=33554432$" && no_group e2e-deleg/app &&
        expect_grep "psi fallback" "$T/err" "PSI trigger armed: some 100000us in 2000000us|No PSI trigger for some memory pressure .*sampling avg10" &&
        if grep -q "PSI trigger armed: some 50000us in 1000000us" "$T/err"; then fail "got a privileged window"; else pass; fi
rmdir $CG/e2e-deleg/supervisor $CG/e2e-deleg 2>/dev/null

begin "explain prints the plan and changes nothing"
before=$(ls $CG | wc -l)
mg explain --memory-max 1G --memory-high 90% --name plan -- "$HELPER" exit 0
rc=$?
expect "exit" $rc 0 && expect_grep group "$T/out" "^cgroup: +/sys/fs/cgroup/plan$" &&
        expect_grep env "$T/out" "GOMEMLIMIT=869730877" && expect_grep high "$T/out" "^memory.high +966367641" &&
        expect "entries" "$(ls $CG | wc -l)" "$before" && pass

begin "nothing memgov made is left in the cgroup tree"
left=$(find $CG -mindepth 1 -maxdepth 2 -type d \( -name 'memgov-*' -o -name 'e2e-*' \) | head -5)
expect "leftovers" "$left" "" && pass

finish e2e

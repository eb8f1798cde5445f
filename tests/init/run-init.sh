#!/bin/bash
# memgov as an init (PID 1, --init), in observe mode, and its own safety
# (issue 8). Runs as root inside the test VM (tests/vm/vmrun, cgroup v2); it
# creates cgroups, so never run it on a host whose cgroups are not yours.
# Usage: run-init.sh MEMGOV HELPER WORKLOAD STUB_SYSTEMD
set -u
MEMGOV=$(realpath "$1")
HELPER=$(realpath "$2")
WORKLOAD=$(realpath "$3")
STUB=$(realpath "$4")
CG=/sys/fs/cgroup
T=$(mktemp -d /tmp/init.XXXXXX)
. "$(dirname "$0")/../lib/harness.sh"
require_cgroup2 run-init.sh

# pid1 ARGS...: memgov run ARGS as PID 1 of a new pid namespace (with its own /proc).
# A memgov that misses its child's exit (one reap per SIGCHLD, catatonit#4) hangs: the bound makes that a
# failure with a name (exit 137) rather than the VM's timeout.
pid1() { timeout -s KILL 120 unshare --pid --fork --mount-proc "$MEMGOV" run "$@" >"$T/out" 2>"$T/err"; }
# alive PID: running, not a zombie
alive() { [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" | grep -q '^Z'; }
# wait_gone PID: up to 5 s
wait_gone() {
        for _ in $(seq 50); do
                alive "$1" || return 0
                sleep 0.1
        done
        return 1
}
# wait_file FILE: up to 10 s
wait_file() {
        for _ in $(seq 100); do
                [ -s "$1" ] && return 0
                sleep 0.1
        done
        return 1
}

# --- PID 1 ------------------------------------------------------------------------

begin "as PID 1, 1000 orphaned grandchildren are reaped: no zombies"
pid1 --name pid1-orphans -- "$HELPER" orphans 1000
expect "exit" $? 0 && expect "zombies" "$(cat "$T/out")" "zombies=0" && no_group pid1-orphans && pass

begin "with --init (a subreaper, not PID 1), orphans are reaped too"
timeout -s KILL 120 "$MEMGOV" run --init --name sub-orphans -- "$HELPER" orphans 100 >"$T/out" 2>"$T/err"
expect "exit" $? 0 && expect "zombies" "$(cat "$T/out")" "zombies=0" && no_group sub-orphans && pass

# Signals reach PID 1 from the parent namespace, as `docker stop` and `docker kill -s` send them.
for sig in HUP INT QUIT USR1 USR2 TERM WINCH; do
        begin "as PID 1, SIG$sig is forwarded to the child"
        unshare --pid --fork --mount-proc "$MEMGOV" run --name fwd -- "$HELPER" catch >"$T/out" 2>"$T/err" &
        upid=$!
        if wait_file "$T/out"; then
                mpid=$(cat /proc/$upid/task/$upid/children)
                kill -s $sig $mpid
                wait $upid
                rc=$?
                expect "exit" $rc $((100 + $(kill -l $sig))) && no_group fwd && pass
        else
                fail "the child never got ready"
                kill -9 $upid
                wait $upid
        fi
done

# Every exit code 0-255 and every catchable-or-not terminating signal, each through memgov as PID 1 of its
# own pid namespace. A memgov run costs 1-2 s in the emulated VM, so eight run at once, each in a group of
# its own name. INIT_QUICK=1 keeps to the codes at the edges and around the reserved ones.
codes=$(seq 0 255)
[ "${INIT_QUICK:-0}" = 1 ] && codes="0 1 2 63 64 100 122 124 125 126 127 128 129 137 143 200 253 254 255"
sigs="1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 24 25 26 27 30 31"
one_code() { # CODE: prints CODE->STATUS when memgov's status differs
        bounded 120 quiet unshare --pid --fork "$MEMGOV" run -q --name "codes-$1" -- "$HELPER" exit "$1"
        rc=$?
        [ $rc -eq "$1" ] || echo "$1->$rc"
}
one_sig() { # SIG: prints SIG->STATUS when memgov's status is not 128+SIG
        bounded 120 quiet unshare --pid --fork "$MEMGOV" run -q --name "sigs-$1" -- "$HELPER" kill-self "$1"
        rc=$?
        [ $rc -eq $((128 + $1)) ] || echo "$1->$rc"
}
# quiet CMD...: CMD without its output (bounded's report of a hang still reaches stderr).
quiet() { "$@" >/dev/null 2>&1; }
export -f one_code one_sig bounded tree quiet
export MEMGOV HELPER
begin "as PID 1, exit codes are passed through ($(echo $codes | wc -w) of 0-255)"
bad=$(printf '%s\n' $codes | xargs -P 8 -I{} bash -c 'one_code {}' | sort -n | tr '\n' ' ')
left=$(ls -d $CG/codes-* 2>/dev/null | wc -l)
expect "mismatches" "$bad" "" && expect "groups left" "$left" 0 && pass "$(echo $codes | wc -w) codes"

begin "as PID 1, death by signal N exits 128+N ($(echo $sigs | wc -w) signals)"
bad=$(printf '%s\n' $sigs | xargs -P 8 -I{} bash -c 'one_sig {}' | sort -n | tr '\n' ' ')
left=$(ls -d $CG/sigs-* 2>/dev/null | wc -l)
expect "mismatches" "$bad" "" && expect "groups left" "$left" 0 && pass

begin "as PID 1, a setsid grandchild that stays is killed after the grace period"
pid1 --grace 500ms --name pid1-daemon -- "$HELPER" daemon "$T/d1"
rc=$?
expect "exit" $rc 0 && expect_grep notice "$T/err" "descendants still run" &&
        expect_grep kill "$T/err" "Grace period over" && no_group pid1-daemon && pass

# --- safety -----------------------------------------------------------------------

begin "memgov lowers its own oom_score_adj; the child gets the one memgov started with"
echo 0 >/proc/self/oom_score_adj
mg run --name oom1 -- sh -c 'cat /proc/self/oom_score_adj /proc/$PPID/oom_score_adj'
expect "exit" $? 0 && expect "scores" "$(tr '\n' ' ' <"$T/out")" "0 -900 " && pass

begin "memgov raises its own CPU priority 10 nice levels; the child gets the one memgov started with"
own=$(cut -d' ' -f19 /proc/self/stat)
raised=$((own - 10 < -20 ? -20 : own - 10))
mg run --name nice1 -- sh -c 'cut -d" " -f19 /proc/self/stat /proc/$PPID/stat'
expect "exit" $? 0 && expect "nice values" "$(tr '\n' ' ' <"$T/out")" "$own $raised " && pass

begin "--oom-score-adj sets the child's"
mg run --oom-score-adj 700 --name oom2 -- cat /proc/self/oom_score_adj
expect "exit" $? 0 && expect "score" "$(cat "$T/out")" "700" && pass

begin "--oom-score-adj out of range is refused"
mg run --oom-score-adj 1001 -- true
expect "exit" $? 125 && expect_grep message "$T/err" "oom-score-adj '1001': expected a whole number from -1000 to 1000" && pass

begin "memgov SIGKILLed: its child dies with it; the next memgov removes the stale group"
"$MEMGOV" run -- "$HELPER" linger "$T/l" >"$T/out" 2>"$T/err" &
mpid=$!
if wait_file "$T/l" && wait_file "$T/l.gc"; then
        cpid=$(cat "$T/l")
        gpid=$(cat "$T/l.gc")
        group=$(find $CG -maxdepth 2 -type d -name "memgov-init-helper-$mpid")
        kill -9 $mpid
        wait $mpid 2>/dev/null
        if ! wait_gone "$cpid"; then
                fail "the child $cpid outlived memgov"
        elif ! alive "$gpid"; then
                fail "the setsid grandchild was already gone: the cleanup below would prove nothing"
        else
                mg run --name next -- true
                rc=$?
                expect "exit" $rc 0 && expect_grep notice "$T/err" "Removed stale group .*memgov-init-helper-$mpid" &&
                        if wait_gone "$gpid"; then
                                if [ -n "$group" ] && [ -e "$group" ]; then fail "$group left behind"; else pass; fi
                        else
                                fail "the grandchild $gpid survived the cleanup"
                        fi
        fi
else
        fail "the child never started"
        kill -9 $mpid
fi

# --- observe mode -------------------------------------------------------------------

# A box made by someone else: a parent with the limit, memgov's group below it without one.
mkdir -p $CG/box
echo +memory >$CG/box/cgroup.subtree_control 2>/dev/null
mkdir -p $CG/box/pod
echo $((256 << 20)) >$CG/box/memory.max

begin "--observe: the budget and the GC target follow the ancestors' limit"
(
        echo $BASHPID >$CG/box/pod/cgroup.procs
        exec "$MEMGOV" run -v --observe -- "$WORKLOAD" resize --for 6s
) >"$T/out" 2>"$T/err" &
wpid=$!
for _ in $(seq 400); do
        grep -q "^low" "$T/out" 2>/dev/null && break
        sleep 0.05
done
echo $((160 << 20)) >$CG/box/memory.max
wait $wpid
rc=$?
limit=$(sed -n 's/^completed .*limit_mib=\([0-9]*\)$/\1/p' "$T/out")
expect "exit" $rc 0 &&
        expect_grep notice "$T/err" "Observing /sys/fs/cgroup/box/pod: effective memory.max=256.0M" &&
        expect_grep "GOMEMLIMIT from the observed limit (at launch; the agent's first target may come before 'low')" \
                "$T/out" "^env GOMEMLIMIT=241591911$" &&
        expect_grep psi "$T/err" "PSI trigger armed: some" &&
        expect_grep decision "$T/err" "decision .*limit=160" &&
        if [ -n "$limit" ] && [ "$limit" -lt 160 ]; then
                pass "the Go runtime's limit ended at ${limit}M, below the new memory.max of 160M"
        else
                fail "final limit '${limit}'M, want below 160M"
        fi
echo $((256 << 20)) >$CG/box/memory.max

# The loop suite's shape (c) in observe mode: with GOGC=off the next GC comes when the heap reaches the
# limit; a jump of memory outside the heap must make memgov lower the target, in the group it observes.
observe_first_gc() { # OUTSIDE_MIB
        (
                echo $BASHPID >$CG/box/pod/cgroup.procs
                GOGC=off exec "$MEMGOV" run -v --observe -- "$WORKLOAD" burst -outside "$1"
        ) >"$T/out" 2>"$T/err" || return 1
        sed -n 's/^first_gc heap_mib=\([0-9]*\).*/\1/p' "$T/out"
}
begin "--observe: a jump of memory outside the heap lowers the GC target in the observed group"
quiet=$(observe_first_gc 0)
rc0=$?
jumped=$(observe_first_gc 60)
rc1=$?
if [ $rc0 -eq 0 ] && [ $rc1 -eq 0 ] && [ -n "$quiet" ] && [ -n "$jumped" ] && [ $((jumped + 25)) -lt "$quiet" ] &&
        expect_grep decision "$T/err" "decision rule=.*actions=.*lower-target"; then
        pass "first GC at a heap of ${quiet}M without the jump, ${jumped}M after a 60M jump"
else
        fail "exit $rc0/$rc1, first GC at ${quiet:-?}M and ${jumped:-?}M; want both to complete and the GC at least 25M earlier after the jump"
fi

begin "--observe: a setsid grandchild that stays is killed after the grace period"
(
        echo $BASHPID >$CG/box/pod/cgroup.procs
        exec "$MEMGOV" run --observe --grace 500ms -- "$HELPER" daemon "$T/d2"
) >"$T/out" 2>"$T/err"
rc=$?
gpid=$(cat "$T/d2" 2>/dev/null)
expect "exit" $rc 0 && expect_grep kill "$T/err" "Grace period over, killing what is left of memgov's descendants" &&
        if [ -n "$gpid" ] && ! wait_gone "$gpid"; then fail "grandchild $gpid survived"; else pass; fi

begin "no group can be made (unprivileged, not delegated): observe mode, with a notice"
(
        echo $BASHPID >$CG/box/pod/cgroup.procs
        exec setpriv --reuid=65534 --regid=65534 --clear-groups "$MEMGOV" run -- "$HELPER" exit 7
) >"$T/out" 2>"$T/err"
rc=$?
expect "exit" $rc 7 && expect_grep notice "$T/err" "governing in memgov's own group instead \(observe mode" &&
        expect_grep observing "$T/err" "Observing /sys/fs/cgroup/box/pod" && pass

begin "no group can be made but limits were asked for: refused, not observed"
(
        echo $BASHPID >$CG/box/pod/cgroup.procs
        exec setpriv --reuid=65534 --regid=65534 --clear-groups "$MEMGOV" run --memory-max 64M -- "$HELPER" exit 7
) >"$T/out" 2>"$T/err"
expect "exit" $? 125 && expect_grep message "$T/err" "Run as root, or pass --parent" && pass

begin "a container's shape (PID 1, own cgroup namespace, read-only cgroupfs): observe mode by itself"
# What docker run gives: memgov is PID 1 and sees its group as the root of a read-only /sys/fs/cgroup.
mkdir -p $CG/ctr
echo $((200 << 20)) >$CG/ctr/memory.max
(
        echo $BASHPID >$CG/ctr/cgroup.procs
        exec unshare --cgroup --pid --fork --mount --mount-proc sh -c \
                'umount /sys/fs/cgroup && mount -t cgroup2 -o ro cgroup2 /sys/fs/cgroup && exec "$0" run -- sh -c "echo \$GOMEMLIMIT; exit 3"' \
                "$MEMGOV"
) >"$T/out" 2>"$T/err"
rc=$?
expect "exit" $rc 3 && expect_grep notice "$T/err" "Read-only file system.*governing in memgov's own group instead \(observe mode" &&
        expect_grep observing "$T/err" "Observing /sys/fs/cgroup: effective memory.max=200.0M" &&
        expect "GOMEMLIMIT" "$(cat "$T/out")" $(((200 << 20) * 9 / 10)) && pass
rmdir $CG/ctr 2>/dev/null

begin "--observe with a limit is refused"
mg run --observe --memory-max 1G -- true
expect "exit" $? 125 && expect_grep message "$T/err" "observe governs the group memgov is already in and sets no limits" && pass

rmdir $CG/box/pod/supervisor $CG/box/pod $CG/box 2>/dev/null

# --- non-root through systemd ---------------------------------------------------------
# Stand-in (tests/init/stub-systemd.c, on a private bus), kept beside the real user manager of
# tests/real/run-systemd.sh because only it shows the call as sent and can misbehave (a malformed reply,
# a failed job), and it needs no systemd boot.
chmod 755 "$T"
cat >"$T/bus.conf" <<EOC
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$T/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/> <allow own="*"/> <allow send_destination="*"/> <allow receive_sender="*"/>
  </policy>
</busconfig>
EOC
dbus-daemon --config-file="$T/bus.conf" --fork --print-pid >"$T/bus.pid" 2>"$T/bus.err"
DBUS_SESSION_BUS_ADDRESS=unix:path=$T/bus "$STUB" $CG >"$T/stub.out" 2>&1 &
stub=$!
begin "non-root: memgov asks systemd for a delegated scope and makes the child's group inside it"
if wait_file "$T/stub.out"; then
        DBUS_SESSION_BUS_ADDRESS=unix:path=$T/bus setpriv --reuid=65534 --regid=65534 --clear-groups \
                "$MEMGOV" run -v --memory-max 64M --memory-high 48M --name app -- \
                sh -c 'g=$(cut -d: -f3 /proc/self/cgroup); echo "$g"; cat /sys/fs/cgroup$g/memory.max' >"$T/out" 2>"$T/err"
        rc=$?
        expect "exit" $rc 0 &&
                expect_grep call "$T/stub.out" "^StartTransientUnit name=app.scope mode=fail Delegate=1 PIDs=[0-9]+ MemoryMax=67108864 MemoryHigh=50331648$" &&
                expect_grep scope "$T/err" "In transient scope app.scope \(Delegate=yes\)" &&
                expect "child's group" "$(head -1 "$T/out")" "/user.slice/app.scope/app" &&
                expect "child's memory.max" "$(sed -n 2p "$T/out")" 67108864 &&
                expect "scope's memory.max" "$(cat $CG/user.slice/app.scope/memory.max)" 67108864 && pass
else
        fail "the stub never came up: $(cat "$T/stub.out" "$T/bus.err")"
fi
kill $stub 2>/dev/null
wait $stub 2>/dev/null
rmdir $CG/user.slice/app.scope/supervisor $CG/user.slice/app.scope $CG/user.slice 2>/dev/null

# stub_fault FAULT EXPECTED-MESSAGE: memgov as nobody against a stub that misbehaves so.
stub_fault() {
        DBUS_SESSION_BUS_ADDRESS=unix:path=$T/bus "$STUB" $CG "$1" >"$T/stub-$1.out" 2>&1 &
        stub=$!
        if wait_file "$T/stub-$1.out"; then
                DBUS_SESSION_BUS_ADDRESS=unix:path=$T/bus setpriv --reuid=65534 --regid=65534 --clear-groups \
                        "$MEMGOV" run --memory-max 64M --name app -- true >"$T/out" 2>"$T/err"
                expect "exit" $? 125 && expect_grep message "$T/err" "no transient scope either: $2" && pass
        else
                fail "the stub never came up: $(cat "$T/stub-$1.out" "$T/bus.err")"
        fi
        kill $stub 2>/dev/null
        wait $stub 2>/dev/null
}
begin "non-root, stand-in only: a malformed StartTransientUnit reply is a clear error"
stub_fault bad-reply "unexpected StartTransientUnit reply: "
begin "non-root, stand-in only: a scope job that fails is a clear error"
stub_fault job-failed "systemd could not start scope app.scope: job failed"
kill "$(cat "$T/bus.pid")" 2>/dev/null

begin "non-root without systemd: a clear error names both attempts"
DBUS_SESSION_BUS_ADDRESS=unix:path=$T/no-bus XDG_RUNTIME_DIR=$T/none setpriv --reuid=65534 --regid=65534 \
        --clear-groups "$MEMGOV" run --memory-max 64M -- true >"$T/out" 2>"$T/err"
expect "exit" $? 125 && expect_grep message "$T/err" "cannot create cgroup /sys/fs/cgroup/memgov-true-[0-9]+: Permission denied.*; no transient scope either: cannot reach the user's systemd: no user bus" && pass

begin "nothing memgov made is left in the cgroup tree"
left=$(find $CG -mindepth 1 -maxdepth 2 -type d -name 'memgov-*' | head -5)
expect "leftovers" "$left" "" && pass

finish init

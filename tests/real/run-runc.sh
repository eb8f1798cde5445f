#!/bin/bash
# memgov as the entrypoint (PID 1) of a real OCI container, under runc, with a Go child that uses the
# agent; and the container's memory limit changed in place with `runc update` (issue 19). The real
# runtime, not a stand-in: runc makes the cgroup, the namespaces and the read-only /sys/fs/cgroup, and
# sends the signals. Runs as root inside the test VM (tests/vm/vmrun, cgroup v2); never on a host whose
# cgroups are not yours.
# Usage: run-runc.sh MEMGOV CHILD
set -u
MEMGOV=$(realpath "$1")
CHILD=$(realpath "$2")
CG=/sys/fs/cgroup
T=$(mktemp -d /tmp/real-runc.XXXXXX)
HERE=$(dirname "$(realpath "$0")")
. "$HERE/../lib/harness.sh"
. "$HERE/oci.sh"
require_cgroup2 run-runc.sh
oci_init || exit 2
trap oci_fini EXIT

MIB=$((1 << 20))
LIMIT=$((200 * MIB))
BINDS=(--bind "$(dirname "$MEMGOV")" --bind "$(dirname "$CHILD")")

lines() { wc -l <"$1"; }
is_memgov() { # PID (the VM sees its own root under the chroot's path, so compare the files, not names)
        [ "/proc/$1/exe" -ef "$MEMGOV" ] && return 0
        fail "runc's init $1 is $(readlink "/proc/$1/exe"), not memgov"
        return 1
}
# finished RUNC_PID: runc run's status (it has exited, or is made to within 60 s)
finished() {
        local end=$((SECONDS + 60))
        while [ $SECONDS -lt $end ]; do
                kill -0 "$1" 2>/dev/null || break
                sleep 0.1
        done
        kill -0 "$1" 2>/dev/null && kill -9 "$1"
        wait "$1"
}

# --- one container that serves: observe mode, GOMEMLIMIT, resize, signals ----------------------------

oci_bundle app $LIMIT "${BINDS[@]}" -- "$MEMGOV" run -v -- "$CHILD" serve -live 40 -churn 10
oci_start app
app=$!
OUT=$T/app.out ERR=$T/app.err
ln -sf "$ERR" "$T/err" # what fail() shows

begin "memgov is PID 1 of the runc container and chooses observe mode by itself, with one notice"
if ! wait_line "$OUT" 0 '^ready' >/dev/null || ! wait_line "$ERR" 0 'Agent 1 connected' >/dev/null; then
        fail "the child never became ready with its agent connected: $(head -c 600 "$OUT")"
else
        pid=$(oci_pid app)
        nspid=$(sed -n 's/^NSpid:\s*//p' "/proc/$pid/status" 2>/dev/null)
        notices=$(grep -c "observe mode" "$ERR")
        expect "memgov's pid inside the container (NSpid of $pid)" "${nspid##*[[:space:]]}" 1 &&
                is_memgov "$pid" &&
                expect_grep notice "$ERR" "^memgov: Cannot make a group for $CHILD \(.*Read-only file system\); governing in memgov's own group instead \(observe mode: its limits are read, not set\)\.$" &&
                expect "lines about observe mode" "$notices" 1 &&
                expect_grep observing "$ERR" "Observing /sys/fs/cgroup: effective memory.max=200.0M" && pass
fi

begin "GOMEMLIMIT comes from the container's memory limit (config.json: linux.resources.memory.limit)"
expect_grep GOMEMLIMIT "$OUT" "^env GOMEMLIMIT=$((LIMIT * 9 / 10))\$" && pass "$((LIMIT * 9 / 10)) = 90% of 200M"

# resize BYTES: runc update, then the first decision that carries the new limit and the agent's first
# acknowledgement after it. Sets $decision and $applied; "" when they never came.
resize() {
        local from
        from=$(lines "$ERR")
        decision= applied=
        oci_runc update --memory "$1" app || return 1
        decision=$(wait_line "$ERR" "$from" "decision .* limit=$(($1 / MIB))(\.0)?M ") || return 0
        from=$(grep -n -F -- "$decision" "$ERR" | tail -1 | cut -d: -f1)
        applied=$(wait_line "$ERR" "$from" "Agent 1 applied target [0-9]+ ") || applied=
}
# the limit the Go runtime runs with, from the agent's acknowledgement "(limit 123.4M)"
applied_mib() { sed -n 's/.*(limit \([0-9.]*\)M).*/\1/p' <<<"$1" | cut -d. -f1; }

LOW=$((140 * MIB))
# memgov watches memory.max (inotify, through the container's own read-only mount) and steps on=limits
# when runc writes it. Which step first sees the new limit is not asserted: a limits event that comes
# while another step is pending joins that one (governor/govern.c, request_step), so on= is reported.
begin "runc update lowers memory.max to 140M: memgov follows and the agent applies a lower target"
if ! resize $LOW; then
        fail "runc update --memory $LOW failed"
elif [ -z "$decision" ]; then
        fail "no decision with limit=140M after the update: $(tail -5 "$ERR")"
elif [ -z "$applied" ]; then
        fail "the agent never acknowledged a target after: $decision"
elif grep -q "No watch on the group's limits" "$ERR"; then
        fail "memgov did not watch memory.max inside the container: $(grep "No watch on" "$ERR")"
elif got=$(applied_mib "$applied") && { [ -z "$got" ] || [ "$got" -ge 140 ]; }; then
        fail "the applied limit is ${got:-?}M, want below 140M: $applied"
elif expect "memory.max of the container's group" "$(cat $CG/$OCI_PARENT/app/memory.max)" $LOW; then
        pass "${decision#memgov: }; ${applied#memgov: }"
fi
lowered=${got:-0}

begin "the decrease (140M, above the live set) leaves the child running"
# More churn at the lower limit, where the launch GOMEMLIMIT (180M) would let the heap grow past it.
sleep 3
last=$(sed -n 's/^limit bytes=//p' "$OUT" | tail -1)
status=$(oci_runc state app 2>/dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])')
if ! kill -0 $app 2>/dev/null; then
        fail "runc run exited: $(tail -3 "$ERR")"
elif ! expect "container status" "$status" running; then
        :
elif ! expect "OOM kills in the container" "$(sed -n 's/^oom_kill //p' $CG/$OCI_PARENT/app/memory.events)" 0; then
        :
elif [ -z "$last" ] || [ "$last" -ge $LOW ]; then
        fail "the child's own limit is '$last', want below $LOW"
else
        pass "memory.current=$(($(cat $CG/$OCI_PARENT/app/memory.current) / MIB))M, the child's limit $((last / MIB))M"
fi

# The law raises slowly (docs/control-law.md, "Up: slowly"): one step of at most 5% of the limit per
# window, so the first raise is what is checked, not the way back to 95% of 200M.
begin "runc update raises memory.max back to 200M: the target rises again"
if ! resize $LIMIT; then
        fail "runc update --memory $LIMIT failed"
elif [ -z "$decision" ] || [ -z "$applied" ]; then
        fail "decision '${decision}', acknowledgement '${applied}' after the raise: $(tail -5 "$ERR")"
elif ! grep -q "actions=raise-target" <<<"$decision"; then
        fail "the first decision at limit=200M does not raise the target: $decision"
elif got=$(applied_mib "$applied") && { [ -z "$got" ] || [ "$got" -le "$lowered" ]; }; then
        fail "the applied limit is ${got:-?}M, want above the ${lowered}M applied after the decrease: $applied"
else
        pass "${decision#memgov: }; ${applied#memgov: }"
fi

begin "a write the read-only cgroupfs refuses (memory.reclaim) is reported once, not at every step"
refused=$(grep -c "Cannot write memory.reclaim" "$ERR")
expect "repeated write failures" "$(grep -c "Failed to write memory.reclaim" "$ERR")" 0 &&
        if [ "$refused" -le 1 ]; then pass "$refused refusal(s) reported"; else fail "$refused refusals reported"; fi

begin "runc kill app TERM reaches the child through memgov; runc run exits 143 (128+SIGTERM)"
oci_runc kill app TERM
finished $app
rc=$?
expect "runc run's status" $rc 143 && expect_grep "the child's word" "$OUT" "^got signal=15$" &&
        no_group "$OCI_PARENT/app" && pass

# --- short-lived containers ---------------------------------------------------------------------

begin "the child's exit status passes through memgov and runc run (3)"
oci_bundle code $LIMIT "${BINDS[@]}" -- "$MEMGOV" run -- "$CHILD" exit 3
oci_start code
finished $!
rc=$?
ln -sf "$T/code.err" "$T/err"
expect "runc run's status" $rc 3 && expect_grep GOMEMLIMIT "$T/code.out" "^env GOMEMLIMIT=[0-9]+$" && pass

begin "orphans left inside the container are reaped by memgov as PID 1: none stays a zombie"
oci_bundle orph $LIMIT "${BINDS[@]}" -- "$MEMGOV" run -- "$CHILD" orphans -n 20
oci_start orph
finished $!
rc=$?
ln -sf "$T/orph.err" "$T/err"
expect "runc run's status" $rc 0 &&
        expect_grep orphans "$T/orph.out" "^orphans=20 seen_reparented_to_1=[0-9]+ left=0$" &&
        pass "$(grep ^orphans= "$T/orph.out")"

OOM_LIMIT=$((96 * MIB))
begin "an OOM kill inside the container is reported by memgov, and runc run exits 137"
oci_bundle oom $OOM_LIMIT "${BINDS[@]}" -- "$MEMGOV" run -- "$CHILD" oom
oci_start oom
finished $!
rc=$?
ln -sf "$T/oom.err" "$T/err"
# The kernel's own account, shown on failure: which process it killed (memgov, unable to lower its own
# oom_score_adj without CAP_SYS_RESOURCE, competes with its child here).
dmesg | grep "Killed process" | tail -3 | sed 's/^/# kernel: /'
expect "runc run's status" $rc 137 &&
        expect_grep "memgov's report" "$T/oom.err" "^memgov: $CHILD was OOM-killed: memory.max=96.0M, peak=[0-9.]+M, 1 process\(es\) killed in /sys/fs/cgroup\." &&
        pass "$(grep -m1 'OOM-killed' "$T/oom.err")"

oci_fini
finish real-runc

# shellcheck shell=bash
# The small vocabulary of memgov's VM test scripts (sourced, not run): one
# check per begin ... pass|fail, TAP-like lines, and the closing
# "NAME: N passed, N failed" that CI reads. The script sets CG (the cgroup2
# mount) and T (its scratch directory) before sourcing, and MEMGOV for mg().

passed=0
failed=0
current=

# require_cgroup2 SCRIPT: these scripts create cgroups; they belong inside tests/vm/vmrun.
require_cgroup2() {
        if [ "$(stat -fc %T "$CG")" != cgroup2fs ]; then
                echo "$1: $CG is not cgroup v2; run me through tests/vm/vmrun" >&2
                exit 2
        fi
}
# A "# ..." line as each check begins: when a VM is killed by a timeout, its output so far says where.
begin() {
        current=$1
        started=$(date +%s%N)
        echo "# $1"
}
took() { echo "$((($(date +%s%N) - started) / 1000000))ms"; }
pass() { # [NOTE]
        passed=$((passed + 1))
        echo "ok - $current${1:+: $1} ($(took))"
}
fail() {
        failed=$((failed + 1))
        echo "not ok - $current: $* ($(took))"
        [ -s "$T/err" ] && sed 's/^/#   stderr: /' "$T/err" | head -20
        return 0
}
expect() { # WHAT ACTUAL WANTED
        if [ "$2" = "$3" ]; then return 0; fi
        fail "$1: got '$2', want '$3'"
        return 1
}
expect_grep() { # WHAT FILE PATTERN
        if grep -qE -- "$3" "$2"; then return 0; fi
        fail "$1: no line matching '$3' in $(basename "$2"): $(head -c 600 "$2")"
        return 1
}
no_group() { # NAME: the group must be gone
        if [ -e "$CG/$1" ]; then
                fail "cgroup $1 left behind"
                return 1
        fi
        return 0
}
# Every use waits for something that must come, so the bound is generous: on CI's loaded machine
# things took 1.5x longer than here, and the VM's emulation multiplies any stall.
wait_for() { # FILE PATTERN: up to 300 polls, 30 s or more
        for _ in $(seq 300); do
                grep -q -- "$2" "$1" 2>/dev/null && return 0
                sleep 0.1
        done
        return 1
}
mg() { "$MEMGOV" "$@" >"$T/out" 2>"$T/err"; }
# tree PID: PID and its descendants, parents first.
tree() {
        local c
        echo "$1"
        for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do tree "$c"; done
}
# bounded SECS CMD...: CMD's status. A CMD still running after SECS is a hang with a name: what each of
# its processes waits on (state, wchan, kernel stack) goes to stderr, they are killed, and the status
# is 137. Better than the VM's timeout, which says nothing of where.
bounded() {
        local secs=$1 pid timer done p rc
        shift
        "$@" &
        pid=$!
        sleep "$secs" &
        timer=$!
        wait -n -p done "$pid" "$timer"
        rc=$?
        if [ "$done" = "$pid" ]; then
                kill "$timer" 2>/dev/null
                wait "$timer" 2>/dev/null
                return $rc
        fi
        echo "# stuck for ${secs}s: $*" >&2
        for p in $(tree "$pid"); do
                echo "#   $p $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | cut -c1-120)" \
                        "state=$(sed -n 's/^State:\t//p' /proc/"$p"/status 2>/dev/null)" \
                        "wchan=$(cat /proc/"$p"/wchan 2>/dev/null)" >&2
                sed 's/^/#     /' /proc/"$p"/stack >&2 2>/dev/null
        done
        for p in $(tree "$pid"); do kill -9 "$p" 2>/dev/null; done
        wait "$pid" 2>/dev/null
        return 137
}
# finish NAME: the closing line, and the script's status.
finish() {
        rm -rf "$T"
        echo "$1: $passed passed, $failed failed"
        [ "$failed" -eq 0 ]
}

#!/bin/bash
# Policy files in a real run (issue "Fleet policy files"): limits and the group
# name from a file, below the command line. Then reload under load: a Go child with the
# agent churns its heap under memgov run with a policy directory; SIGHUP with a
# larger headroom brings the target down; a broken drop-in and SIGHUP change
# nothing (the law keeps the reloaded headroom, and not even the broken file's
# valid line is taken). Runs as root inside tests/vm/vmrun (cgroup v2).
# Usage: run-reload.sh MEMGOV WORKLOAD
set -u
MEMGOV=$(realpath "$1")
WORKLOAD=$(realpath "$2")
CG=/sys/fs/cgroup
T=$(mktemp -d /tmp/reload.XXXXXX)
# shellcheck source=../lib/harness.sh
. "$(dirname "$0")/../lib/harness.sh"
require_cgroup2 run-reload.sh
export GOGC=off

P=$T/policy
mkdir -p "$P/conf.d"
printf '[defaults]\nheadroom = 5%%\n' >"$P/memgov.ini"

# last_decision PATTERN: the last decision line matching PATTERN.
last_decision() { grep "decision .*$1" "$T/err" | tail -1; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
# mib SIZE: "230.6M" -> 230 (the decision line's sizes are K or M here).
mib() { awk -v s="$1" 'BEGIN { v = s + 0; if (s ~ /K$/) v /= 1024; printf "%d", v }'; }
# decision_after N [PATTERN]: the first decision (matching PATTERN) logged after line N of stderr (whatever woke the loop: the reload's
# own step or a tick that came first), waiting up to 200 polls (20 s, more on a loaded machine). memgov's stderr is not opened for appending,
# so the test marks places by line number, never by writing into it.
decision_after() {
        local d
        for _ in $(seq 200); do
                d=$(tail -n +"$(($1 + 1))" "$T/err" | grep -m1 "decision .*${2:-}")
                [ -n "$d" ] && break
                sleep 0.1
        done
        echo "$d"
}
# On failure, the policy's own lines say more than the first lines of stderr.
explain_failure() { grep -E "decision|Policy|policy|reload|SIGHUP" "$T/err" | tail -25 | sed 's/^/#   /'; }

begin "run takes its limits and group name from the policy files, the command line over them"
F=$T/fromfile
mkdir -p "$F"
printf '[defaults]\nmemory-max = 64M\nmemory-high = 32M\nname = frompolicy\n' >"$F/memgov.ini"
"$MEMGOV" run --config-dir "$F" --memory-high 48M -- sh -c \
        'cat /sys/fs/cgroup/frompolicy/memory.max /sys/fs/cgroup/frompolicy/memory.high' >"$T/out" 2>"$T/err"
rc=$?
expect "exit" $rc 0 && expect "limits" "$(tr '\n' ' ' <"$T/out")" "67108864 50331648 " && no_group frompolicy && pass

begin "a reload changes memory-max and memory-high of the running group; the command line's stay"
L=$T/limits
mkdir -p "$L"
printf '[defaults]\nmemory-max = 128M\nmemory-high = 100M\n' >"$L/memgov.ini"
"$MEMGOV" run --config-dir "$L" --name livelim -- sleep 60 >"$T/out" 2>"$T/err" &
pid=$!
wait_group() { for _ in $(seq 300); do [ -e "$CG/$1/memory.max" ] && return 0; sleep 0.1; done; return 1; }
wait_group livelim
before=$(cat $CG/livelim/memory.max $CG/livelim/memory.high | tr '\n' ' ')
printf '[defaults]\nmemory-max = 96M\nmemory-high = 64M\n' >"$L/memgov.ini"
kill -HUP $pid
wait_for "$T/err" "Limits of .* now memory.max=96M memory.high=64M" >/dev/null
after=$(cat $CG/livelim/memory.max $CG/livelim/memory.high | tr '\n' ' ')
kill -TERM $pid
wait $pid
"$MEMGOV" run --config-dir "$L" --memory-max 200M --name livelim2 -- sleep 60 >"$T/out" 2>"$T/err2" &
pid=$!
wait_group livelim2
printf '[defaults]\nmemory-max = 80M\nmemory-high = 48M\n' >"$L/memgov.ini"
kill -HUP $pid
wait_for "$T/err2" "Limits of .* now" >/dev/null
mixed=$(cat $CG/livelim2/memory.max $CG/livelim2/memory.high | tr '\n' ' ')
kill -TERM $pid
wait $pid
expect "before" "$before" "134217728 104857600 " && expect "after the reload" "$after" "100663296 67108864 " &&
        expect "--memory-max kept, memory-high from the file" "$mixed" "209715200 50331648 " &&
        no_group livelim && no_group livelim2 && pass

begin "reload under load: a larger headroom brings the target down at once"
"$MEMGOV" run -v --config-dir "$P" --memory-max 256M --name reload -- "$WORKLOAD" resize --for 60s \
        >"$T/out" 2>"$T/err" &
pid=$!
if ! wait_for "$T/out" "^low" || ! wait_for "$T/err" "rule=target-initial"; then
        fail "the workload never started or no initial target"
        kill -9 $pid
        finish run-reload.sh
        exit
fi
before=$(last_decision "target=" | field target)
before_headroom=$(last_decision "target=" | field headroom)
sleep 1
printf '[defaults]\nheadroom = 30%%\n' >"$P/memgov.ini"
kill -HUP $pid
if wait_for "$T/err" "Policy reloaded"; then
        d=$(decision_after "$(grep -n "Policy reloaded" "$T/err" | head -1 | cut -d: -f1)")
        after=$(echo "$d" | field target)
        # 5% and 30% of 256M; the target falls by the difference, less what the heap did meanwhile.
        if [ -z "$d" ]; then
                fail "no decision after the reload"
        elif expect "headroom before" "$before_headroom" "12.8M" &&
                expect "headroom after" "$(echo "$d" | field headroom)" "76.8M" &&
                expect_grep "reload notice" "$T/err" "Policy: headroom 5% -> 30%"; then
                if [ "$(mib "$after")" -lt $(($(mib "$before") - 40)) ]; then
                        pass "target $before -> $after"
                else
                        fail "target $before -> $after: want at least 40M lower"
                fi
        fi
else
        fail "the reload was not done"
fi
[ "$failed" -gt 0 ] && explain_failure

begin "a broken drop-in is refused whole, with its reason, and the running policy stays"
printf '[defaults]\nheadroom = 10%%\nwindow = soon\n' >"$P/conf.d/90-broken.ini"
kill -HUP $pid
if wait_for "$T/err" "keeping the policy in force"; then
        # The law must still use 30%: lower the limit (well above usage, so the write cannot block in
        # reclaim) and read the headroom of the decision that follows. 10%, the broken file's valid line,
        # would show as 22.4M. The step is large (the goal falls by about 23M) so that the decision cannot
        # hide in the deadband while the heap's unseen share drifts (a 8M step did once, on a slow CI).
        dir=$(find $CG -maxdepth 2 -name "reload" -type d | head -1)
        n=$(wc -l <"$T/err")
        t0=$(date +%s%N)
        timeout 10 sh -c "echo $((224 << 20)) >$dir/memory.max" || echo "#   writing memory.max failed"
        echo "#   memory.max written in $((($(date +%s%N) - t0) / 1000000))ms (current $(cat "$dir/memory.current"))"
        d=$(decision_after "$n" "limit=224M")
        if [ -n "$d" ]; then
                expect_grep "reason" "$T/err" "90-broken.ini:3: window: 'soon': expected a number with a unit" &&
                        expect "headroom after the broken reload" "$(echo "$d" | field headroom)" "67.2M" &&
                        pass "target $(echo "$d" | field target) with 30% of 224M as headroom"
        else
                fail "no decision after memory.max was lowered"
        fi
else
        fail "the broken reload was not refused"
fi
[ "$failed" -gt 0 ] && explain_failure

begin "the child completes, its Go runtime limit brought down by the reloaded policy"
wait $pid
rc=$?
limit=$(sed -n 's/^completed .*limit_mib=\([0-9]*\)$/\1/p' "$T/out")
# With 30% headroom the target stays below 256M - 76.8M = 179.2M; with the 5% it started with, above 230M.
if [ $rc -eq 0 ] && [ -n "$limit" ] && [ "$limit" -lt 180 ]; then
        pass "the runtime's limit ended at ${limit}M"
else
        fail "exit $rc, final limit '${limit}'M (want 0 and below 180M)"
fi
no_group reload
finish run-reload.sh

#!/bin/bash
# The demo's main job, where cgroup v2 with the memory controller is available
# (scripts/demo runs it in the test VM when the host has none):
# the same Go cache server in the same 200M box, twice:
#   1. with no GC budget (GOMEMLIMIT=off, as a plain container launch would be);
#   2. with the budget memgov derives from the limit.
# Then what only memgov does: a Go program whose memory outside its heap jumps
# by 60M (bench/workload jump) in a 256M box, twice:
#   3. with a static GOMEMLIMIT at 90% of the limit (automemlimit's default);
#   4. under memgov, traced to TRACE_DIR/jump.jsonl for scripts/plot-trace.
# Usage: demo.sh MEMGOV CACHE_SERVER [WORKLOAD TRACE_DIR]
set -u
MEMGOV=$1
SERVER=$2
WORKLOAD=${3:-}
TRACE_DIR=${4:-}
LIMIT=200M

banner() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

banner "What memgov will do (memgov explain)"
"$MEMGOV" explain --memory-max $LIMIT --name demo -- "$SERVER"

banner "1. No GC budget: the heap grows to twice the live cache and hits memory.max"
GOMEMLIMIT=off "$MEMGOV" run --memory-max $LIMIT --name demo-static -- "$SERVER"
static=$?
echo "-> exit status $static"

banner "2. Under memgov: GOMEMLIMIT from the limit, the collector runs earlier"
"$MEMGOV" run --memory-max $LIMIT --name demo-memgov -- "$SERVER"
governed=$?
echo "-> exit status $governed"

outcome() { [ "$1" -eq 137 ] && echo "OOM-killed (137)" || { [ "$1" -eq 0 ] && echo "completed (0)" || echo "exit $1"; }; }
jump_static= jump_governed=0
if [ -n "$WORKLOAD" ]; then
        banner "3. 60M outside the heap at once, static GOMEMLIMIT at 90% of 256M: it cannot see it"
        # Not through memgov: a plain group, as a container with automemlimit's setting would have.
        group=/sys/fs/cgroup/demo-jump-static-$$
        mkdir "$group" && echo 256M >"$group/memory.max" && echo 1 >"$group/memory.oom.group"
        bash -c 'echo $$ >"$1/cgroup.procs" && exec env GOMEMLIMIT=$((256 * 1024 * 1024 * 9 / 10)) "$2" jump' \
                bash "$group" "$WORKLOAD" | tail -1
        jump_static=${PIPESTATUS[0]}
        rmdir "$group" 2>/dev/null
        echo "-> exit status $jump_static"

        banner "4. The same under memgov: the target follows what is outside the heap"
        "$MEMGOV" run --memory-max 256M --name demo-jump ${TRACE_DIR:+--trace "$TRACE_DIR/jump.jsonl"} -- \
                "$WORKLOAD" jump | tail -1
        jump_governed=${PIPESTATUS[0]}
        echo "-> exit status $jump_governed"
fi

banner "Outcome"
printf '  %-40s %s\n' "cache server, no GC budget:" "$(outcome $static)"
printf '  %-40s %s\n' "cache server, memgov run --memory-max $LIMIT:" "$(outcome $governed)"
if [ -n "$WORKLOAD" ]; then
        printf '  %-40s %s\n' "jump, static GOMEMLIMIT=90%:" "$(outcome $jump_static)"
        printf '  %-40s %s\n' "jump, memgov run --memory-max 256M:" "$(outcome $jump_governed)"
fi
[ $governed -eq 0 ] && [ $jump_governed -eq 0 ]

#!/bin/bash
# The demo's main job, where cgroup v2 with the memory controller is available
# (scripts/demo runs it in the test VM when the host has none):
# the same Go cache server in the same 200M box, twice:
#   1. with no GC budget (GOMEMLIMIT=off, as a plain container launch would be);
#   2. with the budget memgov derives from the limit.
# Usage: demo.sh MEMGOV CACHE_SERVER
set -u
MEMGOV=$1
SERVER=$2
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

banner "Outcome"
printf '  %-28s %s\n' "no GC budget:" "$([ $static -eq 137 ] && echo "OOM-killed (137)" || echo "exit $static")"
printf '  %-28s %s\n' "memgov run --memory-max $LIMIT:" "$([ $governed -eq 0 ] && echo "completed (0)" || echo "exit $governed")"
[ $governed -eq 0 ]

#!/bin/bash
# memgov's own cost when nothing happens, beside tini's, measured in the same
# VM at the same time (scripts/bench runs it there). Three supervisors idle at
# once, each over a sleeping child:
#   memgov      memgov run --memory-max 256M -- sleep (a C program: the
#               preloaded C agent connects)
#   memgov-go   memgov run --memory-max 256M -- the Go workload, idle, with the
#               Go agent connected (it reports stats every 8 s: the fault watch)
#   tini        tini -s -- sleep (-s: a subreaper, as it is when not PID 1)
# After a settling pause, for IDLE_SECS (default 60): the resident set and its
# anonymous part (Rss and Anonymous of /proc/PID/smaps_rollup, at the end: the
# page tables walked; /proc/PID/status's VmRSS and RssAnon are per-thread
# counters folded in lazily on 6.1, which proc(5) calls inaccurate, and read
# 20 KiB low for one memgov here), CPU time (/proc/PID/schedstat, ns, summed
# over threads: finer than the 10 ms ticks of /proc/PID/stat) and context
# switches (voluntary + involuntary, summed over threads): each is a wakeup.
# Usage: overhead.sh MEMGOV WORKLOAD OUTDIR
set -u
MEMGOV=$(realpath "$1")
WORKLOAD=$(realpath "$2")
OUT=$3
IDLE_SECS=${IDLE_SECS:-60}
SETTLE_SECS=${SETTLE_SECS:-5}
T=$(mktemp -d /tmp/overhead.XXXXXX)
unset GOMEMLIMIT GOGC
life=$((IDLE_SECS + SETTLE_SECS + 30))

"$MEMGOV" run -q --memory-max 256M --name idle-c -- sleep "$life" 2>"$T/err-c" &
pid_c=$!
"$MEMGOV" run -q --memory-max 256M --name idle-go -- "$WORKLOAD" idle 2>"$T/err-go" &
pid_go=$!
tini -s -- sleep "$life" &
pid_tini=$!

# cpu_ns PID: on-CPU time of all its threads.
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%d", s }'; }
# switches PID: context switches of all its threads.
switches() {
        cat /proc/"$1"/task/*/status 2>/dev/null |
                awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { s += $2 } END { printf "%d", s }'
}
rollup_kib() { awk -v k="$2:" '$1 == k { print $2 }' /proc/"$1"/smaps_rollup; }

sleep "$SETTLE_SECS"
declare -A c0 s0
for p in $pid_c $pid_go $pid_tini; do
        c0[$p]=$(cpu_ns "$p")
        s0[$p]=$(switches "$p")
done
t0=$(date +%s%N)
sleep "$IDLE_SECS"
t1=$(date +%s%N)
csv=$OUT/overhead.csv
echo "who,vmrss_kib,rssanon_kib,idle_secs,cpu_ns,cpu_percent,cpu_sec_per_hour,wakeups_per_sec" >"$csv"
for row in "memgov $pid_c" "memgov-go $pid_go" "tini $pid_tini"; do
        read -r who p <<<"$row"
        if ! [ -d /proc/"$p" ]; then
                echo "overhead.sh: $who ($p) is gone" >&2
                cat "$T"/err-* >&2
                continue
        fi
        cpu=$(($(cpu_ns "$p") - c0[$p]))
        sw=$(($(switches "$p") - s0[$p]))
        awk -v who="$who" -v rss="$(rollup_kib "$p" Rss)" -v anon="$(rollup_kib "$p" Anonymous)" \
                -v ns="$((t1 - t0))" -v cpu="$cpu" -v sw="$sw" 'BEGIN {
                secs = ns / 1e9
                printf "%s,%s,%s,%.1f,%d,%.5f,%.3f,%.3f\n", who, rss, anon, secs, cpu, 100 * cpu / ns, cpu / 1e9 * 3600 / secs, sw / secs
        }' >>"$csv"
done
cat "$csv"
kill -TERM $pid_c $pid_go $pid_tini 2>/dev/null
wait
rm -rf "$T"

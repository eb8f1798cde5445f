#!/bin/bash
# The JVM's memory outside its heap (docs/runtimes.md, "The JVM's launch reserve"), measured inside the
# test VM: the benchmark's steady shape (bench/workload/Bench.java) in a group of memory.max=G, with
# -Xms=-Xmx=G/2 and -XX:+AlwaysPreTouch: the whole heap is touched from the start, so the heap charged to
# the group is exactly G/2, and neither the heap limit nor the group bounds the run. The live set is a
# quarter of the group (an eighth with G1). A thread in the JVM (-Dbench.sample=true) samples memory.current
# and anon; at exit it prints them and memory.peak against the heap. Outside the heap = memory.peak - G/2.
# Each collector in GCS ("default": the JVM's own choice, Serial in the VM, which is not a "server class
# machine"). With NMT=1 the runs print NMT's summary at exit (NMT costs memory of its own: its figures are
# for the breakdown, not the totals). The files the JVM maps are read from the root group first, so the
# group is charged with the JVM's own memory only.
#   flock /tmp/memgov-vm.lock tests/vm/vmrun --tcg-thread single --timeout 900 -- \
#       bench/jvm-overhead.sh BENCH_CLASS_DIR JAVA_HOME...
set -u
[ -w /sys/fs/cgroup/cgroup.procs ] && grep -q memgov.vmrun=1 /proc/cmdline || {
        echo "jvm-overhead.sh: runs inside the test VM only (tests/vm/vmrun)" >&2
        exit 2
}
CP=$(realpath "$1")
shift
WORK=${WORK:-300}
SIZES=${SIZES:-256 384 512}
unset JAVA_TOOL_OPTIONS
T=$(mktemp -d /tmp/jvm-overhead.XXXXXX)

# in_group MIB CMD...
. "$(dirname "$0")/in-group.sh"

for home in "$@"; do
        java=$home/bin/java
        version=$("$java" -version 2>&1 | head -1)
        # prewarm: the pages of every file the JVM maps, read from the root group
        "$java" -cp "$CP" Bench steady -live 1 -work 50 >/dev/null &
        sleep 3
        awk '$6 ~ /^\// {print $6}' "/proc/$!/maps" | sort -u | xargs -r cat >/dev/null
        wait
        nmt=()
        [ "${NMT:-0}" = 1 ] && nmt=(-XX:NativeMemoryTracking=summary -XX:+UnlockDiagnosticVMOptions -XX:+PrintNMTStatistics)
        for gc in ${GCS:-default G1}; do for g in $SIZES; do
                live=$((g / 4))
                # G1's regions are 1M for these heaps: a 1M array takes two (humongous), so a live set of
                # 1M arrays needs twice its size in heap.
                [ "$gc" = G1 ] && live=$((g / 8))
                heap=(-Xms$((g / 2))m -Xmx$((g / 2))m -XX:+AlwaysPreTouch)
                [ "$gc" = default ] || heap+=(-XX:+Use${gc}GC)
                start=$(date +%s%N)
                in_group "$g" "$java" "${nmt[@]}" "${heap[@]}" -Dbench.sample=true -cp "$CP" Bench steady \
                        -live "$live" -work "$WORK" >"$T/out" 2>"$T/err"
                rc=$?
                echo "java $version $gc group ${g}M -Xmx$((g / 2))m live ${live}M work ${WORK}: exit $rc," \
                        "$((($(date +%s%N) - start) / 1000000)) ms, $(grep -h '^overhead\|OutOfMemoryError' "$T/err" "$T/out" | head -2 | tr '\n' ' ')"
                [ "${NMT:-0}" = 1 ] && grep -E '^(Total|-  *[A-Z][A-Za-z ]+ \(reserved)' "$T/out" | sed 's/^/  nmt: /'
        done; done
done
rm -rf "$T"

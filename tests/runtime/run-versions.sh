#!/bin/bash
# The runtime versions users run, under memgov inside the test VM (tests/vm/vmrun): Node 20 (the machine's
# node) and a current Node (24, from scripts/deps), and Temurin 25 beside the JDK 17 that vm.runtime
# mostly uses; on 25, SoftMaxHeapSize applied from memgov's target with ZGC and Shenandoah. For each Node: memgov's launch flags are what docs/runtimes.md documents and the heap V8
# takes; the agent connects; a user's --max-old-space-size-percentage is kept; and the benchmark's steady
# shape that Node's own default completes (140M live in 256M) completes under memgov too.
# Usage: run-versions.sh MEMGOV NODE-CURRENT JAVA25
set -u
MEMGOV=$(realpath "$1")
NODE_CURRENT=${2:-}
JAVA25=${3:-}
CG=/sys/fs/cgroup
T=$(mktemp -d /tmp/versions.XXXXXX)
HERE=$(dirname "$(realpath "$0")")
BENCH=$HERE/../../bench/workload/bench.js
. "$HERE/../lib/harness.sh"
require_cgroup2 run-versions.sh
NODE20=$(command -v node)
HEAP_LIMIT='console.log(require("v8").getHeapStatistics().heap_size_limit)'

# The page cache of node's files is charged to the root group first, as after the benchmark's warm-up run
# (run-runtime.sh's prewarm, docs/runtimes.md): the test's groups hold node's own memory.
prewarm() { # NODE
        "$1" -e 'setTimeout(() => {}, 3000)' &
        local pid=$! i
        for ((i = 0; i < 300; i++)); do
                grep -q libc "/proc/$pid/maps" 2>/dev/null && break
                sleep 0.1
        done
        awk '$6 ~ /^\// {print $6}' "/proc/$pid/maps" | sort -u | xargs -r cat >/dev/null
        wait "$pid"
}

cat >"$T/agent-check.js" <<'JS'
process.on('memory-pressure', (level, info) => console.log(`event ${info.source} level=${level}`));
setTimeout(() => console.log(`agent=${!!global[Symbol.for('memgov.agent')]}`), 3000);
JS

node_checks() { # NODE
        local node=$1 v
        v=$("$node" --version)
        prewarm "$node"

        # docs/runtimes.md: in 256M, old space 256 - (32 + 12.8) = 211M and a 1M semi-space; V8's
        # heap_size_limit is the old space plus three semi-spaces (two and the new large-object space).
        begin "node $v: memgov's launch flags in 256M, and the heap V8 takes from them"
        "$MEMGOV" explain --memory-max 256M -- "$node" >"$T/explain" 2>&1
        # The VM has 1G: node's own default old space (about 256M) and what it keeps outside pass 256M.
        if expect_grep planned "$T/explain" "NODE_OPTIONS=--max-old-space-size=211 --max-semi-space-size=1 --require /" &&
                expect_grep "default noted" "$T/explain" "note: node's own default old space here is 256" &&
                expect_grep "default above the group" "$T/explain" "above memory.max 256"; then
                mg run --memory-max 256M -- "$node" -e "$HEAP_LIMIT"
                expect "exit" $? 0 && expect "heap_size_limit" "$(tail -1 "$T/out")" $(((211 + 3) << 20)) &&
                        pass "heap_size_limit $(tail -1 "$T/out")"
        fi

        begin "node $v: the agent is injected and connects"
        mg run -v --memory-max 256M -- "$node" "$T/agent-check.js"
        expect "exit" $? 0 && expect_grep connected "$T/err" "Agent [0-9]+ connected: node $v, pid [0-9]+" &&
                expect_grep applied "$T/err" "Agent [0-9]+ applied target [0-9]+" &&
                expect_grep loaded "$T/out" "^agent=true$" && pass

        begin "node $v: a user's --max-old-space-size-percentage is kept, and no --max-old-space-size added"
        NODE_OPTIONS=--max-old-space-size-percentage=50 mg run -v --memory-max 256M -- "$node" -e "$HEAP_LIMIT"
        local rc=$? direct
        expect_grep kept "$T/err" "NODE_OPTIONS: kept yours and added what was missing: --max-old-space-size-percentage=50 --require /[^ ]*memgov-agent\.js\"?$" || return
        case $v in
        v20.*)
                # Node 20 does not know the flag and refuses it in NODE_OPTIONS, as without memgov.
                expect "exit" $rc 9 && expect_grep refused "$T/err" "max-old-space-size-percentage= is not allowed in NODE_OPTIONS" &&
                        pass "node refuses it (exit 9), as it does without memgov"
                ;;
        *)
                direct=$(NODE_OPTIONS= "$MEMGOV" run --runtime none --memory-max 256M -- "$node" --max-old-space-size-percentage=50 -e "$HEAP_LIMIT")
                expect "exit" $rc 0 && expect "heap_size_limit" "$(tail -1 "$T/out")" "$direct" &&
                        pass "heap_size_limit $direct, as node gives itself for 50% in the same group"
                ;;
        esac

        # issue 18: never worse than the runtime's default. bench/matrix.sh's node steady cell.
        begin "node $v: 140M live in 256M completes with node's default, under memgov, and with --no-agent"
        local how out=""
        for how in "--runtime none" --no-agent ""; do
                # shellcheck disable=SC2086
                mg run $how --memory-max 256M -- "$node" "$BENCH" steady -live 140 -work 600
                rc=$?
                out="$out [${how:-agent}] exit $rc $(grep -oE 'wall_ms=[0-9]+|heap out of memory|OOM-killed' "$T/out" "$T/err" | head -1 | sed 's/.*://')"
                [ $rc -eq 0 ] && grep -q "^done work_mib=600 " "$T/out" || break
        done
        [ $rc -eq 0 ] && pass "$out" || fail "$out"
}

node_checks "$NODE20"
if [ -x "$NODE_CURRENT" ]; then
        node_checks "$NODE_CURRENT"
else
        begin "a current Node"
        fail "no current Node at '${NODE_CURRENT}': scripts/deps installs Node 24 into /usr/local/lib/memgov-node24"
fi

# --- JDK 25: the checks vm.runtime makes on JDK 17's heap flags ---------------
max_heap_size() { sed -n 's/.* MaxHeapSize *= *\([0-9]*\) .*/\1/p' "$T/out"; }
if [ -x "$JAVA25" ]; then
        begin "java 25: MaxHeapSize under memgov --memory-max 1G --memory-high 768M"
        xmx=$("$MEMGOV" explain --memory-max 1G --memory-high 768M -- "$JAVA25" | sed -n 's/.*JAVA_TOOL_OPTIONS=.*-Xmx\([0-9]*\)m.*/\1/p')
        mg run --memory-max 1G --memory-high 768M -- "$JAVA25" -XX:+PrintFlagsFinal -version
        expect "exit" $? 0 && [ -n "$xmx" ] && expect "MaxHeapSize" "$(max_heap_size)" $((xmx << 20)) &&
                pass "-Xmx${xmx}m"

        begin "java 25: the user's -Xmx is kept, MaxRAM still added"
        JAVA_TOOL_OPTIONS=-Xmx64m mg run --memory-max 512M -- "$JAVA25" -XX:+PrintFlagsFinal -version
        expect "exit" $? 0 && expect "MaxHeapSize" "$(max_heap_size)" $((64 << 20)) &&
                expect_grep "MaxRAM" "$T/out" " MaxRAM += 536870912 " && pass

        # issue 18: SoftMaxHeapSize, the lever ZGC and Shenandoah have on 25. memgov's target is below the
        # heap only where the user's -Xmx is above the budget (memgov's own -Xmx leaves the reserve out of
        # the heap), so the user gives -Xmx400m and memgov a budget of 256M (memory.high). The program
        # waits for the agent's listener to hear the target (the agent calls it after applying it), then
        # reads SoftMaxHeapSize back through the HotSpot MXBean. Where it should be applied, the target
        # printed is the one whose value was read: the first heard, or a later one (CI once read a second
        # target that had been applied after the first was heard).
        cat >"$T/SoftMax.java" <<'JAVA'
import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

public class SoftMax {
    public static void main(String[] a) throws Exception {
        ArrayBlockingQueue<Long> targets = new ArrayBlockingQueue<>(64);
        BiConsumer<String, Long> l = (level, bytes) -> {
            if (bytes != null && bytes >= 0) targets.offer(bytes);
        };
        Class.forName("io.memgov.agent.Agent").getMethod("onMemoryPressure", BiConsumer.class).invoke(null, l);
        Long target = targets.poll(120, TimeUnit.SECONDS);
        HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        // A later target may be applied between the first one heard and the read below. The value read
        // is then a later target's, and its listener call follows its apply: wait for that one.
        long soft = Long.parseLong(hs.getVMOption("SoftMaxHeapSize").getValue());
        while (a.length > 0 && a[0].equals("applied") && target != null && target != soft)
            target = targets.poll(120, TimeUnit.SECONDS);
        String gcs = "";
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans())
            gcs += (gcs.isEmpty() ? "" : ",") + b.getName().replace(' ', '_');
        System.out.println("target=" + target + " SoftMaxHeapSize=" + soft
                + " MaxHeapSize=" + hs.getVMOption("MaxHeapSize").getValue() + " gc=" + gcs);
    }
}
JAVA
        softmax_value() { grep -oE "(^| )$1=[0-9]+" "$T/out" | head -1 | cut -d= -f2; }
        for gc in ZGC ShenandoahGC G1GC; do
                begin "java 25, $gc: a target below the heap reaches the agent; SoftMaxHeapSize $([ $gc = G1GC ] && echo "left alone (G1)" || echo "applied and read back")"
                JAVA_TOOL_OPTIONS="-XX:+Use$gc -Xmx400m" mg run -v --memory-max 512M --memory-high 256M -- \
                        "$JAVA25" "$T/SoftMax.java" $([ $gc = G1GC ] || echo applied)
                rc=$?
                target=$(softmax_value target)
                soft=$(softmax_value SoftMaxHeapSize)
                max=$(softmax_value MaxHeapSize)
                expect "exit" $rc 0 && expect_grep connected "$T/err" "Agent [0-9]+ connected: java 25" &&
                        expect_grep "target heard" "$T/out" "^target=[0-9]+ " && expect "MaxHeapSize" "$max" $((400 << 20)) &&
                        [ "$target" -lt "$max" ] || {
                        fail "target '$target' not below MaxHeapSize '$max'; $(head -1 "$T/out")"
                        continue
                }
                if [ $gc = G1GC ]; then
                        # The agent sets SoftMaxHeapSize only for the collectors that read it (agents/java);
                        # G1 gets the free ratios, and the target is what the agent answers with.
                        expect "SoftMaxHeapSize (untouched)" "$soft" "$max" && pass "target $target, SoftMaxHeapSize $soft = MaxHeapSize"
                else
                        # memgov logs the agent's limit in tenths of a MiB, truncated (units_format_size_human).
                        expect "SoftMaxHeapSize" "$soft" "$target" &&
                                expect_grep "applied" "$T/err" "Agent [0-9]+ applied target [0-9]+ \(limit $(awk -v b="$soft" 'BEGIN { t = int(b / 104857); printf "%d.%dM", int(t / 10), t % 10 }')\)" &&
                                pass "target $target = SoftMaxHeapSize, MaxHeapSize $max"
                fi
        done
else
        begin "java 25"
        fail "no Temurin 25 at '$JAVA25'"
fi

finish versions

#!/bin/bash
# Evidence before death (issue 13), inside the test VM (tests/vm/vmrun): a Go
# child leaking into a map ends in "cannot fit" with a post-mortem naming a
# heap profile whose top function is the leak; the JVM's GC trace reaches the
# post-mortem as Go's does; a JVM writes an HPROF dump, Node a heap snapshot
# that is JSON, both on `memgov capture`; a capture is refused with the reason
# when the group has too little room; the disk budget removes the oldest of
# memgov's files and nothing else.
# Usage: run-capture.sh MEMGOV GO-WORKLOAD WORKDIR
set -u
MEMGOV=$(realpath "$1")
WORKLOAD=$(realpath "$2")
W=$(realpath "$3")
CG=/sys/fs/cgroup
T=$(mktemp -d /tmp/capture.XXXXXX)
. "$(dirname "$0")/../lib/harness.sh"
require_cgroup2 run-capture.sh
PPROF=$W/pprof # `go tool pprof`, built on the host (CMakeLists.txt)
export HOME=$T    # pprof keeps nothing, but wants a HOME

# wait_long FILE PATTERN SECONDS: as wait_for, for runtimes that start slowly under emulation.
wait_long() {
        for _ in $(seq $(($3 * 10))); do
                grep -qE -- "$2" "$1" 2>/dev/null && return 0
                sleep 0.1
        done
        return 1
}

# start NAME CAPTURE-DIR MEMGOV-OPTIONS... -- CMD...: memgov in the background, its pid in $mgpid.
start() {
        local name=$1 dir=$2
        shift 2
        "$MEMGOV" run -v --name "$name" --capture-dir "$dir" "$@" >"$T/out" 2>"$T/err" &
        mgpid=$!
}
stop() {
        kill -TERM "$mgpid" 2>/dev/null
        wait "$mgpid" 2>/dev/null
}

# --- Go: a map leak, "cannot fit", the profile in the post-mortem ------------

begin "go: after 'cannot fit' the post-mortem names a profile with the leaking function on top"
# The post-mortem says `go tool pprof -top FILE`; $PPROF is that tool.
# A leak of 1M/s past 130M in a 160M group: the law gives up (5 s of a live heap that cannot fit) while the
# group still has the little room a Go profile needs. A faster leak reaches the OOM killer first.
"$MEMGOV" run -v --memory-max 160M --on-cannot-fit kill --name cap-go --capture-dir "$T/go" -- \
        "$WORKLOAD" mapleak -fast-until 130 -slow 1 >"$T/out" 2>"$T/err"
rc=$?
profile=$(sed -n 's/.*captured on [a-z-]*: \(.*\.pprof\) (.*open with: go tool pprof -top \(.*\)$/\2/p' "$T/err" | tail -1)
if expect "exit" $rc 122 && expect_grep "post-mortem" "$T/err" "post-mortem: .* cannot fit" &&
        expect_grep "profile named" "$T/err" "captured on (critical|cannot-fit|heap-threshold): $T/go/memgov-cap-go-[0-9]+-.*\.pprof"; then
        if [ -z "$profile" ] || [ ! -s "$profile" ]; then
                fail "the post-mortem names no profile file that exists: '$profile'"
        else
                "$PPROF" -top "$profile" >"$T/pprof" 2>"$T/pprof.err"
                top=$(awk '/flat%/ { getline; print $NF; exit }' "$T/pprof")
                expect "pprof's top function" "$top" "main.leakIntoMap" &&
                        pass "$(basename "$profile"): $(grep -m1 leakIntoMap "$T/pprof" | tr -s ' ')"
        fi
fi
cp "$T/err" "$T/go.err"

begin "go: the GC trace sits under the memory.stat breakdown in the post-mortem"
expect_grep "gc trace" "$T/go.err" "gc trace \(the runtime's own view, oldest first\):" &&
        expect_grep "gc rows" "$T/go.err" "  -[0-9]+s gc #[0-9]+: heap goal [0-9.]+M, live heap [0-9.]+M, GC CPU" &&
        expect "order" "$(grep -A1 'last sample (' "$T/go.err" | tail -1 | grep -c 'gc trace')" 1 &&
        pass "$(grep -c ' gc #' "$T/go.err") rows"

# --- JVM: memgov capture writes an HPROF dump ---------------------------------

cat >"$W/Hold.java" <<'JAVA'
public class Hold {
    static byte[][] keep = new byte[32][];
    public static void main(String[] a) throws Exception {
        for (int i = 0; i < keep.length; i++) keep[i] = new byte[512 * 1024];
        System.out.println("holding");
        Thread.sleep(Long.parseLong(a[0]));
    }
}
JAVA
begin "java: memgov capture NAME writes a .hprof dump that starts with the HPROF header"
start cap-java "$T/java" --memory-max 384M -- java "$W/Hold.java" 240000
if wait_long "$T/err" "Agent [0-9]+ connected: java" 120; then
        "$MEMGOV" capture cap-java >"$T/capture.out" 2>"$T/capture.err"
        crc=$?
        wait_long "$T/err" "Captured .*\.hprof|Capture .* failed" 120
        hprof=$(ls "$T"/java/memgov-cap-java-*.hprof 2>/dev/null | head -1)
        if expect "memgov capture exit" $crc 0 && expect_grep answer "$T/capture.out" "^ok: capture on request: asking for a JVM heap dump .* into $T/java/" &&
                expect_grep logged "$T/err" "Captured $T/java/memgov-cap-java-.*\.hprof \([0-9]+ bytes\) on request" && [ -n "$hprof" ]; then
                expect "header" "$(head -c 18 "$hprof")" "JAVA PROFILE 1.0.2" && pass "$(basename "$hprof"), $(stat -c %s "$hprof") bytes"
        fi
else
        fail "the JVM agent did not connect within 120 s"
fi
stop

# --- JVM: its GC trace in the post-mortem -----------------------------------

# issue 18: the JVM agent's gc-cycle samples reach the post-mortem as Go's do. A heap that leaks 1M per 20M
# of garbage, with the user's -Xmx above the group (memgov keeps it and warns): the group, not the heap
# limit, ends it, by the OOM killer or memgov's cannot-fit, and either way memgov writes the post-mortem.
cat >"$W/Leak.java" <<'JAVA'
import java.util.ArrayList;
public class Leak {
    static byte[] sink;
    public static void main(String[] a) {
        ArrayList<byte[]> keep = new ArrayList<>();
        for (;;) {
            keep.add(new byte[1 << 20]);
            for (int i = 0; i < 320; i++) sink = new byte[64 << 10];
        }
    }
}
JAVA
begin "java: the GC trace the agent sends sits in the post-mortem"
JAVA_TOOL_OPTIONS=-Xmx1g timeout -s TERM 600 "$MEMGOV" run -v --memory-max 256M --on-cannot-fit kill -- \
        java "$W/Leak.java" >"$T/out" 2>"$T/err"
rc=$?
if expect_grep connected "$T/err" "Agent [0-9]+ connected: java" &&
        expect_grep "post-mortem" "$T/err" "post-mortem: .* (was OOM-killed|cannot fit)" &&
        expect_grep "gc trace" "$T/err" "gc trace \(the runtime's own view, oldest first\):" &&
        expect_grep "gc rows" "$T/err" "  -[0-9]+s gc #[0-9]+: heap goal [0-9.]+M, live heap [0-9.]+M, GC CPU"; then
        pass "exit $rc, $(grep -c ' gc #' "$T/err") rows, the last: $(grep ' gc #' "$T/err" | tail -1 | sed 's/^.*gc #/gc #/')"
fi

# --- Node: memgov capture writes a heap snapshot that is JSON -----------------

cat >"$W/hold.js" <<'JS'
const keep = [];
const mib = Number(process.argv[2] || 8);
for (let i = 0; i < mib * 16; i++) keep.push(new Array(8192).fill(i)); // ~64 KiB each
console.log('holding');
setTimeout(() => keep.length, 240000);
JS
begin "node: memgov capture PID writes a .heapsnapshot that parses as JSON"
start cap-node "$T/node" --memory-max 256M -- node "$W/hold.js" 8
if wait_long "$T/err" "Agent [0-9]+ connected: node" 60; then
        sleep 2 # a stats report, so memgov knows the live heap
        "$MEMGOV" capture "$mgpid" >"$T/capture.out" 2>"$T/capture.err"
        crc=$?
        wait_long "$T/err" "Captured .*\.heapsnapshot|Capture .* failed" 120
        snap=$(ls "$T"/node/memgov-cap-node-*.heapsnapshot 2>/dev/null | head -1)
        if expect "memgov capture exit" $crc 0 && expect_grep logged "$T/err" "Captured $T/node/.*\.heapsnapshot" && [ -n "$snap" ]; then
                if out=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["snapshot"]["node_count"], "nodes")' "$snap" 2>&1); then
                        pass "$(basename "$snap"): $out"
                else
                        fail "not JSON: $out"
                fi
        fi
else
        fail "the Node agent did not connect within 60 s"
fi
stop

# --- refused: too little headroom for a V8 snapshot ---------------------------

begin "node: a capture is refused, with the reason logged, when the headroom is below what it needs"
# 64M of live heap in a 144M group: the snapshot would need 16M plus the live heap again.
start cap-tight "$T/tight" --memory-max 144M --node-reserve 32M -- node "$W/hold.js" 64
if wait_long "$T/err" "Agent [0-9]+ connected: node" 60 && wait_long "$T/out" "holding" 60; then
        sleep 3
        "$MEMGOV" capture cap-tight >"$T/capture.out" 2>"$T/capture.err"
        crc=$?
        reason="capture on request refused: headroom [0-9.]+M is below the [0-9.]+M a V8 heap snapshot is expected to need"
        expect "memgov capture exit" $crc 1 && expect_grep answer "$T/capture.out" "^refused: $reason" &&
                expect_grep logged "$T/err" "$reason" &&
                expect "files" "$(ls "$T/tight" 2>/dev/null | wc -l)" 0 && pass "$(grep -oE 'headroom .*' "$T/capture.out")"
else
        fail "the Node agent did not connect, or the program did not start: $(tail -3 "$T/err")"
fi
stop

# --- the disk budget ------------------------------------------------------------

begin "go: the disk budget removes the oldest of memgov's captures first, and nothing else"
mkdir -p "$T/budget"
head -c 1572864 /dev/zero >"$T/budget/memgov-old-1.pprof"
head -c 1572864 /dev/zero >"$T/budget/memgov-old-2.pprof"
head -c 4194304 /dev/zero >"$T/budget/notes.txt"
touch -d '2 hours ago' "$T/budget/memgov-old-1.pprof"
touch -d '1 hour ago' "$T/budget/memgov-old-2.pprof"
# Budget 3M, a profile is expected at 1M: room is made before it by removing old-1 (the oldest) only.
start cap-budget "$T/budget" --memory-max 128M --capture-budget 3M -- "$WORKLOAD" hold -mib 8 -seconds 240
if wait_long "$T/err" "Agent [0-9]+ connected: go" 60; then
        "$MEMGOV" capture cap-budget >"$T/capture.out" 2>"$T/capture.err"
        crc=$?
        wait_long "$T/err" "Captured .*\.pprof|Capture .* failed" 60
        expect "memgov capture exit" $crc 0 && expect_grep removed "$T/err" "Removed $T/budget/memgov-old-1.pprof \(1572864 bytes\): the capture budget is 3145728 bytes, oldest first" &&
                expect "old-1 gone" "$(ls "$T/budget/memgov-old-1.pprof" 2>/dev/null | wc -l)" 0 &&
                expect "old-2 kept" "$(ls "$T/budget/memgov-old-2.pprof" | wc -l)" 1 &&
                expect "notes.txt kept (not ours)" "$(ls "$T/budget/notes.txt" | wc -l)" 1 &&
                expect "new profile" "$(ls "$T"/budget/memgov-cap-budget-*.pprof 2>/dev/null | wc -l)" 1 &&
                expect "removals" "$(grep -c 'Removed ' "$T/err")" 1 &&
                pass "$(ls "$T/budget" | tr '\n' ' ')"
else
        fail "the Go agent did not connect within 60 s"
fi
stop

begin "capture: a request for a governor that is not running names it"
"$MEMGOV" capture no-such-group >"$T/out" 2>"$T/err"
rc=$?
expect "exit" $rc 1 && expect_grep reason "$T/err" "capture: no running memgov named 'no-such-group'" && pass

finish run-capture.sh

#!/bin/bash
# Node's GC trace in the post-mortem (issue 18), inside the test VM (tests/vm/vmrun): a Node program whose
# live Buffers grow past a 192M group, with garbage collected as it goes, ends (memgov's cannot-fit kill or
# the kernel's OOM kill, whichever comes first) with a post-mortem whose gc trace has the agent's gc-cycle
# samples, and whose live heap counts the live Buffers.
# Usage: run-node-trace.sh MEMGOV NODE...   (each node in turn: Node 20 and the current Node)
set -u
MEMGOV=$(realpath "$1")
shift
CG=/sys/fs/cgroup
T=$(mktemp -d /tmp/node-trace.XXXXXX)
. "$(dirname "$0")/../lib/harness.sh"
require_cgroup2 run-node-trace.sh
export MEMGOV_LOG_FORMAT=text # the post-mortem read as lines; a file on stderr would get logfmt

cat >"$T/grow.js" <<'JS'
// 2 MiB of live Buffers and 4 MiB of garbage every 100 ms, until the end.
const held = [];
let sink;
let i = 0;
console.log('growing');
setInterval(() => {
  for (let k = 0; k < 2; k++) held.push(Buffer.allocUnsafe(1 << 20).fill(i++ & 0xff));
  for (let j = 0; j < 64; j++) sink = new Array(8192).fill(j);
}, 100);
JS
for NODE in "$@"; do
        if ! command -v "$NODE" >/dev/null; then
                begin "node: the gc trace with $NODE"
                fail "no node at '$NODE': scripts/deps installs Node 24 into /usr/local/lib/memgov-node24"
                continue
        fi
        # node's own files read from the root group first: charged to the group, the kernel would reclaim them at
        # memory.max again and again instead of ending the program (docs/runtimes.md).
        "$NODE" -e 0

        begin "$("$NODE" --version): the post-mortem has a gc trace from the agent's gc-cycle samples, the Buffers in its live heap"
        timeout -s KILL 300 "$MEMGOV" run -v --memory-max 192M --on-cannot-fit kill --capture off --name node-trace -- \
                "$NODE" "$T/grow.js" >"$T/out" 2>"$T/err"
        rc=$?
        echo "# $("$NODE" --version), exit $rc; $(grep -oE 'post-mortem: .*' "$T/err" | head -1 | cut -c1-120)"
        grep -A14 "gc trace" "$T/err" | grep -E "gc trace| gc #" | sed 's/^/#   /'
        rows=$(grep -cE '  -[0-9]+s gc #[0-9]+: heap goal [0-9.]+[KMG]?, live heap [0-9.]+[KMG]?, GC CPU [0-9]+\.[0-9]{2}%' "$T/err")
        last_live=$(grep -oE ' gc #[0-9]+: .*live heap [0-9.]+M' "$T/err" | tail -1 | sed 's/.*live heap \([0-9.]*\)M/\1/')
        if expect "the program ended (cannot-fit kill 122 or OOM kill 137)" "$(case $rc in 122 | 137) echo ended ;; *) echo "exit $rc" ;; esac)" ended &&
                expect_grep "agent" "$T/err" "Agent [0-9]+ connected: node" &&
                expect_grep "post-mortem" "$T/err" "post-mortem: .*(cannot fit|was OOM-killed)" &&
                expect_grep "gc trace" "$T/err" "gc trace \(the runtime's own view, oldest first\):" &&
                expect "gc rows, at least 2" "$([ "$rows" -ge 2 ] && echo yes || echo "$rows")" yes &&
                expect "the last row's live heap holds the Buffers (>= 64M)" \
                        "$(awk -v l="${last_live:-0}" 'BEGIN { print (l >= 64) ? "yes" : l "M" }')" yes; then
                pass "$rows rows, the last with ${last_live}M live"
        fi
done

finish run-node-trace.sh

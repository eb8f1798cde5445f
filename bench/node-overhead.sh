#!/bin/bash
# Node's memory outside its old-space limit (docs/runtimes.md, "Node's launch budget"), measured inside the
# test VM: the benchmark's steady shape (bench/workload/bench.js) in a group of memory.max=G with
# --max-old-space-size=G, so that the old space is not what bounds it, for a few live sizes. A sampler
# preloaded into node reads, between the workload's steps, the group's memory.current and anon and V8's old
# generation in use (old, code, map and large-object spaces: what --max-old-space-size bounds); at exit it
# prints memory.peak minus the largest old generation seen, and the largest current - old generation seen.
# The files node maps are read from the root group first (as after the benchmark's warm-up run), so the
# group is charged with node's own memory only.
#   flock /tmp/memgov-vm.lock tests/vm/vmrun --memory 1024 --tcg-thread single --timeout 600 -- \
#       bench/node-overhead.sh NODE...
set -u
[ -w /sys/fs/cgroup/cgroup.procs ] && grep -q memgov.vmrun=1 /proc/cmdline || {
        echo "node-overhead.sh: runs inside the test VM only (tests/vm/vmrun)" >&2
        exit 2
}
BENCH=$(dirname "$(realpath "$0")")/workload/bench.js
T=$(mktemp -d /tmp/node-overhead.XXXXXX)
WORK=${WORK:-300}
cat >"$T/sampler.js" <<'JS'
'use strict';
const fs = require('fs');
const v8 = require('v8');
const dir = '/sys/fs/cgroup' + fs.readFileSync('/proc/self/cgroup', 'utf8').trim().split('::')[1];
const oldSpaces = new Set(['old_space', 'code_space', 'map_space', 'large_object_space', 'code_large_object_space', 'trusted_space', 'trusted_large_object_space', 'shared_large_object_space']);
let maxOld = 0, maxOutside = 0, maxAnonOutside = 0, maxNew = 0;
function sample() {
  let old = 0, young = 0;
  for (const s of v8.getHeapSpaceStatistics()) {
    if (oldSpaces.has(s.space_name)) old += s.space_used_size;
    else if (s.space_name.startsWith('new')) young += s.space_size;
  }
  const cur = +fs.readFileSync(dir + '/memory.current', 'utf8');
  const anon = +/^anon (\d+)/m.exec(fs.readFileSync(dir + '/memory.stat', 'utf8'))[1];
  maxOld = Math.max(maxOld, old);
  maxNew = Math.max(maxNew, young);
  maxOutside = Math.max(maxOutside, cur - old);
  maxAnonOutside = Math.max(maxAnonOutside, anon - old);
}
setInterval(sample, 20).unref();
const M = (b) => (b / 1048576).toFixed(1);
process.on('exit', () => {
  sample();
  const peak = +fs.readFileSync(dir + '/memory.peak', 'utf8');
  const limit = v8.getHeapStatistics().heap_size_limit;
  console.error(`overhead peak_mib=${M(peak)} max_old_mib=${M(maxOld)} peak_minus_old_mib=${M(peak - maxOld)} ` +
    `max_current_minus_old_mib=${M(maxOutside)} max_anon_minus_old_mib=${M(maxAnonOutside)} ` +
    `max_young_committed_mib=${M(maxNew)} heap_size_limit_mib=${M(limit)}`);
});
JS

# in_group MIB CMD...
. "$(dirname "$0")/in-group.sh"

for node in "$@"; do
        version=$("$node" --version)
        # prewarm: the pages of every file node maps, read from the root group
        "$node" -e 'setTimeout(() => {}, 3000)' &
        sleep 1.5
        awk '$6 ~ /^\// {print $6}' "/proc/$!/maps" | sort -u | xargs -r cat >/dev/null
        wait
        for g in 128 256 512; do
                default=$(in_group "$g" "$node" -e 'console.log((require("v8").getHeapStatistics().heap_size_limit / 1048576).toFixed(1))')
                echo "node $version group ${g}M: default heap_size_limit ${default}M"
                for live in $((g / 4)) $((g / 2)); do
                        start=$(date +%s%N)
                        in_group "$g" "$node" --max-old-space-size="$g" -r "$T/sampler.js" "$BENCH" steady \
                                -live "$live" -work "$WORK" >"$T/out" 2>"$T/err"
                        rc=$?
                        echo "node $version group ${g}M live ${live}M work ${WORK}: exit $rc," \
                                "$((($(date +%s%N) - start) / 1000000)) ms, $(grep -h '^overhead\|out of memory' "$T/err" | head -2 | tr '\n' ' ')"
                done
        done
done
rm -rf "$T"

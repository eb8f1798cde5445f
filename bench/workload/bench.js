// The Node program of memgov's benchmark matrix (bench/matrix.sh): the steady
// and outside shapes of bench/workload/main.go, with the same options and the
// same lines on stdout. The data are JS arrays (V8's heap, not Buffers, which
// live outside it); outside memory is a file in a tmpfs (shmem pages V8 does
// not see). gc_cpu is the summed duration of V8's GC events over the process's
// CPU time: an approximation (durations are wall time).
//
// The native shape is Node's own: a live set of 64 KiB arrays of which -churn MiB
// are replaced per MiB of work (old-generation garbage, which only a full
// collection frees), while native memory grows next to it over the first half of
// the work (the second half runs with all of it): live Buffers (-kind buffer: Buffer.allocUnsafe, filled; V8 counts
// them as external memory) or a file in a tmpfs (-kind shm: V8 sees nothing).
// V8 lets such a heap reach about twice its live set before collecting, however
// close the group is to its limit.
'use strict';
const fs = require('fs');
const path = require('path');
const { PerformanceObserver } = require('perf_hooks');

const started = process.hrtime.bigint();
let printed = 0n;
let gcMs = 0;
let sink;
const h = []; // the live set, reachable to the end
const ring = []; // the native shape's live set
const natives = []; // the native shape's live Buffers
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

function gcCpu() {
  const u = process.cpuUsage();
  const cpuMs = (u.user + u.system) / 1000;
  return cpuMs > 0 ? Math.min(1, gcMs / cpuMs) : -1;
}
function progress(work) {
  const now = process.hrtime.bigint();
  if (now - printed < 250000000n) return;
  printed = now;
  console.log(`progress work_mib=${work} gc_cpu=${gcCpu().toFixed(4)}`);
}
function done(work) {
  const ms = Number((process.hrtime.bigint() - started) / 1000000n);
  console.log(`done work_mib=${work} gc_cpu=${gcCpu().toFixed(4)} wall_ms=${ms}`);
}
// One MiB of garbage: 16 arrays of 8192 numbers (64 KiB each).
function garbage(w) {
  for (let i = 0; i < 16; i++) sink = new Array(8192).fill(w + i);
}
function growTo(h, n) {
  while (h.length < n) h.push(new Array(131072).fill(h.length));
}
// How much of total the work done calls for: all of it at by% of the work.
function fraction(total, work, of, by) {
  return Math.min(total, Math.floor((total * work * 100) / (of * by)));
}
// Lets the GC observer's callbacks run.
const yieldNow = () => new Promise((resolve) => setImmediate(resolve));

async function main() {
  const [shape, ...rest] = process.argv.slice(2);
  const f = {};
  for (let i = 0; i + 1 < rest.length; i += 2) f[rest[i].replace(/^-+/, '')] = rest[i + 1];
  const num = (k, def) => (k in f ? parseInt(f[k], 10) : def);
  const work = num('work', 600);
  let out = -1;
  let file;
  let grown = 0;
  const total = num(shape === 'native' ? 'native' : 'outside', 120);
  const step = num('step', 5);
  const kind = f.kind || 'buffer';
  let at = 0;
  if (shape === 'native') {
    if (kind !== 'buffer' && kind !== 'shm') {
      console.error(`bench.js: -kind ${kind}: the native shape knows buffer and shm`);
      process.exit(64);
    }
    for (let i = 0; i < num('live', 60) * 16; i++) ring.push(new Array(8192).fill(i));
    if (kind === 'shm') {
      file = path.join(f.dir || '/dev/shm', `bench-shm-${process.pid}`);
      out = fs.openSync(file, 'w');
    }
  } else if (shape === 'outside') {
    growTo(h, num('live', 60));
    file = path.join(f.dir || '/dev/shm', `bench-shm-${process.pid}`);
    out = fs.openSync(file, 'w');
  } else if (shape !== 'steady') {
    console.error(`bench.js: unknown shape ${shape}`);
    process.exit(64);
  }
  const buf = Buffer.alloc(1 << 20, 1);
  for (let w = 0; w < work; w++) {
    if (shape === 'steady') growTo(h, fraction(num('live', 100), w, work, 60));
    else if (shape === 'native') {
      for (; grown < fraction(total, w, work, 50); grown++) {
        if (out >= 0) fs.writeSync(out, buf);
        else natives.push(Buffer.allocUnsafe(1 << 20).fill(grown & 0xff));
      }
      // Entries die after surviving scavenges: garbage in the old generation.
      for (let i = 0; i < num('churn', 1) * 16; i++, at = (at + 1) % ring.length) ring[at] = new Array(8192).fill(w + i);
    } else if (grown < fraction(total, w, work, 90)) {
      for (let i = 0; i < step; i++) fs.writeSync(out, buf);
      grown += step;
    }
    garbage(w);
    if (w % 16 === 0) await yieldNow();
    progress(w);
  }
  await yieldNow();
  done(work);
  if (file) fs.rmSync(file);
}
main();

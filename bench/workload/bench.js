// The Node program of memgov's benchmark matrix (bench/matrix.sh): the steady
// and outside shapes of bench/workload/main.go, with the same options and the
// same lines on stdout. The data are JS arrays (V8's heap, not Buffers, which
// live outside it); outside memory is a file in a tmpfs (shmem pages V8 does
// not see). gc_cpu is the summed duration of V8's GC events over the process's
// CPU time: an approximation (durations are wall time).
'use strict';
const fs = require('fs');
const path = require('path');
const { PerformanceObserver } = require('perf_hooks');

const started = process.hrtime.bigint();
let printed = 0n;
let gcMs = 0;
let sink;
const h = []; // the live set, reachable to the end
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
  const total = num('outside', 120);
  const step = num('step', 5);
  if (shape === 'outside') {
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
    else if (grown < fraction(total, w, work, 90)) {
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

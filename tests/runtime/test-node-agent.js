// SPDX-License-Identifier: MIT
// The Node agent's own behaviour, beyond what the protocol's conformance driver checks: played as memgov
// over MEMGOV_SOCKET against a real node that preloads the agent.
//   - the pressure event is 'memgov:pressure' (namespaced), and 'memory-pressure' still comes for the
//     listeners of earlier versions;
//   - heap_live_bytes counts the external memory that is live (Buffers) and is taken after full
//     collections only: perf_hooks' entry kinds are told apart (a scavenge is not a full collection);
//   - gc-cycle samples follow collections, with the same live bytes.
// Usage: node test-node-agent.js AGENT [NODE]
'use strict';
const assert = require('assert');
const { spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');
const { PerformanceObserver } = require('perf_hooks');
const v8 = require('v8');

const AGENT = path.resolve(process.argv[2] || path.join(__dirname, '../../agents/node/memgov-agent.js'));
const NODE = process.argv[3] || process.execPath;
const MIB = 1 << 20;
const HELD_MIB = 32;
// Waits for what must come are limits, not measures (tests/proto/conformance.py's SLACK).
const WAIT_MS = 10000 * Number(process.env.MEMGOV_TEST_SLACK || 4);

let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok' : 'FAIL'}: ${what}`);
  return ok;
}

// perf_hooks' classification, on this process's own collections: a forced full one and scavenges.
async function checkKinds() {
  const { isMajorGc } = require(AGENT); // without MEMGOV_FD or MEMGOV_SOCKET the agent does not start
  const kinds = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) kinds.push(isMajorGc(e));
  });
  obs.observe({ entryTypes: ['gc'] });
  v8.setFlagsFromString('--expose-gc');
  const gc = require('vm').runInNewContext('gc');
  let sink;
  for (let i = 0; i < 200000; i++) sink = { i, pad: new Array(8) }; // young garbage: scavenges
  gc();
  await new Promise((resolve) => setTimeout(resolve, 100));
  obs.disconnect();
  check(sink !== undefined && kinds.includes(true), `a forced collection is a full one (${kinds.length} entries)`);
  check(kinds.includes(false), 'a scavenge is not a full collection');
}

// The child: holds HELD_MIB of Buffers, prints each pressure event under each name, runs until killed.
const CHILD = `
const held = [];
for (let i = 0; i < ${HELD_MIB}; i++) held.push(Buffer.allocUnsafe(${MIB}).fill(i));
for (const name of ['memgov:pressure', 'memory-pressure'])
  process.on(name, (level, info) => console.log(\`event \${name} \${info.source} level=\${level}\${info.bytes !== undefined ? ' bytes=' + info.bytes : ''}\`));
console.log('ready ' + held.length);
setInterval(() => {}, 1 << 30);
`;

class Lines {
  constructor(stream) {
    this.buf = '';
    this.lines = [];
    this.waiters = [];
    stream.setEncoding('utf8');
    stream.on('data', (d) => {
      this.buf += d;
      let nl;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        this.lines.push(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 1);
      }
      this.waiters.forEach((w) => w());
    });
  }

  // The first line (consumed) that pred accepts, or null after WAIT_MS.
  next(pred) {
    return new Promise((resolve) => {
      const look = () => {
        const i = this.lines.findIndex(pred);
        if (i < 0) return false;
        const [line] = this.lines.splice(i, 1);
        done(line);
        return true;
      };
      const timer = setTimeout(() => done(null), WAIT_MS);
      const done = (v) => {
        clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== look);
        resolve(v);
      };
      if (!look()) this.waiters.push(look);
    });
  }
}

function fields(line) {
  const f = {};
  for (const tok of line.split(' ').slice(1)) {
    const eq = tok.indexOf('=');
    f[tok.slice(0, eq)] = tok.slice(eq + 1);
  }
  return f;
}

async function checkAgent() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'memgov-node-agent.'));
  const sock = path.join(dir, 'sock');
  let conn = null;
  const connected = new Promise((resolve) => {
    net.createServer((c) => {
      conn = c;
      resolve(c);
    }).listen(sock).unref();
  });
  const env = { ...process.env, MEMGOV_SOCKET: sock, MEMGOV_STATS_INTERVAL: '200ms' };
  delete env.MEMGOV_FD;
  delete env.NODE_OPTIONS;
  const child = spawn(NODE, ['--require', AGENT, '-e', CHILD], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const out = new Lines(child.stdout);
  try {
    const c = await Promise.race([connected, new Promise((r) => setTimeout(() => r(null), WAIT_MS))]);
    if (!check(c !== null, 'the agent connected over MEMGOV_SOCKET')) return;
    const msgs = new Lines(c);
    const hello = await msgs.next((l) => l.startsWith('hello '));
    check(hello && fields(hello).runtime === 'node', `hello: ${hello}`);
    c.write('welcome v=1\n');
    check((await out.next((l) => l.startsWith('ready '))) === `ready ${HELD_MIB}`, 'the child holds its Buffers');

    c.write('target seq=1 bytes=201326592 level=elevated\n');
    check((await msgs.next((l) => l.startsWith('applied '))) !== null, 'target applied');
    for (const name of ['memgov:pressure', 'memory-pressure']) {
      const e = await out.next((l) => l.startsWith(`event ${name} target`));
      check(e === `event ${name} target level=elevated bytes=201326592`, `${name} on a target: ${e}`);
    }
    c.write('shed seq=2 level=critical\n');
    for (const name of ['memgov:pressure', 'memory-pressure']) {
      const e = await out.next((l) => l.startsWith(`event ${name} shed`));
      check(e === `event ${name} shed level=critical`, `${name} on a shed: ${e}`);
    }

    // After a full collection the live bytes include the Buffers it kept, and no more than the total.
    msgs.lines.length = 0;
    c.write('gc seq=3\n');
    const cycle = await msgs.next((l) => l.startsWith('gc-cycle '));
    c.write('stats? seq=4\n');
    const st = await msgs.next((l) => l.startsWith('stats '));
    if (check(st !== null, 'stats after the gc')) {
      const f = fields(st);
      const live = Number(f.heap_live_bytes);
      check(live >= HELD_MIB * MIB, `heap_live_bytes ${live} counts the ${HELD_MIB} MiB of live Buffers`);
      check(live <= Number(f.total_bytes), `heap_live_bytes ${live} <= total_bytes ${f.total_bytes}`);
    }
    if (check(cycle !== null, 'a gc-cycle sample after the gc')) {
      const f = fields(cycle);
      check(Number(f.count) >= 1 && Number(f.heap_live_bytes) >= HELD_MIB * MIB,
        `gc-cycle count=${f.count} heap_live_bytes=${f.heap_live_bytes}`);
      check(Number(f.heap_goal_bytes) >= Number(f.heap_live_bytes),
        `gc-cycle heap_goal_bytes=${f.heap_goal_bytes} counts the external memory too`);
    }
  } finally {
    child.kill('SIGKILL');
    if (conn) conn.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

(async () => {
  await checkKinds();
  await checkAgent();
  console.log(`node-agent: ${passed} passed, ${failed} failed`);
  process.exit(failed || !passed ? 1 : 0);
})().catch((e) => {
  console.log(`FAIL: ${e && e.stack}`);
  process.exit(1);
});

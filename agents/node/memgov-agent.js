// SPDX-License-Identifier: MIT
//
// memgov's agent for Node.js: speaks docs/protocol.md with the memgov that
// runs this process. Loaded without code changes through
//
//     NODE_OPTIONS="--require /path/to/memgov-agent.js"
//
// which memgov adds itself when it detects node (docs/runtimes.md). Does
// nothing unless MEMGOV_FD or MEMGOV_SOCKET is set. Never keeps the event loop
// alive and never throws into the application: a protocol error closes the
// connection, and the program goes on.
//
// Node cannot change its heap limit at run time (--max-old-space-size is read
// at start), so a `target` is acknowledged with the target recorded, as the C
// agent does, kept to by collecting in full when the heap holds garbage above
// it, and passed on to the application as an event:
//
//     process.on('memgov:pressure', (level, info) => { ... })
//     // level: 'ok' | 'elevated' | 'critical'
//     // info:  { source: 'target', bytes: <number or Infinity> } or { source: 'shed' }
//
// No npm dependencies: only node's own modules.
'use strict';

const net = require('net');
const fs = require('fs');
const v8 = require('v8');
const { isMainThread } = require('worker_threads');

const PROTO_VERSION = 1;
const LINE_MAX = 4096;
const FIELDS_MAX = 32;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 30000;
// Reports after GC come at most this often, however many collections run (docs/protocol.md).
const REPORT_MIN_MS = 10;
// gc-cycle samples, which memgov keeps in a ring of 256 for the post-mortem: at most one a second.
const GC_CYCLE_MIN_MS = 1000;
// Keeping to a target (keepToTarget): a full collection of the agent's own only when the heap holds at least
// this much garbage above the last live heap (or an eighth of it), and at most a sixth of the time.
const TARGET_GARBAGE_MIN_BYTES = 4 * 1024 * 1024;
const TARGET_GC_SHARE = 5;
const SAFE = /^[A-Za-z0-9._~,:/+-]$/;
const TYPE_RE = /^[a-z][a-z0-9_-]*\??$/;
const KEY_RE = /^[a-z][a-z0-9_-]*$/;
const U64_RE = /^[0-9]+$/;
const U64_MAX = 18446744073709551615n;
const LEVELS = new Set(['ok', 'elevated', 'critical']);
const PRESSURE_EVENTS = ['memgov:pressure', 'memory-pressure'];

function log(msg) {
  try {
    process.stderr.write(`memgov-agent: ${msg}\n`);
  } catch (_) {
    // stderr closed: nothing to say it on.
  }
}

class Malformed extends Error {}

function encodeValue(s) {
  let out = '';
  for (const b of Buffer.from(String(s), 'utf8')) {
    const c = String.fromCharCode(b);
    out += SAFE.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

function decodeValue(raw) {
  const bytes = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (SAFE.test(c)) {
      bytes.push(c.charCodeAt(0));
      continue;
    }
    if (c !== '%' || !/^[0-9A-Fa-f]{2}$/.test(raw.substr(i + 1, 2)))
      throw new Malformed(c === '%' ? 'bad percent-encoding' : 'character not allowed in a value');
    const v = parseInt(raw.substr(i + 1, 2), 16);
    if (v === 0) throw new Malformed('%00 in a value');
    bytes.push(v);
    i += 2;
  }
  let s;
  try {
    s = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(bytes));
  } catch (_) {
    throw new Malformed('value is not UTF-8 text');
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(s)) throw new Malformed('value is not UTF-8 text');
  return s;
}

// One line without its newline (a Buffer) -> { type, fields }.
function parseLine(line) {
  if (line.length === 0) throw new Malformed('empty line');
  if (line.length >= LINE_MAX) throw new Malformed('line too long');
  for (const b of line) {
    if (b === 0) throw new Malformed('NUL byte');
    if (b >= 0x80) throw new Malformed('byte outside ASCII');
    if (b < 0x20 || b === 0x7f) throw new Malformed('control byte');
  }
  const tokens = line.toString('latin1').split(' ');
  const type = tokens[0];
  if (type.length > 32 || !TYPE_RE.test(type)) throw new Malformed('bad message type');
  const fields = new Map();
  for (const tok of tokens.slice(1)) {
    if (tok === '') throw new Malformed('empty token (two spaces, or a trailing space)');
    const eq = tok.indexOf('=');
    if (eq < 0) throw new Malformed("key without '='");
    const key = tok.slice(0, eq);
    if (key.length > 64 || !KEY_RE.test(key)) throw new Malformed('bad key');
    if (fields.has(key)) throw new Malformed('duplicate key');
    if (fields.size >= FIELDS_MAX) throw new Malformed('too many key=value pairs');
    fields.set(key, decodeValue(tok.slice(eq + 1)));
  }
  return { type, fields };
}

function required(m, key) {
  if (!m.fields.has(key)) throw new Malformed(`${m.type} without ${key}=`);
  return m.fields.get(key);
}

function u64(m, key) {
  const s = required(m, key);
  if (!U64_RE.test(s) || BigInt(s) > U64_MAX) throw new Malformed(`bad number in ${key}=`);
  return BigInt(s);
}

function limit(m, key) {
  return required(m, key) === 'max' ? 'max' : u64(m, key);
}

function level(m, key) {
  const l = required(m, key);
  if (!LEVELS.has(l)) throw new Malformed('bad level');
  return l;
}

// applied's at_us=: on Linux process.hrtime is CLOCK_MONOTONIC, memgov's clock, so memgov times a target to when
// the agent had it rather than to when its own loop read the answer (a stamp outside the send and the arrival is
// ignored, docs/protocol.md). Elsewhere there is none.
function appliedAt() {
  return process.platform === 'linux' ? ` at_us=${process.hrtime.bigint() / 1000n}` : '';
}

// MEMGOV_STATS_INTERVAL: "500ms", "2s", "1m" or bare seconds; default 1 s; 0 turns periodic stats off.
function statsIntervalMs(s) {
  if (s === undefined || s === '') return 1000;
  const m = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m)?$/.exec(s);
  if (!m) {
    log(`MEMGOV_STATS_INTERVAL=${s} is not a duration, using 1s`);
    return 1000;
  }
  const n = parseFloat(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60000 : n * 1000);
}

// A collector to run on gc and release: global.gc when node runs with --expose-gc; else one obtained
// from a fresh V8 context with the flag set just for that moment, so the application's global scope
// does not change.
function findGc() {
  if (typeof global.gc === 'function') return global.gc;
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = require('vm').runInNewContext('gc');
    v8.setFlagsFromString('--no-expose-gc');
    return typeof gc === 'function' ? gc : null;
  } catch (_) {
    return null;
  }
}

class Agent {
  constructor(env) {
    this.fd = env.MEMGOV_FD;
    this.path = env.MEMGOV_SOCKET;
    this.intervalMs = statsIntervalMs(env.MEMGOV_STATS_INTERVAL);
    this.gc = findGc();
    this.gcCount = 0;
    this.gcMs = 0;
    this.gcMsReported = 0;
    this.cpuReported = process.cpuUsage();
    this.liveBytes = null;
    this.lastReportMs = 0;
    this.reportTimer = null;
    this.cycle = { count: 0, atMs: 0, gcMs: 0, cpu: process.cpuUsage() };
    this.socket = null;
    this.timer = null;
    this.backoffMs = RECONNECT_MIN_MS;
    this.targetBytes = Infinity;
    this.ownGcAtMs = 0;
    this.ownGcMs = 0;
    this.observeGc();
  }

  observeGc() {
    try {
      const { PerformanceObserver } = require('perf_hooks');
      const obs = new PerformanceObserver((list) => {
        let major = false;
        for (const e of list.getEntries()) {
          this.gcCount++;
          this.gcMs += e.duration;
          major = major || isMajorGc(e);
        }
        // Right after a full collection, the used heap is the nearest to "live" node can tell. A scavenge
        // leaves the old generation's garbage in place: the used heap after one is not live, and taking it
        // for live made memgov believe a GC could free nothing (freeable ~0) and never ask for one.
        if (major) this.liveBytes = liveNow();
        this.keepToTarget();
        this.reportSoon();
      });
      obs.observe({ entryTypes: ['gc'] });
    } catch (e) {
      log(`cannot observe GC (${e.message}): no gc_count`);
    }
  }

  // Node's heap limit is fixed at start, but when it collects in full is not. After a collection, when
  // what node holds (total_bytes) is above memgov's target and the heap holds garbage, the agent collects
  // in full at once, as Go's runtime does under its memory limit, rather than a round trip later when
  // memgov asks: memory outside the heap (a tmpfs, native buffers) can fill the room in between. Spaced so
  // that these collections take at most a sixth of the time.
  keepToTarget() {
    if (!this.gc || !Number.isFinite(this.targetBytes)) return;
    const h = v8.getHeapStatistics();
    // V8's own count where it has one: process.memoryUsage() also reads the RSS from /proc, at every collection.
    const external = h.external_memory ?? process.memoryUsage().external;
    if (h.total_physical_size + external <= this.targetBytes) return;
    const live = this.liveBytes ?? 0;
    if (h.used_heap_size + external - live < Math.max(TARGET_GARBAGE_MIN_BYTES, live / 8)) return;
    const now = Date.now();
    if (now - this.ownGcAtMs < this.ownGcMs * TARGET_GC_SHARE) return;
    this.gc();
    this.ownGcAtMs = Date.now();
    this.ownGcMs = this.ownGcAtMs - now;
  }

  start() {
    if (this.fd !== undefined && this.fd !== '') {
      const fd = Number(this.fd);
      delete process.env.MEMGOV_FD; // programs this one starts must not believe they own it
      if (!Number.isInteger(fd) || fd < 0) {
        log(`MEMGOV_FD=${this.fd} is not a descriptor, ignoring it`);
        return;
      }
      let s;
      try {
        s = new net.Socket({ fd, readable: true, writable: true });
      } catch (e) {
        log(`MEMGOV_FD=${fd}: ${e.message}, ignoring it`);
        return;
      }
      this.serve(s, false);
    } else if (this.path) {
      this.connect();
    }
  }

  connect() {
    const s = net.createConnection(this.path);
    s.once('connect', () => {
      this.backoffMs = RECONNECT_MIN_MS;
    });
    this.serve(s, true);
  }

  reconnectLater() {
    const t = setTimeout(() => this.connect(), this.backoffMs);
    t.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, RECONNECT_MAX_MS);
  }

  serve(s, reconnect) {
    let buf = Buffer.alloc(0);
    let closed = false;
    this.socket = s;
    s.unref();
    s.setNoDelay?.(true);
    const done = () => {
      if (closed) return;
      closed = true;
      if (this.timer) clearInterval(this.timer);
      if (this.reportTimer) clearTimeout(this.reportTimer);
      this.timer = this.reportTimer = null;
      this.socket = null;
      if (reconnect && !this.stopping) this.reconnectLater();
    };
    s.on('error', (e) => {
      if (!reconnect || e.code !== 'ECONNREFUSED') log(`connection to memgov: ${e.message}`);
      s.destroy();
    });
    s.on('close', done);
    s.on('data', (chunk) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      let nl;
      while ((nl = buf.indexOf(0x0a)) >= 0) {
        const line = buf.subarray(0, nl);
        buf = buf.subarray(nl + 1);
        try {
          if (this.handle(parseLine(line), s)) {
            s.end();
            s.destroy();
            return;
          }
        } catch (e) {
          log(`${e instanceof Malformed ? 'malformed line from memgov: ' : ''}${e.message}, closing the connection`);
          s.destroy();
          return;
        }
      }
      if (buf.length >= LINE_MAX) {
        log(`line from memgov longer than ${LINE_MAX} bytes, closing the connection`);
        s.destroy();
      }
    });
    const caps = ['limit', 'shed', 'stats', 'capture'].concat(this.gc ? ['gc', 'release'] : []);
    this.send(s, `hello v=${PROTO_VERSION} runtime=node version=${encodeValue(process.version)} pid=${process.pid} caps=${caps.join(',')}`);
    if (this.intervalMs > 0) {
      // memgov steers an agent only once it has its stats: the first goes with the hello.
      this.report(s);
      this.timer = setInterval(() => {
        if (Date.now() - this.lastReportMs >= this.intervalMs) this.report(s);
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  // After a collection the heap's numbers have changed: report them, at most once per REPORT_MIN_MS.
  reportSoon() {
    const s = this.socket;
    if (!s || s.destroyed || this.intervalMs <= 0 || this.reportTimer) return;
    const wait = this.lastReportMs + REPORT_MIN_MS - Date.now();
    if (wait <= 0) {
      this.report(s);
      return;
    }
    this.reportTimer = setTimeout(() => {
      this.reportTimer = null;
      if (this.socket === s) this.report(s);
    }, wait);
    this.reportTimer.unref();
  }

  // A stats line, and a gc-cycle sample when collections ran since the last one and a second has passed.
  report(s) {
    this.lastReportMs = Date.now();
    this.send(s, this.statsLine());
    const c = this.cycle;
    if (this.gcCount === c.count || this.lastReportMs - c.atMs < GC_CYCLE_MIN_MS) return;
    const cpu = process.cpuUsage(c.cpu);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const frac = cpuMs > 0 ? Math.min(1, (this.gcMs - c.gcMs) / cpuMs) : 0;
    const h = v8.getHeapStatistics();
    // The committed heap with the external memory, as heap_live_bytes has it: the goal is never below the live.
    const goal = h.total_heap_size + process.memoryUsage().external;
    this.send(s, `gc-cycle count=${this.gcCount} heap_goal_bytes=${goal}` +
      ` heap_live_bytes=${Math.round(this.liveBytes ?? liveNow())} gc_cpu_fraction=${frac.toFixed(6)}`);
    this.cycle = { count: this.gcCount, atMs: this.lastReportMs, gcMs: this.gcMs, cpu: process.cpuUsage() };
  }

  send(s, line) {
    if (!s.destroyed) s.write(line + '\n');
  }

  statsLine() {
    const h = v8.getHeapStatistics();
    const mem = process.memoryUsage();
    const cpu = process.cpuUsage(this.cpuReported);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    const gcMs = this.gcMs - this.gcMsReported;
    this.cpuReported = process.cpuUsage();
    this.gcMsReported = this.gcMs;
    // What node holds from the OS: the V8 heap's committed pages plus memory outside it that V8
    // accounts (Buffers, ArrayBuffers: process.memoryUsage().external).
    const total = Math.max(1, Math.round(h.total_physical_size + mem.external));
    const live = this.liveBytes ?? h.used_heap_size + mem.external;
    const frac = cpuMs > 0 ? Math.min(1, gcMs / cpuMs) : 0;
    return (
      `stats total_bytes=${total} heap_live_bytes=${Math.round(live)} gc_count=${this.gcCount}` +
      ` gc_cpu_fraction=${frac.toFixed(6)} x-heap-size-limit=${h.heap_size_limit}` +
      ` x-used-heap-size=${h.used_heap_size} x-external=${mem.external}`
    );
  }

  // Returns true on bye.
  handle(m, s) {
    switch (m.type) {
      case 'welcome':
        if (u64(m, 'v') !== BigInt(PROTO_VERSION)) {
          this.send(s, 'bye reason=version');
          throw new Error(`memgov speaks protocol version ${m.fields.get('v')}, this agent ${PROTO_VERSION}`);
        }
        return false;
      case 'target': {
        const seq = u64(m, 'seq');
        const bytes = limit(m, 'bytes');
        const lvl = level(m, 'level');
        // Node's heap limit is fixed at start: the target is recorded, kept to by collecting in full
        // (keepToTarget()), and handed to the application.
        this.targetBytes = bytes === 'max' ? Infinity : Number(bytes);
        this.send(s, `applied seq=${seq} limit_bytes=${bytes}${appliedAt()} x-heap-size-limit=${v8.getHeapStatistics().heap_size_limit}`);
        this.emit(lvl, { source: 'target', bytes: bytes === 'max' ? Infinity : Number(bytes) });
        return false;
      }
      case 'gc':
      case 'release':
        if (this.gc) this.gc();
        return false;
      case 'shed':
        this.emit(level(m, 'level'), { source: 'shed' });
        return false;
      case 'stats?':
        this.report(s);
        return false;
      case 'capture':
        this.capture(m, s);
        return false;
      case 'bye':
        return true;
      default:
        return false; // from a newer memgov: ignored
    }
  }

  // A V8 heap snapshot (JSON) to the path memgov chose. What cannot be done is answered with error=,
  // naming the thing and the reason; the connection and the program go on.
  capture(m, s) {
    const seq = u64(m, 'seq');
    const path = m.fields.get('path');
    let why = checkCapture(m.fields.get('kind'), path);
    if (!why) {
      try {
        // 'wx' claims the name: a file that exists is somebody else's. writeHeapSnapshot then fills it.
        fs.closeSync(fs.openSync(path, 'wx', 0o600));
        v8.writeHeapSnapshot(path);
        this.send(s, `captured seq=${seq} path=${encodeValue(path)} bytes=${fs.statSync(path).size}`);
        return;
      } catch (e) {
        why = `writeHeapSnapshot ${path}: ${e && e.message}`;
      }
    }
    this.send(s, `captured seq=${seq} error=${encodeValue(why)}`);
  }

  // 'memgov:pressure' is the event's name, namespaced so that it cannot meet another library's;
  // 'memory-pressure' is the name of earlier versions, still emitted for their listeners.
  emit(lvl, info) {
    for (const name of PRESSURE_EVENTS) {
      try {
        process.emit(name, lvl, { ...info });
      } catch (e) {
        log(`a ${name} listener threw: ${e && e.stack ? e.stack : e}`);
      }
    }
  }
}

// What is wrong with a capture request (docs/protocol.md, "Captures"), or null.
function checkCapture(kind, path) {
  if (!kind) return 'capture kind missing';
  if (kind !== 'heap') return `unknown capture kind '${kind}' (only heap is known)`;
  if (!path) return 'capture path missing';
  if (!path.startsWith('/')) return `capture path '${path}' not absolute`;
  if (path.length > 1024) return 'capture path longer than 1024 bytes';
  if (path.endsWith('/')) return `capture path '${path}' names a directory`;
  if (path.split('/').some((c) => c === '.' || c === '..')) return `capture path '${path}' with a . or .. component`;
  return null;
}

// A full collection (mark-compact) in a perf_hooks 'gc' entry: entry.detail.kind since Node 16, entry.kind before.
function isMajorGc(e) {
  const kind = e.detail ? e.detail.kind : e.kind;
  return kind === require('perf_hooks').constants.NODE_PERFORMANCE_GC_MAJOR;
}

// What is live after a full collection: the used heap, and the external memory (Buffers, ArrayBuffers) that
// survived it, since total_bytes counts external memory too and memgov takes total - live as what a GC frees.
function liveNow() {
  return v8.getHeapStatistics().used_heap_size + process.memoryUsage().external;
}

function main() {
  if (!isMainThread || global[Symbol.for('memgov.agent')]) return;
  const env = process.env;
  if (!env.MEMGOV_FD && !env.MEMGOV_SOCKET) return;
  const agent = new Agent(env);
  global[Symbol.for('memgov.agent')] = agent;
  agent.start();
}

try {
  main();
} catch (e) {
  log(`not started: ${e && e.message}`);
}

module.exports = { parseLine, encodeValue, decodeValue, Malformed, checkCapture, isMajorGc, PRESSURE_EVENTS };

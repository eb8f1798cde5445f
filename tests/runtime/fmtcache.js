// A server-like loop for vm.runtime: each "request" formats a time with an Intl.DateTimeFormat taken from
// a small LRU cache keyed by time zone and options, as servers cache formatters. Each formatter holds
// about 16-29K of ICU memory that V8 does not count (not even as external) against 0.7K of heap, so the
// evicted ones are old-generation garbage that V8 has no reason to collect: the heap hardly grows while
// the cgroup's charge climbs. Only a full GC frees that memory (the formatters' finalizers).
// Usage: node fmtcache.js TOTAL CACHE-SIZE PER-TICK
'use strict';
const v8 = require('v8');
const zones = Intl.supportedValuesOf('timeZone');
const total = +process.argv[2] || 30000, cacheSize = +process.argv[3] || 1000, perTick = +process.argv[4] || 200;
const cache = new Map();
let made = 0, chars = 0, i = 0, peakRss = 0;

function formatter(k) {
  let f = cache.get(k);
  if (f) {
    cache.delete(k);
    cache.set(k, f);
    return f;
  }
  f = new Intl.DateTimeFormat('en-US', {
    timeZone: zones[k % zones.length], hour: 'numeric', minute: '2-digit',
    second: k % 7 ? '2-digit' : undefined, hour12: (k >> 3) % 2 == 0,
  });
  made++;
  cache.set(k, f);
  if (cache.size > cacheSize) cache.delete(cache.keys().next().value);
  return f;
}

function tick() {
  for (let j = 0; j < perTick && i < total; j++, i++) chars += formatter((i * 7919) % 100000).format(i).length;
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
  if (i < total) setImmediate(tick); // requests arrive between event-loop turns
  else console.log(`done made=${made} chars=${chars} peak_rss=${Math.round(peakRss / 1048576)}M heap=${Math.round(v8.getHeapStatistics().total_physical_size / 1048576)}M`);
}
tick();

// SPDX-License-Identifier: MIT
// memgov-agent-demo-node: the smallest Node program under memgov, for the
// conformance driver (tests/proto/conformance.py). Run it with the agent
// preloaded:  node --require ./memgov-agent.js demo.js
// It reports the agent's events on standard output and runs until SIGTERM.
'use strict';

process.on('memgov:pressure', (level, info) => {
  if (info.source === 'target')
    console.log(`event target bytes=${info.bytes === Infinity ? 'max' : info.bytes} level=${level}`);
  else console.log(`event shed level=${level}`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));

// Something for gc and release to collect.
let garbage = [];
for (let i = 0; i < 1000; i++) garbage.push(new Array(1000).fill(i));
garbage = null;

const running = !!global[Symbol.for('memgov.agent')];
console.log(`ready agent=${running ? 'running' : 'off'}`);
setInterval(() => {}, 1 << 30); // the demo, not the agent, keeps the process alive

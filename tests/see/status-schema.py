#!/usr/bin/env python3
"""Checks `memgov status --json` output against the schema of docs/status.md.
Usage: status-schema.py FILE [--agent] [--decisions]  (FILE: one object, or an array of them)
--agent: at least one agent with stats; --decisions: at least one decision."""
import json
import sys

NUM = (int, float)
SIZE = (int, type(None))
ACTIONS = {"lower-target", "raise-target", "gc", "release", "reclaim", "shed", "cannot-fit", "kill", "set-high"}
LEVELS = {"ok", "elevated", "critical"}


def want(obj, key, types, where):
    if key not in obj:
        sys.exit("%s: no '%s'" % (where, key))
    v = obj[key]
    if (isinstance(v, bool) and types is not bool) or not isinstance(v, types):
        sys.exit("%s: '%s' is %r" % (where, key, obj[key]))
    return obj[key]


def check(s, need_agent, need_decisions):
    want(s, "memgov_pid", int, "status")
    want(s, "child_pid", int, "status")
    for k in ("name", "program", "cgroup"):
        want(s, k, str, "status")
    want(s, "uptime_seconds", NUM, "status")
    lim = want(s, "limits", dict, "status")
    for k in ("max_bytes", "high_bytes"):
        want(lim, k, SIZE, "limits")
    mem = want(s, "memory", dict, "status")
    for k in ("current_bytes", "peak_bytes", "anon_bytes", "file_bytes", "shmem_bytes", "kernel_bytes"):
        want(mem, k, SIZE, "memory")
    ev = want(s, "events", dict, "status")
    for k in ("high", "max", "oom", "oom_kill"):
        want(ev, k, int, "events")
    pr = want(s, "pressure", dict, "status")
    if want(pr, "level", str, "pressure") not in LEVELS:
        sys.exit("pressure.level %r" % pr["level"])
    for k in ("some_avg10", "full_avg10"):
        if k in pr and not 0 <= pr[k] <= 1:
            sys.exit("pressure.%s %r" % (k, pr[k]))
    want(s, "gc_target_bytes", SIZE, "status")
    want(s, "cannot_fit", bool, "status")
    want(s, "steps", int, "status")
    want(s, "agents_connected", int, "status")
    agents = want(s, "agents", list, "status")
    for a in agents:
        want(a, "id", int, "agent")
        want(a, "pid", int, "agent")
        want(a, "runtime", str, "agent")
        want(a, "version", str, "agent")
        want(a, "target_bytes", SIZE, "agent")
        want(a, "applied_limit_bytes", SIZE, "agent")
        if "total_bytes" in a:
            for k in ("total_bytes", "heap_live_bytes", "gc_count"):
                want(a, k, int, "agent")
            want(a, "gc_cpu_ratio", NUM, "agent")
    if need_agent and not any("total_bytes" in a for a in agents):
        sys.exit("no agent with stats")
    decisions = want(s, "decisions", list, "status")
    for d in decisions:
        want(d, "t", NUM, "decision")
        want(d, "rule", str, "decision")
        if want(d, "level", str, "decision") not in LEVELS:
            sys.exit("decision level %r" % d["level"])
        acts = want(d, "actions", list, "decision")
        if not set(acts) <= ACTIONS:
            sys.exit("unknown actions %r" % acts)
        want(d, "target_bytes", SIZE, "decision")
    if need_decisions and not decisions:
        sys.exit("no decisions")


data = json.load(open(sys.argv[1]))
for s in data if isinstance(data, list) else [data]:
    check(s, "--agent" in sys.argv, "--decisions" in sys.argv)
print("status-schema: %s ok" % sys.argv[1])

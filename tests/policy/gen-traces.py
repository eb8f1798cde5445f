#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the synthetic traces in tests/policy/traces/ (standard library only).

Each trace is what the governor would have sampled from a group and its agent,
one row a second. The traces are open loop: the synthetic child does not react
to the decisions, so they show what the law decides from given inputs, not a
closed-loop simulation. Noise comes from a fixed LCG, so the output is the same
on every machine and Python version.

    tests/policy/gen-traces.py [OUTDIR]
then review and refresh the golden files:
    MEMGOV_UPDATE_GOLDEN=1 ctest --test-dir build -L policy
"""

import os
import sys

M = 1 << 20
G = 1 << 30

COLUMNS = ("t_ms,max,high,current,anon,file,shmem,kernel,inactive_file,psi_some_avg10,psi_full_avg10,"
           "some_fired,full_fired,ev_high,ev_max,ev_oom,ev_oom_kill,agent,rt_total,heap_live,gc_cpu").split(",")


class Lcg:
    def __init__(self, seed):
        self.x = seed

    def unit(self):
        """A number in [0, 1)."""
        self.x = (self.x * 1103515245 + 12345) % (1 << 31)
        return self.x / (1 << 31)

    def around(self, v, spread):
        return v + (self.unit() * 2 - 1) * spread


def size(b):
    if b is None:
        return "max"
    b = int(b)
    for unit, suffix in ((G, "G"), (M, "M"), (1024, "K")):
        if b >= unit and b % unit == 0:
            return "%d%s" % (b // unit, suffix)
    return "%dK" % (b // 1024) if b >= 1024 else str(b)


def row(t_s, max_, outside, rt=0, live=0, inactive=0, active=0, high=None, some=0.0, full=0.0,
        some_fired=0, full_fired=0, ev=(0, 0, 0, 0), agent=1, gc_cpu=0.0, kernel=20 * M):
    """outside: anonymous memory the runtime does not see (cgo, mmap, helpers)."""
    file_ = inactive + active
    current = rt + outside + file_ + kernel
    anon = rt + outside
    return {
        "t_ms": str(int(t_s * 1000)), "max": size(max_), "high": "" if high is None else size(high), "current": size(current),
        "anon": size(anon), "file": size(file_), "shmem": "0", "kernel": size(kernel),
        "inactive_file": size(inactive), "psi_some_avg10": "%.2f" % some, "psi_full_avg10": "%.2f" % full,
        "some_fired": str(some_fired), "full_fired": str(full_fired), "ev_high": str(ev[0]),
        "ev_max": str(ev[1]), "ev_oom": str(ev[2]), "ev_oom_kill": str(ev[3]), "agent": str(agent),
        "rt_total": size(rt if agent else 0), "heap_live": size(live if agent else 0),
        "gc_cpu": "%.4f" % gc_cpu,
    }


def go_heap(t, live, gogc_peak, target, rng):
    """A Go runtime's total: the heap saws between live and a GOGC-driven peak, capped near the target
    (where the memory limit makes the GC run earlier), plus ~30M of stacks and metadata."""
    phase = (t % 4) / 4.0
    peak = min(gogc_peak, target) if target else gogc_peak
    return max(live, live + (peak - live) * phase) + rng.around(30 * M, 2 * M)


def steady(rng):
    """1G, a Go server with a 300M live heap churning up to 520M, 100M outside, some page cache."""
    out = []
    for t in range(90):
        rt = go_heap(t, 300 * M, 520 * M, None, rng)
        out.append(row(t, G, rng.around(100 * M, 3 * M), rt=rt, live=rng.around(300 * M, 4 * M),
                       inactive=60 * M, active=20 * M, some=max(0.0, rng.around(0.2, 0.2))))
    return ["# A Go server at rest: no actions after the initial target, no oscillation."], out


def outside_growth(rng):
    """The classic failure of a static GOMEMLIMIT: mmap/cgo memory outside the Go heap grows 5M/s."""
    out = []
    for t in range(100):
        outside = 50 * M + 5 * M * t
        rt = go_heap(t, 250 * M, 550 * M, None, rng)
        some = 0.0 if t < 80 else 2.0 * (t - 80)
        out.append(row(t, G, outside, rt=rt, live=rng.around(250 * M, 3 * M), inactive=40 * M, active=10 * M,
                       some=some, some_fired=int(t in (86, 92, 98))))
    return ["# Memory outside the Go heap grows 5M/s; the target falls ahead of it, GCs when under the heap."], out


def leak(rng):
    """The live heap leaks 8M/s: the target cannot hold it; cannot-fit once, then hands off (let-oom)."""
    out = []
    live = 200 * M
    for t in range(110):
        live += 8 * M
        rt = min(live * 1.3, max(live + 10 * M, 860 * M)) + 30 * M
        some = 0.0 if t < 70 else min(40.0, (t - 70) * 1.5)
        gc_cpu = 0.05 if t < 60 else min(0.5, 0.05 + (t - 60) * 0.02)
        out.append(row(t, G, 60 * M, rt=rt, live=live, inactive=max(0, 40 * M - t * M), some=some,
                       gc_cpu=gc_cpu, some_fired=int(t >= 75 and t % 5 == 0)))
        if rt + 60 * M + 20 * M > G:
            break  # the kernel would have killed it here
    return ["# A leak: the live heap grows 8M/s until it cannot fit; the report comes once."], out


def resize(rng):
    """memory.max changes in place: 1G, then 600M at 20 s, then 1.5G at 40 s; later a 900M memory.high."""
    out = []
    for t in range(150):
        max_ = G if t < 20 else 600 * M if t < 40 else 1536 * M
        high = 900 * M if t >= 130 else None
        rt = go_heap(t, 200 * M, 380 * M, None, rng)
        out.append(row(t, max_, 80 * M, rt=rt, live=rng.around(200 * M, 2 * M), inactive=30 * M, high=high))
    return ["# In-place resizes: the target follows down at once and climbs back in bounded steps."], out


def spike(rng):
    """A helper process takes 350M for 6 s, with a PSI trigger and memory.high events."""
    out = []
    ev_high = 0
    for t in range(100):
        in_spike = 20 <= t < 26
        helper = 350 * M if in_spike else 0
        some = 12.0 if in_spike else max(0.0, 12.0 - 2.5 * (t - 26)) if t >= 26 else 0.1
        if in_spike:
            ev_high += 40
        rt = go_heap(t, 280 * M, 480 * M, None, rng)
        out.append(row(t, G, 90 * M + helper, rt=rt, live=rng.around(280 * M, 3 * M), inactive=50 * M,
                       some=some, some_fired=int(t == 20), ev=(ev_high, 0, 0, 0)))
    return ["# A 6 s spike outside the heap: target down and a GC, then back up slowly."], out


def no_agent(rng):
    """A program without an agent streams files: page cache fills the group; memgov reclaims it."""
    out = []
    for t in range(60):
        inactive = min(700 * M, 20 * M + 25 * M * t)
        some = 0.0 if t < 45 else 6.0
        out.append(row(t, G, 250 * M, inactive=inactive, active=30 * M, agent=0, some=some,
                       high=None if t == 0 else (G - G // 20) // 4096 * 4096))
    return ["# No agent: memory.high below memory.max (memory_high_adjust), then memory.reclaim of cold cache.",
            "# set memory_high_adjust=yes"], out


TRACES = {
    "steady": steady,
    "outside-growth": outside_growth,
    "leak": leak,
    "resize": resize,
    "spike": spike,
    "no-agent": no_agent,
}


def main():
    outdir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                 "traces")
    os.makedirs(outdir, exist_ok=True)
    for i, (name, gen) in enumerate(sorted(TRACES.items())):
        comments, rows = gen(Lcg(1000 + i))
        with open(os.path.join(outdir, name + ".csv"), "w") as f:
            f.write("# Generated by tests/policy/gen-traces.py; do not edit.\n")
            for c in comments:
                f.write(c + "\n")
            f.write(",".join(COLUMNS) + "\n")
            for r in rows:
                f.write(",".join(r[c] for c in COLUMNS) + "\n")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
# How long the Go agent takes to act on memgov's lines while its program keeps
# the CPUs busy, on this machine's own CPUs: no cgroup is needed (the agent
# only calls debug.SetMemoryLimit), so this runs on the host, where the test
# VM's emulation cannot distort it. This script plays memgov on the agent's
# MEMGOV_FD (a socketpair) and, every 5-20 ms, sends a target or a stats?:
#   target  write -> the agent's applied at_us= (CLOCK_MONOTONIC, the agent's
#           stamp once the runtime had the limit): the actuation the bench
#           reports; and write -> this script reading the applied
#   stats?  write -> this script reading the stats line (the reader hands
#           stats? to the reporter goroutine, which samples and writes)
# for each number of goroutines allocating without pause (agentwake -busy N).
# Reported, not asserted: the figures depend on the machine and its load.
# Usage: agent-wake.py AGENTWAKE [COUNT] [BUSY...] >agent-wake.csv
#   AGENTWAKE is bench/agentwake built (build/bench/agentwake); COUNT lines
#   per run (default 400), BUSY the goroutine counts (default 0 1 2).
import os
import random
import socket
import subprocess
import sys
import time

from report import fmt, pct  # nearest rank, as the report and bench/latency.sh


def now_us():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def fields(line):
    """A line's type and key=value pairs; ("", {}) at the end of the stream."""
    words = line.split()
    if not words:
        return "", {}
    return words[0], dict(w.split("=", 1) for w in words[1:] if "=" in w)


def run(program, busy, count):
    ours, theirs = socket.socketpair()
    env = dict(os.environ, MEMGOV_FD=str(theirs.fileno()), MEMGOV_STATS_INTERVAL="0")
    child = subprocess.Popen([program, "-busy", str(busy)], env=env, pass_fds=[theirs.fileno()])
    theirs.close()
    # An agent that never answers ends the run instead of hanging it.
    ours.settimeout(10)
    lines = ours.makefile("r")
    try:
        typ, _ = fields(lines.readline())
        if typ != "hello":
            sys.exit("agent-wake.py: %s before hello" % ("the agent said %r" % typ if typ else "the connection ended"))
        ours.sendall(b"welcome v=1 id=1\n")
        time.sleep(0.5)  # the goroutines get going, the heap grows to its churn
        applied, acked, stats = [], [], []
        for seq in range(2, count + 2):
            time.sleep(random.uniform(0.005, 0.02))
            target = random.random() < 0.5
            if target:
                line = "target seq=%d bytes=%d level=ok\n" % (seq, (1 << 30) + seq)
            else:
                line = "stats? seq=%d\n" % seq
            sent = now_us()
            ours.sendall(line.encode())
            want = "applied" if target else "stats"
            while True:
                typ, kv = fields(lines.readline())
                if typ == want:
                    break
                if typ == "":
                    sys.exit("agent-wake.py: the agent closed the connection")
            arrived = now_us()
            if target:
                if "at_us" in kv:
                    applied.append(int(kv["at_us"]) - sent)
                acked.append(arrived - sent)
            else:
                stats.append(arrived - sent)
        return applied, acked, stats
    finally:
        # The program runs until it is told to stop (its agent only ends with the connection).
        ours.close()
        child.terminate()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: agent-wake.py AGENTWAKE [COUNT] [BUSY...]")
    program = os.path.realpath(sys.argv[1])
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    levels = [int(b) for b in sys.argv[3:]] or [0, 1, 2]
    print("agent-wake.py: %d CPUs, load %s before, %d lines a run"
          % (os.cpu_count(), " ".join(open("/proc/loadavg").read().split()[:3]), count), file=sys.stderr)
    print("busy,kind,n,p50_us,p90_us,p99_us,max_us")
    for busy in levels:
        try:
            applied, acked, stats = run(program, busy, count)
        except socket.timeout:
            sys.exit("agent-wake.py: the agent did not answer within 10 s (%d goroutines allocating)" % busy)
        for kind, v in (("target_to_applied", applied), ("target_to_ack", acked), ("stats_answer", stats)):
            print("%d,%s,%d,%s,%s,%s,%s" % (busy, kind, len(v), fmt(pct(v, 50), "{}"), fmt(pct(v, 90), "{}"),
                                            fmt(pct(v, 99), "{}"), max(v) if v else "n/a"))
        sys.stdout.flush()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Turns one run of scripts/bench into bench/results/report.md, summary.csv and
the PNG plots (with gnuplot). Runs on the host, after the VMs: every figure
comes from the CSVs of that one run (matrix-*.csv, overhead.csv,
detection.csv, actuation.csv) and the goals are judged from them, never typed
in.

    bench/report.py RESULTS_DIR
"""
import csv
import os
import statistics
import subprocess
import sys

STRATEGIES = ["unconstrained", "none", "static", "env", "agent"]
STRATEGY_DOC = {
    "unconstrained": "no memory.max, no settings (the wall-time reference)",
    "none": "memory.max, no GC settings (Go: neither GOMEMLIMIT nor GOGC)",
    "static": "memory.max and, for Go, GOMEMLIMIT = 90% of it set once (automemlimit's default); "
    "for the JVM and Node their container defaults (not run as 'none': it would be the same)",
    "env": "memgov run --no-agent: memgov's launch environment (GOMEMLIMIT, -Xmx, --max-old-space-size), "
    "page-cache reclaim, no agent",
    "agent": "memgov run: the launch environment and the agent steering the GC at run time",
}
FITS = "the live set (heap and outside memory) is at most 80% of memory.max"
RESIZE_TO_MIB = 160  # bench/matrix.sh lowers memory.max of the resize shape to this


def read_csv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f))


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def pct(xs, p):
    """The p-th percentile, nearest rank (as bench/latency.sh)."""
    xs = sorted(x for x in xs if x is not None)
    if not xs:
        return None
    i = max(1, int(p / 100 * len(xs) + 0.999999))
    return xs[i - 1]


def fmt(v, spec="{:.0f}", none="n/a"):
    return none if v is None else spec.format(v)


class Cell:
    def __init__(self, rows):
        self.rows = rows
        r = rows[0]
        self.runtime, self.shape, self.strategy = r["runtime"], r["shape"], r["strategy"]
        self.max_mib = num(r["max_mib"])
        if self.shape == "resize" and self.strategy != "unconstrained":
            self.max_mib = RESIZE_TO_MIB  # the peak that matters is against the lowered limit
        self.target = num(r["work_target_mib"])
        self.n = len(rows)
        self.oom_runs = sum(1 for x in rows if num(x["oom_kills"]) and num(x["oom_kills"]) > 0)
        self.oom_kills = sum(int(num(x["oom_kills"]) or 0) for x in rows)
        self.completed = [x for x in rows if x["outcome"] == "completed"]
        self.outcomes = {}
        for x in rows:
            self.outcomes[x["outcome"]] = self.outcomes.get(x["outcome"], 0) + 1
        self.work = median(num(x["work_mib"]) for x in rows)
        peaks = [num(x["peak_bytes"]) / (self.max_mib * 1048576) for x in rows if num(x["peak_bytes"])]
        self.peak_med, self.peak_max = median(peaks), (max(peaks) if peaks else None)
        self.gc = median(num(x["gc_cpu"]) for x in rows if num(x["gc_cpu"]) is not None and num(x["gc_cpu"]) >= 0)
        walls = [num(x["wall_ms"]) for x in self.completed]
        self.wall = median(walls)
        self.wall_min, self.wall_max = (min(walls), max(walls)) if walls else (None, None)
        # The program's own time (its done line), without the launch and the teardown; older CSVs lack it.
        self.program = median(num(x.get("program_ms") or "") for x in self.completed)
        cf = [num(x["cannot_fit_to_end_ms"]) for x in rows]
        self.cf_med, self.cf_max = median(cf), (max(c for c in cf if c is not None) if any(c is not None for c in cf) else None)
        self.cf_n = sum(1 for c in cf if c is not None)
        self.ratio = None


def cells_of(rows):
    groups = {}
    for r in rows:
        groups.setdefault((r["runtime"], r["shape"], r["strategy"]), []).append(r)
    cells = {k: Cell(v) for k, v in groups.items()}
    for (rt, shape, strategy), c in cells.items():
        ref = cells.get((rt, shape, "unconstrained"))
        if ref and ref.wall and c.wall:
            c.ratio = c.wall / ref.wall
    return cells


def ordered(cells):
    shapes = []
    for (rt, shape, _) in cells:
        if (rt, shape) not in shapes:
            shapes.append((rt, shape))
    for rt, shape in shapes:
        for s in STRATEGIES:
            if (rt, shape, s) in cells:
                yield cells[(rt, shape, s)]


def matrix_table(cells, runtime):
    out = [
        "| shape | strategy | runs | OOM-killed runs | outcomes | work done, median | "
        "peak / memory.max, median (max) | GC CPU, median | wall, median of completed | wall / unconstrained | "
        "cannot-fit line to end, median (max) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in ordered(cells):
        if c.runtime != runtime:
            continue
        work = fmt(c.work, "{:.0f} MiB")
        if c.target:
            work = "%s (%s)" % (work, fmt(c.work / c.target * 100 if c.work is not None else None, "{:.0f}%"))
        outcomes = ", ".join("%s %d" % (k, v) for k, v in sorted(c.outcomes.items()))
        limit = "" if c.strategy != "unconstrained" else " (no limit)"
        out.append(
            "| %s | %s | %d | %d | %s | %s | %s%s | %s | %s | %s | %s |"
            % (
                c.shape,
                c.strategy,
                c.n,
                c.oom_runs,
                outcomes,
                work,
                "%s (%s)" % (fmt(c.peak_med, "{:.0%}"), fmt(c.peak_max, "{:.0%}")),
                limit,
                fmt(c.gc, "{:.1%}"),
                fmt(c.wall and c.wall / 1000, "{:.1f} s"),
                fmt(c.ratio, "{:.2f}x"),
                "%s (%s)" % (fmt(c.cf_med and c.cf_med / 1000, "{:.1f} s"), fmt(c.cf_max and c.cf_max / 1000, "{:.1f} s"))
                if c.cf_n
                else "",
            )
        )
    return "\n".join(out)


def write_summary(cells, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["runtime", "shape", "strategy", "runs", "oom_killed_runs", "oom_kills", "completed_runs",
                    "work_mib_median", "work_target_mib", "peak_over_max_median", "peak_over_max_max",
                    "gc_cpu_median", "wall_ms_median_completed", "wall_over_unconstrained",
                    "cannot_fit_to_end_ms_median", "cannot_fit_to_end_ms_max"])
        for c in ordered(cells):
            w.writerow([c.runtime, c.shape, c.strategy, c.n, c.oom_runs, c.oom_kills, len(c.completed),
                        fmt(c.work, "{:.0f}", ""), fmt(c.target, "{:.0f}", ""), fmt(c.peak_med, "{:.4f}", ""),
                        fmt(c.peak_max, "{:.4f}", ""), fmt(c.gc, "{:.4f}", ""), fmt(c.wall, "{:.0f}", ""),
                        fmt(c.ratio, "{:.3f}", ""), fmt(c.cf_med, "{:.0f}", ""), fmt(c.cf_max, "{:.0f}", "")])


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def bar_plot(cells, out, png, value, ylabel, title, extra=""):
    """One group of bars per runtime/shape, one bar per strategy; '?' where there is no value."""
    strategies = [s for s in STRATEGIES if any(c.strategy == s for c in cells.values())]
    groups = []
    for (rt, shape, _) in cells:
        if (rt, shape) not in groups:
            groups.append((rt, shape))
    data = os.path.join(out, ".plot-" + os.path.basename(png) + ".dat")
    with open(data, "w") as f:
        f.write("# group " + " ".join(strategies) + "\n")
        for rt, shape in groups:
            vals = []
            for s in strategies:
                c = cells.get((rt, shape, s))
                v = value(c) if c else None
                vals.append("?" if v is None else "%g" % v)
            f.write('"%s %s" %s\n' % (rt, shape, " ".join(vals)))
    colors = {"unconstrained": "#95a5a6", "none": "#34495e", "static": "#c0392b", "env": "#e67e22", "agent": "#27ae60"}
    plots = ", ".join(
        "'%s' using %d:xtic(1) title '%s' lc rgb '%s'" % (data, i + 2, s, colors[s]) if i == 0
        else "'' using %d title '%s' lc rgb '%s'" % (i + 2, s, colors[s])
        for i, s in enumerate(strategies))
    gnuplot("""
set terminal pngcairo size 1200,520 font "sans,10"
set output "%s"
set title "%s"
set ylabel "%s"
set datafile missing "?"
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key outside top center horizontal
set xtics rotate by -30 scale 0
set grid ytics
set yrange [0:*]
%s
plot %s
""" % (png, title.replace('"', "'"), ylabel, extra, plots))
    os.remove(data)


def overhead_table(rows):
    out = ["| process | resident (Rss) | anonymous (RssAnon) | idle CPU | CPU per idle hour | wakeups per second |",
           "|---|---|---|---|---|---|"]
    for r in rows:
        out.append("| %s | %s KiB | %s KiB | %.4f%% | %.2f s | %.2f |" % (
            r["who"], r["vmrss_kib"], r["rssanon_kib"], num(r["cpu_percent"]), num(r["cpu_sec_per_hour"]),
            num(r["wakeups_per_sec"])))
    return "\n".join(out)


def latency_table(det_rows, act_rows):
    """Detection and actuation percentiles, one group of rows per event source (on=)."""
    out = ["| what | on= | samples | p50 | p99 |", "|---|---|---|---|---|"]
    rows = (
        ("detection: the jump starts -> first decision with actions=lower-target (ms)", det_rows, "from_jump_start_ms"),
        ("detection: the jump's first 2 MiB are touched -> that decision (ms)", det_rows, "from_jump_2m_ms"),
        ("detection: the jump is fully touched -> that decision (ms)", det_rows, "from_jump_end_ms"),
        ("that decision's target -> the Go agent applied it (us)", det_rows, "applied_after_decision_us"),
        ("the jump starts -> the Go agent applied the target (ms)", det_rows, "from_jump_start_to_applied_ms"),
        ("actuation: every target sent -> the Go agent applied it (us)", act_rows, "target_to_applied_us"),
        ("every target sent -> memgov read the acknowledgement (us)", act_rows, "target_to_ack_us"),
    )
    for what, src, col in rows:
        for on in sorted({r.get("on", "") for r in src}):
            xs = [num(r.get(col)) for r in src if r.get("on", "") == on]
            xs = [x for x in xs if x is not None]
            out.append("| %s | %s | %d | %s | %s |" % (what, on or "?", len(xs), fmt(pct(xs, 50), "{:g}"),
                                                      fmt(pct(xs, 99), "{:g}")))
    if not det_rows:
        out.append("| detection | - | 0 | n/a | n/a |")
    return "\n".join(out)


def agent_wake_table(rows):
    """bench/agent-wake.py's percentiles, on the host: one row per busy goroutine count and kind."""
    what = {"target_to_applied": "target written -> the agent's applied at_us=",
            "target_to_ack": "target written -> applied read",
            "stats_answer": "stats? written -> stats read"}
    out = ["| goroutines allocating | what | samples | p50 (us) | p90 (us) | p99 (us) | max (us) |",
           "|---|---|---|---|---|---|---|"]
    for r in rows:
        out.append("| %s | %s | %s | %s | %s | %s | %s |" % (r["busy"], what.get(r["kind"], r["kind"]), r["n"],
                                                            r["p50_us"], r["p90_us"], r["p99_us"], r["max_us"]))
    return "\n".join(out)


def loadavg_text(rows):
    """The host's load average around each part of the run (scripts/bench, loadavg.csv)."""
    t = ["The run must be made on an idle machine: the VM's CPU is emulated, so any other load on the host "
         "(another VM, a build) stretches every time below. The host's load average (/proc/loadavg: 1, 5 and "
         "15 minutes) before and after each part:"]
    if not rows:
        return t[0] + " not recorded in this run (no loadavg.csv)."
    t.append("")
    t.append("| part | when | UTC | load 1 min | 5 min | 15 min |")
    t.append("|---|---|---|---|---|---|")
    for r in rows:
        t.append("| %s | %s | %s | %s | %s | %s |" % (r["part"], r["when"], r["utc"], r["load1"], r["load5"],
                                                     r["load15"]))
    # scripts/bench marks the host before its build (part "host", the newest run's); older files lack it.
    hosts = [r for r in rows if r["part"] == "host"]
    first = hosts[-1] if hosts else rows[0]
    t.append("")
    mark = "host, before the build" if hosts else "%s, %s" % (first["part"], first["when"])
    t.append("Our own VM runs its 2 emulated CPUs flat out, and the build before it uses both cores, so every mark "
             "after the first carries them (the 1-minute average decays over about a minute); the first mark (%s) "
             "is the machine before the run." % mark)
    if (num(first["load1"]) or 0) >= 1.0:
        t.append("**Not idle** before the run: a 1-minute load of %s on 2 cores; compare these figures only with "
                 "runs made under the same load." % first["load1"])
    return "\n".join(t)


def go_tool():
    """The go command, for go tool pprof (scripts/bench adds /usr/local/go/bin to PATH)."""
    for d in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/local/go/bin"]:
        g = os.path.join(d, "go")
        if os.access(g, os.X_OK):
            return g
    return None


def capture_diffs(res):
    """For each memgov cell of a leak with captures (bench/matrix.sh): the heap at death against the baseline
    taken at 100M live, as go tool pprof -top -base prints it. Returns markdown lines."""
    root = os.path.join(res, "captures")
    if not os.path.isdir(root):
        return []
    L = []
    go = go_tool()
    for cell in sorted(os.listdir(root)):
        d = os.path.join(root, cell)
        files = sorted((f for f in os.listdir(d) if f.endswith(".pprof")),
                       key=lambda f: int(f.rsplit("-", 1)[1].split(".")[0]))  # memgov-NAME-PID-STAMP-SEQ.pprof
        L.append("**%s**: " % cell)
        if len(files) < 2:
            req = os.path.join(d, "baseline-request.txt")
            said = open(req).read().strip().replace("\n", " ") if os.path.exists(req) else ""
            L[-1] += "%d capture(s) (%s): no comparison. The baseline request said: %s" % (
                len(files), ", ".join(files) or "none", said or "nothing")
            L.append("")
            continue
        base, death = os.path.join(d, files[0]), os.path.join(d, files[-1])
        L[-1] += "`go tool pprof -top -sample_index=inuse_space -base %s %s` (captures/%s/):" % (
            files[0], files[-1], cell)
        L.append("")
        if not go:
            L.append("(no go command on this machine to run it)")
            L.append("")
            continue
        p = subprocess.run([go, "tool", "pprof", "-top", "-nodecount=12", "-sample_index=inuse_space", "-base",
                            base, death], capture_output=True, text=True)
        L.append("```")
        L.append((p.stdout or p.stderr).strip())
        L.append("```")
        L.append("")
    return L


def main():
    res = sys.argv[1]
    rows = []
    for name in sorted(os.listdir(res)):
        if name.startswith("matrix-") and name.endswith(".csv"):
            rows += read_csv(os.path.join(res, name))
    cells = cells_of(rows)
    write_summary(cells, os.path.join(res, "summary.csv"))
    runs = max((int(r["rep"]) for r in rows), default=0)
    overhead = read_csv(os.path.join(res, "overhead.csv"))
    det_rows = read_csv(os.path.join(res, "detection.csv"))
    act_rows = read_csv(os.path.join(res, "actuation.csv"))
    wake_rows = read_csv(os.path.join(res, "agent-wake.csv"))
    env = "; ".join(open(os.path.join(res, "environment.txt")).read().split("\n")).strip("; ") if os.path.exists(os.path.join(res, "environment.txt")) else ""

    if cells:
        bar_plot(cells, res, os.path.join(res, "oom.png"), lambda c: c.oom_runs,
                 "runs OOM-killed (of %d)" % runs, "OOM-killed runs per shape and strategy (fewer is better)",
                 "set yrange [0:%d]\nset ytics 1" % max(runs, 1))
        bar_plot(cells, res, os.path.join(res, "wall.png"), lambda c: c.ratio,
                 "wall time / unconstrained (median of completed runs)",
                 "Wall time relative to an unconstrained run (no bar: no run completed)")
        bar_plot(cells, res, os.path.join(res, "peak.png"), lambda c: c.peak_med and c.peak_med * 100,
                 "peak memory.current / memory.max, % (median)",
                 "Peak memory relative to memory.max (unconstrained: relative to the others' memory.max)")

    traces = []
    for t in ["go-steady-agent", "go-outside-shm-agent", "go-outside-shm-env", "go-outside-mmap-fast-agent",
              "go-jump-agent", "go-high-live-agent", "go-resize-agent", "go-leak-agent", "go-slow-leak-agent",
              "jvm-outside-shm-agent", "jvm-offheap-agent", "jvm25-offheap-agent", "node-outside-shm-agent",
              "node-native-shm-agent"]:
        src = os.path.join(res, "traces", t + ".jsonl")
        if os.path.exists(src):
            png = os.path.join(res, "trace-%s.png" % t)
            subprocess.run([os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "plot-trace"),
                            src, png, "memgov --trace of the first run: %s" % t.replace("-", " ", 1)], check=True,
                           stdout=subprocess.DEVNULL)
            traces.append(t)

    goals = judge(cells, det_rows, act_rows, overhead, wake_rows)
    L = []
    L.append("# memgov benchmark: the OOM-avoidance matrix, reaction latency and overhead")
    L.append("")
    L.append("Made by `scripts/bench` in one run (%d repetitions per cell); every figure below comes from "
             "that run's raw data in this directory, and `bench/report.py` wrote this page from it." % runs)
    L.append("The test VM: %s. Software emulation (qemu TCG): CPU-bound work runs roughly 10-30x slower "
             "than on the host, and these 2 cores are shared with other engineers' VMs. Absolute times "
             "are not what real hardware gives; compare the strategies side by side." % (env or "see environment.txt"))
    L.append("")
    L.append(loadavg_text(read_csv(os.path.join(res, "loadavg.csv"))))
    L.append("")
    L.append("## Goals")
    L.append("")
    L.append("| goal | measured | met |")
    L.append("|---|---|---|")
    for g, m, ok, why in goals:
        L.append("| %s | %s | %s |" % (g, m, "yes" if ok else ("**no**: " + why if ok is False else "n/a: " + why)))
    L.append("")
    L.append("## The OOM-avoidance matrix")
    L.append("")
    L.append("Strategies:")
    L.append("")
    for s in STRATEGIES:
        L.append("- **%s**: %s" % (s, STRATEGY_DOC[s]))
    L.append("")
    L.append("Shapes (the programs are bench/workload/; their work is fixed, in MiB of garbage allocated, so "
             "wall time compares strategies; the growth of the live heap and of the outside memory follows the "
             "work done). Every shape but the leaks is sized so that %s:" % FITS)
    L.append("")
    L.append("- **steady**: the live heap grows toward its final size (Go 190M, JVM 150M, Node 140M) over the "
             "first 60% of the work, while 64 KiB garbage objects are made.")
    L.append("- **burst**: a 60M live heap, and bursts of 100M held briefly, then dropped, between runs of garbage.")
    L.append("- **outside-mmap / -shm / -helper**: a live heap (Go 100M; JVM and Node 60M) while memory the runtime "
             "does not see grows in 5M steps over the first 60% of the work (Go 100M, JVM 220M, Node 140M): "
             "anonymous mmap; a file in a tmpfs (shmem pages); a helper process in the same group that maps it.")
    L.append("- **outside-mmap-fast / -shm-fast / -helper-fast**: the same, with the outside memory growing four times "
             "as fast against the garbage (-pace 4: 20M steps, all 100M by 22% of the work).")
    L.append("- **native-shm** (Node): a 60M live set of 64 KiB arrays of which 1 MiB is replaced per MiB of "
             "work (old-generation garbage, which only a full collection frees), while a file in a tmpfs, which "
             "V8 does not see, grows in 1M steps to 140M over the first half of the work. Node's default (an old "
             "space sized from the VM's memory, 256M) lets such a heap grow well past its live set before a full "
             "collection; memgov's agent is asked for one as the file grows (docs/runtimes.md).")
    L.append("- **jump**: a 110M live heap, then 60M mapped and touched in one go outside it (anonymous mmap), then "
             "garbage. It fits, but GOMEMLIMIT = 90% with the default GOGC lets the heap reach twice its live set "
             "(220M) before a collection: with the 60M outside, past memory.max.")
    L.append("- **offheap** (JVM): a 60M live heap and 160M of direct ByteBuffers that stay live, grown over the "
             "first 60% of the work, while each step also drops a 1M direct buffer and makes 1M of heap garbage. "
             "The JVM's default MaxDirectMemorySize is its heap limit: the container default (126M of heap in "
             "384M) refuses the buffers with 'OutOfMemoryError: Cannot reserve ... direct buffer memory'.")
    L.append("- **high-live**: the live heap grows to 200M (78% of memory.max) over the first 60% of the work and "
             "stays there; nothing outside it.")
    L.append("- **resize**: a 100M live heap; once it is built (and the garbage returned), memory.max is lowered "
             "from 256M to 160M.")
    L.append("- **leak**: the live heap grows without bound (at full speed to 190M, then 10 MiB/s). The cannot-fit "
             "line is where the live heap plus the law's minimum heap headroom (10%, at least 4M) passes memory.max "
             "less the law's headroom (5%, at least 8M), counting nothing outside the heap: 221M of 256M. The "
             "column 'cannot-fit line to end' runs from the program crossing it to the run's end.")
    L.append("- **slow-leak**: the leak, at 2 MiB/s past 190M (golang/go#58106: under a memory limit the GC "
             "thrashes for a long time before the OOM kill). GC CPU and 'cannot-fit line to end' say how long "
             "and how hard each strategy thrashed; memgov's cells run with --on-cannot-fit kill (outcome "
             "cannot-fit-kill: memgov ended it, exit 122).")
    L.append("")
    L.append("Peak is memory.peak of a parent group made fresh for each run (hierarchical: the child's group and "
             "its processes). GC CPU: Go's /cpu/classes/gc/total over /cpu/classes/total (runtime/metrics); the JVM's "
             "collection time and V8's GC event durations over process CPU time (wall time over CPU time: an "
             "approximation). OOM-killed runs: runs after which memory.events of the run's group counted oom_kill "
             "(matrix-*.csv has the raw counter, which counts every task a group kill takes). Work done for a killed run is its last progress report (every 250 ms). Wall time "
             "is from launch to exit, memgov included where it runs. Outcomes: completed; oom-killed (the kernel); "
             "failed (the program exited on its own error: the JVM's OutOfMemoryError, V8's 'heap out of memory' "
             "abort, exit 134). The resize shape's peak is against the lowered limit (160M). Unconstrained runs "
             "can be slower than limited ones: their heap keeps growing into fresh pages, and page faults are "
             "expensive under emulation.")
    # The VM (2 vCPUs, 1G) is no "server class machine" to the JVM: it picks Serial, not G1.
    for rt, title in (("go", "Go (memory.max 256M)"), ("jvm", "JVM: OpenJDK 17, Serial (memory.max 384M; the VM runs "
                                                             "with one TCG thread, which the JIT needs)"),
                      ("jvm25", "JVM: Temurin 25, Serial (memory.max 384M; one TCG thread)"),
                      ("node", "Node 20 (memory.max 256M)")):
        if any(c.runtime == rt for c in cells.values()):
            L.append("")
            L.append("### " + title)
            L.append("")
            L.append(matrix_table(cells, rt))
    L.append("")
    for png, alt in (("oom.png", "OOM-killed runs"), ("wall.png", "wall time ratios"), ("peak.png", "peak memory")):
        if os.path.exists(os.path.join(res, png)):
            L.append("![%s](%s)" % (alt, png))
            L.append("")
    if traces:
        L.append("### What memgov saw: traces of the first run of some cells")
        L.append("")
        for t in traces:
            L.append("![%s](trace-%s.png)" % (t, t))
            L.append("")
    diffs = capture_diffs(res)
    if diffs:
        L.append("### The leaks' heap: at death against a baseline")
        L.append("")
        L.append("memgov's cell with the agent, first run: a heap capture asked for (`memgov capture`) once the "
                 "live heap reached 100M, and the one memgov took on cannot-fit; what grew between them. A Go heap "
                 "profile is the heap as of the last completed GC, sampled (one sample per 512 KiB allocated on "
                 "average): its total is an estimate of the growth, its stacks name where it came from.")
        L.append("")
        L += diffs
    L.append("## Reaction latency")
    L.append("")
    L.append("bench/latency.sh, in the same run: a Go child with the agent in a 256M box, 60M garbage in its heap; "
             "then 60M appear outside the heap. Detection runs from the jump's start (the child's CLOCK_MONOTONIC "
             "stamp) to memgov's first decision at or after it whose actions include lower-target (its at_us, the "
             "same clock); each row names the decision's event source (on=: pace is memgov's paced sample, "
             "the others are events). Raw data: detection.csv, actuation.csv; its own page: "
             "[latency.md](latency.md).")
    L.append("")
    L.append(latency_table(det_rows, act_rows))
    L.append("")
    L.append("The agent's acknowledgement in memgov's log has no timestamp of its own: memgov measures the time "
             "from sending a target to the acknowledgement (the 'applied' rows), and sends the target in the step "
             "that made the decision, so 'jump -> applied' is detection plus that.")
    L.append("")
    L.append("![the first latency run, traced](burst.png)")
    L.append("")
    if wake_rows:
        L.append("### The Go agent's wake-up on the host's own CPUs")
        L.append("")
        L.append("bench/agent-wake.py, outside the VM (no cgroup is needed): a Go program with the agent and "
                 "0, 1 or 2 goroutines allocating without pause (GOMAXPROCS = the host's CPUs); the script plays "
                 "memgov on the agent's socket and sends a target or a stats? every 5-20 ms. This is the "
                 "actuation path at the speed of real hardware; the host's load around it is in loadavg.csv "
                 "(part wake). Raw data: agent-wake.csv.")
        L.append("")
        L.append(agent_wake_table(wake_rows))
        L.append("")
    L.append("## Overhead when idle")
    L.append("")
    L.append("bench/overhead.sh, in the same run and the same VM at the same time: memgov over a sleeping C "
             "program (the preloaded C agent connected), memgov over an idle Go program (the Go agent connected, "
             "reporting on its own every 8 s with the fault watch, else every second) and tini (`tini -s`, Debian's package) over a sleeping program. "
             "Memory is Rss and Anonymous of /proc/PID/smaps_rollup at the end, which walks the page tables "
             "(/proc/PID/status's VmRSS and RssAnon are counters that lag on 6.1: proc(5)). CPU is "
             "/proc/PID/schedstat (ns) over the idle window, scaled to an hour; wakeups are context switches "
             "(voluntary + involuntary, all threads) per second (perf was not tried in the guest). Raw data: overhead.csv.")
    L.append("")
    L.append(overhead_table(overhead) if overhead else "(not measured in this run)")
    L.append("")
    L.append("## Files")
    L.append("")
    L.append("matrix-go.csv, matrix-jvm.csv, matrix-node.csv (one line per run), summary.csv (one line per cell), "
             "overhead.csv, detection.csv, actuation.csv, latency-run1.log (memgov -v of the first latency run), "
             "traces/ and logs/ (memgov --trace and -v of the first run of each memgov cell), loadavg.csv, "
             "environment.txt, the PNGs.")
    with open(os.path.join(res, "report.md"), "w") as f:
        f.write("\n".join(L) + "\n")
    print("report.py: wrote %s" % os.path.join(res, "report.md"))


def judge(cells, det_rows, act_rows, overhead, wake_rows=()):
    """The issue's goals, each as (goal, measured, met: True/False/None, why-not)."""
    goals = []
    fit = [c for c in cells.values() if not c.shape.endswith("leak") and c.strategy == "agent"]
    bad = ["%s %s (%d of %d)" % (c.runtime, c.shape, c.oom_runs, c.n) for c in fit if c.oom_runs]
    failed = ["%s %s (%d of %d)" % (c.runtime, c.shape, c.outcomes.get("failed", 0), c.n) for c in fit
              if c.outcomes.get("failed")]
    static_out = [c for c in cells.values() if c.shape.startswith("outside") and c.strategy == "static"]
    static_fail = ["%s %s %d/%d" % (c.runtime, c.shape, c.oom_runs, c.n) for c in static_out if c.oom_runs]
    static_ok = ["%s %s" % (c.runtime, c.shape) for c in static_out if not c.oom_runs]
    m = ("memgov with the agent, OOM-killed runs on fitting shapes: %s; runs that ended in the runtime's own "
         "out-of-memory error instead: %s. Static OOM-killed on outside shapes: %s%s") % (
        ", ".join(bad) or "none", ", ".join(failed) or "none", ", ".join(static_fail) or "none",
        ("; not on: " + ", ".join(static_ok)) if static_ok else "")
    why = []
    if bad:
        why.append("memgov's agent strategy was OOM-killed on %s. memgov reacts to samples: memory that grows "
                   "without a stall raises no kernel event until it crosses the guard near the limit, so far "
                   "below it growth is seen at the next agent report or paced sample (the detection row); see the "
                   "traces" % ", ".join(bad))
    if failed:
        why.append("no kernel OOM kill, but the runtime gave up first on %s: memgov's launch budget (Node: "
                   "--max-old-space-size = budget - 96M reserve - 10%%) is smaller than that live set, which the "
                   "runtime's default limit held" % ", ".join(failed))
    if static_ok:
        why.append("the JVM's and Node's container defaults (their 'static') were not OOM-killed on %s: the JVM's "
                   "heap stays at 25%% of memory.max, and V8 collected well below its limit, which left room for "
                   "the outside memory" % ", ".join(static_ok))
    goals.append(("0 OOM kills on every shape whose live set fits (<= 80% of memory.max), while static 90% fails "
                  "on the outside-memory shape", m, not bad and not failed and bool(static_fail), "; ".join(why)))

    leak = cells.get(("go", "leak", "agent"))
    if leak and leak.cf_n:
        ok = leak.cf_max <= 30000 and leak.cf_n == leak.n
        goals.append(("The leak ends within 30 s of crossing the cannot-fit line (Go, agent)",
                      "median %.1f s, max %.1f s over %d runs" % (leak.cf_med / 1000, leak.cf_max / 1000, leak.cf_n),
                      ok, "the slowest run took longer" if not ok else ""))
    # Issue 17: steady, burst and high-live, each no slower than static 90% (medians of completed runs).
    walls, missing, over = [], [], []
    for shape in ("steady", "burst", "high-live"):
        a, st = cells.get(("go", shape, "agent")), cells.get(("go", shape, "static"))
        if not a or not st:
            continue
        if not (a.wall and st.wall):
            missing.append("%s: completed runs agent %d of %d, static %d of %d" % (
                shape, len(a.completed), a.n, len(st.completed), st.n))
            continue
        r = a.wall / st.wall
        text = "%s %.2fx (%.1f s against %.1f s; runs %.1f-%.1f s against %.1f-%.1f s" % (
            shape, r, a.wall / 1000, st.wall / 1000, a.wall_min / 1000, a.wall_max / 1000, st.wall_min / 1000,
            st.wall_max / 1000)
        # The same repetition of each strategy runs back to back (matrix.sh), so its ratio pairs like with like.
        mine = {x["rep"]: num(x["wall_ms"]) for x in a.completed}
        paired = sorted(mine[x["rep"]] / num(x["wall_ms"]) for x in st.completed if x["rep"] in mine)
        if len(paired) > 1:
            text += "; repetition by repetition %.2f-%.2fx" % (paired[0], paired[-1])
        if a.program and st.program:
            text += "; the program's own time %.2fx" % (a.program / st.program)
        walls.append(text + ")")
        if r > 1.0:
            over.append(shape)
    if walls or missing:
        why = []
        if over:
            why.append("%s not explained by this run: the per-run times and GC CPU are in matrix-go.csv, "
                       "memgov's -v log and trace of the first agent run in logs/ and traces/; the env column "
                       "(memgov --no-agent) separates memgov's own cost from the agent's" % ", ".join(over))
        if missing:
            why.append("no median to compare for " + "; ".join(missing))
        goals.append(("Wall time <= 1.0x static 90% on steady, burst and high-live (Go, medians of completed runs)",
                      "; ".join(walls + missing), not over and not missing, "; ".join(why)))
    # The issue measures detection to the target reaching the agent; the decision's own time is named beside.
    det = [x for x in (num(r.get("from_jump_start_to_applied_ms")) for r in det_rows) if x is not None]
    decided = [x for x in (num(r["from_jump_start_ms"]) for r in det_rows) if x is not None]
    if det_rows:
        p = pct(det, 99) if len(det) == len(det_rows) else None
        by = {}
        for r in det_rows:
            by[r.get("on", "?")] = by.get(r.get("on", "?"), 0) + 1
        sources = ", ".join("on=%s %d" % kv for kv in sorted(by.items()))
        first = [x for x in (num(r.get("from_jump_2m_ms")) for r in det_rows) if x is not None]
        since_2m = ("; from the child's stamp once the jump's first 2 MiB were touched, p50 %s ms, p99 %s ms "
                    "(%d samples): the part that is memgov's, where the first figure also holds the emulated "
                    "child's slow first pages (docs/design.md)" % (fmt(pct(first, 50), "{:g}"),
                                                                   fmt(pct(first, 99), "{:g}"), len(first))
                    if first else "")
        # The child's own time to its first 2 MiB: no watcher of the charge can decide before it.
        child = [a - b for a, b in ((num(r["from_jump_start_ms"]), num(r.get("from_jump_2m_ms")))
                                    for r in det_rows) if a is not None and b is not None]
        if child:
            since_2m += ("; the emulated child itself took %s-%s ms (p50 %s) from the jump's start to its first "
                         "2 MiB touched: fresh memory comes at about 200-300 MB/s a thread under emulation "
                         "(tests/kernel/README.md, kt-measure-fault), and the law needs a few MiB of it "
                         "charged" % (fmt(min(child), "{:.1f}"), fmt(max(child), "{:.1f}"),
                                      fmt(pct(child, 50), "{:.1f}")))
        unapplied = len(det_rows) - len(det)
        goals.append(("Detection p99 <= 20 ms", "%s ms (from the jump's start to the agent applying the target; "
                      "%d samples: %s%s; the decision itself p99 %s ms)" % (
                          fmt(p, "{:g}"), len(det_rows), sources,
                          ", %d of them never applied" % unapplied if unapplied else "",
                          fmt(pct(decided, 99), "{:g}")),
                      p is not None and p <= 20,
                      "memgov decided on (event source, decisions) %s. The jump's first page fault wakes memgov "
                      "within milliseconds (docs/design.md, the fault watch), but the law counts the growth as "
                      "outside the heap only once the agent's fresh stats pair with the charge: one agent round "
                      "trip in a program touching memory flat out under emulation%s" % (sources, since_2m)))
    act = [num(r["target_to_applied_us"]) for r in act_rows]
    if act:
        p = pct(act, 99)
        stamped = sum(1 for r in act_rows if r.get("clock") == "agent")
        acks = [x for x in (num(r.get("target_to_ack_us")) for r in act_rows) if x is not None]
        clock = ("%d of them by the agent's own clock (applied's at_us=), the rest by memgov reading the answer"
                 % stamped if stamped else "by memgov reading the agent's answer")
        on_host = [r for r in wake_rows if r.get("kind") == "target_to_applied"]
        host = (". On the host's own CPUs (bench/agent-wake.py), target -> applied p99 %s: a Go program "
                "that keeps its Ps busy makes the agent's goroutine wait for the Go scheduler, on hardware too" %
                ", ".join("%s us with %s goroutines allocating" % (r["p99_us"], r["busy"]) for r in on_host)
                if on_host else "")
        goals.append(("Actuation p99 <= 5 ms", "%s us (%d samples, %s)" % (fmt(p), len(act), clock),
                      p is not None and p <= 5000,
                      "the path is a socket write, the agent's goroutine waking and debug.SetMemoryLimit (about "
                      "20 us) in a program allocating flat out under emulation; the slow ones are a program's "
                      "first target, while the program, its agent and memgov share the VM's two CPUs, and "
                      "targets sent while the program keeps every P busy (docs/design.md, \"A target's way to "
                      "the agent\")%s%s" % ("; memgov read the answers p99 %s us after the write" % fmt(pct(acks, 99))
                                           if acks else "", host)))
    mg = [r for r in overhead if r["who"].startswith("memgov")]
    if mg:
        worst = max(mg, key=lambda r: num(r["rssanon_kib"]))
        goals.append(("memgov's RssAnon <= 256 KiB", ", ".join("%s %s KiB" % (r["who"], r["rssanon_kib"]) for r in mg),
                      num(worst["rssanon_kib"]) <= 256,
                      "not broken down in this run; in session 18's (docs/design.md, smaps of memgov over sleep) "
                      "444 KiB: the writable data of its twelve libraries once relocated, with their bss, 228 "
                      "(libsystemd 52, libc 44, libgcrypt 36, the loader 16, libcap and libgpg-error 16 each, six "
                      "more 8 each), the stack 80, the heap 60, memgov's own data and bss 48, the actuator "
                      "thread's stack 20 (cuts to 372 KiB were put back: memgov then faulted fresh pages at its "
                      "group's OOM and was killed as well); tini, a small C program without libsystemd or an event loop, measured "
                      "%s KiB in the same run" % next(
                          (r["rssanon_kib"] for r in overhead if r["who"] == "tini"), "?")))
        tini = next((r for r in overhead if r["who"] == "tini"), None)
        if tini:
            cpu = max(num(r["cpu_percent"]) for r in mg)
            wake = max(num(r["wakeups_per_sec"]) for r in mg)
            goals.append(("memgov's idle CPU and wakeups per second no higher than tini's, in the same run",
                          ", ".join("%s %.4f%% CPU, %.2f wakeups/s" % (r["who"], num(r["cpu_percent"]),
                                                                       num(r["wakeups_per_sec"])) for r in mg)
                          + "; tini %.4f%%, %.2f/s" % (num(tini["cpu_percent"]), num(tini["wakeups_per_sec"])),
                          cpu <= num(tini["cpu_percent"]) and wake <= num(tini["wakeups_per_sec"]),
                          "with the fault watch, memgov paces at most every 5 s and the agents report on their own "
                          "every 5 s (docs/design.md, 'Sleeping when still'), so it wakes less often than tini; "
                          "each wake-up costs more than tini's (an event loop, an agent's report and its parsing, "
                          "a full sample every 5 s), and emulation inflates that work"))
    return goals


if __name__ == "__main__":
    main()

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Evidence before death: when memgov asks an agent for a heap profile, and
 * what it keeps on disk. Pure: the governor brings the facts (the time, the
 * headroom, the files in the capture directory) and does the I/O; these
 * functions decide and explain.
 *
 * Captures are limited so that they do not cause the OOM they document: at
 * most one per interval, none when the group's free headroom is below what
 * the capture is expected to allocate (JVM dumps and V8 snapshots build
 * large structures in the process), and the directory kept under a disk
 * budget by removing the oldest files first.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum CaptureFormat {
        CAPTURE_FORMAT_NONE,  /* the runtime has no heap capture (C) */
        CAPTURE_FORMAT_PPROF, /* Go: runtime/pprof heap profile */
        CAPTURE_FORMAT_HPROF, /* JVM: HotSpotDiagnosticMXBean.dumpHeap, live objects */
        CAPTURE_FORMAT_V8,    /* Node: v8.writeHeapSnapshot */
        _CAPTURE_FORMAT_MAX,
} CaptureFormat;

typedef enum CaptureWhy {
        CAPTURE_WHY_CRITICAL,   /* the level entered critical */
        CAPTURE_WHY_CANNOT_FIT, /* the law gave up */
        CAPTURE_WHY_REQUEST,    /* `memgov capture` */
        CAPTURE_WHY_THRESHOLD,  /* the agent's own, armed: the live heap passed the cannot-fit line */
        _CAPTURE_WHY_MAX,
} CaptureWhy;

typedef enum CaptureVerdict {
        CAPTURE_GO,
        CAPTURE_REFUSE_OFF,       /* --capture off */
        CAPTURE_REFUSE_NO_AGENT,  /* no agent that can capture */
        CAPTURE_REFUSE_BUSY,      /* a capture is still running */
        CAPTURE_REFUSE_TOO_SOON,  /* one capture per interval */
        CAPTURE_REFUSE_HEADROOM,  /* the group has not the room the capture needs */
        CAPTURE_REFUSE_NO_BUDGET, /* the disk budget is smaller than the expected file */
        _CAPTURE_VERDICT_MAX,
} CaptureVerdict;

typedef struct CaptureConfig {
        bool enabled;
        uint64_t interval_usec; /* at least this long between two captures */
        uint64_t budget_bytes;  /* the capture directory holds at most this much of ours */
} CaptureConfig;

#define CAPTURE_INTERVAL_DEFAULT_USEC (UINT64_C(60) * 1000000)
#define CAPTURE_BUDGET_DEFAULT_BYTES  (UINT64_C(1) << 30)

void capture_config_default(CaptureConfig *ret);

/* The format of a runtime's captures, from hello's runtime= ("go", "java", "node"). */
CaptureFormat capture_format_for_runtime(const char *runtime);
/* "pprof", "hprof", "heapsnapshot"; NULL for NONE. */
const char *capture_format_extension(CaptureFormat f);
/* The command that opens a file of this format, with %s for the path: "go tool pprof -top %s". */
const char *capture_format_open_command(CaptureFormat f);
const char *capture_why_to_string(CaptureWhy w);

/*
 * What a capture of this format is expected to allocate inside the group, from the live heap:
 *   pprof: the profile is built from sampled records and gzipped (the compressor's state is most of it):
 *          1M plus 1/256 of the live heap;
 *   hprof: the VM writes it through native buffers and the page cache: 16M plus 1/8 of the live heap;
 *   V8:    the snapshot is a graph of the heap built in memory first: 16M plus the live heap.
 * The file itself is expected at the live heap (V8: twice, it is JSON), pprof at 1M.
 */
uint64_t capture_expected_need_bytes(CaptureFormat f, uint64_t heap_live_bytes);
uint64_t capture_expected_file_bytes(CaptureFormat f, uint64_t heap_live_bytes);

typedef struct CaptureInput {
        uint64_t now_usec;
        bool have_last;       /* a capture was started before */
        uint64_t last_usec;   /* when */
        bool busy;            /* one is still running */
        CaptureFormat format; /* of the agent that would capture; NONE: none can */
        uint64_t heap_live_bytes;
        uint64_t headroom_bytes; /* the group's limit less its usage; UINT64_MAX: no limit */
        CaptureWhy why;
} CaptureInput;

typedef struct CaptureDecision {
        CaptureVerdict verdict;
        uint64_t need_bytes; /* what the capture is expected to allocate */
        uint64_t wait_usec;  /* TOO_SOON: how long until the next is allowed */
} CaptureDecision;

void capture_decide(const CaptureConfig *c, const CaptureInput *in, CaptureDecision *ret);

#define CAPTURE_REASON_STRLEN 192
/* One line for the log: "capture on critical refused: headroom 3.0M is below the 56.0M a V8 heap
 * snapshot is expected to need". Returns buf. */
const char *capture_decision_format(const CaptureInput *in, const CaptureDecision *d, char *buf,
                                    size_t size);

/*
 * Armed captures (docs/protocol.md, "Armed captures"). A leak of 100 MiB/s fills the room between the
 * cannot-fit line and the hard limit faster than a stats report, a step and a capture request can cross the
 * socket; so memgov tells the agent in advance where the line is, and the agent captures at the end of the
 * GC cycle that crosses it.
 *
 * The line: the largest live heap L for which the law's floor, L plus its minimum headroom
 * (max(L x heap_headroom_permyriad, heap_headroom_min_bytes)), still fits under the ideal target (the
 * limit less unseen memory and headroom). Past it, policy/law.c's breaker starts its cannot-fit clock.
 * 0 when not even an empty heap fits.
 */
uint64_t capture_arm_line_bytes(uint64_t ideal_bytes, uint32_t heap_headroom_permyriad,
                                uint64_t heap_headroom_min_bytes);

/* At most one arm or disarm per agent per gap, and a new line only when it moved by more than this. */
#define CAPTURE_ARM_GAP_USEC       (UINT64_C(250) * 1000)
#define CAPTURE_ARM_MOVE_PERMYRIAD 400

typedef enum CaptureArmVerdict {
        CAPTURE_ARM_KEEP,   /* leave the agent as it is */
        CAPTURE_ARM_ARM,    /* send arm with the new line (replaces the old one) */
        CAPTURE_ARM_DISARM, /* send disarm */
        _CAPTURE_ARM_VERDICT_MAX,
} CaptureArmVerdict;

typedef struct CaptureArmInput {
        uint64_t now_usec;
        CaptureFormat format;                 /* of the agent that would capture; NONE: none can be armed */
        bool have_line;                       /* the law steers under a limit and has not given up */
        uint64_t ideal_bytes, headroom_bytes; /* the law's (PolicyDecision) */
        uint32_t heap_headroom_permyriad;
        uint64_t heap_headroom_min_bytes;
        /* The live heaps of the other agents: the law's floor is on the sum, the agent sees its own. */
        uint64_t others_heap_live_bytes;
        /* The capture rules' state, as for capture_decide(). */
        bool have_last;
        uint64_t last_usec;
        bool busy;
        /* The agent's arm. */
        bool armed;
        uint64_t armed_line_bytes;
        bool have_sent;
        uint64_t sent_usec; /* the last arm or disarm sent to it */
} CaptureArmInput;

typedef struct CaptureArmDecision {
        CaptureArmVerdict verdict;
        uint64_t line_bytes; /* ARM: the line to send */
} CaptureArmDecision;

/*
 * Whether to arm, re-arm or disarm. Armed only when an automatic capture would be allowed now
 * (capture_decide()'s rules but the headroom, which is the moment's), and when the capture's expected need
 * at the line fits in the law's headroom below the limit: a Go profile does (1M plus 1/256), a JVM dump
 * or a V8 snapshot, which need a large share of the heap, would bring on the OOM kill they document.
 */
void capture_arm_decide(const CaptureConfig *c, const CaptureArmInput *in, CaptureArmDecision *ret);
const char *capture_arm_verdict_to_string(CaptureArmVerdict v);

/* One of our files in the capture directory. */
typedef struct CaptureFile {
        const char *name;
        uint64_t mtime_usec;
        uint64_t size_bytes;
        bool remove; /* set by capture_budget_plan() */
} CaptureFile;

/*
 * Marks the oldest files for removal until the rest fit in budget_bytes (ties: the name decides, so
 * the plan is the same on every run). Returns the bytes that stay.
 */
uint64_t capture_budget_plan(CaptureFile *files, size_t n, uint64_t budget_bytes);

/* Whether name is one of ours: "memgov-<anything>.<extension of a format>", no '/'. */
bool capture_name_is_ours(const char *name);

/*
 * The Go agent's GC trace, as memgov keeps it: a bounded ring of samples of
 * the runtime's GC counters, one per report in which the cycle count moved.
 */
typedef struct GcCycle {
        uint64_t t_usec; /* memgov's clock when it arrived */
        uint64_t count, heap_goal_bytes, heap_live_bytes;
        uint32_t gc_cpu_permyriad; /* share of CPU in GC since the previous sample */
} GcCycle;

#define GC_TRACE_MAX 256

typedef struct GcTrace {
        size_t n, next;
        GcCycle ring[GC_TRACE_MAX];
} GcTrace;

void gc_trace_push(GcTrace *t, const GcCycle *c);
/*
 * Copies up to max samples from the last window_usec before now_usec, oldest first, evenly thinned
 * when there are more than max. Returns how many.
 */
size_t gc_trace_recent(const GcTrace *t, uint64_t now_usec, uint64_t window_usec, GcCycle *ret, size_t max);

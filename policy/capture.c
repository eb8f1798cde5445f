/* SPDX-License-Identifier: MIT */
#include "capture.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "units.h"

#define MIB (UINT64_C(1) << 20)

static const struct {
        const char *runtime, *extension, *open, *what;
} formats[_CAPTURE_FORMAT_MAX] = {
        [CAPTURE_FORMAT_NONE] = {NULL, NULL, NULL, "capture"},
        [CAPTURE_FORMAT_PPROF] = {"go", "pprof", "go tool pprof -top %s", "Go heap profile"},
        [CAPTURE_FORMAT_HPROF] = {"java", "hprof", "visualvm --openfile %s", "JVM heap dump"},
        [CAPTURE_FORMAT_V8] = {"node", "heapsnapshot", "Chrome DevTools, Memory tab, Load: %s",
                               "V8 heap snapshot"},
};

void capture_config_default(CaptureConfig *ret)
{
        *ret = (CaptureConfig){
                .enabled = true,
                .interval_usec = CAPTURE_INTERVAL_DEFAULT_USEC,
                .budget_bytes = CAPTURE_BUDGET_DEFAULT_BYTES,
        };
}

CaptureFormat capture_format_for_runtime(const char *runtime)
{
        if (!runtime)
                return CAPTURE_FORMAT_NONE;
        for (int f = CAPTURE_FORMAT_NONE + 1; f < _CAPTURE_FORMAT_MAX; f++)
                if (strcmp(runtime, formats[f].runtime) == 0)
                        return (CaptureFormat)f;
        return CAPTURE_FORMAT_NONE;
}

const char *capture_format_extension(CaptureFormat f)
{
        return f < _CAPTURE_FORMAT_MAX ? formats[f].extension : NULL;
}

const char *capture_format_open_command(CaptureFormat f)
{
        return f < _CAPTURE_FORMAT_MAX ? formats[f].open : NULL;
}

const char *capture_why_to_string(CaptureWhy w)
{
        static const char *const names[_CAPTURE_WHY_MAX] = {
                [CAPTURE_WHY_CRITICAL] = "critical",
                [CAPTURE_WHY_CANNOT_FIT] = "cannot-fit",
                [CAPTURE_WHY_REQUEST] = "request",
                [CAPTURE_WHY_THRESHOLD] = "heap-threshold",
        };
        return w < _CAPTURE_WHY_MAX ? names[w] : NULL;
}

uint64_t capture_expected_need_bytes(CaptureFormat f, uint64_t heap_live_bytes)
{
        switch (f) {
        case CAPTURE_FORMAT_PPROF:
                return MIB + heap_live_bytes / 256;
        case CAPTURE_FORMAT_HPROF:
                return 16 * MIB + heap_live_bytes / 8;
        case CAPTURE_FORMAT_V8:
                return 16 * MIB + heap_live_bytes;
        default:
                return 0;
        }
}

uint64_t capture_expected_file_bytes(CaptureFormat f, uint64_t heap_live_bytes)
{
        switch (f) {
        case CAPTURE_FORMAT_PPROF:
                return MIB;
        case CAPTURE_FORMAT_HPROF:
                return heap_live_bytes;
        case CAPTURE_FORMAT_V8:
                return 2 * heap_live_bytes;
        default:
                return 0;
        }
}

void capture_decide(const CaptureConfig *c, const CaptureInput *in, CaptureDecision *ret)
{
        CaptureDecision d = {.need_bytes = capture_expected_need_bytes(in->format, in->heap_live_bytes)};

        if (!c->enabled)
                d.verdict = CAPTURE_REFUSE_OFF;
        else if (in->format == CAPTURE_FORMAT_NONE)
                d.verdict = CAPTURE_REFUSE_NO_AGENT;
        else if (in->busy)
                d.verdict = CAPTURE_REFUSE_BUSY;
        else if (in->have_last && in->now_usec < in->last_usec + c->interval_usec &&
                 in->why != CAPTURE_WHY_REQUEST) {
                /* An operator's request is one capture, not a loop: only the automatic ones are spaced. */
                d.verdict = CAPTURE_REFUSE_TOO_SOON;
                d.wait_usec = in->last_usec + c->interval_usec - in->now_usec;
        } else if (in->headroom_bytes < d.need_bytes)
                d.verdict = CAPTURE_REFUSE_HEADROOM;
        else if (capture_expected_file_bytes(in->format, in->heap_live_bytes) > c->budget_bytes)
                d.verdict = CAPTURE_REFUSE_NO_BUDGET;
        else
                d.verdict = CAPTURE_GO;
        *ret = d;
}

/* The law's floor for a live heap of live bytes (policy/law.c, compute_fit). */
static uint64_t heap_floor(uint64_t live, uint32_t permyriad, uint64_t min_bytes)
{
        uint64_t room = units_apply_permyriad(live, permyriad);

        if (room < min_bytes)
                room = min_bytes;
        return live > UINT64_MAX - room ? UINT64_MAX : live + room;
}

uint64_t capture_arm_line_bytes(uint64_t ideal_bytes, uint32_t heap_headroom_permyriad,
                                uint64_t heap_headroom_min_bytes)
{
        uint64_t d = 10000 + (uint64_t)heap_headroom_permyriad;
        uint64_t lo = 0, hi;

        if (heap_floor(0, heap_headroom_permyriad, heap_headroom_min_bytes) > ideal_bytes)
                return 0;
        /* The floor grows with the heap; its inverse from the estimate ideal x 10000 / (10000 + p), then the
         * rounding settled by bisection over the few bytes it can be off. */
        hi = ideal_bytes / d * 10000 + ideal_bytes % d * 10000 / d + 2;
        if (hi > ideal_bytes)
                hi = ideal_bytes;
        while (lo < hi) {
                uint64_t mid = lo + (hi - lo + 1) / 2;

                if (heap_floor(mid, heap_headroom_permyriad, heap_headroom_min_bytes) <= ideal_bytes)
                        lo = mid;
                else
                        hi = mid - 1;
        }
        return lo;
}

const char *capture_arm_verdict_to_string(CaptureArmVerdict v)
{
        static const char *const names[_CAPTURE_ARM_VERDICT_MAX] = {
                [CAPTURE_ARM_KEEP] = "keep",
                [CAPTURE_ARM_ARM] = "arm",
                [CAPTURE_ARM_DISARM] = "disarm",
        };
        return v < _CAPTURE_ARM_VERDICT_MAX ? names[v] : NULL;
}

static bool arm_wanted(const CaptureConfig *c, const CaptureArmInput *in, uint64_t line)
{
        if (!c->enabled || in->format == CAPTURE_FORMAT_NONE || !in->have_line || in->busy)
                return false;
        if (in->have_last && in->now_usec < in->last_usec + c->interval_usec)
                return false;
        return capture_expected_need_bytes(in->format, line) <= in->headroom_bytes &&
               capture_expected_file_bytes(in->format, line) <= c->budget_bytes;
}

void capture_arm_decide(const CaptureConfig *c, const CaptureArmInput *in, CaptureArmDecision *ret)
{
        uint64_t line = in->have_line ? capture_arm_line_bytes(in->ideal_bytes, in->heap_headroom_permyriad,
                                                               in->heap_headroom_min_bytes)
                                      : 0;

        line = line > in->others_heap_live_bytes ? line - in->others_heap_live_bytes : 0;
        bool may_send = !in->have_sent || in->now_usec >= in->sent_usec + CAPTURE_ARM_GAP_USEC;
        CaptureArmDecision d = {.verdict = CAPTURE_ARM_KEEP, .line_bytes = line};

        if (!arm_wanted(c, in, line)) {
                /* A disarm is not held back by the gap: a capture that is no longer allowed must not fire.
                 */
                if (in->armed)
                        d.verdict = CAPTURE_ARM_DISARM;
        } else if (may_send) {
                uint64_t moved = line > in->armed_line_bytes ? line - in->armed_line_bytes
                                                             : in->armed_line_bytes - line;

                if (!in->armed ||
                    moved > units_apply_permyriad(in->armed_line_bytes, CAPTURE_ARM_MOVE_PERMYRIAD))
                        d.verdict = CAPTURE_ARM_ARM;
        }
        *ret = d;
}

const char *capture_decision_format(const CaptureInput *in, const CaptureDecision *d, char *buf, size_t size)
{
        char a[UNITS_SIZE_STRLEN], b[UNITS_SIZE_STRLEN];
        const char *why = capture_why_to_string(in->why) ?: "?";
        const char *what = in->format < _CAPTURE_FORMAT_MAX ? formats[in->format].what : "capture";

        switch (d->verdict) {
        case CAPTURE_GO:
                snprintf(buf, size, "capture on %s: asking for a %s (expected to need %s)", why, what,
                         units_format_size_human(d->need_bytes, a, sizeof(a)));
                break;
        case CAPTURE_REFUSE_OFF:
                snprintf(buf, size, "capture on %s refused: captures are off (--capture off)", why);
                break;
        case CAPTURE_REFUSE_NO_AGENT:
                snprintf(
                        buf, size,
                        "capture on %s refused: no connected agent can capture a heap (Go, Java and Node agents can)",
                        why);
                break;
        case CAPTURE_REFUSE_BUSY:
                snprintf(buf, size, "capture on %s refused: the previous capture is still running", why);
                break;
        case CAPTURE_REFUSE_TOO_SOON:
                snprintf(buf, size,
                         "capture on %s refused: one capture per interval, the next in %" PRIu64 "s", why,
                         (d->wait_usec + 999999) / 1000000);
                break;
        case CAPTURE_REFUSE_HEADROOM:
                snprintf(buf, size,
                         "capture on %s refused: headroom %s is below the %s a %s is expected to need", why,
                         units_format_size_human(in->headroom_bytes, a, sizeof(a)),
                         units_format_size_human(d->need_bytes, b, sizeof(b)), what);
                break;
        case CAPTURE_REFUSE_NO_BUDGET:
                snprintf(
                        buf, size,
                        "capture on %s refused: the %s is expected at %s, more than the whole disk budget of --capture-budget",
                        why, what,
                        units_format_size_human(capture_expected_file_bytes(in->format, in->heap_live_bytes),
                                                a, sizeof(a)));
                break;
        default:
                snprintf(buf, size, "capture on %s: ?", why);
        }
        return buf;
}

static bool older(const CaptureFile *a, const CaptureFile *b)
{
        if (a->mtime_usec != b->mtime_usec)
                return a->mtime_usec < b->mtime_usec;
        return strcmp(a->name, b->name) < 0;
}

uint64_t capture_budget_plan(CaptureFile *files, size_t n, uint64_t budget_bytes)
{
        uint64_t total = 0;

        for (size_t i = 0; i < n; i++) {
                files[i].remove = false;
                total += files[i].size_bytes;
        }
        /* n is the directory's few files: a scan for the oldest per removal is enough. */
        while (total > budget_bytes) {
                CaptureFile *oldest = NULL;

                for (size_t i = 0; i < n; i++)
                        if (!files[i].remove && (!oldest || older(&files[i], oldest)))
                                oldest = &files[i];
                if (!oldest)
                        break;
                oldest->remove = true;
                total -= oldest->size_bytes;
        }
        return total;
}

bool capture_name_is_ours(const char *name)
{
        const char *dot;

        if (!name || strncmp(name, "memgov-", 7) != 0 || strchr(name, '/'))
                return false;
        dot = strrchr(name, '.');
        if (!dot || dot == name + 7)
                return false;
        for (int f = CAPTURE_FORMAT_NONE + 1; f < _CAPTURE_FORMAT_MAX; f++)
                if (strcmp(dot + 1, formats[f].extension) == 0)
                        return true;
        return false;
}

void gc_trace_push(GcTrace *t, const GcCycle *c)
{
        t->ring[t->next] = *c;
        t->next = (t->next + 1) % GC_TRACE_MAX;
        if (t->n < GC_TRACE_MAX)
                t->n++;
}

size_t gc_trace_recent(const GcTrace *t, uint64_t now_usec, uint64_t window_usec, GcCycle *ret, size_t max)
{
        size_t first = t->n, in_window, out = 0;

        /* Oldest first: index i of n is ring[(next - n + i) mod MAX]. */
        for (size_t i = 0; i < t->n; i++) {
                const GcCycle *c = &t->ring[(t->next + GC_TRACE_MAX - t->n + i) % GC_TRACE_MAX];
                if (c->t_usec + window_usec >= now_usec) {
                        first = i;
                        break;
                }
        }
        in_window = t->n - first;
        if (max == 0 || in_window == 0)
                return 0;
        for (size_t k = 0; k < max && k < in_window; k++) {
                /* Evenly spread over the window, the newest always last. */
                size_t i = in_window <= max ? k : max == 1 ? in_window - 1 : k * (in_window - 1) / (max - 1);
                ret[out++] = t->ring[(t->next + GC_TRACE_MAX - t->n + first + i) % GC_TRACE_MAX];
        }
        return out;
}

/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <string.h>

#include "../../policy/capture.h"
#include "check.h"

#define M   (UINT64_C(1) << 20)
#define SEC UINT64_C(1000000)

static void test_decide(void)
{
        static const struct {
                const char *name;
                bool enabled, have_last, busy;
                uint64_t now, last;
                CaptureFormat format;
                uint64_t live, headroom;
                CaptureWhy why;
                CaptureVerdict want;
                const char *text;
        } cases[] = {
                {"go, room", true, false, false, 100 * SEC, 0, CAPTURE_FORMAT_PPROF, 64 * M, 32 * M,
                 CAPTURE_WHY_CRITICAL, CAPTURE_GO,
                 "capture on critical: asking for a Go heap profile (expected to need 1.2M)"},
                {"off", false, false, false, 100 * SEC, 0, CAPTURE_FORMAT_PPROF, 64 * M, 32 * M,
                 CAPTURE_WHY_CRITICAL, CAPTURE_REFUSE_OFF,
                 "capture on critical refused: captures are off (--capture off)"},
                {"C agent", true, false, false, 100 * SEC, 0, CAPTURE_FORMAT_NONE, 64 * M, 32 * M,
                 CAPTURE_WHY_CANNOT_FIT, CAPTURE_REFUSE_NO_AGENT, NULL},
                {"busy", true, true, true, 100 * SEC, 0, CAPTURE_FORMAT_PPROF, 64 * M, 32 * M,
                 CAPTURE_WHY_CRITICAL, CAPTURE_REFUSE_BUSY, NULL},
                {"too soon", true, true, false, 100 * SEC, 70 * SEC, CAPTURE_FORMAT_PPROF, 64 * M, 32 * M,
                 CAPTURE_WHY_CANNOT_FIT, CAPTURE_REFUSE_TOO_SOON,
                 "capture on cannot-fit refused: one capture per interval, the next in 30s"},
                {"interval over", true, true, false, 130 * SEC, 70 * SEC, CAPTURE_FORMAT_PPROF, 64 * M,
                 32 * M, CAPTURE_WHY_CANNOT_FIT, CAPTURE_GO, NULL},
                {"request is not spaced", true, true, false, 100 * SEC, 99 * SEC, CAPTURE_FORMAT_PPROF,
                 64 * M, 32 * M, CAPTURE_WHY_REQUEST, CAPTURE_GO, NULL},
                {"node snapshot needs the heap again", true, false, false, 100 * SEC, 0, CAPTURE_FORMAT_V8,
                 40 * M, 16 * M, CAPTURE_WHY_REQUEST, CAPTURE_REFUSE_HEADROOM,
                 "capture on request refused: headroom 16.0M is below the 56.0M a V8 heap snapshot is expected to need"},
                {"jvm dump, room", true, false, false, 100 * SEC, 0, CAPTURE_FORMAT_HPROF, 80 * M, 26 * M,
                 CAPTURE_WHY_CRITICAL, CAPTURE_GO, NULL},
                {"jvm dump, 1 byte short", true, false, false, 100 * SEC, 0, CAPTURE_FORMAT_HPROF, 80 * M,
                 26 * M - 1, CAPTURE_WHY_CRITICAL, CAPTURE_REFUSE_HEADROOM, NULL},
                {"no limit", true, false, false, 100 * SEC, 0, CAPTURE_FORMAT_V8, 4000 * M, UINT64_MAX,
                 CAPTURE_WHY_CRITICAL, CAPTURE_REFUSE_NO_BUDGET, NULL},
        };
        CaptureConfig c;

        capture_config_default(&c);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                CaptureInput in = {
                        .now_usec = cases[i].now,
                        .have_last = cases[i].have_last,
                        .last_usec = cases[i].last,
                        .busy = cases[i].busy,
                        .format = cases[i].format,
                        .heap_live_bytes = cases[i].live,
                        .headroom_bytes = cases[i].headroom,
                        .why = cases[i].why,
                };
                CaptureDecision d;
                char text[CAPTURE_REASON_STRLEN];

                c.enabled = cases[i].enabled;
                capture_decide(&c, &in, &d);
                CHECK(d.verdict == cases[i].want, "%s: verdict %d, want %d", cases[i].name, d.verdict,
                      cases[i].want);
                capture_decision_format(&in, &d, text, sizeof(text));
                if (cases[i].text)
                        CHECK(strcmp(text, cases[i].text) == 0, "%s: '%s'", cases[i].name, text);
        }
}

/* The line is where policy/law.c's floor (live + max(10% of it, 4M) by default) meets the ideal target. */
static void test_arm_line(void)
{
        static const struct {
                uint64_t ideal;
                uint32_t permyriad;
                uint64_t min, want;
        } cases[] = {
                {110 * M, 1000, 4 * M, 100 * M}, /* 10% of 100M is the headroom */
                {110 * M + 10, 1000, 4 * M, 100 * M + 9},
                {20 * M, 1000, 4 * M, 16 * M}, /* the minimum is the headroom below 40M */
                {4 * M, 1000, 4 * M, 0},       /* an empty heap just fits */
                {4 * M - 1, 1000, 4 * M, 0},   /* not even that */
                {0, 1000, 4 * M, 0},
                {243 * M, 1000, 4 * M, 220 * M + 953251}, /* 256M: 5% headroom, no unseen memory */
                {100 * M, 0, 0, 100 * M},
                {64 * 1024 * M, 1000, 4 * M, UINT64_C(62472251579)},
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                uint64_t got = capture_arm_line_bytes(cases[i].ideal, cases[i].permyriad, cases[i].min);
                CHECK(got == cases[i].want, "ideal %" PRIu64 ": line %" PRIu64 ", want %" PRIu64,
                      cases[i].ideal, got, cases[i].want);
        }
}

static void test_arm_decide(void)
{
        /* ideal 110M: the line is 100M. */
        static const struct {
                const char *name;
                bool enabled, have_line, busy, have_last;
                uint64_t last;
                CaptureFormat format;
                uint64_t headroom;
                bool armed;
                uint64_t armed_line;
                bool have_sent;
                uint64_t sent;
                CaptureArmVerdict want;
        } cases[] = {
                {"first arm", true, true, false, false, 0, CAPTURE_FORMAT_PPROF, 8 * M, false, 0, false, 0,
                 CAPTURE_ARM_ARM},
                {"armed at the line", true, true, false, false, 0, CAPTURE_FORMAT_PPROF, 8 * M, true,
                 100 * M, true, 99 * SEC, CAPTURE_ARM_KEEP},
                {"moved 3%: kept", true, true, false, false, 0, CAPTURE_FORMAT_PPROF, 8 * M, true, 103 * M,
                 true, 99 * SEC, CAPTURE_ARM_KEEP},
                {"moved 5%: re-armed", true, true, false, false, 0, CAPTURE_FORMAT_PPROF, 8 * M, true,
                 105 * M, true, 99 * SEC, CAPTURE_ARM_ARM},
                {"moved 5%, but 100ms after the last arm", true, true, false, false, 0, CAPTURE_FORMAT_PPROF,
                 8 * M, true, 105 * M, true, 100 * SEC - 100000, CAPTURE_ARM_KEEP},
                {"re-armed after a disarm, but not within the gap", true, true, false, false, 0,
                 CAPTURE_FORMAT_PPROF, 8 * M, false, 0, true, 100 * SEC - 100000, CAPTURE_ARM_KEEP},
                {"no line: disarmed", true, false, false, false, 0, CAPTURE_FORMAT_PPROF, 8 * M, true,
                 100 * M, true, 99 * SEC, CAPTURE_ARM_DISARM},
                {"no line, nothing armed", true, false, false, false, 0, CAPTURE_FORMAT_PPROF, 8 * M, false,
                 0, false, 0, CAPTURE_ARM_KEEP},
                {"captures off", false, true, false, false, 0, CAPTURE_FORMAT_PPROF, 8 * M, false, 0, false,
                 0, CAPTURE_ARM_KEEP},
                {"a capture under way: disarmed at once", true, true, true, true, 100 * SEC,
                 CAPTURE_FORMAT_PPROF, 8 * M, true, 100 * M, true, 100 * SEC - 1, CAPTURE_ARM_DISARM},
                {"one capture per interval", true, true, false, true, 70 * SEC, CAPTURE_FORMAT_PPROF, 8 * M,
                 false, 0, false, 0, CAPTURE_ARM_KEEP},
                {"the interval is over", true, true, false, true, 40 * SEC, CAPTURE_FORMAT_PPROF, 8 * M,
                 false, 0, false, 0, CAPTURE_ARM_ARM},
                {"a JVM dump at the line needs more than the headroom", true, true, false, false, 0,
                 CAPTURE_FORMAT_HPROF, 8 * M, false, 0, false, 0, CAPTURE_ARM_KEEP},
                {"a V8 snapshot likewise", true, true, false, false, 0, CAPTURE_FORMAT_V8, 64 * M, false, 0,
                 false, 0, CAPTURE_ARM_KEEP},
                {"a Go profile needs 1.4M", true, true, false, false, 0, CAPTURE_FORMAT_PPROF,
                 M + 100 * M / 256, false, 0, false, 0, CAPTURE_ARM_ARM},
                {"one byte less", true, true, false, false, 0, CAPTURE_FORMAT_PPROF, M + 100 * M / 256 - 1,
                 false, 0, false, 0, CAPTURE_ARM_KEEP},
                {"no agent that can", true, true, false, false, 0, CAPTURE_FORMAT_NONE, 8 * M, false, 0,
                 false, 0, CAPTURE_ARM_KEEP},
        };
        CaptureConfig c;

        capture_config_default(&c);
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                CaptureArmInput in = {
                        .now_usec = 100 * SEC,
                        .format = cases[i].format,
                        .have_line = cases[i].have_line,
                        .ideal_bytes = 110 * M,
                        .headroom_bytes = cases[i].headroom,
                        .heap_headroom_permyriad = 1000,
                        .heap_headroom_min_bytes = 4 * M,
                        .have_last = cases[i].have_last,
                        .last_usec = cases[i].last,
                        .busy = cases[i].busy,
                        .armed = cases[i].armed,
                        .armed_line_bytes = cases[i].armed_line,
                        .have_sent = cases[i].have_sent,
                        .sent_usec = cases[i].sent,
                };
                CaptureArmDecision d;

                c.enabled = cases[i].enabled;
                capture_arm_decide(&c, &in, &d);
                CHECK(d.verdict == cases[i].want, "%s: %s, want %s", cases[i].name,
                      capture_arm_verdict_to_string(d.verdict),
                      capture_arm_verdict_to_string(cases[i].want));
                if (d.verdict == CAPTURE_ARM_ARM)
                        CHECK(d.line_bytes == 100 * M, "%s: line %" PRIu64, cases[i].name, d.line_bytes);
        }
        /* Two agents: the law's floor is on their sum, so the line of the one armed is less the other's
         * heap. */
        {
                CaptureArmInput in = {
                        .now_usec = 100 * SEC,
                        .format = CAPTURE_FORMAT_PPROF,
                        .have_line = true,
                        .ideal_bytes = 110 * M,
                        .headroom_bytes = 8 * M,
                        .heap_headroom_permyriad = 1000,
                        .heap_headroom_min_bytes = 4 * M,
                        .others_heap_live_bytes = 30 * M,
                };
                CaptureArmDecision d;

                capture_arm_decide(&c, &in, &d);
                CHECK(d.verdict == CAPTURE_ARM_ARM && d.line_bytes == 70 * M, "two agents: %s at %" PRIu64,
                      capture_arm_verdict_to_string(d.verdict), d.line_bytes);
                in.others_heap_live_bytes = 200 * M;
                capture_arm_decide(&c, &in, &d);
                CHECK(d.verdict == CAPTURE_ARM_ARM && d.line_bytes == 0,
                      "the others alone are past it: %" PRIu64, d.line_bytes);
        }
        CHECK(strcmp(capture_why_to_string(CAPTURE_WHY_THRESHOLD), "heap-threshold") == 0, "why");
}

static void test_budget(void)
{
        CaptureFile f[] = {
                {"memgov-a-3.pprof", 300, 40 * M, false},
                {"memgov-a-1.pprof", 100, 50 * M, false},
                {"memgov-a-2.hprof", 200, 30 * M, false},
                {"memgov-a-2b.hprof", 200, 10 * M, false},
        };

        CHECK(capture_budget_plan(f, 4, 200 * M) == 130 * M, "all fit");
        CHECK(!f[0].remove && !f[1].remove && !f[2].remove && !f[3].remove, "nothing removed");
        /* Oldest first; at equal times the name decides. */
        CHECK(capture_budget_plan(f, 4, 75 * M) == 50 * M, "down to the budget");
        CHECK(f[1].remove && f[2].remove && !f[3].remove && !f[0].remove, "oldest two go: %d %d %d %d",
              f[0].remove, f[1].remove, f[2].remove, f[3].remove);
        CHECK(capture_budget_plan(f, 4, 0) == 0, "budget 0 removes all");
        CHECK(f[0].remove && f[1].remove && f[2].remove && f[3].remove, "all removed");
        CHECK(capture_budget_plan(NULL, 0, 0) == 0, "empty directory");
}

static void test_names(void)
{
        CHECK(capture_name_is_ours("memgov-app-1.pprof"), "pprof");
        CHECK(capture_name_is_ours("memgov-x.heapsnapshot"), "heapsnapshot");
        CHECK(!capture_name_is_ours("memgov-.txt"), "other extension");
        CHECK(!capture_name_is_ours("app.hprof"), "not ours");
        CHECK(!capture_name_is_ours("memgov-.hprof"), "nothing between prefix and extension");
        CHECK(!capture_name_is_ours("memgov-a/b.hprof"), "slash");
        CHECK(capture_format_for_runtime("go") == CAPTURE_FORMAT_PPROF, "go");
        CHECK(capture_format_for_runtime("java") == CAPTURE_FORMAT_HPROF, "java");
        CHECK(capture_format_for_runtime("node") == CAPTURE_FORMAT_V8, "node");
        CHECK(capture_format_for_runtime("c") == CAPTURE_FORMAT_NONE, "c");
        CHECK(capture_format_for_runtime(NULL) == CAPTURE_FORMAT_NONE, "NULL");
        CHECK(strcmp(capture_format_open_command(CAPTURE_FORMAT_PPROF), "go tool pprof -top %s") == 0,
              "pprof");
}

static void test_gc_trace(void)
{
        static GcTrace t;
        GcCycle out[8];
        size_t n;

        CHECK(gc_trace_recent(&t, 0, SEC, out, 8) == 0, "empty");
        for (uint64_t i = 1; i <= GC_TRACE_MAX + 10; i++)
                gc_trace_push(&t, &(GcCycle){.t_usec = i * SEC, .count = i});
        CHECK(t.n == GC_TRACE_MAX, "bounded");
        /* The last 5 s: samples 262..266 at 262..266 s. */
        n = gc_trace_recent(&t, (GC_TRACE_MAX + 10) * SEC, 4 * SEC, out, 8);
        CHECK(n == 5 && out[0].count == GC_TRACE_MAX + 6 && out[4].count == GC_TRACE_MAX + 10,
              "window: %zu %" PRIu64, n, out[0].count);
        /* All of them, thinned to 8: the oldest kept first, the newest last. */
        n = gc_trace_recent(&t, (GC_TRACE_MAX + 10) * SEC, 1000 * SEC, out, 8);
        CHECK(n == 8 && out[0].count == 11 && out[7].count == GC_TRACE_MAX + 10,
              "thinned: %zu %" PRIu64 " %" PRIu64, n, out[0].count, out[7].count);
        n = gc_trace_recent(&t, (GC_TRACE_MAX + 10) * SEC, 1000 * SEC, out, 1);
        CHECK(n == 1 && out[0].count == GC_TRACE_MAX + 10, "one: the newest");
}

int main(void)
{
        test_decide();
        test_arm_line();
        test_arm_decide();
        test_budget();
        test_names();
        test_gc_trace();
        return check_finish("test-capture");
}

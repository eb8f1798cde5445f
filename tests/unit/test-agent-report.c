/* SPDX-License-Identifier: MIT */
/* policy/agent-report.c: the checks of an agent's messages that both supervisors share, table-driven. */
#include <errno.h>
#include <stdlib.h>

#include "../../policy/agent-report.h"
#include "check.h"

static int parse(const char *text, char *buf, size_t size, ProtoMessage *m)
{
        const char *reason = NULL;

        snprintf(buf, size, "%s", text);
        return proto_parse(buf, strlen(buf), m, &reason);
}

static void test_hello(void)
{
        static const struct {
                const char *line;
                bool take_pid;
                int ret;
                const char *reason; /* when ret < 0 */
                int pid;
                const char *runtime, *version;
        } rows[] = {
                {"hello v=1 runtime=go version=go1.22.3 pid=42", true, 0, NULL, 42, "go", "go1.22.3"},
                {"hello v=3 runtime=c", true, 0, NULL, 0, "c", ""},
                {"hello v=1 runtime=go pid=42", false, 0, NULL, 0, "go", ""},
                {"hello v=1 runtime=go pid=4294967296", true, 0, NULL, 0, "go", ""},
                {"hello runtime=go", true, -EBADMSG, "hello without a valid v=", 0, "", ""},
                {"hello v=0 runtime=go", true, -EBADMSG, "hello without a valid v=", 0, "", ""},
                {"hello v=x runtime=go", true, -EBADMSG, "hello without a valid v=", 0, "", ""},
                {"hello v=1", true, -EBADMSG, "hello without runtime=", 0, "", ""},
                {"hello v=1 runtime=", true, -EBADMSG, "hello without runtime=", 0, "", ""},
                {"hello v=1 runtime=go pid=-1", true, -EBADMSG, "bad pid= in hello", 0, "", ""},
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                AgentReport a = {.id = 7};
                const char *reason = NULL;
                char buf[256];
                ProtoMessage m;
                uint64_t v = 0;
                int r;

                CHECK(parse(rows[i].line, buf, sizeof(buf), &m) == 0, "%s parses", rows[i].line);
                r = agent_report_hello(&a, &m, rows[i].take_pid, &v, &reason);
                CHECK(r == rows[i].ret, "%s: %d", rows[i].line, r);
                if (r < 0) {
                        CHECK(reason && strcmp(reason, rows[i].reason) == 0, "%s: %s", rows[i].line,
                              reason ? reason : "(none)");
                        continue;
                }
                CHECK(a.id == 7 && a.pid == rows[i].pid, "%s: pid %d", rows[i].line, (int)a.pid);
                CHECK(strcmp(a.runtime, rows[i].runtime) == 0, "%s: runtime %s", rows[i].line, a.runtime);
                CHECK(strcmp(a.version, rows[i].version) == 0, "%s: version %s", rows[i].line, a.version);
                CHECK(v >= 1, "%s: v=%" PRIu64, rows[i].line, v);
        }
}

/* "arm" counts only with "capture": an armed capture is a capture the agent starts by itself. */
static void test_caps(void)
{
        static const struct {
                const char *line;
                bool capture, arm;
        } rows[] = {
                {"hello v=1 runtime=go caps=limit,gc,capture,arm", true, true},
                {"hello v=1 runtime=go caps=limit,gc,capture", true, false},
                {"hello v=1 runtime=go caps=limit,arm", false, false},
                {"hello v=1 runtime=go", false, false},
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                AgentReport a = {.id = 7};
                const char *reason = NULL;
                char buf[256];
                ProtoMessage m;
                uint64_t v = 0;

                CHECK(parse(rows[i].line, buf, sizeof(buf), &m) == 0, "%s parses", rows[i].line);
                CHECK(agent_report_hello(&a, &m, true, &v, &reason) == 0, "%s", rows[i].line);
                CHECK(a.can_capture == rows[i].capture && a.can_arm == rows[i].arm, "%s: capture %d arm %d",
                      rows[i].line, a.can_capture, a.can_arm);
        }
}

static void test_stats(void)
{
        static const struct {
                const char *line;
                int ret;
                bool have_stats;
                uint64_t total, live;
        } rows[] = {
                {"stats total_bytes=100 heap_live_bytes=60 gc_count=3 gc_cpu_fraction=0.25", 0, true, 100,
                 60},
                {"stats heap_live_bytes=60", 0, false, 5, 60}, /* total kept from before */
                {"stats x-go-goroutines=12", 0, false, 5, 1},
                {"stats total_bytes=1x", -EBADMSG, false, 5, 1},
                {"stats total_bytes=100 gc_count=18446744073709551616", -EBADMSG, false, 5, 1},
                {"stats gc_cpu_fraction=1e3", -EBADMSG, false, 5, 1},
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                AgentReport a = {.total_bytes = 5, .heap_live_bytes = 1};
                const char *reason = NULL;
                char buf[256];
                ProtoMessage m;
                int r;

                CHECK(parse(rows[i].line, buf, sizeof(buf), &m) == 0, "%s parses", rows[i].line);
                r = agent_report_stats(&a, &m, &reason);
                CHECK(r == rows[i].ret, "%s: %d", rows[i].line, r);
                CHECK(r == 0 || reason, "%s: a reason", rows[i].line);
                CHECK(a.have_stats == rows[i].have_stats, "%s: have_stats", rows[i].line);
                CHECK(a.total_bytes == rows[i].total && a.heap_live_bytes == rows[i].live,
                      "%s: total %" PRIu64 " live %" PRIu64 " (a bad line changes nothing)", rows[i].line,
                      a.total_bytes, a.heap_live_bytes);
        }
}

static void test_applied(void)
{
        AgentReport a = {};
        const char *reason = NULL;
        char buf[256];
        ProtoMessage m;
        uint64_t seq = 0;
        usec_t took = 0;

        agent_report_target_sent(&a, 5, 1000, 2000);
        parse("applied seq=4 limit_bytes=900", buf, sizeof(buf), &m);
        CHECK(agent_report_applied(&a, &m, 2500, &seq, &reason) == 0 && seq == 4, "an older seq is taken");
        CHECK(!agent_report_applied_in(&a, 4, &took, NULL), "but is not the last target's");
        parse("applied seq=5 limit_bytes=max", buf, sizeof(buf), &m);
        CHECK(agent_report_applied(&a, &m, 2750, &seq, &reason) == 0 && seq == 5, "the last target's");
        CHECK(a.applied_limit_bytes == PROTO_LIMIT_NONE, "max read back as no limit");
        CHECK(agent_report_applied_in(&a, 5, &took, NULL) && took == 750, "took %" PRIu64 " us",
              (uint64_t)took);
        CHECK(!a.applied_stamped, "no at_us=: timed by the arrival");
        agent_report_target_sent(&a, 6, 800, 3000);
        CHECK(!agent_report_applied_in(&a, 6, &took, NULL), "a new target is not applied yet");
        parse("applied limit_bytes=800", buf, sizeof(buf), &m);
        CHECK(agent_report_applied(&a, &m, 3100, &seq, &reason) == -EBADMSG &&
                      strcmp(reason, "applied without a valid seq=") == 0,
              "seq= is required");
        parse("applied seq=6 limit_bytes=lots", buf, sizeof(buf), &m);
        CHECK(agent_report_applied(&a, &m, 3100, &seq, &reason) == -EBADMSG &&
                      strcmp(reason, "bad limit_bytes= in applied") == 0,
              "limit_bytes= must be a limit");
        parse("applied seq=6 limit_bytes=800 at_us=soon", buf, sizeof(buf), &m);
        CHECK(agent_report_applied(&a, &m, 3100, &seq, &reason) == -EBADMSG &&
                      strcmp(reason, "bad at_us= in applied") == 0,
              "at_us= must be a number");
        CHECK(!agent_report_applied_in(&a, 6, &took, NULL), "a bad line acknowledges nothing");

        /* The agent's stamp: when the runtime had the target, whatever kept memgov from reading it. */
        usec_t acked = 0;
        parse("applied seq=6 limit_bytes=800 at_us=3200", buf, sizeof(buf), &m);
        CHECK(agent_report_applied(&a, &m, 9000, &seq, &reason) == 0, "at_us= taken");
        CHECK(agent_report_applied_in(&a, 6, &took, &acked) && took == 200 && acked == 6000 &&
                      a.applied_stamped,
              "took %" PRIu64 " us by the agent's clock, acknowledged after %" PRIu64 " us", (uint64_t)took,
              (uint64_t)acked);
        /* A stamp outside [sent, arrival] is another clock's: the arrival stands for it. The rows: before
         * the send, after the arrival, the window's two ends, zero, far off. */
        static const struct {
                const char *line;
                usec_t sent, arrived, took;
                bool stamped;
        } clocks[] = {
                {"applied seq=7 limit_bytes=800 at_us=2999", 3000, 4000, 1000, false},
                {"applied seq=7 limit_bytes=800 at_us=4001", 3000, 4000, 1000, false},
                {"applied seq=7 limit_bytes=800 at_us=3000", 3000, 4000, 0, true},
                {"applied seq=7 limit_bytes=800 at_us=4000", 3000, 4000, 1000, true},
                {"applied seq=7 limit_bytes=800 at_us=0", 3000, 4000, 1000, false},
                {"applied seq=7 limit_bytes=800 at_us=99999999999", 3000, 4000, 1000, false},
        };
        for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
                agent_report_target_sent(&a, 7, 800, clocks[i].sent);
                parse(clocks[i].line, buf, sizeof(buf), &m);
                CHECK(agent_report_applied(&a, &m, clocks[i].arrived, &seq, &reason) == 0 &&
                              agent_report_applied_in(&a, 7, &took, &acked) && took == clocks[i].took &&
                              acked == clocks[i].arrived - clocks[i].sent &&
                              a.applied_stamped == clocks[i].stamped,
                      "%s sent at %" PRIu64 ", arrived at %" PRIu64 ": took %" PRIu64 " us", clocks[i].line,
                      (uint64_t)clocks[i].sent, (uint64_t)clocks[i].arrived, (uint64_t)took);
        }
}

static void test_shares(void)
{
        static const struct {
                uint64_t total, w, sum, share;
        } rows[] = {
                {1000, 1, 1, 1000},
                {1000, 1, 4, 250},
                {1000, 3, 4, 750},
                {PROTO_LIMIT_NONE, 1, 4, PROTO_LIMIT_NONE},
                {UINT64_C(1) << 62, UINT64_C(1) << 47, UINT64_C(1) << 48, UINT64_C(1) << 61},
        };
        AgentReport none = {}, big = {.total_bytes = UINT64_MAX}, some = {.total_bytes = 1234};

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
                CHECK(agent_share(rows[i].total, rows[i].w, rows[i].sum) == rows[i].share, "row %zu", i);
        CHECK(agent_report_weight(&none) == 1, "no total weighs 1");
        CHECK(agent_report_weight(&big) == UINT64_C(1) << 48, "capped");
        CHECK(agent_report_weight(&some) == 1234, "the total");
}

static void test_sample(void)
{
        AgentReport a[3] = {
                {.have_stats = true, .total_bytes = 100, .heap_live_bytes = 40, .gc_cpu_fraction = 0.02},
                {.have_stats = false, .total_bytes = 999, .heap_live_bytes = 999, .gc_cpu_fraction = 0.9},
                {.have_stats = true, .total_bytes = 50, .heap_live_bytes = 10, .gc_cpu_fraction = 0.5},
        };
        PolicySample ps = {};

        agent_reports_sample(a, 0, &ps);
        CHECK(!ps.agent_present, "no agent, none present");
        agent_reports_sample(a, 3, &ps);
        CHECK(ps.agent_present, "present");
        CHECK(ps.runtime_total_bytes == 150 && ps.heap_live_bytes == 50, "summed, without the silent one");
        CHECK(ps.gc_cpu_permyriad == 5000, "the highest GC share: %" PRIu32, ps.gc_cpu_permyriad);
}

static void test_decision(void)
{
        static const struct {
                unsigned actions;
                bool level_changed, refresh;
                uint64_t target;
                PolicyLevel level;
                bool sends_target;
                uint64_t bytes;
                size_t n;
                ProtoRequest first;
        } rows[] = {
                {0, false, false, 100, POLICY_LEVEL_OK, false, 0, 0, PROTO_REQUEST_GC},
                {POLICY_ACTION_LOWER_TARGET, false, false, 100, POLICY_LEVEL_OK, true, 100, 0,
                 PROTO_REQUEST_GC},
                {POLICY_ACTION_RAISE_TARGET, false, false, POLICY_TARGET_NONE, POLICY_LEVEL_OK, true,
                 PROTO_LIMIT_NONE, 0, PROTO_REQUEST_GC},
                {0, true, false, 100, POLICY_LEVEL_ELEVATED, true, 100, 0, PROTO_REQUEST_GC},
                {POLICY_ACTION_GC | POLICY_ACTION_SHED, false, false, 100, POLICY_LEVEL_CRITICAL, false, 0,
                 2, PROTO_REQUEST_GC},
                {POLICY_ACTION_RELEASE | POLICY_ACTION_SHED, false, false, 100, POLICY_LEVEL_CRITICAL, false,
                 0, 2, PROTO_REQUEST_RELEASE},
                {POLICY_ACTION_RECLAIM | POLICY_ACTION_SET_HIGH, false, false, 100, POLICY_LEVEL_ELEVATED,
                 false, 0, 0, PROTO_REQUEST_GC},
                /* stats? first: the requests that follow may depend on what they say. */
                {POLICY_ACTION_GC, false, true, 100, POLICY_LEVEL_OK, false, 0, 2, PROTO_REQUEST_STATS},
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                PolicyDecision d = {.actions = rows[i].actions,
                                    .level_changed = rows[i].level_changed,
                                    .refresh_stats = rows[i].refresh,
                                    .target_bytes = rows[i].target,
                                    .level = rows[i].level};
                ProtoRequest req[AGENT_REQUESTS_MAX];
                ProtoLevel level = _PROTO_LEVEL_MAX;
                uint64_t bytes = 0;
                bool t = agent_decision_target(&d, &bytes, &level);
                size_t n = agent_decision_requests(&d, req);

                CHECK(t == rows[i].sends_target, "row %zu: target", i);
                CHECK(!t || (bytes == rows[i].bytes && level == (ProtoLevel)rows[i].level),
                      "row %zu: %" PRIu64, i, bytes);
                CHECK(n == rows[i].n && (n == 0 || req[0] == rows[i].first), "row %zu: %zu requests", i, n);
        }
}

int main(void)
{
        test_hello();
        test_caps();
        test_stats();
        test_applied();
        test_shares();
        test_sample();
        test_decision();
        return check_finish("agent-report");
}

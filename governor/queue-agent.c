/* SPDX-License-Identifier: MIT */
#include "queue-agent.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policy/macro.h"
#include "agent-log.h"
#include "log.h"

/* docs/protocol.md, "Limits memgov enforces per connection". */
#define LINE_TIMEOUT_USEC (5 * USEC_PER_SEC)

struct QueueAgent {
        PlatformSandbox *sandbox; /* for the charge that pairs with each stats */
        PlatformChannel *channel; /* NULL once closed */
        ProtoFramer in;
        AgentReport report;
        bool hello_done, said_hello, line_completed;
        usec_t line_started_usec;
        uint64_t seq;
        bool have_target, target_sent;
        uint64_t target_bytes, sent_bytes;
        ProtoLevel level, sent_level;
        usec_t now_usec; /* of the current call, for the replies it sends */
};

int queue_agent_new(PlatformSandbox *s, QueueAgent **ret, int *ret_child_handle)
{
        QueueAgent *a = calloc(1, sizeof(*a));
        int r;

        if (!a)
                return -ENOMEM;
        r = platform_channel_open(s, &a->channel, ret_child_handle);
        if (r < 0) {
                free(a);
                return r;
        }
        a->sandbox = s;
        proto_framer_init(&a->in);
        a->report.id = 1; /* the one agent of this memgov */
        *ret = a;
        return 0;
}

void queue_agent_child_started(QueueAgent *a)
{
        if (a->channel)
                platform_channel_child_started(a->channel);
}

/* The one place the channel ends. level: how loud (a bye is not news). */
_printf_(3, 4) static void agent_close(QueueAgent *a, int level, const char *fmt, ...)
{
        char reason[160];
        va_list ap;

        if (!a->channel)
                return;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof(reason), fmt, ap);
        va_end(ap);
        if (a->report.pid > 0)
                log_full(level, "Control: agent %u (pid %d): %s, closing the connection.", a->report.id,
                         (int)a->report.pid, reason);
        else
                log_full(level, "Control: agent %u: %s, closing the connection.", a->report.id, reason);
        a->channel = platform_channel_free(a->channel);
        if (a->hello_done)
                agent_log_gone(&a->report, reason, "job's limits");
}

static void agent_send(QueueAgent *a, const char *line, int n)
{
        int r;

        if (!a->channel || n < 0)
                return;
        r = platform_channel_write(a->channel, line, (size_t)n);
        if (r == -ENOBUFS)
                agent_close(a, LOG_WARNING, "agent does not read: more than 64 KiB queued for it");
        else if (r < 0)
                agent_close(a, LOG_DEBUG, "write failed: %s", strerror(-r));
}

static void agent_send_target(QueueAgent *a)
{
        char line[PROTO_LINE_MAX + 1];
        uint64_t seq;

        if (!a->hello_done || !a->have_target ||
            (a->target_sent && a->sent_bytes == a->target_bytes && a->sent_level == a->level))
                return;
        seq = ++a->seq;
        agent_send(a, line, proto_format_target(line, sizeof(line), seq, a->target_bytes, a->level));
        if (!a->channel)
                return;
        a->target_sent = true;
        a->sent_bytes = a->target_bytes;
        a->sent_level = a->level;
        agent_report_target_sent(&a->report, seq, a->target_bytes,
                                 platform_monotonic_usec()); /* as written */
}

static int agent_on_hello(QueueAgent *a, const ProtoMessage *m, const char **reason)
{
        char line[PROTO_LINE_MAX + 1];
        uint64_t v;
        int r;

        if (a->hello_done) {
                *reason = "second hello";
                return -EBADMSG;
        }
        /* Only the child holds the other end of the pipe: its pid= is believed, as for the socketpair. */
        r = agent_report_hello(&a->report, m, true, &v, reason);
        if (r < 0)
                return r;
        a->hello_done = a->said_hello = true;
        log_debug("Control: agent %u (pid %d) says hello: runtime=%s version=%s v=%" PRIu64 ".",
                  a->report.id, (int)a->report.pid, a->report.runtime, a->report.version, v);
        agent_send(a, line, proto_format_welcome(line, sizeof(line), PROTO_VERSION, a->report.id));
        agent_log_connected(&a->report);
        agent_send_target(a);
        return 0;
}

/* 0, or -EBADMSG and *reason; unknown types are a newer agent's and ignored. */
static int agent_on_message(QueueAgent *a, const ProtoMessage *m, const char **reason)
{
        uint64_t seq;
        int r;

        if (strcmp(m->type, "hello") == 0)
                return agent_on_hello(a, m, reason);
        if (!a->hello_done) {
                *reason = "expected hello first";
                return -EBADMSG;
        }
        if (strcmp(m->type, "stats") == 0) {
                uint64_t current;

                r = agent_report_stats(&a->report, m, reason);
                if (r >= 0 && platform_sandbox_current(a->sandbox, &current) >= 0)
                        a->report.charged_at_stats_bytes = current;
                return r;
        }
        if (strcmp(m->type, "applied") == 0) {
                r = agent_report_applied(&a->report, m, a->now_usec, &seq, reason);
                if (r >= 0)
                        agent_log_applied(&a->report, seq);
                return r;
        }
        if (strcmp(m->type, "bye") == 0)
                agent_close(a, LOG_DEBUG, "said bye");
        return 0;
}

static void agent_take_lines(QueueAgent *a)
{
        const char *reason = "malformed";
        ProtoMessage m;
        size_t len;
        char *line;
        int r;

        while (a->channel && (r = proto_framer_next(&a->in, &line, &len)) != 0) {
                if (r < 0) {
                        agent_close(a, LOG_WARNING, "line longer than %u bytes", PROTO_LINE_MAX);
                        return;
                }
                a->line_completed = true;
                r = proto_parse(line, len, &m, &reason);
                if (r >= 0)
                        r = agent_on_message(a, &m, &reason);
                if (r < 0)
                        agent_close(a, LOG_WARNING, "%s", reason);
        }
}

/* Reads until nothing more is waiting; false once the channel is closed. */
static bool agent_read(QueueAgent *a)
{
        const char *reason;
        char *p;
        int n;

        for (;;) {
                size_t room = proto_framer_space(&a->in, &p);

                n = platform_channel_read(a->channel, p, room);
                if (n == 0)
                        return true;
                if (n < 0) {
                        if (proto_framer_pending(&a->in) > 0)
                                agent_close(a, LOG_WARNING, "connection closed in the middle of a line");
                        else
                                agent_close(a, LOG_DEBUG, "connection closed by the agent");
                        return false;
                }
                if (proto_check_bytes(p, (size_t)n, &reason) < 0) {
                        agent_close(a, LOG_WARNING, "%s", reason);
                        return false;
                }
                proto_framer_commit(&a->in, (size_t)n);
                agent_take_lines(a);
                if (!a->channel)
                        return false;
        }
}

bool queue_agent_process(QueueAgent *a, usec_t now_usec)
{
        a->now_usec = now_usec;
        a->said_hello = a->line_completed = false;
        if (!a->channel || !agent_read(a))
                return a->said_hello;
        if (proto_framer_pending(&a->in) == 0)
                a->line_started_usec = 0;
        else if (a->line_completed || a->line_started_usec == 0)
                a->line_started_usec = now_usec;
        else if (now_usec >= a->line_started_usec + LINE_TIMEOUT_USEC)
                agent_close(a, LOG_WARNING, "line not completed within %" PRIu64 " ms",
                            (uint64_t)(LINE_TIMEOUT_USEC / USEC_PER_MSEC));
        return a->said_hello;
}

void queue_agent_set_target(QueueAgent *a, uint64_t bytes, ProtoLevel level, usec_t now_usec)
{
        a->now_usec = now_usec;
        a->have_target = true;
        a->target_bytes = bytes;
        a->level = level;
        agent_send_target(a);
}

void queue_agent_request(QueueAgent *a, ProtoRequest what, ProtoLevel level)
{
        char line[PROTO_LINE_MAX + 1];

        if (!a->channel || !a->hello_done)
                return;
        agent_send(a, line, proto_format_request(line, sizeof(line), ++a->seq, what, level));
}

void queue_agent_sample(const QueueAgent *a, PolicySample *ps)
{
        if (a->channel && a->hello_done)
                agent_reports_sample(&a->report, 1, ps);
}

QueueAgent *queue_agent_free(QueueAgent *a)
{
        if (!a)
                return NULL;
        platform_channel_free(a->channel);
        free(a);
        return NULL;
}

/* SPDX-License-Identifier: MIT */
/* What memgov does with each message an agent sends (docs/protocol.md). */
#include <inttypes.h>
#include <string.h>

#include "control-internal.h"
#include "log.h"

static int bad(const char **reason, const char *why)
{
        *reason = why;
        return -EBADMSG;
}

/* Each handler returns 0, or -EBADMSG with *reason set for a malformed message. */
static int handle_hello(Conn *c, const ProtoMessage *m, const char **reason)
{
        ControlServer *s = c->server;
        char line[PROTO_LINE_MAX + 1];
        uint64_t v;
        int n, r;

        if (c->hello_done)
                return bad(reason, "second hello");
        r = agent_report_hello(&c->report, m, !c->path_socket, &v, reason);
        if (r < 0)
                return r;
        c->hello_done = true;
        log_debug("Control: agent %u (pid %d) says hello: runtime=%s version=%s v=%" PRIu64 ".",
                  c->report.id, (int)c->report.pid, c->report.runtime, c->report.version, v);

        n = proto_format_welcome(line, sizeof(line), PROTO_VERSION, c->report.id);
        if (n < 0 || conn_send(c, line, (size_t)n) < 0)
                return 0;
        if (s->cb.on_hello)
                s->cb.on_hello(&c->report, s->cb.userdata);
        if (!c->closed)
                (void)server_distribute(s);
        return 0;
}

static int handle_stats(Conn *c, const ProtoMessage *m, const char **reason)
{
        ControlServer *s = c->server;
        int r;

        r = agent_report_stats(&c->report, m, reason);
        if (r < 0)
                return r;
        c->stats_asked_usec = 0;
        if (s->cb.charged_now)
                c->report.charged_at_stats_bytes = s->cb.charged_now(s->cb.userdata);
        if (s->cb.on_stats)
                s->cb.on_stats(&c->report, s->cb.userdata);
        return 0;
}

static int handle_applied(Conn *c, const ProtoMessage *m, const char **reason)
{
        ControlServer *s = c->server;
        uint64_t seq;
        int r;

        r = agent_report_applied(&c->report, m, server_now_usec(s), &seq, reason);
        if (r < 0)
                return r;
        if (s->cb.on_applied)
                s->cb.on_applied(&c->report, seq, s->cb.userdata);
        return 0;
}

/* captured and gc-cycle: evidence for the governor, parsed here and handed on. */
static int handle_evidence(Conn *c, const ProtoMessage *m, const char **reason)
{
        ControlServer *s = c->server;
        ProtoCaptured cap;
        ProtoGcCycle g;
        bool captured = strcmp(m->type, "captured") == 0;
        int r;

        r = captured ? proto_get_captured(m, &cap, reason) : proto_get_gc_cycle(m, &g, reason);
        if (r < 0)
                return r;
        if (captured && s->cb.on_captured)
                s->cb.on_captured(&c->report, &cap, s->cb.userdata);
        else if (!captured && s->cb.on_gc_cycle)
                s->cb.on_gc_cycle(&c->report, &g, s->cb.userdata);
        return 0;
}

void conn_handle_line(Conn *c, char *line, size_t len)
{
        const char *reason = "malformed";
        ProtoMessage m;
        int r;

        r = proto_parse(line, len, &m, &reason);
        if (r >= 0) {
                if (!c->hello_done && strcmp(m.type, "hello") != 0)
                        r = -EBADMSG, reason = "expected hello first";
                else if (strcmp(m.type, "hello") == 0)
                        r = handle_hello(c, &m, &reason);
                else if (strcmp(m.type, "stats") == 0)
                        r = handle_stats(c, &m, &reason);
                else if (strcmp(m.type, "applied") == 0)
                        r = handle_applied(c, &m, &reason);
                else if (strcmp(m.type, "captured") == 0 || strcmp(m.type, "gc-cycle") == 0)
                        r = handle_evidence(c, &m, &reason);
                else if (strcmp(m.type, "bye") == 0) {
                        conn_close(c, LOG_DEBUG, "said bye");
                        return;
                }
                /* Anything else is from a newer agent: ignored. */
        }
        if (r < 0)
                conn_close(c, LOG_WARNING, "%s", reason);
}

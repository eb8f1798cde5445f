/* SPDX-License-Identifier: MIT */
/*
 * The control server. Each connection is a Conn with one io source and one
 * timer. Input goes through a ProtoFramer (one line's worth of memory);
 * output is queued in a capped buffer. A connection that has to go is marked
 * closed at once (its fd and sources released) and freed by a deferred
 * reaper, which also calls on_gone and redistributes the budget: so no
 * callback ever runs inside a control_server_*() call, and loops over the
 * connections never see one vanish.
 *
 * This file is the server and its calls; control-conn.c is one connection,
 * control-handlers.c what each message does, control-listen.c the path socket.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../platform/platform.h"
#include "../policy/macro.h"
#include "control-internal.h"
#include "log.h"

static int conn_send_target(Conn *c, uint64_t bytes, ProtoLevel level)
{
        ControlServer *s = c->server;
        char line[PROTO_LINE_MAX + 1];
        uint64_t seq = ++s->seq;
        int n, r;

        n = proto_format_target(line, sizeof(line), seq, bytes, level);
        if (n < 0)
                return n;
        r = conn_send(c, line, (size_t)n);
        if (r < 0)
                return r;
        c->target_sent = true;
        c->sent_bytes = bytes;
        c->sent_level = level;
        /* Stamped as written, not with the loop's time at this wake-up: the step's sample and law ran in
         * between (2-3 ms in the VM), and the actuation measured from here is the agent's alone. */
        agent_report_target_sent(&c->report, seq, bytes, platform_monotonic_usec());
        return 1;
}

/* docs/protocol.md, "Several agents": T x w_i / sum(w), w = reported total, else the mean of those reported.
 */
int server_distribute(ControlServer *s)
{
        uint64_t reported_sum = 0, mean = 1;
        uint64_t wsum = 0;
        size_t reporters = 0;
        int sent = 0;

        if (!s->have_target)
                return 0;
        for (size_t i = 0; i < s->n_conns; i++) {
                const Conn *c = s->conns[i];
                if (conn_is_agent(c) && c->report.have_stats) {
                        reported_sum += agent_report_weight(&c->report);
                        reporters++;
                }
        }
        if (reporters > 0)
                mean = reported_sum / reporters > 0 ? reported_sum / reporters : 1;
        for (size_t i = 0; i < s->n_conns; i++) {
                const Conn *c = s->conns[i];
                if (conn_is_agent(c))
                        wsum += c->report.have_stats ? agent_report_weight(&c->report) : mean;
        }
        for (size_t i = 0; i < s->n_conns; i++) {
                Conn *c = s->conns[i];
                uint64_t share, w;

                if (!conn_is_agent(c))
                        continue;
                w = c->report.have_stats ? agent_report_weight(&c->report) : mean;
                share = agent_share(s->target_bytes, w, wsum);
                if (c->target_sent && c->sent_bytes == share && c->sent_level == s->level)
                        continue;
                if (conn_send_target(c, share, s->level) > 0)
                        sent++;
        }
        return sent;
}

size_t server_active_conns(const ControlServer *s)
{
        size_t n = 0;

        for (size_t i = 0; i < s->n_conns; i++)
                n += !s->conns[i]->closed;
        return n;
}

static void server_free_conns(ControlServer *s)
{
        for (size_t i = 0; i < s->n_conns; i++) {
                conn_release(s->conns[i]);
                free(s->conns[i]);
        }
        s->n_conns = 0;
}

static int on_reap(sd_event_source *source, void *userdata)
{
        ControlServer *s = userdata;
        bool agents_changed;

        do {
                size_t j = 0;

                agents_changed = false;
                for (size_t i = 0; i < s->n_conns; i++) {
                        Conn *c = s->conns[i];
                        if (!c->closed) {
                                s->conns[j++] = c;
                                continue;
                        }
                        if (c->hello_done) {
                                agents_changed = true;
                                if (s->cb.on_gone)
                                        s->cb.on_gone(&c->report, c->close_reason, s->cb.userdata);
                        }
                        free(c);
                }
                s->n_conns = j;
                /* The others' shares grow; sending them may close more, hence the loop. */
                if (agents_changed)
                        (void)server_distribute(s);
        } while (agents_changed && server_active_conns(s) != s->n_conns);
        return 0;
}

int control_server_new(sd_event *e, const PlatformSandbox *sandbox, const ControlCallbacks *cb,
                       ControlServer **ret)
{
        ControlServer *s;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->event = sd_event_ref(e);
        s->listen_fd = s->child_fd = -1;
        s->limits = CONTROL_LIMITS_DEFAULT;
        if (cb)
                s->cb = *cb;
        s->sandbox = sandbox;
        r = sd_event_add_defer(e, &s->reap_source, on_reap, s);
        if (r < 0)
                goto fail;
        (void)sd_event_source_set_enabled(s->reap_source, SD_EVENT_OFF);
        control_server_set_limits(s, &s->limits);
        if (!s->conns) {
                r = -ENOMEM;
                goto fail;
        }
        *ret = s;
        return 0;
fail:
        control_server_free(s);
        return r;
}

void control_server_set_limits(ControlServer *s, const ControlLimits *l)
{
        /* Room for the live connections plus as many closed ones awaiting the reaper. */
        size_t cap = (size_t)l->max_connections * 2 + 2;
        Conn **conns;
        AgentReport *snap;

        if (cap < s->n_conns)
                return;
        conns = realloc(s->conns, cap * sizeof(Conn *));
        if (conns)
                s->conns = conns;
        snap = realloc(s->snapshot, cap * sizeof(AgentReport));
        if (snap)
                s->snapshot = snap;
        if (!conns || !snap)
                return;
        s->conns_cap = s->snapshot_cap = cap;
        s->limits = *l;
        if (s->limits.rate_per_sec == 0)
                s->limits.rate_per_sec = 1;
        if (s->limits.rate_burst == 0)
                s->limits.rate_burst = 1;
}

ControlServer *control_server_free(ControlServer *s)
{
        if (!s)
                return NULL;
        server_free_conns(s);
        s->listen_source = sd_event_source_disable_unref(s->listen_source);
        s->listen_fd = safe_close(s->listen_fd);
        if (s->socket_path)
                (void)unlink(s->socket_path);
        s->child_fd = safe_close(s->child_fd);
        sd_event_source_disable_unref(s->reap_source);
        sd_event_unref(s->event);
        free(s->socket_path);
        free(s->conns);
        free(s->snapshot);
        free(s);
        return NULL;
}

int control_server_prepare_child_fd(ControlServer *s, int *ret_child_fd)
{
        int pair[2], r;

        if (s->child_fd >= 0)
                return -EBUSY;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
                return negative_errno();
        /* Only memgov's end: the child's end stays blocking, as agents expect. */
        if (fcntl(pair[0], F_SETFL, fcntl(pair[0], F_GETFL) | O_NONBLOCK) < 0) {
                r = negative_errno();
                safe_close(pair[0]);
                safe_close(pair[1]);
                return r;
        }
        r = conn_new(s, pair[0], false, 0);
        if (r < 0) {
                safe_close(pair[1]);
                return r;
        }
        s->child_fd = pair[1];
        *ret_child_fd = pair[1];
        return 0;
}

void control_server_child_started(ControlServer *s)
{
        s->child_fd = safe_close(s->child_fd);
}

int control_server_set_target(ControlServer *s, uint64_t total_target_bytes, ProtoLevel level)
{
        if (!proto_level_to_string(level))
                return -EINVAL;
        s->have_target = true;
        s->target_bytes = total_target_bytes;
        s->level = level;
        return server_distribute(s);
}

static bool stats_awaited(const ControlServer *s, const Conn *c, usec_t now)
{
        return c->stats_asked_usec != 0 && now < c->stats_asked_usec + s->limits.stats_answer_usec;
}

int control_server_request(ControlServer *s, ProtoRequest what, ProtoLevel level)
{
        char line[PROTO_LINE_MAX + 1];
        usec_t now = server_now_usec(s);
        int sent = 0;

        if (!proto_request_to_string(what) || (what == PROTO_REQUEST_SHED && !proto_level_to_string(level)))
                return -EINVAL;
        for (size_t i = 0; i < s->n_conns; i++) {
                Conn *c = s->conns[i];
                int n;

                if (!conn_is_agent(c))
                        continue;
                if (what == PROTO_REQUEST_STATS && stats_awaited(s, c, now))
                        continue;
                n = proto_format_request(line, sizeof(line), ++s->seq, what, level);
                if (n < 0)
                        return n;
                if (conn_send(c, line, (size_t)n) < 0)
                        continue;
                sent++;
                if (what == PROTO_REQUEST_STATS)
                        c->stats_asked_usec = now > 0 ? now : 1;
        }
        return sent;
}

bool control_server_stats_awaited(ControlServer *s)
{
        usec_t now = server_now_usec(s);

        for (size_t i = 0; i < s->n_conns; i++)
                if (conn_is_agent(s->conns[i]) && stats_awaited(s, s->conns[i], now))
                        return true;
        return false;
}

int64_t control_server_capture(ControlServer *s, unsigned agent_id, const char *kind, const char *path)
{
        char line[PROTO_LINE_MAX + 1];

        for (size_t i = 0; i < s->n_conns; i++) {
                Conn *c = s->conns[i];
                uint64_t seq = s->seq + 1;
                int n, r;

                if (!conn_is_agent(c) || c->report.id != agent_id)
                        continue;
                if (!c->report.can_capture)
                        return -EOPNOTSUPP;
                n = proto_format_capture(line, sizeof(line), seq, kind, path);
                if (n < 0)
                        return n;
                s->seq = seq;
                r = conn_send(c, line, (size_t)n);
                return r < 0 ? r : (int64_t)seq;
        }
        return -ENOENT;
}

uint64_t control_server_next_seq(const ControlServer *s)
{
        return s->seq + 1;
}

static Conn *find_agent(ControlServer *s, unsigned agent_id)
{
        for (size_t i = 0; i < s->n_conns; i++)
                if (conn_is_agent(s->conns[i]) && s->conns[i]->report.id == agent_id)
                        return s->conns[i];
        return NULL;
}

/* Sends line (n bytes, or a negative error from formatting it) to the agent that offered arm, under the
 * next seq. Returns the seq or a negative errno. */
static int64_t send_arming(ControlServer *s, Conn *c, const char *line, int n)
{
        int r;

        if (n < 0)
                return n;
        s->seq++;
        r = conn_send(c, line, (size_t)n);
        return r < 0 ? r : (int64_t)s->seq;
}

static Conn *find_armable(ControlServer *s, unsigned agent_id, int *ret_error)
{
        Conn *c = find_agent(s, agent_id);

        *ret_error = !c ? -ENOENT : !c->report.can_arm ? -EOPNOTSUPP : 0;
        return *ret_error < 0 ? NULL : c;
}

int64_t control_server_arm(ControlServer *s, unsigned agent_id, const char *kind,
                           uint64_t heap_live_above_bytes, const char *path)
{
        char line[PROTO_LINE_MAX + 1];
        int r;
        Conn *c = find_armable(s, agent_id, &r);

        if (!c)
                return r;
        return send_arming(
                s, c, line,
                proto_format_arm(line, sizeof(line), s->seq + 1, kind, heap_live_above_bytes, path));
}

int64_t control_server_disarm(ControlServer *s, unsigned agent_id)
{
        char line[PROTO_LINE_MAX + 1];
        int r;
        Conn *c = find_armable(s, agent_id, &r);

        if (!c)
                return r;
        return send_arming(s, c, line, proto_format_disarm(line, sizeof(line), s->seq + 1));
}

size_t control_server_agents(ControlServer *s, const AgentReport **ret_array)
{
        size_t n = 0;

        for (size_t i = 0; i < s->n_conns && n < s->snapshot_cap; i++)
                if (conn_is_agent(s->conns[i]))
                        s->snapshot[n++] = s->conns[i]->report;
        *ret_array = s->snapshot;
        return n;
}

size_t control_server_buffered_bytes(const ControlServer *s)
{
        size_t n = 0;

        for (size_t i = 0; i < s->n_conns; i++)
                n += proto_framer_pending(&s->conns[i]->in) + s->conns[i]->out_len;
        return n;
}

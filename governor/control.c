/* SPDX-License-Identifier: MIT */
/*
 * The control server. Each connection is a Conn with one io source and one
 * timer. Input goes through a ProtoFramer (one line's worth of memory);
 * output is queued in a capped buffer. A connection that has to go is marked
 * closed at once (its fd and sources released) and freed by a deferred
 * reaper, which also calls on_gone and redistributes the budget: so no
 * callback ever runs inside a control_server_*() call, and loops over the
 * connections never see one vanish.
 */
#include "control.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/param.h>

#include "../policy/macro.h"
#include "log.h"

#define ACCEPTS_PER_WAKEUP 16
#define NEVER              UINT64_MAX

typedef struct Conn {
        ControlServer *server;
        int fd;
        sd_event_source *io, *timer;
        AgentReport report;
        bool path_socket;
        bool hello_done;
        bool closed;
        bool throttled;
        char close_reason[160];
        ProtoFramer in;
        char *out;
        size_t out_len, out_cap;
        usec_t connected_usec, line_started_usec, stall_since_usec, resume_usec;
        double tokens;
        usec_t tokens_usec;
        bool target_sent;
        uint64_t sent_bytes;
        ProtoLevel sent_level;
} Conn;

struct ControlServer {
        sd_event *event;
        const PlatformSandbox *sandbox; /* path-socket peers must run in it; NULL: no check */
        ControlCallbacks cb;
        ControlLimits limits;
        Conn **conns;
        size_t n_conns, conns_cap;
        AgentReport *snapshot;
        size_t snapshot_cap;
        sd_event_source *reap_source;
        int listen_fd;
        sd_event_source *listen_source;
        char *socket_path;
        int child_fd;
        unsigned next_id;
        uint64_t seq;
        bool have_target;
        uint64_t target_bytes;
        ProtoLevel level;
};

static usec_t now_usec(ControlServer *s)
{
        uint64_t t = 0;

        (void)sd_event_now(s->event, CLOCK_MONOTONIC, &t);
        return t;
}

static const char *conn_name(const Conn *c, char *buf, size_t size)
{
        if (c->report.pid > 0)
                snprintf(buf, size, "agent %u (pid %d)", c->report.id, (int)c->report.pid);
        else
                snprintf(buf, size, "agent %u", c->report.id);
        return buf;
}

static void conn_release(Conn *c)
{
        c->io = sd_event_source_disable_unref(c->io);
        c->timer = sd_event_source_disable_unref(c->timer);
        c->fd = safe_close(c->fd);
        free(c->out);
        c->out = NULL;
        c->out_len = c->out_cap = 0;
}

/* The one place a connection ends. level: how loud the decision is (a bye is not news). */
_printf_(3, 4) static void conn_close(Conn *c, int level, const char *fmt, ...)
{
        char name[64];
        va_list ap;

        if (c->closed)
                return;
        va_start(ap, fmt);
        vsnprintf(c->close_reason, sizeof(c->close_reason), fmt, ap);
        va_end(ap);
        log_full(level, "Control: %s: %s, closing the connection.", conn_name(c, name, sizeof(name)),
                 c->close_reason);
        c->closed = true;
        conn_release(c);
        (void)sd_event_source_set_enabled(c->server->reap_source, SD_EVENT_ONESHOT);
}

static void conn_update(Conn *c);

static void conn_flush(Conn *c)
{
        ControlServer *s = c->server;

        while (c->out_len > 0) {
                ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return;
                        conn_close(c, LOG_DEBUG, "write failed: %m");
                        return;
                }
                memmove(c->out, c->out + n, c->out_len - (size_t)n);
                c->out_len -= (size_t)n;
                c->stall_since_usec = now_usec(s);
        }
}

static int conn_send(Conn *c, const char *line, size_t n)
{
        ControlServer *s = c->server;

        if (c->closed)
                return -ENOTCONN;
        if (c->out_len + n > s->limits.max_output_bytes) {
                conn_close(c, LOG_WARNING, "agent does not read: more than %zu bytes queued for it",
                           s->limits.max_output_bytes);
                return -ENOBUFS;
        }
        if (c->out_len + n > c->out_cap) {
                size_t cap = c->out_cap ? c->out_cap : 1024;
                while (cap < c->out_len + n)
                        cap *= 2;
                if (cap > s->limits.max_output_bytes)
                        cap = s->limits.max_output_bytes;
                char *p = realloc(c->out, cap);
                if (!p) {
                        conn_close(c, LOG_ERR, "out of memory for its output queue");
                        return -ENOMEM;
                }
                c->out = p;
                c->out_cap = cap;
        }
        if (c->out_len == 0)
                c->stall_since_usec = now_usec(s);
        memcpy(c->out + c->out_len, line, n);
        c->out_len += n;
        conn_flush(c);
        conn_update(c);
        return c->closed ? -ENOTCONN : 0;
}

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
        agent_report_target_sent(&c->report, seq, bytes, now_usec(s));
        return 1;
}

static bool conn_is_agent(const Conn *c)
{
        return c->hello_done && !c->closed;
}

/* docs/protocol.md, "Several agents": T x w_i / sum(w), w = reported total, else the mean of those reported.
 */
static int server_distribute(ControlServer *s)
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

        r = agent_report_applied(&c->report, m, now_usec(s), &seq, reason);
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

static void conn_handle_line(Conn *c, char *line, size_t len)
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

static void conn_refill(Conn *c, usec_t now)
{
        const ControlLimits *l = &c->server->limits;

        if (now > c->tokens_usec) {
                c->tokens += (double)(now - c->tokens_usec) * l->rate_per_sec / USEC_PER_SEC;
                if (c->tokens > l->rate_burst)
                        c->tokens = l->rate_burst;
        }
        c->tokens_usec = now;
}

/* Handles complete lines held, as many as the rate allows (all of them at end of file). */
static void conn_process(Conn *c, bool eof)
{
        ControlServer *s = c->server;
        usec_t now = now_usec(s);
        bool completed = false;
        size_t len;
        char *line;
        int r;

        conn_refill(c, now);
        for (;;) {
                if (!eof && c->tokens < 1) {
                        c->throttled = true;
                        c->resume_usec =
                                now + (usec_t)((1 - c->tokens) * USEC_PER_SEC / s->limits.rate_per_sec) + 1;
                        break;
                }
                r = proto_framer_next(&c->in, &line, &len);
                if (r == 0)
                        break;
                if (r < 0) {
                        conn_close(c, LOG_WARNING, "line longer than %u bytes", PROTO_LINE_MAX);
                        return;
                }
                c->tokens -= 1;
                completed = true;
                conn_handle_line(c, line, len);
                if (c->closed)
                        return;
        }
        if (proto_framer_pending(&c->in) == 0)
                c->line_started_usec = 0;
        else if (completed || c->line_started_usec == 0)
                c->line_started_usec = now;
}

static void conn_read(Conn *c)
{
        char *p;
        size_t room = proto_framer_space(&c->in, &p);
        const char *reason;
        ssize_t n;

        if (room == 0)
                return;
        /* One read per wakeup, at most one line's worth: a busy agent cannot starve the others. */
        n = recv(c->fd, p, room, MSG_DONTWAIT);
        if (n < 0) {
                if (errno == EAGAIN || errno == EINTR)
                        return;
                conn_close(c, LOG_DEBUG, "read failed: %m");
                return;
        }
        if (n == 0) {
                conn_process(c, true);
                if (!c->closed && proto_framer_pending(&c->in) > 0)
                        conn_close(c, LOG_WARNING, "connection closed in the middle of a line");
                else
                        conn_close(c, LOG_DEBUG, "connection closed by the agent");
                return;
        }
        if (proto_check_bytes(p, (size_t)n, &reason) < 0) {
                conn_close(c, LOG_WARNING, "%s", reason);
                return;
        }
        proto_framer_commit(&c->in, (size_t)n);
        conn_process(c, false);
}

static usec_t conn_deadline(const Conn *c)
{
        const ControlLimits *l = &c->server->limits;
        usec_t d = NEVER;

        if (c->path_socket && !c->hello_done)
                d = MIN(d, c->connected_usec + l->hello_timeout_usec);
        if (c->line_started_usec > 0)
                d = MIN(d, c->line_started_usec + l->line_timeout_usec);
        if (c->out_len > 0)
                d = MIN(d, c->stall_since_usec + l->output_stall_usec);
        if (c->throttled)
                d = MIN(d, c->resume_usec);
        return d;
}

static int on_conn_timer(sd_event_source *source, uint64_t usec, void *userdata);

/* Arms the io source and the timer for what the connection waits for now. */
static void conn_update(Conn *c)
{
        uint32_t events = (c->throttled ? 0 : EPOLLIN) | (c->out_len > 0 ? EPOLLOUT : 0);
        usec_t deadline;
        int r;

        if (c->closed)
                return;
        if (events == 0)
                r = sd_event_source_set_enabled(c->io, SD_EVENT_OFF);
        else {
                r = sd_event_source_set_io_events(c->io, events);
                if (r >= 0)
                        r = sd_event_source_set_enabled(c->io, SD_EVENT_ON);
        }
        if (r < 0) {
                conn_close(c, LOG_ERR, "cannot watch the socket: %s", strerror(-r));
                return;
        }

        deadline = conn_deadline(c);
        if (deadline == NEVER) {
                if (c->timer)
                        (void)sd_event_source_set_enabled(c->timer, SD_EVENT_OFF);
                return;
        }
        if (!c->timer)
                r = sd_event_add_time(c->server->event, &c->timer, CLOCK_MONOTONIC, deadline, USEC_PER_MSEC,
                                      on_conn_timer, c);
        else {
                r = sd_event_source_set_time(c->timer, deadline);
                if (r >= 0)
                        r = sd_event_source_set_enabled(c->timer, SD_EVENT_ONESHOT);
        }
        if (r < 0)
                conn_close(c, LOG_ERR, "cannot arm its timer: %s", strerror(-r));
}

static int on_conn_timer(sd_event_source *source, uint64_t usec, void *userdata)
{
        Conn *c = userdata;
        const ControlLimits *l = &c->server->limits;
        usec_t now = now_usec(c->server);

        if (c->throttled && now >= c->resume_usec) {
                c->throttled = false;
                conn_process(c, false);
                if (c->closed)
                        return 0;
        }
        if (c->path_socket && !c->hello_done && now >= c->connected_usec + l->hello_timeout_usec)
                conn_close(c, LOG_WARNING, "no hello within %" PRIu64 " ms",
                           l->hello_timeout_usec / USEC_PER_MSEC);
        else if (c->line_started_usec > 0 && now >= c->line_started_usec + l->line_timeout_usec)
                conn_close(c, LOG_WARNING, "line not completed within %" PRIu64 " ms",
                           l->line_timeout_usec / USEC_PER_MSEC);
        else if (c->out_len > 0 && now >= c->stall_since_usec + l->output_stall_usec)
                conn_close(c, LOG_WARNING, "agent does not read: output stalled for %" PRIu64 " ms",
                           l->output_stall_usec / USEC_PER_MSEC);
        conn_update(c);
        return 0;
}

static int on_conn_io(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        Conn *c = userdata;

        if (revents & EPOLLOUT)
                conn_flush(c);
        if (!c->closed && !c->throttled && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                conn_read(c);
        conn_update(c);
        return 0;
}

static size_t server_active_conns(const ControlServer *s)
{
        size_t n = 0;

        for (size_t i = 0; i < s->n_conns; i++)
                n += !s->conns[i]->closed;
        return n;
}

/* Takes fd. */
static int conn_new(ControlServer *s, int fd, bool path_socket, pid_t pid)
{
        _cleanup_close_ int fd_owned = fd;
        Conn *c;
        int r;

        if (s->n_conns >= s->conns_cap) {
                /* Closed ones still waiting for the reaper count here; the array is sized generously. */
                return -EMFILE;
        }
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->server = s;
        c->fd = TAKE_FD(fd_owned);
        c->path_socket = path_socket;
        c->report.id = ++s->next_id;
        c->report.pid = pid;
        c->connected_usec = c->tokens_usec = now_usec(s);
        c->tokens = s->limits.rate_burst;
        proto_framer_init(&c->in);

        r = sd_event_add_io(s->event, &c->io, c->fd, EPOLLIN, on_conn_io, c);
        if (r < 0) {
                conn_release(c);
                free(c);
                return r;
        }
        s->conns[s->n_conns++] = c;
        conn_update(c);
        return 0;
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

static int check_peer(const ControlServer *s, int fd, pid_t *ret_pid, char *why, size_t why_size)
{
        struct ucred cred;
        socklen_t len = sizeof(cred);
        int r;

        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
                snprintf(why, why_size, "cannot read its credentials: %m");
                return 0;
        }
        if (cred.uid != 0 && cred.uid != geteuid()) {
                snprintf(why, why_size, "pid %d runs as uid %u, neither memgov's nor root", (int)cred.pid,
                         (unsigned)cred.uid);
                return 0;
        }
        if (s->sandbox) {
                r = platform_sandbox_has_pid(s->sandbox, cred.pid);
                if (r <= 0) {
                        snprintf(why, why_size, "pid %d is not in the governed group %s%s%s", (int)cred.pid,
                                 platform_sandbox_path(s->sandbox), r < 0 ? ": " : "",
                                 r < 0 ? strerror(-r) : "");
                        return 0;
                }
        }
        *ret_pid = cred.pid;
        return 1;
}

static int on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        ControlServer *s = userdata;

        for (unsigned i = 0; i < ACCEPTS_PER_WAKEUP; i++) {
                _cleanup_close_ int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                char why[256];
                pid_t pid = 0;
                int r;

                if (cfd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_warning_errno(errno, "Control: accept failed: %m, ignoring.");
                        return 0;
                }
                if (server_active_conns(s) >= s->limits.max_connections) {
                        log_warning("Control: refused a connection: already %u connections.",
                                    s->limits.max_connections);
                        continue;
                }
                if (!check_peer(s, cfd, &pid, why, sizeof(why))) {
                        log_warning("Control: refused a connection: %s.", why);
                        continue;
                }
                r = conn_new(s, TAKE_FD(cfd), true, pid);
                if (r < 0)
                        log_warning_errno(r,
                                          "Control: cannot take a connection from pid %d: %m, closing it.",
                                          (int)pid);
        }
        return 0;
}

static int socket_dir_prepare(const char *dir)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        /* Anyone else able to enter could connect, or replace our socket. */
        if (st.st_uid != geteuid() || (st.st_mode & 0077) != 0)
                return -EPERM;
        return 0;
}

int control_server_listen(ControlServer *s, const char *dir, char **ret_socket_path)
{
        _cleanup_free_ char *default_dir = NULL, *path = NULL;
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct stat st;
        int r;

        if (s->listen_fd >= 0)
                return -EBUSY;
        if (!dir) {
                const char *xdg = getenv("XDG_RUNTIME_DIR");
                if (geteuid() == 0)
                        default_dir = strdup("/run/memgov");
                else if (xdg && xdg[0] == '/') {
                        if (asprintf(&default_dir, "%s/memgov", xdg) < 0)
                                default_dir = NULL;
                } else
                        return -ENXIO;
                if (!default_dir)
                        return -ENOMEM;
                dir = default_dir;
        }
        r = socket_dir_prepare(dir);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/%d.sock", dir, (int)getpid()) < 0)
                return -ENOMEM;
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);

        /* A leftover from a memgov that had our pid and died: ours to replace, but only a socket. */
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return -EEXIST;
                if (unlink(path) < 0)
                        return negative_errno();
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return negative_errno();
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return negative_errno();
        if (listen(fd, 16) < 0) {
                r = negative_errno();
                (void)unlink(path);
                return r;
        }
        r = sd_event_add_io(s->event, &s->listen_source, fd, EPOLLIN, on_accept, s);
        if (r < 0) {
                (void)unlink(path);
                return r;
        }
        s->socket_path = strdup(path);
        if (!s->socket_path) {
                s->listen_source = sd_event_source_disable_unref(s->listen_source);
                (void)unlink(path);
                return -ENOMEM;
        }
        s->listen_fd = TAKE_FD(fd);
        *ret_socket_path = TAKE_PTR(path);
        return 0;
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

int control_server_request(ControlServer *s, ProtoRequest what, ProtoLevel level)
{
        char line[PROTO_LINE_MAX + 1];
        int sent = 0;

        if (!proto_request_to_string(what) || (what == PROTO_REQUEST_SHED && !proto_level_to_string(level)))
                return -EINVAL;
        for (size_t i = 0; i < s->n_conns; i++) {
                Conn *c = s->conns[i];
                int n;

                if (!conn_is_agent(c))
                        continue;
                n = proto_format_request(line, sizeof(line), ++s->seq, what, level);
                if (n < 0)
                        return n;
                if (conn_send(c, line, (size_t)n) >= 0)
                        sent++;
        }
        return sent;
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

/* SPDX-License-Identifier: MIT */
/* One control connection: its input and output buffers, rate limit and timeouts, and where it ends. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/param.h>

#include "../policy/macro.h"
#include "control-internal.h"
#include "log.h"

#define NEVER UINT64_MAX

usec_t server_now_usec(ControlServer *s)
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

void conn_release(Conn *c)
{
        c->io = sd_event_source_disable_unref(c->io);
        c->timer = sd_event_source_disable_unref(c->timer);
        c->fd = safe_close(c->fd);
        free(c->out);
        c->out = NULL;
        c->out_len = c->out_cap = 0;
}

_printf_(3, 4) void conn_close(Conn *c, int level, const char *fmt, ...)
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
                c->stall_since_usec = server_now_usec(s);
        }
}

int conn_send(Conn *c, const char *line, size_t n)
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
                c->stall_since_usec = server_now_usec(s);
        memcpy(c->out + c->out_len, line, n);
        c->out_len += n;
        conn_flush(c);
        conn_update(c);
        return c->closed ? -ENOTCONN : 0;
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
        usec_t now = server_now_usec(s);
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

void conn_update(Conn *c)
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
        usec_t now = server_now_usec(c->server);

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

int conn_new(ControlServer *s, int fd, bool path_socket, pid_t pid)
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
        c->connected_usec = c->tokens_usec = server_now_usec(s);
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

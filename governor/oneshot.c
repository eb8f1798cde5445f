/* SPDX-License-Identifier: MIT */
#include "oneshot.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "../policy/macro.h"

typedef struct OneshotConnection {
        OneshotServer *owner;
        int fd;
        sd_event_source *io, *timeout;
        char *out;
        size_t out_len, out_off;
        size_t in_len;
        char in[]; /* owner->ops.request_max */
} OneshotConnection;

struct OneshotServer {
        sd_event *event;
        sd_event_source *source;
        OneshotOps ops;
        void *userdata;
        OneshotConnection **conns; /* ops.connections_max */
};

static void connection_free(OneshotConnection *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->owner->ops.connections_max; i++)
                if (c->owner->conns[i] == c)
                        c->owner->conns[i] = NULL;
        sd_event_source_disable_unref(c->io);
        sd_event_source_disable_unref(c->timeout);
        safe_close(c->fd);
        free(c->out);
        free(c);
}

static int respond(OneshotConnection *c)
{
        const OneshotServer *s = c->owner;
        int r;

        r = s->ops.respond(s->userdata, c->in, &c->out, &c->out_len);
        if (r < 0)
                return r;
        return sd_event_source_set_io_events(c->io, EPOLLOUT);
}

static int on_connection_io(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        OneshotConnection *c = userdata;
        size_t in_size = c->owner->ops.request_max;
        ssize_t k;

        if (c->out) {
                k = send(fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k < 0 && (errno == EAGAIN || errno == EINTR))
                        return 0;
                if (k < 0 || (c->out_off += (size_t)k) == c->out_len)
                        connection_free(c);
                return 0;
        }
        k = recv(fd, c->in + c->in_len, in_size - 1 - c->in_len, MSG_DONTWAIT);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (k <= 0) {
                connection_free(c);
                return 0;
        }
        c->in_len += (size_t)k;
        c->in[c->in_len] = '\0';
        if (c->owner->ops.complete(c->in)) {
                if (respond(c) < 0)
                        connection_free(c);
        } else if (c->in_len >= in_size - 1)
                connection_free(c);
        return 0;
}

static int on_connection_timeout(sd_event_source *source, uint64_t usec, void *userdata)
{
        connection_free(userdata);
        return 0;
}

static int on_accept(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        OneshotServer *s = userdata;
        _cleanup_close_ int cfd = -1;
        OneshotConnection *c;
        size_t slot;
        int r;

        cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
                return 0;
        if (s->ops.admit && !s->ops.admit(s->userdata, cfd))
                return 0;
        for (slot = 0; slot < s->ops.connections_max && s->conns[slot]; slot++)
                ;
        if (slot == s->ops.connections_max)
                return 0; /* busy: closed at once; the client may retry */
        c = calloc(1, sizeof(*c) + s->ops.request_max);
        if (!c)
                return 0;
        c->owner = s;
        c->fd = TAKE_FD(cfd);
        s->conns[slot] = c;
        r = sd_event_add_io(s->event, &c->io, c->fd, EPOLLIN, on_connection_io, c);
        if (r >= 0)
                r = sd_event_add_time_relative(s->event, &c->timeout, CLOCK_MONOTONIC, s->ops.timeout_usec,
                                               0, on_connection_timeout, c);
        if (r < 0)
                connection_free(c);
        return 0;
}

int oneshot_server_new(sd_event *e, int listen_fd, const OneshotOps *ops, void *userdata,
                       OneshotServer **ret)
{
        OneshotServer *s;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->ops = *ops;
        s->userdata = userdata;
        s->event = sd_event_ref(e);
        s->conns = calloc(ops->connections_max, sizeof(*s->conns));
        if (!s->conns) {
                oneshot_server_free(s);
                return -ENOMEM;
        }
        r = sd_event_add_io(e, &s->source, listen_fd, EPOLLIN, on_accept, s);
        if (r < 0) {
                oneshot_server_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

OneshotServer *oneshot_server_free(OneshotServer *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; s->conns && i < s->ops.connections_max; i++)
                connection_free(s->conns[i]);
        sd_event_source_disable_unref(s->source);
        sd_event_unref(s->event);
        free(s->conns);
        free(s);
        return NULL;
}

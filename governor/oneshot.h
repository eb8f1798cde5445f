/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A small stream-socket server on sd-event that answers one request per
 * connection and closes it: the metrics endpoint (HTTP) and the status
 * socket. The caller owns the listening socket; this accepts on it, reads
 * until the caller says the request is complete, sends the caller's answer
 * and closes. A client that sends too much or dawdles is dropped; when all
 * slots are taken a new connection is closed at once.
 */

#include <stdbool.h>
#include <stddef.h>
#include <systemd/sd-event.h>

#include "../policy/units.h"

typedef struct OneshotServer OneshotServer;

typedef struct OneshotOps {
        size_t request_max; /* bytes, the terminating NUL included */
        usec_t timeout_usec;
        size_t connections_max;
        /* Whether to serve a client that just connected; NULL serves all. */
        bool (*admit)(void *userdata, int fd);
        /* Whether the request read so far (NUL-terminated) is whole. */
        bool (*complete)(const char *request);
        /* The answer to a whole request, malloc()ed; < 0 drops the connection. */
        int (*respond)(void *userdata, char *request, char **ret_response, size_t *ret_len);
} OneshotOps;

int oneshot_server_new(sd_event *e, int listen_fd, const OneshotOps *ops, void *userdata,
                       OneshotServer **ret);
OneshotServer *oneshot_server_free(OneshotServer *s);

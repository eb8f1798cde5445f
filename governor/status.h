/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The operator socket behind `memgov status`: <dir>/<memgov pid>.status in a
 * directory only its owner can enter (0700: /run/memgov as root, else
 * $XDG_RUNTIME_DIR/memgov), the socket itself 0600, and a peer that is
 * neither root nor memgov's own user is closed (SO_PEERCRED). A client sends
 * one line, "json" or "text", and reads the status until end-of-file.
 */

#include <systemd/sd-event.h>

#include "../policy/status-format.h"

typedef struct StatusServer StatusServer;

/* Fills *ret with the state now. */
typedef void (*status_snapshot_t)(void *userdata, StatusSnapshot *ret);

/* dir NULL: the default. -ENXIO when there is no default (unprivileged, no XDG_RUNTIME_DIR). */
int status_server_new(sd_event *e, const char *dir, status_snapshot_t snapshot, void *userdata,
                      StatusServer **ret);
StatusServer *status_server_free(StatusServer *s);

/* The directory status sockets live in (malloc'd), as status_server_new() picks it. */
int status_dir_default(char **ret);

/* `memgov status [NAME|PID] [--json]`: returns the exit status. */
int status_main(int argc, char *argv[]);

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The operator socket behind `memgov status`: <dir>/<memgov pid>.status in a
 * directory only its owner can enter (0700: /run/memgov as root, else
 * $XDG_RUNTIME_DIR/memgov), the socket itself 0600, and a peer that is
 * neither root nor memgov's own user is closed (SO_PEERCRED). A client sends
 * one line, "json" or "text", and reads the status until end-of-file.
 */

#include "../policy/status-format.h"

/* sd-event's own typedef, repeated so that main.c can declare status_main() where there is no sd-event
 * (Windows: governor/status-unsupported.c). */
typedef struct sd_event sd_event;

typedef struct StatusServer StatusServer;

/* Fills *ret with the state now. */
typedef void (*status_snapshot_t)(void *userdata, StatusSnapshot *ret);

/* dir NULL: the default. -ENXIO when there is no default (unprivileged, no XDG_RUNTIME_DIR). */
int status_server_new(sd_event *e, const char *dir, status_snapshot_t snapshot, void *userdata,
                      StatusServer **ret);
StatusServer *status_server_free(StatusServer *s);

/* Answers the request "capture" (`memgov capture`): writes one line into reason; returns 1 when a capture
 * was asked for, 0 when it was refused. */
typedef int (*status_capture_t)(void *userdata, char *reason, size_t reason_size);
void status_server_set_capture(StatusServer *s, status_capture_t capture);

/* A directory of memgov's (malloc'd): as_root when running as root, else $xdg_var/memgov, else (home_rel
 * not NULL) $HOME/home_rel/memgov; -ENXIO when none applies. */
int user_dir_default(const char *as_root, const char *xdg_var, const char *home_rel, char **ret);

/* The directory status sockets live in (malloc'd), as status_server_new() picks it. */
int status_dir_default(char **ret);

/* `memgov status [NAME|PID] [--json]`: returns the exit status. On Windows (status-unsupported.c) it
 * refuses with the reason and EXIT_MEMGOV_FAILURE. */
int status_main(int argc, char *argv[]);

/* `memgov capture NAME|PID`: asks that governor for a heap capture now; prints its answer. 0 when asked,
 * 1 when refused or not found, EXIT_MEMGOV_FAILURE for bad arguments. */
int capture_main(int argc, char *argv[]);

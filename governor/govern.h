/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The closed loop: watch the group (its event counts, pressure triggers, writes to its
 * limits, and samples paced by its growth: policy/pace.h), ask the control law (policy/law.h) what to do,
 * and do it: targets, GC, release and shed through the control channel; reclaim and memgov's own throttle
 * point through the actuator. Every decision that does something is one log line with its inputs, outputs
 * and rule.
 */

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "../platform/platform.h"
#include "../policy/capture.h"
#include "../policy/law.h"
#include "../policy/pace.h"

typedef struct Governor Governor;

typedef struct GovernorOptions {
        PolicyConfig config;
        PaceConfig pace;            /* when to sample between events */
        bool agent_socket;          /* also listen on a path socket (MEMGOV_SOCKET) */
        bool no_agent;              /* give the child no agent channel (MEMGOV_FD) */
        const char *socket_dir;     /* NULL: the default */
        const char *program;        /* names the program in the post-mortem; must outlive the governor */
        const char *metrics_file;   /* --metrics-file, or NULL */
        const char *metrics_listen; /* --metrics-listen, or NULL */
        const char *trace_file;     /* --trace, or NULL */
        const char *status_dir;     /* where the status socket goes; NULL: the default (status.h) */
        CaptureConfig capture;      /* --capture, --capture-budget, --capture-interval */
        const char *capture_dir;    /* --capture-dir; NULL: the default (capture.h) */
} GovernorOptions;

void governor_options_default(GovernorOptions *ret);
/* The epoll events to wait for on one of the sandbox's watch descriptors. */
uint32_t governor_watch_events(PlatformSandbox *s, int fd);

/* Called when the law decides to kill the group (give-up = kill). */
typedef void (*governor_kill_t)(int exit_status, void *userdata);

int governor_new(sd_event *e, PlatformSandbox *s, const GovernorOptions *o, governor_kill_t on_kill,
                 void *userdata, Governor **ret);

/*
 * What the child needs to reach its governor: the fd to keep across exec and
 * the environment entries to add (MEMGOV_FD, MEMGOV_SOCKET,
 * MEMORY_PRESSURE_WATCH, MEMORY_PRESSURE_WRITE). With no_agent, no fd (-1) and
 * neither MEMGOV_FD nor MEMGOV_SOCKET. *ret_env is a malloc'd
 * NULL-terminated list of malloc'd "NAME=value" strings.
 */
int governor_prepare_child(Governor *g, int *ret_keep_fd, char ***ret_env);
void governor_child_started(Governor *g);
/* Opens the metrics file, the metrics port and the trace once and closes them again, so that a mistake in
 * them is reported (logged) before any cgroup exists. */
int governor_check_outputs(const char *metrics_file, const char *metrics_listen, const char *trace_file);
/* For `memgov status`. */
void governor_set_child_pid(Governor *g, pid_t pid);

/* Prints the post-mortem (policy/postmortem.h) after an OOM kill or a "cannot fit": final is the group's
 * state now (limits, peak); the rest comes from the last sample and decision. */
void governor_postmortem(Governor *g, const char *what, const char *cause, const PlatformSample *final);

/* A capture on the operator's request (`memgov capture`): 1 asked, 0 refused; reason says which. */
int governor_capture(Governor *g, char *reason, size_t reason_size);

/* Replaces the law's parameters (a policy reload) and decides again at once. */
void governor_set_config(Governor *g, const PolicyConfig *c);

/* Stops watching and deciding (the child is gone); the last decision stays readable. */
void governor_stop(Governor *g);
Governor *governor_free(Governor *g);

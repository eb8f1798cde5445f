/* SPDX-License-Identifier: MIT */
#pragma once

/* The Linux sandbox's insides, shared by the files of platform/linux. */

#include <stdbool.h>
#include <stdint.h>

#include "../platform.h"

/* A cgroup v1 notification: an eventfd registered through cgroup.event_control, and how often it fired. The
 * sandbox's epoll set carries a pointer to it, so platform_watch_ack() can count without the sandbox. */
typedef struct V1Event {
        int efd;
        uint64_t count;
        int usage_dirfd;      /* >= 0: count only when memory.usage_in_bytes there is at least above_bytes */
        uint64_t above_bytes; /* (a usage threshold fires on crossings either way) */
} V1Event;

enum {
        V1_EVENT_OOM,
        V1_EVENT_LOW,
        V1_EVENT_MEDIUM,
        V1_EVENT_CRITICAL,
        V1_EVENT_HIGH,
        V1_EVENT_NEAR_MAX,
        _V1_EVENT_MAX
};

struct PlatformSandbox {
        char *root;           /* the cgroup2 mount */
        char *path;           /* the child group: root + rel */
        int dirfd;            /* the child group's directory, for openat() and CLONE_INTO_CGROUP */
        int events_fd;        /* memory.events, for POLLPRI */
        int populated_fd;     /* cgroup.events, for POLLPRI */
        bool fork_fallback;   /* spawn with fork + attach even where clone3 works (tests) */
        bool observe;         /* memgov's own group, not ours: see platform_sandbox_observe() */
        int oom_score_adj;    /* for the child; PLATFORM_OOM_SCORE_ADJ_UNSET: inherited */
        bool die_with_parent; /* PR_SET_PDEATHSIG(SIGKILL) in the child */
        /* cgroup v1 and hybrid (sandbox-v1.c): dirfd is the group in the memory hierarchy. */
        bool v1;
        char *twin_path; /* hybrid: the group's twin in the cgroup2 tree (pressure, populated, kill) */
        int twin_fd;     /* its directory, or -1 */
        V1Event v1_events[_V1_EVENT_MAX];
};

PlatformSandbox *sandbox_new(void);
/* --parent as a path relative to root ("/x"), refusing "..". */
int sandbox_parent_option(const SandboxOptions *o, const char *root, char *buf, size_t size,
                          PlatformError *err);

/* The v1 and hybrid backend, chosen once by platform_probe()'s answer. */
int sandbox_v1_probe(const char *root, PlatformInfo *info, PlatformError *err);
int sandbox_v1_plan(const SandboxOptions *o, const PlatformInfo *info, char **ret_path, PlatformError *err);
int sandbox_v1_create(const SandboxOptions *o, const PlatformInfo *info, PlatformSandbox **ret,
                      PlatformError *err);
void sandbox_v1_free(PlatformSandbox *s);
int sandbox_v1_destroy(PlatformSandbox *s);
int sandbox_v1_kill(PlatformSandbox *s);
int sandbox_v1_populated(PlatformSandbox *s, bool *ret);
int sandbox_v1_sample(PlatformSandbox *s, PlatformSample *ret);
int sandbox_v1_current(PlatformSandbox *s, uint64_t *ret);
char *sandbox_v1_pressure_path(PlatformSandbox *s);
int sandbox_v1_pressure_dir(PlatformSandbox *s, int *ret_dirfd, const char **ret_file);
int sandbox_v1_set_high(PlatformSandbox *s, uint64_t bytes);
int sandbox_v1_set_max(PlatformSandbox *s, uint64_t bytes);
/* Reads the eventfds an epoll set reports ready into their V1Events; -EINVAL when fd is no epoll set. */
int sandbox_v1_drain(int fd);

/* The lowest memory.max and memory.high of the group and every ancestor below root. */
int sandbox_effective_limits(const struct PlatformSandbox *s, uint64_t *ret_max, uint64_t *ret_high);

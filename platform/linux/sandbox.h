/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The Linux sandbox's insides, shared by the files of platform/linux.
 *
 * What differs between cgroup v2, v1 (with hybrid) and observe mode is one table of operations each
 * (SandboxOps), as crun has one cgroup manager per mode. sandbox.c probes the host once per cgroup root,
 * chooses v2's table (sandbox-v2.c) or v1's (sandbox-v1.c) from the answer, and keeps the answer and the
 * table; observe's (observe.c) is chosen by platform_sandbox_observe(). A sandbox carries the table it was
 * made with, and the platform_sandbox_*() functions in sandbox.c only call through it: no function asks
 * which mode it is in. The tables use sandbox-util.c and cgroup-util.c, never sandbox.c, so the calls go
 * one way.
 */

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

typedef struct SandboxOps {
        /* Fills in what the mode adds to info (backend and root are set: the mount probed); observe: NULL,
         * it is chosen without a probe of its own. */
        int (*probe)(const char *root, PlatformInfo *info, PlatformError *err);
        /* Where create would make the group, and where memgov would move itself (NULL: it stays put). */
        int (*plan)(const SandboxOptions *o, const PlatformInfo *info, char **ret_path,
                    char **ret_supervisor, PlatformError *err);
        /* Makes the group (observe: opens memgov's own, o unused). On failure nothing is left behind. */
        int (*create)(const SandboxOptions *o, const PlatformInfo *info, PlatformSandbox **ret,
                      PlatformError *err);
        /* Closes what the mode adds to the sandbox; NULL: nothing. */
        void (*free)(PlatformSandbox *s);
        int (*destroy)(PlatformSandbox *s);
        int (*populated)(PlatformSandbox *s, bool *ret);
        int (*kill)(PlatformSandbox *s);
        int (*current)(PlatformSandbox *s, uint64_t *ret);
        int (*sample)(PlatformSandbox *s, PlatformSample *ret);
        /* Where pressure triggers are armed: a directory and a file name in it. */
        int (*pressure_dir)(PlatformSandbox *s, int *ret_dirfd, const char **ret_file);
        char *(*pressure_path)(PlatformSandbox *s);
        int (*reclaim)(PlatformSandbox *s, uint64_t bytes);
        int (*set_high)(PlatformSandbox *s, uint64_t bytes);
        int (*set_max)(PlatformSandbox *s, uint64_t bytes);
        int (*watch_kind)(PlatformSandbox *s, int fd);
        /* Puts a forked child (pid as text) into the group, before it runs anything. */
        int (*attach)(PlatformSandbox *s, const char *pid);
        /* Whether clone3() starts the child in the group (CLONE_INTO_CGROUP, cgroup2 directories only). */
        bool clone_into_group;
        /* Whether the memory.events watch fires when the group passes its soft limit. */
        bool high_notifies;
        /* Whether dirfd is a cgroup2 directory, which perf counts page faults by (watch-faults.c); v1's is
         * in the memory hierarchy, and a hybrid group's twin stands in for it. */
        bool dirfd_is_cgroup2;
        /* The hierarchy whose line of /proc/<pid>/cgroup places a process: NULL for the v2 one. */
        const char *pid_controller;
        /* The limit files the samples read, in each group up to the root: what the limits watch watches. */
        const char *const *limit_files;
} SandboxOps;

extern const SandboxOps sandbox_v2_ops, sandbox_v1_ops, sandbox_observe_ops;

/* v2's operations that observe mode shares. */
int sandbox_v2_current(PlatformSandbox *s, uint64_t *ret);
int sandbox_v2_sample(PlatformSandbox *s, PlatformSample *ret);
int sandbox_v2_pressure_dir(PlatformSandbox *s, int *ret_dirfd, const char **ret_file);
char *sandbox_v2_pressure_path(PlatformSandbox *s);
int sandbox_v2_reclaim(PlatformSandbox *s, uint64_t bytes);
int sandbox_v2_watch_kind(PlatformSandbox *s, int fd);
extern const char *const sandbox_v2_limit_files[];

/* Not events_fd for memory.events: a read through it would take the POLLPRI its watcher waits for. */
typedef enum SandboxKept {
        SANDBOX_KEPT_PEAK,
        SANDBOX_KEPT_EVENTS,
        SANDBOX_KEPT_STAT,
        SANDBOX_KEPT_PRESSURE,
        _SANDBOX_KEPT_MAX,
} SandboxKept;

struct PlatformSandbox {
        const SandboxOps *ops; /* never NULL */
        char *root;            /* the cgroup2 mount, or v1's memory hierarchy */
        char *path;            /* the child group: root + rel */
        int dirfd;             /* the child group's directory, for openat() and CLONE_INTO_CGROUP */
        int events_fd;         /* memory.events, for POLLPRI (v1: an epoll set of eventfds) */
        int populated_fd;      /* cgroup.events, for POLLPRI (v1 without a twin: a timer) */
        int current_fd;        /* v2's memory.current, opened at the first reading and kept */
        /* v2's files of a full sample, kept the same way: an open and a close (kernfs's release) per file
         * per sample were a tenth of memgov's CPU time in the VM while a Go heap grew (perf). */
        int kept_fd[_SANDBOX_KEPT_MAX];
        /* The watch on the limit files (watch-limits.c), and v2's lowest limits as last read: while it
         * watches, read again only after a write raised it. Ten reads a sample were another tenth. */
        int limits_watch_fd;
        bool limits_read;
        uint64_t limits_max, limits_high;
        bool fork_fallback;   /* spawn with fork + attach even where clone3 works (tests, v1) */
        int oom_score_adj;    /* for the child; PLATFORM_OOM_SCORE_ADJ_UNSET: inherited */
        int nice;             /* for the child; PLATFORM_NICE_UNSET: inherited */
        bool die_with_parent; /* PR_SET_PDEATHSIG(SIGKILL) in the child */
        /* cgroup v1 and hybrid (sandbox-v1.c): dirfd is the group in the memory hierarchy. */
        char *twin_path; /* hybrid: the group's twin in the cgroup2 tree (pressure, populated, kill) */
        int twin_fd;     /* its directory, or -1 */
        V1Event v1_events[_V1_EVENT_MAX];
};

/* sandbox-util.c: what every table's create uses. */
PlatformSandbox *sandbox_new(const SandboxOps *ops);
PlatformSandbox *sandbox_free(PlatformSandbox *s);
void sandbox_freep(PlatformSandbox **s);
/* --parent as a path relative to root ("/x"), refusing "..". */
int sandbox_parent_option(const SandboxOptions *o, const char *root, char *buf, size_t size,
                          PlatformError *err);

/* Reads the eventfds an epoll set reports ready into their V1Events; -EINVAL when fd is no epoll set. */
int sandbox_v1_drain(int fd);

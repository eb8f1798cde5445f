/* SPDX-License-Identifier: MIT */
#pragma once

/* The Linux sandbox's insides, shared by the files of platform/linux. */

#include <stdbool.h>
#include <stdint.h>

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
};

/* The lowest memory.max and memory.high of the group and every ancestor below root. */
int sandbox_effective_limits(const struct PlatformSandbox *s, uint64_t *ret_max, uint64_t *ret_high);

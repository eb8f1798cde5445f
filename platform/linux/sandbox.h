/* SPDX-License-Identifier: MIT */
#pragma once

/* The Linux sandbox's insides, shared by the files of platform/linux. */

#include <stdbool.h>

struct PlatformSandbox {
        char *root;         /* the cgroup2 mount */
        char *path;         /* the child group: root + rel */
        int dirfd;          /* the child group's directory, for openat() and CLONE_INTO_CGROUP */
        int events_fd;      /* memory.events, for POLLPRI */
        int populated_fd;   /* cgroup.events, for POLLPRI */
        bool fork_fallback; /* spawn with fork + attach even where clone3 works (tests) */
};

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What the sandbox calls the limits and readings that policy/'s texts name (the post-mortem, the metrics'
 * HELP lines, `memgov status`), so that a person can look them up: governor/ fills it from
 * platform_name(), the cgroup v2 file names on Linux and the Job Object's on Windows. policy/ names no
 * kernel file itself.
 */

typedef struct SandboxNames {
        const char *max;     /* the hard limit */
        const char *high;    /* the throttle point */
        const char *current; /* the charge */
        const char *peak;    /* the charge's high-water mark */
        const char *stat;    /* where what fills the group (anon, file, ...) is read */
        const char *events;  /* the group's event counts */
} SandboxNames;

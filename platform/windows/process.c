/* SPDX-License-Identifier: MIT */
/*
 * memgov's own process on Windows: what "running anywhere" (governor/init.c) asks of Linux has no
 * counterpart here, and each call says so with -EOPNOTSUPP rather than pretending.
 *  - oom_score_adj: Windows has no OOM killer that picks a process; a job at its limit fails the
 *    allocation that would pass it.
 *  - subreaper and init: a Job Object holds the whole tree (no breakaway), and KILL_ON_JOB_CLOSE ends
 *    it with memgov, so there are no orphans to reap and no stale job to clean.
 *  - observe mode and systemd scopes are cgroup ideas.
 */
#include "../platform.h"

#include <errno.h>

#include "win-util.h"

int platform_process_get_oom_score_adj(int *ret)
{
        return -EOPNOTSUPP;
}

int platform_process_set_oom_score_adj(int value)
{
        return -EOPNOTSUPP;
}

int platform_process_get_nice(int *ret)
{
        return -EOPNOTSUPP;
}

int platform_process_set_nice(int value)
{
        return -EOPNOTSUPP;
}

int platform_process_set_subreaper(void)
{
        return -EOPNOTSUPP;
}

bool platform_process_is_init(void)
{
        return false;
}

bool platform_process_is_root(void)
{
        return false;
}

/* The job holds the child's descendants, and memgov learns of exits from its port (platform/queue.h). */
int platform_machine_memory(uint64_t *ret_bytes)
{
        MEMORYSTATUSEX m = {.dwLength = sizeof(m)};

        if (!GlobalMemoryStatusEx(&m))
                return -EIO;
        *ret_bytes = m.ullTotalPhys;
        return 0;
}

int platform_process_reap_one(pid_t *ret_pid, int *ret_code)
{
        return -EOPNOTSUPP;
}

/* platform_sandbox_kill() ends the job's tree; memgov has no other descendants to sweep. */
int platform_process_kill_descendants(void)
{
        return -EOPNOTSUPP;
}

int platform_cleanup_stale(const SandboxOptions *o, char ***ret_removed)
{
        if (ret_removed)
                *ret_removed = NULL;
        return 0; /* KILL_ON_JOB_CLOSE: a job dies with its memgov, nothing is left behind */
}

int platform_sandbox_observe(const char *cgroup_root, PlatformSandbox **ret, PlatformError *err)
{
        win_fail(err, "--observe needs cgroups; Windows has Job Objects");
        return -EOPNOTSUPP;
}

bool platform_sandbox_is_observe(const PlatformSandbox *s)
{
        return false; /* platform_sandbox_observe() never made one */
}

bool platform_sandbox_high_notifies(const PlatformSandbox *s)
{
        return true; /* JobObjectNotificationLimitInformation: a message on the port, no throttling */
}

/* Neither has a counterpart: no OOM killer that picks a process, and KILL_ON_JOB_CLOSE already ends the
 * child with memgov. */
void platform_sandbox_set_spawn_options(PlatformSandbox *s, int oom_score_adj, int nice,
                                        bool die_with_parent)
{
}

int platform_scope_enter(const char *unit, uint64_t max_bytes, uint64_t high_bytes, const char *description,
                         PlatformError *err)
{
        win_fail(err, "systemd scopes exist only on Linux");
        return -EOPNOTSUPP;
}

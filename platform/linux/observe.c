/* SPDX-License-Identifier: MIT */
/*
 * Observe mode: the group memgov already runs in, made by someone else (a
 * container runtime, systemd). memgov governs it without owning it: the
 * limits are not its to change, the group not its to remove, and cgroup.kill
 * would kill memgov too. What it reads is a v2 group's, so the table borrows
 * v2's reading operations.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "../../policy/macro.h"
#include "../platform.h"
#include "cgroup-util.h"
#include "sandbox.h"

/* info: a cgroup v2 probe's (sandbox.c chose this table for it); o: unused, the group is memgov's own. */
static int observe_open(const SandboxOptions *o, const PlatformInfo *info, PlatformSandbox **ret,
                        PlatformError *err)
{
        _cleanup_(sandbox_freep) PlatformSandbox *s = NULL;
        char own[4096];
        uint64_t current;
        int r;

        r = cg_pid_get_path(0, own, sizeof(own));
        if (r < 0) {
                cg_fail(err, "cannot find memgov's own cgroup in /proc/self/cgroup: %s", strerror(-r));
                return r;
        }
        s = sandbox_new(&sandbox_observe_ops);
        if (!s)
                return -ENOMEM;
        s->root = strdup(info->root);
        s->path = cg_join(info->root, own);
        if (!s->root || !s->path)
                return -ENOMEM;
        s->dirfd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->dirfd < 0) {
                r = negative_errno();
                cg_fail(err, "cannot open memgov's own cgroup %s: %s", s->path, strerror(-r));
                return r;
        }
        if (cg_read_limit_at(s->dirfd, "memory.current", &current) < 0) {
                cg_fail(err,
                        "cannot observe %s: it has no memory.current (the root cgroup, or the memory controller is not enabled for it)",
                        s->path);
                return -EOPNOTSUPP;
        }
        s->events_fd = openat(s->dirfd, "memory.events", O_RDONLY | O_CLOEXEC);
        s->populated_fd = openat(s->dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
        if (s->events_fd < 0 || s->populated_fd < 0) {
                r = negative_errno();
                cg_fail(err, "cannot open the event files of %s: %s", s->path, strerror(-r));
                return r;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static int observe_destroy(PlatformSandbox *s)
{
        return 0; /* not ours to remove */
}

/* The group holds memgov itself; what matters is whether any descendant is left, zombies included (they are
 * reaped next). */
static int observe_populated(PlatformSandbox *s, bool *ret)
{
        siginfo_t si = {};

        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0) {
                if (errno != ECHILD)
                        return negative_errno();
                *ret = false;
                return 0;
        }
        *ret = true;
        return 0;
}

/* cgroup.kill would kill memgov too. */
static int observe_kill(PlatformSandbox *s)
{
        int r = platform_process_kill_descendants();

        return r < 0 ? r : 0;
}

/* The limits belong to whoever made the group. */
static int observe_set_limit(PlatformSandbox *s, uint64_t bytes)
{
        return -EOPNOTSUPP;
}

/* A child is born in memgov's own group, which is the one observed. */
static int observe_attach(PlatformSandbox *s, const char *pid)
{
        return 0;
}

const SandboxOps sandbox_observe_ops = {
        .probe = NULL, /* chosen for a v2 host by platform_sandbox_observe() */
        .plan = NULL,  /* no group to plan: memgov's own */
        .create = observe_open,
        .destroy = observe_destroy,
        .populated = observe_populated,
        .kill = observe_kill,
        .current = sandbox_v2_current,
        .sample = sandbox_v2_sample,
        .pressure_dir = sandbox_v2_pressure_dir,
        .pressure_path = sandbox_v2_pressure_path,
        .reclaim = sandbox_v2_reclaim,
        .set_high = observe_set_limit,
        .set_max = observe_set_limit,
        .watch_kind = sandbox_v2_watch_kind,
        .attach = observe_attach,
        .clone_into_group = false,
        .high_notifies = false, /* set_high is refused */
        .dirfd_is_cgroup2 = true,
        .pid_controller = NULL,
        .limit_files = sandbox_v2_limit_files,
};

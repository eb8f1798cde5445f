/* SPDX-License-Identifier: MIT */
/*
 * The front of the Linux sandbox: the probe, done once per cgroup root,
 * chooses the table of operations (sandbox.h), and every platform_sandbox_*()
 * calls through the table its sandbox was made with.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../../policy/macro.h"
#include "../platform.h"
#include "cgroup-util.h"

const char *platform_backend_to_string(PlatformBackend b)
{
        switch (b) {
        case PLATFORM_BACKEND_CGROUP2:
                return "cgroup v2";
        case PLATFORM_BACKEND_CGROUP1:
                return "cgroup v1";
        case PLATFORM_BACKEND_HYBRID:
                return "hybrid (cgroup v1 controllers, cgroup2 at unified/)";
        case PLATFORM_BACKEND_JOBOBJECT:
                return "Windows Job Object";
        case PLATFORM_BACKEND_NONE:
                break;
        }
        return "none";
}

/* The last successful probe: the mode of a booted host does not change under a running memgov, and plan,
 * create, observe and the stale sweep all start from it. Kept per root, so tests may point other roots at
 * fixtures; a failed probe is not kept (it ends the run, or the next try may see a fixed host). */
static struct {
        char root[sizeof(((PlatformInfo *)0)->root)];
        PlatformInfo info;
        const SandboxOps *ops;
} probed;

/* Finds the host's cgroup mode and the table for it: the one place a mode is chosen. *ret_ops is set once
 * the mode is known, even when the table's probe then fails (plan can still answer). */
static int probe_once(const char *cgroup_root, PlatformInfo *ret, const SandboxOps **ret_ops,
                      PlatformError *err)
{
        const char *root = cgroup_root ?: CGROUP_ROOT_DEFAULT;
        PlatformInfo info = {};
        const SandboxOps *ops;
        int r;

        if (probed.ops && strcmp(probed.root, root) == 0) {
                *ret = probed.info;
                *ret_ops = probed.ops;
                return 0;
        }
        r = cg_detect_backend(root, &info.backend);
        if (r < 0) {
                cg_fail(err,
                        "no cgroup filesystem at %s (%s); memgov needs cgroup v2 with the memory controller",
                        root, strerror(-r));
                return r;
        }
        snprintf(info.root, sizeof(info.root), "%s", root);
        ops = info.backend == PLATFORM_BACKEND_CGROUP2 ? &sandbox_v2_ops : &sandbox_v1_ops;
        *ret_ops = ops;
        r = ops->probe(root, &info, err);
        *ret = info;
        if (r < 0)
                return r;
        if (strlen(root) < sizeof(probed.root)) {
                snprintf(probed.root, sizeof(probed.root), "%s", root);
                probed.info = info;
                probed.ops = ops;
        }
        return 0;
}

int platform_probe(const char *cgroup_root, PlatformInfo *ret, PlatformError *err)
{
        const SandboxOps *ops = NULL;

        return probe_once(cgroup_root, ret, &ops, err);
}

int platform_sandbox_plan(const SandboxOptions *o, char **ret_path, char **ret_supervisor,
                          PlatformError *err)
{
        const SandboxOps *ops = NULL;
        PlatformInfo info = {};
        int r;

        /* Planning needs the mode, not a usable controller: a v2 host without the memory controller can
         * still say where the group would go (`memgov explain` prints both). v1's plan needs the hierarchy
         * its probe finds, and says so. */
        r = probe_once(o->cgroup_root, &info, &ops, err);
        if (!ops)
                return r;
        return ops->plan(o, &info, ret_path, ret_supervisor, err);
}

int platform_sandbox_create(const SandboxOptions *o, PlatformSandbox **ret, PlatformError *err)
{
        const SandboxOps *ops = NULL;
        PlatformInfo info;
        int r;

        r = probe_once(o->cgroup_root, &info, &ops, err);
        if (r < 0)
                return r;
        return ops->create(o, &info, ret, err);
}

int platform_sandbox_observe(const char *cgroup_root, PlatformSandbox **ret, PlatformError *err)
{
        const SandboxOps *ops = NULL;
        PlatformInfo info;
        int r;

        r = probe_once(cgroup_root, &info, &ops, err);
        if (r < 0)
                return r;
        if (ops != &sandbox_v2_ops) {
                cg_fail(err,
                        "observe mode needs cgroup v2: this host's cgroups are %s, and observing a v1 group someone else made is not implemented (docs/cgroup-v1.md)",
                        platform_backend_to_string(info.backend));
                return -EOPNOTSUPP;
        }
        return sandbox_observe_ops.create(NULL, &info, ret, err);
}

PlatformSandbox *platform_sandbox_free(PlatformSandbox *s)
{
        return sandbox_free(s);
}

const char *platform_sandbox_path(const PlatformSandbox *s)
{
        return s->path;
}

bool platform_sandbox_is_observe(const PlatformSandbox *s)
{
        return s->ops == &sandbox_observe_ops;
}

bool platform_sandbox_high_notifies(const PlatformSandbox *s)
{
        return s->ops->high_notifies;
}

void platform_sandbox_set_spawn_options(PlatformSandbox *s, int oom_score_adj, int nice,
                                        bool die_with_parent)
{
        s->oom_score_adj = oom_score_adj;
        s->nice = nice;
        s->die_with_parent = die_with_parent;
}

int platform_sandbox_has_pid(const PlatformSandbox *s, pid_t pid)
{
        /* Every backend's group lies under its root: the v2 mount, or v1's memory hierarchy, whose line in
         * /proc/<pid>/cgroup names the same relative path. */
        return cg_pid_in_group(pid, s->ops->pid_controller, s->path + strlen(s->root));
}

int platform_sandbox_pressure_path(PlatformSandbox *s, char **ret)
{
        char *path = s->ops->pressure_path(s);

        if (!path)
                return -ENOMEM;
        *ret = path;
        return 0;
}

int platform_sandbox_destroy(PlatformSandbox *s)
{
        return s->ops->destroy(s);
}

int platform_sandbox_populated(PlatformSandbox *s, bool *ret)
{
        return s->ops->populated(s, ret);
}

int platform_sandbox_kill(PlatformSandbox *s)
{
        return s->ops->kill(s);
}

int platform_sandbox_current(PlatformSandbox *s, uint64_t *ret)
{
        return s->ops->current(s, ret);
}

int platform_sandbox_sample(PlatformSandbox *s, PlatformSample *ret)
{
        return s->ops->sample(s, ret);
}

int platform_sandbox_reclaim(PlatformSandbox *s, uint64_t bytes)
{
        return s->ops->reclaim(s, bytes);
}

int platform_sandbox_set_high(PlatformSandbox *s, uint64_t bytes)
{
        return s->ops->set_high(s, bytes);
}

int platform_sandbox_set_max(PlatformSandbox *s, uint64_t bytes)
{
        return s->ops->set_max(s, bytes);
}

int platform_sandbox_watch_kind(PlatformSandbox *s, int fd)
{
        return s->ops->watch_kind(s, fd);
}

int platform_sandbox_memory_events_fd(PlatformSandbox *s)
{
        return s->events_fd;
}

int platform_sandbox_populated_fd(PlatformSandbox *s)
{
        return s->populated_fd;
}

static int arm_trigger(PlatformSandbox *s, const char *which, uint64_t stall_usec, uint64_t window_usec,
                       int *ret_fd)
{
        _cleanup_close_ int fd = -1;
        const char *file;
        char spec[64];
        int dirfd, n;

        n = s->ops->pressure_dir(s, &dirfd, &file);
        if (n < 0)
                return n;
        fd = openat(dirfd, file, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        n = snprintf(spec, sizeof(spec), "%s %" PRIu64 " %" PRIu64, which, stall_usec, window_usec);
        /* The kernel takes the trigger with its terminating NUL, as psi.rst's example writes it. */
        if (write(fd, spec, (size_t)n + 1) < 0)
                return negative_errno();
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int platform_sandbox_pressure_trigger(PlatformSandbox *s, PlatformPressure which, uint64_t stall_usec,
                                      uint64_t window_usec, int *ret_fd, uint64_t *ret_window_usec)
{
        const char *name = which == PLATFORM_PRESSURE_FULL ? "full" : "some";
        const uint64_t two_s = 2000000;
        uint64_t w2;
        int r;

        r = arm_trigger(s, name, stall_usec, window_usec, ret_fd);
        if (r >= 0) {
                *ret_window_usec = window_usec;
                return 0;
        }
        if (r != -EPERM && r != -EACCES && r != -EINVAL)
                return r;
        /* Unprivileged (6.4+): whole multiples of 2 s only, checked by the 2 s averaging worker. */
        w2 = (window_usec + two_s - 1) / two_s * two_s;
        if (w2 == window_usec)
                return r;
        r = arm_trigger(s, name, stall_usec * w2 / window_usec, w2, ret_fd);
        if (r < 0)
                return r;
        *ret_window_usec = w2;
        return 0;
}

int platform_watch_ack(int fd)
{
        char buf[1024];
        uint64_t ticks;

        /* cgroup v1's epoll set of eventfds */
        if (sandbox_v1_drain(fd) != -EINVAL)
                return 0;
        /* kernfs marks the change seen when the file is read through this open file (of->event). */
        if (pread(fd, buf, sizeof(buf), 0) >= 0)
                return 0;
        if (errno != ESPIPE)
                return negative_errno();
        /* cgroup v1's timer, standing in for cgroup.events: not seekable */
        if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
                return negative_errno();
        return 0;
}

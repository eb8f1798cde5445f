/* SPDX-License-Identifier: MIT */
/*
 * Groups memgov did not make for this run: the one it already runs in
 * (observe mode), and stale ones an earlier memgov left when it was killed
 * hard.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "../../policy/macro.h"
#include "../platform.h"
#include "cgroup-util.h"
#include "sandbox.h"

/* Stale groups are removed after their processes die; the last exits take a moment under emulation. */
#define STALE_RMDIR_TRIES     100
#define STALE_RMDIR_WAIT_USEC 20000

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

int sandbox_effective_limits(const PlatformSandbox *s, uint64_t *ret_max, uint64_t *ret_high)
{
        _cleanup_free_ char *walk = strdup(s->path);
        uint64_t max = PLATFORM_UNLIMITED, high = PLATFORM_UNLIMITED;
        size_t root_len = strlen(s->root);

        if (!walk)
                return -ENOMEM;
        /* From the group up to, not including, the mount's root: the root group has no memory.max. A
         * container sees only its namespace's part of the tree; limits above it are not visible. */
        for (;;) {
                _cleanup_close_ int fd = open(walk, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                uint64_t v;
                char *slash;

                if (fd < 0)
                        return negative_errno();
                if (cg_read_limit_at(fd, "memory.max", &v) >= 0 && v < max)
                        max = v;
                if (cg_read_limit_at(fd, "memory.high", &v) >= 0 && v < high)
                        high = v;
                slash = strrchr(walk, '/');
                if (!slash || (size_t)(slash - walk) < root_len)
                        break;
                *slash = '\0';
        }
        *ret_max = max;
        *ret_high = high;
        return 0;
}

int platform_sandbox_observe(const char *cgroup_root, PlatformSandbox **ret, PlatformError *err)
{
        const char *root = cgroup_root ?: CGROUP_ROOT_DEFAULT;
        PlatformSandbox *s;
        PlatformInfo info;
        char own[4096];
        uint64_t current;
        int r;

        r = platform_probe(root, &info, err);
        if (r < 0)
                return r;
        if (info.backend != PLATFORM_BACKEND_CGROUP2) {
                snprintf(
                        err->message, sizeof(err->message),
                        "observe mode needs cgroup v2: this host's cgroups are %s, and observing a v1 group someone else made is not implemented (docs/cgroup-v1.md)",
                        platform_backend_to_string(info.backend));
                return -EOPNOTSUPP;
        }
        r = cg_pid_get_path(0, own, sizeof(own));
        if (r < 0) {
                snprintf(err->message, sizeof(err->message),
                         "cannot find memgov's own cgroup in /proc/self/cgroup: %s", strerror(-r));
                return r;
        }
        s = sandbox_new();
        if (!s)
                return -ENOMEM;
        s->observe = true;
        s->root = strdup(root);
        s->path = cg_join(root, own);
        if (!s->root || !s->path) {
                platform_sandbox_free(s);
                return -ENOMEM;
        }
        s->dirfd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->dirfd < 0) {
                r = negative_errno();
                snprintf(err->message, sizeof(err->message), "cannot open memgov's own cgroup %s: %s",
                         s->path, strerror(-r));
                platform_sandbox_free(s);
                return r;
        }
        if (cg_read_limit_at(s->dirfd, "memory.current", &current) < 0) {
                snprintf(
                        err->message, sizeof(err->message),
                        "cannot observe %s: it has no memory.current (the root cgroup, or the memory controller is not enabled for it)",
                        s->path);
                platform_sandbox_free(s);
                return -EOPNOTSUPP;
        }
        s->events_fd = openat(s->dirfd, "memory.events", O_RDONLY | O_CLOEXEC);
        s->populated_fd = openat(s->dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
        if (s->events_fd < 0 || s->populated_fd < 0) {
                r = negative_errno();
                snprintf(err->message, sizeof(err->message), "cannot open the event files of %s: %s",
                         s->path, strerror(-r));
                platform_sandbox_free(s);
                return r;
        }
        *ret = s;
        return 0;
}

bool platform_sandbox_is_observe(const PlatformSandbox *s)
{
        return s->observe;
}

bool platform_sandbox_high_notifies(const PlatformSandbox *s)
{
        return !s->observe && !s->v1;
}

void platform_sandbox_set_spawn_options(PlatformSandbox *s, int oom_score_adj, bool die_with_parent)
{
        s->oom_score_adj = oom_score_adj;
        s->die_with_parent = die_with_parent;
}

/* The pid in a name memgov gives by default, memgov-<program>-<pid>; 0 for any other name. */
static pid_t stale_name_pid(const char *name)
{
        const char *dash = strrchr(name, '-');
        char *end;
        long pid;

        if (strncmp(name, "memgov-", 7) != 0 || !dash || dash < name + 7 || !dash[1])
                return 0;
        pid = strtol(dash + 1, &end, 10);
        return *end || pid <= 0 ? 0 : (pid_t)pid;
}

static bool memgov_alive(pid_t pid)
{
        char path[64], comm[32] = "";
        _cleanup_close_ int fd = -1;
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno != ENOENT; /* unsure: leave the group alone */
        n = read(fd, comm, sizeof(comm) - 1);
        if (n < 0)
                return true;
        comm[n] = '\0';
        return strncmp(comm, "memgov", 6) == 0;
}

/* Whether every process listed in the group is visible in our pid namespace (pid 0: one that is not, so
 * the group may belong to a memgov we cannot see). */
static bool all_procs_visible(int fd)
{
        char text[65536];

        if (cg_read_at(fd, "cgroup.procs", text, sizeof(text)) < 0)
                return false;
        for (char *p = text, *end;; p = end) {
                long pid = strtol(p, &end, 10);
                if (end == p)
                        return true;
                if (pid <= 0)
                        return false;
        }
}

static int remove_stale(int parent_fd, const char *name)
{
        _cleanup_close_ int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return negative_errno();
        if (!all_procs_visible(fd))
                return -EPERM;
        if (cg_write_at(fd, "cgroup.kill", "1") == -ENOENT) /* cgroup v1, v2 before 5.14 */
                (void)cg_kill_procs_at(fd);
        for (int i = 0; i < STALE_RMDIR_TRIES; i++) {
                if (unlinkat(parent_fd, name, AT_REMOVEDIR) == 0)
                        return 0;
                if (errno != EBUSY)
                        return negative_errno();
                (void)usleep(STALE_RMDIR_WAIT_USEC);
        }
        return -EBUSY;
}

/* Kills and removes the stale groups directly under path, appending what it removed to *removed. */
static void cleanup_stale_in(const char *path, char ***removed, size_t *n)
{
        _cleanup_(closedirp) DIR *d = opendir(path);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                pid_t pid = stale_name_pid(de->d_name);
                char **grown;

                if (de->d_type != DT_DIR || pid == 0 || pid == getpid() || memgov_alive(pid))
                        continue;
                if (remove_stale(dirfd(d), de->d_name) < 0)
                        continue;
                grown = realloc(*removed, (*n + 2) * sizeof(char *));
                if (!grown)
                        return;
                *removed = grown;
                (*removed)[*n] = cg_join(path, de->d_name);
                if ((*removed)[*n])
                        (*n)++;
                (*removed)[*n] = NULL;
        }
}

int platform_cleanup_stale(const SandboxOptions *o, char ***ret_removed)
{
        _cleanup_free_ char *path = NULL;
        char **removed = NULL;
        PlatformInfo info;
        size_t n = 0;
        char *slash;
        int r;

        r = platform_sandbox_plan(o, &path, NULL, NULL);
        if (r < 0)
                return r;
        slash = strrchr(path, '/');
        if (!slash)
                return -EINVAL;
        *slash = '\0';
        if (access(path, F_OK) < 0)
                return negative_errno();
        cleanup_stale_in(path, &removed, &n);
        /* Hybrid: the twins in the cgroup2 tree, beside memgov's own group there (sandbox-v1.c). */
        if (platform_probe(o->cgroup_root, &info, NULL) >= 0 && info.backend == PLATFORM_BACKEND_HYBRID) {
                char own[4096];
                _cleanup_free_ char *twins = NULL;

                if (cg_pid_get_path(0, own, sizeof(own)) >= 0 && (twins = cg_join(info.unified, own)))
                        cleanup_stale_in(twins, &removed, &n);
        }
        if (ret_removed)
                *ret_removed = removed;
        else {
                for (size_t i = 0; i < n; i++)
                        free(removed[i]);
                free(removed);
        }
        return (int)n;
}

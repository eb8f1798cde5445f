/* SPDX-License-Identifier: MIT */
/*
 * Stale groups: ones an earlier memgov left when it was killed hard, found
 * by name where this run would make its own (and, on hybrid hosts, their
 * twins in the cgroup2 tree).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "../../policy/macro.h"
#include "../platform.h"
#include "cgroup-util.h"

/* Stale groups are removed after their processes die; the last exits take a moment under emulation. */
#define STALE_RMDIR_TRIES     100
#define STALE_RMDIR_WAIT_USEC 20000

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
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
        /* Hybrid (the probe names a cgroup2 tree beside v1's): the twins there, beside memgov's own group in
         * it (sandbox-v1.c). */
        if (platform_probe(o->cgroup_root, &info, NULL) >= 0 && info.unified[0]) {
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

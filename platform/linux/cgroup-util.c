/* SPDX-License-Identifier: MIT */
#include "cgroup-util.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/stat.h>

#include "kfile.h"
#include "../../policy/macro.h"

int cg_read_at(int dirfd, const char *file, char *buf, size_t size)
{
        _cleanup_close_ int fd = -1;

        return cg_pread_kept_at(dirfd, &fd, file, buf, size);
}

int cg_pread_kept_at(int dirfd, int *fd, const char *file, char *buf, size_t size)
{
        size_t n = 0;

        if (*fd < 0) {
                *fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                if (*fd < 0)
                        return negative_errno();
        }
        while (n + 1 < size) {
                ssize_t k = pread(*fd, buf + n, size - 1 - n, (off_t)n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                n += (size_t)k;
        }
        buf[n] = '\0';
        return (int)n;
}

int cg_write_at(int dirfd, const char *file, const char *value)
{
        _cleanup_close_ int fd = -1;
        size_t len = strlen(value);
        ssize_t k;

        fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        /* cgroupfs takes a value in a single write; a short write is an error. */
        k = write(fd, value, len);
        if (k < 0)
                return negative_errno();
        if ((size_t)k != len)
                return -EIO;
        return 0;
}

int cg_read_key_at(int dirfd, const char *file, const char *key, uint64_t *ret)
{
        char buf[8192];
        int r;

        r = cg_read_at(dirfd, file, buf, sizeof(buf));
        if (r < 0)
                return r;
        return kfile_get_key_u64(buf, key, ret);
}

int cg_read_limit_at(int dirfd, const char *file, uint64_t *ret)
{
        char buf[64];
        int r;

        r = cg_read_at(dirfd, file, buf, sizeof(buf));
        if (r < 0)
                return r;
        return kfile_parse_limit(buf, ret);
}

int cg_pread_limit(int fd, uint64_t *ret)
{
        char buf[64];
        ssize_t k;

        do
                k = pread(fd, buf, sizeof(buf) - 1, 0);
        while (k < 0 && errno == EINTR);
        if (k < 0)
                return negative_errno();
        buf[k] = '\0';
        return kfile_parse_limit(buf, ret);
}

int cg_write_limit_at(int dirfd, const char *file, uint64_t bytes)
{
        char buf[32];

        if (bytes == PLATFORM_UNLIMITED)
                return cg_write_at(dirfd, file, "max");
        snprintf(buf, sizeof(buf), "%" PRIu64, bytes);
        return cg_write_at(dirfd, file, buf);
}

bool cg_controller_listed(const char *text, const char *controller)
{
        size_t n = strlen(controller);

        for (const char *p = text; (p = strstr(p, controller)); p += n) {
                bool start = p == text || p[-1] == ' ';
                bool end = p[n] == '\0' || p[n] == ' ' || p[n] == '\n';
                if (start && end)
                        return true;
        }
        return false;
}

int cg_pid_get_path(pid_t pid, char *buf, size_t size)
{
        char path[64], text[4096];
        int r;

        if (pid == 0)
                snprintf(path, sizeof(path), "/proc/self/cgroup");
        else
                snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
        r = cg_read_at(AT_FDCWD, path, text, sizeof(text));
        if (r < 0)
                return r;
        return kfile_cgroup2_path(text, buf, size);
}

int cg_pid_in_group(pid_t pid, const char *controller, const char *rel)
{
        char path[64], text[4096], group[4096];
        size_t n;
        int r;

        snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
        r = cg_read_at(AT_FDCWD, path, text, sizeof(text));
        if (r < 0)
                return r;
        r = controller ? kfile_cgroup1_path(text, controller, group, sizeof(group))
                       : kfile_cgroup2_path(text, group, sizeof(group));
        if (r < 0)
                return r;
        /* "/a/b" and "a/b/" name the same group; "/" holds every one. */
        rel += strspn(rel, "/");
        n = strlen(rel);
        while (n > 0 && rel[n - 1] == '/')
                n--;
        if (n == 0)
                return 1;
        return group[0] == '/' && strncmp(group + 1, rel, n) == 0 &&
               (group[n + 1] == '\0' || group[n + 1] == '/');
}

int cg_detect_backend(const char *root, PlatformBackend *ret)
{
        struct statfs fs;
        _cleanup_free_ char *unified = NULL;

        if (statfs(root, &fs) < 0)
                return negative_errno();
        if ((unsigned long)fs.f_type == (unsigned long)CGROUP2_SUPER_MAGIC) {
                *ret = PLATFORM_BACKEND_CGROUP2;
                return 0;
        }
        if ((unsigned long)fs.f_type != (unsigned long)TMPFS_MAGIC)
                return -ENOMEDIUM;

        unified = cg_join(root, "unified");
        if (!unified)
                return -ENOMEM;
        if (statfs(unified, &fs) == 0 && (unsigned long)fs.f_type == (unsigned long)CGROUP2_SUPER_MAGIC)
                *ret = PLATFORM_BACKEND_HYBRID;
        else
                *ret = PLATFORM_BACKEND_CGROUP1;
        return 0;
}

int cg_name_valid(const char *name)
{
        static const char *const reserved_prefixes[] = {"cgroup.", "memory.",  "cpu.",  "io.",  "pids.",
                                                        "cpuset.", "hugetlb.", "rdma.", "misc."};

        if (!name || !*name)
                return -EINVAL;
        if (strlen(name) > 200)
                return -ENAMETOOLONG;
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
                return -EINVAL;
        for (const char *p = name; *p; p++)
                if (*p == '/' || *p == '\n' || (unsigned char)*p < 0x20)
                        return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(reserved_prefixes); i++)
                if (strncmp(name, reserved_prefixes[i], strlen(reserved_prefixes[i])) == 0)
                        return -EINVAL;
        return 0;
}

char *cg_join(const char *root, const char *rel)
{
        size_t rl = strlen(root), ll;
        char *s;

        while (rl > 0 && root[rl - 1] == '/')
                rl--;
        while (*rel == '/')
                rel++;
        ll = strlen(rel);
        while (ll > 0 && rel[ll - 1] == '/')
                ll--;
        s = malloc(rl + 1 + ll + 1);
        if (!s)
                return NULL;
        memcpy(s, root, rl);
        s[rl] = '/';
        memcpy(s + rl + 1, rel, ll);
        /* "/" + "" is "/", "/a" + "" is "/a": no trailing slash unless it is the root itself. */
        s[(ll > 0 || rl == 0) ? rl + 1 + ll : rl] = '\0';
        return s;
}

int cg_kill_procs_at(int dirfd)
{
        /* A task forking while we sweep shows up in the next round; the bound only guards against a kernel
         * that keeps a listed task unkillable. */
        for (int round = 0; round < 1000; round++) {
                char text[65536];
                bool any = false;
                int r;

                r = cg_read_at(dirfd, "cgroup.procs", text, sizeof(text));
                if (r < 0)
                        return r;
                for (char *p = text; *p;) {
                        char *end;
                        long pid = strtol(p, &end, 10);
                        if (end == p)
                                break;
                        if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0)
                                any = true;
                        p = end;
                        while (*p == '\n')
                                p++;
                }
                if (!any)
                        return 0;
        }
        return -EBUSY;
}

void cg_fail(PlatformError *err, const char *fmt, ...)
{
        va_list ap;

        if (err) {
                va_start(ap, fmt);
                vsnprintf(err->message, sizeof(err->message), fmt, ap);
                va_end(ap);
        }
}

void cg_fail_create(PlatformError *err, const char *path, const char *name, int r, const char *access_hint)
{
        if (r == -EEXIST)
                cg_fail(err,
                        "cgroup %s already exists: another memgov with --name %s may be running. Choose another --name, or remove the group once it is empty",
                        path, name);
        else if (r == -ENOENT)
                cg_fail(err, "parent cgroup of %s does not exist", path);
        else if (r == -EACCES || r == -EPERM || r == -EROFS)
                cg_fail(err, "cannot create cgroup %s: %s. %s", path, strerror(-r), access_hint);
        else
                cg_fail(err, "cannot create cgroup %s: %s", path, strerror(-r));
}

int cg_check_name(const char *name, PlatformError *err)
{
        int r = cg_name_valid(name);

        if (r < 0)
                cg_fail(err,
                        "--name '%s': not a valid cgroup name (one path component, not '.' or '..', no controller prefix such as 'memory.')",
                        name ?: "");
        return r;
}

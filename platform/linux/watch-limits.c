/* SPDX-License-Identifier: MIT */
/*
 * A resize seen when it is written: inotify on the limit files the samples read.
 *
 * A write to a cgroup file raises IN_MODIFY on its inode (fsnotify in the VFS write path), and every
 * cgroup2 mount shares one superblock, so a watch set through a container's own mount (a cgroup
 * namespace only moves the mount's root) also hears a write that a runtime makes from outside
 * (`runc update`, the kubelet's in-place resize). tests/kernel (kt-notify) pins this down.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "../../policy/macro.h"
#include "../platform.h"
#include "sandbox.h"

/* Watches the limit files of one group directory; how many were set. */
static int watch_dir(int ifd, const char *dir, const char *const *files)
{
        int n = 0;

        for (size_t i = 0; files[i]; i++) {
                char path[4096];

                if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, files[i]) >= sizeof(path))
                        return -ENAMETOOLONG;
                if (inotify_add_watch(ifd, path, IN_MODIFY) >= 0)
                        n++;
                else if (errno != ENOENT) /* the root group and v1's missing files have none */
                        return negative_errno();
        }
        return n;
}

int platform_sandbox_limits_watch(PlatformSandbox *s, int *ret_fd)
{
        _cleanup_close_ int ifd = -1;
        _cleanup_free_ char *walk = strdup(s->path);
        size_t root_len = strlen(s->root);
        int n = 0;

        if (s->limits_watch_fd >= 0) {
                *ret_fd = s->limits_watch_fd;
                return 0;
        }
        ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (ifd < 0)
                return negative_errno();
        if (!walk)
                return -ENOMEM;
        /* The files the samples read: the group's own and every ancestor's up to the mount's root
         * (sandbox-v2.c's effective_limits()), since a parent's limit binds without touching the group's
         * file. */
        for (;;) {
                int r = watch_dir(ifd, walk, s->ops->limit_files);
                char *slash;

                if (r < 0)
                        return r;
                n += r;
                slash = strrchr(walk, '/');
                if (!slash || (size_t)(slash - walk) < root_len)
                        break;
                *slash = '\0';
        }
        if (n == 0)
                return -ENOENT;
        s->limits_watch_fd = TAKE_FD(ifd);
        *ret_fd = s->limits_watch_fd;
        return 0;
}

int platform_limits_watch_ack(PlatformSandbox *s)
{
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

        /* Which file changed does not matter: the next sample reads them all. */
        s->limits_read = false;
        for (;;) {
                ssize_t n = read(s->limits_watch_fd, buf, sizeof(buf));

                if (n > 0)
                        continue;
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno != EAGAIN)
                        return negative_errno();
                return 0;
        }
}

/* SPDX-License-Identifier: MIT */
/*
 * What every table's create uses (sandbox.h): the sandbox's allocation and
 * release, and the --parent option. Here rather than in sandbox.c, so the
 * tables never call back into the file that chooses them.
 */
#include "sandbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/macro.h"
#include "cgroup-util.h"

PlatformSandbox *sandbox_new(const SandboxOps *ops)
{
        PlatformSandbox *s = calloc(1, sizeof(*s));
        if (!s)
                return NULL;
        s->ops = ops;
        s->dirfd = s->events_fd = s->populated_fd = s->twin_fd = s->current_fd = s->limits_watch_fd = -1;
        for (size_t i = 0; i < ELEMENTSOF(s->kept_fd); i++)
                s->kept_fd[i] = -1;
        for (size_t i = 0; i < ELEMENTSOF(s->v1_events); i++)
                s->v1_events[i].efd = s->v1_events[i].usage_dirfd = -1;
        s->oom_score_adj = PLATFORM_OOM_SCORE_ADJ_UNSET;
        s->nice = PLATFORM_NICE_UNSET;
        return s;
}

PlatformSandbox *sandbox_free(PlatformSandbox *s)
{
        if (!s)
                return NULL;
        if (s->ops->free)
                s->ops->free(s);
        safe_close(s->dirfd);
        safe_close(s->events_fd);
        safe_close(s->populated_fd);
        safe_close(s->current_fd);
        safe_close(s->limits_watch_fd);
        for (size_t i = 0; i < ELEMENTSOF(s->kept_fd); i++)
                safe_close(s->kept_fd[i]);
        free(s->root);
        free(s->path);
        free(s);
        return NULL;
}

void sandbox_freep(PlatformSandbox **s)
{
        sandbox_free(*s);
}

int sandbox_parent_option(const SandboxOptions *o, const char *root, char *buf, size_t size,
                          PlatformError *err)
{
        const char *p = o->parent;
        size_t rl = strlen(root);

        /* Accept both "/system.slice/x" and "/sys/fs/cgroup/system.slice/x". */
        if (strncmp(p, root, rl) == 0 && (p[rl] == '/' || p[rl] == '\0'))
                p += rl;
        if (strstr(p, "/../") || strcmp(p, "..") == 0 || strncmp(p, "../", 3) == 0 ||
            (strlen(p) >= 3 && strcmp(p + strlen(p) - 3, "/..") == 0)) {
                cg_fail(err, "--parent %s: must not contain '..'", o->parent);
                return -EINVAL;
        }
        snprintf(buf, size, "%s%s", *p == '/' ? "" : "/", p);
        return 0;
}

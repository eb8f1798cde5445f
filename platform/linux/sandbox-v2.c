/* SPDX-License-Identifier: MIT */
/*
 * The cgroup v2 sandbox: one child group with memory.max, memory.high,
 * memory.swap.max and memory.oom.group=1, under a parent where the memory
 * controller is enabled. Observe mode (observe.c) shares most of this table:
 * memgov's own group is a v2 group too.
 */
#include "sandbox.h"

#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kfile.h"
#include "../../policy/macro.h"
#include "../platform.h"
#include "cgroup-util.h"

#define SUPERVISOR_LEAF "supervisor"

static int v2_probe(const char *root, PlatformInfo *info, PlatformError *err)
{
        char controllers[512];
        _cleanup_close_ int fd = -1;
        int r;

        snprintf(info->pressure, sizeof(info->pressure), "the group's memory.pressure (PSI)");
        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        r = cg_read_at(fd, "cgroup.controllers", controllers, sizeof(controllers));
        if (r < 0) {
                cg_fail(err, "cannot read %s/cgroup.controllers: %s", root, strerror(-r));
                return r;
        }
        info->memory_controller = cg_controller_listed(controllers, "memory");
        if (!info->memory_controller) {
                cg_fail(err,
                        "cgroup v2 at %s has no memory controller (cgroup.controllers: %.*s); it may be bound to a cgroup v1 hierarchy or disabled with cgroup_disable=memory",
                        root, (int)strcspn(controllers, "\n"), controllers);
                return -EOPNOTSUPP;
        }
        return 0;
}

/* The parent group, relative to the root: --parent, or memgov's own group. */
static int resolve_parent(const SandboxOptions *o, const char *root, char *buf, size_t size,
                          bool *ret_move_self, PlatformError *err)
{
        int r;

        if (o->parent) {
                *ret_move_self = false;
                return sandbox_parent_option(o, root, buf, size, err);
        }

        r = cg_pid_get_path(0, buf, size);
        if (r < 0) {
                cg_fail(err, "cannot find memgov's own cgroup in /proc/self/cgroup: %s", strerror(-r));
                return r;
        }
        /* The root group is exempt from the no-internal-process rule: no need to move. */
        *ret_move_self = strcmp(buf, "/") != 0;
        return 0;
}

/* Checks the name and finds the parent: relative to the root (parent, for walking down) and as a path. */
static int sandbox_resolve(const SandboxOptions *o, const char *root, char parent[static 4096],
                           char **ret_parent_path, bool *ret_move_self, PlatformError *err)
{
        int r;

        r = cg_check_name(o->name, err);
        if (r < 0)
                return r;
        r = resolve_parent(o, root, parent, 4096, ret_move_self, err);
        if (r < 0)
                return r;
        *ret_parent_path = cg_join(root, parent);
        return *ret_parent_path ? 0 : -ENOMEM;
}

static int v2_plan(const SandboxOptions *o, const PlatformInfo *info, char **ret_path, char **ret_supervisor,
                   PlatformError *err)
{
        char parent[4096];
        _cleanup_free_ char *parent_path = NULL;
        bool move_self;
        int r;

        r = sandbox_resolve(o, info->root, parent, &parent_path, &move_self, err);
        if (r < 0)
                return r;
        if (ret_supervisor) {
                *ret_supervisor = move_self ? cg_join(parent_path, SUPERVISOR_LEAF) : NULL;
                if (move_self && !*ret_supervisor)
                        return -ENOMEM;
        }
        *ret_path = cg_join(parent_path, o->name);
        if (!*ret_path)
                return -ENOMEM;
        return 0;
}

static int move_self_to_leaf(int parent_fd, const char *parent_path, PlatformError *err)
{
        _cleanup_close_ int leaf_fd = -1;
        int r;

        if (mkdirat(parent_fd, SUPERVISOR_LEAF, 0755) < 0 && errno != EEXIST) {
                r = negative_errno();
                goto fail;
        }
        leaf_fd = openat(parent_fd, SUPERVISOR_LEAF, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (leaf_fd < 0) {
                r = negative_errno();
                goto fail;
        }
        r = cg_write_at(leaf_fd, "cgroup.procs", "0");
        if (r < 0)
                goto fail;
        return 0;
fail:
        if (r == -EACCES || r == -EPERM || r == -EROFS)
                cg_fail(err,
                        "cannot move memgov into %s/" SUPERVISOR_LEAF
                        ": %s. Run as root, or pass --parent with a cgroup delegated to you (for example from systemd-run --user -p Delegate=yes)",
                        parent_path, strerror(-r));
        else
                cg_fail(err, "cannot move memgov into %s/" SUPERVISOR_LEAF ": %s", parent_path,
                        strerror(-r));
        return r;
}

/* Enables +memory in cgroup.subtree_control of one group, naming it in any error. */
static int enable_memory_in(int fd, const char *path, PlatformError *err)
{
        char text[512];
        int r;

        r = cg_read_at(fd, "cgroup.subtree_control", text, sizeof(text));
        if (r < 0) {
                cg_fail(err, "cannot read %s/cgroup.subtree_control: %s", path, strerror(-r));
                return r;
        }
        if (cg_controller_listed(text, "memory"))
                return 0;
        r = cg_write_at(fd, "cgroup.subtree_control", "+memory");
        if (r == -EBUSY)
                cg_fail(err,
                        "cannot enable the memory controller below %s: that cgroup has processes of its own (the no-internal-process rule). Pass --parent with a cgroup that has no processes",
                        path);
        else if (r < 0)
                cg_fail(err, "cannot enable the memory controller in %s: %s", path, strerror(-r));
        return r;
}

/* Enables the memory controller in every group from the root down to rel, so the group made below rel has
 * memory.max. */
static int enable_memory_down_to(const char *root, const char *rel, PlatformError *err)
{
        _cleanup_free_ char *walk = strdup(rel), *here = NULL;
        _cleanup_close_ int fd = -1;
        int r;

        here = strdup(root);
        if (!walk || !here)
                return -ENOMEM;
        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();

        for (char *save = NULL, *comp = strtok_r(walk, "/", &save);; comp = strtok_r(NULL, "/", &save)) {
                char *next_path;
                int next;

                r = enable_memory_in(fd, here, err);
                if (r < 0)
                        return r;
                if (!comp)
                        return 0;
                next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                next_path = cg_join(here, comp);
                if (next < 0) {
                        r = negative_errno();
                        cg_fail(err, "cannot open cgroup %s: %s", next_path ?: comp, strerror(-r));
                        free(next_path);
                        return r;
                }
                safe_close(fd);
                fd = next;
                free(here);
                here = next_path;
                if (!here)
                        return -ENOMEM;
        }
}

static int apply_limits(PlatformSandbox *s, const SandboxOptions *o, PlatformError *err)
{
        int r;

        r = cg_write_limit_at(s->dirfd, "memory.max", o->memory_max_bytes);
        if (r < 0) {
                cg_fail(err, "cannot write %s/memory.max: %s", s->path, strerror(-r));
                return r;
        }
        r = cg_write_limit_at(s->dirfd, "memory.high", o->memory_high_bytes);
        if (r < 0) {
                cg_fail(err, "cannot write %s/memory.high: %s", s->path, strerror(-r));
                return r;
        }
        if (o->swap_max_set) {
                r = cg_write_limit_at(s->dirfd, "memory.swap.max", o->swap_max_bytes);
                if (r == -ENOENT) {
                        cg_fail(err,
                                "--swap-max was given, but %s has no memory.swap.max: swap accounting is off in this kernel (boot with swapaccount=1, or drop --swap-max)",
                                s->path);
                        return r;
                }
                if (r < 0) {
                        cg_fail(err, "cannot write %s/memory.swap.max: %s", s->path, strerror(-r));
                        return r;
                }
        }
        r = cg_write_at(s->dirfd, "memory.oom.group", "1");
        if (r < 0) {
                cg_fail(err, "cannot write %s/memory.oom.group: %s", s->path, strerror(-r));
                return r;
        }
        return 0;
}

static int open_watches(PlatformSandbox *s, PlatformError *err)
{
        s->events_fd = openat(s->dirfd, "memory.events", O_RDONLY | O_CLOEXEC);
        if (s->events_fd < 0) {
                int r = negative_errno();
                cg_fail(err, "cannot open %s/memory.events: %s", s->path, strerror(-r));
                return r;
        }
        s->populated_fd = openat(s->dirfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
        if (s->populated_fd < 0) {
                int r = negative_errno();
                cg_fail(err, "cannot open %s/cgroup.events: %s", s->path, strerror(-r));
                return r;
        }
        return 0;
}

static int v2_create(const SandboxOptions *o, const PlatformInfo *info, PlatformSandbox **ret,
                     PlatformError *err)
{
        const char *root = info->root;
        _cleanup_(sandbox_freep) PlatformSandbox *s = NULL;
        _cleanup_close_ int parent_fd = -1;
        _cleanup_free_ char *parent_path = NULL;
        char parent[4096];
        bool move_self;
        int r;

        r = sandbox_resolve(o, root, parent, &parent_path, &move_self, err);
        if (r < 0)
                return r;
        parent_fd = open(parent_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (parent_fd < 0) {
                r = negative_errno();
                if (r == -ENOENT)
                        cg_fail(err, "parent cgroup %s does not exist", parent_path);
                else
                        cg_fail(err, "cannot open parent cgroup %s: %s", parent_path, strerror(-r));
                return r;
        }

        if (move_self) {
                r = move_self_to_leaf(parent_fd, parent_path, err);
                if (r < 0)
                        return r;
        }
        r = enable_memory_down_to(root, parent, err);
        if (r < 0)
                return r;

        s = sandbox_new(&sandbox_v2_ops);
        if (!s)
                return -ENOMEM;
        s->root = strdup(root);
        s->path = cg_join(parent_path, o->name);
        if (!s->root || !s->path)
                return -ENOMEM;
        if (mkdirat(parent_fd, o->name, 0755) < 0) {
                r = negative_errno();
                cg_fail_create(
                        err, s->path, o->name, r,
                        "Run as root, or pass --parent with a cgroup delegated to you (for example from systemd-run --user -p Delegate=yes)");
                return r;
        }
        s->dirfd = openat(parent_fd, o->name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->dirfd < 0) {
                r = negative_errno();
                cg_fail(err, "cannot open cgroup %s: %s", s->path, strerror(-r));
                (void)unlinkat(parent_fd, o->name, AT_REMOVEDIR);
                return r;
        }
        r = apply_limits(s, o, err);
        if (r >= 0)
                r = open_watches(s, err);
        if (r < 0) {
                (void)unlinkat(parent_fd, o->name, AT_REMOVEDIR);
                return r;
        }
        s->fork_fallback = getenv("MEMGOV_SPAWN_FORK") != NULL;
        *ret = TAKE_PTR(s);
        return 0;
}

static int v2_destroy(PlatformSandbox *s)
{
        if (rmdir(s->path) < 0) {
                if (errno == ENOENT)
                        return 0;
                return negative_errno();
        }
        return 0;
}

static int v2_populated(PlatformSandbox *s, bool *ret)
{
        uint64_t v;
        int r;

        r = cg_read_key_at(s->dirfd, "cgroup.events", "populated", &v);
        if (r < 0)
                return r;
        *ret = v != 0;
        return 0;
}

static int v2_kill(PlatformSandbox *s)
{
        int r = cg_write_at(s->dirfd, "cgroup.kill", "1");

        if (r == -ENOENT) /* kernel older than 5.14 */
                return cg_kill_procs_at(s->dirfd);
        return r;
}

/* The anon LRU lists hold more than "anon" (mapped anon pages): shmem, and anon pages no process maps
 * any more that are still charged, such as what is left of a huge page partly released. */
static int sample_anon_lru(const char *stat, PlatformSample *x)
{
        uint64_t inactive = 0, active = 0;
        int r;

        r = kfile_get_key_u64(stat, "inactive_anon", &inactive);
        if (r >= 0)
                r = kfile_get_key_u64(stat, "active_anon", &active);
        if (r < 0)
                return r;
        x->anon_lru_bytes = inactive + active;
        return 0;
}

static int sample_stat(PlatformSandbox *s, PlatformSample *x)
{
        char stat[16384];
        int r;

        r = cg_pread_kept_at(s->dirfd, &s->kept_fd[SANDBOX_KEPT_STAT], "memory.stat", stat, sizeof(stat));
        if (r < 0)
                return r;
        /* "kernel" is 6.1+; older kernels split it (kernel_stack, slab, percpu, sock): sum what is there. */
        (void)kfile_get_key_u64(stat, "anon", &x->anon_bytes);
        (void)kfile_get_key_u64(stat, "file", &x->file_bytes);
        (void)kfile_get_key_u64(stat, "shmem", &x->shmem_bytes);
        (void)kfile_get_key_u64(stat, "inactive_file", &x->inactive_file_bytes);
        (void)sample_anon_lru(stat, x);
        if (kfile_get_key_u64(stat, "kernel", &x->kernel_bytes) < 0) {
                static const char *const parts[] = {"kernel_stack", "pagetables", "percpu", "sock", "slab"};
                for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                        uint64_t v = 0;
                        (void)kfile_get_key_u64(stat, parts[i], &v);
                        x->kernel_bytes += v;
                }
        }
        return 0;
}

static void sample_pressure(PlatformSandbox *s, PlatformSample *x)
{
        char text[512];

        /* No PSI (CONFIG_PSI off, psi=0): the file is missing or fails with EOPNOTSUPP; the law then goes by
         * memory.events alone. */
        if (cg_pread_kept_at(s->dirfd, &s->kept_fd[SANDBOX_KEPT_PRESSURE], "memory.pressure", text,
                             sizeof(text)) < 0)
                return;
        if (kfile_psi_parse(text, "some", &x->psi_some_avg10_permyriad, &x->psi_some_total_usec) < 0)
                return;
        (void)kfile_psi_parse(text, "full", &x->psi_full_avg10_permyriad, &x->psi_full_total_usec);
        x->have_psi = true;
}

/* Whether a limit file may have been written since the limits were read: always, without a watch. The
 * events wait in the watch's queue until the loop takes them (platform_limits_watch_ack()). */
static bool limits_may_have_changed(const PlatformSandbox *s)
{
        struct pollfd p = {.fd = s->limits_watch_fd, .events = POLLIN};

        return !s->limits_read || s->limits_watch_fd < 0 || poll(&p, 1, 0) != 0;
}

/* The lowest memory.max and memory.high of the group and every ancestor below root. */
static int effective_limits(PlatformSandbox *s, uint64_t *ret_max, uint64_t *ret_high)
{
        _cleanup_free_ char *walk = NULL;
        uint64_t max = PLATFORM_UNLIMITED, high = PLATFORM_UNLIMITED;
        size_t root_len = strlen(s->root);

        if (!limits_may_have_changed(s)) {
                *ret_max = s->limits_max;
                *ret_high = s->limits_high;
                return 0;
        }
        walk = strdup(s->path);
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
        *ret_max = s->limits_max = max;
        *ret_high = s->limits_high = high;
        s->limits_read = true;
        return 0;
}

/* Read at every wake-up, glances included: through a descriptor kept open. */
int sandbox_v2_current(PlatformSandbox *s, uint64_t *ret)
{
        if (s->current_fd < 0) {
                int fd = openat(s->dirfd, "memory.current", O_RDONLY | O_CLOEXEC | O_NOCTTY);

                if (fd < 0)
                        return negative_errno();
                s->current_fd = fd;
        }
        return cg_pread_limit(s->current_fd, ret);
}

int sandbox_v2_sample(PlatformSandbox *s, PlatformSample *ret)
{
        PlatformSample x = {};
        char events[1024], peak[64];
        int r;

        r = sandbox_v2_current(s, &x.current_bytes);
        if (r < 0)
                return r;
        r = cg_pread_kept_at(s->dirfd, &s->kept_fd[SANDBOX_KEPT_PEAK], "memory.peak", peak, sizeof(peak));
        if (r >= 0)
                r = kfile_parse_limit(peak, &x.peak_bytes);
        if (r == -ENOENT) /* memory.peak is 5.19+ */
                x.peak_bytes = PLATFORM_UNLIMITED;
        else if (r < 0)
                return r;
        /* A parent's limit binds the group without touching the group's own files (a service's MemoryMax
         * around memgov, a pod around a container): the lowest of the group's and its ancestors'. */
        r = effective_limits(s, &x.max_bytes, &x.high_bytes);
        if (r < 0)
                return r;
        r = cg_pread_kept_at(s->dirfd, &s->kept_fd[SANDBOX_KEPT_EVENTS], "memory.events", events,
                             sizeof(events));
        if (r < 0)
                return r;
        /* Keys absent on older kernels (oom_group_kill, ...) are fine; these exist since 4.x. */
        (void)kfile_get_key_u64(events, "low", &x.events_low);
        (void)kfile_get_key_u64(events, "high", &x.events_high);
        (void)kfile_get_key_u64(events, "max", &x.events_max);
        (void)kfile_get_key_u64(events, "oom", &x.events_oom);
        (void)kfile_get_key_u64(events, "oom_kill", &x.events_oom_kill);

        r = sample_stat(s, &x);
        if (r < 0)
                return r;
        sample_pressure(s, &x);
        *ret = x;
        return 0;
}

int sandbox_v2_pressure_dir(PlatformSandbox *s, int *ret_dirfd, const char **ret_file)
{
        *ret_dirfd = s->dirfd;
        *ret_file = "memory.pressure";
        return 0;
}

char *sandbox_v2_pressure_path(PlatformSandbox *s)
{
        return cg_join(s->path, "memory.pressure");
}

int sandbox_v2_reclaim(PlatformSandbox *s, uint64_t bytes)
{
        char value[32];

        snprintf(value, sizeof(value), "%" PRIu64, bytes);
        return cg_write_at(s->dirfd, "memory.reclaim", value);
}

static int v2_set_high(PlatformSandbox *s, uint64_t bytes)
{
        return cg_write_limit_at(s->dirfd, "memory.high", bytes);
}

static int v2_set_max(PlatformSandbox *s, uint64_t bytes)
{
        return cg_write_limit_at(s->dirfd, "memory.max", bytes);
}

/* Every descriptor is a cgroup2 file's, or a PSI trigger. */
int sandbox_v2_watch_kind(PlatformSandbox *s, int fd)
{
        return PLATFORM_WATCH_PRIORITY;
}

static int v2_attach(PlatformSandbox *s, const char *pid)
{
        return cg_write_at(s->dirfd, "cgroup.procs", pid);
}

const char *const sandbox_v2_limit_files[] = {"memory.max", "memory.high", NULL};

const SandboxOps sandbox_v2_ops = {
        .probe = v2_probe,
        .plan = v2_plan,
        .create = v2_create,
        .destroy = v2_destroy,
        .populated = v2_populated,
        .kill = v2_kill,
        .current = sandbox_v2_current,
        .sample = sandbox_v2_sample,
        .pressure_dir = sandbox_v2_pressure_dir,
        .pressure_path = sandbox_v2_pressure_path,
        .reclaim = sandbox_v2_reclaim,
        .set_high = v2_set_high,
        .set_max = v2_set_max,
        .watch_kind = sandbox_v2_watch_kind,
        .attach = v2_attach,
        .clone_into_group = true,
        .high_notifies = true,
        .dirfd_is_cgroup2 = true,
        .pid_controller = NULL,
        .limit_files = sandbox_v2_limit_files,
};

/* SPDX-License-Identifier: MIT */
/*
 * The cgroup v1 and hybrid sandbox: one group in the v1 memory hierarchy with
 * memory.limit_in_bytes, memory.soft_limit_in_bytes and (when asked)
 * memory.memsw.limit_in_bytes. v1 has no memory.events, cgroup.events,
 * cgroup.kill or memory.pressure, so:
 *
 * - events: eventfds registered through cgroup.event_control (memory.oom_control,
 *   memory.pressure_level low/medium/critical, usage thresholds on
 *   memory.usage_in_bytes), gathered in one epoll set the governor waits on;
 * - on hybrid hosts, a twin group at the same place in the cgroup2 tree holds
 *   the same processes: its cgroup.events says when the group is empty, its
 *   cgroup.kill kills it race-free, its memory.pressure is the group's PSI
 *   (cgroup2 keeps PSI files in every group, controllers or not);
 * - on pure v1, a 100 ms timer stands in for cgroup.events (the process list is
 *   read at each tick), kill sweeps cgroup.procs, and pressure is the host's
 *   /proc/pressure/memory, reported as system-wide.
 *
 * libcgroup only finds where the memory hierarchy is mounted when it is not at
 * <base>/memory (memory_mount_from_libcgroup()); groups, limits and tasks are
 * written here through directory fds: see docs/cgroup-v1.md, "libcgroup".
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>

#include <libcgroup.h>

#include "kfile.h"
#include "../../policy/macro.h"
#include "cgroup-util.h"

#define V1_POPULATED_POLL_USEC 100000ULL
#define PROC_PRESSURE_MEMORY   "/proc/pressure/memory"

static bool fs_is(const char *path, unsigned long magic)
{
        struct statfs fs;

        return statfs(path, &fs) == 0 && (unsigned long)fs.f_type == magic;
}

/*
 * Where the v1 memory hierarchy is mounted, when it is not at <base>/memory: libcgroup reads the mount
 * table (cgroup_init() parses /proc/mounts) and knows every controller's mount point, co-mounted ones
 * ("cpu,memory") and ones outside /sys/fs/cgroup included. Only asked for the real root: a --cgroup-root
 * given for tests means that tree and no other. Returns a malloc'd path, or NULL.
 */
static char *memory_mount_from_libcgroup(const char *base)
{
        char *mount_point = NULL;
        int r;

        if (strcmp(base, CGROUP_ROOT_DEFAULT) != 0)
                return NULL;
        r = cgroup_init();
        if (r == 0)
                r = cgroup_get_subsys_mount_point("memory", &mount_point);
        if (r != 0) {
                free(mount_point);
                return NULL;
        }
        if (!fs_is(mount_point, CGROUP_SUPER_MAGIC)) {
                free(mount_point);
                return NULL;
        }
        return mount_point;
}

/* base is the tmpfs holding the hierarchies; backend is CGROUP1 or HYBRID (cg_detect_backend()). */
static int v1_probe(const char *base, PlatformInfo *info, PlatformError *err)
{
        _cleanup_free_ char *memory = cg_join(base, "memory"), *unified = cg_join(base, "unified");
        const char *mode = platform_backend_to_string(info->backend);

        if (!memory || !unified)
                return -ENOMEM;
        if (!fs_is(memory, CGROUP_SUPER_MAGIC)) {
                char *elsewhere = memory_mount_from_libcgroup(base);
                if (elsewhere) {
                        free(memory);
                        memory = elsewhere;
                }
        }
        if (info->backend == PLATFORM_BACKEND_HYBRID)
                snprintf(info->unified, sizeof(info->unified), "%s", unified);
        if (!fs_is(memory, CGROUP_SUPER_MAGIC)) {
                char controllers[512] = "";
                _cleanup_close_ int fd = open(unified, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

                if (fd >= 0 && cg_read_at(fd, "cgroup.controllers", controllers, sizeof(controllers)) >= 0 &&
                    cg_controller_listed(controllers, "memory"))
                        cg_fail(err,
                                "this host's cgroups are %s, but the memory controller is on the cgroup2 tree at %s, not on a v1 hierarchy; memgov supports memory on cgroup v2 proper or on v1, not this mix",
                                mode, unified);
                else
                        cg_fail(err,
                                "this host's cgroups are %s, but %s is not a cgroup v1 memory hierarchy: the memory controller is not mounted there, or disabled (cgroup_disable=memory)",
                                mode, memory);
                return -EOPNOTSUPP;
        }
        snprintf(info->root, sizeof(info->root), "%s", memory);
        info->memory_controller = true;
        if (info->backend == PLATFORM_BACKEND_HYBRID)
                snprintf(info->pressure, sizeof(info->pressure),
                         "memory.pressure of the group's twin under %s (PSI), and memory.pressure_level",
                         unified);
        else
                snprintf(
                        info->pressure, sizeof(info->pressure),
                        PROC_PRESSURE_MEMORY
                        " (system-wide: cgroup v1 has no per-group PSI), and the group's memory.pressure_level");
        return 0;
}

/* The parent, relative to the memory hierarchy: --parent, or memgov's own memory cgroup. v1 has no
 * no-internal-process rule, so memgov stays where it is, unlike on v2 (no "supervisor" leaf). */
static int v1_parent(const SandboxOptions *o, const char *root, char *buf, size_t size, PlatformError *err)
{
        char text[4096];
        int r;

        if (o->parent)
                return sandbox_parent_option(o, root, buf, size, err);
        r = cg_read_at(AT_FDCWD, "/proc/self/cgroup", text, sizeof(text));
        if (r >= 0)
                r = kfile_cgroup1_path(text, "memory", buf, size);
        if (r < 0)
                cg_fail(err, "cannot find memgov's own memory cgroup in /proc/self/cgroup: %s",
                        strerror(-r));
        return r;
}

/* No no-internal-process rule on v1: memgov stays where it is (no supervisor leaf). */
static int v1_plan(const SandboxOptions *o, const PlatformInfo *info, char **ret_path, char **ret_supervisor,
                   PlatformError *err)
{
        _cleanup_free_ char *parent_path = NULL;
        char parent[4096];
        int r;

        if (!info->memory_controller) /* the probe found no memory hierarchy, and said so in err */
                return -EOPNOTSUPP;
        r = cg_check_name(o->name, err);
        if (r < 0)
                return r;
        r = v1_parent(o, info->root, parent, sizeof(parent), err);
        if (r < 0)
                return r;
        parent_path = cg_join(info->root, parent);
        if (!parent_path)
                return -ENOMEM;
        if (ret_supervisor)
                *ret_supervisor = NULL;
        *ret_path = cg_join(parent_path, o->name);
        return *ret_path ? 0 : -ENOMEM;
}

static int write_limit_v1(PlatformSandbox *s, const char *file, uint64_t bytes, PlatformError *err)
{
        char value[32];
        int r;

        /* v1 reads "unlimited" as a huge number but takes "-1" to set it; "max" is v2's word. */
        if (bytes == PLATFORM_UNLIMITED)
                snprintf(value, sizeof(value), "-1");
        else
                snprintf(value, sizeof(value), "%" PRIu64, bytes);
        r = cg_write_at(s->dirfd, file, value);
        if (r < 0)
                cg_fail(err, "cannot write %s/%s: %s", s->path, file, strerror(-r));
        return r;
}

static int apply_limits_v1(PlatformSandbox *s, const SandboxOptions *o, PlatformError *err)
{
        int r;

        r = write_limit_v1(s, "memory.limit_in_bytes", o->memory_max_bytes, err);
        if (r >= 0)
                r = write_limit_v1(s, "memory.soft_limit_in_bytes", o->memory_high_bytes, err);
        if (r < 0 || !o->swap_max_set)
                return r;
        /* memsw limits memory plus swap, where v2's memory.swap.max limits swap alone. */
        if (faccessat(s->dirfd, "memory.memsw.limit_in_bytes", F_OK, 0) < 0) {
                cg_fail(err,
                        "--swap-max was given, but %s has no memory.memsw.limit_in_bytes: swap accounting is off in this kernel (boot with swapaccount=1, or drop --swap-max)",
                        s->path);
                return -ENOENT;
        }
        if (o->memory_max_bytes == PLATFORM_UNLIMITED) {
                cg_fail(err,
                        "--swap-max needs --memory-max on cgroup v1: its memory.memsw.limit_in_bytes limits memory plus swap, so the swap limit is set as --memory-max + --swap-max");
                return -EINVAL;
        }
        return write_limit_v1(s, "memory.memsw.limit_in_bytes",
                              o->swap_max_bytes == PLATFORM_UNLIMITED
                                      ? PLATFORM_UNLIMITED
                                      : o->memory_max_bytes + o->swap_max_bytes,
                              err);
}

/* Registers ev->efd for events of file (with its argument, or NULL) through cgroup.event_control. */
static int v1_register(PlatformSandbox *s, V1Event *ev, const char *file, const char *arg)
{
        _cleanup_close_ int fd = -1;
        char line[128];

        ev->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (ev->efd < 0)
                return negative_errno();
        fd = openat(s->dirfd, file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        snprintf(line, sizeof(line), "%d %d%s%s", ev->efd, fd, arg ? " " : "", arg ?: "");
        /* The kernel keeps its own reference to the watched file: fd may be closed after. */
        return cg_write_at(s->dirfd, "cgroup.event_control", line);
}

static int v1_add(PlatformSandbox *s, int which, const char *file, const char *arg, PlatformError *err)
{
        V1Event *ev = &s->v1_events[which];
        struct epoll_event e = {.events = EPOLLIN, .data.ptr = ev};
        int r;

        r = v1_register(s, ev, file, arg);
        if (r >= 0 && epoll_ctl(s->events_fd, EPOLL_CTL_ADD, ev->efd, &e) < 0)
                r = negative_errno();
        if (r < 0)
                cg_fail(err, "cannot register for %s%s%s events of %s through cgroup.event_control: %s",
                        file, arg ? " " : "", arg ?: "", s->path, strerror(-r));
        return r;
}

static int v1_add_threshold(PlatformSandbox *s, int which, uint64_t bytes, PlatformError *err)
{
        char arg[32];

        snprintf(arg, sizeof(arg), "%" PRIu64, bytes);
        s->v1_events[which].usage_dirfd = s->dirfd;
        s->v1_events[which].above_bytes = bytes;
        return v1_add(s, which, "memory.usage_in_bytes", arg, err);
}

static int open_watches_v1(PlatformSandbox *s, const SandboxOptions *o, PlatformError *err)
{
        static const char *const levels[] = {
                [V1_EVENT_LOW] = "low", [V1_EVENT_MEDIUM] = "medium", [V1_EVENT_CRITICAL] = "critical"};
        int r;

        s->events_fd = epoll_create1(EPOLL_CLOEXEC);
        if (s->events_fd < 0)
                return negative_errno();
        r = v1_add(s, V1_EVENT_OOM, "memory.oom_control", NULL, err);
        for (int i = V1_EVENT_LOW; r >= 0 && i <= V1_EVENT_CRITICAL; i++)
                r = v1_add(s, i, "memory.pressure_level", levels[i], err);
        /* v1 has no "high" event: a threshold at the soft limit is the closest; one at 80% of the hard limit
         * wakes the governor where its tick speeds up. */
        if (r >= 0 && o->memory_high_bytes != PLATFORM_UNLIMITED)
                r = v1_add_threshold(s, V1_EVENT_HIGH, o->memory_high_bytes, err);
        if (r >= 0 && o->memory_max_bytes != PLATFORM_UNLIMITED)
                r = v1_add_threshold(s, V1_EVENT_NEAR_MAX, o->memory_max_bytes / 5 * 4, err);
        if (r < 0)
                return r;

        if (s->twin_fd >= 0) {
                s->populated_fd = openat(s->twin_fd, "cgroup.events", O_RDONLY | O_CLOEXEC);
                if (s->populated_fd < 0) {
                        r = negative_errno();
                        cg_fail(err, "cannot open %s/cgroup.events: %s", s->twin_path, strerror(-r));
                        return r;
                }
                return 0;
        }
        /* No cgroup.events on v1 (a release_agent is host-wide and runs a program): look at the process list
         * on a timer. */
        s->populated_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (s->populated_fd < 0)
                return negative_errno();
        struct itimerspec t = {
                .it_interval.tv_nsec = V1_POPULATED_POLL_USEC * 1000,
                .it_value.tv_nsec = V1_POPULATED_POLL_USEC * 1000,
        };
        if (timerfd_settime(s->populated_fd, 0, &t, NULL) < 0)
                return negative_errno();
        return 0;
}

/* Hybrid: the twin at memgov's own place in the cgroup2 tree (no controllers needed there, so no move). */
static int make_twin(PlatformSandbox *s, const PlatformInfo *info, const char *name, PlatformError *err)
{
        char own[4096];
        _cleanup_free_ char *parent = NULL;
        int r;

        r = cg_pid_get_path(0, own, sizeof(own));
        if (r < 0) {
                cg_fail(err, "cannot find memgov's own cgroup2 group in /proc/self/cgroup: %s",
                        strerror(-r));
                return r;
        }
        parent = cg_join(info->unified, own);
        s->twin_path = parent ? cg_join(parent, name) : NULL;
        if (!s->twin_path)
                return -ENOMEM;
        if (mkdir(s->twin_path, 0755) < 0) {
                r = negative_errno();
                cg_fail(err,
                        "cannot create %s, the group's twin in the cgroup2 tree that memgov uses on hybrid hosts to see the group empty, kill it and read its pressure: %s",
                        s->twin_path, strerror(-r));
                free(s->twin_path);
                s->twin_path = NULL;
                return r;
        }
        s->twin_fd = open(s->twin_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->twin_fd < 0) {
                r = negative_errno();
                cg_fail(err, "cannot open %s: %s", s->twin_path, strerror(-r));
                return r;
        }
        return 0;
}

static int v1_destroy(PlatformSandbox *s);

/* Removes what a failed create made, then frees. */
static void v1_undo_freep(PlatformSandbox **s)
{
        if (*s)
                (void)v1_destroy(*s);
        sandbox_free(*s);
}

static int v1_create(const SandboxOptions *o, const PlatformInfo *info, PlatformSandbox **ret,
                     PlatformError *err)
{
        _cleanup_(v1_undo_freep) PlatformSandbox *s = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        r = v1_plan(o, info, &path, NULL, err);
        if (r < 0)
                return r;
        s = sandbox_new(&sandbox_v1_ops);
        if (!s)
                return -ENOMEM;
        s->fork_fallback = true; /* clone_into_group is false: fork, attach, then let the child run */
        s->root = strdup(info->root);
        if (!s->root)
                return -ENOMEM;
        if (mkdir(path, 0755) < 0) {
                r = negative_errno();
                cg_fail_create(err, path, o->name, r, "Run as root");
                s = sandbox_free(s); /* nothing made: nothing to remove */
                return r;
        }
        s->path = TAKE_PTR(path);
        s->dirfd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->dirfd < 0) {
                r = negative_errno();
                cg_fail(err, "cannot open cgroup %s: %s", s->path, strerror(-r));
                return r;
        }
        r = apply_limits_v1(s, o, err);
        if (r >= 0 && info->backend == PLATFORM_BACKEND_HYBRID)
                r = make_twin(s, info, o->name, err);
        if (r >= 0)
                r = open_watches_v1(s, o, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

static void v1_free(PlatformSandbox *s)
{
        for (int i = 0; i < _V1_EVENT_MAX; i++)
                safe_close(s->v1_events[i].efd);
        safe_close(s->twin_fd);
        free(s->twin_path);
}

static int v1_destroy(PlatformSandbox *s)
{
        /* The twin first: it empties together with the v1 group, and a left-over v1 group is the one a
         * person looks for. */
        if (s->twin_path && rmdir(s->twin_path) < 0 && errno != ENOENT)
                return negative_errno();
        if (s->path && rmdir(s->path) < 0 && errno != ENOENT)
                return negative_errno();
        return 0;
}

static int v1_kill(PlatformSandbox *s)
{
        if (s->twin_fd >= 0) {
                int r = cg_write_at(s->twin_fd, "cgroup.kill", "1");
                if (r != -ENOENT) /* before 5.14: sweep */
                        return r;
        }
        return cg_kill_procs_at(s->dirfd);
}

static int v1_populated(PlatformSandbox *s, bool *ret)
{
        char text[64];
        uint64_t v;
        int r;

        if (s->twin_fd >= 0) {
                r = cg_read_key_at(s->twin_fd, "cgroup.events", "populated", &v);
                if (r < 0)
                        return r;
                *ret = v != 0;
                return 0;
        }
        /* Only whether it is empty: one pid's worth is enough. */
        r = cg_read_at(s->dirfd, "cgroup.procs", text, sizeof(text));
        if (r < 0)
                return r;
        *ret = r > 0;
        return 0;
}

static void sample_stat_v1(PlatformSandbox *s, PlatformSample *x)
{
        char stat[16384];
        uint64_t kmem = 0;

        if (cg_read_at(s->dirfd, "memory.stat", stat, sizeof(stat)) < 0)
                return;
        /* The group is a leaf, so the local keys are the group's; "cache" includes shmem, as v2's "file"
         * does. */
        (void)kfile_get_key_u64(stat, "rss", &x->anon_bytes);
        (void)kfile_get_key_u64(stat, "cache", &x->file_bytes);
        (void)kfile_get_key_u64(stat, "shmem", &x->shmem_bytes);
        (void)kfile_get_key_u64(stat, "inactive_file", &x->inactive_file_bytes);
        {
                uint64_t inactive = 0, active = 0;
                if (kfile_get_key_u64(stat, "inactive_anon", &inactive) >= 0 &&
                    kfile_get_key_u64(stat, "active_anon", &active) >= 0)
                        x->anon_lru_bytes = inactive + active;
        }
        /* Kernel memory is charged to memory.usage_in_bytes too, and counted apart here. */
        if (cg_read_limit_at(s->dirfd, "memory.kmem.usage_in_bytes", &kmem) >= 0)
                x->kernel_bytes = kmem;
}

static void sample_pressure_v1(PlatformSandbox *s, PlatformSample *x)
{
        char text[512];
        int r;

        if (s->twin_fd >= 0)
                r = cg_read_at(s->twin_fd, "memory.pressure", text, sizeof(text));
        else {
                r = cg_read_at(AT_FDCWD, PROC_PRESSURE_MEMORY, text, sizeof(text));
                x->psi_system_wide = true;
        }
        if (r < 0 ||
            kfile_psi_parse(text, "some", &x->psi_some_avg10_permyriad, &x->psi_some_total_usec) < 0)
                return;
        (void)kfile_psi_parse(text, "full", &x->psi_full_avg10_permyriad, &x->psi_full_total_usec);
        x->have_psi = true;
}

static int v1_current(PlatformSandbox *s, uint64_t *ret)
{
        char text[64];
        int r = cg_read_at(s->dirfd, "memory.usage_in_bytes", text, sizeof(text));

        return r < 0 ? r : kfile_parse_limit(text, ret);
}

static int v1_sample(PlatformSandbox *s, PlatformSample *ret)
{
        PlatformSample x = {};
        char text[64], oom[256];
        int r;

        r = v1_current(s, &x.current_bytes);
        if (r >= 0)
                r = cg_read_at(s->dirfd, "memory.max_usage_in_bytes", text, sizeof(text));
        if (r >= 0)
                r = kfile_parse_limit(text, &x.peak_bytes);
        if (r >= 0)
                r = cg_read_at(s->dirfd, "memory.limit_in_bytes", text, sizeof(text));
        if (r >= 0)
                r = kfile_parse_limit_v1(text, &x.max_bytes);
        if (r >= 0)
                r = cg_read_at(s->dirfd, "memory.soft_limit_in_bytes", text, sizeof(text));
        if (r >= 0)
                r = kfile_parse_limit_v1(text, &x.high_bytes);
        if (r >= 0)
                r = cg_read_limit_at(s->dirfd, "memory.failcnt", &x.events_max);
        if (r >= 0)
                r = cg_read_at(s->dirfd, "memory.oom_control", oom, sizeof(oom));
        if (r < 0)
                return r;
        /* oom_kill is 4.13+; an older kernel's OOM kills show only as the OOM notifications. */
        (void)kfile_get_key_u64(oom, "oom_kill", &x.events_oom_kill);
        x.events_oom = s->v1_events[V1_EVENT_OOM].count;
        x.events_high = s->v1_events[V1_EVENT_HIGH].count;
        /* Each level counts those above it too (a "medium" listener hears "critical"); "low" is ordinary
         * reclaim, no pressure the law acts on. */
        x.pressure_some_notified = s->v1_events[V1_EVENT_MEDIUM].count;
        x.pressure_full_notified = s->v1_events[V1_EVENT_CRITICAL].count;
        sample_stat_v1(s, &x);
        sample_pressure_v1(s, &x);
        *ret = x;
        return 0;
}

static char *v1_pressure_path(PlatformSandbox *s)
{
        return s->twin_path ? cg_join(s->twin_path, "memory.pressure") : strdup(PROC_PRESSURE_MEMORY);
}

/* The hybrid twin's, or the host's. */
static int v1_pressure_dir(PlatformSandbox *s, int *ret_dirfd, const char **ret_file)
{
        if (s->twin_fd >= 0) {
                *ret_dirfd = s->twin_fd;
                *ret_file = "memory.pressure";
        } else {
                *ret_dirfd = AT_FDCWD;
                *ret_file = PROC_PRESSURE_MEMORY;
        }
        return 0;
}

static int v1_set_high(PlatformSandbox *s, uint64_t bytes)
{
        return write_limit_v1(s, "memory.soft_limit_in_bytes", bytes, NULL);
}

static int v1_set_max(PlatformSandbox *s, uint64_t bytes)
{
        /* memsw, where memgov set it, stays as it is: the kernel refuses a limit above it (EINVAL). */
        return write_limit_v1(s, "memory.limit_in_bytes", bytes, NULL);
}

/* No memory.reclaim; memory.force_empty would drop the whole group's page cache. */
static int v1_reclaim(PlatformSandbox *s, uint64_t bytes)
{
        return -EOPNOTSUPP;
}

/* No POLLPRI files but the hybrid twin's cgroup.events: an epoll set of eventfds for the events, and
 * without a twin, a timer for the process list (open_watches_v1()). */
static int v1_watch_kind(PlatformSandbox *s, int fd)
{
        if (fd == s->events_fd || (fd == s->populated_fd && s->twin_fd < 0))
                return PLATFORM_WATCH_READABLE;
        return PLATFORM_WATCH_PRIORITY;
}

static int v1_attach(PlatformSandbox *s, const char *pid)
{
        int r = cg_write_at(s->dirfd, "cgroup.procs", pid);

        if (r >= 0 && s->twin_fd >= 0) /* hybrid: into the cgroup2 twin as well, before it runs anything */
                r = cg_write_at(s->twin_fd, "cgroup.procs", pid);
        return r;
}

static const char *const v1_limit_files[] = {"memory.limit_in_bytes", "memory.soft_limit_in_bytes", NULL};

const SandboxOps sandbox_v1_ops = {
        .probe = v1_probe,
        .plan = v1_plan,
        .create = v1_create,
        .free = v1_free,
        .destroy = v1_destroy,
        .populated = v1_populated,
        .kill = v1_kill,
        .current = v1_current,
        .sample = v1_sample,
        .pressure_dir = v1_pressure_dir,
        .pressure_path = v1_pressure_path,
        .reclaim = v1_reclaim,
        .set_high = v1_set_high,
        .set_max = v1_set_max,
        .watch_kind = v1_watch_kind,
        .attach = v1_attach,
        /* CLONE_INTO_CGROUP takes cgroup2 directories only: create sets fork_fallback. */
        .clone_into_group = false,
        .high_notifies = false, /* the soft limit neither throttles nor notifies */
        .dirfd_is_cgroup2 = false,
        .pid_controller = "memory",
        .limit_files = v1_limit_files,
};

static void v1_event_count(V1Event *ev)
{
        uint64_t n, usage;
        char text[64];

        if (read(ev->efd, &n, sizeof(n)) != sizeof(n))
                return;
        if (ev->usage_dirfd >= 0 && ev->above_bytes > 0) {
                if (cg_read_at(ev->usage_dirfd, "memory.usage_in_bytes", text, sizeof(text)) < 0 ||
                    kfile_parse_limit(text, &usage) < 0 || usage < ev->above_bytes)
                        return; /* a crossing downwards */
                n = 1;
        }
        ev->count += n;
}

int sandbox_v1_drain(int fd)
{
        struct epoll_event evs[_V1_EVENT_MAX];
        int n;

        n = epoll_wait(fd, evs, ELEMENTSOF(evs), 0);
        if (n < 0)
                return negative_errno();
        for (int i = 0; i < n; i++)
                v1_event_count(evs[i].data.ptr);
        return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The notifications an event-driven memgov relies on, checked against a real kernel:
 * crossing memory.high notifies and throttles only the charging thread, and inotify
 * IN_MODIFY on memory.max / memory.high fires for every successful write, through any
 * cgroup2 mount, including one made inside a cgroup namespace.
 * Run through tests/vm/vmrun --cgroup v2; argv[1] overrides the cgroup2 root.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cgroup-util.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int cg_no_swap(const char *cg)
{
        int r = cg_write(cg, "memory.swap.max", "0");

        return r == -ENOENT ? 0 : r;
}

/*
 * Touch size bytes of fresh anonymous memory, kept. No huge pages: each fault then
 * charges the group in the kernel's ordinary 64-page batches.
 */
static int touch_new(size_t size)
{
        char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED)
                return -errno;
        madvise(p, size, MADV_NOHUGEPAGE);
        for (size_t i = 0; i < size; i += 4096)
                ((volatile char *)p)[i] = 1;
        return 0;
}

typedef struct Commands {
        int cmd_rd; /* MiB to allocate, one int each; EOF ends the child */
        int cmd_wr; /* the parent's end, closed in the child so EOF can come */
        int ack_wr; /* one byte per command done */
} Commands;

/* A child the parent steps through allocations, so it can look between them. */
static int alloc_on_command(const char *cg, void *arg)
{
        Commands *c = arg;
        int mib;

        (void)cg;
        close(c->cmd_wr);
        while (read(c->cmd_rd, &mib, sizeof(mib)) == sizeof(mib)) {
                if (touch_new(KT_MB(mib)) < 0)
                        return 1;
                if (write(c->ack_wr, "", 1) != 1)
                        return 2;
        }
        return 0;
}

static int command(int cmd_wr, int mib)
{
        return write(cmd_wr, &mib, sizeof(mib)) == sizeof(mib) ? 0 : -EIO;
}

static int wait_ack(int ack_rd)
{
        char c;

        return read(ack_rd, &c, 1) == 1 ? 0 : -EIO;
}

static bool still_running(pid_t pid)
{
        int status;

        return waitpid(pid, &status, WNOHANG) == 0;
}

/*
 * Below memory.high nothing stalls and nothing is counted; one allocation across it
 * raises `high`, wakes a poll() on memory.events, stalls the task (memory.pressure)
 * and leaves it running. The overage (17M in 16M) keeps the penalty near a second.
 */
static int test_memory_high_crossing_notifies(const char *parent)
{
        char *cg = cg_name(parent, "high_notify");
        int ret = KT_FAIL, fd = -1, revents, status;
        int cmd[2] = {-1, -1}, ack[2] = {-1, -1};
        char buf[512];
        pid_t pid = -1;

        expect(cg_create(cg) == 0);
        expect(cg_write(cg, "memory.high", "16M") == 0);
        expect(cg_no_swap(cg) == 0);
        expect(pipe2(cmd, O_CLOEXEC) == 0 && pipe2(ack, O_CLOEXEC) == 0);
        fd = cg_open(cg, "memory.events", O_RDONLY);
        expect(fd >= 0);
        expect(pread(fd, buf, sizeof(buf), 0) > 0);

        Commands c = {.cmd_rd = cmd[0], .cmd_wr = cmd[1], .ack_wr = ack[1]};
        pid = cg_run_nowait(cg, alloc_on_command, &c);
        expect(pid > 0);
        expect(command(cmd[1], 12) == 0 && wait_ack(ack[0]) == 0);
        expect(cg_read_key_long(cg, "memory.events", "high ") == 0);
        expect(cg_read_psi_some_total(cg) == 0);
        expect(kt_wait_pollpri(fd, 0) == 0);

        expect(command(cmd[1], 5) == 0);
        revents = kt_wait_pollpri(fd, 15000);
        expect(revents > 0 && (revents & POLLPRI));
        expect(cg_read_key_long(cg, "memory.events", "high ") > 0);
        expect(wait_ack(ack[0]) == 0);
        kt_diag("over memory.high=16M: memory.current=%ld, high=%ld, memory.pressure some total=%ld us",
                cg_read_long(cg, "memory.current"), cg_read_key_long(cg, "memory.events", "high "),
                cg_read_psi_some_total(cg));
        expect(still_running(pid));
        expect(cg_read_long(cg, "memory.current") > (long)KT_MB(16));
        expect(cg_read_psi_some_total(cg) > 0);
        expect(cg_read_key_long(cg, "memory.events", "max ") == 0);
        expect(cg_read_key_long(cg, "memory.events", "oom_kill ") == 0);

        close(cmd[1]);
        cmd[1] = -1;
        expect(waitpid(pid, &status, 0) == pid);
        pid = -1;
        expect(exited_with(status, 0));
        ret = KT_PASS;
cleanup:
        if (pid > 0) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
        }
        for (int i = 0; i < 2; i++) {
                if (cmd[i] >= 0)
                        close(cmd[i]);
                if (ack[i] >= 0)
                        close(ack[i]);
        }
        if (fd >= 0)
                close(fd);
        cg_destroy(cg);
        free(cg);
        return ret;
}

typedef struct Spinner {
        atomic_int tid;
        atomic_bool stop;
        atomic_ulong loops;
} Spinner;

/* Never enters the kernel on its own: any voluntary switch would be a throttle. */
static void *spin(void *arg)
{
        Spinner *s = arg;

        atomic_store(&s->tid, (int)syscall(SYS_gettid));
        while (!atomic_load_explicit(&s->stop, memory_order_relaxed))
                atomic_fetch_add_explicit(&s->loops, 1, memory_order_relaxed);
        return NULL;
}

/*
 * The penalty is kept per task (memcg_nr_pages_over_high) and paid at that task's
 * return to user: a thread of the same process that charges nothing keeps running.
 * Exit codes say which part failed.
 */
static int alloc_beside_spinner(const char *cg, void *arg)
{
        static Spinner s;
        pthread_t thread;
        long self_before, self_after, spin_before, spin_after;
        unsigned long loops_before, loops_after;
        pid_t self = (pid_t)syscall(SYS_gettid);
        int ret = 0;

        (void)arg;
        if (pthread_create(&thread, NULL, spin, &s) != 0)
                return 10;
        while (!atomic_load(&s.tid))
                sched_yield();
        self_before = kt_task_voluntary_switches(self);
        spin_before = kt_task_voluntary_switches(atomic_load(&s.tid));
        loops_before = atomic_load(&s.loops);
        if (touch_new(KT_MB(17)) < 0)
                ret = 11;
        loops_after = atomic_load(&s.loops);
        self_after = kt_task_voluntary_switches(self);
        spin_after = kt_task_voluntary_switches(atomic_load(&s.tid));
        atomic_store(&s.stop, true);
        pthread_join(thread, NULL);
        kt_diag("voluntary switches: allocating thread +%ld, spinning thread +%ld (%lu loops); memory.pressure some total=%ld us",
                self_after - self_before, spin_after - spin_before, loops_after - loops_before,
                cg_read_psi_some_total(cg));
        if (ret)
                return ret;
        if (self_before < 0 || spin_before < 0 || spin_after < 0)
                return 12;
        if (self_after <= self_before)
                return 13; /* the allocating thread never slept: not throttled */
        if (spin_after != spin_before)
                return 14; /* the spinning thread slept */
        return loops_after > loops_before ? 0 : 15;
}

static int test_only_the_charging_thread_is_throttled(const char *parent)
{
        char *cg = cg_name(parent, "high_thread");
        int ret = KT_FAIL, status;

        expect(cg_create(cg) == 0);
        expect(cg_write(cg, "memory.high", "16M") == 0);
        expect(cg_no_swap(cg) == 0);
        status = cg_run(cg, alloc_beside_spinner, NULL);
        kt_diag("child exit status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        expect(exited_with(status, 0));
        expect(cg_read_key_long(cg, "memory.events", "high ") > 0);
        expect(cg_read_psi_some_total(cg) > 0);
        ret = KT_PASS;
cleanup:
        cg_destroy(cg);
        free(cg);
        return ret;
}

/* An inotify fd watching path for IN_MODIFY, non-blocking. */
static int watch_modify(const char *path)
{
        int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

        if (fd < 0)
                return -errno;
        if (inotify_add_watch(fd, path, IN_MODIFY) < 0) {
                int r = -errno;

                kt_diag("inotify_add_watch %s: %s", path, strerror(-r));
                close(fd);
                return r;
        }
        return fd;
}

/* How many IN_MODIFY events arrive within timeout_ms (after the first, none more). */
static int count_modify(int fd, int timeout_ms)
{
        char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int n = 0;

        if (poll(&p, 1, timeout_ms) < 0)
                return -errno;
        for (;;) {
                ssize_t len = read(fd, buf, sizeof(buf));

                if (len < 0)
                        return errno == EAGAIN ? n : -errno;
                for (char *e = buf; e < buf + len;
                     e += sizeof(struct inotify_event) + ((struct inotify_event *)e)->len)
                        n += !!(((struct inotify_event *)e)->mask & IN_MODIFY);
        }
}

static char *path_join(const char *dir, const char *file)
{
        return cg_name(dir, file);
}

/*
 * A VFS write notifies the inode's watchers before write() returns, so "no event"
 * can be checked right away with a zero timeout, and "an event" needs no waiting
 * either; the timeouts below only cover a kernel that defers it.
 */
static int test_inotify_same_path(const char *parent)
{
        char *cg = cg_name(parent, "ino_same");
        char *max = NULL, *high = NULL;
        int ret = KT_FAIL, fd_max = -1, fd_high = -1;

        expect(cg_create(cg) == 0);
        max = path_join(cg, "memory.max");
        high = path_join(cg, "memory.high");
        fd_max = watch_modify(max);
        fd_high = watch_modify(high);
        expect(fd_max >= 0 && fd_high >= 0);
        expect(count_modify(fd_max, 0) == 0);

        expect(cg_write(cg, "memory.max", "64M") == 0);
        expect(count_modify(fd_max, 1000) == 1);
        expect(count_modify(fd_high, 0) == 0);
        expect(cg_write(cg, "memory.high", "48M") == 0);
        expect(count_modify(fd_high, 1000) == 1);
        expect(count_modify(fd_max, 0) == 0);
        ret = KT_PASS;
cleanup:
        if (fd_max >= 0)
                close(fd_max);
        if (fd_high >= 0)
                close(fd_high);
        free(max);
        free(high);
        cg_destroy(cg);
        free(cg);
        return ret;
}

/* The group's path below the cgroup2 root, as another mount of it shows it. */
static const char *path_below_root(const char *cg)
{
        return strstr(cg, "/memgov-kt.");
}

static int test_inotify_second_mount(const char *parent)
{
        char *cg = cg_name(parent, "ino_mount");
        char dir[] = "/tmp/kt-cg2.XXXXXX", other[PATH_MAX];
        struct stat st_host, st_other;
        bool mounted = false, made = false;
        int ret = KT_FAIL, fd = -1;
        char *host = NULL;

        expect(cg_create(cg) == 0);
        expect(path_below_root(cg) != NULL);
        expect(mkdtemp(dir) != NULL);
        made = true;
        expect(mount("none", dir, "cgroup2", 0, NULL) == 0);
        mounted = true;
        snprintf(other, sizeof(other), "%s%s/memory.max", dir, path_below_root(cg));
        host = path_join(cg, "memory.max");
        expect(stat(host, &st_host) == 0 && stat(other, &st_other) == 0);
        /* One superblock for every cgroup2 mount: the watch lands on the same inode. */
        kt_diag("st_dev host %#lx, second mount %#lx; st_ino %lu, %lu", (unsigned long)st_host.st_dev,
                (unsigned long)st_other.st_dev, (unsigned long)st_host.st_ino,
                (unsigned long)st_other.st_ino);
        fd = watch_modify(other);
        expect(fd >= 0);
        expect(cg_write(cg, "memory.max", "64M") == 0);
        expect(count_modify(fd, 1000) == 1);
        ret = KT_PASS;
cleanup:
        if (fd >= 0)
                close(fd);
        if (mounted)
                umount2(dir, MNT_DETACH);
        if (made)
                rmdir(dir);
        free(host);
        cg_destroy(cg);
        free(cg);
        return ret;
}

typedef struct NsWatch {
        const char *mountpoint;
        int ready_wr; /* one byte once the watch is set */
} NsWatch;

/*
 * Inside the group, as a container is: a new cgroup and mount namespace, cgroup2
 * mounted there (its root is the group), a watch on the namespace root's memory.max.
 * Exit 0 when the event arrives.
 */
static int watch_from_cgroup_namespace(const char *cg, void *arg)
{
        NsWatch *w = arg;
        char path[PATH_MAX], line[256] = "";
        FILE *f;
        int fd, n;

        (void)cg;
        if (unshare(CLONE_NEWCGROUP | CLONE_NEWNS) < 0)
                return 20;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return 21;
        if (mount("none", w->mountpoint, "cgroup2", 0, NULL) < 0)
                return 22;
        /* The namespace's view: this group is its root. */
        f = fopen("/proc/self/cgroup", "re");
        if (!f || !fgets(line, sizeof(line), f) || strcmp(line, "0::/\n"))
                return 23;
        fclose(f);
        snprintf(path, sizeof(path), "%s/memory.max", w->mountpoint);
        fd = watch_modify(path);
        if (fd < 0)
                return 24;
        if (write(w->ready_wr, "", 1) != 1)
                return 25;
        n = count_modify(fd, 10000);
        close(fd);
        return n == 1 ? 0 : 26;
}

static int test_inotify_cgroup_namespace(const char *parent)
{
        char *cg = cg_name(parent, "ino_ns");
        char dir[] = "/tmp/kt-cgns.XXXXXX";
        int ret = KT_FAIL, ready[2] = {-1, -1}, status = -1;
        bool made = false;
        pid_t pid = -1;
        char c;

        expect(cg_create(cg) == 0);
        expect(mkdtemp(dir) != NULL);
        made = true;
        expect(pipe2(ready, O_CLOEXEC) == 0);
        NsWatch w = {.mountpoint = dir, .ready_wr = ready[1]};
        pid = cg_run_nowait(cg, watch_from_cgroup_namespace, &w);
        expect(pid > 0);
        close(ready[1]);
        ready[1] = -1;
        expect(read(ready[0], &c, 1) == 1);
        expect(cg_write(cg, "memory.max", "64M") == 0);
        expect(waitpid(pid, &status, 0) == pid);
        pid = -1;
        kt_diag("child exit status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        expect(exited_with(status, 0));
        ret = KT_PASS;
cleanup:
        if (pid > 0) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
        }
        for (int i = 0; i < 2; i++)
                if (ready[i] >= 0)
                        close(ready[i]);
        if (made)
                rmdir(dir);
        cg_destroy(cg);
        free(cg);
        return ret;
}

/*
 * A parent's limit binds its children, but the child's memory.max file does not
 * change with it: whoever wants to know must watch each ancestor.
 */
static int test_inotify_ancestor(const char *parent)
{
        char *outer = cg_name(parent, "ino_anc");
        char *inner = cg_name(outer, "leaf");
        char *outer_max = NULL, *inner_max = NULL;
        int ret = KT_FAIL, fd_outer = -1, fd_inner = -1;

        expect(cg_create(outer) == 0);
        expect(cg_write(outer, "cgroup.subtree_control", "+memory") == 0);
        expect(cg_create(inner) == 0);
        outer_max = path_join(outer, "memory.max");
        inner_max = path_join(inner, "memory.max");
        fd_outer = watch_modify(outer_max);
        fd_inner = watch_modify(inner_max);
        expect(fd_outer >= 0 && fd_inner >= 0);

        expect(cg_write(outer, "memory.max", "64M") == 0);
        expect(count_modify(fd_outer, 1000) == 1);
        expect(count_modify(fd_inner, 0) == 0);
        expect(cg_read_long(inner, "memory.max") == LONG_MAX);
        expect(cg_write(inner, "memory.max", "32M") == 0);
        expect(count_modify(fd_inner, 1000) == 1);
        expect(count_modify(fd_outer, 0) == 0);
        ret = KT_PASS;
cleanup:
        if (fd_outer >= 0)
                close(fd_outer);
        if (fd_inner >= 0)
                close(fd_inner);
        free(outer_max);
        free(inner_max);
        cg_destroy(outer);
        free(inner);
        free(outer);
        return ret;
}

/*
 * The event comes from the VFS write, not from a change of value: writing the value
 * the file already holds notifies, in any spelling; a rejected write does not.
 */
static int test_inotify_same_value_and_rejected_write(const char *parent)
{
        char *cg = cg_name(parent, "ino_value");
        char *max = NULL;
        int ret = KT_FAIL, fd = -1;

        expect(cg_create(cg) == 0);
        expect(cg_write(cg, "memory.max", "64M") == 0);
        max = path_join(cg, "memory.max");
        fd = watch_modify(max);
        expect(fd >= 0);

        expect(cg_write(cg, "memory.max", "64M") == 0);
        expect(count_modify(fd, 1000) == 1);
        expect(cg_write(cg, "memory.max", "67108864") == 0);
        expect(count_modify(fd, 1000) == 1);
        expect(cg_read_long(cg, "memory.max") == (long)KT_MB(64));
        expect(cg_write(cg, "memory.max", "bogus") == -EINVAL);
        expect(count_modify(fd, 0) == 0);
        ret = KT_PASS;
cleanup:
        if (fd >= 0)
                close(fd);
        free(max);
        cg_destroy(cg);
        free(cg);
        return ret;
}

/*
 * The kernel never writes memory.max itself: an OOM kill in the group modifies
 * memory.events (kernfs_notify, delivered from a work item, hence the wait) and
 * leaves memory.max's watchers silent.
 */
static int test_inotify_kernel_events(const char *parent)
{
        char *cg = cg_name(parent, "ino_kernel");
        char *max = NULL, *events = NULL;
        int ret = KT_FAIL, fd_max = -1, fd_events = -1, status;

        expect(cg_create(cg) == 0);
        expect(cg_write(cg, "memory.max", "16M") == 0);
        expect(cg_no_swap(cg) == 0);
        max = path_join(cg, "memory.max");
        events = path_join(cg, "memory.events");
        fd_max = watch_modify(max);
        fd_events = watch_modify(events);
        expect(fd_max >= 0 && fd_events >= 0);

        status = cg_run(cg, alloc_anon, (void *)KT_MB(64));
        expect(killed_by(status, SIGKILL));
        expect(cg_read_key_long(cg, "memory.events", "oom_kill ") >= 1);
        expect(count_modify(fd_events, 5000) >= 1);
        expect(count_modify(fd_max, 0) == 0);
        expect(cg_read_long(cg, "memory.max") == (long)KT_MB(16));
        ret = KT_PASS;
cleanup:
        if (fd_max >= 0)
                close(fd_max);
        if (fd_events >= 0)
                close(fd_events);
        free(max);
        free(events);
        cg_destroy(cg);
        free(cg);
        return ret;
}

/*
 * Page faults counted per cgroup (platform/linux/watch-faults.c): a software perf event per CPU opened on
 * the group's directory (PERF_FLAG_PID_CGROUP) counts the faults of the group's tasks and of its
 * descendants'. With a sample per fault, the first fault makes it readable; disabled
 * (PERF_EVENT_IOC_DISABLE) nothing more is written, and enabled again the next fault wakes. The governor
 * disarms by pausing the rings instead (PERF_EVENT_IOC_PAUSE_OUTPUT, no cross-CPU call): still counting,
 * nothing written, nobody woken; resumed, the next fault wakes.
 */
typedef struct FaultEvents {
        int epoll_fd;
        int n;
        int fd[256];
        struct perf_event_mmap_page *page[256];
} FaultEvents;

static int faults_open(const char *cg, FaultEvents *f)
{
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        int dirfd = cg_open(cg, ".", O_RDONLY | O_DIRECTORY);

        *f = (FaultEvents){.epoll_fd = epoll_create1(EPOLL_CLOEXEC)};
        if (dirfd < 0 || f->epoll_fd < 0 || ncpu < 1 || ncpu > 256)
                return -EINVAL;
        for (int cpu = 0; cpu < ncpu; cpu++) {
                struct perf_event_attr a = {
                        .size = sizeof(a),
                        .type = PERF_TYPE_SOFTWARE,
                        .config = PERF_COUNT_SW_PAGE_FAULTS,
                        .sample_period = 1,
                        .wakeup_events = 1,
                        .disabled = 1,
                };
                struct epoll_event ev = {.events = EPOLLIN};
                int fd = (int)syscall(SYS_perf_event_open, &a, dirfd, cpu, -1,
                                      PERF_FLAG_PID_CGROUP | PERF_FLAG_FD_CLOEXEC);
                void *page;

                if (fd < 0)
                        return -errno;
                f->fd[f->n] = fd;
                page = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
                if (page == MAP_FAILED)
                        return -errno;
                f->page[f->n++] = page;
                if (epoll_ctl(f->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0 ||
                    ioctl(fd, PERF_EVENT_IOC_REFRESH, 1) < 0)
                        return -errno;
        }
        close(dirfd);
        return 0;
}

/* Readable within timeout_ms; drains the readiness, as the governor does. */
static bool faults_fired(FaultEvents *f, int timeout_ms)
{
        struct epoll_event evs[16];
        int n = epoll_wait(f->epoll_fd, evs, 16, timeout_ms);

        while (epoll_wait(f->epoll_fd, evs, 16, 0) > 0)
                ;
        return n > 0;
}

/* Samples written since the ring was last emptied: one per fault while armed. */
static uint64_t faults_samples(FaultEvents *f)
{
        uint64_t n = 0;

        for (int i = 0; i < f->n; i++)
                n += __atomic_load_n(&f->page[i]->data_head, __ATOMIC_ACQUIRE) /
                     sizeof(struct perf_event_header);
        return n;
}

/* Faults counted by the events, whatever their rings wrote; UINT64_MAX if a count cannot be read. */
static uint64_t faults_counted(FaultEvents *f)
{
        uint64_t n = 0;

        for (int i = 0; i < f->n; i++) {
                uint64_t v;

                if (read(f->fd[i], &v, sizeof(v)) != (ssize_t)sizeof(v))
                        return UINT64_MAX;
                n += v;
        }
        return n;
}

static void faults_close(FaultEvents *f)
{
        for (int i = 0; i < f->n; i++) {
                munmap(f->page[i], 2 * 4096);
                close(f->fd[i]);
        }
        if (f->epoll_fd >= 0)
                close(f->epoll_fd);
}

static int pread_long(int fd, long *ret)
{
        char buf[64];
        ssize_t k = pread(fd, buf, sizeof(buf) - 1, 0);

        if (k <= 0)
                return -EIO;
        buf[k] = '\0';
        *ret = strtol(buf, NULL, 10);
        return 0;
}

static int test_faults_wake_once(const char *parent)
{
        char *cg = cg_name(parent, "faults"), *child = NULL, *other = cg_name(parent, "faults_other");
        int ret = KT_FAIL, status, current_fd = -1;
        long before = 0, after = 0;
        int cmd[2] = {-1, -1}, ack[2] = {-1, -1}, ocmd[2] = {-1, -1}, oack[2] = {-1, -1};
        pid_t pid = -1, opid = -1;
        FaultEvents f = {.epoll_fd = -1};

        expect(cg_create(cg) == 0 && cg_create(other) == 0);
        child = cg_name(cg, "leaf");
        expect(cg_create(child) == 0);
        /* The allocator runs in a descendant of the watched group; another runs beside it. The second is
         * forked after the first, so only it holds the first's command pipe: closing its own, then the
         * first's, ends both. */
        expect(pipe2(cmd, O_CLOEXEC) == 0 && pipe2(ack, O_CLOEXEC) == 0);
        Commands c = {.cmd_rd = cmd[0], .cmd_wr = cmd[1], .ack_wr = ack[1]};
        pid = cg_run_nowait(child, alloc_on_command, &c);
        expect(pipe2(ocmd, O_CLOEXEC) == 0 && pipe2(oack, O_CLOEXEC) == 0);
        Commands o = {.cmd_rd = ocmd[0], .cmd_wr = ocmd[1], .ack_wr = oack[1]};
        opid = cg_run_nowait(other, alloc_on_command, &o);
        expect(pid > 0 && opid > 0);
        /* Each has started and faulted in what it needs, and waits in read() again. */
        expect(command(cmd[1], 1) == 0 && wait_ack(ack[0]) == 0);
        expect(command(ocmd[1], 1) == 0 && wait_ack(oack[0]) == 0);
        expect(faults_open(cg, &f) == 0);
        expect(!faults_fired(&f, 200)); /* both sleep in read(): no faults */
        /* memory.current read again through one descriptor at offset 0 is fresh (sandbox-v2.c keeps it
         * open). */
        current_fd = cg_open(cg, "memory.current", O_RDONLY);
        expect(current_fd >= 0);
        expect(pread_long(current_fd, &before) == 0);

        /* Touches outside the group wake nobody. */
        expect(command(ocmd[1], 8) == 0 && wait_ack(oack[0]) == 0);
        expect(!faults_fired(&f, 200));
        expect(faults_samples(&f) == 0);

        /* The first fault in the group wakes, within the touch of 8M. */
        expect(command(cmd[1], 8) == 0);
        expect(faults_fired(&f, 5000));
        expect(wait_ack(ack[0]) == 0);
        expect(pread_long(current_fd, &after) == 0);
        kt_diag("memory.current through one kept descriptor: %ld, then %ld after 8M", before, after);
        expect(after >= before + (long)KT_MB(7));
        /* Disabled, 24M more (6144 faults) write nothing. */
        for (int i = 0; i < f.n; i++)
                expect(ioctl(f.fd[i], PERF_EVENT_IOC_DISABLE, 0) == 0);
        uint64_t disabled_at = faults_samples(&f);
        for (int i = 0; i < 3; i++)
                expect(command(cmd[1], 8) == 0 && wait_ack(ack[0]) == 0);
        kt_diag("%" PRIu64 " sample(s) before the events were disabled, %" PRIu64 " after 24M more",
                disabled_at, faults_samples(&f));
        expect(faults_samples(&f) == disabled_at);
        expect(!faults_fired(&f, 200));

        /* Enabled again, the next fault wakes. */
        for (int i = 0; i < f.n; i++)
                expect(ioctl(f.fd[i], PERF_EVENT_IOC_ENABLE, 0) == 0);
        expect(command(cmd[1], 8) == 0 && wait_ack(ack[0]) == 0);
        expect(faults_fired(&f, 5000));
        expect(faults_samples(&f) > disabled_at);

        /* Paused, with the rings emptied as the governor arms them: 24M more write nothing and wake nobody,
         * and the events still count. */
        uint64_t counted_before = 0, counted_after = 0;
        for (int i = 0; i < f.n; i++) {
                __atomic_store_n(&f.page[i]->data_tail,
                                 __atomic_load_n(&f.page[i]->data_head, __ATOMIC_ACQUIRE), __ATOMIC_RELEASE);
                expect(ioctl(f.fd[i], PERF_EVENT_IOC_PAUSE_OUTPUT, 1) == 0);
        }
        (void)faults_fired(&f, 0);
        counted_before = faults_counted(&f);
        uint64_t paused_at = faults_samples(&f);
        for (int i = 0; i < 3; i++)
                expect(command(cmd[1], 8) == 0 && wait_ack(ack[0]) == 0);
        counted_after = faults_counted(&f);
        expect(counted_before != UINT64_MAX && counted_after != UINT64_MAX);
        kt_diag("paused: %" PRIu64 " sample(s) before, %" PRIu64 " after 24M more; %" PRIu64
                " faults counted",
                paused_at, faults_samples(&f), counted_after - counted_before);
        expect(faults_samples(&f) == paused_at);
        expect(counted_after > counted_before);
        expect(!faults_fired(&f, 200));

        /* Resumed, the next fault wakes. */
        for (int i = 0; i < f.n; i++)
                expect(ioctl(f.fd[i], PERF_EVENT_IOC_PAUSE_OUTPUT, 0) == 0);
        expect(command(cmd[1], 8) == 0 && wait_ack(ack[0]) == 0);
        expect(faults_fired(&f, 5000));
        expect(faults_samples(&f) > paused_at);

        close(ocmd[1]);
        ocmd[1] = -1;
        expect(waitpid(opid, &status, 0) == opid && exited_with(status, 0));
        opid = -1;
        close(cmd[1]);
        cmd[1] = -1;
        expect(waitpid(pid, &status, 0) == pid && exited_with(status, 0));
        pid = -1;
        ret = KT_PASS;
cleanup:
        faults_close(&f);
        if (current_fd >= 0)
                close(current_fd);
        for (pid_t *p = (pid_t[]){pid, opid}, *end = p + 2; p < end; p++)
                if (*p > 0) {
                        kill(*p, SIGKILL);
                        waitpid(*p, &status, 0);
                }
        for (int i = 0; i < 2; i++)
                for (int *fd = (int[]){cmd[i], ack[i], ocmd[i], oack[i]}, *e = fd + 4; fd < e; fd++)
                        if (*fd >= 0)
                                close(*fd);
        if (child)
                cg_destroy(child);
        cg_destroy(cg);
        cg_destroy(other);
        free(child);
        free(cg);
        free(other);
        return ret;
}

static const KtTest tests[] = {
        {test_memory_high_crossing_notifies,
         "crossing memory.high wakes poll() on memory.events, counts high and stalls without killing"},
        {test_only_the_charging_thread_is_throttled,
         "over memory.high only the thread that charges is throttled; its sibling keeps running"},
        {test_inotify_same_path, "inotify IN_MODIFY on memory.max and memory.high fires on a write"},
        {test_inotify_second_mount, "a watch through a second cgroup2 mount sees a write through the first"},
        {test_inotify_cgroup_namespace,
         "a watch through a cgroup2 mount inside a cgroup namespace sees a write from the host"},
        {test_inotify_ancestor, "a watch on an ancestor's memory.max fires; its child's stays silent"},
        {test_inotify_same_value_and_rejected_write,
         "writing the same value raises IN_MODIFY; a rejected write does not"},
        {test_inotify_kernel_events, "an OOM kill modifies memory.events, never memory.max"},
        {test_faults_wake_once,
         "a perf page-fault event on a group wakes at the first fault of a descendant; disabled or paused, it stays quiet"},
};

int main(int argc, char **argv)
{
        const char *root = argc > 1 ? argv[1] : "/sys/fs/cgroup";

        return kt_run_tests(root, tests, sizeof(tests) / sizeof(tests[0]));
}

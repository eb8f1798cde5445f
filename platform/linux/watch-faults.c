/* SPDX-License-Identifier: MIT */
/*
 * Growth seen when it begins: the group's page faults, counted by a perf software event.
 *
 * No cgroup file says that memory is being touched until a limit is crossed: memory.events moves at
 * memory.high and memory.max, PSI only when tasks stall. But new memory arrives by page faults, and the
 * kernel counts them per cgroup (a perf event opened on the group's directory with PERF_FLAG_PID_CGROUP
 * counts the tasks of the group and of its descendants). One event per CPU, each sampling every fault: the
 * first fault after an arming wakes the loop, which disarms them all until it has looked, so a program
 * faulting flat out costs the loop one wake-up per look. A still group takes no faults and wakes nobody.
 * tests/kernel (kt-notify) pins this down.
 *
 * Disarmed means the rings' output paused (PERF_EVENT_IOC_PAUSE_OUTPUT), not the events disabled: enabling
 * or disabling an event bound to another CPU is a cross-CPU call, one interrupt to every CPU of the machine
 * at every look, which the loop waited for. In the VM that was a quarter of memgov's CPU time during a
 * growing Go heap (perf: smp_call_function_single under the ioctls), and on a large host it would disturb
 * every CPU, not only the group's. Pausing is a flag on the ring. The price: while disarmed, each of the
 * group's faults still takes the event's sample path up to the paused ring (counted as lost), a fraction
 * of a microsecond beside the fault itself.
 *
 * Not one-shot events (PERF_EVENT_IOC_REFRESH 1): re-arming only the CPUs that fired raced with the
 * kernel's own deferred disable of a fired event, and left CPUs off for hundreds of ms in the VM.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../../policy/macro.h"
#include "../platform.h"
#include "sandbox.h"

typedef struct FaultsCpu {
        int fd;
        struct perf_event_mmap_page *page; /* the ring's control page; one data page follows */
} FaultsCpu;

struct PlatformFaultsWatch {
        int epoll_fd; /* readable when any CPU's event has fired */
        bool armed;   /* counting, and no fault has woken the loop since */
        size_t n;
        FaultsCpu cpus[];
};

/* The ring: the control page and one data page; a sample without fields is an 8-byte header, and only the
 * wake-up matters. */
#define FAULTS_RING_BYTES (2 * (size_t)sysconf(_SC_PAGESIZE))

PlatformFaultsWatch *platform_faults_watch_free(PlatformFaultsWatch *w)
{
        if (!w)
                return NULL;
        for (size_t i = 0; i < w->n; i++) {
                if (w->cpus[i].page)
                        (void)munmap(w->cpus[i].page, FAULTS_RING_BYTES);
                safe_close(w->cpus[i].fd);
        }
        safe_close(w->epoll_fd);
        free(w);
        return NULL;
}

static int open_cpu(int cgroup_fd, int cpu, FaultsCpu *ret)
{
        struct perf_event_attr a = {
                .size = sizeof(a),
                .type = PERF_TYPE_SOFTWARE,
                .config = PERF_COUNT_SW_PAGE_FAULTS,
                .sample_period = 1,
                .wakeup_events = 1,
                .disabled = 1, /* enabled once its ring is paused: platform_faults_watch_arm() resumes it */
        };
        void *page;

        ret->fd = (int)syscall(SYS_perf_event_open, &a, cgroup_fd, cpu, -1,
                               PERF_FLAG_PID_CGROUP | PERF_FLAG_FD_CLOEXEC);
        if (ret->fd < 0)
                return negative_errno();
        page = mmap(NULL, FAULTS_RING_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, ret->fd, 0);
        if (page == MAP_FAILED)
                return negative_errno();
        ret->page = page;
        if (ioctl(ret->fd, PERF_EVENT_IOC_PAUSE_OUTPUT, 1) < 0 ||
            ioctl(ret->fd, PERF_EVENT_IOC_ENABLE, 0) < 0)
                return negative_errno();
        return 0;
}

int platform_sandbox_faults_watch(PlatformSandbox *s, PlatformFaultsWatch **ret)
{
        long ncpu = sysconf(_SC_NPROCESSORS_CONF);
        /* perf counts by the cgroup2 tree: the group itself, or a hybrid group's twin there. */
        int cgroup_fd = s->ops->dirfd_is_cgroup2 ? s->dirfd : s->twin_fd;
        PlatformFaultsWatch *w;
        int r;

        if (ncpu < 1 || cgroup_fd < 0)
                return -EOPNOTSUPP;
        w = calloc(1, sizeof(*w) + (size_t)ncpu * sizeof(FaultsCpu));
        if (!w)
                return -ENOMEM;
        w->epoll_fd = -1;
        for (long i = 0; i < ncpu; i++)
                w->cpus[i].fd = -1;
        w->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (w->epoll_fd < 0) {
                r = negative_errno();
                goto fail;
        }
        for (long cpu = 0; cpu < ncpu; cpu++) {
                FaultsCpu *c = &w->cpus[w->n];
                struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};

                r = open_cpu(cgroup_fd, (int)cpu, c);
                if (r == -ENODEV || r == -EINVAL) { /* an offline CPU: nothing runs there */
                        safe_close(c->fd);
                        c->fd = -1;
                        continue;
                }
                w->n++;
                if (r < 0)
                        goto fail;
                if (epoll_ctl(w->epoll_fd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
                        r = negative_errno();
                        goto fail;
                }
        }
        if (w->n == 0) {
                r = -EOPNOTSUPP;
                goto fail;
        }
        r = platform_faults_watch_arm(w);
        if (r < 0)
                goto fail;
        *ret = w;
        return 0;
fail:
        platform_faults_watch_free(w);
        return r;
}

int platform_faults_watch_fd(PlatformFaultsWatch *w)
{
        return w->epoll_fd;
}

int platform_faults_watch_arm(PlatformFaultsWatch *w)
{
        struct epoll_event evs[16];

        if (w->armed)
                return 0;
        /* Empty the rings and drop the readiness the last faults left, then count again: a fault from now on
         * wakes the loop. */
        for (size_t i = 0; i < w->n; i++) {
                FaultsCpu *c = &w->cpus[i];

                __atomic_store_n(&c->page->data_tail, __atomic_load_n(&c->page->data_head, __ATOMIC_ACQUIRE),
                                 __ATOMIC_RELEASE);
        }
        while (epoll_wait(w->epoll_fd, evs, ELEMENTSOF(evs), 0) == (int)ELEMENTSOF(evs))
                ;
        /* Armed before the first resume: if a later one fails, disarm() pauses those that resumed. */
        w->armed = true;
        for (size_t i = 0; i < w->n; i++)
                if (ioctl(w->cpus[i].fd, PERF_EVENT_IOC_PAUSE_OUTPUT, 0) < 0)
                        return negative_errno();
        return 0;
}

int platform_faults_watch_disarm(PlatformFaultsWatch *w)
{
        if (!w->armed)
                return 0;
        w->armed = false;
        for (size_t i = 0; i < w->n; i++)
                if (ioctl(w->cpus[i].fd, PERF_EVENT_IOC_PAUSE_OUTPUT, 1) < 0)
                        return negative_errno();
        return 0;
}

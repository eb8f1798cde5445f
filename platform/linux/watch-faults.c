/* SPDX-License-Identifier: MIT */
/*
 * Growth seen when it begins: the group's page faults, counted by a perf software event.
 *
 * No cgroup file says that memory is being touched until a limit is crossed: memory.events moves at
 * memory.high and memory.max, PSI only when tasks stall. But new memory arrives by page faults, and the
 * kernel counts them per cgroup (a perf event opened on the group's directory with PERF_FLAG_PID_CGROUP
 * counts the tasks of the group and of its descendants). One event per CPU, each sampling every fault and
 * one-shot (PERF_EVENT_IOC_REFRESH 1: the kernel disables it at its first overflow), so the first fault
 * after an arming wakes the loop once, and a program faulting flat out costs the loop nothing more until
 * it looks again. A still group takes no faults and wakes nobody. tests/kernel (kt-notify) pins this down.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
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
        uint64_t seen_head;                /* data_head when last armed: moved means this one fired */
} FaultsCpu;

struct PlatformFaultsWatch {
        int epoll_fd; /* readable when any CPU's event has fired */
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
                .disabled = 1, /* armed by the first platform_faults_watch_arm() */
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
                c->seen_head = UINT64_MAX; /* armed below */
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

        for (size_t i = 0; i < w->n; i++) {
                FaultsCpu *c = &w->cpus[i];
                uint64_t head = __atomic_load_n(&c->page->data_head, __ATOMIC_ACQUIRE);

                /* Only a CPU whose event fired is disabled now; one still armed would need two faults after
                 * a second refresh. */
                if (head == c->seen_head)
                        continue;
                __atomic_store_n(&c->page->data_tail, head, __ATOMIC_RELEASE);
                c->seen_head = head;
                if (ioctl(c->fd, PERF_EVENT_IOC_REFRESH, 1) < 0)
                        return negative_errno();
        }
        /* Drop the readiness the fired events left, so the loop is woken by the next fault only. */
        while (epoll_wait(w->epoll_fd, evs, ELEMENTSOF(evs), 0) == (int)ELEMENTSOF(evs))
                ;
        return 0;
}

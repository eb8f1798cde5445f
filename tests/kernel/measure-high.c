/* SPDX-License-Identifier: MIT */
/*
 * Measures, and never judges, how the kernel throttles allocations over memory.high:
 * the time to touch memory at a given overage, the latency of the memory.events
 * notification after the first crossing, and who pays when one thread of a process
 * allocates while others run. Prints tables; exits 0 whatever the numbers are.
 * Run inside tests/vm/vmrun --cgroup v2; argv[1] overrides the cgroup2 root.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cgroup-util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HIGH_MB     64
#define MAX_MB      128
#define PAGE        4096UL
#define BATCH_PAGES 64 /* MEMCG_CHARGE_BATCH: the group is charged in these */
#define REPS        16

static size_t high_bytes(void)
{
        return KT_MB(HIGH_MB);
}

static char *map_anon(size_t size)
{
        char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED)
                return NULL;
        /* 4 KiB faults, so each charge is one ordinary batch. */
        madvise(p, size, MADV_NOHUGEPAGE);
        return p;
}

static void touch(char *p, size_t size)
{
        for (size_t i = 0; i < size; i += PAGE)
                ((volatile char *)p)[i] = 1;
}

/*
 * Touch fresh pages until memory.current reaches target (the rest of the child counts
 * too): in bulk, then a page at a time, so it lands within one charge batch of it.
 */
static int fill_to(const char *cg, size_t target)
{
        long cur = cg_read_long(cg, "memory.current");

        while (cur >= 0 && (size_t)cur < target) {
                size_t left = target - (size_t)cur;
                size_t step = left > KT_MB(1) ? left - KT_MB(1) / 2 : PAGE;
                char *p = map_anon(step);

                if (!p)
                        return -ENOMEM;
                touch(p, step);
                cur = cg_read_long(cg, "memory.current");
        }
        return cur < 0 ? (int)cur : 0;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

typedef struct Overage {
        double pct;            /* usage over memory.high when each chunk starts */
        double ms[REPS];       /* time to touch one 64-page batch */
        double loop_ms;        /* all reps, mmap and munmap included */
        long psi_usec;         /* memory.pressure some total over the reps */
        long current_at_start; /* memory.current before the reps */
} Overage;

/*
 * In the child: fill past memory.high with the limit lifted (crossing it gradually
 * would pay every smaller overage on the way), put the limit back, then time one
 * batch at a time. Each batch is unmapped again so every rep starts at pct.
 */
static int measure_overage(const char *cg, void *arg)
{
        Overage *o = arg;
        size_t chunk = BATCH_PAGES * PAGE;
        long psi0;

        if (cg_write(cg, "memory.high", "max") < 0)
                return 1;
        if (fill_to(cg, (size_t)((double)high_bytes() * (1 + o->pct / 100))) < 0)
                return 2;
        if (cg_write_long(cg, "memory.high", (long)high_bytes()) < 0)
                return 3;
        o->current_at_start = cg_read_long(cg, "memory.current");
        psi0 = cg_read_psi_some_total(cg);
        /*
         * The batch is charged where it runs out (a fault, or kernel memory for the
         * mapping), so a single rep may pay zero or two penalties: the loop's mean is the
         * number to read.
         */
        o->loop_ms = kt_now_sec();
        for (int i = 0; i < REPS; i++) {
                char *p = map_anon(chunk);
                double t0;

                if (!p)
                        return 4;
                t0 = kt_now_sec();
                touch(p, chunk);
                o->ms[i] = (kt_now_sec() - t0) * 1000;
                munmap(p, chunk);
        }
        o->loop_ms = (kt_now_sec() - o->loop_ms) * 1000;
        o->psi_usec = cg_read_psi_some_total(cg) - psi0;
        return 0;
}

/* The penalty mm/memcontrol.c computes for one batch, in ms, for HZ ticks a second. */
static double kernel_penalty_ms(double overage_frac, int hz)
{
        double overage = floor(overage_frac * (1 << 20));
        double jiffies = floor(overage * overage * hz / (1 << 20) / (1 << 14));

        if (jiffies <= hz / 100)
                return 0;
        if (jiffies > 2 * hz)
                jiffies = 2 * hz;
        return jiffies * 1000 / hz;
}

static void *shared_page(void)
{
        void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

        if (p == MAP_FAILED)
                return NULL;
        /* Charged here, to the measuring process's group, not to the group measured. */
        memset(p, 0, PAGE);
        return p;
}

static int run_in(const char *cg, CgChildFn fn, void *arg)
{
        int status = cg_run(cg, fn, arg);

        if (!exited_with(status, 0))
                printf("# child in %s failed: status %#x\n", cg, status);
        return exited_with(status, 0) ? 0 : -1;
}

static void table_overage(const char *parent)
{
        static const double pcts[] = {-10, 1, 2, 3, 5, 10, 20};
        Overage *o = shared_page();

        if (!o)
                return;
        printf("\n## Time to touch memory over memory.high=%dM (memory.max=%dM, no swap, 4 KiB pages)\n",
               HIGH_MB, MAX_MB);
        printf("# %d reps of one batch (%d pages = 256 KiB), each started at the overage and unmapped after; ms/MiB = 4 x the mean rep\n",
               REPS, BATCH_PAGES);
        printf("| over high | memory.current at start | ms per MiB | rep touch ms median (min-max) | kernel formula ms/MiB (HZ=250) | memory.pressure some ms per MiB |\n|---|---|---|---|---|---|\n");
        for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
                char name[32];
                char *cg;
                double sorted[REPS], formula = 0;

                snprintf(name, sizeof(name), "over%d", (int)(pcts[i] * 10));
                cg = cg_name(parent, name);
                memset(o, 0, sizeof(*o));
                o->pct = pcts[i];
                if (cg_create(cg) < 0 || cg_write_long(cg, "memory.max", (long)KT_MB(MAX_MB)) < 0 ||
                    run_in(cg, measure_overage, o) < 0) {
                        printf("# overage %.0f%%: could not measure\n", pcts[i]);
                        cg_destroy(cg);
                        free(cg);
                        continue;
                }
                memcpy(sorted, o->ms, sizeof(sorted));
                qsort(sorted, REPS, sizeof(double), cmp_double);
                /* Each rep is charged as one batch at about the starting overage plus one batch. */
                if (pcts[i] > 0)
                        formula = 4 * kernel_penalty_ms((double)(o->current_at_start + BATCH_PAGES * PAGE -
                                                                 (long)high_bytes()) /
                                                                (double)high_bytes(),
                                                        250);
                printf("| %+.0f%% | %.2fM (%+.2f%%) | %.0f | %.1f (%.1f-%.1f) | %.0f | %.0f |\n", pcts[i],
                       (double)o->current_at_start / (1 << 20),
                       100.0 * ((double)o->current_at_start / (double)high_bytes() - 1),
                       4 * o->loop_ms / REPS, (sorted[REPS / 2 - 1] + sorted[REPS / 2]) / 2, sorted[0],
                       sorted[REPS - 1], formula, 4.0 * (double)o->psi_usec / 1000 / REPS);
                cg_destroy(cg);
                free(cg);
        }
        munmap(o, PAGE);
}

typedef struct Crossing {
        double t_before_touch; /* just before the touch that took memory.current past high */
        double t_done;
        long current;
} Crossing;

/* Full speed up to the limit, then one page at a time, watching memory.current. */
static int cross_high(const char *cg, void *arg)
{
        Crossing *x = arg;
        size_t size = high_bytes() + KT_MB(2);
        char *p = map_anon(size);
        size_t i = 0;

        if (!p)
                return 1;
        for (; i < size; i += PAGE) {
                double t = kt_now_sec();
                long cur;

                ((volatile char *)p)[i] = 1;
                /* Far below the limit reading the counter every page would only slow this down. */
                if (i % (BATCH_PAGES * PAGE) && i < high_bytes() - KT_MB(4))
                        continue;
                cur = cg_read_long(cg, "memory.current");
                if (cur > (long)high_bytes()) {
                        x->t_before_touch = t;
                        x->current = cur;
                        break;
                }
        }
        touch(p + i, size - i);
        x->t_done = kt_now_sec();
        return 0;
}

static void table_notification(const char *parent)
{
        Crossing *x = shared_page();

        if (!x)
                return;
        printf("\n## memory.events notification after first crossing memory.high=%dM\n", HIGH_MB);
        printf("| run | POLLPRI after the crossing touch ms | `high` at wake | `high` at end |\n|---|---|---|---|\n");
        for (int run = 1; run <= 5; run++) {
                char name[32], buf[512];
                char *cg;
                double t_wake = 0;
                long high_at_wake = -1;
                int fd = -1, status;
                pid_t pid;

                snprintf(name, sizeof(name), "notify%d", run);
                cg = cg_name(parent, name);
                memset(x, 0, sizeof(*x));
                if (cg_create(cg) < 0 || cg_write_long(cg, "memory.max", (long)KT_MB(MAX_MB)) < 0 ||
                    cg_write_long(cg, "memory.high", (long)high_bytes()) < 0 ||
                    (fd = cg_open(cg, "memory.events", O_RDONLY)) < 0 || pread(fd, buf, sizeof(buf), 0) <= 0)
                        goto next;
                pid = cg_run_nowait(cg, cross_high, x);
                if (pid < 0)
                        goto next;
                if (kt_wait_pollpri(fd, 60000) > 0) {
                        t_wake = kt_now_sec();
                        high_at_wake = cg_read_key_long(cg, "memory.events", "high ");
                }
                waitpid(pid, &status, 0);
                if (!exited_with(status, 0) || !x->t_before_touch || !t_wake)
                        printf("| %d | no measurement (status %#x) | | |\n", run, status);
                else
                        printf("| %d | %.2f | %ld | %ld |\n", run, (t_wake - x->t_before_touch) * 1000,
                               high_at_wake, cg_read_key_long(cg, "memory.events", "high "));
        next:
                if (fd >= 0)
                        close(fd);
                cg_destroy(cg);
                free(cg);
        }
        munmap(x, PAGE);
}

typedef struct Threads {
        atomic_bool stop;
        double spin_max_gap_ms;
        unsigned long spin_loops;
        int toucher_touches;
        int toucher_slow; /* touches over 5 ms */
        double toucher_max_ms, toucher_total_ms;
        double alloc_ms_per_mib;
        long alloc_vol, spin_vol, toucher_vol;
} Threads;

static long self_voluntary_switches(void)
{
        return kt_task_voluntary_switches((pid_t)syscall(SYS_gettid));
}

/* Pure CPU: the clock comes from the vDSO, so a gap is time the thread did not run. */
static void *spinner(void *arg)
{
        Threads *t = arg;
        long vol = self_voluntary_switches();
        double last = kt_now_sec(), gap = 0;
        unsigned long loops = 0;

        while (!atomic_load_explicit(&t->stop, memory_order_relaxed)) {
                double now = kt_now_sec();

                gap = now - last > gap ? now - last : gap;
                last = now;
                loops++;
        }
        t->spin_max_gap_ms = gap * 1000;
        t->spin_loops = loops;
        t->spin_vol = self_voluntary_switches() - vol;
        return NULL;
}

/* Like a GC thread that now and then needs a fresh page: one every 20 ms. */
static void *toucher(void *arg)
{
        Threads *t = arg;
        char *p = map_anon(KT_MB(8));
        struct timespec nap = {0, 20 * 1000 * 1000};
        long vol = self_voluntary_switches();
        size_t i = 0;

        if (!p)
                return NULL;
        /* Two batches' worth at most, so the toucher barely moves the overage. */
        while (!atomic_load(&t->stop) && i < 2 * BATCH_PAGES * PAGE) {
                double t0 = kt_now_sec(), ms;

                ((volatile char *)p)[i] = 1;
                ms = (kt_now_sec() - t0) * 1000;
                i += PAGE;
                t->toucher_touches++;
                t->toucher_slow += ms > 5;
                t->toucher_total_ms += ms;
                t->toucher_max_ms = ms > t->toucher_max_ms ? ms : t->toucher_max_ms;
                nanosleep(&nap, NULL);
        }
        /* nanosleep is voluntary too: report only the extra switches. */
        t->toucher_vol = self_voluntary_switches() - vol - t->toucher_touches;
        return NULL;
}

typedef struct ThreadsRun {
        bool allocate; /* does the main thread keep allocating past high? */
        Threads t;
} ThreadsRun;

/* Sit 5% over memory.high; main allocates 1 MiB (or sleeps 3 s), two threads beside it. */
static int threads_over_high(const char *cg, void *arg)
{
        ThreadsRun *r = arg;
        pthread_t spin, touch_thread;
        long vol;
        double t0;

        if (cg_write(cg, "memory.high", "max") < 0 || fill_to(cg, high_bytes() + high_bytes() / 20) < 0 ||
            cg_write_long(cg, "memory.high", (long)high_bytes()) < 0)
                return 1;
        if (pthread_create(&spin, NULL, spinner, &r->t) ||
            pthread_create(&touch_thread, NULL, toucher, &r->t))
                return 2;
        vol = self_voluntary_switches();
        t0 = kt_now_sec();
        if (r->allocate) {
                char *p = map_anon(KT_MB(1));

                if (!p)
                        return 3;
                touch(p, KT_MB(1));
                r->t.alloc_ms_per_mib = (kt_now_sec() - t0) * 1000;
        } else {
                struct timespec nap = {3, 0};

                nanosleep(&nap, NULL);
        }
        r->t.alloc_vol = self_voluntary_switches() - vol - !r->allocate;
        atomic_store(&r->t.stop, true);
        pthread_join(spin, NULL);
        pthread_join(touch_thread, NULL);
        return 0;
}

static void table_threads(const char *parent)
{
        ThreadsRun *r = shared_page();

        if (!r)
                return;
        printf("\n## Threads of one process, group 5%% over memory.high=%dM\n", HIGH_MB);
        printf("# main: allocates 1 MiB (or sleeps 3 s); spinner: pure CPU; toucher: a new page every 20 ms, 128 at most\n");
        printf("| main | main ms/MiB | main extra sleeps | spinner max gap ms | spinner sleeps | toucher touches | touches > 5 ms | toucher max ms | toucher total ms | toucher extra sleeps |\n"
               "|---|---|---|---|---|---|---|---|---|---|\n");
        for (int allocate = 1; allocate >= 0; allocate--) {
                char *cg = cg_name(parent, allocate ? "threads_alloc" : "threads_idle");

                memset(r, 0, sizeof(*r));
                r->allocate = allocate;
                if (cg_create(cg) == 0 && cg_write_long(cg, "memory.max", (long)KT_MB(MAX_MB)) == 0 &&
                    run_in(cg, threads_over_high, r) == 0)
                        printf("| %s | %.0f | %ld | %.1f | %ld | %d | %d | %.1f | %.1f | %ld |\n",
                               allocate ? "allocates" : "sleeps", r->t.alloc_ms_per_mib, r->t.alloc_vol,
                               r->t.spin_max_gap_ms, r->t.spin_vol, r->t.toucher_touches, r->t.toucher_slow,
                               r->t.toucher_max_ms, r->t.toucher_total_ms, r->t.toucher_vol);
                cg_destroy(cg);
                free(cg);
        }
        munmap(r, PAGE);
}

int main(int argc, char **argv)
{
        const char *root = argc > 1 ? argv[1] : "/sys/fs/cgroup";
        char *parent;

        parent = kt_measure_parent(root, "memgov-kt-measure");
        if (!parent)
                return 2;
        table_notification(parent);
        table_overage(parent);
        table_threads(parent);
        cg_destroy(parent);
        free(parent);
        return 0;
}

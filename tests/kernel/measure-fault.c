/* SPDX-License-Identifier: MIT */
/*
 * Measures, and never judges, when the charge of a page fault shows in memory.current
 * against the fault's own start and end: one 2 MiB transparent huge page, and 512
 * faults of 4 KiB. memgov's fault watch wakes at a fault and then reads the charge
 * (docs/design.md, "The fault watch"), so the gap between the two bounds how soon it
 * can see a jump. Prints a table; exits 0 whatever the numbers are.
 * Run inside tests/vm/vmrun --cgroup v2; argv[1] overrides the cgroup2 root.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cgroup-util.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#define PAGE       4096UL
#define HUGE       KT_MB(2)
#define REPS       12
#define MAX_READS  (1 << 18)
#define SETTLE_SEC 0.005 /* between reps: the poller sees the charge fall back */

typedef struct Rep {
        double fault_ms;  /* the touch: the fault's entry to its return, as the toucher sees it */
        double charge_ms; /* the first reading after the touch began with 1 MiB or more charged, or -1 */
        long charged;     /* bytes the touch added, as the poller read it at the end */
} Rep;

typedef struct Result {
        bool huge;
        int n_reps; /* done: a failed mmap ends the reps early */
        Rep reps[REPS];
} Result;

typedef struct Reading {
        double t;
        long bytes;
} Reading;

typedef struct Poller {
        int fd;
        atomic_bool stop;
        Reading *r;
        atomic_int n;
} Poller;

static long read_current(int fd)
{
        char buf[32];
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

        if (n <= 0)
                return -1;
        buf[n] = 0;
        return strtol(buf, NULL, 10);
}

/* On the other CPU, flat out: every change of memory.current with its time. */
static void *poll_current(void *arg)
{
        Poller *p = arg;
        long last = -2;

        while (!atomic_load(&p->stop)) {
                long v = read_current(p->fd);
                int n = atomic_load(&p->n);

                if (v == last || n >= MAX_READS)
                        continue;
                p->r[n] = (Reading){kt_now_sec(), v};
                atomic_store(&p->n, n + 1);
                last = v;
        }
        return NULL;
}

/* The newest reading at or before t. */
static long charged_at(const Poller *p, int n, double t)
{
        long v = -1;

        for (int i = 0; i < n && p->r[i].t <= t; i++)
                v = p->r[i].bytes;
        return v;
}

static void settle(void)
{
        double until = kt_now_sec() + SETTLE_SEC;

        while (kt_now_sec() < until)
                ;
}

/* Touch 2 MiB: one byte of a huge-page-aligned, MADV_HUGEPAGE region, or each of its 512 pages. */
static int touch_one(bool huge, double *start, double *end)
{
        char *raw = mmap(NULL, 2 * HUGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        char *p;

        if (raw == MAP_FAILED)
                return -1;
        p = (char *)(((uintptr_t)raw + HUGE - 1) & ~(uintptr_t)(HUGE - 1));
        (void)madvise(p, HUGE, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
        *start = kt_now_sec();
        if (huge)
                ((volatile char *)p)[0] = 1;
        else
                for (size_t i = 0; i < HUGE; i += PAGE)
                        ((volatile char *)p)[i] = 1;
        *end = kt_now_sec();
        settle();
        munmap(raw, 2 * HUGE);
        settle();
        return 0;
}

static int measure(const char *cg, void *arg)
{
        Result *res = arg;
        Poller p = {.fd = cg_open(cg, "memory.current", O_RDONLY)};
        double start[REPS], end[REPS];
        pthread_t t;
        int n;

        p.r = malloc(MAX_READS * sizeof(Reading));
        if (p.fd < 0 || !p.r)
                return 1;
        /* Charged now, not a page at a time while the reps are read. */
        memset(p.r, 0, MAX_READS * sizeof(Reading));
        if (pthread_create(&t, NULL, poll_current, &p) != 0)
                return 1;
        settle();
        while (res->n_reps < REPS && touch_one(res->huge, &start[res->n_reps], &end[res->n_reps]) == 0)
                res->n_reps++;
        atomic_store(&p.stop, true);
        pthread_join(t, NULL);
        n = atomic_load(&p.n);
        for (int i = 0; i < res->n_reps; i++) {
                long before = charged_at(&p, n, start[i]);
                Rep *r = &res->reps[i];

                r->fault_ms = (end[i] - start[i]) * 1000;
                r->charge_ms = -1;
                r->charged = charged_at(&p, n, end[i] + SETTLE_SEC / 2) - before;
                for (int k = 0; k < n; k++)
                        if (p.r[k].t > start[i] && p.r[k].bytes - before >= (long)KT_MB(1)) {
                                r->charge_ms = (p.r[k].t - start[i]) * 1000;
                                break;
                        }
        }
        free(p.r);
        close(p.fd);
        return 0;
}

static int cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return x < y ? -1 : x > y;
}

/* Median, min and max of n values, into buf. */
static const char *spread(double *v, int n, char *buf, size_t size)
{
        if (n == 0)
                return "n/a";
        qsort(v, (size_t)n, sizeof(double), cmp_double);
        snprintf(buf, size, "%.2f (%.2f-%.2f)", n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v[0],
                 v[n - 1]);
        return buf;
}

static void row(const char *parent, bool huge)
{
        Result *res = mmap(NULL, sizeof(Result), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        char *cg = cg_name(parent, huge ? "huge" : "small");
        double fault[REPS], charge[REPS], share[REPS];
        char b1[64], b2[64], b3[64];
        int n, n_charge = 0, status;
        long charged = 0;

        if (res == MAP_FAILED || !cg || cg_create(cg) < 0) {
                printf("# %s: cannot set up: %m\n", huge ? "huge" : "small");
                goto cleanup;
        }
        memset(res, 0, sizeof(*res));
        res->huge = huge;
        status = cg_run(cg, measure, res);
        if (!exited_with(status, 0)) {
                printf("# %s: the child failed: status %#x\n", huge ? "huge" : "small", status);
                goto cleanup;
        }
        n = res->n_reps;
        if (n == 0) {
                printf("# %s: no rep was done (mmap failed)\n", huge ? "huge" : "small");
                goto cleanup;
        }
        for (int i = 0; i < n; i++) {
                const Rep *r = &res->reps[i];

                fault[i] = r->fault_ms;
                charged += r->charged;
                if (r->charge_ms >= 0) {
                        charge[n_charge] = r->charge_ms;
                        share[n_charge++] = 100 * r->charge_ms / r->fault_ms;
                }
        }
        printf("| %s | %d | %.2f | %s | %d | %s | %s |\n",
               huge ? "one 2 MiB huge page (MADV_HUGEPAGE)" : "512 pages of 4 KiB (MADV_NOHUGEPAGE)", n,
               (double)charged / n / (1 << 20), spread(fault, n, b1, sizeof(b1)), n_charge,
               spread(charge, n_charge, b2, sizeof(b2)), spread(share, n_charge, b3, sizeof(b3)));
cleanup:
        if (cg)
                cg_destroy(cg);
        free(cg);
        if (res != MAP_FAILED)
                munmap(res, sizeof(Result));
}

/* One line of a file, for the header; "?" when it cannot be read. */
static void print_file_line(const char *label, const char *path)
{
        char buf[512] = "?";
        FILE *f = fopen(path, "re");

        if (f) {
                if (!fgets(buf, sizeof(buf), f))
                        snprintf(buf, sizeof(buf), "?");
                fclose(f);
        }
        buf[strcspn(buf, "\n")] = 0;
        printf("# %s: %s\n", label, buf);
}

int main(int argc, char **argv)
{
        const char *root = argc > 1 ? argv[1] : "/sys/fs/cgroup";
        struct utsname u;
        char *parent;

        parent = kt_measure_parent(root, "memgov-kt-fault");
        if (!parent)
                return 2;
        if (uname(&u) == 0)
                printf("# kernel: %s %s\n", u.release, u.version);
        print_file_line("THP", "/sys/kernel/mm/transparent_hugepage/enabled");
        print_file_line("THP defrag", "/sys/kernel/mm/transparent_hugepage/defrag");
        print_file_line("command line", "/proc/cmdline");
        printf("\n## When a fault's charge shows in memory.current\n");
        printf("# %d reps of 2 MiB each, unmapped after; a thread on the other CPU reads memory.current flat out.\n",
               REPS);
        printf("# touch: from the clock read before the touch to the one after it; charge seen: the first reading with 1 MiB or more charged since the touch began; ms median (min-max)\n");
        printf("| touched | reps | MiB charged per rep | touch ms | reps whose charge was seen | charge seen at ms | charge seen at %% of the touch |\n|---|---|---|---|---|---|---|\n");
        row(parent, true);
        row(parent, false);
        cg_destroy(parent);
        free(parent);
        return 0;
}

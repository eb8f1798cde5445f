/* SPDX-License-Identifier: MIT */
/*
 * A tiny vocabulary for real-kernel cgroup tests, so that each test reads like
 * the sentence it checks. Functions that can fail return negative errno.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define KT_MB(n) ((size_t)(n)*1024 * 1024)

enum { KT_PASS = 0, KT_FAIL = 1 };

#ifndef KT_TEST_TIMEOUT_SEC
#define KT_TEST_TIMEOUT_SEC 60
#endif

/* Print a "# ..." diagnostic line under the current test. */
void kt_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Leave the test through its cleanup label when cond is false, saying which. */
#define expect(cond)                                                              \
        do {                                                                      \
                if (!(cond)) {                                                    \
                        kt_diag("%s:%d: expected %s", __FILE__, __LINE__, #cond); \
                        goto cleanup;                                             \
                }                                                                 \
        } while (0)

typedef int (*KtTestFn)(const char *parent);

typedef struct KtTest {
        KtTestFn fn;
        const char *name;
} KtTest;

/*
 * Refuse to run outside the vmrun VM: these tests create and kill cgroups, and the
 * host's cgroups belong to the machine's management.
 */
bool kt_inside_vmrun(void);

/*
 * For a program that measures and prints tables (no TAP): refuse outside the VM, then
 * create root/<prefix>.<pid> with the memory controller for its children. Says why on
 * stdout and returns NULL when it cannot.
 */
char *kt_measure_parent(const char *root, const char *prefix);

/*
 * Create a fresh parent group under root, run every test with it and print TAP.
 * Returns the process exit status: 0 when all passed.
 */
int kt_run_tests(const char *root, const KtTest *tests, size_t n_tests);

char *cg_name(const char *parent, const char *name);
int cg_create(const char *cg);
int cg_destroy(const char *cg);

int cg_write(const char *cg, const char *file, const char *value);
int cg_write_long(const char *cg, const char *file, long value);
int cg_read(const char *cg, const char *file, char *buf, size_t size);
long cg_read_long(const char *cg, const char *file);
/* The number after key (e.g. "oom_kill ") in a flat keyed file. */
long cg_read_key_long(const char *cg, const char *file, const char *key);
bool cg_read_contains(const char *cg, const char *file, const char *needle);
int cg_open(const char *cg, const char *file, int flags);

int cg_enter(const char *cg, pid_t pid);
int cg_enter_current(const char *cg);

typedef int (*CgChildFn)(const char *cg, void *arg);
/*
 * Fork a child, move it into cg, run fn there and _exit with its result. Returns
 * once the child is in cg (-ECHILD if it could not get there).
 */
pid_t cg_run_nowait(const char *cg, CgChildFn fn, void *arg);
/* The same, waiting: returns the child's wait status or negative errno. */
int cg_run(const char *cg, CgChildFn fn, void *arg);

/* Wait up to timeout_ms for cgroup.events to say "populated <value>". */
int cg_wait_populated(const char *cg, int value, int timeout_ms);

/* Child bodies: touch (size_t)arg bytes of anonymous memory, then exit 0. */
int alloc_anon(const char *cg, void *arg);
/* Sleep until killed. */
int sleep_forever(const char *cg, void *arg);

/* CLOCK_MONOTONIC in seconds: comparable between processes of one boot. */
double kt_now_sec(void);
/* poll() fd for POLLPRI: its revents, 0 on timeout, or negative errno. */
int kt_wait_pollpri(int fd, int timeout_ms);
/* memory.pressure "some" total (usec of stall), or -1. */
long cg_read_psi_some_total(const char *cg);
/* voluntary_ctxt_switches of one thread of this process (a thread id), or -1: each is a sleep. */
long kt_task_voluntary_switches(pid_t tid);

bool killed_by(int wait_status, int sig);
bool exited_with(int wait_status, int code);

/* SPDX-License-Identifier: MIT */
/*
 * The cgroup v2 behaviour memgov relies on, checked against a real kernel.
 * Run through tests/vm/vmrun --cgroup v2; argv[1] overrides the cgroup2 root.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cgroup-util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* No swap in the VM; where swap accounting exists, make sure none is used anyway. */
static int cg_no_swap(const char *cg)
{
        int r = cg_write(cg, "memory.swap.max", "0");

        return r == -ENOENT ? 0 : r;
}

static int test_new_group_has_memory_controller(const char *parent)
{
        char *cg = cg_name(parent, "controllers");
        int ret = KT_FAIL;

        expect(cg_create(cg) == 0);
        expect(cg_read_contains(cg, "cgroup.controllers", "memory"));
        expect(cg_read_long(cg, "memory.max") == LONG_MAX);
        ret = KT_PASS;
cleanup:
        cg_destroy(cg);
        free(cg);
        return ret;
}

static int test_memory_max_oom_kills(const char *parent)
{
        char *cg = cg_name(parent, "max_oom");
        int ret = KT_FAIL, status;

        expect(cg_create(cg) == 0);
        expect(cg_write(cg, "memory.max", "30M") == 0);
        expect(cg_no_swap(cg) == 0);

        status = cg_run(cg, alloc_anon, (void *)KT_MB(100));
        expect(killed_by(status, SIGKILL));
        expect(cg_read_key_long(cg, "memory.events", "max ") > 0);
        expect(cg_read_key_long(cg, "memory.events", "oom ") >= 1);
        expect(cg_read_key_long(cg, "memory.events", "oom_kill ") >= 1);
        ret = KT_PASS;
cleanup:
        cg_destroy(cg);
        free(cg);
        return ret;
}

/*
 * Just over memory.high, so the penalty stays short: it grows with the square of
 * the overage and reaches the 2 s cap per 64-page batch at 1/8 over.
 */
static int test_memory_high_throttles_without_killing(const char *parent)
{
        char *cg = cg_name(parent, "high");
        int ret = KT_FAIL, status;
        double start;

        expect(cg_create(cg) == 0);
        expect(cg_write(cg, "memory.high", "16M") == 0);
        expect(cg_no_swap(cg) == 0);

        start = kt_now_sec();
        status = cg_run(cg, alloc_anon, (void *)KT_MB(17));
        kt_diag("17M under memory.high=16M took %.2f s, memory.pressure some total=%ld us",
                kt_now_sec() - start, cg_read_psi_some_total(cg));
        expect(exited_with(status, 0));
        expect(cg_read_key_long(cg, "memory.events", "high ") > 0);
        expect(cg_read_key_long(cg, "memory.events", "oom_kill ") == 0);
        expect(cg_read_key_long(cg, "memory.events", "max ") == 0);
        /* The throttling sleep is accounted as memory stall. */
        expect(cg_read_psi_some_total(cg) > 0);
        ret = KT_PASS;
cleanup:
        cg_destroy(cg);
        free(cg);
        return ret;
}

static int test_psi_trigger_fires_pollpri(const char *parent)
{
        static const char trigger[] = "some 50000 1000000"; /* 50 ms stalled in 1 s */
        char *cg = cg_name(parent, "psi");
        int ret = KT_FAIL, fd = -1, revents, status;
        pid_t pid = -1;

        expect(cg_create(cg) == 0);
        expect(cg_write(cg, "memory.high", "16M") == 0);
        expect(cg_no_swap(cg) == 0);
        fd = cg_open(cg, "memory.pressure", O_RDWR | O_NONBLOCK);
        expect(fd >= 0);
        expect(write(fd, trigger, strlen(trigger) + 1) == (ssize_t)strlen(trigger) + 1);
        expect(kt_wait_pollpri(fd, 0) == 0);

        /* Far enough over memory.high to stall until it is killed. */
        pid = cg_run_nowait(cg, alloc_anon, (void *)KT_MB(24));
        expect(pid > 0);
        revents = kt_wait_pollpri(fd, 15000);
        kt_diag("poll revents=%#x", revents);
        expect(revents > 0 && (revents & POLLPRI));
        ret = KT_PASS;
cleanup:
        if (pid > 0) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
        }
        if (fd >= 0)
                close(fd);
        cg_destroy(cg);
        free(cg);
        return ret;
}

static int test_memory_events_poll_wakes_on_change(const char *parent)
{
        char *cg = cg_name(parent, "events_poll");
        char buf[512];
        int ret = KT_FAIL, fd = -1, revents, status = -1;
        pid_t pid = -1;

        expect(cg_create(cg) == 0);
        expect(cg_write(cg, "memory.max", "16M") == 0);
        expect(cg_no_swap(cg) == 0);
        fd = cg_open(cg, "memory.events", O_RDONLY);
        expect(fd >= 0);
        /* Reading arms the notification: poll wakes on changes after this read. */
        expect(pread(fd, buf, sizeof(buf), 0) > 0);
        expect(kt_wait_pollpri(fd, 0) == 0);

        pid = cg_run_nowait(cg, alloc_anon, (void *)KT_MB(64));
        expect(pid > 0);
        revents = kt_wait_pollpri(fd, 10000);
        expect(revents > 0 && (revents & POLLPRI));
        expect(waitpid(pid, &status, 0) == pid);
        pid = -1;
        expect(killed_by(status, SIGKILL));
        expect(cg_read_key_long(cg, "memory.events", "oom_kill ") >= 1);
        ret = KT_PASS;
cleanup:
        if (pid > 0) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
        }
        if (fd >= 0)
                close(fd);
        cg_destroy(cg);
        free(cg);
        return ret;
}

/* The child checks where it is before doing anything else. */
static int clone3_child(const char *expect_suffix, int wait_fd)
{
        char buf[512] = "", line[512];
        char c;
        FILE *f = fopen("/proc/self/cgroup", "re");
        bool found = false;

        if (f) {
                while (fgets(line, sizeof(line), f))
                        if (!strncmp(line, "0::", 3))
                                found = true, snprintf(buf, sizeof(buf), "%s", line + 3);
                fclose(f);
        }
        /* Stay alive until the parent has looked at cgroup.procs. */
        if (read(wait_fd, &c, 1) < 0)
                return 2;
        buf[strcspn(buf, "\n")] = '\0';
        return found && !strcmp(buf, expect_suffix) ? 0 : 1;
}

static int test_clone3_into_cgroup_starts_child_inside(const char *parent)
{
        char *cg = cg_name(parent, "clone3");
        char pidstr[32];
        int ret = KT_FAIL, dirfd = -1, pipefd[2] = {-1, -1}, status = -1;
        const char *rel;
        pid_t pid = -1;

        expect(cg_create(cg) == 0);
        rel = strstr(cg, "/memgov-kt.");
        expect(rel != NULL);
        dirfd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        expect(dirfd >= 0);
        expect(pipe(pipefd) == 0);

        struct clone_args args = {
                .flags = CLONE_INTO_CGROUP,
                .exit_signal = SIGCHLD,
                .cgroup = (uint64_t)dirfd,
        };
        pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
        if (pid == 0) {
                close(pipefd[1]);
                _exit(clone3_child(rel, pipefd[0]));
        }
        expect(pid > 0);
        close(pipefd[0]);
        pipefd[0] = -1;
        snprintf(pidstr, sizeof(pidstr), "%d\n", (int)pid);
        expect(cg_read_contains(cg, "cgroup.procs", pidstr));
        close(pipefd[1]);
        pipefd[1] = -1;
        expect(waitpid(pid, &status, 0) == pid);
        pid = -1;
        expect(exited_with(status, 0));
        ret = KT_PASS;
cleanup:
        if (pid > 0) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
        }
        for (int i = 0; i < 2; i++)
                if (pipefd[i] >= 0)
                        close(pipefd[i]);
        if (dirfd >= 0)
                close(dirfd);
        cg_destroy(cg);
        free(cg);
        return ret;
}

static int test_cgroup_kill_kills_subtree(const char *parent)
{
        char *cg = cg_name(parent, "kill");
        char *inner = cg_name(cg, "inner");
        pid_t pids[3] = {-1, -1, -1};
        int ret = KT_FAIL, status;

        expect(cg_create(cg) == 0);
        expect(cg_create(inner) == 0);
        pids[0] = cg_run_nowait(cg, sleep_forever, NULL);
        pids[1] = cg_run_nowait(inner, sleep_forever, NULL);
        pids[2] = cg_run_nowait(inner, sleep_forever, NULL);
        for (int i = 0; i < 3; i++)
                expect(pids[i] > 0);
        expect(cg_wait_populated(inner, 1, 5000) == 0);

        expect(cg_write(cg, "cgroup.kill", "1") == 0);
        for (int i = 0; i < 3; i++) {
                expect(waitpid(pids[i], &status, 0) == pids[i]);
                pids[i] = -1;
                expect(killed_by(status, SIGKILL));
        }
        expect(cg_wait_populated(cg, 0, 5000) == 0);
        ret = KT_PASS;
cleanup:
        for (int i = 0; i < 3; i++)
                if (pids[i] > 0) {
                        kill(pids[i], SIGKILL);
                        waitpid(pids[i], &status, 0);
                }
        cg_destroy(cg);
        free(inner);
        free(cg);
        return ret;
}

/* arg is a pipe; the child drops its copy of the write end so EOF can arrive. */
static int wait_for_eof(const char *cg, void *arg)
{
        int *pipefd = arg;
        char c;

        (void)cg;
        close(pipefd[1]);
        return read(pipefd[0], &c, 1) < 0 ? 1 : 0;
}

static int test_populated_zero_after_last_exit(const char *parent)
{
        char *cg = cg_name(parent, "populated");
        int ret = KT_FAIL, pipefd[2] = {-1, -1}, status;
        pid_t pid = -1;

        expect(cg_create(cg) == 0);
        expect(cg_wait_populated(cg, 0, 0) == 0);
        expect(pipe(pipefd) == 0);
        pid = cg_run_nowait(cg, wait_for_eof, pipefd);
        expect(pid > 0);
        expect(cg_wait_populated(cg, 1, 5000) == 0);

        close(pipefd[1]);
        pipefd[1] = -1;
        /* Before reaping: an exited but unreaped child no longer populates the group. */
        expect(cg_wait_populated(cg, 0, 5000) == 0);
        expect(waitpid(pid, &status, 0) == pid);
        pid = -1;
        expect(exited_with(status, 0));
        ret = KT_PASS;
cleanup:
        if (pid > 0) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
        }
        for (int i = 0; i < 2; i++)
                if (pipefd[i] >= 0)
                        close(pipefd[i]);
        cg_destroy(cg);
        free(cg);
        return ret;
}

static const KtTest tests[] = {
        {test_new_group_has_memory_controller, "a new group has the memory controller"},
        {test_memory_max_oom_kills, "going over memory.max OOM-kills and counts oom_kill"},
        {test_memory_high_throttles_without_killing,
         "going over memory.high counts high and throttles without killing"},
        {test_psi_trigger_fires_pollpri, "a memory.pressure trigger fires POLLPRI under pressure"},
        {test_memory_events_poll_wakes_on_change, "poll() on memory.events wakes on change"},
        {test_clone3_into_cgroup_starts_child_inside,
         "clone3 CLONE_INTO_CGROUP starts the child inside the group"},
        {test_cgroup_kill_kills_subtree, "cgroup.kill kills the whole subtree"},
        {test_populated_zero_after_last_exit, "cgroup.events says populated 0 once the last process exits"},
};

int main(int argc, char **argv)
{
        const char *root = argc > 1 ? argv[1] : "/sys/fs/cgroup";

        return kt_run_tests(root, tests, sizeof(tests) / sizeof(tests[0]));
}

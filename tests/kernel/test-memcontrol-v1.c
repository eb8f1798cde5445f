/* SPDX-License-Identifier: MIT */
/*
 * The cgroup v1 memory controller behaviour memgov relies on, for hosts that
 * still keep memory on v1. Run through tests/vm/vmrun --cgroup v1 (or hybrid);
 * argv[1] overrides the memory hierarchy's root.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cgroup-util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Register an eventfd for events of file in cg (cgroup.event_control). extra is
 * the file-specific argument ("low", a threshold) or NULL. Returns the eventfd.
 */
static int cg_register_event(const char *cg, const char *file, const char *extra)
{
        char line[128];
        int efd, fd, r;

        efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (efd < 0)
                return -errno;
        fd = cg_open(cg, file, O_RDONLY);
        if (fd < 0) {
                r = -errno;
                close(efd);
                return r;
        }
        snprintf(line, sizeof(line), "%d %d%s%s", efd, fd, extra ? " " : "", extra ? extra : "");
        r = cg_write(cg, "cgroup.event_control", line);
        /* The kernel holds its own reference to the watched file. */
        close(fd);
        if (r < 0) {
                close(efd);
                return r;
        }
        return efd;
}

/* Wait for an eventfd to count; returns the count, 0 on timeout, or -errno. */
static long eventfd_wait(int efd, int timeout_ms)
{
        struct pollfd p = {.fd = efd, .events = POLLIN};
        uint64_t n;
        int r = poll(&p, 1, timeout_ms);

        if (r <= 0)
                return r < 0 ? -errno : 0;
        if (read(efd, &n, sizeof(n)) != sizeof(n))
                return -errno;
        return (long)n;
}

static int test_limit_in_bytes_oom_kills(const char *parent)
{
        char *cg = cg_name(parent, "limit_oom");
        int ret = KT_FAIL, status;

        expect(cg_create(cg) == 0);
        expect(cg_write(cg, "memory.limit_in_bytes", "16M") == 0);
        expect(cg_read_long(cg, "memory.limit_in_bytes") == (long)KT_MB(16));

        status = cg_run(cg, alloc_anon, (void *)KT_MB(64));
        expect(killed_by(status, SIGKILL));
        expect(cg_read_long(cg, "memory.failcnt") > 0);
        expect(cg_read_long(cg, "memory.max_usage_in_bytes") <= (long)KT_MB(16));
        expect(cg_read_key_long(cg, "memory.oom_control", "oom_kill ") >= 1);
        expect(cg_read_key_long(cg, "memory.oom_control", "under_oom ") == 0);
        ret = KT_PASS;
cleanup:
        cg_destroy(cg);
        free(cg);
        return ret;
}

static int test_oom_control_notifies_and_holds_when_kill_disabled(const char *parent)
{
        char *cg = cg_name(parent, "oom_control");
        int ret = KT_FAIL, efd = -1, status = -1;
        pid_t pid = -1;

        expect(cg_create(cg) == 0);
        expect(cg_write(cg, "memory.limit_in_bytes", "16M") == 0);
        expect(cg_write(cg, "memory.oom_control", "1") == 0);
        expect(cg_read_key_long(cg, "memory.oom_control", "oom_kill_disable ") == 1);
        efd = cg_register_event(cg, "memory.oom_control", NULL);
        expect(efd >= 0);

        pid = cg_run_nowait(cg, alloc_anon, (void *)KT_MB(64));
        expect(pid > 0);
        expect(eventfd_wait(efd, 10000) >= 1);
        /* With the OOM killer disabled the task waits, alive, under OOM. */
        expect(cg_read_key_long(cg, "memory.oom_control", "under_oom ") == 1);
        expect(waitpid(pid, &status, WNOHANG) == 0);
        expect(kill(pid, SIGKILL) == 0);
        expect(waitpid(pid, &status, 0) == pid);
        pid = -1;
        expect(killed_by(status, SIGKILL));
        expect(cg_read_key_long(cg, "memory.oom_control", "oom_kill ") == 0);
        ret = KT_PASS;
cleanup:
        if (pid > 0) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
        }
        if (efd >= 0)
                close(efd);
        cg_destroy(cg);
        free(cg);
        return ret;
}

static int test_pressure_level_notifies_through_event_control(const char *parent)
{
        char *cg = cg_name(parent, "pressure_level");
        int ret = KT_FAIL, efd = -1, status;

        expect(cg_create(cg) == 0);
        expect(cg_write(cg, "memory.limit_in_bytes", "16M") == 0);
        /* "low" in the default hierarchy mode hears every level, critical included. */
        efd = cg_register_event(cg, "memory.pressure_level", "low");
        expect(efd >= 0);
        expect(eventfd_wait(efd, 0) == 0);

        status = cg_run(cg, alloc_anon, (void *)KT_MB(64));
        expect(killed_by(status, SIGKILL));
        /* vmpressure reports from a work item: allow it a moment. */
        expect(eventfd_wait(efd, 5000) >= 1);
        ret = KT_PASS;
cleanup:
        if (efd >= 0)
                close(efd);
        cg_destroy(cg);
        free(cg);
        return ret;
}

static int test_usage_threshold_notifies(const char *parent)
{
        char *cg = cg_name(parent, "threshold");
        char threshold[32];
        int ret = KT_FAIL, efd = -1, status;

        expect(cg_create(cg) == 0);
        snprintf(threshold, sizeof(threshold), "%zu", KT_MB(8));
        efd = cg_register_event(cg, "memory.usage_in_bytes", threshold);
        expect(efd >= 0);

        status = cg_run(cg, alloc_anon, (void *)KT_MB(12));
        expect(exited_with(status, 0));
        expect(eventfd_wait(efd, 5000) >= 1);
        ret = KT_PASS;
cleanup:
        if (efd >= 0)
                close(efd);
        cg_destroy(cg);
        free(cg);
        return ret;
}

static const KtTest tests[] = {
        {test_limit_in_bytes_oom_kills,
         "going over memory.limit_in_bytes OOM-kills and counts failcnt and oom_kill"},
        {test_oom_control_notifies_and_holds_when_kill_disabled,
         "memory.oom_control notifies through event_control and holds the task when kill is disabled"},
        {test_pressure_level_notifies_through_event_control,
         "memory.pressure_level notifies through cgroup.event_control"},
        {test_usage_threshold_notifies, "a memory.usage_in_bytes threshold notifies when crossed"},
};

int main(int argc, char **argv)
{
        const char *root = argc > 1 ? argv[1] : "/sys/fs/cgroup/memory";

        return kt_run_tests(root, tests, sizeof(tests) / sizeof(tests[0]));
}

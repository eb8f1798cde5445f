/* SPDX-License-Identifier: MIT */
/*
 * memgov's own process: its OOM score, subreaping, reaping and killing its
 * descendants. What a correct init does (tini, dumb-init, catatonit), plus
 * what they leave out: waiting for and then killing the descendants that
 * outlive the main child.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>

#include "../../policy/macro.h"
#include "../platform.h"

static void closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}

int platform_process_get_oom_score_adj(int *ret)
{
        _cleanup_close_ int fd = -1;
        char buf[32];
        ssize_t n;

        fd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return n < 0 ? negative_errno() : -EIO;
        buf[n] = '\0';
        *ret = atoi(buf);
        return 0;
}

int platform_process_set_oom_score_adj(int value)
{
        _cleanup_close_ int fd = -1;
        char buf[32];
        int n;

        fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        n = snprintf(buf, sizeof(buf), "%d", value);
        if (write(fd, buf, (size_t)n) != n)
                return negative_errno();
        return 0;
}

/* PRIO_PROCESS with 0 is the calling thread on Linux, not the whole process. */
int platform_process_get_nice(int *ret)
{
        int v;

        errno = 0;
        v = getpriority(PRIO_PROCESS, 0);
        if (v == -1 && errno != 0)
                return negative_errno();
        *ret = v;
        return 0;
}

int platform_process_set_nice(int value)
{
        return setpriority(PRIO_PROCESS, 0, value) < 0 ? negative_errno() : 0;
}

int platform_process_set_subreaper(void)
{
        if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0)
                return negative_errno();
        return 0;
}

bool platform_process_is_init(void)
{
        return getpid() == 1;
}

bool platform_process_is_root(void)
{
        return geteuid() == 0;
}

int platform_machine_memory(uint64_t *ret_bytes)
{
        struct sysinfo si;

        if (sysinfo(&si) < 0)
                return -errno;
        *ret_bytes = (uint64_t)si.totalram * (si.mem_unit ? si.mem_unit : 1);
        return 0;
}

int platform_process_reap_one(pid_t *ret_pid, int *ret_code)
{
        siginfo_t si = {};

        if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0)
                return negative_errno();
        if (si.si_pid == 0)
                return 0;
        *ret_pid = si.si_pid;
        *ret_code = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        return 1;
}

/* Kills the pids listed in one /proc/self/task/<tid>/children file. */
static int kill_listed(const char *file)
{
        _cleanup_close_ int fd = -1;
        char text[65536];
        ssize_t n;
        int killed = 0;

        fd = open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        n = read(fd, text, sizeof(text) - 1);
        if (n <= 0)
                return 0;
        text[n] = '\0';
        for (char *p = text, *end;; p = end) {
                long pid = strtol(p, &end, 10);
                if (end == p)
                        break;
                if (pid > 1 && kill((pid_t)pid, SIGKILL) == 0)
                        killed++;
        }
        return killed;
}

int platform_process_kill_descendants(void)
{
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int killed = 0;

        /* PID 1 of a namespace may signal every process in it but itself; that also reaches those that
         * left our tree through a subreaper of their own. */
        if (platform_process_is_init()) {
                if (kill(-1, SIGKILL) == 0)
                        return 1;
                return errno == ESRCH ? 0 : negative_errno();
        }
        /* As a subreaper, orphans come back to us: our children are every descendant still running. Each
         * thread has its own list (children of that thread). Needs CONFIG_PROC_CHILDREN (Debian has it). */
        d = opendir("/proc/self/task");
        if (!d)
                return negative_errno();
        while ((de = readdir(d))) {
                char path[300];
                if (de->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/proc/self/task/%s/children", de->d_name);
                killed += kill_listed(path);
        }
        return killed;
}

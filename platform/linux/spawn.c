/* SPDX-License-Identifier: MIT */
/*
 * Starting the child inside its group. Preferred: clone3(CLONE_INTO_CGROUP |
 * CLONE_PIDFD) (5.7+), so the child is in the group from its first
 * instruction and we hold a pidfd that cannot name a recycled pid. Fallback:
 * fork(), with the child blocked on a pipe until the parent has written its pid
 * to cgroup.procs; it runs only that wait outside the group, never the program.
 *
 * Either way a second, close-on-exec pipe reports the exec: EOF means the new
 * program runs, an int means execve() failed with that errno.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "../../policy/macro.h"
#include "../platform.h"
#include "cgroup-util.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

static int sys_pidfd_open(pid_t pid)
{
        return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Runs in the child: async-signal-safe calls only, since the parent's memory is a copy taken at an arbitrary
 * point. Never returns. */
typedef struct ExecRequest {
        const char *path;
        char *const *argv;
        char *const *envp;
        const int *keep_fds;
        size_t n_keep_fds;
        const char *oom_score_adj; /* NULL: inherited */
        pid_t parent;              /* > 0: die with it */
        int nice;                  /* PLATFORM_NICE_UNSET: inherited */
} ExecRequest;

/* The child's own settings, before the program runs. Returns 0 or a positive errno. */
static int child_setup(const ExecRequest *x)
{
        if (x->parent > 0) {
                /* SIGKILL when memgov's spawning thread (the main thread, which lives as long as memgov)
                 * dies. If memgov died before this line, the signal will never come: check by hand. */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                        return errno;
                if (getppid() != x->parent)
                        _exit(126);
        }
        if (x->oom_score_adj) {
                int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
                size_t len = strlen(x->oom_score_adj);
                int e = 0;

                if (fd < 0)
                        return errno;
                if (write(fd, x->oom_score_adj, len) != (ssize_t)len)
                        e = errno;
                close(fd);
                if (e)
                        return e;
        }
        /* memgov raised its own priority; the program gets the one memgov started with. Lowering is
         * always allowed. */
        if (x->nice != PLATFORM_NICE_UNSET && setpriority(PRIO_PROCESS, 0, x->nice) < 0)
                return errno;
        return 0;
}

_noreturn_ static void child_exec(int report_fd, const ExecRequest *x)
{
        sigset_t none;
        int e;

        /* memgov blocks the signals it forwards (it reads them from a signalfd); the program starts with
         * none blocked. Dispositions are left as memgov got them: exec resets caught ones, and a signal the
         * caller chose to ignore (nohup's SIGHUP) stays ignored, as with any exec. */
        sigemptyset(&none);
        (void)sigprocmask(SIG_SETMASK, &none, NULL);

        e = child_setup(x);
        if (e) {
                (void)!write(report_fd, &e, sizeof(e));
                _exit(126);
        }

        for (size_t i = 0; i < x->n_keep_fds; i++) {
                int flags = fcntl(x->keep_fds[i], F_GETFD);
                if (flags >= 0)
                        (void)fcntl(x->keep_fds[i], F_SETFD, flags & ~FD_CLOEXEC);
        }

        execve(x->path, x->argv, x->envp);
        e = errno;
        (void)!write(report_fd, &e, sizeof(e));
        _exit(e == ENOENT ? 127 : 126);
}

/* Waits for the exec report. Returns 0 when the program runs, or -errno of the failed execve (reaping the
 * child, which has already exited). */
static int read_exec_report(int report_fd, pid_t pid)
{
        int e = 0;
        ssize_t n;

        do
                n = read(report_fd, &e, sizeof(e));
        while (n < 0 && errno == EINTR);
        if (n == 0)
                return 0;
        (void)waitpid(pid, NULL, 0);
        if (n != sizeof(e) || e <= 0)
                return -EIO;
        return -e;
}

static int spawn_clone3(PlatformSandbox *s, int report_fd, const ExecRequest *x, pid_t *ret_pid,
                        int *ret_pidfd)
{
        int pidfd = -1;
        struct clone_args args = {
                .flags = (s->ops->clone_into_group ? CLONE_INTO_CGROUP : 0) | CLONE_PIDFD,
                .pidfd = (uint64_t)(uintptr_t)&pidfd,
                .exit_signal = SIGCHLD,
                .cgroup = (uint64_t)s->dirfd,
        };
        long pid;

        pid = syscall(SYS_clone3, &args, sizeof(args));
        if (pid < 0)
                return negative_errno();
        if (pid == 0)
                child_exec(report_fd, x);
        *ret_pid = (pid_t)pid;
        *ret_pidfd = pidfd;
        return 0;
}

static int spawn_fork_attach(PlatformSandbox *s, int report_fd, const ExecRequest *x, pid_t *ret_pid,
                             int *ret_pidfd)
{
        _cleanup_close_ int go_r = -1, go_w = -1;
        int fds[2], r;
        char pidtext[32];
        pid_t pid;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return negative_errno();
        go_r = fds[0];
        go_w = fds[1];

        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                char c;
                ssize_t n;

                safe_close(go_w);
                do
                        n = read(go_r, &c, 1);
                while (n < 0 && errno == EINTR);
                if (n != 1) /* the parent could not attach us, or died: never run outside the group */
                        _exit(127);
                child_exec(report_fd, x);
        }

        snprintf(pidtext, sizeof(pidtext), "%d", (int)pid);
        r = s->ops->attach(s, pidtext);
        if (r < 0) {
                (void)kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
                return r;
        }
        if (write(go_w, "g", 1) != 1) {
                r = negative_errno();
                (void)kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
                return r;
        }
        *ret_pid = pid;
        *ret_pidfd = sys_pidfd_open(pid); /* -1 before 5.3: the caller then waits by pid */
        return 0;
}

int platform_sandbox_spawn(PlatformSandbox *s, const char *path, char *const argv[], char *const envp[],
                           const int *keep_fds, size_t n_keep_fds, PlatformChild *ret)
{
        char oom[16];
        ExecRequest x = {path, argv, envp, keep_fds, n_keep_fds, NULL, 0, s->nice};
        _cleanup_close_ int report_r = -1, report_w = -1;
        int fds[2], pidfd = -1, r = -ENOSYS;
        pid_t pid = 0;

        ret->exec_failed = false;
        ret->hint = NULL;
        /* Formatted here: the child may only make async-signal-safe calls. */
        if (s->oom_score_adj != PLATFORM_OOM_SCORE_ADJ_UNSET) {
                snprintf(oom, sizeof(oom), "%d", s->oom_score_adj);
                x.oom_score_adj = oom;
        }
        if (s->die_with_parent)
                x.parent = getpid();
        if (pipe2(fds, O_CLOEXEC) < 0)
                return negative_errno();
        report_r = fds[0];
        report_w = fds[1];

        if (!s->fork_fallback)
                r = spawn_clone3(s, report_w, &x, &pid, &pidfd);
        /* ENOSYS: no clone3 (< 5.3); E2BIG/EINVAL: no CLONE_INTO_CGROUP (< 5.7). */
        if (r == -ENOSYS || r == -E2BIG || r == -EINVAL)
                r = spawn_fork_attach(s, report_w, &x, &pid, &pidfd);
        if (r < 0) {
                /* The kernel's rule for moving a process (cgroup-v2.rst, "Delegation Containment"). */
                if ((r == -EACCES || r == -EPERM) && geteuid() != 0)
                        ret->hint =
                                "without root, memgov can start a process only in a group whose common ancestor with memgov's own group it may write: run memgov inside the delegated subtree that --parent names";
                return r;
        }

        safe_close(TAKE_FD(report_w));
        r = read_exec_report(report_r, pid);
        if (r < 0) {
                ret->exec_failed = true;
                safe_close(pidfd);
                return r;
        }
        ret->pid = pid;
        ret->wait_fd = pidfd;
        return 0;
}

int platform_child_signal(const PlatformChild *c, int sig)
{
        if (c->wait_fd >= 0) {
                if (syscall(SYS_pidfd_send_signal, c->wait_fd, sig, NULL, 0) < 0)
                        return negative_errno();
                return 0;
        }
        if (kill(c->pid, sig) < 0)
                return negative_errno();
        return 0;
}

void platform_child_close(PlatformChild *c)
{
        c->wait_fd = safe_close(c->wait_fd);
}

static int check_executable(const char *p)
{
        struct stat st;

        if (stat(p, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EACCES;
        if (access(p, X_OK) < 0)
                return negative_errno();
        return 0;
}

int platform_find_executable(const char *name, const char *path, char **ret)
{
        _cleanup_free_ char *copy = NULL;
        int result = -ENOENT;

        if (!name || !*name)
                return -EINVAL;
        if (strchr(name, '/')) {
                int r = check_executable(name);
                if (r < 0)
                        return r;
                *ret = strdup(name);
                return *ret ? 0 : -ENOMEM;
        }

        copy = strdup(path ?: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        if (!copy)
                return -ENOMEM;
        for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                char *candidate = cg_join(dir, name);
                int r;

                if (!candidate)
                        return -ENOMEM;
                r = check_executable(candidate);
                if (r == 0) {
                        *ret = candidate;
                        return 0;
                }
                free(candidate);
                if (r == -EACCES) /* keep looking, as execvp() does, but remember why it was not taken */
                        result = -EACCES;
        }
        return result;
}

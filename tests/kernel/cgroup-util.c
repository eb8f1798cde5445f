/* SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "cgroup-util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void kt_diag(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fputs("# ", stdout);
        vprintf(fmt, ap);
        fputc('\n', stdout);
        va_end(ap);
        fflush(stdout);
}

bool kt_inside_vmrun(void)
{
        char buf[4096] = "";
        FILE *f = fopen("/proc/cmdline", "re");

        if (!f)
                return false;
        if (!fgets(buf, sizeof(buf), f))
                buf[0] = '\0';
        fclose(f);
        /* vmrun puts this on the guest kernel's command line; no host has it. */
        return strstr(buf, "memgov.vmrun=1") != NULL;
}

/* The line printed when a test hangs past KT_TEST_TIMEOUT_SEC, ready for a signal handler. */
static char kt_timeout_line[256];

static void kt_on_alarm(int sig)
{
        (void)sig;
        if (write(STDOUT_FILENO, kt_timeout_line, strlen(kt_timeout_line)) < 0)
                _exit(1);
        /* Children left in test groups die with the VM. */
        _exit(1);
}

char *kt_measure_parent(const char *root, const char *prefix)
{
        char name[64];
        char *parent;

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (!kt_inside_vmrun()) {
                printf("not inside tests/vm/vmrun; refusing to touch this machine's cgroups\n");
                return NULL;
        }
        snprintf(name, sizeof(name), "%s.%d", prefix, (int)getpid());
        parent = cg_name(root, name);
        if (!parent || cg_create(parent) < 0) {
                printf("cannot create a group under %s: %m\n", root);
                free(parent);
                return NULL;
        }
        if (cg_write(parent, "cgroup.subtree_control", "+memory") < 0) {
                printf("cannot enable the memory controller in %s: %m\n", parent);
                cg_destroy(parent);
                free(parent);
                return NULL;
        }
        return parent;
}

int kt_run_tests(const char *root, const KtTest *tests, size_t n_tests)
{
        char name[64];
        char *parent;
        int failed = 0;

        setvbuf(stdout, NULL, _IOLBF, 0);
        printf("TAP version 13\n1..%zu\n", n_tests);
        if (!kt_inside_vmrun()) {
                printf("Bail out! not inside tests/vm/vmrun; refusing to touch this machine's cgroups\n");
                return 2;
        }
        snprintf(name, sizeof(name), "memgov-kt.%d", (int)getpid());
        parent = cg_name(root, name);
        if (!parent || cg_create(parent) < 0) {
                printf("Bail out! cannot create a test group under %s: %m\n", root);
                return 2;
        }
        /* Children of the test groups get every controller their parent has. */
        if (cg_read_contains(root, "cgroup.subtree_control", "memory") &&
            cg_write(parent, "cgroup.subtree_control", "+memory") < 0) {
                printf("Bail out! cannot enable memory in %s\n", parent);
                cg_destroy(parent);
                return 2;
        }
        /* A hung test becomes a "not ok" in a minute, not a VM timeout without a name. */
        signal(SIGALRM, kt_on_alarm);
        for (size_t i = 0; i < n_tests; i++) {
                int r;

                snprintf(kt_timeout_line, sizeof(kt_timeout_line), "not ok %zu %s # timed out after %d s\n",
                         i + 1, tests[i].name, KT_TEST_TIMEOUT_SEC);
                alarm(KT_TEST_TIMEOUT_SEC);
                r = tests[i].fn(parent);
                alarm(0);
                printf("%sok %zu %s\n", r == KT_PASS ? "" : "not ", i + 1, tests[i].name);
                failed += r != KT_PASS;
        }
        if (cg_destroy(parent) < 0)
                kt_diag("cannot remove %s", parent);
        free(parent);
        printf("# %zu passed, %d failed\n", n_tests - failed, failed);
        return failed ? 1 : 0;
}

char *cg_name(const char *parent, const char *name)
{
        char *s;

        if (asprintf(&s, "%s/%s", parent, name) < 0)
                return NULL;
        return s;
}

int cg_create(const char *cg)
{
        return mkdir(cg, 0755) < 0 ? -errno : 0;
}

static int cg_kill_all(const char *cg)
{
        char buf[4096];
        char *p, *end;

        if (cg_write(cg, "cgroup.kill", "1") == 0)
                return 0;
        /* cgroup v1 has no cgroup.kill: signal each member. */
        if (cg_read(cg, "cgroup.procs", buf, sizeof(buf)) < 0)
                return -errno;
        for (p = buf; *p; p = end) {
                long pid = strtol(p, &end, 10);

                if (end == p)
                        break;
                if (pid > 0)
                        kill((pid_t)pid, SIGKILL);
        }
        return 0;
}

int cg_destroy(const char *cg)
{
        DIR *d;
        struct dirent *e;

        if (!cg)
                return 0;
        cg_kill_all(cg);
        d = opendir(cg);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((e = readdir(d))) {
                char *child;

                if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                        continue;
                child = cg_name(cg, e->d_name);
                cg_destroy(child);
                free(child);
        }
        closedir(d);
        /* Killed members leave asynchronously; rmdir is EBUSY until they have. */
        for (int i = 0; i < 500; i++) {
                if (rmdir(cg) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        return -errno;
                cg_kill_all(cg);
                usleep(10 * 1000);
        }
        return -EBUSY;
}

int cg_open(const char *cg, const char *file, int flags)
{
        char path[PATH_MAX];

        snprintf(path, sizeof(path), "%s/%s", cg, file);
        return open(path, flags | O_CLOEXEC);
}

int cg_write(const char *cg, const char *file, const char *value)
{
        int fd = cg_open(cg, file, O_WRONLY);
        ssize_t n;
        int r = 0;

        if (fd < 0)
                return -errno;
        n = write(fd, value, strlen(value));
        if (n < 0)
                r = -errno;
        else if ((size_t)n != strlen(value))
                r = -EIO;
        close(fd);
        return r;
}

int cg_write_long(const char *cg, const char *file, long value)
{
        char buf[32];

        snprintf(buf, sizeof(buf), "%ld", value);
        return cg_write(cg, file, buf);
}

int cg_read(const char *cg, const char *file, char *buf, size_t size)
{
        int fd = cg_open(cg, file, O_RDONLY);
        size_t len = 0;
        int r = 0;

        if (fd < 0)
                return -errno;
        while (len + 1 < size) {
                ssize_t n = read(fd, buf + len, size - 1 - len);

                if (n < 0)
                        r = -errno;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        buf[len] = '\0';
        close(fd);
        return r < 0 ? r : (int)len;
}

long cg_read_long(const char *cg, const char *file)
{
        char buf[64];
        int r = cg_read(cg, file, buf, sizeof(buf));

        if (r < 0)
                return r;
        if (!strncmp(buf, "max", 3))
                return LONG_MAX;
        return strtol(buf, NULL, 10);
}

long cg_read_key_long(const char *cg, const char *file, const char *key)
{
        char buf[8192];
        size_t klen = strlen(key);
        int r = cg_read(cg, file, buf, sizeof(buf));

        if (r < 0)
                return r;
        for (char *line = buf; *line;) {
                char *nl = strchr(line, '\n');

                if (!strncmp(line, key, klen))
                        return strtol(line + klen, NULL, 10);
                if (!nl)
                        break;
                line = nl + 1;
        }
        return -ENOENT;
}

bool cg_read_contains(const char *cg, const char *file, const char *needle)
{
        char buf[8192];

        return cg_read(cg, file, buf, sizeof(buf)) >= 0 && strstr(buf, needle);
}

int cg_enter(const char *cg, pid_t pid)
{
        return cg_write_long(cg, "cgroup.procs", pid);
}

int cg_enter_current(const char *cg)
{
        /* "0" is the writer itself, in cgroup v1 and v2 alike. */
        return cg_write(cg, "cgroup.procs", "0");
}

pid_t cg_run_nowait(const char *cg, CgChildFn fn, void *arg)
{
        int ready[2];
        char c;
        ssize_t n;
        pid_t pid;

        if (pipe2(ready, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0) {
                n = -errno;
                close(ready[0]);
                close(ready[1]);
                return (pid_t)n;
        }
        if (pid == 0) {
                close(ready[0]);
                if (cg_enter_current(cg) < 0)
                        _exit(125);
                /* Tell the parent the child is in place before running the body. */
                if (write(ready[1], "", 1) != 1)
                        _exit(125);
                close(ready[1]);
                _exit(fn(cg, arg));
        }
        /*
         * Returning only once the child is in cg: otherwise a test that acts on the
         * group right away (cgroup.kill) races with the child's move and misses it.
         */
        close(ready[1]);
        do
                n = read(ready[0], &c, 1);
        while (n < 0 && errno == EINTR);
        close(ready[0]);
        if (n != 1) {
                int status;

                waitpid(pid, &status, 0);
                return -ECHILD;
        }
        return pid;
}

int cg_run(const char *cg, CgChildFn fn, void *arg)
{
        int status;
        pid_t pid = cg_run_nowait(cg, fn, arg);

        if (pid < 0)
                return pid;
        if (waitpid(pid, &status, 0) < 0)
                return -errno;
        return status;
}

static long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cg_wait_populated(const char *cg, int value, int timeout_ms)
{
        char buf[256], want[32];
        long deadline = now_ms() + timeout_ms;
        int fd = cg_open(cg, "cgroup.events", O_RDONLY);
        int r = -ETIMEDOUT;

        if (fd < 0)
                return -errno;
        snprintf(want, sizeof(want), "populated %d\n", value);
        for (;;) {
                ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
                struct pollfd p = {.fd = fd, .events = POLLPRI};
                long left = deadline - now_ms();

                if (n < 0) {
                        r = -errno;
                        break;
                }
                buf[n] = '\0';
                if (strstr(buf, want)) {
                        r = 0;
                        break;
                }
                /* cgroup.events signals every change as POLLPRI. */
                if (left <= 0 || poll(&p, 1, (int)left) < 0)
                        break;
        }
        close(fd);
        return r;
}

int alloc_anon(const char *cg, void *arg)
{
        size_t size = (size_t)arg;
        volatile char *p;

        (void)cg;
        p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
                return 1;
        for (size_t i = 0; i < size; i += 4096)
                p[i] = 1;
        munmap((void *)p, size);
        return 0;
}

int sleep_forever(const char *cg, void *arg)
{
        (void)cg;
        (void)arg;
        for (;;)
                pause();
}

double kt_now_sec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int kt_wait_pollpri(int fd, int timeout_ms)
{
        struct pollfd p = {.fd = fd, .events = POLLPRI};
        int n = poll(&p, 1, timeout_ms);

        return n < 0 ? -errno : n == 0 ? 0 : p.revents;
}

long cg_read_psi_some_total(const char *cg)
{
        char buf[512];
        char *total;

        if (cg_read(cg, "memory.pressure", buf, sizeof(buf)) < 0)
                return -1;
        total = strstr(buf, "total=");
        return total && !strncmp(buf, "some", 4) ? strtol(total + 6, NULL, 10) : -1;
}

bool killed_by(int wait_status, int sig)
{
        return wait_status >= 0 && WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == sig;
}

bool exited_with(int wait_status, int code)
{
        return wait_status >= 0 && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == code;
}

long kt_task_voluntary_switches(pid_t tid)
{
        char path[64], line[256];
        long n = -1;
        FILE *f;

        snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
        f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1)
                        break;
        fclose(f);
        return n;
}

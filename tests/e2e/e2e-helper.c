/* SPDX-License-Identifier: MIT */
/*
 * The child the e2e tests run under memgov. Each subcommand shows one thing
 * from the inside of the governed group:
 *   cgroup                 print this process's cgroup v2 path
 *   limits                 print memory.max, memory.high, memory.swap.max, memory.oom.group of its group
 *   env NAME               print $NAME, or "(unset)"
 *   exit N                 exit with N
 *   kill-self SIG          die by signal SIG
 *   alloc MIB [SECONDS]    touch MIB mebibytes, one at a time, print the group's memory.events, stay
 *                          SECONDS (default 0), exit 0
 *   fork-at-once N         fork N children first thing; every process prints its cgroup
 *   trap SIG FILE CODE     wait for SIG, write its name to FILE, exit CODE
 *   ignore-term            ignore SIGTERM and sleep
 *   orphan FILE            leave a grandchild that ignores SIGTERM and sleeps, write its pid to FILE, exit 0
 *   exec-clean CMD...      reset every signal to its default and exec CMD (a background job of a
 *                          non-interactive shell starts with SIGINT and SIGQUIT ignored)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int own_cgroup(char *buf, size_t size)
{
        FILE *f = fopen("/proc/self/cgroup", "re");
        char line[4096];
        int r = -1;

        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, "0::", 3) == 0) {
                        line[strcspn(line, "\n")] = '\0';
                        snprintf(buf, size, "%s", line + 3);
                        r = 0;
                }
        fclose(f);
        return r;
}

static void print_file(const char *group, const char *file)
{
        char path[4200], value[256] = "(missing)";
        FILE *f;

        snprintf(path, sizeof(path), "/sys/fs/cgroup%s/%s", group, file);
        f = fopen(path, "re");
        if (f) {
                if (!fgets(value, sizeof(value), f))
                        snprintf(value, sizeof(value), "(unreadable)");
                fclose(f);
        }
        value[strcspn(value, "\n")] = '\0';
        printf("%s=%s\n", file, value);
}

static int cmd_limits(void)
{
        char group[4096];

        if (own_cgroup(group, sizeof(group)) < 0)
                return 1;
        print_file(group, "memory.max");
        print_file(group, "memory.high");
        print_file(group, "memory.swap.max");
        print_file(group, "memory.oom.group");
        return 0;
}

static int cmd_alloc(long mib, unsigned hold_seconds)
{
        char group[4096], path[4200], line[256];
        FILE *f;

        for (long i = 0; i < mib; i++) {
                char *p = malloc(1 << 20);
                if (!p)
                        return 3;
                memset(p, (int)i + 1, 1 << 20); /* touch every page, so it is charged */
        }
        /* cgroup v1 has no memory.events (on pure v1 not even a "0::" line): say so and hold all the same.
         */
        snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.events",
                 own_cgroup(group, sizeof(group)) < 0 ? "/-" : group);
        f = fopen(path, "re");
        if (f) {
                while (fgets(line, sizeof(line), f))
                        printf("event %s", line);
                fclose(f);
        } else
                printf("event none (no memory.events)\n");
        fflush(stdout);
        while (hold_seconds > 0)
                hold_seconds = sleep(hold_seconds);
        return 0;
}

static int cmd_fork_at_once(int n)
{
        char group[4096];

        for (int i = 0; i < n; i++) {
                pid_t pid = fork();
                if (pid == 0) {
                        if (own_cgroup(group, sizeof(group)) < 0)
                                _exit(1);
                        printf("child %s\n", group);
                        fflush(stdout);
                        _exit(0);
                }
        }
        while (wait(NULL) > 0)
                ;
        if (own_cgroup(group, sizeof(group)) < 0)
                return 1;
        printf("parent %s\n", group);
        return 0;
}

static int cmd_trap(int sig, const char *file, int code)
{
        sigset_t set;
        int got;
        FILE *f;

        sigemptyset(&set);
        sigaddset(&set, sig);
        sigprocmask(SIG_BLOCK, &set, NULL);
        printf("ready\n");
        fflush(stdout);
        if (sigwait(&set, &got) != 0)
                return 2;
        f = fopen(file, "we");
        if (!f)
                return 2;
        fprintf(f, "%s\n", strsignal(got));
        fclose(f);
        return code;
}

static int cmd_orphan(const char *file)
{
        pid_t pid = fork();

        if (pid < 0)
                return 2;
        if (pid == 0) {
                signal(SIGTERM, SIG_IGN);
                for (;;)
                        pause();
        }
        FILE *f = fopen(file, "we");
        if (!f)
                return 2;
        fprintf(f, "%d\n", (int)pid);
        fclose(f);
        return 0;
}

int main(int argc, char *argv[])
{
        char group[4096];
        const char *cmd = argc > 1 ? argv[1] : "";

        if (strcmp(cmd, "fork-at-once") == 0 && argc > 2) /* first, before anything else runs */
                return cmd_fork_at_once(atoi(argv[2]));
        if (strcmp(cmd, "exec-clean") == 0 && argc > 2) {
                sigset_t none;
                for (int sig = 1; sig < NSIG; sig++)
                        signal(sig, SIG_DFL);
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                execvp(argv[2], argv + 2);
                perror("e2e-helper: exec");
                return 127;
        }
        if (strcmp(cmd, "cgroup") == 0) {
                if (own_cgroup(group, sizeof(group)) < 0)
                        return 1;
                printf("%s\n", group);
                return 0;
        }
        if (strcmp(cmd, "limits") == 0)
                return cmd_limits();
        if (strcmp(cmd, "env") == 0 && argc > 2) {
                const char *v = getenv(argv[2]);
                printf("%s\n", v ? v : "(unset)");
                return 0;
        }
        if (strcmp(cmd, "exit") == 0 && argc > 2)
                return atoi(argv[2]);
        if (strcmp(cmd, "kill-self") == 0 && argc > 2) {
                raise(atoi(argv[2]));
                return 99;
        }
        if (strcmp(cmd, "alloc") == 0 && argc > 2)
                return cmd_alloc(atol(argv[2]), argc > 3 ? (unsigned)atoi(argv[3]) : 0);
        if (strcmp(cmd, "trap") == 0 && argc > 4)
                return cmd_trap(atoi(argv[2]), argv[3], atoi(argv[4]));
        if (strcmp(cmd, "ignore-term") == 0) {
                signal(SIGTERM, SIG_IGN);
                printf("ready\n");
                fflush(stdout);
                for (;;)
                        pause();
        }
        if (strcmp(cmd, "orphan") == 0 && argc > 2)
                return cmd_orphan(argv[2]);
        fprintf(stderr, "e2e-helper: unknown or incomplete command '%s'\n", cmd);
        return 64;
}

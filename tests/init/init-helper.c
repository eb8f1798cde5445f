/* SPDX-License-Identifier: MIT */
/*
 * The child of the init tests (tests/init/run-init.sh): the shapes an init
 * must handle. Each command is one shape:
 *   orphans N       N children each leave an orphan that exits; then count the zombies in this pid
 *                   namespace and print "zombies=K"
 *   catch           print "ready", then exit with 100+N on the first forwarded signal N
 *   exit N          exit N;  kill-self N: die by signal N
 *   daemon FILE     leave a setsid grandchild that ignores SIGTERM and runs on; write its pid to FILE
 *   linger FILE     daemon FILE.gc, write our own pid to FILE, then wait forever
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) < 0)
                ;
}

static int count_zombies(void)
{
        DIR *d = opendir("/proc");
        struct dirent *de;
        int n = 0;

        if (!d)
                return -1;
        while ((de = readdir(d))) {
                char path[300], buf[512], *p;
                FILE *f;

                if (de->d_name[0] < '0' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
                f = fopen(path, "re");
                if (!f)
                        continue;
                if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ' && p[2] == 'Z')
                        n++;
                fclose(f);
        }
        closedir(d);
        return n;
}

static int cmd_orphans(int n)
{
        int left = 0;

        for (int i = 0; i < n; i++) {
                pid_t pid = fork();
                if (pid < 0) {
                        perror("fork");
                        return 2;
                }
                if (pid == 0) {
                        if (fork() == 0) {
                                sleep_ms(20); /* exits once its parent is gone: an orphan, reaped by init */
                                _exit(0);
                        }
                        _exit(0);
                }
                (void)waitpid(pid, NULL, 0);
        }
        /* Give the last orphans time to exit and be reaped, then look. */
        for (int tries = 0; tries < 50; tries++) {
                sleep_ms(100);
                left = count_zombies();
                if (left == 0)
                        break;
        }
        printf("zombies=%d\n", left);
        return 0;
}

static void on_signal(int sig)
{
        _exit(100 + sig);
}

_Noreturn static void cmd_catch(void)
{
        static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGTERM, SIGWINCH};

        for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
                signal(sigs[i], on_signal);
        printf("ready\n");
        fflush(stdout);
        for (;;)
                pause();
}

static int write_pid(const char *file, pid_t pid)
{
        char tmp[4096];
        FILE *f;

        snprintf(tmp, sizeof(tmp), "%s.tmp", file);
        f = fopen(tmp, "we");
        if (!f)
                return -1;
        fprintf(f, "%d\n", (int)pid);
        fclose(f);
        return rename(tmp, file);
}

static int cmd_daemon(const char *file)
{
        pid_t pid = fork();

        if (pid < 0)
                return 2;
        if (pid == 0) {
                setsid();
                if (fork() == 0) {
                        signal(SIGTERM, SIG_IGN);
                        signal(SIGHUP, SIG_IGN);
                        write_pid(file, getpid());
                        for (;;)
                                pause();
                }
                _exit(0);
        }
        (void)waitpid(pid, NULL, 0);
        for (int i = 0; i < 100 && access(file, F_OK) < 0; i++)
                sleep_ms(20);
        return access(file, F_OK) == 0 ? 0 : 3;
}

int main(int argc, char *argv[])
{
        const char *cmd = argc > 1 ? argv[1] : "";

        if (strcmp(cmd, "orphans") == 0 && argc > 2)
                return cmd_orphans(atoi(argv[2]));
        if (strcmp(cmd, "catch") == 0)
                cmd_catch();
        if (strcmp(cmd, "exit") == 0 && argc > 2)
                return atoi(argv[2]);
        if (strcmp(cmd, "kill-self") == 0 && argc > 2) {
                signal(atoi(argv[2]), SIG_DFL);
                raise(atoi(argv[2]));
                return 99;
        }
        if (strcmp(cmd, "daemon") == 0 && argc > 2)
                return cmd_daemon(argv[2]);
        if (strcmp(cmd, "linger") == 0 && argc > 2) {
                char gc[4096];
                snprintf(gc, sizeof(gc), "%s.gc", argv[2]);
                if (cmd_daemon(gc) != 0)
                        return 3;
                write_pid(argv[2], getpid());
                for (;;)
                        pause();
        }
        fprintf(stderr, "init-helper: unknown or incomplete command '%s'\n", cmd);
        return 64;
}

/* SPDX-License-Identifier: MIT */
/*
 * The child the Windows tests start, in the job or through memgov.exe:
 *   exit N          exit with N
 *   env NAME        print NAME's value; exit 3 when unset
 *   injob           exit 0 when this process is in a Job Object, else 4
 *   sleep MS        sleep, then exit 0
 *   tree PIDFILE    start "sleep 60000" as a grandchild, write its pid to PIDFILE, then sleep 60 s
 *   orphan PIDFILE  the same, but exit 3 at once, leaving the grandchild behind
 *   alloc MB        commit MB megabytes; exit 0 when it could, 5 when refused
 *   handle VALUE    exit 0 when VALUE (a handle, in decimal) is open in this process, else 9
 *   agent           on the channel in MEMGOV_FD (a handle): say hello, expect "welcome v=1 id=1", send one
 *                   stats line, exit 0 (10: no handle, 11: I/O failed, 12: another answer)
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

static int agent(void)
{
        static const char hello[] = "hello v=1 runtime=c pid=1 caps=limit\n",
                          stats[] = "stats total_bytes=1234\n";
        const char *v = getenv("MEMGOV_FD");
        char line[256];
        size_t len = 0;
        HANDLE h;
        DWORD n;

        if (!v)
                return 10;
        h = (HANDLE)(uintptr_t)strtoull(v, NULL, 10);
        if (!WriteFile(h, hello, sizeof(hello) - 1, &n, NULL))
                return 11;
        while (len < sizeof(line) - 1) {
                if (!ReadFile(h, line + len, 1, &n, NULL) || n == 0)
                        return 11;
                if (line[len] == '\n')
                        break;
                len++;
        }
        line[len] = '\0';
        if (strcmp(line, "welcome v=1 id=1") != 0)
                return 12;
        if (!WriteFile(h, stats, sizeof(stats) - 1, &n, NULL))
                return 11;
        return 0;
}

static int start_grandchild(const char *pidfile, bool stay)
{
        char self[MAX_PATH], cmd[MAX_PATH + 32];
        STARTUPINFOA si = {.cb = sizeof(si)};
        PROCESS_INFORMATION pi;
        FILE *f;

        GetModuleFileNameA(NULL, self, sizeof(self));
        snprintf(cmd, sizeof(cmd), "\"%s\" sleep 60000", self);
        if (!CreateProcessA(self, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi))
                return 6;
        f = fopen(pidfile, "w");
        if (!f)
                return 7;
        fprintf(f, "%lu\n", pi.dwProcessId);
        fclose(f);
        if (!stay)
                return 3;
        Sleep(60000);
        return 0;
}

int main(int argc, char *argv[])
{
        if (argc == 3 && strcmp(argv[1], "exit") == 0)
                return atoi(argv[2]);
        if (argc == 3 && strcmp(argv[1], "env") == 0) {
                const char *v = getenv(argv[2]);
                if (!v)
                        return 3;
                printf("%s\n", v);
                return 0;
        }
        if (argc == 2 && strcmp(argv[1], "injob") == 0) {
                BOOL in = FALSE;
                if (!IsProcessInJob(GetCurrentProcess(), NULL, &in))
                        return 8;
                return in ? 0 : 4;
        }
        if (argc == 3 && strcmp(argv[1], "sleep") == 0) {
                Sleep((DWORD)atoi(argv[2]));
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "tree") == 0)
                return start_grandchild(argv[2], true);
        if (argc == 3 && strcmp(argv[1], "orphan") == 0)
                return start_grandchild(argv[2], false);
        if (argc == 3 && strcmp(argv[1], "alloc") == 0) {
                SIZE_T n = (SIZE_T)atoi(argv[2]) << 20;
                return VirtualAlloc(NULL, n, MEM_COMMIT | MEM_RESERVE, PAGE_READWRITE) ? 0 : 5;
        }
        if (argc == 2 && strcmp(argv[1], "agent") == 0)
                return agent();
        if (argc == 3 && strcmp(argv[1], "handle") == 0) {
                DWORD flags;
                return GetHandleInformation((HANDLE)(uintptr_t)strtoull(argv[2], NULL, 10), &flags) ? 0 : 9;
        }
        fprintf(stderr, "test-child: unknown mode\n");
        return 2;
}

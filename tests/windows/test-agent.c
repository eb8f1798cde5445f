/* SPDX-License-Identifier: MIT */
/*
 * A small agent for the Windows tests, in C against docs/protocol.md, which
 * can also break the protocol on purpose (the Go agent's own test is
 * test-govern --go). It speaks on the pipe handle in MEMGOV_FD:
 *   follow TOTAL_MB   hello, stats (total_bytes=TOTAL_MB MiB) every 200 ms,
 *                     applied for every target; prints what memgov sends;
 *                     after 3 s exits 0 if a target came, else 14
 *   malformed LINE    hello, then LINE; exits 0 once memgov closed the
 *                     channel (within 8 s), else 13
 *   partial LINE      the same, without LINE's newline (memgov gives a
 *                     started line 5 s)
 *   leave MS          hello, wait for welcome, close the handle, sleep MS, exit 0
 * 10: no MEMGOV_FD, 11: the channel failed while it should not have.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

static HANDLE h;
static char in[8192];
static size_t in_len;

static bool say(const char *line)
{
        DWORD n;

        return WriteFile(h, line, (DWORD)strlen(line), &n, NULL) && n == strlen(line);
}

/* Reads what is waiting, without blocking: 1 when something came, 0 when nothing, -1 once the pipe is gone.
 */
static int pull(void)
{
        DWORD avail = 0, n;

        if (!PeekNamedPipe(h, NULL, 0, NULL, &avail, NULL))
                return -1;
        if (avail == 0)
                return 0;
        if (avail > sizeof(in) - 1 - in_len)
                avail = (DWORD)(sizeof(in) - 1 - in_len);
        if (!ReadFile(h, in + in_len, avail, &n, NULL))
                return -1;
        in_len += n;
        in[in_len] = '\0';
        return 1;
}

/* The next complete line from what was pulled, copied to line without its newline. */
static bool next_line(char *line, size_t size)
{
        char *nl = memchr(in, '\n', in_len);
        size_t len;

        if (!nl)
                return false;
        len = (size_t)(nl - in);
        snprintf(line, size, "%.*s", (int)len, in);
        memmove(in, nl + 1, in_len - len - 1);
        in_len -= len + 1;
        in[in_len] = '\0';
        return true;
}

static bool hello(void)
{
        char line[160];

        snprintf(line, sizeof(line),
                 "hello v=1 runtime=c version=test-agent pid=%lu caps=limit,gc,release,shed,stats\n",
                 GetCurrentProcessId());
        return say(line);
}

static int follow(uint64_t total_mb)
{
        uint64_t end = GetTickCount64() + 3000, next_stats = 0;
        unsigned targets = 0;
        char line[4200], reply[128];

        if (!hello())
                return 11;
        while (GetTickCount64() < end) {
                if (GetTickCount64() >= next_stats) {
                        snprintf(reply, sizeof(reply),
                                 "stats total_bytes=%" PRIu64 " heap_live_bytes=%" PRIu64 "\n",
                                 total_mb << 20, total_mb << 19);
                        if (!say(reply))
                                return 11;
                        next_stats = GetTickCount64() + 200;
                }
                if (pull() < 0)
                        return 11;
                while (next_line(line, sizeof(line))) {
                        uint64_t seq, bytes;
                        char limit[32];

                        printf("test-agent got: %s\n", line);
                        fflush(stdout);
                        if (sscanf(line, "target seq=%" SCNu64 " bytes=%31s", &seq, limit) != 2)
                                continue;
                        targets++;
                        bytes = strcmp(limit, "max") == 0 ? 0 : strtoull(limit, NULL, 10);
                        if (bytes)
                                snprintf(reply, sizeof(reply),
                                         "applied seq=%" PRIu64 " limit_bytes=%" PRIu64 "\n", seq, bytes);
                        else
                                snprintf(reply, sizeof(reply), "applied seq=%" PRIu64 " limit_bytes=max\n",
                                         seq);
                        if (!say(reply))
                                return 11;
                }
                Sleep(20);
        }
        return targets > 0 ? 0 : 14;
}

static int malformed(const char *text, bool newline)
{
        uint64_t end = GetTickCount64() + 8000;
        char line[8192];

        if (!hello())
                return 11;
        snprintf(line, sizeof(line), "%s%s", text, newline ? "\n" : "");
        if (!say(line))
                return 11;
        /* memgov closes its end: the pipe breaks here, and this program goes on. */
        while (GetTickCount64() < end) {
                if (pull() < 0) {
                        printf("test-agent: memgov closed the channel\n");
                        Sleep(500);
                        return 0;
                }
                Sleep(20);
        }
        return 13;
}

static int leave(DWORD ms)
{
        uint64_t end = GetTickCount64() + 5000;
        char line[4200];

        if (!hello())
                return 11;
        while (GetTickCount64() < end && !next_line(line, sizeof(line))) {
                if (pull() < 0)
                        return 11;
                Sleep(20);
        }
        CloseHandle(h);
        Sleep(ms);
        return 0;
}

int main(int argc, char *argv[])
{
        const char *v = getenv("MEMGOV_FD");

        if (!v)
                return 10;
        h = (HANDLE)(uintptr_t)strtoull(v, NULL, 10);
        if (argc == 3 && strcmp(argv[1], "follow") == 0)
                return follow(strtoull(argv[2], NULL, 10));
        if (argc == 3 && strcmp(argv[1], "malformed") == 0)
                return malformed(argv[2], true);
        if (argc == 3 && strcmp(argv[1], "partial") == 0)
                return malformed(argv[2], false);
        if (argc == 3 && strcmp(argv[1], "leave") == 0)
                return leave((DWORD)atoi(argv[2]));
        fprintf(stderr, "test-agent: unknown mode\n");
        return 2;
}

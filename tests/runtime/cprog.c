/* SPDX-License-Identifier: MIT */
/*
 * A C program that knows nothing of memgov, for the C agent's test (run-runtime.sh): it builds a
 * heap of small blocks, frees it, and waits, so that a preloaded agent has something to release
 * and time to talk. It prints the LD_PRELOAD it was given.
 * Usage: cprog SECONDS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        enum { N = 1024, SIZE = 64 << 10 };
        static void *blocks[N];
        const char *preload = getenv("LD_PRELOAD");
        unsigned seconds = argc > 1 ? (unsigned)atoi(argv[1]) : 0;

        for (size_t i = 0; i < N; i++) {
                blocks[i] = malloc(SIZE);
                if (!blocks[i])
                        return 1;
                memset(blocks[i], 1, SIZE);
        }
        for (size_t i = 0; i < N; i++)
                free(blocks[i]);
        printf("LD_PRELOAD=%s\n", preload ? preload : "(unset)");
        fflush(stdout);
        sleep(seconds);
        printf("done\n");
        return 0;
}

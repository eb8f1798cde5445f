/* SPDX-License-Identifier: MIT */
/*
 * A C program that knows nothing of memgov, for the C agent's test (run-runtime.sh): it builds a
 * heap of small blocks, frees it, and waits, so that a preloaded agent has something to release
 * and time to talk. It prints the LD_PRELOAD it was given and, when it runs on jemalloc (cprog-jemalloc),
 * the options jemalloc took from MALLOC_CONF.
 * Usage: cprog SECONDS
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*MallctlFn)(const char *, void *, size_t *, void *, size_t);

/* jemalloc's effective options, read back: what it made of MALLOC_CONF. */
static void print_jemalloc_options(void)
{
        MallctlFn mallctl = (MallctlFn)dlsym(RTLD_DEFAULT, "mallctl");
        ssize_t dirty = -2, muzzy = -2;
        bool background = false;
        size_t len;

        if (!mallctl)
                return;
        len = sizeof(dirty);
        (void)mallctl("opt.dirty_decay_ms", &dirty, &len, NULL, 0);
        len = sizeof(muzzy);
        (void)mallctl("opt.muzzy_decay_ms", &muzzy, &len, NULL, 0);
        len = sizeof(background);
        (void)mallctl("opt.background_thread", &background, &len, NULL, 0);
        printf("jemalloc: dirty_decay_ms=%zd muzzy_decay_ms=%zd background_thread=%s\n", dirty, muzzy,
               background ? "true" : "false");
}

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
        print_jemalloc_options();
        fflush(stdout);
        sleep(seconds);
        printf("done\n");
        return 0;
}

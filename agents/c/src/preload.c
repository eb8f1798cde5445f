/* SPDX-License-Identifier: MIT */
/*
 * libmemgov-preload.so: the C agent for programs that were not built with it.
 *
 * memgov puts this library in LD_PRELOAD of a dynamically linked glibc or
 * jemalloc program. Its constructor starts the agent thread (agent.c, linked
 * in: this library needs nothing of libmemgov-agent.so at run time) before
 * main() runs, so the program is steered without a line of its code changed:
 * release trims the heap (malloc_trim, or a jemalloc purge), stats report the
 * resident and allocated memory. Only the program can react to shed and
 * target; for that it links libmemgov-agent and registers callbacks.
 *
 * LD_PRELOAD reaches every program the child starts, so the agent starts only
 * in the program memgov meant: MEMGOV_PRELOAD_EXE names its executable, and a
 * process whose /proc/self/exe is another file (the shell that wraps it, a
 * helper it runs) does nothing. Without MEMGOV_FD or MEMGOV_SOCKET (not under
 * memgov) it does nothing either.
 *
 * Statically linked programs never load it: the kernel starts them without
 * the dynamic loader that reads LD_PRELOAD. memgov detects them and says so.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memgov-agent.h"

static int is_meant_for_us(void)
{
        const char *want = getenv("MEMGOV_PRELOAD_EXE");
        char self[PATH_MAX];

        if (!want || !*want)
                return 1;
        if (!realpath("/proc/self/exe", self))
                return 0;
        return strcmp(self, want) == 0;
}

__attribute__((constructor)) static void memgov_preload_start(void)
{
        MemgovAgentOptions o = MEMGOV_AGENT_OPTIONS_INIT;
        int r;

        if (!is_meant_for_us())
                return;
        o.runtime_version = "libmemgov-preload-" MEMGOV_VERSION;
        r = memgov_agent_start(&o);
        if (r < 0 && r != -EALREADY)
                fprintf(stderr, "libmemgov-preload: the memgov agent did not start: %s\n", strerror(-r));
}

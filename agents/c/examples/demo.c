/* SPDX-License-Identifier: MIT */
/*
 * memgov-agent-demo-c: the smallest C program under memgov. It starts the
 * agent, reports the callbacks on standard output ("event shed
 * level=critical") for the conformance driver, and runs until SIGTERM or
 * SIGINT.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memgov-agent.h"

static const char *level_name(MemgovLevel l)
{
        return l == MEMGOV_LEVEL_CRITICAL ? "critical" : l == MEMGOV_LEVEL_ELEVATED ? "elevated" : "ok";
}

static void on_target(uint64_t bytes, MemgovLevel level, void *userdata)
{
        if (bytes == MEMGOV_LIMIT_NONE)
                printf("event target bytes=max level=%s\n", level_name(level));
        else
                printf("event target bytes=%" PRIu64 " level=%s\n", bytes, level_name(level));
}

static void on_shed(MemgovLevel level, void *userdata)
{
        printf("event shed level=%s\n", level_name(level));
}

int main(void)
{
        sigset_t set;
        int sig = 0, r;
        char *garbage;

        setvbuf(stdout, NULL, _IOLBF, 0);
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        /* Blocked before the agent's thread starts, so it inherits the mask and sigwait() gets them. */
        pthread_sigmask(SIG_BLOCK, &set, NULL);

        memgov_agent_on_target(on_target, NULL);
        memgov_agent_on_shed(on_shed, NULL);
        r = memgov_agent_start(NULL);
        if (r < 0) {
                fprintf(stderr, "memgov_agent_start: %s\n", strerror(-r));
                return 1;
        }
        /* Something for release to give back. */
        garbage = malloc(32 << 20);
        if (garbage)
                memset(garbage, 1, 32 << 20);
        free(garbage);
        printf("ready agent=%s\n", r > 0 ? "running" : "off");

        sigwait(&set, &sig);
        memgov_agent_stop();
        return 0;
}

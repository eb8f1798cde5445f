/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * libmemgov-agent: lets memgov (https://memgov.dev) steer a C or C++ program's memory.
 *
 * memgov runs the program in a cgroup with a memory budget and talks to it
 * over a socket (docs/protocol.md): MEMGOV_FD names an inherited, connected
 * socket, MEMGOV_SOCKET a path to connect to. memgov_agent_start() starts a
 * background thread that speaks the protocol:
 *
 *   target   the program's share of the budget and a pressure level: the
 *            target callbacks are called, so caches can size themselves
 *   release  free memory goes back to the OS: malloc_trim(0) under glibc,
 *            or a purge of all arenas when jemalloc is the allocator
 *   gc       a C program has no collector: treated as release
 *   shed     the shed callbacks are called with a level (ok, elevated,
 *            critical), like Android's onTrimMemory, for servers
 *   stats    resident memory (/proc/self/statm), allocated heap
 *            (mallinfo2, or jemalloc's stats.allocated), release count
 *
 * Callbacks run on the agent's thread: return quickly, and synchronise with
 * the rest of the program. The functions here are thread-safe.
 */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum MemgovLevel {
        MEMGOV_LEVEL_OK = 0,       /* no pressure */
        MEMGOV_LEVEL_ELEVATED = 1, /* near the budget: caches should stop growing */
        MEMGOV_LEVEL_CRITICAL = 2, /* at the limit: drop what can be rebuilt */
} MemgovLevel;

#define MEMGOV_LIMIT_NONE UINT64_MAX /* a target of "no limit" */

typedef void (*MemgovTargetCallback)(uint64_t target_bytes, MemgovLevel level, void *userdata);
typedef void (*MemgovShedCallback)(MemgovLevel level, void *userdata);

/*
 * The options grow at the end, and size says how much of them the caller knows, as in Linux's
 * struct sched_attr and struct clone_args: a program built with an older header passes a smaller
 * size and gets the defaults for the rest; one built with a newer header may pass a larger size
 * as long as the fields this library does not know are zero (else -E2BIG). Start from
 * MEMGOV_AGENT_OPTIONS_INIT, which sets size and fd = -1:
 *
 *     MemgovAgentOptions o = MEMGOV_AGENT_OPTIONS_INIT;
 *     o.runtime_version = "myserver-2.3";
 *     r = memgov_agent_start(&o);
 *
 * size 0 is a caller written before size existed (designated initializers that leave it zero):
 * its fields are read as they were then, fd <= 0 meaning "from the environment".
 */
typedef struct MemgovAgentOptions {
        uint32_t size;               /* sizeof(MemgovAgentOptions) as the caller was built */
        int fd;                      /* a connected socket to memgov (0 is one); -1: from the environment */
        const char *socket_path;     /* when fd is -1 and MEMGOV_FD is unset; NULL: MEMGOV_SOCKET */
        const char *runtime_version; /* version= in hello; NULL: "libmemgov-agent-<version>" */
        unsigned stats_interval_ms;  /* 0: MEMGOV_STATS_INTERVAL, else 1000 */
        int no_periodic_stats;       /* nonzero: stats only when memgov asks */
} MemgovAgentOptions;

/* Positional, so C++ before C++20 can use it too. */
#define MEMGOV_AGENT_OPTIONS_INIT                                    \
        {                                                            \
                (uint32_t)sizeof(MemgovAgentOptions), -1, 0, 0, 0, 0 \
        }

/*
 * Starts the agent thread. o may be NULL (everything from the environment).
 * Returns 1 when started, 0 when there is nothing to talk to (neither
 * MEMGOV_FD nor MEMGOV_SOCKET set: not running under memgov), or a negative
 * errno: -EALREADY when running, -EBADF when MEMGOV_FD is not a stream socket
 * or fd is below -1, -EINVAL when size is too small to hold fd and the fields
 * after it, -E2BIG when it is larger than this library knows and the part it
 * does not know is not zero.
 * An inherited MEMGOV_FD is taken over: set close-on-exec and removed from the
 * environment. With a path socket, a lost connection is retried with backoff.
 */
int memgov_agent_start(const MemgovAgentOptions *o);

/* Says bye, stops the thread and closes the connection. Safe to call when not running. */
void memgov_agent_stop(void);

/* Registers a callback (up to 8 of each kind; -ENOSPC beyond). May be called before start. */
int memgov_agent_on_target(MemgovTargetCallback cb, void *userdata);
int memgov_agent_on_shed(MemgovShedCallback cb, void *userdata);

#ifdef __cplusplus
}
#endif

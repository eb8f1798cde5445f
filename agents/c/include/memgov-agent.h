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

typedef struct MemgovAgentOptions {
        int fd;                      /* a connected stream socket to memgov; <= 0: from the environment */
        const char *socket_path;     /* when fd <= 0 and MEMGOV_FD is unset; NULL: MEMGOV_SOCKET */
        const char *runtime_version; /* version= in hello; NULL: "libmemgov-agent-<version>" */
        unsigned stats_interval_ms;  /* 0: MEMGOV_STATS_INTERVAL, else 1000 */
        int no_periodic_stats;       /* nonzero: stats only when memgov asks */
} MemgovAgentOptions;

/*
 * Starts the agent thread. o may be NULL (everything from the environment).
 * Returns 1 when started, 0 when there is nothing to talk to (neither
 * MEMGOV_FD nor MEMGOV_SOCKET set: not running under memgov), or a negative
 * errno: -EALREADY when running, -EBADF when MEMGOV_FD is not a stream socket.
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

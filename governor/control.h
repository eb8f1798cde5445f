/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The control channel: memgov's side of the protocol in docs/protocol.md,
 * living in an sd-event loop. It hands the child one end of a socketpair
 * (MEMGOV_FD) and may also listen on a path socket (MEMGOV_SOCKET); every
 * agent that says hello gets its share of the target.
 *
 * Every connection is bounded (docs/protocol.md, "Limits"): one line of input
 * buffered, a capped output queue, a message rate, timeouts for a missing
 * hello, a trickled line and a peer that stops reading. A peer that breaks
 * the protocol or a limit is closed with one log line; nothing it does
 * reaches other connections or the child.
 *
 * Callbacks run from the event loop only, never from inside a control_server_*()
 * call, so they may call back into the server. The AgentReport they get is
 * valid for the duration of the callback.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "../platform/platform.h"
#include "../policy/agent-report.h"
#include "../policy/proto.h"
#include "../policy/units.h"

typedef struct ControlServer ControlServer;

typedef struct ControlCallbacks {
        void (*on_hello)(const AgentReport *a, void *userdata);
        void (*on_stats)(const AgentReport *a, void *userdata);
        void (*on_applied)(const AgentReport *a, uint64_t seq, void *userdata);
        /* A captured answer (docs/protocol.md, "Captures"); c's strings live for the callback only. */
        void (*on_captured)(const AgentReport *a, const ProtoCaptured *c, void *userdata);
        /* A gc-cycle sample of the runtime's GC counters. */
        void (*on_gc_cycle)(const AgentReport *a, const ProtoGcCycle *g, void *userdata);
        /* The agent said bye, closed, or was closed; reason is for a log line. */
        void (*on_gone)(const AgentReport *a, const char *reason, void *userdata);
        /* The group's charge now, read as a stats message arrives (AgentReport.charged_at_stats_bytes); 0:
         * unknown. */
        uint64_t (*charged_now)(void *userdata);
        void *userdata;
} ControlCallbacks;

/* Per-connection limits. control_server_new() starts with CONTROL_LIMITS_DEFAULT. */
typedef struct ControlLimits {
        usec_t hello_timeout_usec; /* path-socket peers must say hello within this */
        usec_t line_timeout_usec;  /* a started line must be complete within this */
        usec_t output_stall_usec;  /* queued output with no byte taken for this long: closed */
        size_t max_output_bytes;   /* queued output beyond this: closed */
        unsigned max_connections;  /* further connections are closed at accept */
        unsigned rate_per_sec;     /* messages read per second per connection ... */
        unsigned rate_burst;       /* ... with bursts up to this; above it reading pauses */
        usec_t stats_answer_usec;  /* a stats? unanswered this long is asked again */
} ControlLimits;

#define CONTROL_LIMITS_DEFAULT                          \
        ((ControlLimits){                               \
                .hello_timeout_usec = 5 * USEC_PER_SEC, \
                .line_timeout_usec = 5 * USEC_PER_SEC,  \
                .output_stall_usec = 10 * USEC_PER_SEC, \
                .max_output_bytes = 64 * 1024,          \
                .max_connections = 64,                  \
                .rate_per_sec = 200,                    \
                .rate_burst = 400,                      \
                .stats_answer_usec = 1 * USEC_PER_SEC,  \
        })

/*
 * sandbox: path-socket peers must run in it or below it (platform_sandbox_has_pid()); it outlives the
 * server. NULL: no such check (tests). cb may be NULL.
 */
int control_server_new(sd_event *e, const PlatformSandbox *sandbox, const ControlCallbacks *cb,
                       ControlServer **ret);
/* Closes every connection without calling back. Not from inside a callback. */
ControlServer *control_server_free(ControlServer *s);

/* Only for tests and tuning; call before connections arrive (max_connections cannot shrink below them). */
void control_server_set_limits(ControlServer *s, const ControlLimits *l);

/*
 * Creates the socketpair for the next child. *ret_child_fd is the child's end,
 * close-on-exec (spawn keeps it for the child: pass it in keep_fds and set
 * MEMGOV_FD=<fd> in the child's environment). After the spawn, call
 * control_server_child_started(), which closes memgov's copy of the child's
 * end so that the child's exit is seen as end-of-file. -EBUSY while a previous
 * child end is still open.
 */
int control_server_prepare_child_fd(ControlServer *s, int *ret_child_fd);
void control_server_child_started(ControlServer *s);

/*
 * Listens on <dir>/<memgov pid>.sock. dir NULL: /run/memgov as root, else
 * $XDG_RUNTIME_DIR/memgov (-ENXIO when that is unset). The directory is
 * created 0700; an existing one must be ours and not accessible to group or
 * others (-EPERM). *ret_socket_path (malloc'd) goes into MEMGOV_SOCKET. The
 * socket file is removed by control_server_free().
 */
int control_server_listen(ControlServer *s, const char *dir, char **ret_socket_path);

/*
 * Sets the budget for all agents together (PROTO_LIMIT_NONE: no limit) and the
 * pressure level. It is remembered: each agent gets its share now and after
 * every change of the agents (a new or reconnecting agent right after its
 * welcome); an agent whose share and level did not change is not sent anything.
 * Returns the number of agents a target was sent to, or -EINVAL.
 */
int control_server_set_target(ControlServer *s, uint64_t total_target_bytes, ProtoLevel level);

/*
 * Sends gc, release, shed (with level) or stats? to every agent. An agent that
 * has not yet answered an earlier stats? (with any stats line) is not asked
 * again until stats_answer_usec has passed: its answer will be the fresher.
 * Returns the number of agents it was sent to, or -EINVAL.
 */
int control_server_request(ControlServer *s, ProtoRequest what, ProtoLevel level);

/* True while an agent owes the answer to a stats? sent less than stats_answer_usec ago. */
bool control_server_stats_awaited(ControlServer *s);

/*
 * Asks agent agent_id for a capture of kind to path. Returns the message's seq (> 0), -ENOENT when
 * there is no such agent, -EOPNOTSUPP when it did not offer "capture", -EINVAL for a kind or path
 * the protocol refuses.
 */
int64_t control_server_capture(ControlServer *s, unsigned agent_id, const char *kind, const char *path);
/* Arms agent agent_id to capture kind to path by itself once its live heap is above heap_live_above_bytes
 * after a GC (docs/protocol.md, "Armed captures"), replacing an earlier arm; disarm removes it. Return
 * values as control_server_capture's; -EOPNOTSUPP when the agent did not offer "arm". */
int64_t control_server_arm(ControlServer *s, unsigned agent_id, const char *kind,
                           uint64_t heap_live_above_bytes, const char *path);
int64_t control_server_disarm(ControlServer *s, unsigned agent_id);
/* The seq the next message will carry: capture files are named after it. */
uint64_t control_server_next_seq(const ControlServer *s);

/* The agents that said hello. The array is valid until the next call on the server or loop iteration. */
size_t control_server_agents(ControlServer *s, const AgentReport **ret_array);

/* Bytes held for all connections, input and output (for tests and diagnostics). */
size_t control_server_buffered_bytes(const ControlServer *s);

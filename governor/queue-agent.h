/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * memgov's side of the control protocol (docs/protocol.md) for the queue
 * supervisor (run-queue.c, Windows): one agent, the child, on the channel
 * platform_channel_open() makes, whose news arrives as PLATFORM_EVENT_CHANNEL
 * from platform_sandbox_next_event(). The checks of each message are
 * policy/agent-report.c's, the same as governor/control.c's on Linux; the log
 * lines are agent-log.c's. A malformed line or a broken limit closes the
 * channel with one log line; the child runs on and the job's limits hold.
 */

#include <stdbool.h>
#include <stdint.h>

#include "../platform/queue.h"
#include "../policy/agent-report.h"
#include "../policy/proto.h"

typedef struct QueueAgent QueueAgent;

/* Opens the channel for the child about to be spawned in s. *ret_child_handle goes into keep_fds, and as
 * MEMGOV_FD=<value> into the child's environment. */
int queue_agent_new(PlatformSandbox *s, QueueAgent **ret, int *ret_child_handle);
/* After the spawn (closes memgov's copy of the child's end), or after a failed one. */
void queue_agent_child_started(QueueAgent *a);

/* Handles what arrived and checks the channel's time limits; call on PLATFORM_EVENT_CHANNEL and on every
 * turn of the loop. Returns true when the agent has just said hello (the caller steps the law). */
bool queue_agent_process(QueueAgent *a, usec_t now_usec);

/* The budget and level for the agent (PROTO_LIMIT_NONE: no limit); remembered, and sent after its hello
 * when it has not said hello yet. Sent only when it changed. */
void queue_agent_set_target(QueueAgent *a, uint64_t bytes, ProtoLevel level, usec_t now_usec);
/* gc, release, shed or stats?, once the agent said hello; else nothing. */
void queue_agent_request(QueueAgent *a, ProtoRequest what, ProtoLevel level);

/* The agent's last stats into the law's sample (none before its first, nor after it went away). */
void queue_agent_sample(const QueueAgent *a, PolicySample *ps);

/* NULL-safe. Before the sandbox the channel belongs to. */
QueueAgent *queue_agent_free(QueueAgent *a);

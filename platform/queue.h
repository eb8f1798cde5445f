/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The Windows backend's events and control channel, beside platform/platform.h: there a Job Object's
 * notifications arrive on one completion port rather than on pollable descriptors, so its supervisor loop
 * (governor/run-queue.c) and agent (governor/queue-agent.c) wait here instead of in sd-event. Only the
 * Windows backend implements this header; the Linux one offers the descriptors of platform.h instead.
 */

#include "platform.h"

typedef enum PlatformEventKind {
        PLATFORM_EVENT_TIMEOUT,      /* nothing happened within the timeout */
        PLATFORM_EVENT_NEW_PROCESS,  /* a process joined the sandbox */
        PLATFORM_EVENT_EXIT_PROCESS, /* a process in the sandbox exited (also abnormally) */
        PLATFORM_EVENT_EMPTY,        /* the last process in the sandbox exited */
        PLATFORM_EVENT_MEMORY_MAX,   /* an allocation was refused at the hard limit (sandbox or process) */
        PLATFORM_EVENT_MEMORY_HIGH,  /* usage crossed the notification-only limit */
        PLATFORM_EVENT_INTERRUPT,    /* the user asked memgov to stop (Ctrl-C, Ctrl-Break, console closed) */
        PLATFORM_EVENT_CHANNEL,      /* the control channel has bytes to read, or was closed */
        _PLATFORM_EVENT_MAX,
} PlatformEventKind;

typedef struct PlatformEvent {
        PlatformEventKind kind;
        uint32_t pid; /* the process concerned, or 0 */
} PlatformEvent;

const char *platform_event_to_string(PlatformEventKind k);

/* Waits up to timeout_usec for the next event; PLATFORM_EVENT_TIMEOUT when none came. */
int platform_sandbox_next_event(PlatformSandbox *s, uint64_t timeout_usec, PlatformEvent *ret);

/* The exit code of the child spawned into s, once it has exited; -EAGAIN while it runs. */
int platform_child_exit_status(PlatformSandbox *s, const PlatformChild *c, int *ret);

/*
 * The control channel to the child, where a descriptor cannot simply be
 * inherited as on Linux (governor/control.c makes a socketpair there). On
 * Windows: a named pipe with one instance, local clients only and the default
 * DACL of memgov's user, whose client end is connected before the child
 * starts, so nobody else can reach it; the child inherits that end. Pass
 * *ret_child_handle in keep_fds to platform_sandbox_spawn() and name it in the
 * child's environment as MEMGOV_FD=<value> (on Windows a handle's value, docs/protocol.md). What arrives is
 * announced by PLATFORM_EVENT_CHANNEL; writes are queued (at most 64 KiB) and sent while
 * platform_sandbox_next_event() waits. governor/queue-agent.c speaks the protocol on it.
 */
typedef struct PlatformChannel PlatformChannel;

int platform_channel_open(PlatformSandbox *s, PlatformChannel **ret, int *ret_child_handle);
/* For messages: the pipe's name. */
const char *platform_channel_name(const PlatformChannel *c);
/* After the spawn: memgov's copy of the child's end is closed, so the child's exit closes the channel. */
void platform_channel_child_started(PlatformChannel *c);
/* Copies received bytes: the count, 0 when none are waiting, -EPIPE once the child's end is closed. */
int platform_channel_read(PlatformChannel *c, void *buf, size_t size);
/* Queues data: -ENOBUFS when more than 64 KiB would wait, -EPIPE once closed. */
int platform_channel_write(PlatformChannel *c, const void *data, size_t size);
/* Before the sandbox it belongs to. */
PlatformChannel *platform_channel_free(PlatformChannel *c);

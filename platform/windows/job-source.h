/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Where the Job Object's news comes from: its notifications (the completion
 * port) and its accounting (QueryInformationJobObject and the processes'
 * commit charge). Behind this small table so that tests can put a fake in
 * front of the real one: Wine accepts memory limits but never enforces them,
 * so the "limit hit" messages and a usage near the limit can only be staged
 * (tests/windows/fake-source.c).
 */

#include <stdbool.h>
#include <stdint.h>
#include <windows.h>

#include "../queue.h"

typedef struct JobAccounting {
        uint64_t current_bytes; /* the commit charge of every process in the job, summed */
        uint64_t peak_bytes;    /* PeakJobMemoryUsed; PLATFORM_UNLIMITED when not tracked */
        uint32_t active_processes;
} JobAccounting;

typedef struct JobSource JobSource;
struct JobSource {
        /* The next message, translated; PLATFORM_EVENT_TIMEOUT after timeout_ms without one. Messages that
         * memgov has no use for come out as PLATFORM_EVENT_TIMEOUT too, at once. */
        int (*next_event)(JobSource *src, uint32_t timeout_ms, PlatformEvent *ret);
        int (*accounting)(JobSource *src, JobAccounting *ret);
        void (*free)(JobSource *src);
};

/* The completion key of memgov's own messages (Ctrl-C) on the port, next to the job's. */
#define JOB_SOURCE_KEY_JOB       ((ULONG_PTR)1)
#define JOB_SOURCE_KEY_INTERRUPT ((ULONG_PTR)2)
#define JOB_SOURCE_KEY_CHANNEL   ((ULONG_PTR)3)

/* The control channel's I/O completions (key JOB_SOURCE_KEY_CHANNEL) go to this handler, which says what
 * the loop should see (PLATFORM_EVENT_CHANNEL, or PLATFORM_EVENT_TIMEOUT for nothing). */
typedef void (*JobSourceChannelHandler)(void *userdata, OVERLAPPED *ov, DWORD bytes, bool ok,
                                        PlatformEvent *ret);
/* On the real source (job_source_new_port's) only; NULL handler: completions are dropped. */
void job_source_port_set_channel(JobSource *port_source, JobSourceChannelHandler handler, void *userdata);

/* The real source: messages from port (associated with job under JOB_SOURCE_KEY_JOB), accounting from
 * job. Neither handle is owned. */
int job_source_new_port(HANDLE job, HANDLE port, JobSource **ret);

/* For tests: each new sandbox's source is passed through wrap, which returns the source to use (taking
 * ownership of real). NULL restores the default. */
typedef JobSource *(*JobSourceWrap)(JobSource *real, void *userdata);
void job_source_set_wrap(JobSourceWrap wrap, void *userdata);
JobSource *job_source_wrap(JobSource *real);

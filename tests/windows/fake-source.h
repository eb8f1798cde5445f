/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A notification source for tests, put in front of the real one
 * (job_source_set_wrap): it delivers a script of job messages before the
 * real port's, and can report a commit charge of its choosing. This is how
 * the enforcement logic is driven under Wine, which never sends the memory
 * limit messages and never enforces a limit.
 */

#include <stdbool.h>
#include <stddef.h>

#include "../../platform/windows/job-source.h"

typedef struct FakeScript {
        PlatformEvent events[8]; /* delivered first, one per call, after delay_ms each */
        size_t n_events;
        uint32_t delay_ms;
        /* While a scripted event waits out its delay, the real source's events go through (the control
         * channel's, say) instead of the loop sleeping. */
        bool real_while_waiting;
        bool override_current; /* report current_bytes instead of the real commit charge */
        uint64_t current_bytes;
        /* What the fake saw. */
        size_t delivered;
        unsigned accounting_calls;
} FakeScript;

/* Installs the fake for the next sandboxes, driven by script (which must outlive them). NULL removes it. */
void fake_source_install(FakeScript *script);

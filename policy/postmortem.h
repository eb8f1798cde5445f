/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The compact report memgov prints when the child died by OOM or the law gave
 * up ("cannot fit"): the limits, the peak, what filled the group, the last
 * pressure and target, the agent's last word, and what to change. Pure: the
 * governor fills the struct, this writes the text.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "law.h"
#include "sandbox-names.h"

#define POSTMORTEM_GC_MAX       12
#define POSTMORTEM_CAPTURES_MAX 4

typedef struct PostmortemCapture {
        const char *path;
        CaptureFormat format;
        CaptureWhy why;
        uint64_t bytes;
        const char *error; /* the agent's, when it failed; NULL: written */
} PostmortemCapture;

typedef struct Postmortem {
        const char *what;                           /* the program, e.g. argv[0] */
        const char *cause;                          /* "was OOM-killed", "cannot fit" */
        SandboxNames names;                         /* what the limits are called, to raise them */
        uint64_t max_bytes, high_bytes, peak_bytes; /* peak: UINT64_MAX when unknown */
        /* The last sample taken while the program ran (after an OOM kill the group is empty). */
        bool have_sample;
        uint64_t sample_age_usec;
        uint64_t current_bytes, anon_bytes, file_bytes, shmem_bytes, kernel_bytes;
        uint32_t psi_some_avg10_permyriad, psi_full_avg10_permyriad;
        bool psi_system_wide; /* the host's pressure reading (cgroup v1), not the group's */
        uint64_t events_high, events_max, events_oom_kill;
        /* The law's last decision. */
        bool have_decision;
        uint64_t target_bytes; /* POLICY_TARGET_NONE: none */
        PolicyLevel level;
        PolicyRule rule;
        /* The agents' last stats, summed. */
        bool have_agent;
        uint64_t runtime_total_bytes, heap_live_bytes;
        uint32_t gc_cpu_permyriad;
        /* The Go agent's GC trace over the last minutes, oldest first; now_usec on the same clock. */
        size_t n_gc;
        GcCycle gc[POSTMORTEM_GC_MAX];
        uint64_t now_usec;
        /* The heap captures of this run, newest last, and why the last one wanted was not taken. */
        size_t n_captures;
        PostmortemCapture captures[POSTMORTEM_CAPTURES_MAX];
        const char *capture_refused; /* a capture_decision_format() line, or NULL */
} Postmortem;

#define POSTMORTEM_STRLEN 8192

/* The smallest hard limit the evidence supports, or 0 when it supports none:
 * the live heap plus what the runtime does not see plus a 10% margin, or else
 * the peak plus 10%. */
uint64_t postmortem_suggested_max(const Postmortem *p);

/* The report: several lines, each without a trailing newline except between them. Returns buf. */
const char *postmortem_format(const Postmortem *p, char *buf, size_t size);

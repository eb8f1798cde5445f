/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * One step of the closed loop, the same in both supervisors (govern.c on sd-event, run-queue.c on a
 * Job Object's queue): sample the sandbox, add what the agents last said, ask the law
 * (policy/law.h), then log and trace the decision, and say when the next sample is due
 * (policy/pace.h). Acting on the decision is the caller's: the channels to the agents and the
 * actuators differ.
 */

#include <stdbool.h>
#include <stdint.h>

#include "../platform/platform.h"
#include "../policy/law.h"
#include "../policy/pace.h"
#include "../policy/postmortem.h"
#include "trace.h"

typedef struct Stepper {
        PolicyConfig config;
        PolicyState state;
        PaceConfig pace_config;
        PaceState pace;
        PlatformSandbox *sandbox; /* not owned */
        const char *program;      /* for the trace's start line */
        Trace *trace;             /* --trace, or NULL; not owned */
        usec_t start_usec;        /* monotonic, the trace's zero */
        bool fired[2];            /* a PSI trigger fired since the last sample (PlatformPressure) */
        /* The last sample and decision: the post-mortem, the metrics and the pace read them. */
        bool have_last;
        PolicySample last_sample;
        PlatformSample last_platform; /* the same sample as the sandbox reported it (limits, peak) */
        PolicyDecision last_decision;
        uint64_t steps_total;
        uint64_t glances_total; /* wake-ups that found nothing new (stepper_glance()) */
        uint64_t decisions_total[_POLICY_ACTION_COUNT];
        usec_t next_usec; /* when the next sample is due, after the last step */
        /* The last look at the charge, a step's or a glance's, and whether the charge grew fast since the
         * look before it (pace_growing()): a growing look is news for the faults' backoff. */
        usec_t look_usec;
        uint64_t look_bytes;
        bool look_growing;
} Stepper;

/* Fills the agent fields of a sample (agent_reports_sample()). */
typedef void (*stepper_agents_t)(void *userdata, PolicySample *ps);

void stepper_init(Stepper *st, PlatformSandbox *s, const PolicyConfig *c, const PaceConfig *pace,
                  const char *program, Trace *trace, usec_t start_usec);

/* Samples at now_usec (CLOCK_MONOTONIC), decides, and sets next_usec. why names what woke the step (on=).
 * A negative errno when the sandbox could not be sampled: nothing was decided, and the next sample is due
 * at the slowest pace. The decision is not logged or traced yet: see stepper_record(). */
int stepper_step(Stepper *st, usec_t now_usec, const char *why, stepper_agents_t agents, void *userdata,
                 PolicyDecision *ret);

/* Traces the step's sample and logs its decision. The caller tells the agents first: the trace and the log
 * are file writes (a trace on a slow disk took 1-7 ms a step in the VM), and the agents act meanwhile. */
void stepper_record(Stepper *st, const PolicyDecision *d, const char *why);

/* A look at the charge alone, for a wake-up that may bring no news (the pace's timer, an agent's routine
 * report, a page fault): true when the law may skip it (policy_may_skip()), the agents' figures are within
 * the still band of the last full sample's (policy_agents_still()) and so is the charge (pace_still()). Then
 * nothing is decided or logged, next_usec is set, and the caller skips stepper_step(). False: step. */
bool stepper_glance(Stepper *st, usec_t now_usec, stepper_agents_t agents, void *userdata);

/* The post-mortem's view of the last sample and decision (nothing when there was none), at now_usec. */
void stepper_fill_postmortem(const Stepper *st, usec_t now_usec, Postmortem *p);
/* Formats the post-mortem and logs it line by line, at error level. */
void postmortem_log(const Postmortem *p);

/* What policy/'s texts (the post-mortem, the metrics, the status) call the sandbox's limits and readings:
 * the platform's names for them (platform_name()). */
SandboxNames step_sandbox_names(void);

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What memgov knows of one agent, and the pure steps of its side of the
 * protocol (docs/protocol.md) that do not depend on how the bytes travel:
 * checking hello, stats and applied into the report, an agent's share of the
 * budget, and the reports as the control law's sample sees them. Both
 * supervisors use them: governor/control.c on sd-event (Linux) and
 * governor/queue-agent.c on the Windows channel. No I/O, no clock: the time
 * arrives as an argument.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "law.h"
#include "proto.h"
#include "units.h"

typedef struct AgentReport {
        unsigned id; /* unique per server, from 1; also in the agent's welcome */
        pid_t pid;   /* SO_PEERCRED for a path socket, hello's pid= for the socketpair, 0: unknown */
        char runtime[32];
        char version[64];
        bool can_capture; /* hello's caps= has "capture" */
        bool can_arm;     /* ... and "arm": it captures by itself when the live heap passes a line */
        /* From the last stats message; fields it left out keep their previous value. */
        uint64_t total_bytes, heap_live_bytes, gc_count;
        double gc_cpu_fraction;
        bool have_stats; /* a stats with total_bytes arrived */
        /* The group's charge when that stats arrived, as the governor read it then; 0: not
         * read. Only with it are the runtime's total and the charge a pair from one moment. */
        uint64_t charged_at_stats_bytes;
        /* The share last sent to this agent, and what it acknowledged. */
        uint64_t target_seq, target_bytes; /* target_bytes: PROTO_LIMIT_NONE for "max" */
        usec_t target_sent_usec;           /* CLOCK_MONOTONIC */
        uint64_t last_applied_seq;
        uint64_t applied_limit_bytes; /* as the agent read it back; PROTO_LIMIT_NONE for "max" */
        /* CLOCK_MONOTONIC, for target_seq: when the runtime had it (the agent's at_us=, when it lies
         * between the send and the arrival; else the arrival), and when its applied arrived. */
        usec_t applied_usec, acked_usec;
        bool applied_stamped; /* applied_usec is the agent's own stamp */
} AgentReport;

/*
 * Each returns 0, or -EBADMSG with *reason set (a static string for the log) when the message is malformed;
 * on -EBADMSG the report is unchanged.
 *
 * hello: v= (>= 1) and runtime= are required; *ret_version is the agent's v=. take_pid: whether hello's pid=
 * is believed (not for a path socket, where the kernel says who the peer is). Does not check that this is
 * the first hello: the caller knows.
 */
int agent_report_hello(AgentReport *a, const ProtoMessage *m, bool take_pid, uint64_t *ret_version,
                       const char **reason);
int agent_report_stats(AgentReport *a, const ProtoMessage *m, const char **reason);
/* *ret_seq: the seq acknowledged. now_usec is when it arrived, kept when it acknowledges the last target.
 * at_us= is the agent's CLOCK_MONOTONIC: a clock that is not memgov's (another time namespace, another
 * machine's) shows as a stamp outside that window, and the arrival stands for it. */
int agent_report_applied(AgentReport *a, const ProtoMessage *m, usec_t now_usec, uint64_t *ret_seq,
                         const char **reason);

/* A target with seq and bytes was sent at now_usec. */
void agent_report_target_sent(AgentReport *a, uint64_t seq, uint64_t bytes, usec_t now_usec);

/* Whether an applied with seq acknowledged the last target sent; then *ret_usec is how long the runtime took
 * to have it, and *ret_acked_usec (if not NULL) how long its acknowledgement took to arrive. */
bool agent_report_applied_in(const AgentReport *a, uint64_t seq, usec_t *ret_usec, usec_t *ret_acked_usec);

/* The agent's reported total as a weight for its share: at least 1, capped so that sums cannot overflow. */
uint64_t agent_report_weight(const AgentReport *a);
/* total x weight / sum, rounded down; PROTO_LIMIT_NONE stays "max". */
uint64_t agent_share(uint64_t total_bytes, uint64_t weight, uint64_t weight_sum);

/* Adds the agents' stats to the law's sample: their totals and live heaps summed, the highest GC share. */
void agent_reports_sample(const AgentReport *agents, size_t n, PolicySample *ps);

/*
 * What a decision of the law asks of the agents, the same on every system. Target: whether to set the
 * budget (a lowered or raised target, or a new level), in the protocol's terms (PROTO_LIMIT_NONE for no
 * target). Requests: stats?, gc, release and shed, in that order, those the decision asks for; returns how
 * many.
 */
#define AGENT_REQUESTS_MAX 4
bool agent_decision_target(const PolicyDecision *d, uint64_t *ret_bytes, ProtoLevel *ret_level);
size_t agent_decision_requests(const PolicyDecision *d, ProtoRequest ret[AGENT_REQUESTS_MAX]);

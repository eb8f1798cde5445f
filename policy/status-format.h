/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What `memgov status` shows of one running governor, as JSON (--json; the
 * schema is docs/status.md) or as text. Pure: the governor fills the
 * snapshot, this writes it.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "law.h"
#include "metrics-format.h"

#define STATUS_AGENTS_MAX    8
#define STATUS_DECISIONS_MAX 8

typedef struct StatusAgent {
        unsigned id;
        pid_t pid;
        char runtime[32], version[64];
        bool have_stats;
        uint64_t total_bytes, heap_live_bytes, gc_count;
        uint32_t gc_cpu_permyriad;
        uint64_t target_bytes;        /* UINT64_MAX: none */
        uint64_t applied_limit_bytes; /* UINT64_MAX: none acknowledged */
} StatusAgent;

typedef struct StatusDecision {
        usec_t t_usec; /* since memgov started */
        PolicyRule rule;
        PolicyLevel level;
        unsigned actions;
        uint64_t target_bytes; /* POLICY_TARGET_NONE: none */
} StatusDecision;

typedef struct StatusSnapshot {
        pid_t memgov_pid, child_pid;
        const char *name; /* the group's leaf name */
        usec_t uptime_usec;
        MetricsSnapshot m; /* the same numbers the metrics show */
        size_t n_agents;
        StatusAgent agents[STATUS_AGENTS_MAX];
        size_t n_decisions; /* oldest first */
        StatusDecision decisions[STATUS_DECISIONS_MAX];
} StatusSnapshot;

#define STATUS_STRLEN 8192

/* Return the length, or -ENOBUFS. */
int status_format_json(const StatusSnapshot *s, char *buf, size_t size);
int status_format_text(const StatusSnapshot *s, char *buf, size_t size);

/* SPDX-License-Identifier: MIT */
#include "agent-log.h"

#include <inttypes.h>

#include "log.h"

void agent_log_connected(const AgentReport *a)
{
        log_info("Agent %u connected: %s %s, pid %d.", a->id, a->runtime, a->version, (int)a->pid);
}

void agent_log_applied(const AgentReport *a, uint64_t seq)
{
        char b[UNITS_SIZE_STRLEN];
        usec_t took, acked;

        if (!agent_report_applied_in(a, seq, &took, &acked))
                return;
        units_format_size_human(a->applied_limit_bytes, b, sizeof(b));
        /* Timed by the agent's stamp where it gave one: the acknowledgement also waits for memgov's loop. */
        if (a->applied_stamped)
                log_info("Agent %u applied target %" PRIu64 " (limit %s) in %" PRIu64
                         "us by its clock, acknowledged after %" PRIu64 "us.",
                         a->id, seq, b, (uint64_t)took, (uint64_t)acked);
        else
                log_info("Agent %u applied target %" PRIu64 " (limit %s) in %" PRIu64 "us.", a->id, seq, b,
                         (uint64_t)took);
}

void agent_log_gone(const AgentReport *a, const char *reason, const char *limits)
{
        log_info("Agent %u went away: %s. The %s and the launch-time budget still hold.", a->id, reason,
                 limits);
}

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The log lines about agents, the same words from both supervisors (govern.c
 * on Linux, run-queue.c on Windows): tests and bench/ grep them.
 */

#include <stdint.h>

#include "../policy/agent-report.h"

void agent_log_connected(const AgentReport *a);
/* Only when seq acknowledges the last target sent to a; says how long it took. */
void agent_log_applied(const AgentReport *a, uint64_t seq);
/* limits: what still holds, for people ("cgroup limits", "job's limits"). */
void agent_log_gone(const AgentReport *a, const char *reason, const char *limits);

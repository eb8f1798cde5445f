/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * --trace: one JSON object per line, each with "type" and "t" (seconds since
 * memgov started, monotonic):
 *   start     the program, its cgroup, the limits at launch
 *   sample    what the group and the agents reported at one step, and the target in force after it
 *   decision  a step that did something: the rule, the level, the actions and the law's inputs
 * Sizes are bytes; "max" (no limit, no target, unknown peak) is null. Ratios are 0..1. Pure: the
 * governor passes values, this writes the line (without its newline).
 */

#include <stddef.h>
#include <stdint.h>

#include "law.h"

#define TRACE_LINE_STRLEN 1024

/* t_usec: since start. Returns the length, or -ENOBUFS. */
int trace_format_start(usec_t t_usec, const char *program, const char *cgroup, const MemoryLimits *limits,
                       char *buf, size_t size);
int trace_format_sample(usec_t t_usec, const char *on, const PolicySample *x, uint64_t peak_bytes,
                        const PolicyDecision *d, char *buf, size_t size);
int trace_format_decision(usec_t t_usec, const PolicyDecision *d, char *buf, size_t size);

/* A JSON string's contents: ", \ and control characters escaped. Truncates at size, never mid-escape. */
const char *trace_escape_json(const char *s, char *buf, size_t size);

/* SPDX-License-Identifier: MIT */
#pragma once

/* --trace FILE: samples and decisions as JSON lines (policy/trace-format.h), flushed at every step so a
 * trace survives memgov being killed. */

#include "../policy/trace-format.h"

typedef struct Trace Trace;

/* Creates (truncates) path; logs and fails when it cannot. */
int trace_open(const char *path, Trace **ret);
/* Writes one line; a write error is said once, then ignored. */
void trace_line(Trace *t, const char *line, int len);
void trace_flush(Trace *t);
Trace *trace_close(Trace *t);

/* SPDX-License-Identifier: MIT */
#pragma once

#include "cli.h"

/* `memgov run`: returns the exit status for main(). */
int run_main(const RunOptions *o);

/* The default group name for a command: memgov-<program>-<pid>, sanitized. */
void run_default_name(const char *cmd, const char *pid_text, char *buf, size_t size);

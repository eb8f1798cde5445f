/* SPDX-License-Identifier: MIT */
#pragma once

#include "../platform/platform.h"
#include "cli.h"

/* `memgov run`: returns the exit status for main(). One supervisor per build: run.c or run-queue.c. */
int run_main(const RunOptions *o);

/* What both supervisors start from and end with. */
typedef struct RunState {
        const RunOptions *opts;
        MemoryLimits limits; /* from the options; on Linux a policy reload may change them */
        PlatformChild child;
        int exit_code;        /* for main(): the child's, the law's, or EXIT_MEMGOV_FAILURE */
        int policy_exit_code; /* >= 0 once the law killed the sandbox */
        bool child_exited;
} RunState;

/* Starts a run of o: resolves the limits and finds the program on PATH (*ret_path, malloc'd). 0, or the
 * exit status for main() after saying why. */
int run_state_init(RunState *ret, const RunOptions *o, char **ret_path);
/* The child exited with code: memgov exits with the law's status if the law killed the sandbox, else with
 * the child's. */
void run_state_child_exited(RunState *r, int code);
/* The law asks for the sandbox to be killed, memgov to exit with exit_status: true the first time, when the
 * caller kills; false after. */
bool run_state_policy_kill(RunState *r, int exit_status);

/* The default group name for a command: memgov-<program>-<pid>, sanitized. */
void run_default_name(const char *cmd, const char *pid_text, char *buf, size_t size);

/* Where the program's name starts in cmd: after the last '/', and on Windows after a '\' too. Each
 * supervisor's own (run.c, run-queue.c), so that a '\' in a Linux command stays in the name. */
const char *run_command_basename(const char *cmd);

/* The limits the options ask for: 0, or -EINVAL after saying why (a percentage without --memory-max...). */
int run_resolve_limits(const LimitSpec *spec, MemoryLimits *ret);

/* cmd found on PATH: 0, or the exit status for main() (127 not found, 126 not executable), said. */
int run_resolve_command(const char *cmd, char **ret_path);

/* After platform_sandbox_spawn() failed with error, says why: the exit status for main() (127, 126, or 125
 * when no process could be started in the sandbox). */
int run_spawn_failed(const char *cmd, const char *sandbox_path, const PlatformChild *child, int error);

/* The sandbox to create for o: --name or the default name (written to name), the resolved limits. */
void run_sandbox_options(const RunOptions *o, const MemoryLimits *limits, char *name, size_t name_size,
                         SandboxOptions *ret);

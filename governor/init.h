/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What memgov does so that it can run anywhere: as a container's PID 1, in a
 * group it may not change (observe mode), and so that the child never lives
 * on unmanaged (docs/design.md, "Running anywhere").
 */

#include <stdbool.h>

#include "../platform/platform.h"
#include "cli.h"

/* memgov's own oom_score_adj when it may lower it: well below its child's, short of -1000 (never killed),
 * which would leave the OOM killer nothing to pick in observe mode but the child. */
#define INIT_SELF_OOM_SCORE_ADJ (-900)

/* How many nice levels memgov runs above the program, where it may (CAP_SYS_NICE). */
#define INIT_SELF_NICE_RAISE 10

/* Lowers memgov's own oom_score_adj and raises its CPU priority, and says what the child's are to be (the
 * ones memgov started with, or --oom-score-adj). Returns 0, or -EPERM after logging when the requested
 * value needs a privilege memgov lacks. */
int init_protect(const RunOptions *o, int *ret_child_oom_score_adj, int *ret_child_nice);

/* Becomes an init for the child's tree (PID 1, --init, or observe mode): a subreaper when not PID 1. */
int init_become_reaper(const RunOptions *o, bool observe, bool *ret_init_mode);

/* Removes stale groups, then makes the child's group; in observe mode (asked, or when no group can be made
 * and no limit was asked for) adopts memgov's own group instead. Logs why on failure. */
int init_acquire_sandbox(const RunOptions *o, const SandboxOptions *so, PlatformSandbox **ret,
                         bool *ret_observe);

/* The lines `memgov explain` prints about the above. */
void init_explain(const RunOptions *o);

/* SPDX-License-Identifier: MIT */
#include "init.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../policy/macro.h"
#include "log.h"

/* A control loop that waits for a CPU behind the program it governs reacts late, and a program at its
 * limit is often busiest (its collector runs flat out). In the VM, memgov's loop lost 10-16 ms at a time to
 * the program's threads just after its first target, while the agent's answer waited. The child gets the
 * nice value memgov started with back between fork and exec. Unprivileged, nothing changes. */
static void raise_priority(int *ret_child_nice)
{
        int own = 0, raised, r;

        *ret_child_nice = PLATFORM_NICE_UNSET;
        r = platform_process_get_nice(&own);
        if (r < 0) {
                log_debug_errno(r, "Failed to read memgov's nice value: %m, leaving it.");
                return;
        }
        raised = own - INIT_SELF_NICE_RAISE < -20 ? -20 : own - INIT_SELF_NICE_RAISE;
        if (raised == own)
                return;
        r = platform_process_set_nice(raised);
        if (r < 0) {
                log_debug_errno(r, "Failed to raise memgov's CPU priority to nice %d: %m, ignoring.",
                                raised);
                return;
        }
        log_debug("Raised memgov's CPU priority to nice %d; the program gets the %d memgov started with.",
                  raised, own);
        *ret_child_nice = own;
}

int init_protect(const RunOptions *o, int *ret_child_oom_score_adj, int *ret_child_nice)
{
        int own = 0, lowered, r;

        raise_priority(ret_child_nice);
        r = platform_process_get_oom_score_adj(&own);
        if (r < 0)
                log_debug_errno(r, "Failed to read memgov's oom_score_adj: %m, assuming 0.");
        lowered = own < INIT_SELF_OOM_SCORE_ADJ ? own : INIT_SELF_OOM_SCORE_ADJ;
        r = platform_process_set_oom_score_adj(lowered);
        if (r < 0) {
                /* Unprivileged (no CAP_SYS_RESOURCE): memgov is small, the OOM killer picks the child. */
                log_debug_errno(r, "Failed to lower memgov's own oom_score_adj to %d: %m, ignoring.",
                                lowered);
                lowered = own;
        }
        if (!o->oom_score_adj_set) {
                *ret_child_oom_score_adj = own; /* as it would have been without memgov */
                return 0;
        }
        if (o->oom_score_adj < own && lowered == own) {
                log_error(
                        "--oom-score-adj %d: below the %d memgov was started with; lowering it needs CAP_SYS_RESOURCE (run as root)",
                        o->oom_score_adj, own);
                return -EPERM;
        }
        *ret_child_oom_score_adj = o->oom_score_adj;
        return 0;
}

int init_become_reaper(const RunOptions *o, bool observe, bool *ret_init_mode)
{
        int r;

        /* Observe mode has no group of its own to find descendants in: they must come back to memgov. */
        *ret_init_mode = o->init || observe || platform_process_is_init();
        if (!*ret_init_mode || platform_process_is_init())
                return 0;
        r = platform_process_set_subreaper();
        if (r < 0)
                return log_error_errno(r, "Failed to become a subreaper (PR_SET_CHILD_SUBREAPER): %m");
        return 0;
}

static void cleanup_stale(const SandboxOptions *so)
{
        char **removed = NULL;
        int r;

        r = platform_cleanup_stale(so, &removed);
        if (r < 0) {
                log_debug_errno(r, "Failed to look for stale groups: %m, ignoring.");
                return;
        }
        for (size_t i = 0; removed && removed[i]; i++) {
                log_notice(
                        "Removed stale group %s: the memgov that made it is gone; its processes were killed.",
                        removed[i]);
                free(removed[i]);
        }
        free(removed);
}

static bool limits_asked(const RunOptions *o)
{
        return o->spec.memory_max_bytes != SIZE_MAX_UNLIMITED ||
               o->spec.memory_high_bytes != SIZE_MAX_UNLIMITED || o->spec.memory_high_is_percent ||
               o->spec.swap_max_set || o->parent || o->name;
}

/* Unprivileged: the user's systemd can give us a delegated scope; then the group is made inside it. On
 * failure, err says why in the words of the first attempt and of systemd's. */
static int enter_scope(const RunOptions *o, const SandboxOptions *so, PlatformSandbox **ret,
                       PlatformError *err)
{
        PlatformError serr = {};
        char unit[300], desc[300];
        int r;

        snprintf(unit, sizeof(unit), "%s.scope", so->name);
        snprintf(desc, sizeof(desc), "memgov run %s", o->argv[0]);
        r = platform_scope_enter(unit, so->memory_max_bytes, so->memory_high_bytes, desc, &serr);
        if (r < 0) {
                PlatformError first = *err;

                /* Say both: why no group could be made, and why systemd could not help. */
                snprintf(err->message, sizeof(err->message), "%.200s; no transient scope either: %.250s",
                         first.message, serr.message);
                return r;
        }
        log_info("In transient scope %s (Delegate=yes), from the user's systemd.", unit);
        *err = (PlatformError){};
        return platform_sandbox_create(so, ret, err);
}

int init_acquire_sandbox(const RunOptions *o, const SandboxOptions *so, PlatformSandbox **ret,
                         bool *ret_observe)
{
        PlatformError err = {}, err2 = {};
        int r;

        if (!o->observe) {
                cleanup_stale(so);
                r = platform_sandbox_create(so, ret, &err);
                if (r >= 0) {
                        *ret_observe = false;
                        return 0;
                }
                /* On failure r stays the first error: what decides between observe mode and giving up is
                 * that no group could be made here, not why systemd could not help. */
                if ((r == -EACCES || r == -EPERM) && !o->parent && !platform_process_is_root() &&
                    enter_scope(o, so, ret, &err) >= 0) {
                        *ret_observe = false;
                        return 0;
                }
                /* A container's read-only cgroup tree, a group not delegated to us: observe instead,
                 * unless limits were asked for, which observe mode cannot set. */
                if (limits_asked(o) || !(r == -EACCES || r == -EPERM || r == -EROFS)) {
                        log_error("%s", err.message[0] ? err.message : strerror(-r));
                        return r;
                }
                log_notice(
                        "Cannot make a group for %s (%s); governing in memgov's own group instead (observe mode: its limits are read, not set).",
                        o->argv[0], err.message[0] ? err.message : strerror(-r));
        }
        r = platform_sandbox_observe(so->cgroup_root, ret, &err2);
        if (r < 0) {
                log_error("%s", err2.message[0] ? err2.message : strerror(-r));
                return r;
        }
        *ret_observe = true;
        return 0;
}

void init_explain(const RunOptions *o)
{
        bool pid1 = platform_process_is_init();
        int adj;

        if (platform_process_get_oom_score_adj(&adj) == -EOPNOTSUPP)
                return; /* Windows: a Job Object holds the tree; none of this applies */

        if (o->observe)
                printf("mode:              observe: governs the group memgov runs in; its limits (and its ancestors') are read, none is set\n");
        if (o->init || o->observe || pid1)
                printf("init:              %s: reaps every orphan; after CMD exits, waits the grace period for its descendants, then kills them\n",
                       pid1 ? "PID 1" : "subreaper");
        if (o->oom_score_adj_set)
                printf("oom_score_adj:     %d for CMD; memgov lowers its own to %d where it may\n",
                       o->oom_score_adj, INIT_SELF_OOM_SCORE_ADJ);
        else
                printf("oom_score_adj:     CMD gets the one memgov started with; memgov lowers its own to %d where it may\n",
                       INIT_SELF_OOM_SCORE_ADJ);
        printf("nice:              CMD gets the one memgov started with; memgov runs %d levels above it where it may\n",
               INIT_SELF_NICE_RAISE);
}

/* SPDX-License-Identifier: MIT */
/*
 * The steps of `memgov run` that are the same for both supervisors: run.c
 * (sd-event, Linux) and run-queue.c (an event queue, Windows). Built by both.
 */
#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "../policy/launchenv.h"
#include "log.h"

extern char **environ;

int run_state_init(RunState *ret, const RunOptions *o, char **ret_path)
{
        int r;

        *ret = (RunState){
                .opts = o,
                .child = {.wait_fd = -1},
                .exit_code = EXIT_MEMGOV_FAILURE,
                .policy_exit_code = -1,
        };
        if (run_resolve_limits(&o->spec, &ret->limits) < 0)
                return EXIT_MEMGOV_FAILURE;
        r = run_resolve_command(o->argv[0], ret_path);
        if (r != 0)
                return r;
        return 0;
}

void run_state_child_exited(RunState *r, int code)
{
        r->child_exited = true;
        r->exit_code = r->policy_exit_code >= 0 ? r->policy_exit_code : code;
}

bool run_state_policy_kill(RunState *r, int exit_status)
{
        if (r->policy_exit_code >= 0)
                return false;
        r->policy_exit_code = exit_status;
        return true;
}

int run_resolve_limits(const LimitSpec *spec, MemoryLimits *ret)
{
        LimitError le = limits_resolve(spec, ret);

        if (le != LIMIT_OK) {
                log_error("%s", limit_error_to_string(le));
                return -EINVAL;
        }
        return 0;
}

void run_default_name(const char *cmd, const char *pid_text, char *buf, size_t size)
{
        const char *base = run_command_basename(cmd);
        char clean[65];
        size_t i;

        /* A program name can hold anything; a cgroup name must be one plain path component. */
        for (i = 0; base[i] && i < sizeof(clean) - 1; i++) {
                char c = base[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                          c == '-' || c == '_' || c == '.';
                clean[i] = ok ? c : '_';
        }
        clean[i] = '\0';
        snprintf(buf, size, "memgov-%s-%s", clean, pid_text);
}

int run_resolve_command(const char *cmd, char **ret_path)
{
        int r = platform_find_executable(cmd, launchenv_get(environ, "PATH"), ret_path);

        if (r == -ENOENT) {
                log_error("%s: command not found", cmd);
                return 127;
        }
        if (r < 0) {
                log_error_errno(r, "%s: cannot execute: %m", cmd);
                return 126;
        }
        return 0;
}

int run_spawn_failed(const char *cmd, const char *sandbox_path, const PlatformChild *child, int error)
{
        if (child->exec_failed) {
                log_error_errno(error, "%s: cannot execute: %m", cmd);
                return error == -ENOENT ? 127 : 126;
        }
        if (child->hint)
                log_error_errno(error, "Failed to start a process in %s: %m (%s)", sandbox_path,
                                child->hint);
        else
                log_error_errno(error, "Failed to start a process in %s: %m", sandbox_path);
        return EXIT_MEMGOV_FAILURE;
}

void run_sandbox_options(const RunOptions *o, const MemoryLimits *limits, char *name, size_t name_size,
                         SandboxOptions *ret)
{
        char pid_text[16];

        snprintf(pid_text, sizeof(pid_text), "%d", (int)getpid());
        if (o->name)
                snprintf(name, name_size, "%s", o->name);
        else
                run_default_name(o->argv[0], pid_text, name, name_size);
        *ret = (SandboxOptions){
                .cgroup_root = o->cgroup_root,
                .name = name,
                .parent = o->parent,
                .memory_max_bytes = limits->max_bytes,
                .memory_high_bytes = limits->high_bytes,
                .swap_max_bytes = o->spec.swap_max_bytes,
                .swap_max_set = o->spec.swap_max_set,
        };
}

/* SPDX-License-Identifier: MIT */
#include "explain.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../platform/platform.h"
#include "../policy/launchenv.h"
#include "../policy/macro.h"
#include "env.h"
#include "init.h"
#include "log.h"
#include "policyfile.h"
#include "run.h"

extern char **environ;

static void print_limit(const char *file, uint64_t bytes)
{
        char a[UNITS_SIZE_STRLEN], h[UNITS_SIZE_STRLEN];

        units_format_size(bytes, a, sizeof(a));
        units_format_size_human(bytes, h, sizeof(h));
        /* Only a plain byte count gets a readable twin: "1G" says it already. */
        if (bytes < 1024 || bytes == SIZE_MAX_UNLIMITED || a[strlen(a) - 1] < '0' || a[strlen(a) - 1] > '9')
                printf("%-18s %s\n", file, a);
        else
                printf("%-18s %s (%s)\n", file, a, h);
}

static void print_environment(const LaunchEnv *plan)
{
        char a[UNITS_SIZE_STRLEN], b[UNITS_SIZE_STRLEN];

        printf("environment:\n");
        switch (plan->go_source) {
        case GOMEMLIMIT_COMPUTED:
                printf("  GOMEMLIMIT=%llu    # %s: the budget (%s if set, else %s, here %s)\n"
                       "                          # minus a 10%% headroom (at least 8M) for memory Go does not see\n",
                       (unsigned long long)plan->go_memlimit_bytes,
                       units_format_size_human(plan->go_memlimit_bytes, b, sizeof(b)),
                       platform_name(PLATFORM_NAME_HIGH), platform_name(PLATFORM_NAME_MAX),
                       units_format_size_human(plan->budget_bytes, a, sizeof(a)));
                break;
        case GOMEMLIMIT_USER:
                printf("  GOMEMLIMIT=%s    # already set by you: kept", plan->go_user_value);
                if (plan->budget_bytes != SIZE_MAX_UNLIMITED)
                        printf(" (memgov would set %s)",
                               units_format_size(plan->go_memlimit_bytes, b, sizeof(b)));
                printf("\n");
                break;
        case GOMEMLIMIT_NONE:
                if (plan->runtime == RUNTIME_NONE)
                        printf("  (nothing: --runtime none)\n");
                else
                        printf("  (no GOMEMLIMIT: no memory limit to derive it from)\n");
                break;
        }
        for (unsigned i = 0; i < plan->n_vars; i++) {
                const LaunchVar *v = &plan->vars[i];
                switch (v->action) {
                case LAUNCHVAR_SET:
                        printf("  %s=%s    # %s\n", v->name, v->value, v->why);
                        break;
                case LAUNCHVAR_MERGED:
                        printf("  %s=%s    # yours, with what was missing added; %s\n", v->name, v->value,
                               v->why);
                        break;
                case LAUNCHVAR_KEPT:
                        if (v->user_value)
                                printf("  %s=%s    # already set by you: kept\n", v->name, v->user_value);
                        break;
                }
                if (v->conflict[0])
                        printf("  # warning: %s\n", v->conflict);
        }
}

/* Node sizes its default heap from the machine, not the group: where that default is above the hard limit,
 * the flags memgov sets are what keeps the heap inside the group, and explain says so. */
static void print_node_default(const LaunchEnv *plan, const MemoryLimits *limits)
{
        char a[UNITS_SIZE_STRLEN], b[UNITS_SIZE_STRLEN], c[UNITS_SIZE_STRLEN];
        uint64_t machine, old;

        if (plan->runtime != RUNTIME_NODE || !plan->node_heap || platform_machine_memory(&machine) < 0)
                return;
        old = launchenv_node_default_old_space_bytes(machine);
        /* With what it keeps outside the old space (docs/runtimes.md: up to 26M measured). */
        if (limits->max_bytes == SIZE_MAX_UNLIMITED ||
            old + LAUNCHENV_NODE_RESERVE_BYTES <= limits->max_bytes)
                return;
        printf("  # note: node's own default old space here is %s (a quarter of the machine's %s, not of\n"
               "  #       %s): above %s %s, so without the flags above node's heap can\n"
               "  #       outgrow the group before V8 collects (Node 20 and 24, docs/runtimes.md)\n",
               units_format_size_human(old, a, sizeof(a)), units_format_size_human(machine, b, sizeof(b)),
               platform_name(PLATFORM_NAME_MAX), platform_name(PLATFORM_NAME_MAX),
               units_format_size_human(limits->max_bytes, c, sizeof(c)));
}

static void print_runtime(const RuntimeDetection *d)
{
        printf("runtime:           %s (%s)\n", runtime_to_string(d->runtime), d->reason);
        if (d->is_static)
                printf("                   statically linked: no LD_PRELOAD agent can be injected\n");
}

static void print_cgroup_limits(const RunOptions *o, const PlatformLimitNames *n, const MemoryLimits *limits)
{
        print_limit(n->max, limits->max_bytes);
        print_limit(n->high, limits->high_bytes);
        if (o->spec.swap_max_set)
                print_limit(n->swap, o->spec.swap_max_bytes);
        else
                printf("%-18s (not set: kernel default)\n", n->swap);
        printf("%-18s 1  (the whole group is OOM-killed together)\n", n->oom_group);
}

/* cgroup v1's terms (docs/cgroup-v1.md). */
static void print_v1_limits(const RunOptions *o, const PlatformLimitNames *n, const MemoryLimits *limits)
{
        print_limit(n->max, limits->max_bytes);
        print_limit(n->high, limits->high_bytes);
        printf("%-18s (a reclaim target under host-wide pressure, not a throttle as on cgroup v2)\n", "");
        if (o->spec.swap_max_set)
                printf("%-18s --memory-max + --swap-max (memory plus swap)\n", n->swap);
        printf("%-18s none on cgroup v1: the OOM killer picks one process, not the group\n", "oom group");
}

/* The Job Object's terms (docs/windows.md). */
static void print_job_limits(const PlatformLimitNames *n, const MemoryLimits *limits)
{
        print_limit(n->max, limits->max_bytes);
        printf("%-18s the same  (no single process may commit more)\n", n->max_per_process);
        print_limit(n->high, limits->high_bytes);
        printf("%-18s kill on job close  (the tree ends with memgov)\n", "job");
}

int explain_main(const RunOptions *o)
{
        _cleanup_free_ char *group = NULL, *supervisor = NULL, *path = NULL;
        char name[256], d[32];
        PlatformError err = {};
        PlatformInfo info = {};
        const PlatformLimitNames *names;
        MemoryLimits limits;
        LaunchEnv plan;
        RuntimeDetection detection;
        int r, status = 0;

        if (run_resolve_limits(&o->spec, &limits) < 0)
                return EXIT_MEMGOV_FAILURE;

        r = platform_probe(o->cgroup_root, &info, &err);
        printf("backend:           %s%s%s\n", platform_backend_to_string(info.backend),
               info.root[0] ? " at " : "", info.root);
        if (info.unified[0])
                printf("cgroup2 tree:      %s (no memory controller; memgov puts a twin of the group there)\n",
                       info.unified);
        if (info.pressure[0])
                printf("pressure:          %s\n", info.pressure);
        if (r < 0) {
                printf("problem:           %s\n", err.message);
                status = EXIT_MEMGOV_FAILURE;
        }

        if (o->name)
                snprintf(name, sizeof(name), "%s", o->name);
        else
                run_default_name(o->argv[0], "<PID>", name, sizeof(name));
        if (o->observe) /* no group of its own: the one memgov is started in, whichever that is */
                r = 0;
        else
                r = platform_sandbox_plan(&(SandboxOptions){.cgroup_root = o->cgroup_root,
                                                            .name = name,
                                                            .parent = o->parent,
                                                            .swap_max_bytes = o->spec.swap_max_bytes,
                                                            .swap_max_set = o->spec.swap_max_set},
                                          &group, &supervisor, &err);
        if (o->observe)
                printf("cgroup:            the one memgov runs in (observe mode)\n");
        else if (r < 0) {
                printf("problem:           %s\n", err.message);
                status = EXIT_MEMGOV_FAILURE;
        } else {
                printf("%-18s %s\n",
                       info.backend == PLATFORM_BACKEND_JOBOBJECT ? "sandbox:" : "cgroup:", group);
                if (supervisor)
                        printf("supervisor:        %s  (memgov moves itself here first: no-internal-process rule)\n",
                               supervisor);
        }

        init_explain(o);
        names = platform_limit_names(info.backend);
        if (info.backend == PLATFORM_BACKEND_JOBOBJECT)
                print_job_limits(names, &limits);
        else if (info.backend == PLATFORM_BACKEND_CGROUP1 || info.backend == PLATFORM_BACKEND_HYBRID)
                print_v1_limits(o, names, &limits);
        else
                print_cgroup_limits(o, names, &limits);
        printf("%-18s %s\n", "grace", units_format_duration(o->grace_usec, d, sizeof(d)));

        r = platform_find_executable(o->argv[0], launchenv_get(environ, "PATH"), &path);
        printf("command:           %s", r < 0 ? o->argv[0] : path);
        for (char **a = o->argv + 1; *a; a++)
                printf(" %s", *a);
        if (r == -ENOENT)
                printf("  (not found: run would exit 127)");
        else if (r < 0)
                printf("  (%s: run would exit 126)", strerror(-r));
        printf("\n");

        env_plan(o, r < 0 ? o->argv[0] : path, &limits, &detection, &plan);
        print_runtime(&detection);
        print_environment(&plan);
        print_node_default(&plan, &limits);
        if (o->policy)
                policyfile_explain(o->policy);
        return status;
}

/* SPDX-License-Identifier: MIT */
#include "env.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "../platform/platform.h"
#include "../policy/macro.h"
#include "../policy/units.h"
#include "log.h"

extern char **environ;

static bool replaced_by_plan(const char *entry, const LaunchEnv *plan)
{
        size_t n = strcspn(entry, "=");

        for (unsigned i = 0; i < plan->n_vars; i++)
                if (plan->vars[i].action != LAUNCHVAR_KEPT && strncmp(entry, plan->vars[i].name, n) == 0 &&
                    plan->vars[i].name[n] == '\0')
                        return true;
        return false;
}

static bool named_in(const char *entry, char *const *list)
{
        size_t n = strcspn(entry, "=");

        for (char *const *e = list; e && *e; e++)
                if (strncmp(*e, entry, n) == 0 && (*e)[n] == '=')
                        return true;
        return false;
}

static int append_copy(char ***l, size_t *n, const char *entry)
{
        char *copy = strdup(entry);

        if (!copy)
                return -ENOMEM;
        return strv_append(l, n, copy);
}

int env_build(char *const *envp, const LaunchEnv *plan, char *const *extra, char ***ret)
{
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        size_t n = 0;
        int r;

        if (!l)
                return -ENOMEM;
        for (char *const *e = extra; e && *e; e++) {
                r = append_copy(&l, &n, *e);
                if (r < 0)
                        return r;
        }
        for (char *const *e = envp; e && *e; e++) {
                if (named_in(*e, extra) || replaced_by_plan(*e, plan))
                        continue;
                r = append_copy(&l, &n, *e);
                if (r < 0)
                        return r;
        }
        if (plan->go_source == GOMEMLIMIT_COMPUTED) {
                char *s;
                if (asprintf(&s, "GOMEMLIMIT=%" PRIu64, plan->go_memlimit_bytes) < 0)
                        return -ENOMEM;
                r = strv_append(&l, &n, s);
                if (r < 0)
                        return r;
        }
        for (unsigned i = 0; i < plan->n_vars; i++) {
                const LaunchVar *v = &plan->vars[i];
                char *s;
                if (v->action == LAUNCHVAR_KEPT)
                        continue;
                if (asprintf(&s, "%s=%s", v->name, v->value) < 0)
                        return -ENOMEM;
                r = strv_append(&l, &n, s);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

void env_report(const LaunchEnv *plan)
{
        char a[UNITS_SIZE_STRLEN];

        for (unsigned i = 0; i < plan->n_vars; i++) {
                const LaunchVar *v = &plan->vars[i];
                if (v->conflict[0])
                        log_warning("%s.", v->conflict);
                if (v->action == LAUNCHVAR_KEPT && v->user_value)
                        log_notice("%s=%s is already set in the environment; keeping it", v->name,
                                   v->user_value);
                else if (v->action == LAUNCHVAR_MERGED)
                        log_info("%s: kept yours and added what was missing: %s", v->name, v->value);
                else if (v->action == LAUNCHVAR_SET)
                        log_debug("%s=%s (%s)", v->name, v->value, v->why);
        }
        if (plan->go_source != GOMEMLIMIT_USER)
                return;
        if (plan->budget_bytes == SIZE_MAX_UNLIMITED)
                log_notice("GOMEMLIMIT=%s is already set in the environment; keeping it",
                           plan->go_user_value);
        else
                log_notice("GOMEMLIMIT=%s is already set in the environment; keeping it instead of %s",
                           plan->go_user_value, units_format_size(plan->go_memlimit_bytes, a, sizeof(a)));
}

/* name in <dir of memgov>/../lib/memgov/ (installed), else in <dir of memgov>/build_subdir (the build tree),
 * else in <source>/source_subdir (this file's own path, which the compiler was given absolute). */
static bool find_agent(const char *name, const char *build_subdir, const char *source_subdir, char *found,
                       size_t size)
{
        _cleanup_free_ char *exe = NULL, *canonical = NULL;
        char *slash;

        if (platform_executable_path(&exe) >= 0 && (slash = strrchr(exe, '/'))) {
                *slash = '\0';
                snprintf(found, size, "%s/../lib/memgov/%s", exe, name);
                canonical = realpath(found, NULL);
                if (!canonical && build_subdir) {
                        snprintf(found, size, "%s/%s/%s", exe, build_subdir, name);
                        canonical = realpath(found, NULL);
                }
                if (canonical && access(canonical, R_OK) == 0) {
                        snprintf(found, size, "%s", canonical);
                        return true;
                }
        }
        if (!source_subdir)
                return false;
        snprintf(found, size, "%s", __FILE__);
        slash = strrchr(found, '/');
        if (found[0] != '/' || !slash)
                return false;
        *slash = '\0';
        slash = strrchr(found, '/');
        if (!slash)
                return false;
        snprintf(slash, size - (size_t)(slash - found), "/%s/%s", source_subdir, name);
        return access(found, R_OK) == 0;
}

typedef struct AgentFile {
        const char *name, *build_subdir, *source_subdir;
        int searched; /* -1: not yet; else whether found holds it */
        char found[PATH_MAX];
} AgentFile;

static const char *agent_path(AgentFile *a)
{
        if (a->searched < 0)
                a->searched =
                        find_agent(a->name, a->build_subdir, a->source_subdir, a->found, sizeof(a->found));
        return a->searched ? a->found : NULL;
}

const char *env_node_agent_path(void)
{
        static AgentFile a = {"memgov-agent.js", NULL, "agents/node", -1, ""};
        return agent_path(&a);
}

const char *env_java_agent_path(void)
{
        static AgentFile a = {"memgov-agent.jar", "agents/java", NULL, -1, ""};
        return agent_path(&a);
}

const char *env_dotnet_agent_path(void)
{
        static AgentFile a = {"MemgovAgent.dll", "agents/dotnet", NULL, -1, ""};
        return agent_path(&a);
}

const char *env_c_agent_path(void)
{
        static AgentFile a = {"libmemgov-preload.so", "agents/c", NULL, -1, ""};
        return agent_path(&a);
}

void env_plan(const RunOptions *o, const char *path, const MemoryLimits *limits, RuntimeDetection *d,
              LaunchEnv *ret)
{
        LaunchOptions lo;

        launchenv_options_default(&lo);
        /* Also with --runtime glibc or jemalloc: what the program is (static, built with the agent) decides
         * the C agent. No other forced runtime needs the file read. */
        if (o->runtime == RUNTIME_AUTO || o->runtime == RUNTIME_GLIBC || o->runtime == RUNTIME_JEMALLOC)
                runtime_detect(path, o->argv, launchenv_get(environ, "PATH"), d);
        else
                memset(d, 0, sizeof(*d));
        if (o->runtime != RUNTIME_AUTO) {
                d->runtime = o->runtime;
                snprintf(d->reason, sizeof(d->reason), "--runtime %s", runtime_to_string(o->runtime));
        }
        log_debug("Runtime: %s (%s).", runtime_to_string(d->runtime), d->reason);
        lo.runtime = d->runtime;
        lo.gogc = o->gogc;
        lo.jvm_reserve_bytes = o->jvm_reserve_bytes;
        lo.node_reserve_bytes = o->node_reserve_bytes;
        lo.dotnet_reserve_bytes = o->dotnet_reserve_bytes;
        if (lo.runtime == RUNTIME_NODE && !o->no_agent)
                lo.node_agent = env_node_agent_path();
        if (lo.runtime == RUNTIME_JVM && !o->no_agent)
                lo.java_agent = env_java_agent_path();
        if (lo.runtime == RUNTIME_DOTNET && !o->no_agent)
                lo.dotnet_agent = env_dotnet_agent_path();
        if (o->no_agent)
                log_debug("--no-agent: the child gets its environment only, no agent.");
        else if (lo.runtime == RUNTIME_GLIBC || lo.runtime == RUNTIME_JEMALLOC ||
                 lo.runtime == RUNTIME_UNKNOWN) {
                if (d->is_static)
                        log_notice(
                                "%s is statically linked: the C agent cannot be preloaded into it (no dynamic loader reads LD_PRELOAD); only its environment is set. Link libmemgov-agent into it for run-time steering.",
                                d->program);
                else if (d->has_agent)
                        log_debug("%s is built with libmemgov-agent: nothing to preload.", d->program);
                else if (d->has_sanitizer)
                        log_notice(
                                "%s needs a sanitizer runtime (libasan, libtsan...) that refuses to start after a preloaded library: the C agent is not preloaded into it.",
                                d->program);
                else if (runtime_is_shell(d->program))
                        log_info(
                                "%s is a shell: the C agent is not preloaded (it would start in the shell, not in the program the shell runs); name the program itself to get it.",
                                d->program);
                else if (d->is_elf && lo.runtime != RUNTIME_UNKNOWN) {
                        lo.c_agent = env_c_agent_path();
                        lo.c_agent_exe = d->program;
                }
        }
        launchenv_plan_runtime(environ, limits, &lo, ret);
}

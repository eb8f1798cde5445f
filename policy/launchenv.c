/* SPDX-License-Identifier: MIT */
#include "launchenv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"

const char *launchenv_get(char *const *envp, const char *name)
{
        size_t n = strlen(name);

        for (char *const *e = envp; e && *e; e++)
                if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
                        return *e + n + 1;
        return NULL;
}

void launchenv_options_default(LaunchOptions *ret)
{
        *ret = (LaunchOptions){
                .runtime = RUNTIME_UNKNOWN,
                .jvm_reserve_bytes = LAUNCHENV_JVM_RESERVE_BYTES,
                .node_reserve_bytes = LAUNCHENV_NODE_RESERVE_BYTES,
                .dotnet_reserve_bytes = LAUNCHENV_DOTNET_RESERVE_BYTES,
        };
}

uint64_t launchenv_heap_bytes(uint64_t budget, uint64_t fixed_reserve)
{
        return launchenv_heap_bytes_reserve(budget, fixed_reserve, LAUNCHENV_RESERVE_PERMYRIAD);
}

uint64_t launchenv_node_old_space_bytes(uint64_t budget, uint64_t fixed_reserve)
{
        return launchenv_heap_bytes_reserve(budget, fixed_reserve, LAUNCHENV_NODE_RESERVE_PERMYRIAD);
}

uint64_t launchenv_node_semi_space_mib(uint64_t budget)
{
        uint64_t mib;

        if (budget == SIZE_MAX_UNLIMITED || budget == 0)
                return 0;
        mib = (budget >> 20) / LAUNCHENV_NODE_SEMI_SPACE_RATIO;
        return mib < 1                                   ? 1
               : mib > LAUNCHENV_NODE_SEMI_SPACE_MAX_MIB ? LAUNCHENV_NODE_SEMI_SPACE_MAX_MIB
                                                         : mib;
}

uint64_t launchenv_node_default_old_space_bytes(uint64_t machine_bytes)
{
        uint64_t old = machine_bytes / 4;
        return old < LAUNCHENV_NODE_DEFAULT_OLD_MIN_BYTES   ? LAUNCHENV_NODE_DEFAULT_OLD_MIN_BYTES
               : old > LAUNCHENV_NODE_DEFAULT_OLD_MAX_BYTES ? LAUNCHENV_NODE_DEFAULT_OLD_MAX_BYTES
                                                            : old;
}

uint64_t launchenv_heap_bytes_reserve(uint64_t budget, uint64_t fixed_reserve, unsigned permyriad)
{
        uint64_t reserve, heap, floor;

        if (budget == SIZE_MAX_UNLIMITED || budget == 0)
                return 0;
        reserve = units_apply_permyriad(budget, permyriad);
        reserve = fixed_reserve > UINT64_MAX - reserve ? UINT64_MAX : reserve + fixed_reserve;
        floor = budget / 4;
        heap = reserve < budget ? budget - reserve : 0;
        if (heap < floor)
                heap = floor;
        return heap & ~((UINT64_C(1) << 20) - 1);
}

uint64_t launchenv_jvm_default_heap_bytes(uint64_t budget)
{
        if (budget == SIZE_MAX_UNLIMITED || budget == 0)
                return 0;
        if (budget / 2 < LAUNCHENV_JVM_DEFAULT_MAX_HEAP_BYTES)
                return budget / 2;
        return budget / 4 > LAUNCHENV_JVM_DEFAULT_MAX_HEAP_BYTES ? budget / 4
                                                                 : LAUNCHENV_JVM_DEFAULT_MAX_HEAP_BYTES;
}

uint64_t launchenv_jvm_align(uint64_t heap)
{
        uint64_t align = LAUNCHENV_JVM_ALIGN_MIN_BYTES;

        /* G1's region size is at most the power of two above heap/2048; a multiple of it is aligned for
         * every collector, so the JVM does not round the -Xmx up. */
        while (align < heap / 2048)
                align <<= 1;
        return heap >= align ? heap & ~(align - 1) : heap;
}

int launchenv_parse_jvm_size(const char *s, uint64_t *ret_bytes)
{
        uint64_t v = 0;
        unsigned shift = 0;
        const char *p = s;

        if (!*p)
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (v > (UINT64_MAX - 9) / 10)
                        return -EINVAL;
                v = v * 10 + (uint64_t)(*p - '0');
        }
        if (p == s)
                return -EINVAL;
        switch (*p) {
        case '\0':
                break;
        case 'k':
        case 'K':
                shift = 10;
                p++;
                break;
        case 'm':
        case 'M':
                shift = 20;
                p++;
                break;
        case 'g':
        case 'G':
                shift = 30;
                p++;
                break;
        case 't':
        case 'T':
                shift = 40;
                p++;
                break;
        default:
                return -EINVAL;
        }
        if (*p || (shift && v > (UINT64_MAX >> shift)))
                return -EINVAL;
        *ret_bytes = v << shift;
        return 0;
}

/* The next blank-separated word of *p (advanced past it): its start and length, or NULL at the end. */
static const char *next_word(const char **p, size_t *ret_len)
{
        const char *s = *p, *w;

        while (*s == ' ' || *s == '\t' || *s == '\n')
                s++;
        if (!*s)
                return NULL;
        w = s;
        while (*s && *s != ' ' && *s != '\t' && *s != '\n')
                s++;
        *ret_len = s - w;
        *p = s;
        return w;
}

static bool word_starts(const char *w, size_t len, const char *prefix)
{
        size_t n = strlen(prefix);
        return len >= n && strncmp(w, prefix, n) == 0;
}

static LaunchVar *plan_var(LaunchEnv *plan, char *const *envp, const char *name)
{
        LaunchVar *v = &plan->vars[plan->n_vars++];

        *v = (LaunchVar){.name = name, .user_value = launchenv_get(envp, name)};
        v->action = v->user_value ? LAUNCHVAR_KEPT : LAUNCHVAR_SET;
        return v;
}

/* Appends " text" (no blank when value is empty) to v->value; false when it does not fit. */
static bool var_append(LaunchVar *v, const char *sep, const char *text)
{
        size_t len = strlen(v->value);
        int k = snprintf(v->value + len, sizeof(v->value) - len, "%s%s", len ? sep : "", text);
        return k >= 0 && (size_t)k < sizeof(v->value) - len;
}

/* The user's value followed by additions; additions are ' '-separated option words (or sep-separated). */
static void var_merge(LaunchVar *v, const char *sep, const char *additions)
{
        if (!*additions) {
                v->action = LAUNCHVAR_KEPT; /* with no user_value: nothing to set */
                return;
        }
        v->value[0] = '\0';
        if (v->user_value && !var_append(v, sep, v->user_value)) {
                v->action = LAUNCHVAR_KEPT;
                snprintf(v->conflict, sizeof(v->conflict), "%s is too long to merge into; kept as it is",
                         v->name);
                return;
        }
        if (!var_append(v, sep, additions)) {
                v->action = v->user_value ? LAUNCHVAR_KEPT : LAUNCHVAR_SET;
                snprintf(v->conflict, sizeof(v->conflict), "%s would be too long; not set", v->name);
                if (!v->user_value)
                        v->action = LAUNCHVAR_KEPT; /* nothing to set */
                return;
        }
        v->action = v->user_value && *v->user_value ? LAUNCHVAR_MERGED : LAUNCHVAR_SET;
}

static void plan_jvm(LaunchEnv *plan, char *const *envp, const LaunchOptions *o)
{
        bool user_heap = false, user_maxram = false, user_agent = false, jvm_default = false,
             limited = plan->budget_bytes != SIZE_MAX_UNLIMITED;
        /* JAVA_TOOL_OPTIONS is split at blanks: a jar path with one cannot be passed. */
        bool agent = o->java_agent && !strpbrk(o->java_agent, " \t\n");
        char add[LAUNCHENV_VALUE_MAX / 2] = "", fa[UNITS_SIZE_STRLEN], fb[UNITS_SIZE_STRLEN];
        const char *p, *w;
        LaunchVar *v;
        size_t len;

        if (!limited && !agent)
                return;
        v = plan_var(plan, envp, "JAVA_TOOL_OPTIONS");
        p = v->user_value ? v->user_value : "";
        plan->heap_bytes = launchenv_heap_bytes(plan->budget_bytes, o->jvm_reserve_bytes);
        /* Never below what the JVM would take by itself in a group of the budget's size. */
        if (plan->heap_bytes < launchenv_jvm_default_heap_bytes(plan->budget_bytes)) {
                plan->heap_bytes = launchenv_jvm_default_heap_bytes(plan->budget_bytes);
                jvm_default = true;
        }
        plan->heap_bytes = launchenv_jvm_align(plan->heap_bytes);
        while ((w = next_word(&p, &len))) {
                char value[64];
                uint64_t bytes;
                size_t skip = word_starts(w, len, "-Xmx")               ? 4
                              : word_starts(w, len, "-XX:MaxHeapSize=") ? 16
                                                                        : 0;

                if (skip || word_starts(w, len, "-XX:MaxRAMPercentage=") ||
                    word_starts(w, len, "-XX:MaxRAMFraction="))
                        user_heap = true;
                if (word_starts(w, len, "-XX:MaxRAM="))
                        user_maxram = true;
                if (agent && word_starts(w, len, "-javaagent:") &&
                    memmem(w, len, o->java_agent, strlen(o->java_agent)))
                        user_agent = true;
                if (!skip || len - skip >= sizeof(value) || !limited)
                        continue;
                memcpy(value, w + skip, len - skip);
                value[len - skip] = '\0';
                if (launchenv_parse_jvm_size(value, &bytes) == 0 && bytes > plan->budget_bytes)
                        snprintf(
                                v->conflict, sizeof(v->conflict),
                                "JAVA_TOOL_OPTIONS asks for a heap of %s, above the memory budget of %s: the JVM may be OOM-killed before its GC runs",
                                value, units_format_size(plan->budget_bytes, fa, sizeof(fa)));
        }
        if (limited && !user_maxram)
                snprintf(add, sizeof(add), "-XX:MaxRAM=%" PRIu64, plan->budget_bytes);
        if (limited && !user_heap)
                snprintf(add + strlen(add), sizeof(add) - strlen(add), "%s-Xmx%" PRIu64 "m", *add ? " " : "",
                         plan->heap_bytes >> 20);
        if (agent && !user_agent) {
                snprintf(add + strlen(add), sizeof(add) - strlen(add), "%s-javaagent:%s", *add ? " " : "",
                         o->java_agent);
                plan->java_agent = true;
        }
        if (!limited)
                snprintf(v->why, sizeof(v->why), "no limit: no heap size, only the agent");
        else if (user_heap)
                snprintf(v->why, sizeof(v->why),
                         "your heap setting is kept (memgov would use -Xmx%" PRIu64 "m)",
                         plan->heap_bytes >> 20);
        else if (jvm_default)
                snprintf(v->why, sizeof(v->why),
                         "heap %s: what the JVM would take by itself in %s (budget - reserve would be less)",
                         units_format_size(plan->heap_bytes, fa, sizeof(fa)),
                         units_format_size(plan->budget_bytes, fb, sizeof(fb)));
        else
                snprintf(v->why, sizeof(v->why),
                         "heap %s = budget %s - reserve (%s fixed + 10%% of the budget)",
                         units_format_size(plan->heap_bytes, fa, sizeof(fa)),
                         units_format_size(plan->budget_bytes, fb, sizeof(fb)),
                         units_format_size(o->jvm_reserve_bytes, (char[UNITS_SIZE_STRLEN]){},
                                           UNITS_SIZE_STRLEN));
        var_merge(v, " ", add);
}

/* NODE_OPTIONS accepts double quotes around a value with blanks. */
static void node_require(char *buf, size_t size, const char *path)
{
        if (strpbrk(path, " \t"))
                snprintf(buf, size, "--require \"%s\"", path);
        else
                snprintf(buf, size, "--require %s", path);
}

/* Whether the NODE_OPTIONS word w is the option flag (node reads '_' as '-' in option names): its value
 * after '=' in *ret_value, or NULL when the word has none. */
static bool node_option_is(const char *w, size_t len, const char *flag, const char **ret_value)
{
        size_t name = strcspn(w, "= \t\n"), n = strlen(flag);

        if (name > len)
                name = len;
        if (name != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (w[i] != flag[i] && !(w[i] == '_' && flag[i] == '-' && i >= 2))
                        return false;
        *ret_value = name < len && w[name] == '=' ? w + name + 1 : NULL;
        return true;
}

static void plan_node(LaunchEnv *plan, char *const *envp, const LaunchOptions *o)
{
        LaunchVar *v;
        const char *p, *w, *user_heap = NULL;
        bool user_agent = false, user_semi = false, limited = plan->budget_bytes != SIZE_MAX_UNLIMITED;
        char add[LAUNCHENV_VALUE_MAX / 2] = "", fa[UNITS_SIZE_STRLEN], fb[UNITS_SIZE_STRLEN];
        size_t len;

        if (!limited && !o->node_agent)
                return;
        v = plan_var(plan, envp, "NODE_OPTIONS");
        p = v->user_value ? v->user_value : "";
        plan->heap_bytes = launchenv_node_old_space_bytes(plan->budget_bytes, o->node_reserve_bytes);
        plan->node_semi_space_mib = launchenv_node_semi_space_mib(plan->budget_bytes);
        while ((w = next_word(&p, &len))) {
                const char *value;
                /* Node 22.21+ and 24.6+ take the percentage over --max-old-space-size, wherever either
                 * stands; Node 20 refuses it in NODE_OPTIONS. Either way the user's flag decides and memgov
                 * adds no second heap size (it cannot tell the version before node runs). */
                if (node_option_is(w, len, "--max-old-space-size-percentage", &value))
                        user_heap = "--max-old-space-size-percentage";
                else if (node_option_is(w, len, "--max-old-space-size", &value)) {
                        if (!user_heap)
                                user_heap = "--max-old-space-size";
                        if (value && limited && strtoull(value, NULL, 10) > plan->budget_bytes >> 20)
                                snprintf(
                                        v->conflict, sizeof(v->conflict),
                                        "NODE_OPTIONS asks for an old space of %.*s MiB, above the memory budget of %s: node may be OOM-killed before its GC runs",
                                        (int)(len - (size_t)(value - w)), value,
                                        units_format_size(plan->budget_bytes, fa, sizeof(fa)));
                }
                if (node_option_is(w, len, "--max-semi-space-size", &value))
                        user_semi = true;
                if (o->node_agent && memmem(w, len, o->node_agent, strlen(o->node_agent)))
                        user_agent = true;
        }
        /* The young generation is sized by the heap memgov plans, so it goes with the old space: with the
         * user's heap size, the user's young generation too. */
        plan->node_heap = limited && !user_heap;
        if (plan->node_heap)
                snprintf(add, sizeof(add), "--max-old-space-size=%" PRIu64, plan->heap_bytes >> 20);
        if (limited && !user_heap && !user_semi)
                snprintf(add + strlen(add), sizeof(add) - strlen(add), " --max-semi-space-size=%" PRIu64,
                         plan->node_semi_space_mib);
        if (o->node_agent && !user_agent) {
                char req[LAUNCHENV_VALUE_MAX / 4];
                node_require(req, sizeof(req), o->node_agent);
                snprintf(add + strlen(add), sizeof(add) - strlen(add), "%s%s", *add ? " " : "", req);
        }
        if (limited && user_heap)
                snprintf(v->why, sizeof(v->why),
                         "your %s is kept (memgov would use --max-old-space-size=%" PRIu64 ")%s", user_heap,
                         plan->heap_bytes >> 20,
                         user_heap[20] ? "; Node 22.21+/24.6+ only: Node 20 refuses it" : "");
        else if (limited)
                snprintf(v->why, sizeof(v->why),
                         "old space %s = budget %s - %s outside it (%s fixed + %u%%); %s",
                         units_format_size(plan->heap_bytes, fa, sizeof(fa)),
                         units_format_size(plan->budget_bytes, fb, sizeof(fb)),
                         units_format_size(plan->budget_bytes - plan->heap_bytes,
                                           (char[UNITS_SIZE_STRLEN]){}, UNITS_SIZE_STRLEN),
                         units_format_size(o->node_reserve_bytes, (char[UNITS_SIZE_STRLEN]){},
                                           UNITS_SIZE_STRLEN),
                         LAUNCHENV_NODE_RESERVE_PERMYRIAD / 100,
                         user_semi ? "your semi-space size is kept" : "semi-space budget/256");
        else
                snprintf(v->why, sizeof(v->why), "no limit: no heap size%s",
                         o->node_agent ? ", only the agent" : "");
        var_merge(v, " ", add);
}

/* The .NET GC's hard limit. .NET 5 and later read DOTNET_GCHeapHardLimit and, when it is absent,
 * COMPlus_GCHeapHardLimit; .NET Core 3.x reads only the COMPlus_ name: both are set, to one value. A limit
 * the user set under any of the names (or as a percentage) is theirs: memgov sets neither, since a
 * DOTNET_ one of memgov's would take precedence over a user's COMPlus_ one on .NET 5+. */
static void plan_dotnet_limit(LaunchEnv *plan, char *const *envp, const LaunchOptions *o)
{
        static const char *const user_names[] = {"DOTNET_GCHeapHardLimit", "COMPlus_GCHeapHardLimit",
                                                 "DOTNET_GCHeapHardLimitPercent",
                                                 "COMPlus_GCHeapHardLimitPercent"};
        static const char *const set_names[] = {"DOTNET_GCHeapHardLimit", "COMPlus_GCHeapHardLimit"};
        char fa[UNITS_SIZE_STRLEN], fb[UNITS_SIZE_STRLEN];
        LaunchVar *v;

        plan->heap_bytes = launchenv_heap_bytes(plan->budget_bytes, o->dotnet_reserve_bytes);
        for (size_t i = 0; i < ELEMENTSOF(user_names); i++)
                if (launchenv_get(envp, user_names[i])) {
                        v = plan_var(plan, envp, user_names[i]);
                        snprintf(v->why, sizeof(v->why),
                                 "your GC heap limit is kept (memgov would set 0x%" PRIx64 ")",
                                 plan->heap_bytes);
                        return;
                }
        for (size_t i = 0; i < ELEMENTSOF(set_names); i++) {
                v = plan_var(plan, envp, set_names[i]);
                snprintf(v->value, sizeof(v->value), "0x%" PRIx64, plan->heap_bytes);
                snprintf(v->why, sizeof(v->why), "%s %s = budget %s - reserve (%s fixed + 10%%)%s",
                         i == 0 ? "GC heap hard limit" : "the same",
                         units_format_size(plan->heap_bytes, fa, sizeof(fa)),
                         units_format_size(plan->budget_bytes, fb, sizeof(fb)),
                         units_format_size(o->dotnet_reserve_bytes, (char[UNITS_SIZE_STRLEN]){},
                                           UNITS_SIZE_STRLEN),
                         i == 0 ? "; .NET 5+" : " for .NET Core 3.x");
        }
}

/* DOTNET_STARTUP_HOOKS lists assemblies separated by the platform's path separator (':' here): ours goes
 * last, unless it is there already. */
static void plan_dotnet_agent(LaunchEnv *plan, char *const *envp, const LaunchOptions *o)
{
        LaunchVar *v;

        if (strchr(o->dotnet_agent, ':'))
                return; /* cannot be written into the list */
        v = plan_var(plan, envp, "DOTNET_STARTUP_HOOKS");
        for (const char *p = v->user_value; p && *p;) {
                size_t len = strcspn(p, ":");
                if (len == strlen(o->dotnet_agent) && memcmp(p, o->dotnet_agent, len) == 0) {
                        v->action = LAUNCHVAR_KEPT;
                        snprintf(v->why, sizeof(v->why),
                                 "the .NET agent: already in your DOTNET_STARTUP_HOOKS");
                        return;
                }
                p += len + (p[len] != '\0');
        }
        snprintf(v->why, sizeof(v->why), "the .NET agent, a startup hook run before Main");
        var_merge(v, ":", o->dotnet_agent);
        plan->dotnet_agent = v->action != LAUNCHVAR_KEPT;
}

static void plan_glibc(LaunchEnv *plan, char *const *envp)
{
        LaunchVar *v = plan_var(plan, envp, "MALLOC_ARENA_MAX");

        snprintf(v->value, sizeof(v->value), LAUNCHENV_GLIBC_ARENA_MAX);
        snprintf(v->why, sizeof(v->why), "fewer arenas: less memory held free per thread");
        v = plan_var(plan, envp, "MALLOC_TRIM_THRESHOLD_");
        snprintf(v->value, sizeof(v->value), LAUNCHENV_GLIBC_TRIM_THRESHOLD);
        snprintf(v->why, sizeof(v->why),
                 "return free heap top above 128K to the OS (and no dynamic growth of the mmap threshold)");
}

/* MALLOC_CONF is "key:value,key:value": add each default key the user's value lacks. */
static void plan_jemalloc(LaunchEnv *plan, char *const *envp)
{
        LaunchVar *v = plan_var(plan, envp, "MALLOC_CONF");
        const char *d = LAUNCHENV_JEMALLOC_CONF;
        char add[256] = "";

        while (*d) {
                size_t len = strcspn(d, ","), key = strcspn(d, ":");
                bool have = false;
                for (const char *u = v->user_value; u && *u;) {
                        size_t ulen = strcspn(u, ","), ukey = strcspn(u, ":");
                        if (ukey == key && ukey <= ulen && strncmp(u, d, key) == 0)
                                have = true;
                        u += ulen + (u[ulen] == ',');
                }
                if (!have)
                        snprintf(add + strlen(add), sizeof(add) - strlen(add), "%s%.*s", *add ? "," : "",
                                 (int)len, d);
                d += len + (d[len] == ',');
        }
        snprintf(v->why, sizeof(v->why), "purge freed pages within a second, from a background thread");
        var_merge(v, ",", add);
}

/* LD_PRELOAD takes paths separated by blanks or colons: ours goes last, unless it is there already. */
static void plan_c_agent(LaunchEnv *plan, char *const *envp, const LaunchOptions *o)
{
        LaunchVar *v;

        if (strpbrk(o->c_agent, " \t:") || strpbrk(o->c_agent_exe, "\n"))
                return; /* cannot be written into LD_PRELOAD */
        v = plan_var(plan, envp, "LD_PRELOAD");
        for (const char *p = v->user_value; p && *p;) {
                size_t len = strcspn(p, " \t:");
                if (len == strlen(o->c_agent) && memcmp(p, o->c_agent, len) == 0) {
                        snprintf(v->why, sizeof(v->why), "the C agent: already in your LD_PRELOAD");
                        return;
                }
                p += len + (p[len] != '\0');
        }
        snprintf(v->why, sizeof(v->why), "the C agent, started before main() in %s", o->c_agent_exe);
        var_merge(v, ":", o->c_agent);
        if (v->action == LAUNCHVAR_KEPT)
                return; /* too long: the conflict says so */
        plan->c_agent = true;
        v = plan_var(plan, envp, "MEMGOV_PRELOAD_EXE");
        v->action = LAUNCHVAR_SET; /* memgov's own variable: always the program of this run */
        snprintf(v->value, sizeof(v->value), "%s", o->c_agent_exe);
        snprintf(v->why, sizeof(v->why), "the only program the preloaded agent starts in");
}

static void plan_gogc(LaunchEnv *plan, char *const *envp, const LaunchOptions *o)
{
        LaunchVar *v = plan_var(plan, envp, "GOGC");

        snprintf(v->value, sizeof(v->value), "%s", o->gogc);
        snprintf(v->why, sizeof(v->why), "--gogc");
        if (v->user_value && strcmp(v->user_value, o->gogc) != 0)
                snprintf(v->conflict, sizeof(v->conflict), "--gogc %s is ignored: GOGC=%s is already set",
                         o->gogc, v->user_value);
}

void launchenv_plan_runtime(char *const *envp, const MemoryLimits *limits, const LaunchOptions *o,
                            LaunchEnv *ret)
{
        LaunchEnv *plan = ret;
        bool limited;
        const char *user;

        memset(plan, 0, sizeof(*plan));
        plan->budget_bytes = budget_bytes(limits);
        plan->runtime = o->runtime;
        if (o->runtime == RUNTIME_NONE)
                return;
        limited = plan->budget_bytes != SIZE_MAX_UNLIMITED;
        if (budget_go_memlimit(plan->budget_bytes, &plan->go_memlimit_bytes))
                plan->go_source = GOMEMLIMIT_COMPUTED;
        user = launchenv_get(envp, "GOMEMLIMIT");
        if (user) {
                plan->go_source = GOMEMLIMIT_USER;
                plan->go_user_value = user;
        }
        if (o->gogc)
                plan_gogc(plan, envp, o);
        if (o->runtime == RUNTIME_NODE)
                plan_node(plan, envp, o);
        if (o->runtime == RUNTIME_JVM)
                plan_jvm(plan, envp, o);
        if (o->runtime == RUNTIME_DOTNET && o->dotnet_agent)
                plan_dotnet_agent(plan, envp, o);
        if ((o->runtime == RUNTIME_GLIBC || o->runtime == RUNTIME_JEMALLOC) && o->c_agent && o->c_agent_exe)
                plan_c_agent(plan, envp, o);
        if (!limited)
                return;
        switch (o->runtime) {
        case RUNTIME_DOTNET:
                plan_dotnet_limit(plan, envp, o);
                break;
        case RUNTIME_GLIBC:
                plan_glibc(plan, envp);
                break;
        case RUNTIME_JEMALLOC:
                plan_jemalloc(plan, envp);
                break;
        default:
                break;
        }
}

void launchenv_plan(char *const *envp, const MemoryLimits *limits, LaunchEnv *ret)
{
        LaunchOptions o;

        launchenv_options_default(&o);
        launchenv_plan_runtime(envp, limits, &o, ret);
}

int launchenv_base64(const void *in, size_t n, char *out, size_t size)
{
        static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *p = in;
        size_t need = (n + 2) / 3 * 4 + 1, o = 0;

        if (size < need)
                return -ENOBUFS;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t)p[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t)p[i + 1] << 8;
                if (i + 2 < n)
                        v |= p[i + 2];
                out[o++] = table[(v >> 18) & 63];
                out[o++] = table[(v >> 12) & 63];
                out[o++] = i + 1 < n ? table[(v >> 6) & 63] : '=';
                out[o++] = i + 2 < n ? table[v & 63] : '=';
        }
        out[o] = '\0';
        return 0;
}

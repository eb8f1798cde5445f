/* SPDX-License-Identifier: MIT */
#include "policyfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../platform/platform.h"
#include "../policy/launchenv.h"
#include "../policy/macro.h"
#include "log.h"

extern char **environ;

/* A policy is a few kilobytes; anything this large is a mistake (a log file, a core dump). */
#define POLICY_FILE_MAX (1024 * 1024)

static void problems_log(const ConfigProblems *problems)
{
        char buf[1024];

        for (size_t i = 0; i < problems->n; i++) {
                config_problem_format(&problems->items[i], buf, sizeof(buf));
                if (problems->items[i].warning)
                        log_warning("%s", buf);
                else
                        log_error("%s", buf);
        }
}

/* A file or directory that cannot be read is a problem like any other: listed, and the load fails. */
static int problem_errno(ConfigProblems *problems, const char *path, int error)
{
        char reason[256];
        int r;

        snprintf(reason, sizeof(reason), "cannot read: %s", strerror(-error));
        r = config_problems_add(problems, path, 0, "", false, reason);
        return r < 0 ? r : error;
}

static int read_file(const char *path, char **ret_text, size_t *ret_size)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        struct stat st;
        size_t n = 0;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (st.st_size > POLICY_FILE_MAX)
                return -EFBIG;
        buf = malloc(POLICY_FILE_MAX + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf + n, POLICY_FILE_MAX + 1 - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                n += (size_t)k;
                if (n > POLICY_FILE_MAX)
                        return -EFBIG;
        }
        *ret_text = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}

static int load_one(ConfigSet *set, const char *path, ConfigProblems *problems)
{
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = read_file(path, &text, &size);
        if (r < 0)
                return problem_errno(problems, path, r);
        r = config_set_load_buffer(set, path, text, size, problems);
        if (r == -ENOMEM)
                return log_error_errno(r, "%s: %m", path);
        return r;
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* DIR/memgov.ini, then DIR/conf.d/NAME.ini in byte order (not the locale's: every host must agree). */
static int list_files(const char *dir, bool explicit, char ***ret, ConfigProblems *problems)
{
        _cleanup_strv_free_ char **paths = NULL, **names = NULL;
        _cleanup_free_ char *main_path = NULL, *d_path = NULL;
        size_t n = 0, n_names = 0;
        struct stat st;
        DIR *d;
        int r;

        if (stat(dir, &st) < 0) {
                if (errno == ENOENT && !explicit) {
                        *ret = NULL;
                        return 0;
                }
                return problem_errno(problems, dir, negative_errno());
        }
        if (asprintf(&main_path, "%s/memgov.ini", dir) < 0 || asprintf(&d_path, "%s/conf.d", dir) < 0)
                return -ENOMEM;
        if (access(main_path, F_OK) == 0) {
                r = strv_append(&paths, &n, TAKE_PTR(main_path));
                if (r < 0)
                        return r;
        }
        d = opendir(d_path);
        if (!d) {
                if (errno != ENOENT)
                        return problem_errno(problems, d_path, negative_errno());
        } else {
                struct dirent *de;
                while ((de = readdir(d))) {
                        size_t len = strlen(de->d_name);
                        char *s;
                        if (de->d_name[0] == '.' || len < 5 || strcmp(de->d_name + len - 4, ".ini") != 0)
                                continue;
                        s = strdup(de->d_name);
                        if (!s || strv_append(&names, &n_names, s) < 0) {
                                closedir(d);
                                return -ENOMEM;
                        }
                }
                closedir(d);
                if (n_names > 0)
                        qsort(names, n_names, sizeof(char *), cmp_names);
                STRV_FOREACH (name, names) {
                        char *s;
                        if (asprintf(&s, "%s/%s", d_path, *name) < 0)
                                return -ENOMEM;
                        r = strv_append(&paths, &n, s);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(paths);
        return 0;
}

/* Every file, every problem; the set only if there was none. */
static int load_all(const char *dir, bool explicit, ConfigSet **ret_set, char ***ret_paths)
{
        _cleanup_config_set_ ConfigSet *set = NULL;
        _cleanup_strv_free_ char **paths = NULL;
        ConfigProblems problems = {};
        int r;

        r = config_set_new(&set);
        if (r < 0)
                return r;
        r = list_files(dir, explicit, &paths, &problems);
        if (r < 0 && problems.n_errors == 0)
                return log_error_errno(r, "Failed to list the policy files in %s: %m", dir);
        STRV_FOREACH (path, paths) {
                r = load_one(set, *path, &problems);
                if (r == -ENOMEM)
                        break;
        }
        problems_log(&problems);
        r = problems.n_errors > 0 ? -EINVAL : r == -ENOMEM ? r : 0;
        config_problems_clear(&problems);
        if (r < 0)
                return r;
        *ret_set = TAKE_PTR(set);
        *ret_paths = TAKE_PTR(paths);
        return 0;
}

PolicyFile *policyfile_free(PolicyFile *p)
{
        if (!p)
                return NULL;
        config_effective_clear(&p->effective);
        config_set_free(p->set);
        strv_free(p->paths);
        strv_free(p->cmdline_keys);
        strv_free(p->owned);
        free(p->argv);
        free(p->exe_path);
        free(p->dir);
        free(p);
        return NULL;
}

static bool streq_ptr(const char *a, const char *b)
{
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static size_t strv_count(char **l)
{
        size_t n = 0;
        STRV_FOREACH (s, l)
                n++;
        return n;
}

static void policyfile_freep(PolicyFile **p)
{
        policyfile_free(*p);
}

/* The run options given on the command line, as "key=value", so explain can say where a value came from.
 * Exact long names only: an abbreviated option still takes effect, it is just not credited. */
static int scan_cmdline(int argc, char **argv, char **cmd, char ***ret)
{
        _cleanup_strv_free_ char **keys = NULL;
        size_t n = 0;

        for (int i = 1; i < argc && argv + i < cmd; i++) {
                _cleanup_free_ char *name = NULL;
                const ConfigKey *k;
                const char *a = argv[i], *eq, *value;
                char *s;

                if (strcmp(a, "--") == 0)
                        break;
                if (strncmp(a, "--", 2) != 0)
                        continue;
                eq = strchr(a, '=');
                name = eq ? strndup(a + 2, (size_t)(eq - a - 2)) : strdup(a + 2);
                if (!name)
                        return -ENOMEM;
                k = config_key_find(name);
                if (!k || !k->run_option)
                        continue;
                if (eq)
                        value = eq + 1;
                else if (k->type == CONFIG_BOOL)
                        value = "yes";
                else if (i + 1 < argc)
                        value = argv[++i];
                else
                        continue;
                if (asprintf(&s, "%s=%s", k->name, value) < 0)
                        return -ENOMEM;
                if (strv_append(&keys, &n, s) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(keys);
        return 0;
}

/* The files' run options as "--key=value", ahead of the command line's own, which getopt then lets win. */
static int build_argv(PolicyFile *p, int argc, char **argv, int *ret_argc)
{
        size_t n_owned = 0, n = 0;
        char **a;

        a = calloc(config_key_count() + (size_t)argc + 1, sizeof(char *));
        if (!a)
                return -ENOMEM;
        p->argv = a;
        a[n++] = argv[0];
        for (size_t i = 0; i < config_key_count(); i++) {
                const ConfigKey *k = config_key(i);
                const ConfigValue *v = &p->effective.values[i];
                char *s;

                if (!k->run_option || v->origin == CONFIG_ORIGIN_BUILTIN ||
                    v->origin == CONFIG_ORIGIN_CMDLINE || !*v->value)
                        continue;
                if (k->type == CONFIG_BOOL) {
                        if (!config_value_is_true(v->value))
                                continue;
                        if (asprintf(&s, "--%s", k->name) < 0)
                                return -ENOMEM;
                } else if (asprintf(&s, "--%s=%s", k->name, v->value) < 0)
                        return -ENOMEM;
                if (strv_append(&p->owned, &n_owned, s) < 0)
                        return -ENOMEM;
                a[n++] = s;
        }
        for (int i = 1; i < argc; i++)
                a[n++] = argv[i];
        a[n] = NULL;
        *ret_argc = (int)n;
        return 0;
}

static int resolve(PolicyFile *p, const ConfigSet *set, ConfigEffective *ret_eff, PolicyConfig *ret_law)
{
        ConfigProblems problems = {};
        ConfigEffective e = {};
        int r;

        r = config_resolve(set, &p->selector, &e, &problems);
        problems_log(&problems);
        config_problems_clear(&problems);
        if (r == -ENOMEM)
                return log_error_errno(r, "Failed to resolve the policy: %m");
        if (r < 0)
                return r;
        r = config_effective_law(&e, ret_law);
        if (r < 0) {
                config_effective_clear(&e);
                return log_error_errno(r, "Failed to apply the policy to the control law: %m");
        }
        *ret_eff = e;
        return 0;
}

int policyfile_apply(int argc, char **argv, RunOptions *o)
{
        _cleanup_(policyfile_freep) PolicyFile *p = NULL;
        const char *dir, *profile;
        RunOptions final;
        int r, n;

        p = calloc(1, sizeof(*p));
        if (!p)
                return log_error_errno(-ENOMEM, "Failed to read the policy: %m");
        dir = o->config_dir ?: launchenv_get(environ, "MEMGOV_CONFIG_DIR");
        p->dir_explicit = dir && *dir;
        p->dir = strdup(p->dir_explicit ? dir : platform_policy_dir());
        if (!p->dir)
                return log_error_errno(-ENOMEM, "Failed to read the policy: %m");
        r = load_all(p->dir, p->dir_explicit, &p->set, &p->paths);
        if (r < 0)
                return r == -ENOMEM ? log_error_errno(r, "Failed to read the policy: %m") : r;

        r = platform_find_executable(o->argv[0], launchenv_get(environ, "PATH"), &p->exe_path);
        if (r < 0)
                p->exe_path = NULL; /* run says why; the exe rules just cannot match */
        r = scan_cmdline(argc, argv, o->argv, &p->cmdline_keys);
        if (r < 0)
                return log_error_errno(r, "Failed to read the command line: %m");
        profile = o->profile ?: launchenv_get(environ, "MEMGOV_PROFILE");
        p->selector = (ConfigSelector){
                .profile = profile && *profile ? profile : NULL,
                .argv = o->argv,
                .exe_path = p->exe_path,
                .envp = environ,
                .cmdline_keys = p->cmdline_keys,
        };
        r = resolve(p, p->set, &p->effective, &p->law);
        if (r < 0)
                return r;

        r = build_argv(p, argc, argv, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to apply the policy: %m");
        r = cli_parse_run(n, p->argv, &final);
        if (r != 0)
                return -EINVAL; /* said by cli_parse_run(); the files were validated, so the command line */
        final.policy = TAKE_PTR(p);
        *o = final;
        return 0;
}

static void log_changes(const ConfigEffective *old, const ConfigEffective *new)
{
        for (size_t i = 0; i < config_key_count() && i < old->n_values && i < new->n_values; i++) {
                const ConfigKey *k = config_key(i);
                const char *a = old->values[i].value, *b = new->values[i].value;
                bool live = k->type == CONFIG_LAW || strcmp(k->name, "grace") == 0 ||
                            strcmp(k->name, "on-cannot-fit") == 0 || strcmp(k->name, "memory-max") == 0 ||
                            strcmp(k->name, "memory-high") == 0;

                if (strcmp(a, b) == 0)
                        continue;
                if (live)
                        log_notice("Policy: %s %s -> %s.", k->name, *a ? a : "(unset)", *b ? b : "(unset)");
                else
                        log_notice(
                                "Policy: %s changed from %s to %s; it applies when the program is next started, not to the running group.",
                                k->name, *a ? a : "(unset)", *b ? b : "(unset)");
        }
}

int policyfile_limits(const PolicyFile *p, const LimitSpec *current, LimitSpec *ret)
{
        LimitSpec spec = *current;

        for (size_t i = 0; i < config_key_count() && i < p->effective.n_values; i++) {
                const char *name = config_key(i)->name, *v = p->effective.values[i].value;
                int r = 0;

                if (p->effective.values[i].origin == CONFIG_ORIGIN_CMDLINE)
                        continue;
                if (strcmp(name, "memory-max") == 0)
                        r = units_parse_size(*v ? v : "max", &spec.memory_max_bytes);
                else if (strcmp(name, "memory-high") == 0)
                        r = units_parse_size_or_percent(*v ? v : "max", &spec.memory_high_bytes,
                                                        &spec.memory_high_permyriad,
                                                        &spec.memory_high_is_percent);
                if (r < 0)
                        return -EINVAL;
        }
        *ret = spec;
        return 0;
}

int policyfile_reload(PolicyFile *p, PolicyConfig *ret_law, usec_t *ret_grace_usec)
{
        _cleanup_config_set_ ConfigSet *set = NULL;
        _cleanup_strv_free_ char **paths = NULL;
        ConfigEffective e = {};
        PolicyConfig law;
        usec_t grace = 0;
        int r;

        r = load_all(p->dir, p->dir_explicit, &set, &paths);
        if (r >= 0)
                r = resolve(p, set, &e, &law);
        if (r >= 0) {
                for (size_t i = 0; i < config_key_count(); i++)
                        if (strcmp(config_key(i)->name, "grace") == 0)
                                r = units_parse_duration(e.values[i].value, &grace);
                if (r < 0)
                        config_effective_clear(&e);
        }
        if (r < 0) {
                log_error("Policy reload from %s failed (see above); keeping the policy in force.", p->dir);
                return r;
        }
        if (!streq_ptr(p->effective.profile, e.profile))
                log_notice("Policy: profile %s -> %s.", p->effective.profile ?: "(none)",
                           e.profile ?: "(none)");
        log_changes(&p->effective, &e);
        config_effective_clear(&p->effective);
        config_set_free(p->set);
        strv_free(p->paths);
        p->effective = e;
        p->set = TAKE_PTR(set);
        p->paths = TAKE_PTR(paths);
        p->law = law;
        *ret_law = law;
        *ret_grace_usec = grace;
        log_notice("Policy reloaded from %s (%zu file(s)).", p->dir, strv_count(p->paths));
        return 0;
}

bool policyfile_in_use(const PolicyFile *p)
{
        return p && (p->dir_explicit || (p->paths && p->paths[0]));
}

void policyfile_explain(const PolicyFile *p)
{
        char env[80];

        printf("policy files:      ");
        if (!p->paths || !p->paths[0])
                printf("none in %s\n", p->dir);
        else
                STRV_FOREACH (path, p->paths)
                        printf("%s%s", *path, path[1] ? ", " : "\n");
        if (p->effective.profile)
                printf("profile:           %s (%s)\n", p->effective.profile, p->effective.profile_why);
        else
                printf("profile:           none (no --profile, and no profile's match rules matched)\n");
        printf("effective policy:  (built-in < [defaults] < profile < MEMGOV_* < command line)\n");
        for (size_t i = 0; i < config_key_count() && i < p->effective.n_values; i++) {
                const ConfigKey *k = config_key(i);
                const ConfigValue *v = &p->effective.values[i];

                printf("  %-30s %-10s # ", k->name, *v->value ? v->value : "(unset)");
                switch (v->origin) {
                case CONFIG_ORIGIN_DEFAULTS:
                        printf("[defaults] %s:%u\n", v->file, v->line);
                        break;
                case CONFIG_ORIGIN_PROFILE:
                        printf("[profile \"%s\"] %s:%u\n", p->effective.profile, v->file, v->line);
                        break;
                case CONFIG_ORIGIN_ENV:
                        printf("environment %s\n", config_env_name(k->name, env, sizeof(env)));
                        break;
                default:
                        printf("%s\n", config_origin_to_string(v->origin));
                }
        }
}

static int check_files(char **files, ConfigProblems *problems)
{
        STRV_FOREACH (path, files) {
                _cleanup_config_set_ ConfigSet *set = NULL;
                int r;

                r = config_set_new(&set);
                if (r < 0)
                        return r;
                /* Each file on its own: a fleet's files are checked before they are deployed together. */
                r = load_one(set, *path, problems);
                if (r == -ENOMEM)
                        return r;
                if (config_set_check(set, problems) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int policyfile_check_main(int argc, char **argv)
{
        _cleanup_strv_free_ char **listed = NULL;
        ConfigProblems problems = {};
        char buf[1024];
        const char *dir;
        int r;

        if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                printf("Usage: memgov check [FILE...]\n\n"
                       "Validate policy files (docs/policy.md). Prints one 'file:line: key: reason' line\n"
                       "for every problem and exits 1 if there is an error, 0 if there is none (warnings,\n"
                       "such as ignored X- keys, do not fail). Without FILE, checks the files memgov run\n"
                       "reads: $MEMGOV_CONFIG_DIR or %s, memgov.ini and conf.d/*.ini.\n",
                       platform_policy_dir());
                return 0;
        }
        if (argc > 1) {
                r = check_files(argv + 1, &problems);
        } else {
                dir = launchenv_get(environ, "MEMGOV_CONFIG_DIR");
                r = list_files(dir && *dir ? dir : platform_policy_dir(), dir && *dir, &listed, &problems);
                if (r >= 0)
                        r = check_files(listed, &problems);
                else if (problems.n_errors > 0)
                        r = 0;
        }
        if (r < 0) {
                config_problems_clear(&problems);
                log_error_errno(r, "Failed to check the policy files: %m");
                return EXIT_MEMGOV_FAILURE;
        }
        for (size_t i = 0; i < problems.n; i++)
                printf("%s\n", config_problem_format(&problems.items[i], buf, sizeof(buf)));
        r = problems.n_errors > 0 ? 1 : 0;
        config_problems_clear(&problems);
        return r;
}

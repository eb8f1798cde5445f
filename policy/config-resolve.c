/* SPDX-License-Identifier: MIT */
/* Choosing the profile and each key's value: built-in, [defaults], profile, environment, command line. */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-set.h"
#include "macro.h"

const char *config_origin_to_string(ConfigOrigin o)
{
        static const char *const table[_CONFIG_ORIGIN_MAX] = {
                [CONFIG_ORIGIN_BUILTIN] = "built-in",     [CONFIG_ORIGIN_DEFAULTS] = "[defaults]",
                [CONFIG_ORIGIN_PROFILE] = "profile",      [CONFIG_ORIGIN_ENV] = "environment",
                [CONFIG_ORIGIN_CMDLINE] = "command line",
        };
        return (unsigned)o < _CONFIG_ORIGIN_MAX ? table[o] : "unknown";
}

const char *config_env_name(const char *key, char *buf, size_t size)
{
        size_t n = snprintf(buf, size, "MEMGOV_");
        for (const char *c = key; *c && n + 1 < size; c++)
                buf[n++] = *c == '-' ? '_' : (*c >= 'a' && *c <= 'z') ? (char)(*c - 'a' + 'A') : *c;
        buf[n < size ? n : size - 1] = '\0';
        return buf;
}

static const char *env_get(char **envp, const char *name)
{
        size_t n = strlen(name);
        STRV_FOREACH (e, envp)
                if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
                        return *e + n + 1;
        return NULL;
}

/* Any of the space-separated patterns matches s. */
static const char *patterns_match(const char *patterns, const char *s, char *buf, size_t size)
{
        for (const char *w = patterns; *w;) {
                size_t n = strcspn(w, " \t");
                if (n < size) {
                        memcpy(buf, w, n);
                        buf[n] = '\0';
                        if (s && fnmatch(buf, s, 0) == 0)
                                return buf;
                }
                w += n;
                w += strspn(w, " \t");
        }
        return NULL;
}

static const char *env_patterns_match(const char *patterns, char **envp, char *buf, size_t size)
{
        for (const char *w = patterns; *w;) {
                size_t n = strcspn(w, " \t");
                if (n < size) {
                        char *eq;
                        const char *v;
                        memcpy(buf, w, n);
                        buf[n] = '\0';
                        eq = strchr(buf, '=');
                        if (eq) {
                                *eq = '\0';
                                v = env_get(envp, buf);
                                *eq = '=';
                                if (v && fnmatch(eq + 1, v, 0) == 0)
                                        return buf;
                        }
                }
                w += n;
                w += strspn(w, " \t");
        }
        return NULL;
}

/* Every match-* key the profile has must match; within one, any pattern. No match key: never chosen. */
static bool profile_matches(const Section *sec, const ConfigSelector *sel, char *why, size_t size)
{
        const Entry *cmd = config_section_lookup(sec, "match-command"),
                    *exe = config_section_lookup(sec, "match-exe"),
                    *env = config_section_lookup(sec, "match-env");
        const char *base = NULL, *hit;
        char buf[256];
        size_t n = 0;

        if (!cmd && !exe && !env)
                return false;
        if (sel->argv && sel->argv[0]) {
                base = strrchr(sel->argv[0], '/');
                base = base ? base + 1 : sel->argv[0];
        }
        why[0] = '\0';
        if (cmd) {
                if (!(hit = patterns_match(cmd->value, base, buf, sizeof(buf))))
                        return false;
                n += snprintf(why + n, n < size ? size - n : 0, "%smatch-command %s (%s:%u)", n ? ", " : "",
                              hit, cmd->file, cmd->line);
        }
        if (exe) {
                if (!(hit = patterns_match(exe->value, sel->exe_path, buf, sizeof(buf))))
                        return false;
                n += snprintf(why + n, n < size ? size - n : 0, "%smatch-exe %s (%s:%u)", n ? ", " : "", hit,
                              exe->file, exe->line);
        }
        if (env) {
                if (!(hit = env_patterns_match(env->value, sel->envp, buf, sizeof(buf))))
                        return false;
                n += snprintf(why + n, n < size ? size - n : 0, "%smatch-env %s (%s:%u)", n ? ", " : "", hit,
                              env->file, env->line);
        }
        return true;
}

void config_effective_clear(ConfigEffective *e)
{
        free(e->values);
        *e = (ConfigEffective){};
}

static const Section *choose_profile(const ConfigSet *s, const ConfigSelector *sel, ConfigEffective *e,
                                     ConfigProblems *problems, int *ret_error)
{
        const Section *sec;

        *ret_error = 0;
        if (sel->profile) {
                sec = config_section_find(s, sel->profile);
                if (!sec) {
                        char reason[128];
                        snprintf(reason, sizeof(reason), "no [profile \"%.64s\"] in the policy files",
                                 sel->profile);
                        *ret_error =
                                config_problems_add(problems, "command line", 0, "profile", false, reason);
                        if (*ret_error >= 0)
                                *ret_error = -EINVAL;
                        return NULL;
                }
                snprintf(e->profile_why, sizeof(e->profile_why), "chosen by name");
                return sec;
        }
        for (size_t i = 0; i < s->n_sections; i++) {
                sec = &s->sections[i];
                if (sec->profile && profile_matches(sec, sel, e->profile_why, sizeof(e->profile_why)))
                        return sec;
        }
        e->profile_why[0] = '\0';
        return NULL;
}

int config_resolve(const ConfigSet *s, const ConfigSelector *sel, ConfigEffective *ret,
                   ConfigProblems *problems)
{
        ConfigEffective e = {};
        const Section *defaults = config_section_find(s, NULL), *profile;
        size_t errors_before = problems->n_errors, n_keys = config_key_count();
        int r;

        e.values = calloc(n_keys, sizeof(*e.values));
        if (!e.values)
                return -ENOMEM;
        e.n_values = n_keys;
        profile = choose_profile(s, sel, &e, problems, &r);
        if (r < 0) {
                config_effective_clear(&e);
                return r;
        }
        e.profile = profile ? profile->profile : NULL;

        for (size_t i = 0; i < n_keys; i++) {
                const ConfigKey *k = config_key(i);
                ConfigValue *v = &e.values[i];
                const Entry *x;
                const char *env, *reason;
                char env_name[80];

                *v = (ConfigValue){.value = k->builtin, .origin = CONFIG_ORIGIN_BUILTIN};
                if ((x = config_section_lookup(defaults, k->name)))
                        *v = (ConfigValue){x->value, CONFIG_ORIGIN_DEFAULTS, x->file, x->line};
                if ((x = config_section_lookup(profile, k->name)))
                        *v = (ConfigValue){x->value, CONFIG_ORIGIN_PROFILE, x->file, x->line};
                config_env_name(k->name, env_name, sizeof(env_name));
                if ((env = env_get(sel->envp, env_name))) {
                        if (config_key_validate(k, env, &reason) < 0) {
                                char buf[320];
                                snprintf(buf, sizeof(buf), "'%.64s': %s", env, reason);
                                r = config_problems_add(problems, "environment", 0, env_name, false, buf);
                                if (r < 0) {
                                        config_effective_clear(&e);
                                        return r;
                                }
                        } else
                                *v = (ConfigValue){env, CONFIG_ORIGIN_ENV, NULL, 0};
                }
                STRV_FOREACH (c, sel->cmdline_keys) {
                        size_t n = strlen(k->name);
                        if (strncmp(*c, k->name, n) == 0 && (*c)[n] == '=')
                                *v = (ConfigValue){*c + n + 1, CONFIG_ORIGIN_CMDLINE, NULL, 0};
                }
                /* An empty value resets the key to its built-in default, wherever it is set. */
                if (!*v->value)
                        v->value = k->builtin;
        }
        if (problems->n_errors > errors_before) {
                config_effective_clear(&e);
                return -EINVAL;
        }
        *ret = e;
        return 0;
}

int config_effective_law(const ConfigEffective *e, PolicyConfig *ret)
{
        PolicyConfig c;
        int r;

        policy_config_default(&c);
        for (size_t i = 0; i < e->n_values && i < config_key_count(); i++) {
                const ConfigKey *k = config_key(i);
                const char *v = e->values[i].value;

                if (!*v)
                        continue;
                if (k->type == CONFIG_LAW)
                        r = policy_config_set(&c, k->law_field, v);
                else if (strcmp(k->name, "on-cannot-fit") == 0)
                        r = policy_config_set(&c, "give_up", v);
                else
                        continue;
                if (r < 0)
                        return r;
        }
        *ret = c;
        return 0;
}

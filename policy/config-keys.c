/* SPDX-License-Identifier: MIT */
/* The keys a policy file may set (the run options' table and the law's fields) and how each value is
 * checked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "config.h"
#include "macro.h"
#include "units.h"

/* The `run` options a policy can set: the key is the long option, the value its argument, the default as
 * `memgov run --help` states it ("" for not set). A new run option is one row here. */
#define RUN_KEY(n, t, def)                                               \
        {                                                                \
                .name = n, .type = t, .builtin = def, .run_option = true \
        }
#define RUN_ENUM(n, vals, why, def)                                                          \
        {                                                                                    \
                .name = n, .type = CONFIG_ENUM, .values = vals, .hint = why, .builtin = def, \
                .run_option = true                                                           \
        }
static const ConfigKey run_keys[] = {
        RUN_KEY("memory-max", CONFIG_SIZE, "max"),
        RUN_KEY("memory-high", CONFIG_SIZE_OR_PERCENT, "max"),
        RUN_KEY("swap-max", CONFIG_SIZE, ""),
        RUN_KEY("name", CONFIG_STRING, ""),
        RUN_KEY("parent", CONFIG_STRING, ""),
        RUN_KEY("grace", CONFIG_DURATION, "10s"),
        RUN_ENUM("on-cannot-fit", "let-oom|kill", "expected let-oom or kill", "let-oom"),
        RUN_KEY("agent-socket", CONFIG_BOOL, "no"),
        RUN_KEY("no-agent", CONFIG_BOOL, "no"),
        RUN_ENUM("runtime", "auto|go|jvm|node|dotnet|glibc|jemalloc|none",
                 "expected auto, go, jvm, node, dotnet, glibc, jemalloc or none", "auto"),
        RUN_KEY("gogc", CONFIG_GOGC, ""),
        RUN_KEY("jvm-reserve", CONFIG_SIZE_NOT_MAX, "64M"),
        RUN_KEY("node-reserve", CONFIG_SIZE_NOT_MAX, "32M"),
        RUN_KEY("dotnet-reserve", CONFIG_SIZE_NOT_MAX, "64M"),
        RUN_KEY("init", CONFIG_BOOL, "no"),
        RUN_KEY("observe", CONFIG_BOOL, "no"),
        RUN_KEY("oom-score-adj", CONFIG_OOM_SCORE_ADJ, ""),
        RUN_KEY("metrics-file", CONFIG_STRING, ""),
        RUN_KEY("metrics-listen", CONFIG_STRING, ""),
        RUN_KEY("trace", CONFIG_STRING, ""),
        RUN_ENUM("capture", "on|off", "expected on or off", "on"),
        RUN_KEY("capture-dir", CONFIG_STRING, ""),
        RUN_KEY("capture-budget", CONFIG_SIZE, "1G"),
        RUN_KEY("capture-interval", CONFIG_DURATION, "1m"),
        RUN_ENUM("log-format", "auto|text|logfmt|journal", "expected auto, text, logfmt or journal", "auto"),
};

#define KEYS_MAX 128
static ConfigKey all_keys[KEYS_MAX];
static char law_names[KEYS_MAX][64], law_builtins[KEYS_MAX][32];
static size_t n_all_keys;

/* "headroom_min_bytes" -> "headroom-min": the unit is in the value ("8M"), not in the key. */
static void law_key_name(const char *field, char *buf, size_t size)
{
        static const char *const suffixes[] = {"_permyriad", "_bytes", "_usec"};
        size_t n = strlen(field);

        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                size_t m = strlen(suffixes[i]);
                if (n > m && strcmp(field + n - m, suffixes[i]) == 0) {
                        n -= m;
                        break;
                }
        }
        if (n >= size)
                n = size - 1;
        for (size_t i = 0; i < n; i++)
                buf[i] = field[i] == '_' ? '-' : field[i];
        buf[n] = '\0';
}

static void keys_init(void)
{
        PolicyConfig def;
        const char *field;

        if (n_all_keys > 0)
                return;
        for (size_t i = 0; i < ELEMENTSOF(run_keys); i++)
                all_keys[n_all_keys++] = run_keys[i];
        policy_config_default(&def);
        for (size_t i = 0; (field = policy_config_field_name(i)) && n_all_keys < KEYS_MAX; i++) {
                /* give_up is on-cannot-fit, the run option, already in the table. */
                if (strcmp(field, "give_up") == 0)
                        continue;
                law_key_name(field, law_names[n_all_keys], sizeof(law_names[0]));
                (void)policy_config_format(&def, field, law_builtins[n_all_keys], sizeof(law_builtins[0]));
                all_keys[n_all_keys] = (ConfigKey){
                        .name = law_names[n_all_keys],
                        .type = CONFIG_LAW,
                        .builtin = law_builtins[n_all_keys],
                        .law_field = field,
                };
                n_all_keys++;
        }
}

size_t config_key_count(void)
{
        keys_init();
        return n_all_keys;
}

const ConfigKey *config_key(size_t i)
{
        keys_init();
        return i < n_all_keys ? &all_keys[i] : NULL;
}

static ssize_t key_index(const char *name)
{
        keys_init();
        for (size_t i = 0; i < n_all_keys; i++)
                if (strcmp(all_keys[i].name, name) == 0)
                        return (ssize_t)i;
        return -1;
}

const ConfigKey *config_key_find(const char *name)
{
        ssize_t i = key_index(name);
        return i < 0 ? NULL : &all_keys[i];
}

static bool enum_has(const char *values, const char *v)
{
        size_t n = strlen(v);

        for (const char *p = values; p && *p;) {
                const char *bar = strchr(p, '|');
                size_t m = bar ? (size_t)(bar - p) : strlen(p);
                if (m == n && strncmp(p, v, n) == 0)
                        return true;
                p = bar ? bar + 1 : NULL;
        }
        return false;
}

static const char *law_reason(const ConfigKey *k, int r)
{
        const char *f = k->law_field;
        size_t n = strlen(f);

        if (n > 10 && strcmp(f + n - 10, "_permyriad") == 0)
                return r == -ERANGE ? "a percentage must be at most 100%"
                                    : "expected a percentage such as 5% or 12.5%";
        if (n > 5 && strcmp(f + n - 5, "_usec") == 0)
                return units_error_hint(r, "duration");
        if (n > 6 && strcmp(f + n - 6, "_bytes") == 0)
                return units_error_hint(r, "size");
        return "expected yes or no";
}

int config_key_validate(const ConfigKey *k, const char *value, const char **ret_reason)
{
        uint64_t bytes;
        uint32_t pm;
        bool is_percent;
        usec_t usec;
        PolicyConfig scratch;
        const char *reason = NULL;
        int r;

        if (!*value)
                return 0;
        switch (k->type) {
        case CONFIG_SIZE:
        case CONFIG_SIZE_NOT_MAX:
                r = units_parse_size(value, &bytes);
                if (r < 0)
                        reason = units_error_hint(r, "size");
                else if (k->type == CONFIG_SIZE_NOT_MAX && bytes == SIZE_MAX_UNLIMITED)
                        reason = "a reserve must be a size, not 'max'";
                break;
        case CONFIG_SIZE_OR_PERCENT:
                r = units_parse_size_or_percent(value, &bytes, &pm, &is_percent);
                if (r < 0)
                        reason = r == -ERANGE && strchr(value, '%')
                                         ? "a percentage must be above 0% and at most 100%"
                                         : units_error_hint(r, "percent");
                break;
        case CONFIG_DURATION:
                r = units_parse_duration(value, &usec);
                if (r < 0)
                        reason = units_error_hint(r, "duration");
                break;
        case CONFIG_BOOL:
                if (!enum_has("yes|no|true|false|on|off|1|0", value))
                        reason = "expected yes or no";
                break;
        case CONFIG_ENUM:
                if (!enum_has(k->values, value))
                        reason = k->hint;
                break;
        case CONFIG_STRING:
                break;
        case CONFIG_GOGC:
                if (strcmp(value, "off") != 0 && strspn(value, "0123456789") != strlen(value))
                        reason = "expected a percentage such as 100, or 'off'";
                break;
        case CONFIG_OOM_SCORE_ADJ: {
                char *end;
                long v;
                errno = 0;
                v = strtol(value, &end, 10);
                if (errno != 0 || end == value || *end != '\0' || v < -1000 || v > 1000)
                        reason = "expected a whole number from -1000 to 1000";
                break;
        }
        case CONFIG_LAW:
                policy_config_default(&scratch);
                r = policy_config_set(&scratch, k->law_field, value);
                if (r < 0)
                        reason = law_reason(k, r);
                break;
        }
        if (reason) {
                *ret_reason = reason;
                return -EINVAL;
        }
        return 0;
}

bool config_value_is_true(const char *value)
{
        return enum_has("yes|true|on|1", value);
}

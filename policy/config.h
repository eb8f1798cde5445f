/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Policy files (docs/policy.md, memgov.ini(5)): the schema, the parser and the
 * precedence. Pure: text comes in as buffers, the environment and the command
 * as string lists; no I/O, no clock.
 *
 * The schema is one table of keys. A key is either a `run` option (the key is
 * the long option's name, the value its argument) or a control-law parameter
 * (derived from policy_config_field_name(): "headroom_min_bytes" becomes
 * "headroom-min"). Adding a run option to the policy is one row in
 * run_keys[] in config-keys.c.
 *
 * Every file is staged: it is parsed into a scratch set and merged only when
 * it has no error at all, so a truncated or half-valid file never reaches a
 * running governor.
 */

#include <stdbool.h>
#include <stddef.h>

#include "law.h"

typedef enum ConfigType {
        CONFIG_SIZE,            /* 512M, 1G, max */
        CONFIG_SIZE_NOT_MAX,    /* a size, not max (the runtime reserves) */
        CONFIG_SIZE_OR_PERCENT, /* 90% or a size */
        CONFIG_DURATION,        /* 500ms, 10s, 2m */
        CONFIG_BOOL,            /* yes/no; a flag on the command line */
        CONFIG_ENUM,            /* one of ConfigKey.values, '|'-separated */
        CONFIG_STRING,          /* any non-empty text */
        CONFIG_GOGC,            /* a number or off */
        CONFIG_OOM_SCORE_ADJ,   /* an integer from -1000 to 1000 */
        CONFIG_LAW,             /* a control-law parameter: policy_config_set() decides */
} ConfigType;

typedef struct ConfigKey {
        const char *name;      /* as in the file: "memory-max", "headroom-min" */
        ConfigType type;       /* for CONFIG_LAW: the law's own parser */
        const char *values;    /* CONFIG_ENUM: "let-oom|kill" ... */
        const char *hint;      /* ... and what an error says: "expected let-oom or kill" */
        const char *builtin;   /* the built-in default, as text */
        const char *law_field; /* CONFIG_LAW: the PolicyConfig field */
        bool run_option;       /* applied as --NAME by the command line parser */
} ConfigKey;

/* The whole schema. Index i is stable for one build; NULL past the end. */
const ConfigKey *config_key(size_t i);
size_t config_key_count(void);
const ConfigKey *config_key_find(const char *name);

/* Checks a value against its key's type. 0, or -EINVAL with *ret_reason set
 * to a static string that says why. An empty value is valid: it resets the key. */
int config_key_validate(const ConfigKey *k, const char *value, const char **ret_reason);
/* yes, true, on, 1: a CONFIG_BOOL value that turns the flag on. */
bool config_value_is_true(const char *value);

/* One problem, as `memgov check` prints it: "file:line: key: reason". */
typedef struct ConfigProblem {
        char *file;
        unsigned line;
        char *key; /* "" when the problem is not about a key (a bad section) */
        char *reason;
        bool warning; /* X- keys: ignored, said so; not an error */
} ConfigProblem;

typedef struct ConfigProblems {
        ConfigProblem *items;
        size_t n;
        size_t n_errors;
} ConfigProblems;

void config_problems_clear(ConfigProblems *p);
/* Appends one problem (copies the strings). Returns 0 or -ENOMEM. */
int config_problems_add(ConfigProblems *p, const char *file, unsigned line, const char *key, bool warning,
                        const char *reason);
/* "file:line: key: reason" (with "warning: " before the reason for warnings). Returns buf. */
const char *config_problem_format(const ConfigProblem *p, char *buf, size_t size);

typedef struct ConfigSet ConfigSet;

int config_set_new(ConfigSet **ret);
ConfigSet *config_set_free(ConfigSet *s);
static inline void config_set_freep(ConfigSet **s)
{
        config_set_free(*s);
}
#define _cleanup_config_set_ __attribute__((cleanup(config_set_freep)))

/*
 * Parses one file's text (size bytes; NULs are an error) named filename in
 * messages, and merges it into s, later files overriding earlier ones key by
 * key. All or nothing: on any error s is unchanged and every problem is
 * appended to problems. Returns 0 (warnings may have been added), -EINVAL
 * (errors were added) or -ENOMEM.
 */
int config_set_load_buffer(ConfigSet *s, const char *filename, const char *text, size_t size,
                           ConfigProblems *problems);

/*
 * Checks what no single key can: for [defaults] and for each profile over it, memory-high as a size must
 * not exceed memory-max. Warnings, at the memory-high line: the environment or the command line may still
 * change either. Returns 0 or -ENOMEM.
 */
int config_set_check(const ConfigSet *s, ConfigProblems *problems);

/* How many [profile "..."] sections, and the i-th name, in order of first appearance. */
size_t config_set_profile_count(const ConfigSet *s);
const char *config_set_profile_name(const ConfigSet *s, size_t i);

typedef enum ConfigOrigin {
        CONFIG_ORIGIN_BUILTIN,
        CONFIG_ORIGIN_DEFAULTS, /* [defaults] in a file */
        CONFIG_ORIGIN_PROFILE,  /* the chosen [profile "..."] */
        CONFIG_ORIGIN_ENV,      /* MEMGOV_<KEY> */
        CONFIG_ORIGIN_CMDLINE,
        _CONFIG_ORIGIN_MAX,
} ConfigOrigin;

const char *config_origin_to_string(ConfigOrigin o);

/* What chooses the profile, and the layers above the files. */
typedef struct ConfigSelector {
        const char *profile;  /* --profile / MEMGOV_PROFILE; NULL: match rules decide */
        char **argv;          /* the command */
        const char *exe_path; /* argv[0] resolved on PATH, or NULL */
        char **envp;          /* the environment: read for match-env and MEMGOV_<KEY> */
        char **cmdline_keys;  /* "key=value" given as options on the command line */
} ConfigSelector;

typedef struct ConfigValue {
        const char *value; /* never NULL: the built-in text when nothing else set it */
        ConfigOrigin origin;
        const char *file; /* CONFIG_ORIGIN_DEFAULTS/PROFILE */
        unsigned line;
} ConfigValue;

typedef struct ConfigEffective {
        const char *profile;   /* NULL: none */
        char profile_why[256]; /* "chosen with --profile", "match-command: api-*" */
        size_t n_values;
        ConfigValue *values; /* config_key(i)'s value at [i]; malloc'd; points into the set and selector */
} ConfigEffective;

void config_effective_clear(ConfigEffective *e);

/*
 * The effective configuration for one command: built-in < [defaults] <
 * [profile] < MEMGOV_<KEY> < command line. Problems with the environment or an
 * unknown --profile are errors (file "environment"/"command line"); returns
 * -EINVAL then, 0 on success, -ENOMEM. The result points into s and sel: they
 * must outlive it.
 */
int config_resolve(const ConfigSet *s, const ConfigSelector *sel, ConfigEffective *ret,
                   ConfigProblems *problems);

/* The law's parameters from the effective configuration (on-cannot-fit maps to give_up). */
int config_effective_law(const ConfigEffective *e, PolicyConfig *ret);

/* "MEMGOV_MEMORY_MAX" for "memory-max". Returns buf. */
const char *config_env_name(const char *key, char *buf, size_t size);

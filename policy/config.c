/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "macro.h"
#include "units.h"

/* inih copies section and key names into fixed buffers of 50 and silently truncates longer ones; the reader
 * below rejects them first, so a truncated name can never match a real key. */
#define INIH_NAME_MAX 49

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

/* ---- problems ---- */

static void problem_free(ConfigProblem *p)
{
        free(p->file);
        free(p->key);
        free(p->reason);
}

void config_problems_clear(ConfigProblems *p)
{
        for (size_t i = 0; i < p->n; i++)
                problem_free(&p->items[i]);
        free(p->items);
        *p = (ConfigProblems){};
}

int config_problems_add(ConfigProblems *p, const char *file, unsigned line, const char *key, bool warning,
                        const char *reason)
{
        ConfigProblem *k, x = {
                                  .file = strdup(file),
                                  .line = line,
                                  .key = strdup(key ? key : ""),
                                  .reason = strdup(reason),
                                  .warning = warning,
                          };

        if (!x.file || !x.key || !x.reason) {
                problem_free(&x);
                return -ENOMEM;
        }
        k = realloc(p->items, (p->n + 1) * sizeof(*k));
        if (!k) {
                problem_free(&x);
                return -ENOMEM;
        }
        p->items = k;
        p->items[p->n++] = x;
        if (!warning)
                p->n_errors++;
        return 0;
}

const char *config_problem_format(const ConfigProblem *p, char *buf, size_t size)
{
        char line[16] = "";

        if (p->line > 0)
                snprintf(line, sizeof(line), ":%u", p->line);
        snprintf(buf, size, "%s%s: %s%s%s%s", p->file, line, p->key, *p->key ? ": " : "",
                 p->warning ? "warning: " : "", p->reason);
        return buf;
}

/* ---- the set ---- */

typedef struct Entry {
        char *key, *value, *file;
        unsigned line;
} Entry;

typedef struct Section {
        char *profile; /* NULL: [defaults] */
        Entry *entries;
        size_t n;
} Section;

struct ConfigSet {
        Section *sections;
        size_t n_sections;
};

int config_set_new(ConfigSet **ret)
{
        ConfigSet *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

static void section_done(Section *sec)
{
        for (size_t i = 0; i < sec->n; i++) {
                free(sec->entries[i].key);
                free(sec->entries[i].value);
                free(sec->entries[i].file);
        }
        free(sec->entries);
        free(sec->profile);
}

ConfigSet *config_set_free(ConfigSet *s)
{
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_sections; i++)
                section_done(&s->sections[i]);
        free(s->sections);
        free(s);
        return NULL;
}

static bool same_profile(const char *a, const char *b)
{
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static Section *section_find(const ConfigSet *s, const char *profile)
{
        for (size_t i = 0; i < s->n_sections; i++)
                if (same_profile(s->sections[i].profile, profile))
                        return &s->sections[i];
        return NULL;
}

static int section_get(ConfigSet *s, const char *profile, Section **ret)
{
        Section *k;
        char *name = NULL;

        k = section_find(s, profile);
        if (k) {
                *ret = k;
                return 0;
        }
        if (profile && !(name = strdup(profile)))
                return -ENOMEM;
        k = realloc(s->sections, (s->n_sections + 1) * sizeof(*k));
        if (!k) {
                free(name);
                return -ENOMEM;
        }
        s->sections = k;
        k = &s->sections[s->n_sections++];
        *k = (Section){.profile = name};
        *ret = k;
        return 0;
}

static const Entry *section_lookup(const Section *sec, const char *key)
{
        for (size_t i = 0; sec && i < sec->n; i++)
                if (strcmp(sec->entries[i].key, key) == 0)
                        return &sec->entries[i];
        return NULL;
}

/* Later wins: a drop-in replaces the value and where it came from. */
static int section_set(Section *sec, const char *key, const char *value, const char *file, unsigned line)
{
        _cleanup_free_ char *v = strdup(value), *f = strdup(file), *k = NULL;
        Entry *e = (Entry *)section_lookup(sec, key);

        if (!v || !f)
                return -ENOMEM;
        if (e) {
                free(e->value);
                free(e->file);
                e->value = TAKE_PTR(v);
                e->file = TAKE_PTR(f);
                e->line = line;
                return 0;
        }
        k = strdup(key);
        if (!k)
                return -ENOMEM;
        e = realloc(sec->entries, (sec->n + 1) * sizeof(*e));
        if (!e)
                return -ENOMEM;
        sec->entries = e;
        sec->entries[sec->n++] =
                (Entry){.key = TAKE_PTR(k), .value = TAKE_PTR(v), .file = TAKE_PTR(f), .line = line};
        return 0;
}

static int set_merge(ConfigSet *into, const ConfigSet *from)
{
        for (size_t i = 0; i < from->n_sections; i++) {
                const Section *src = &from->sections[i];
                Section *dst;
                int r = section_get(into, src->profile, &dst);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < src->n; j++) {
                        r = section_set(dst, src->entries[j].key, src->entries[j].value,
                                        src->entries[j].file, src->entries[j].line);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

size_t config_set_profile_count(const ConfigSet *s)
{
        size_t n = 0;
        for (size_t i = 0; i < s->n_sections; i++)
                n += s->sections[i].profile != NULL;
        return n;
}

const char *config_set_profile_name(const ConfigSet *s, size_t i)
{
        for (size_t j = 0; j < s->n_sections; j++)
                if (s->sections[j].profile && i-- == 0)
                        return s->sections[j].profile;
        return NULL;
}

/* ---- the parser ---- */

typedef enum SectionKind {
        SECTION_NONE, /* before the first header */
        SECTION_BAD,  /* reported at its header; its keys are skipped */
        SECTION_DEFAULTS,
        SECTION_PROFILE,
} SectionKind;

typedef struct Parser {
        const char *filename;
        const char *text;
        size_t size, pos;
        unsigned line;
        SectionKind kind;
        char profile[INIH_NAME_MAX + 1];
        ConfigSet *stage;
        ConfigProblems *problems;
        int error; /* -ENOMEM */
} Parser;

static void parser_problem(Parser *p, const char *key, bool warning, const char *reason)
{
        int r = config_problems_add(p->problems, p->filename, p->line, key, warning, reason);
        if (r < 0)
                p->error = r;
}

static bool profile_name_ok(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.'))
                        return false;
        }
        return true;
}

/* A header line, "[...]...", as inih will read it: the name is up to the first ']'. */
static void parser_section(Parser *p, const char *line, size_t len)
{
        const char *end = memchr(line, ']', len);
        size_t n;

        p->kind = SECTION_BAD;
        if (!end) {
                parser_problem(p, "", false, "section header without a closing ']'");
                return;
        }
        n = (size_t)(end - line - 1);
        if (n > INIH_NAME_MAX) {
                parser_problem(p, "", false, "section name is too long");
                return;
        }
        if (n == 8 && strncmp(line + 1, "defaults", 8) == 0) {
                p->kind = SECTION_DEFAULTS;
                return;
        }
        if (n > 10 && strncmp(line + 1, "profile \"", 9) == 0 && line[n] == '"' &&
            profile_name_ok(line + 10, n - 10)) {
                memcpy(p->profile, line + 10, n - 10);
                p->profile[n - 10] = '\0';
                p->kind = SECTION_PROFILE;
                return;
        }
        parser_problem(
                p, "", false,
                "not a known section: expected [defaults] or [profile \"NAME\"] (NAME of letters, digits, '-', '_' and '.')");
}

/*
 * inih's reader: hands it one physical line at a time, so p->line is the line the handler is called for,
 * and checks what inih would otherwise get wrong quietly: over-long lines (inih passes their first part on
 * as a value), NUL bytes, over-long names (truncated), and indented lines (inih glues them onto the
 * previous value as a continuation). A rejected line reaches inih as an empty one.
 */
static char *parser_read(char *str, int num, void *stream)
{
        Parser *p = stream;
        const char *line, *nl, *eq;
        size_t len, key_len;

        if (p->pos >= p->size)
                return NULL;
        line = p->text + p->pos;
        nl = memchr(line, '\n', p->size - p->pos);
        len = nl ? (size_t)(nl - line) : p->size - p->pos;
        p->pos += len + (nl ? 1 : 0);
        p->line++;

        if (len > 0 && line[len - 1] == '\r')
                len--;
        if (memchr(line, '\0', len)) {
                parser_problem(p, "", false, "the line contains a NUL byte");
                goto reject;
        }
        if (len + 3 > (size_t)num) {
                char reason[64];
                snprintf(reason, sizeof(reason), "the line is longer than %d characters", num - 3);
                parser_problem(p, "", false, reason);
                goto reject;
        }
        if (p->line == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
                line += 3; /* a UTF-8 byte order mark, as editors on other systems write */
                len -= 3;
        }
        while (len > 0 && (*line == ' ' || *line == '\t')) {
                line++;
                len--;
        }
        if (len == 0 || *line == ';' || *line == '#')
                goto reject; /* nothing to say about it */
        if (*line == '[') {
                parser_section(p, line, len);
                goto pass;
        }
        eq = line;
        while (eq < line + len && *eq != '=' && *eq != ':')
                eq++;
        if (eq == line + len) {
                parser_problem(p, "", false, "not a [section], a 'key = value' line or a comment");
                goto reject;
        }
        key_len = (size_t)(eq - line);
        while (key_len > 0 && (line[key_len - 1] == ' ' || line[key_len - 1] == '\t'))
                key_len--;
        if (key_len == 0) {
                parser_problem(p, "", false, "a value without a key");
                goto reject;
        }
        if (key_len > INIH_NAME_MAX) {
                parser_problem(p, "", false, "the key is too long to be a known one");
                goto reject;
        }
pass:
        memcpy(str, line, len);
        str[len] = '\n';
        str[len + 1] = '\0';
        return str;
reject:
        str[0] = '\n';
        str[1] = '\0';
        return str;
}

static bool match_key(const char *key)
{
        return strcmp(key, "match-command") == 0 || strcmp(key, "match-exe") == 0 ||
               strcmp(key, "match-env") == 0;
}

static void parser_match(Parser *p, const char *key, const char *value)
{
        if (p->kind != SECTION_PROFILE) {
                parser_problem(p, key, false, "match rules belong in a [profile \"NAME\"] section");
                return;
        }
        if (!*value) {
                parser_problem(p, key, false, "expected one or more patterns");
                return;
        }
        if (strcmp(key, "match-env") == 0) {
                /* NAME=GLOB, space-separated. */
                for (const char *w = value; *w;) {
                        size_t n = strcspn(w, " \t"), name = strcspn(w, "=");
                        if (name == 0 || name >= n) {
                                parser_problem(p, key, false, "expected NAME=PATTERN, such as ROLE=api");
                                return;
                        }
                        w += n;
                        w += strspn(w, " \t");
                }
        }
}

static int parser_handle(void *user, const char *section, const char *key, const char *value)
{
        Parser *p = user;
        const ConfigKey *k;
        const char *reason;
        Section *sec;
        int r;

        if (p->kind == SECTION_BAD)
                return 1; /* said at the header */
        if (p->kind == SECTION_NONE) {
                parser_problem(p, key, false,
                               "outside a section: put it under [defaults] or [profile \"NAME\"]");
                return 1;
        }
        if ((key[0] == 'X' || key[0] == 'x') && key[1] == '-') {
                parser_problem(p, key, true, "ignored (X- keys are left for local use)");
                return 1;
        }
        if (match_key(key))
                parser_match(p, key, value);
        else if (!(k = config_key_find(key))) {
                parser_problem(p, key, false, "unknown key");
                return 1;
        } else if (config_key_validate(k, value, &reason) < 0) {
                char buf[320];
                snprintf(buf, sizeof(buf), "'%.64s': %s", value, reason);
                parser_problem(p, key, false, buf);
                return 1;
        }
        r = section_get(p->stage, p->kind == SECTION_PROFILE ? p->profile : NULL, &sec);
        if (r >= 0)
                r = section_set(sec, key, value, p->filename, p->line);
        if (r < 0)
                p->error = r;
        return 1;
}

int config_set_load_buffer(ConfigSet *s, const char *filename, const char *text, size_t size,
                           ConfigProblems *problems)
{
        _cleanup_config_set_ ConfigSet *stage = NULL;
        size_t errors_before = problems->n_errors;
        Parser p = {
                .filename = filename,
                .text = text,
                .size = size,
                .problems = problems,
        };
        int r;

        r = config_set_new(&stage);
        if (r < 0)
                return r;
        p.stage = stage;
        r = ini_parse_stream(parser_read, &p, parser_handle, &p);
        if (p.error < 0)
                return p.error;
        if (r == -2)
                return -ENOMEM;
        if (r > 0 && problems->n_errors == errors_before) {
                /* The reader let through a line inih still refused: say so rather than trust the rest. */
                p.line = (unsigned)r;
                parser_problem(&p, "", false, "not a [section], a 'key = value' line or a comment");
        }
        if (problems->n_errors > errors_before)
                return p.error < 0 ? p.error : -EINVAL;
        return set_merge(s, stage);
}

/* The entry for key in the profile, else in [defaults]. */
static const Entry *lookup_inherited(const Section *profile, const Section *defaults, const char *key)
{
        const Entry *e = section_lookup(profile, key);
        return e ? e : section_lookup(defaults, key);
}

static int check_limits(const Section *profile, const Section *defaults, ConfigProblems *problems)
{
        const Entry *max = lookup_inherited(profile, defaults, "memory-max"),
                    *high = lookup_inherited(profile, defaults, "memory-high");
        uint64_t max_bytes, high_bytes;
        char reason[256];

        if (!max || !high || strchr(high->value, '%') || units_parse_size(max->value, &max_bytes) < 0 ||
            units_parse_size(high->value, &high_bytes) < 0 || high_bytes <= max_bytes)
                return 0;
        snprintf(reason, sizeof(reason), "'%.32s' is above memory-max '%.32s' (%.64s:%u)%s%.64s%s",
                 high->value, max->value, max->file, max->line, profile ? " in profile \"" : "",
                 profile ? profile->profile : "", profile ? "\"" : "");
        return config_problems_add(problems, high->file, high->line, "memory-high", true, reason);
}

int config_set_check(const ConfigSet *s, ConfigProblems *problems)
{
        const Section *defaults = section_find(s, NULL);
        int r;

        /* A profile that sets neither key repeats [defaults]' finding: say it once. */
        r = check_limits(NULL, defaults, problems);
        for (size_t i = 0; r >= 0 && i < s->n_sections; i++) {
                const Section *p = &s->sections[i];
                if (p->profile && (section_lookup(p, "memory-max") || section_lookup(p, "memory-high")))
                        r = check_limits(p, defaults, problems);
        }
        return r;
}

/* ---- resolution ---- */

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
        const Entry *cmd = section_lookup(sec, "match-command"), *exe = section_lookup(sec, "match-exe"),
                    *env = section_lookup(sec, "match-env");
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
                sec = section_find(s, sel->profile);
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
        const Section *defaults = section_find(s, NULL), *profile;
        size_t errors_before = problems->n_errors;
        int r;

        keys_init();
        e.values = calloc(n_all_keys, sizeof(*e.values));
        if (!e.values)
                return -ENOMEM;
        e.n_values = n_all_keys;
        profile = choose_profile(s, sel, &e, problems, &r);
        if (r < 0) {
                config_effective_clear(&e);
                return r;
        }
        e.profile = profile ? profile->profile : NULL;

        for (size_t i = 0; i < n_all_keys; i++) {
                const ConfigKey *k = &all_keys[i];
                ConfigValue *v = &e.values[i];
                const Entry *x;
                const char *env, *reason;
                char env_name[80];

                *v = (ConfigValue){.value = k->builtin, .origin = CONFIG_ORIGIN_BUILTIN};
                if ((x = section_lookup(defaults, k->name)))
                        *v = (ConfigValue){x->value, CONFIG_ORIGIN_DEFAULTS, x->file, x->line};
                if ((x = section_lookup(profile, k->name)))
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
        for (size_t i = 0; i < e->n_values && i < n_all_keys; i++) {
                const ConfigKey *k = &all_keys[i];
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

/* SPDX-License-Identifier: MIT */
/* Reading one policy file into a set (inih, driven from a buffer), and the checks across the files read. */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-set.h"
#include "macro.h"
#include "units.h"

/* inih copies section and key names into fixed buffers of 50 and silently truncates longer ones; the reader
 * below rejects them first, so a truncated name can never match a real key. */
#define INIH_NAME_MAX 49

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
        r = config_section_get(p->stage, p->kind == SECTION_PROFILE ? p->profile : NULL, &sec);
        if (r >= 0)
                r = config_section_set(sec, key, value, p->filename, p->line);
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
        return config_set_merge(s, stage);
}

/* The entry for key in the profile, else in [defaults]. */
static const Entry *lookup_inherited(const Section *profile, const Section *defaults, const char *key)
{
        const Entry *e = config_section_lookup(profile, key);
        return e ? e : config_section_lookup(defaults, key);
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
        const Section *defaults = config_section_find(s, NULL);
        int r;

        /* A profile that sets neither key repeats [defaults]' finding: say it once. */
        r = check_limits(NULL, defaults, problems);
        for (size_t i = 0; r >= 0 && i < s->n_sections; i++) {
                const Section *p = &s->sections[i];
                if (p->profile &&
                    (config_section_lookup(p, "memory-max") || config_section_lookup(p, "memory-high")))
                        r = check_limits(p, defaults, problems);
        }
        return r;
}

/* SPDX-License-Identifier: MIT */
/* The policy files' model: the problems found in them, and the set of sections their entries fill. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config-set.h"
#include "macro.h"

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

Section *config_section_find(const ConfigSet *s, const char *profile)
{
        for (size_t i = 0; i < s->n_sections; i++)
                if (same_profile(s->sections[i].profile, profile))
                        return &s->sections[i];
        return NULL;
}

int config_section_get(ConfigSet *s, const char *profile, Section **ret)
{
        Section *k;
        char *name = NULL;

        k = config_section_find(s, profile);
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

const Entry *config_section_lookup(const Section *sec, const char *key)
{
        for (size_t i = 0; sec && i < sec->n; i++)
                if (strcmp(sec->entries[i].key, key) == 0)
                        return &sec->entries[i];
        return NULL;
}

int config_section_set(Section *sec, const char *key, const char *value, const char *file, unsigned line)
{
        _cleanup_free_ char *v = strdup(value), *f = strdup(file), *k = NULL;
        Entry *e = (Entry *)config_section_lookup(sec, key);

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

int config_set_merge(ConfigSet *into, const ConfigSet *from)
{
        for (size_t i = 0; i < from->n_sections; i++) {
                const Section *src = &from->sections[i];
                Section *dst;
                int r = config_section_get(into, src->profile, &dst);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < src->n; j++) {
                        r = config_section_set(dst, src->entries[j].key, src->entries[j].value,
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

/* SPDX-License-Identifier: MIT */
/* The set's insides, shared by config.c, config-parse.c and config-resolve.c. */
#pragma once

#include "config.h"

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

/* The section for profile (NULL: [defaults]), or NULL. */
Section *config_section_find(const ConfigSet *s, const char *profile);
/* The same, added when missing. */
int config_section_get(ConfigSet *s, const char *profile, Section **ret);
/* key's entry in sec (which may be NULL), or NULL. */
const Entry *config_section_lookup(const Section *sec, const char *key);
/* Later wins: a drop-in replaces the value and where it came from. */
int config_section_set(Section *sec, const char *key, const char *value, const char *file, unsigned line);
/* Every entry of from set in into, as if read after into's. */
int config_set_merge(ConfigSet *into, const ConfigSet *from);

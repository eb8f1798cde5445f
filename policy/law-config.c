/* SPDX-License-Identifier: MIT */
/* The law's parameters by name, for the policy files and the replayer: set, format and list them. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "law.h"
#include "macro.h"

typedef enum FieldType {
        FIELD_BYTES,
        FIELD_PERMYRIAD,
        FIELD_USEC,
        FIELD_BOOL,
        FIELD_GIVE_UP,
} FieldType;

#define FIELD(name, type)                                 \
        {                                                 \
#name, type, offsetof(PolicyConfig, name) \
        }
static const struct {
        const char *name;
        FieldType type;
        size_t offset;
} config_fields[] = {
        FIELD(headroom_permyriad, FIELD_PERMYRIAD),
        FIELD(headroom_min_bytes, FIELD_BYTES),
        FIELD(freeable_file_permyriad, FIELD_PERMYRIAD),
        FIELD(heap_headroom_permyriad, FIELD_PERMYRIAD),
        FIELD(heap_headroom_min_bytes, FIELD_BYTES),
        FIELD(down_deadband_permyriad, FIELD_PERMYRIAD),
        FIELD(up_hysteresis_permyriad, FIELD_PERMYRIAD),
        FIELD(window_usec, FIELD_USEC),
        FIELD(up_step_max_permyriad, FIELD_PERMYRIAD),
        FIELD(elevated_enter_some_permyriad, FIELD_PERMYRIAD),
        FIELD(elevated_leave_some_permyriad, FIELD_PERMYRIAD),
        FIELD(critical_enter_full_permyriad, FIELD_PERMYRIAD),
        FIELD(critical_leave_full_permyriad, FIELD_PERMYRIAD),
        FIELD(level_leave_usec, FIELD_USEC),
        FIELD(ladder_gc, FIELD_BOOL),
        FIELD(ladder_release, FIELD_BOOL),
        FIELD(ladder_shed, FIELD_BOOL),
        FIELD(ladder_reclaim, FIELD_BOOL),
        FIELD(gc_interval_usec, FIELD_USEC),
        FIELD(release_interval_usec, FIELD_USEC),
        FIELD(gc_min_gain_bytes, FIELD_BYTES),
        FIELD(gc_outside_growth_permyriad, FIELD_PERMYRIAD),
        FIELD(gc_outside_interval_usec, FIELD_USEC),
        FIELD(reclaim_above_permyriad, FIELD_PERMYRIAD),
        FIELD(reclaim_step_max_permyriad, FIELD_PERMYRIAD),
        FIELD(reclaim_min_bytes, FIELD_BYTES),
        FIELD(reclaim_interval_usec, FIELD_USEC),
        FIELD(memory_high_adjust, FIELD_BOOL),
        FIELD(memory_high_guard_permyriad, FIELD_PERMYRIAD),
        FIELD(memory_high_wire_permyriad, FIELD_PERMYRIAD),
        FIELD(memory_high_headroom_permyriad, FIELD_PERMYRIAD),
        FIELD(cannot_fit_hold_usec, FIELD_USEC),
        FIELD(gc_cpu_limit_permyriad, FIELD_PERMYRIAD),
        FIELD(gc_cpu_duration_usec, FIELD_USEC),
        FIELD(critical_stall_usec, FIELD_USEC),
        FIELD(give_up, FIELD_GIVE_UP),
};

/* "5%", "12.5%" or a plain count of permyriad ("500"); at most 100%. */
static int parse_permyriad(const char *value, uint32_t *ret)
{
        uint64_t bytes;
        uint32_t pm;
        bool is_percent;
        int r;

        if (strcmp(value, "0") == 0 || strcmp(value, "0%") == 0) {
                *ret = 0;
                return 0;
        }
        r = units_parse_size_or_percent(value, &bytes, &pm, &is_percent);
        if (r < 0)
                return r;
        if (!is_percent) {
                /* A plain number, not a size: reject "5K". */
                for (const char *p = value; *p; p++)
                        if (*p < '0' || *p > '9')
                                return -EINVAL;
                if (bytes > 10000)
                        return -ERANGE;
                pm = (uint32_t)bytes;
        }
        *ret = pm;
        return 0;
}

static int parse_bool(const char *value, bool *ret)
{
        static const char *const yes[] = {"1", "yes", "true", "on"}, *const no[] = {"0", "no", "false",
                                                                                    "off"};

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(value, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(value, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

int policy_config_set(PolicyConfig *c, const char *key, const char *value)
{
        for (size_t i = 0; i < ELEMENTSOF(config_fields); i++) {
                void *field = (char *)c + config_fields[i].offset;

                if (strcmp(key, config_fields[i].name) != 0)
                        continue;
                switch (config_fields[i].type) {
                case FIELD_BYTES:
                        return units_parse_size(value, (uint64_t *)field);
                case FIELD_PERMYRIAD:
                        return parse_permyriad(value, (uint32_t *)field);
                case FIELD_USEC:
                        return units_parse_duration(value, (usec_t *)field);
                case FIELD_BOOL:
                        return parse_bool(value, (bool *)field);
                case FIELD_GIVE_UP:
                        for (PolicyGiveUp g = 0; g < _POLICY_GIVE_UP_MAX; g++)
                                if (strcmp(value, policy_give_up_to_string(g)) == 0) {
                                        *(PolicyGiveUp *)field = g;
                                        return 0;
                                }
                        return -EINVAL;
                }
        }
        return -ENOENT;
}

static const char *format_permyriad(uint32_t pm, char *buf, size_t size)
{
        if (pm % 100 == 0)
                snprintf(buf, size, "%u%%", (unsigned)(pm / 100));
        else
                snprintf(buf, size, "%u.%02u%%", (unsigned)(pm / 100), (unsigned)(pm % 100));
        return buf;
}

int policy_config_format(const PolicyConfig *c, const char *key, char *buf, size_t size)
{
        for (size_t i = 0; i < ELEMENTSOF(config_fields); i++) {
                const void *field = (const char *)c + config_fields[i].offset;

                if (strcmp(key, config_fields[i].name) != 0)
                        continue;
                switch (config_fields[i].type) {
                case FIELD_BYTES:
                        units_format_size(*(const uint64_t *)field, buf, size);
                        return 0;
                case FIELD_PERMYRIAD:
                        format_permyriad(*(const uint32_t *)field, buf, size);
                        return 0;
                case FIELD_USEC:
                        units_format_duration(*(const usec_t *)field, buf, size);
                        return 0;
                case FIELD_BOOL:
                        snprintf(buf, size, "%s", *(const bool *)field ? "yes" : "no");
                        return 0;
                case FIELD_GIVE_UP:
                        snprintf(buf, size, "%s", policy_give_up_to_string(*(const PolicyGiveUp *)field));
                        return 0;
                }
        }
        return -ENOENT;
}

const char *policy_config_field_name(size_t i)
{
        return i < ELEMENTSOF(config_fields) ? config_fields[i].name : NULL;
}

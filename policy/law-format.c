/* SPDX-License-Identifier: MIT */
/* The law's names and its decision as text: levels, rules, actions, the one-line decision. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "law.h"
#include "macro.h"

const char *policy_level_to_string(PolicyLevel l)
{
        static const char *const table[_POLICY_LEVEL_MAX] = {
                [POLICY_LEVEL_OK] = "ok",
                [POLICY_LEVEL_ELEVATED] = "elevated",
                [POLICY_LEVEL_CRITICAL] = "critical",
        };
        return (unsigned)l < _POLICY_LEVEL_MAX ? table[l] : "unknown";
}

const char *policy_rule_to_string(PolicyRule r)
{
        static const char *const table[_POLICY_RULE_MAX] = {
                [POLICY_RULE_STEADY] = "steady",
                [POLICY_RULE_NO_LIMIT] = "no-limit",
                [POLICY_RULE_TARGET_INITIAL] = "target-initial",
                [POLICY_RULE_TARGET_UP] = "target-up",
                [POLICY_RULE_HIGH_FOLLOW] = "high-follow",
                [POLICY_RULE_RECLAIM] = "reclaim",
                [POLICY_RULE_TARGET_DOWN] = "target-down",
                [POLICY_RULE_OUTSIDE_GREW] = "outside-grew",
                [POLICY_RULE_PRESSURE] = "pressure",
                [POLICY_RULE_HEAP_CANNOT_FIT] = "heap-cannot-fit",
                [POLICY_RULE_GC_CPU_CANNOT_FIT] = "gc-cpu-cannot-fit",
                [POLICY_RULE_STALL_CANNOT_FIT] = "stall-cannot-fit",
                [POLICY_RULE_GAVE_UP] = "gave-up",
        };
        return (unsigned)r < _POLICY_RULE_MAX ? table[r] : "unknown";
}

const char *policy_give_up_to_string(PolicyGiveUp g)
{
        static const char *const table[_POLICY_GIVE_UP_MAX] = {
                [POLICY_GIVE_UP_LET_OOM] = "let-oom",
                [POLICY_GIVE_UP_KILL] = "kill",
        };
        return (unsigned)g < _POLICY_GIVE_UP_MAX ? table[g] : "unknown";
}

const char *policy_action_to_string(PolicyAction a)
{
        switch (a) {
        case POLICY_ACTION_LOWER_TARGET:
                return "lower-target";
        case POLICY_ACTION_RAISE_TARGET:
                return "raise-target";
        case POLICY_ACTION_GC:
                return "gc";
        case POLICY_ACTION_RELEASE:
                return "release";
        case POLICY_ACTION_RECLAIM:
                return "reclaim";
        case POLICY_ACTION_SHED:
                return "shed";
        case POLICY_ACTION_CANNOT_FIT:
                return "cannot-fit";
        case POLICY_ACTION_KILL:
                return "kill";
        case POLICY_ACTION_SET_HIGH:
                return "set-high";
        }
        return "unknown";
}

const char *policy_actions_format(unsigned actions, char *buf, size_t size)
{
        size_t n = 0;

        if (size == 0)
                return buf;
        buf[0] = '\0';
        for (unsigned i = 0; i < _POLICY_ACTION_COUNT; i++) {
                if (!(actions & (1u << i)))
                        continue;
                int k = snprintf(buf + n, size - n, "%s%s", n > 0 ? "," : "",
                                 policy_action_to_string((PolicyAction)(1u << i)));
                if (k < 0 || (size_t)k >= size - n) {
                        buf[n] = '\0'; /* whole names only */
                        return buf;
                }
                n += (size_t)k;
        }
        if (n == 0)
                snprintf(buf, size, "none");
        return buf;
}

/* Exact when its own unit divides it ("1G", "100M"), else rounded down to a tenth ("872.7M"): a log line
 * is read by people, and the exact bytes of a 5% headroom help nobody. */
static const char *format_size(uint64_t bytes, char *buf, size_t size)
{
        static const char suffixes[] = "KMGT";
        uint64_t unit = 1;
        unsigned i = 0;

        while (unit < (UINT64_C(1) << 40) && bytes >= unit * 1024)
                unit *= 1024;
        if (bytes == SIZE_MAX_UNLIMITED || bytes % unit == 0)
                return units_format_size(bytes, buf, size);
        /* Keep at least two significant digits before the point: 1084.4M, not 1.0G. */
        for (unit = 1024; i < 3 && bytes >= unit * 1024 * 10; i++)
                unit *= 1024;
        uint64_t tenths = (uint64_t)(((unsigned __int128)bytes * 10 + unit / 2) / unit);
        snprintf(buf, size, "%llu.%llu%c", (unsigned long long)(tenths / 10),
                 (unsigned long long)(tenths % 10), suffixes[i]);
        return buf;
}

static const char *format_target(uint64_t bytes, char *buf, size_t size)
{
        if (bytes == POLICY_TARGET_NONE) {
                snprintf(buf, size, "none");
                return buf;
        }
        return format_size(bytes, buf, size);
}

const char *policy_decision_format(const PolicyDecision *d, char *buf, size_t size)
{
        char actions[POLICY_ACTIONS_STRLEN], target[UNITS_SIZE_STRLEN], limit[UNITS_SIZE_STRLEN],
                unseen[UNITS_SIZE_STRLEN], slack[UNITS_SIZE_STRLEN], freeable[UNITS_SIZE_STRLEN],
                headroom[UNITS_SIZE_STRLEN], ideal[UNITS_SIZE_STRLEN], floor[UNITS_SIZE_STRLEN],
                extra[3 * UNITS_SIZE_STRLEN + 48] = "";
        size_t n = 0;

        if (d->actions & POLICY_ACTION_RECLAIM) {
                char b[UNITS_SIZE_STRLEN];
                n += (size_t)snprintf(extra + n, sizeof(extra) - n, " reclaim=%s",
                                      format_size(d->reclaim_bytes, b, sizeof(b)));
        }
        if (d->actions & POLICY_ACTION_SET_HIGH) {
                char b[UNITS_SIZE_STRLEN];
                n += (size_t)snprintf(extra + n, sizeof(extra) - n, " high=%s",
                                      format_size(d->memory_high_bytes, b, sizeof(b)));
        }
        if (d->actions & POLICY_ACTION_KILL)
                snprintf(extra + n, sizeof(extra) - n, " exit=%d", d->exit_status);

        snprintf(
                buf, size,
                "rule=%s level=%s target=%s actions=%s%s limit=%s unseen=%s slack=%s freeable=%s headroom=%s ideal=%s floor=%s",
                policy_rule_to_string(d->rule), policy_level_to_string(d->level),
                format_target(d->target_bytes, target, sizeof(target)),
                policy_actions_format(d->actions, actions, sizeof(actions)), extra,
                format_size(d->limit_bytes, limit, sizeof(limit)),
                format_size(d->unseen_bytes, unseen, sizeof(unseen)),
                format_size(d->slack_bytes, slack, sizeof(slack)),
                format_size(d->freeable_bytes, freeable, sizeof(freeable)),
                format_size(d->headroom_bytes, headroom, sizeof(headroom)),
                format_target(d->ideal_bytes, ideal, sizeof(ideal)),
                format_size(d->floor_bytes, floor, sizeof(floor)));
        return buf;
}

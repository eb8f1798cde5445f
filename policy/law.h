/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The control law: from one sample of the group (limits, usage, pressure,
 * events, what the agent in the child reports) to one decision (the child's
 * GC target, a pressure level, and actions on a graduated ladder).
 *
 * Pure: no I/O, no clock, no allocation. Time arrives inside the sample; all
 * memory between steps lives in PolicyState, which the caller owns. The law
 * is described in prose and formulas in docs/control-law.md.
 *
 * Units are in the names: *_bytes, *_usec, *_permyriad (hundredths of a
 * percent: 10000 = 100%, so the kernel's "avg10=12.34" is exactly 1234).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "budget.h"
#include "units.h"

/* The GC target when there is none: no soft limit (Go: math.MaxInt64). */
#define POLICY_TARGET_NONE UINT64_MAX

/* The exit status of a governor that killed its child because it cannot fit
 * (give_up = POLICY_GIVE_UP_KILL). Distinct from the child's own codes in
 * practice, from 125 (memgov's own failure), 126/127 (exec failed), 124/123
 * (timeout(1), xargs) and from 128+signal. */
#define POLICY_EXIT_CANNOT_FIT 122

typedef enum PolicyLevel {
        POLICY_LEVEL_OK,
        POLICY_LEVEL_ELEVATED,
        POLICY_LEVEL_CRITICAL,
        _POLICY_LEVEL_MAX,
} PolicyLevel;

/* What to do once the law has reported "cannot fit". */
typedef enum PolicyGiveUp {
        POLICY_GIVE_UP_LET_OOM, /* stop squeezing: lift the target (and a throttle point memgov set) */
        POLICY_GIVE_UP_KILL,    /* kill the group, exit with POLICY_EXIT_CANNOT_FIT */
        _POLICY_GIVE_UP_MAX,
} PolicyGiveUp;

/* The ladder, and the bookkeeping actions around it. A decision carries a set. */
typedef enum PolicyAction {
        POLICY_ACTION_LOWER_TARGET = 1u << 0, /* 1: send target_bytes to the agent */
        POLICY_ACTION_RAISE_TARGET = 1u << 1, /*    the way back up; also sends target_bytes */
        POLICY_ACTION_GC = 1u << 2,           /* 2: ask the agent for a GC */
        POLICY_ACTION_RELEASE = 1u << 3,      /* 3: ask the agent to return free memory to the OS */
        POLICY_ACTION_RECLAIM = 1u << 4,      /* 4: have the group reclaim reclaim_bytes */
        POLICY_ACTION_SHED = 1u << 5,         /* 5: tell the application to shed (level critical) */
        POLICY_ACTION_CANNOT_FIT = 1u << 6,   /* 6: report "cannot fit", once */
        POLICY_ACTION_KILL = 1u << 7,         /* 6: kill the group, exit with exit_status */
        POLICY_ACTION_SET_HIGH = 1u << 8,     /* set the throttle point to memory_high_bytes */
} PolicyAction;
#define _POLICY_ACTION_COUNT 9

/* The rule that fired: one per decision, the most severe one that acted
 * (later in this list is more severe). */
typedef enum PolicyRule {
        POLICY_RULE_STEADY,          /* nothing to do */
        POLICY_RULE_NO_LIMIT,        /* neither hard limit nor throttle point: nothing to steer toward */
        POLICY_RULE_HIGH_FOLLOW,     /* memgov's own throttle point placed or moved: the guard, or without an
                                        agent */
        POLICY_RULE_TARGET_INITIAL,  /* an agent (re)connected: bring it in sync */
        POLICY_RULE_TARGET_UP,       /* calm for a window: one bounded step back up */
        POLICY_RULE_RECLAIM,         /* usage near the limit with cold page cache */
        POLICY_RULE_TARGET_DOWN,     /* the limit fell or memory outside the runtime grew */
        POLICY_RULE_OUTSIDE_GREW,    /* outside memory grew: a GC may free what dead objects hold */
        POLICY_RULE_PRESSURE,        /* level elevated or critical: GC, release, shed */
        POLICY_RULE_HEAP_CANNOT_FIT, /* target below live heap + minimum headroom for the hold time */
        POLICY_RULE_GC_CPU_CANNOT_FIT, /* GC CPU above the bound for the duration */
        POLICY_RULE_STALL_CANNOT_FIT,  /* level critical for the stall duration */
        POLICY_RULE_GAVE_UP,           /* after cannot-fit: hands off until the limit grows */
        _POLICY_RULE_MAX,
} PolicyRule;

/*
 * Every parameter of the law, flat and named for the policy file. Fractions of
 * the effective limit are permyriad of it. policy_config_default() documents
 * the defaults; docs/control-law.md gives the reasons.
 */
typedef struct PolicyConfig {
        /* Target: limit - unseen - headroom + slack (a quarter of the headroom at most: policy/law.c). */
        uint32_t headroom_permyriad;      /* 500: 5% of the limit ... */
        uint64_t headroom_min_bytes;      /* 8M: ... but at least this (never above half the limit) */
        uint32_t freeable_file_permyriad; /* 10000: share of inactive_file counted as freeable */
        uint32_t heap_headroom_permyriad; /* 1000: a live heap needs 10% of itself to collect into ... */
        uint64_t heap_headroom_min_bytes; /* 4M: ... and at least this */
        /* Moving the target. */
        uint32_t down_deadband_permyriad; /* 50: lower only when 0.5% of the limit or more below */
        uint32_t up_hysteresis_permyriad; /* 200: raise only when 2% of the limit or more above ... */
        usec_t window_usec;               /* 10s: ... for a whole window, at most once a window */
        uint32_t up_step_max_permyriad;   /* 500: a raise is at most 5% of the limit */
        /* Pressure levels (PSI avg10 in permyriad, plus triggers and the group's event counts). */
        uint32_t elevated_enter_some_permyriad; /* 500: some avg10 >= 5% enters elevated */
        uint32_t elevated_leave_some_permyriad; /* 100: below 1% may leave it */
        uint32_t critical_enter_full_permyriad; /* 1000: full avg10 >= 10% enters critical */
        uint32_t critical_leave_full_permyriad; /* 200: below 2% may leave it */
        usec_t level_leave_usec;                /* 10s: calm this long before a level is left */
        /* The ladder's rungs, each of which a policy may switch off. */
        bool ladder_gc;      /* true: ask the agent for a GC */
        bool ladder_release; /* true: ask the agent to release free memory to the OS */
        bool ladder_shed;    /* true: ask the program to shed load at critical */
        bool ladder_reclaim; /* true: reclaim the group's cold page cache (a reclaim write) */
        /* Ladder, agent side. */
        usec_t gc_interval_usec;      /* 10s: at most one GC request per interval */
        usec_t release_interval_usec; /* 30s: at most one release request per interval */
        uint64_t gc_min_gain_bytes;   /* 8M: ask only if runtime total - live heap is this much */
        /* 500: also ask for a GC each time memory outside the runtime (unseen) has grown by 5% of the
         * limit (at least gc_min_gain_bytes) since the last GC asked, with usage past half the limit;
         * 0: never */
        uint32_t gc_outside_growth_permyriad;
        usec_t gc_outside_interval_usec; /* 1s: and at least this long after the last GC asked */
        /* Ladder, group side. */
        uint32_t reclaim_above_permyriad;    /* 9000: reclaim page cache above 90% of the limit */
        uint32_t reclaim_step_max_permyriad; /* 500: at most 5% of the limit per write */
        uint64_t reclaim_min_bytes;          /* 1M: smaller amounts are not worth a write */
        usec_t reclaim_interval_usec;        /* 1s: at most one write per interval */
        bool memory_high_adjust; /* false: without an agent, memgov leaves the throttle point alone */
        /* 5000: with an agent, memgov's own throttle point guards the hard limit this share of the headroom
         * below it, unless someone else set the throttle point; 0: no guard. */
        uint32_t memory_high_guard_permyriad;
        /* With the guard, the throttle point sits this share of the limit above the charge (the wire), below
         * the guard: growth far below the limit that no sample or report has seen yet trips it, and the
         * kernel wakes memgov, which moves it up again. Not pressure. 0 (the default; its throttling cost
         * more than it saved, docs/control-law.md "The wire"): no wire, the throttle point stays at the
         * guard. */
        uint32_t memory_high_wire_permyriad;
        uint32_t memory_high_headroom_permyriad; /* 500: throttle point = hard limit - 5% (at least min) */
        /* Death-spiral breaker. */
        usec_t cannot_fit_hold_usec;     /* 5s: heap must stay unfit this long */
        uint32_t gc_cpu_limit_permyriad; /* 4000: GC CPU at or above 40% ... */
        usec_t gc_cpu_duration_usec;     /* 30s: ... for this long: cannot fit */
        usec_t critical_stall_usec;      /* 60s: level critical this long: cannot fit; 0: never */
        PolicyGiveUp give_up;            /* let-oom */
} PolicyConfig;

/* One observation. Sizes the kernel did not report are 0. */
typedef struct PolicySample {
        usec_t now_usec;     /* monotonic */
        MemoryLimits limits; /* in force now, SIZE_MAX_UNLIMITED for "max"; may change (a resize) */
        /* the charge, and what fills it */
        uint64_t current_bytes;
        uint64_t anon_bytes;
        uint64_t file_bytes; /* includes shmem */
        uint64_t shmem_bytes;
        uint64_t kernel_bytes;
        uint64_t inactive_file_bytes;
        uint64_t anon_lru_bytes; /* inactive_anon + active_anon; 0: unknown */
        /* the pressure reading */
        uint32_t psi_some_avg10_permyriad;
        uint32_t psi_full_avg10_permyriad;
        bool psi_some_fired; /* a "some" trigger fired since the last sample */
        bool psi_full_fired;
        /* the group's event counts, cumulative as the kernel reports them */
        uint64_t events_high;
        uint64_t events_max;
        uint64_t events_oom;
        uint64_t events_oom_kill;
        /* The agent's last stats; ignored when !agent_present. */
        bool agent_present;
        uint64_t runtime_total_bytes; /* memory the runtime sees and the OS charges (Go: total - released) */
        /* The charge when the agent's last stats arrived (the largest over agents); 0: unknown. */
        uint64_t charged_at_stats_bytes;
        uint64_t heap_live_bytes;  /* live heap after the last GC */
        uint32_t gc_cpu_permyriad; /* share of CPU spent in GC recently */
} PolicySample;

typedef struct PolicyDecision {
        PolicyRule rule;
        PolicyLevel level;
        bool level_changed;
        /* The charge has grown past the one paired with the agent's last stats (PolicySample
         * charged_at_stats_bytes) by more than the deadband: ask the agent for stats now, and step again
         * when they come, rather than wait up to a second to tell the heap's growth from memory outside it.
         */
        bool refresh_stats;
        unsigned actions;           /* PolicyAction bits */
        uint64_t target_bytes;      /* the target in force after this step; POLICY_TARGET_NONE: none */
        uint64_t reclaim_bytes;     /* with POLICY_ACTION_RECLAIM */
        uint64_t memory_high_bytes; /* with POLICY_ACTION_SET_HIGH; SIZE_MAX_UNLIMITED: "max" */
        int exit_status;            /* with POLICY_ACTION_KILL */
        /* What the rule saw, for the log line. */
        uint64_t limit_bytes;    /* effective limit: min(hard limit, throttle point not set by memgov) */
        uint64_t unseen_bytes;   /* charged, not seen by the runtime, not freeable */
        uint64_t slack_bytes;    /* seen by the runtime or freeable, not charged; at most headroom / 4 */
        uint64_t freeable_bytes; /* page cache counted as freeable */
        uint64_t headroom_bytes;
        uint64_t ideal_bytes; /* limit - unseen - headroom + slack, before hysteresis and bounds */
        uint64_t floor_bytes; /* live heap + its minimum headroom: never lowered below it */
} PolicyDecision;

/* Everything the law remembers between steps. Opaque to callers in spirit;
 * public so it can live on the stack or in the supervisor without allocation. */
typedef struct PolicyState {
        bool seen_sample;
        bool agent_was_present;
        uint64_t target_bytes;
        usec_t target_changed_usec;
        uint64_t limit_bytes;     /* the effective limit at the last step, for status reports */
        usec_t above_since_usec;  /* ideal has stayed above target + hysteresis since */
        uint64_t above_min_bytes; /* ... and this was its smallest value meanwhile */
        PolicyLevel level;
        usec_t calm_since_usec;
        usec_t pressure_since_usec; /* level elevated or above since */
        usec_t critical_since_usec;
        usec_t gc_usec, release_usec, reclaim_usec; /* last request */
        uint64_t outside_low_bytes; /* unseen memory's low point since the last GC asked; UINT64_MAX: none */
        usec_t gc_cpu_high_since_usec;
        usec_t unfit_since_usec;
        uint64_t events_high, events_max, events_oom, events_oom_kill;
        bool high_written;
        uint64_t high_written_bytes;  /* what memgov last wrote to the throttle point */
        uint64_t high_previous_bytes; /* what was in force before: the write may not have landed yet */
        uint64_t high_external_bytes; /* the throttle point as someone else set it */
        bool high_is_wire; /* memgov's throttle point is the wire, below the guard (guard_bytes) */
        uint64_t guard_bytes;
        usec_t wire_far_since_usec;   /* the charge has stayed far below the wire since */
        usec_t wire_moved_usec;       /* the wire was last placed */
        uint64_t wire_distance_bytes; /* from the charge: doubled while it is grown into */
        bool gave_up;
        uint64_t gave_up_limit_bytes;
} PolicyState;

void policy_config_default(PolicyConfig *ret);
void policy_state_init(PolicyState *s, const PolicyConfig *c);
void policy_step(const PolicyConfig *config, PolicyState *state, const PolicySample *sample,
                 PolicyDecision *ret);
/* True when the law waits on nothing that time alone moves: level ok, no raise, breaker or wire timer
 * running. A sample then changes its answer only if the charge or the agents' figures moved
 * (policy/pace.h's still band), so a caller may skip a sample that brings neither. */
bool policy_settled(const PolicyState *state);
/* True when a sample that brings neither (the charge within the still band of the last, the agents'
 * figures the same) may be skipped after the decision last: the law is settled, and last did nothing and
 * asked the agents for no fresh stats. A refresh is answered by a report that may carry the same figures:
 * that the runtime did not grow is the answer, and the charge it pairs with is new. */
bool policy_may_skip(const PolicyState *state, const PolicyDecision *last);
/* True when the agents' figures in x (a look's: the agents' and current_bytes, nothing else read) moved
 * less than band (policy/pace.h's still band) from last, the last full sample's: the runtime's total, its
 * live heap, and the part of the charge (fresh, and paired with the stats) that the runtime does not cover,
 * each; and the GC's CPU share is below the breaker's limit in both. The law's answer then moves by less
 * than its deadband, so the report an agent sends after each GC cycle may be glanced at (40 a second in the
 * bench's steady shape, each a full sample before). An agent that came or went is news. */
bool policy_agents_still(const PolicyConfig *c, const PolicySample *last, const PolicySample *x,
                         uint64_t band);

/* Sets one PolicyConfig field by its name ("headroom_permyriad", "window_usec",
 * "give_up") from text in the units of units.h: sizes for *_bytes, "5%" or a
 * plain number for *_permyriad, durations for *_usec, yes/no for booleans,
 * "let-oom"/"kill" for give_up. Returns 0, -ENOENT (no such field) or the
 * units.h error. Written for the policy file and the replayer. */
int policy_config_set(PolicyConfig *c, const char *key, const char *value);
/* The field's value as text that policy_config_set() reads back: "5%", "8M", "10s", "yes", "kill".
 * Returns 0 or -ENOENT. */
int policy_config_format(const PolicyConfig *c, const char *key, char *buf, size_t size);
/* The i-th field name, NULL past the end: to list them. */
const char *policy_config_field_name(size_t i);

const char *policy_level_to_string(PolicyLevel l);
const char *policy_rule_to_string(PolicyRule r);
const char *policy_give_up_to_string(PolicyGiveUp g);
/* One bit's name: "lower-target", "gc", ... */
const char *policy_action_to_string(PolicyAction a);
/* "lower-target,gc" or "none". Returns buf; truncates at size. */
const char *policy_actions_format(unsigned actions, char *buf, size_t size);
#define POLICY_ACTIONS_STRLEN 128

/* The decision as logfmt, without a timestamp: "rule=... level=... target=...
 * actions=... limit=... unseen=... ...". Returns buf. */
const char *policy_decision_format(const PolicyDecision *d, char *buf, size_t size);
#define POLICY_DECISION_STRLEN 512

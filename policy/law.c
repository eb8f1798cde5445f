/* SPDX-License-Identifier: MIT */
/* The control law itself: one sample in, one decision out (docs/control-law.md). Its parameters by name
 * are law-config.c, its text law-format.c. */
#include "law.h"
#include "macro.h"

/* The kernel keeps the throttle point in pages, rounding a written value down: what reads back may be
 * up to a page below what was written. 64K covers every page size Linux uses. */
#define HIGH_SLACK_BYTES (UINT64_C(64) << 10)

/* A moment that has not happened: timers not running, requests never made. */
#define NEVER UINT64_MAX

static uint64_t sat_sub(uint64_t a, uint64_t b)
{
        return a > b ? a - b : 0;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
        return a < b ? a : b;
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
        return a > b ? a : b;
}

static uint64_t of_limit(uint64_t limit, uint32_t permyriad)
{
        return units_apply_permyriad(limit, permyriad);
}

/* A timer started at since has run for at least d. */
static bool held_for(usec_t since, usec_t now, usec_t d)
{
        return since != NEVER && now >= since && now - since >= d;
}

/* The last request was at last; may we ask again? A clock that went back is
 * not trusted to have waited. */
static bool interval_passed(usec_t last, usec_t now, usec_t d)
{
        return last == NEVER || (now >= last && now - last >= d);
}

static void timer_track(usec_t *since, bool condition, usec_t now)
{
        if (!condition)
                *since = NEVER;
        else if (*since == NEVER)
                *since = now;
}

static void fire(PolicyDecision *d, PolicyRule r)
{
        if (r > d->rule)
                d->rule = r;
}

void policy_config_default(PolicyConfig *ret)
{
        *ret = (PolicyConfig){
                .headroom_permyriad = 500,
                .headroom_min_bytes = UINT64_C(8) << 20,
                .freeable_file_permyriad = 10000,
                .heap_headroom_permyriad = 1000,
                .heap_headroom_min_bytes = UINT64_C(4) << 20,
                .down_deadband_permyriad = 50,
                .up_hysteresis_permyriad = 200,
                .window_usec = 10 * USEC_PER_SEC,
                .up_step_max_permyriad = 500,
                .elevated_enter_some_permyriad = 500,
                .elevated_leave_some_permyriad = 100,
                .critical_enter_full_permyriad = 1000,
                .critical_leave_full_permyriad = 200,
                .level_leave_usec = 10 * USEC_PER_SEC,
                .ladder_gc = true,
                .ladder_release = true,
                .ladder_shed = true,
                .ladder_reclaim = true,
                .gc_interval_usec = 10 * USEC_PER_SEC,
                .release_interval_usec = 30 * USEC_PER_SEC,
                .gc_min_gain_bytes = UINT64_C(8) << 20,
                .gc_outside_growth_permyriad = 500,
                .gc_outside_interval_usec = 1 * USEC_PER_SEC,
                .reclaim_above_permyriad = 9000,
                .reclaim_step_max_permyriad = 500,
                .reclaim_min_bytes = UINT64_C(1) << 20,
                .reclaim_interval_usec = 1 * USEC_PER_SEC,
                .memory_high_adjust = false,
                .memory_high_guard_permyriad = 5000,
                .memory_high_wire_permyriad = 0,
                .memory_high_headroom_permyriad = 500,
                .cannot_fit_hold_usec = 5 * USEC_PER_SEC,
                .gc_cpu_limit_permyriad = 4000,
                .gc_cpu_duration_usec = 30 * USEC_PER_SEC,
                .critical_stall_usec = 60 * USEC_PER_SEC,
                .give_up = POLICY_GIVE_UP_LET_OOM,
        };
}

void policy_state_init(PolicyState *s, const PolicyConfig *c)
{
        *s = (PolicyState){
                .target_bytes = POLICY_TARGET_NONE,
                .target_changed_usec = NEVER,
                .limit_bytes = SIZE_MAX_UNLIMITED,
                .above_since_usec = NEVER,
                .wire_far_since_usec = NEVER,
                .wire_moved_usec = NEVER,
                .level = POLICY_LEVEL_OK,
                .calm_since_usec = NEVER,
                .pressure_since_usec = NEVER,
                .critical_since_usec = NEVER,
                .gc_usec = NEVER,
                .outside_low_bytes = UINT64_MAX,
                .release_usec = NEVER,
                .reclaim_usec = NEVER,
                .gc_cpu_high_since_usec = NEVER,
                .unfit_since_usec = NEVER,
                .high_external_bytes = SIZE_MAX_UNLIMITED,
        };
}

static bool high_matches(uint64_t read, uint64_t written)
{
        if (read == SIZE_MAX_UNLIMITED || written == SIZE_MAX_UNLIMITED)
                return read == written;
        return read <= written && written - read < HIGH_SLACK_BYTES;
}

/* The limit the law steers toward: the hard limit, or the throttle point when someone
 * other than memgov set it lower. A throttle point memgov wrote itself is an
 * actuator, not a limit: counting it would make the law chase its own tail. */
static uint64_t observe_limit(PolicyState *s, const PolicySample *x)
{
        uint64_t high = x->limits.high_bytes;
        bool ours = s->high_written && (high_matches(high, s->high_written_bytes) ||
                                        high_matches(high, s->high_previous_bytes));

        if (!ours) {
                s->high_written = false;
                s->high_is_wire = false;
                s->high_external_bytes = high;
        }
        return min_u64(x->limits.max_bytes, s->high_external_bytes);
}

static bool counter_grew(uint64_t *last, uint64_t now, bool seen)
{
        bool grew = seen && now > *last;

        *last = now;
        return grew;
}

/* Updates the level; returns whether pressure is being applied now (an "enter" condition holds),
 * as opposed to the level only decaying through its hysteresis band: avg10 lags the stall it
 * measures by seconds, and asking for a GC or a release on the way down helps nobody. */
static bool update_level(const PolicyConfig *c, PolicyState *s, const PolicySample *x, PolicyDecision *d)
{
        bool seen = s->seen_sample;
        /* The wire is crossed on purpose: news that the charge grew, not pressure, unless the charge is past
         * the guard too (the kernel counts the crossing of whichever throttle point is in force). */
        bool high = counter_grew(&s->events_high, x->events_high, seen) &&
                    (!s->high_is_wire || x->current_bytes >= s->guard_bytes);
        bool max = counter_grew(&s->events_max, x->events_max, seen);
        bool oom = counter_grew(&s->events_oom, x->events_oom, seen);
        bool oom_kill = counter_grew(&s->events_oom_kill, x->events_oom_kill, seen);
        bool enter_critical = x->psi_full_avg10_permyriad >= c->critical_enter_full_permyriad ||
                              x->psi_full_fired || oom || oom_kill;
        bool enter_elevated = x->psi_some_avg10_permyriad >= c->elevated_enter_some_permyriad ||
                              x->psi_some_fired || high || max;
        PolicyLevel now = enter_critical   ? POLICY_LEVEL_CRITICAL
                          : enter_elevated ? POLICY_LEVEL_ELEVATED
                                           : POLICY_LEVEL_OK;
        PolicyLevel before = s->level;
        if (now > s->level) {
                s->level = now;
                s->calm_since_usec = NEVER;
        } else if (s->level > POLICY_LEVEL_OK) {
                /* Leaving needs the lower "leave" threshold, held for a while: hysteresis. */
                bool calm = s->level == POLICY_LEVEL_CRITICAL
                                    ? !enter_critical &&
                                              x->psi_full_avg10_permyriad < c->critical_leave_full_permyriad
                                    : !enter_elevated &&
                                              x->psi_some_avg10_permyriad < c->elevated_leave_some_permyriad;

                timer_track(&s->calm_since_usec, calm, x->now_usec);
                if (held_for(s->calm_since_usec, x->now_usec, c->level_leave_usec)) {
                        s->level--;
                        s->calm_since_usec = x->now_usec;
                }
        }

        timer_track(&s->pressure_since_usec, s->level >= POLICY_LEVEL_ELEVATED, x->now_usec);
        timer_track(&s->critical_since_usec, s->level == POLICY_LEVEL_CRITICAL, x->now_usec);
        d->level = s->level;
        d->level_changed = s->level != before;
        return now > POLICY_LEVEL_OK;
}

/* Anonymous memory the group is charged for that no process maps: above all what is left of a transparent
 * huge page after a runtime released part of it (Go's scavenger, debug.FreeOSMemory: madvise in 4K
 * pages). The kernel only queues such a page for splitting; the released part stays charged until reclaim
 * runs the deferred-split shrinker. Counted as unseen, it made a pure Go program look 5-30M bigger than
 * its runtime (measured with agents/go/cmd/memprobe in the test VM); a reclaim write frees it, as it
 * frees inactive_file. */
static uint64_t unmapped_anon(const PolicySample *x)
{
        uint64_t mapped = x->anon_bytes + x->shmem_bytes;

        return min_u64(sat_sub(x->anon_lru_bytes, mapped), x->current_bytes);
}

/* ideal = limit - unseen - headroom + slack; floor = live heap + its minimum headroom. */
static void compute_fit(const PolicyConfig *c, const PolicySample *x, uint64_t limit, PolicyDecision *d)
{
        uint64_t inactive = min_u64(x->inactive_file_bytes, x->current_bytes);
        uint64_t charged = x->current_bytes, seen;

        d->limit_bytes = limit;
        d->freeable_bytes = units_apply_permyriad(inactive, c->freeable_file_permyriad);
        d->freeable_bytes = min_u64(d->freeable_bytes + unmapped_anon(x), x->current_bytes);
        if (limit == SIZE_MAX_UNLIMITED)
                d->headroom_bytes = 0;
        else {
                d->headroom_bytes = max_u64(of_limit(limit, c->headroom_permyriad), c->headroom_min_bytes);
                d->headroom_bytes = min_u64(d->headroom_bytes, limit / 2);
        }
        /* The runtime's total is as old as its last stats (up to a second), the charge is fresh: growth in
         * between may be the heap's as well as memory outside it. Counted as outside, a heap growing fast
         * pulled the target far below itself (bench/results/report.md, the steady shape). So while there is
         * room, the charge read when the stats came, their pair, is used, and the agent is asked for stats
         * now (refresh_stats), to step again with a fresh pair within milliseconds. Within the headroom of
         * the limit there is no time for that: the fresh charge, and the worst reading of it. */
        if (x->agent_present && x->charged_at_stats_bytes > 0 &&
            x->current_bytes > x->charged_at_stats_bytes && limit != SIZE_MAX_UNLIMITED) {
                bool room = x->current_bytes < limit && limit - x->current_bytes > d->headroom_bytes;

                d->refresh_stats = x->current_bytes - x->charged_at_stats_bytes >
                                   max_u64(of_limit(limit, c->down_deadband_permyriad), 1);
                if (room)
                        charged = x->charged_at_stats_bytes;
        }
        seen = d->freeable_bytes;
        if (x->agent_present) {
                seen = x->runtime_total_bytes > UINT64_MAX - seen ? UINT64_MAX
                                                                  : seen + x->runtime_total_bytes;
                /* The runtime counts memory it has mapped and not yet touched (Go: fresh heap spans, arena
                 * metadata), which the group does not charge: 1-2M in the bench's Go child. Clamped at zero,
                 * that surplus hid the first megabytes of growth outside the runtime, and a jump's
                 * target-down waited a sample longer (docs/design.md). Credited to the target instead, up
                 * to a quarter of the headroom: if the runtime then touches what it counted, the group
                 * sits that much closer to the limit, never past limit - 3/4 headroom. */
                d->slack_bytes = min_u64(sat_sub(seen, charged), d->headroom_bytes / 4);
        }
        d->unseen_bytes = sat_sub(charged, seen);
        d->ideal_bytes =
                limit == SIZE_MAX_UNLIMITED
                        ? POLICY_TARGET_NONE
                        : sat_sub(sat_sub(limit, d->unseen_bytes), d->headroom_bytes) + d->slack_bytes;

        if (x->agent_present) {
                uint64_t live = x->heap_live_bytes;
                uint64_t room = max_u64(units_apply_permyriad(live, c->heap_headroom_permyriad),
                                        c->heap_headroom_min_bytes);
                d->floor_bytes = live > UINT64_MAX - room ? UINT64_MAX : live + room;
        }
}

static uint64_t moved(uint64_t a, uint64_t b)
{
        return a > b ? a - b : b - a;
}

static uint64_t paired_charge(const PolicySample *x)
{
        return x->charged_at_stats_bytes > 0 && x->current_bytes > x->charged_at_stats_bytes
                       ? x->charged_at_stats_bytes
                       : x->current_bytes;
}

static bool gc_cpu_high(const PolicyConfig *c, const PolicySample *x)
{
        return c->gc_cpu_limit_permyriad > 0 && x->gc_cpu_permyriad >= c->gc_cpu_limit_permyriad;
}

/* The death-spiral breaker's three clocks. Returns the rule that gives up, or STEADY. */
static PolicyRule check_breaker(const PolicyConfig *c, PolicyState *s, const PolicySample *x,
                                const PolicyDecision *d)
{
        bool steering = x->agent_present && d->limit_bytes != SIZE_MAX_UNLIMITED;
        /* High GC CPU is our doing only while the runtime is pressed against the target we set. */
        bool pressed = steering && s->target_bytes != POLICY_TARGET_NONE &&
                       x->runtime_total_bytes + d->headroom_bytes >= s->target_bytes;
        bool cpu_high = gc_cpu_high(c, x);

        timer_track(&s->unfit_since_usec, steering && d->ideal_bytes < d->floor_bytes, x->now_usec);
        timer_track(&s->gc_cpu_high_since_usec, pressed && cpu_high, x->now_usec);

        if (held_for(s->unfit_since_usec, x->now_usec, c->cannot_fit_hold_usec))
                return POLICY_RULE_HEAP_CANNOT_FIT;
        if (held_for(s->gc_cpu_high_since_usec, x->now_usec, c->gc_cpu_duration_usec))
                return POLICY_RULE_GC_CPU_CANNOT_FIT;
        if (c->critical_stall_usec > 0 &&
            held_for(s->critical_since_usec, x->now_usec, c->critical_stall_usec))
                return POLICY_RULE_STALL_CANNOT_FIT;
        return POLICY_RULE_STEADY;
}

static void set_high(PolicyState *s, const PolicySample *x, uint64_t bytes, PolicyDecision *d)
{
        s->high_previous_bytes = s->high_written ? s->high_written_bytes : x->limits.high_bytes;
        s->high_written = true;
        s->high_written_bytes = bytes;
        s->high_is_wire = false;
        d->memory_high_bytes = bytes;
        d->actions |= POLICY_ACTION_SET_HIGH;
}

static void give_up(const PolicyConfig *c, PolicyState *s, const PolicySample *x, PolicyRule rule,
                    PolicyDecision *d)
{
        s->gave_up = true;
        s->gave_up_limit_bytes = d->limit_bytes;
        d->actions |= POLICY_ACTION_CANNOT_FIT;
        fire(d, rule);

        if (c->give_up == POLICY_GIVE_UP_KILL) {
                d->actions |= POLICY_ACTION_KILL;
                d->exit_status = POLICY_EXIT_CANNOT_FIT;
                return;
        }
        /* Let the kernel act: a soft limit under a heap that cannot fit only buys hours of GC
         * thrashing (golang/go#58106), and memgov's own throttle point only slows the way to OOM. */
        if (x->agent_present && s->target_bytes != POLICY_TARGET_NONE) {
                s->target_bytes = POLICY_TARGET_NONE;
                s->target_changed_usec = x->now_usec;
                d->actions |= POLICY_ACTION_RAISE_TARGET;
        }
        if (s->high_written && s->high_written_bytes != s->high_external_bytes)
                set_high(s, x, s->high_external_bytes, d);
}

static void set_target(PolicyState *s, const PolicySample *x, uint64_t bytes, PolicyAction a, PolicyRule r,
                       PolicyDecision *d)
{
        s->target_bytes = bytes;
        s->target_changed_usec = x->now_usec;
        s->above_since_usec = NEVER;
        d->actions |= a;
        fire(d, r);
}

/* Down promptly, up slowly: one bounded step after the ideal has stayed above the target by the
 * hysteresis for a whole window, with the level ok, and at most one raise a window. */
static void steer_target(const PolicyConfig *c, PolicyState *s, const PolicySample *x, bool connected,
                         PolicyDecision *d)
{
        uint64_t limit = d->limit_bytes, goal, t = s->target_bytes;

        if (limit == SIZE_MAX_UNLIMITED) {
                if (t != POLICY_TARGET_NONE)
                        set_target(s, x, POLICY_TARGET_NONE, POLICY_ACTION_RAISE_TARGET,
                                   POLICY_RULE_TARGET_UP, d);
                return;
        }
        /* Never squeeze below what the live heap needs: that is the death spiral. */
        goal = max_u64(d->ideal_bytes, min_u64(d->floor_bytes, limit));

        if (connected || t == POLICY_TARGET_NONE) {
                set_target(s, x, goal, POLICY_ACTION_LOWER_TARGET,
                           connected ? POLICY_RULE_TARGET_INITIAL : POLICY_RULE_TARGET_DOWN, d);
                return;
        }
        if (goal < t && t - goal >= max_u64(of_limit(limit, c->down_deadband_permyriad), 1)) {
                set_target(s, x, goal, POLICY_ACTION_LOWER_TARGET, POLICY_RULE_TARGET_DOWN, d);
                return;
        }

        bool above = s->level == POLICY_LEVEL_OK && goal > t &&
                     goal - t >= max_u64(of_limit(limit, c->up_hysteresis_permyriad), 1);
        if (!above) {
                s->above_since_usec = NEVER;
                return;
        }
        if (s->above_since_usec == NEVER) {
                s->above_since_usec = x->now_usec;
                s->above_min_bytes = goal;
        } else
                s->above_min_bytes = min_u64(s->above_min_bytes, goal);

        if (held_for(s->above_since_usec, x->now_usec, c->window_usec) &&
            interval_passed(s->target_changed_usec, x->now_usec, c->window_usec)) {
                uint64_t step = max_u64(of_limit(limit, c->up_step_max_permyriad), 1);
                set_target(s, x, min_u64(s->above_min_bytes, t + step), POLICY_ACTION_RAISE_TARGET,
                           POLICY_RULE_TARGET_UP, d);
        }
}

/*
 * Memory outside the runtime's view that only a GC can free: native memory held by dead objects and
 * given back by their finalizers (Node's Intl and zlib objects, Java's Inflaters and direct buffers,
 * cgo memory behind Go finalizers). The runtime does not count it, so its own GC triggers never see it
 * grow; the group's charge does. True when unseen memory has grown by gc_outside_growth of the limit
 * (at least gc_min_gain_bytes) above its low point since the last GC asked, and usage is past half the
 * limit, and gc_outside_interval has passed since the last GC asked. The growth spaces the requests: a
 * GC that frees nothing is asked again only after as much growth again. Memory that swings by that
 * much gets a GC per swing, at most one per interval.
 */
static bool outside_grew(const PolicyConfig *c, PolicyState *s, const PolicySample *x,
                         const PolicyDecision *d)
{
        uint64_t limit = d->limit_bytes;

        s->outside_low_bytes = min_u64(s->outside_low_bytes, d->unseen_bytes);
        if (c->gc_outside_growth_permyriad == 0 || limit == SIZE_MAX_UNLIMITED ||
            x->current_bytes < limit / 2 ||
            !interval_passed(s->gc_usec, x->now_usec, c->gc_outside_interval_usec))
                return false;
        return d->unseen_bytes - s->outside_low_bytes >=
               max_u64(of_limit(limit, c->gc_outside_growth_permyriad), c->gc_min_gain_bytes);
}

/* Rungs 2, 3 and 5: GC, release, shed. */
static void ask_agent(const PolicyConfig *c, PolicyState *s, const PolicySample *x, bool pressing,
                      PolicyDecision *d)
{
        usec_t now = x->now_usec;
        bool worth = sat_sub(x->runtime_total_bytes, x->heap_live_bytes) >= c->gc_min_gain_bytes;
        /* Not while the level is only decaying through its hysteresis band. */
        bool pressure = pressing;
        /* A target lowered under the heap takes effect at the runtime's next trigger check; a GC now
         * does not wait for it. */
        bool over = (d->actions & POLICY_ACTION_LOWER_TARGET) && x->runtime_total_bytes > s->target_bytes;
        /* Release (Go: FreeOSMemory, a GC plus a full scavenge under the heap lock) is the next rung:
         * at critical, or when a GC has had an interval to calm an elevated level and did not. */
        bool release = pressure && (s->level == POLICY_LEVEL_CRITICAL ||
                                    held_for(s->pressure_since_usec, now, c->gc_interval_usec));

        bool asked = (pressure || over) && worth && interval_passed(s->gc_usec, now, c->gc_interval_usec);
        bool grew = outside_grew(c, s, x, d);

        if (c->ladder_gc && (asked || grew)) {
                s->gc_usec = now;
                s->outside_low_bytes = d->unseen_bytes;
                d->actions |= POLICY_ACTION_GC;
                if (pressure) /* otherwise the rule that lowered the target explains it */
                        fire(d, POLICY_RULE_PRESSURE);
                else if (grew)
                        fire(d, POLICY_RULE_OUTSIDE_GREW);
        }
        if (c->ladder_release && release && worth &&
            interval_passed(s->release_usec, now, c->release_interval_usec)) {
                s->release_usec = now;
                d->actions |= POLICY_ACTION_RELEASE;
                fire(d, POLICY_RULE_PRESSURE);
        }
        if (c->ladder_shed && d->level_changed && s->level == POLICY_LEVEL_CRITICAL) {
                d->actions |= POLICY_ACTION_SHED;
                fire(d, POLICY_RULE_PRESSURE);
        }
}

/* Rung 4: keep cold page cache and unmapped anon pages from filling the last stretch below the limit, so
 * the kernel does not have to reclaim them in the allocation path. Only inactive_file and anon pages no
 * process maps: never the working set. */
static void reclaim_cache(const PolicyConfig *c, PolicyState *s, const PolicySample *x, PolicyDecision *d)
{
        uint64_t limit = d->limit_bytes, want;

        if (limit == SIZE_MAX_UNLIMITED || !c->ladder_reclaim)
                return;
        want = sat_sub(x->current_bytes, of_limit(limit, c->reclaim_above_permyriad));
        want = min_u64(want, min_u64(x->inactive_file_bytes + unmapped_anon(x), x->current_bytes));
        want = min_u64(want, of_limit(limit, c->reclaim_step_max_permyriad));
        if (want == 0 || want < c->reclaim_min_bytes ||
            !interval_passed(s->reclaim_usec, x->now_usec, c->reclaim_interval_usec))
                return;
        s->reclaim_usec = x->now_usec;
        d->reclaim_bytes = want;
        d->actions |= POLICY_ACTION_RECLAIM;
        fire(d, POLICY_RULE_RECLAIM);
}

/*
 * memgov's own throttle point, never a limit (observe_limit()), in one of two roles:
 * - The guard, with an agent: between where the target lets the group sit (limit - headroom) and
 *   the hard limit. Growth that outruns the samples (a jump outside the heap, a program faster than the
 *   loop) crosses it first: the kernel throttles the allocating task and counts a "high" event
 *   within about 10 ms, and the step that follows lowers the target and asks for a GC while the task
 *   waits. Below the guard nothing is throttled. docs/control-law.md, "The guard".
 *   Far below the guard, if memory_high_wire is set (off by default: it held growing heaps for longer
 *   than it saved), the throttle point is the wire instead: the charge plus memory_high_wire of the limit.
 *   Growth that no sample has seen yet crosses it, the kernel says so at once, and the step moves it up
 *   again, past the new charge. So a jump far below the limit is seen within milliseconds of its start,
 *   not at the next paced sample. It moves down only once the charge has stayed more than four times its
 *   distance below it for a window, so a runtime's sawtooth does not move it on every cycle.
 * docs/control-law.md, "The wire".
 * - Without an agent, if memory_high_adjust: the hard limit less memory_high_headroom, turning a sudden OOM
 *   kill into throttling the kernel reports, which is what the level and the breaker watch.
 * A throttle point someone else set is theirs: followed as a limit, never written; and when neither role
 * applies, memgov puts back the throttle point it replaced.
 */
/* A wire crossed again within this long of its last move is being grown into, not jumped over. */
#define WIRE_GROWING_USEC (2 * USEC_PER_SEC)

static uint64_t place_wire(const PolicyConfig *c, PolicyState *s, const PolicySample *x, uint64_t guard)
{
        uint64_t max = x->limits.max_bytes, base, wire;
        bool far;

        if (c->memory_high_wire_permyriad == 0)
                return guard;
        base = max_u64(of_limit(max, c->memory_high_wire_permyriad), 1);
        s->wire_distance_bytes = max_u64(s->wire_distance_bytes, base);
        wire = s->high_is_wire ? s->high_written_bytes : guard;
        /* Ahead of the charge, and not left far above it for a whole window: stays where it is. */
        far = wire < guard && x->current_bytes < wire &&
              wire - x->current_bytes > 4 * s->wire_distance_bytes;
        timer_track(&s->wire_far_since_usec, far, x->now_usec);
        if (wire < guard && x->current_bytes < wire &&
            (!far || !held_for(s->wire_far_since_usec, x->now_usec, c->window_usec)))
                return wire;
        s->wire_far_since_usec = NEVER;
        /* Steady growth doubles the distance at each crossing, so a heap growing to its size crosses it a
         * handful of times, each held until the step moves it; a group that was still keeps it near, where
         * a jump is seen within the base distance. */
        if (wire < guard && x->current_bytes >= wire &&
            !interval_passed(s->wire_moved_usec, x->now_usec, WIRE_GROWING_USEC))
                s->wire_distance_bytes = min_u64(2 * s->wire_distance_bytes, max / 2);
        else
                s->wire_distance_bytes = base;
        s->wire_moved_usec = x->now_usec;
        if (x->current_bytes >= guard || guard - x->current_bytes <= s->wire_distance_bytes)
                return guard;
        return (x->current_bytes + s->wire_distance_bytes) & ~(uint64_t)4095;
}

static void adjust_high(const PolicyConfig *c, PolicyState *s, const PolicySample *x, PolicyDecision *d)
{
        uint64_t max = x->limits.max_bytes, desired = s->high_external_bytes, in_force, room = 0;
        bool guard = false, wire = false;

        if (desired == SIZE_MAX_UNLIMITED && max != SIZE_MAX_UNLIMITED) {
                if (x->agent_present && c->memory_high_guard_permyriad > 0) {
                        room = max_u64(
                                units_apply_permyriad(d->headroom_bytes, c->memory_high_guard_permyriad), 1);
                        guard = true;
                } else if (!x->agent_present && c->memory_high_adjust)
                        room = max_u64(of_limit(max, c->memory_high_headroom_permyriad),
                                       c->headroom_min_bytes);
        }
        if (room > 0)
                desired = (max - min_u64(room, max / 2)) & ~(uint64_t)4095; /* what the kernel keeps */
        else if (!s->high_written)
                return; /* nothing of memgov's to place or put back */
        in_force = s->high_written ? s->high_written_bytes : x->limits.high_bytes;
        if (guard) {
                s->guard_bytes = desired;
                desired = place_wire(c, s, x, desired);
                wire = desired < s->guard_bytes;
        }
        if (desired == in_force)
                return;
        /* The deadband keeps the guard from following every small resize; the wire moves by its distance. */
        if (!wire && !s->high_is_wire && desired != SIZE_MAX_UNLIMITED && in_force != SIZE_MAX_UNLIMITED &&
            max != SIZE_MAX_UNLIMITED &&
            (desired > in_force ? desired - in_force : in_force - desired) <
                    of_limit(max, c->down_deadband_permyriad))
                return;
        set_high(s, x, desired, d);
        s->high_is_wire = wire;
        fire(d, POLICY_RULE_HIGH_FOLLOW);
}

static void reset_breaker(PolicyState *s)
{
        s->unfit_since_usec = NEVER;
        s->gc_cpu_high_since_usec = NEVER;
        s->critical_since_usec = NEVER;
}

void policy_step(const PolicyConfig *config, PolicyState *state, const PolicySample *sample,
                 PolicyDecision *ret)
{
        const PolicyConfig *c = config;
        PolicyState *s = state;
        const PolicySample *x = sample;
        uint64_t limit = observe_limit(s, x);
        bool connected = x->agent_present && !s->agent_was_present;
        PolicyRule breaker;
        bool pressing;

        *ret = (PolicyDecision){.rule = POLICY_RULE_STEADY, .memory_high_bytes = x->limits.high_bytes};
        pressing = update_level(c, s, x, ret);
        compute_fit(c, x, limit, ret);

        if (!x->agent_present || connected) {
                s->outside_low_bytes = UINT64_MAX; /* a new runtime: growth counts from its first sample */
                if (!x->agent_present)
                        s->target_bytes = POLICY_TARGET_NONE; /* the child keeps it; a reconnect resyncs */
        }
        s->agent_was_present = x->agent_present;

        /* A bigger limit is a new question: the answer "cannot fit" may have changed. */
        if (s->gave_up && s->seen_sample && limit > s->gave_up_limit_bytes) {
                s->gave_up = false;
                reset_breaker(s);
        }

        if (s->gave_up)
                fire(ret, POLICY_RULE_GAVE_UP);
        else if ((breaker = check_breaker(c, s, x, ret)) != POLICY_RULE_STEADY)
                give_up(c, s, x, breaker, ret);
        else {
                if (x->agent_present) {
                        steer_target(c, s, x, connected, ret);
                        ask_agent(c, s, x, pressing, ret);
                }
                reclaim_cache(c, s, x, ret);
                adjust_high(c, s, x, ret);
                if (ret->level_changed)
                        fire(ret, POLICY_RULE_PRESSURE);
                if (ret->rule == POLICY_RULE_STEADY && limit == SIZE_MAX_UNLIMITED)
                        ret->rule = POLICY_RULE_NO_LIMIT;
        }

        ret->target_bytes = s->target_bytes;
        s->limit_bytes = limit;
        s->seen_sample = true;
}

bool policy_settled(const PolicyState *s)
{
        return s->seen_sample && s->level == POLICY_LEVEL_OK && s->above_since_usec == NEVER &&
               s->gc_cpu_high_since_usec == NEVER && s->unfit_since_usec == NEVER && !s->high_is_wire &&
               !s->gave_up;
}

bool policy_may_skip(const PolicyState *s, const PolicyDecision *last)
{
        return last->actions == 0 && !last->refresh_stats && policy_settled(s);
}

bool policy_agents_still(const PolicyConfig *c, const PolicySample *last, const PolicySample *x,
                         uint64_t band)
{
        if (x->agent_present != last->agent_present)
                return false;
        if (!x->agent_present)
                return true;
        if (gc_cpu_high(c, last) || gc_cpu_high(c, x))
                return false;
        /* Unseen memory as compute_fit() reads it: from the charge paired with the stats while there is
         * room, from the fresh one near the limit. */
        return moved(x->runtime_total_bytes, last->runtime_total_bytes) < band &&
               moved(x->heap_live_bytes, last->heap_live_bytes) < band &&
               moved(sat_sub(paired_charge(x), x->runtime_total_bytes),
                     sat_sub(paired_charge(last), last->runtime_total_bytes)) < band &&
               moved(sat_sub(x->current_bytes, x->runtime_total_bytes),
                     sat_sub(last->current_bytes, last->runtime_total_bytes)) < band;
}

/* SPDX-License-Identifier: MIT */
/*
 * policy_step() over scripted traces. Each table is a trace: one row per step
 * (or per run of `repeat` steps one second apart, with per-step deltas), the
 * sample on the left and what the law must decide on the right. Expectations
 * left out are strict defaults: level ok, no actions, rule steady, target
 * unchanged. run_trace() also checks invariants on every step of every trace
 * (bounded raises, one raise a window, never below the floor, cannot-fit at
 * most once, nothing asked of an absent agent) and counts direction changes.
 */
#include <errno.h>

#include "../../policy/law.h"
#include "../../policy/pace.h"
#include "../../policy/macro.h"
#include "../unit/check.h"

#define K   (UINT64_C(1) << 10)
#define M   (UINT64_C(1) << 20)
#define UNL SIZE_MAX_UNLIMITED

#define LOWER    POLICY_ACTION_LOWER_TARGET
#define RAISE    POLICY_ACTION_RAISE_TARGET
#define GC       POLICY_ACTION_GC
#define RELEASE  POLICY_ACTION_RELEASE
#define RECLAIM  POLICY_ACTION_RECLAIM
#define SHED     POLICY_ACTION_SHED
#define CANNOT   POLICY_ACTION_CANNOT_FIT
#define KILL     POLICY_ACTION_KILL
#define SET_HIGH POLICY_ACTION_SET_HIGH

#define OK   POLICY_LEVEL_OK
#define ELEV POLICY_LEVEL_ELEVATED
#define CRIT POLICY_LEVEL_CRITICAL

typedef enum TargetExpect {
        T_SAME,  /* unchanged from the previous step */
        T_DOWN,  /* strictly lower */
        T_UP,    /* strictly higher */
        T_IDEAL, /* limit - (current - runtime - inactive_file) - 5% of limit, restated here */
        T_EQ,    /* exactly target */
        T_NONE,  /* no target */
} TargetExpect;

typedef struct Row {
        unsigned repeat;    /* steps this row stands for; 0 means 1 */
        uint64_t max, high; /* 0: unlimited */
        uint64_t cur, rt, live, inact;
        int64_t d_cur, d_rt, d_live; /* added per repeated step */
        uint32_t some, full, gc;     /* permyriad */
        bool some_fired, full_fired, no_agent;
        uint64_t ev_high, ev_max, ev_oom, ev_kill;
        /* expected */
        PolicyLevel level;
        unsigned actions;
        PolicyRule rule;
        TargetExpect target;
        uint64_t target_bytes;  /* T_EQ */
        uint64_t reclaim_bytes; /* checked when non-zero */
        uint64_t high_bytes;    /* checked with SET_HIGH */
} Row;

typedef struct Run {
        unsigned steps, target_changes, direction_changes, cannot_fit, level_changes, gcs, releases;
        int last_direction;
        PolicyDecision last;
} Run;

/* The traces test the target and the ladder; memgov's memory.high guard, which follows memory.max on every
 * resize, has traces of its own (test_guard) and is off in the others. */
static PolicyConfig defaults(void)
{
        PolicyConfig c;
        policy_config_default(&c);
        c.memory_high_guard_permyriad = 0;
        return c;
}

static uint64_t headroom(uint64_t limit)
{
        return limit / 20 > 8 * M ? limit / 20 : 8 * M; /* 5%, at least 8M */
}

/* The target formula, restated independently of law.c. */
static uint64_t ideal_of(const PolicySample *x)
{
        uint64_t limit =
                x->limits.max_bytes < x->limits.high_bytes ? x->limits.max_bytes : x->limits.high_bytes;
        uint64_t seen = x->runtime_total_bytes + x->inactive_file_bytes;
        uint64_t unseen = x->current_bytes > seen ? x->current_bytes - seen : 0;
        uint64_t slack = seen > x->current_bytes ? seen - x->current_bytes : 0;

        if (!x->agent_present || slack > headroom(limit) / 4)
                slack = x->agent_present ? headroom(limit) / 4 : 0;
        return limit - unseen - headroom(limit) + slack;
}

static PolicySample row_sample(const Row *r, unsigned k, usec_t now)
{
        return (PolicySample){
                .now_usec = now,
                .limits = {r->max ? r->max : UNL, r->high ? r->high : UNL},
                .current_bytes = r->cur + (uint64_t)(r->d_cur * k),
                .inactive_file_bytes = r->inact,
                .file_bytes = r->inact,
                .psi_some_avg10_permyriad = r->some,
                .psi_full_avg10_permyriad = r->full,
                .psi_some_fired = r->some_fired,
                .psi_full_fired = r->full_fired,
                .events_high = r->ev_high,
                .events_max = r->ev_max,
                .events_oom = r->ev_oom,
                .events_oom_kill = r->ev_kill,
                .agent_present = !r->no_agent,
                .runtime_total_bytes = r->rt + (uint64_t)(r->d_rt * k),
                .heap_live_bytes = r->live + (uint64_t)(r->d_live * k),
                .gc_cpu_permyriad = r->gc,
        };
}

static bool target_ok(const Row *r, const PolicySample *x, uint64_t before, uint64_t after)
{
        switch (r->target) {
        case T_SAME:
                return after == before;
        case T_DOWN:
                return after < before;
        case T_UP:
                return after > before && after != POLICY_TARGET_NONE;
        case T_IDEAL:
                return after == ideal_of(x);
        case T_EQ:
                return after == r->target_bytes;
        case T_NONE:
                return after == POLICY_TARGET_NONE;
        }
        return false;
}

/* Properties every step of every trace must have. */
static void check_invariants(const char *what, unsigned step, const PolicyConfig *c, const PolicySample *x,
                             const PolicyDecision *d, uint64_t before, usec_t *last_change)
{
        uint64_t after = d->target_bytes;

        if (!x->agent_present)
                CHECK(!(d->actions & (LOWER | RAISE | GC | RELEASE | SHED)) && after == POLICY_TARGET_NONE,
                      "%s step %u: asked an absent agent", what, step);
        /* The law never squeezes below the live heap's needs; a floor that grows past the target is
         * the breaker's business, not a reason to chase the leak upward. */
        if ((d->actions & LOWER) && d->floor_bytes <= d->limit_bytes)
                CHECK(after >= d->floor_bytes, "%s step %u: target %" PRIu64 " lowered below floor %" PRIu64,
                      what, step, after, d->floor_bytes);
        if ((d->actions & RAISE) && after != POLICY_TARGET_NONE && before != POLICY_TARGET_NONE) {
                CHECK(after - before <= units_apply_permyriad(d->limit_bytes, c->up_step_max_permyriad),
                      "%s step %u: raise of %" PRIu64 " above the bound", what, step, after - before);
                CHECK(*last_change == UINT64_MAX || x->now_usec - *last_change >= c->window_usec,
                      "%s step %u: raise within a window of the last change", what, step);
        }
        /* An agent that left takes no message: the law just forgets what it was told. */
        if (x->agent_present)
                CHECK(!!(d->actions & (LOWER | RAISE)) == (after != before),
                      "%s step %u: target moved without a target action, or the reverse", what, step);
        if (after != before)
                *last_change = x->now_usec;
}

static void run_trace(const char *what, const PolicyConfig *c, const Row *rows, size_t n, Run *ret)
{
        PolicyState s;
        Run run = {0};
        usec_t now = 1000 * USEC_PER_SEC, last_change = UINT64_MAX;
        uint64_t target = POLICY_TARGET_NONE;

        policy_state_init(&s, c);
        for (size_t i = 0; i < n; i++) {
                const Row *r = &rows[i];
                for (unsigned k = 0; k < (r->repeat ? r->repeat : 1); k++, now += USEC_PER_SEC) {
                        PolicySample x = row_sample(r, k, now);
                        PolicyDecision d;
                        char line[POLICY_DECISION_STRLEN];
                        unsigned step = run.steps++;

                        policy_step(c, &s, &x, &d);
                        policy_decision_format(&d, line, sizeof(line));
                        CHECK(d.level == r->level, "%s step %u (row %zu): level %s, want %s: %s", what, step,
                              i, policy_level_to_string(d.level), policy_level_to_string(r->level), line);
                        CHECK(d.actions == r->actions, "%s step %u (row %zu): actions %#x, want %#x: %s",
                              what, step, i, d.actions, r->actions, line);
                        CHECK(d.rule == r->rule, "%s step %u (row %zu): rule %s, want %s: %s", what, step, i,
                              policy_rule_to_string(d.rule), policy_rule_to_string(r->rule), line);
                        CHECK(target_ok(r, &x, target, d.target_bytes),
                              "%s step %u (row %zu): target %" PRIu64 " after %" PRIu64 ", want rule %d: %s",
                              what, step, i, d.target_bytes, target, r->target, line);
                        if (r->reclaim_bytes)
                                CHECK(d.reclaim_bytes == r->reclaim_bytes,
                                      "%s step %u: reclaim %" PRIu64 ", want %" PRIu64, what, step,
                                      d.reclaim_bytes, r->reclaim_bytes);
                        if (r->actions & SET_HIGH)
                                CHECK(d.memory_high_bytes == r->high_bytes,
                                      "%s step %u: memory.high %" PRIu64 ", want %" PRIu64, what, step,
                                      d.memory_high_bytes, r->high_bytes);
                        if (d.actions & KILL)
                                CHECK(d.exit_status == POLICY_EXIT_CANNOT_FIT, "%s: exit %d", what,
                                      d.exit_status);
                        check_invariants(what, step, c, &x, &d, target, &last_change);

                        if (d.target_bytes != target && target != POLICY_TARGET_NONE &&
                            d.target_bytes != POLICY_TARGET_NONE) {
                                int dir = d.target_bytes > target ? 1 : -1;
                                if (run.last_direction && dir != run.last_direction)
                                        run.direction_changes++;
                                run.last_direction = dir;
                        }
                        run.target_changes += d.target_bytes != target;
                        run.cannot_fit += !!(d.actions & CANNOT);
                        run.level_changes += d.level_changed;
                        run.gcs += !!(d.actions & GC);
                        run.releases += !!(d.actions & RELEASE);
                        target = d.target_bytes;
                        run.last = d;
                }
        }
        if (ret)
                *ret = run;
}

#define RUN(what, c, rows, ret) run_trace(what, c, rows, ELEMENTSOF(rows), ret)

/* A 1G group: runtime 500M (live 300M) plus 100M the runtime does not see. */
#define BASE    .max = 1024 * M, .cur = 600 * M, .rt = 500 * M, .live = 300 * M
#define INITIAL .actions = LOWER, .rule = POLICY_RULE_TARGET_INITIAL, .target = T_IDEAL

static void test_steady(void)
{
        static const Row rows[] = {
                {BASE, INITIAL},
                {BASE, .repeat = 120},
        };
        PolicyConfig c = defaults();
        Run r;

        RUN("steady", &c, rows, &r);
        CHECK(r.target_changes == 1 && r.gcs == 0 && r.level_changes == 0, "steady: %u changes, %u gcs",
              r.target_changes, r.gcs);
}

static void test_no_limit(void)
{
        static const Row rows[] = {
                {.cur = 600 * M,
                 .rt = 500 * M,
                 .live = 300 * M,
                 .rule = POLICY_RULE_NO_LIMIT,
                 .target = T_NONE},
                {.cur = 600 * M,
                 .rt = 500 * M,
                 .live = 300 * M,
                 .rule = POLICY_RULE_NO_LIMIT,
                 .repeat = 5,
                 .target = T_NONE},
                /* A limit appears (set in place): steer toward it. */
                {BASE, .actions = LOWER, .rule = POLICY_RULE_TARGET_DOWN, .target = T_IDEAL},
                {BASE, .repeat = 3},
                /* ... and goes away: the target is lifted at once. */
                {.cur = 600 * M,
                 .rt = 500 * M,
                 .live = 300 * M,
                 .actions = RAISE,
                 .rule = POLICY_RULE_TARGET_UP,
                 .target = T_NONE},
        };
        PolicyConfig c = defaults();
        RUN("no limit", &c, rows, NULL);
}

static void test_outside_growth(void)
{
        /* Outside memory grows 25M a step, from 125M to 450M; the runtime does not move. The target
         * follows each step, and current stays well below memory.max. At 475M outside the target
         * falls under the runtime's total: a GC is asked so the heap does not wait for its trigger. */
        static const Row rows[] = {
                {BASE, INITIAL},
                {BASE, .repeat = 14, .cur = 625 * M, .d_cur = 25 * M, .actions = LOWER,
                 .rule = POLICY_RULE_TARGET_DOWN, .target = T_IDEAL},
                {BASE, .cur = 975 * M, .actions = LOWER | GC, .rule = POLICY_RULE_TARGET_DOWN,
                 .target = T_IDEAL},
                {BASE, .cur = 975 * M, .repeat = 20},
        };
        PolicyConfig c = defaults();
        Run r;

        c.gc_outside_growth_permyriad = 0; /* the GC for outside growth has its own test */
        RUN("outside growth", &c, rows, &r);
        CHECK(r.direction_changes == 0 && r.target_changes == 16, "outside growth: %u changes, %u flips",
              r.target_changes, r.direction_changes);
        CHECK(r.last.target_bytes == 1024 * M - 475 * M - headroom(1024 * M),
              "outside growth: final target");
}

/* One raise: a window of waiting rows, then the step. */
#define WAIT_THEN_RAISE(...)                                                                 \
        {__VA_ARGS__, .repeat = 10},                                                         \
        {                                                                                    \
                __VA_ARGS__, .actions = RAISE, .rule = POLICY_RULE_TARGET_UP, .target = T_UP \
        }

static void test_spike(void)
{
        /* A helper spikes 300M outside the runtime for three seconds with a PSI trigger: the target
         * drops at once and a GC is asked. When pressure has been calm for level_leave_usec the level
         * returns to ok, and the target climbs back in steps of at most 5% of the limit, one a
         * window (10 s of waiting + the step), until it is at the ideal again. */
        static const Row rows[] = {
                {BASE, INITIAL},
                {BASE, .repeat = 2},
                {BASE, .cur = 900 * M, .some = 800, .some_fired = true, .level = ELEV, .actions = LOWER | GC,
                 .rule = POLICY_RULE_PRESSURE, .target = T_IDEAL},
                {BASE, .cur = 900 * M, .some = 600, .level = ELEV, .repeat = 2},
                {BASE, .some = 400, .level = ELEV, .repeat = 2}, /* decaying, still above leave */
                {BASE, .some = 200, .level = ELEV, .repeat = 2},
                {BASE, .some = 50, .level = ELEV, .repeat = 10}, /* calm: the leave clock runs */
                {BASE, .some = 50, .rule = POLICY_RULE_PRESSURE},
                {BASE, .some = 50, .repeat = 9},
                {BASE, .actions = RAISE, .rule = POLICY_RULE_TARGET_UP, .target = T_UP},
                WAIT_THEN_RAISE(BASE),
                WAIT_THEN_RAISE(BASE),
                WAIT_THEN_RAISE(BASE),
                WAIT_THEN_RAISE(BASE),
                {BASE, .repeat = 10},
                {BASE, .actions = RAISE, .rule = POLICY_RULE_TARGET_UP, .target = T_IDEAL},
                {BASE, .repeat = 30},
        };
        PolicyConfig c = defaults();
        Run r;

        RUN("spike", &c, rows, &r);
        CHECK(r.gcs == 1 && r.releases == 0, "spike: %u gcs %u releases", r.gcs, r.releases);
        CHECK(r.direction_changes == 1, "spike: down then up is one change, got %u", r.direction_changes);
}

/* The runtime grows with a leaking live heap while 100M stays outside it. */
#define LEAK_ROWS                                                                               \
        {.max = 1024 * M, .cur = 400 * M, .rt = 300 * M, .live = 200 * M, INITIAL},             \
                {.max = 1024 * M,                                                               \
                 .repeat = 28,                                                                  \
                 .live = 220 * M,                                                               \
                 .d_live = 20 * M,                                                              \
                 .rt = 320 * M,                                                                 \
                 .d_rt = 20 * M,                                                                \
                 .cur = 420 * M,                                                                \
                 .d_cur = 20 * M},                                                              \
                {.max = 1024 * M,                                                               \
                 .live = 780 * M,                                                               \
                 .rt = 790 * M,                                                                 \
                 .cur = 890 * M}, /* live + 10% > ideal next */                                 \
        {                                                                                       \
                .max = 1024 * M, .repeat = 5, .live = 800 * M, .d_live = 20 * M, .rt = 810 * M, \
                .d_rt = 20 * M, .cur = 910 * M, .d_cur = 20 * M                                 \
        }
#define LEAK_END .max = 1024 * M, .live = 900 * M, .rt = 910 * M, .cur = 1010 * M

static void test_leak(void)
{
        /* The live heap needs more than the ideal target for cannot_fit_hold_usec (5 s): cannot-fit,
         * once. let-oom lifts the target (no GC thrashing at a limit that cannot hold the heap) and
         * then keeps its hands off; a larger memory.max later is a new question. */
        static const Row let_oom[] = {
                LEAK_ROWS,
                {LEAK_END, .actions = CANNOT | RAISE, .rule = POLICY_RULE_HEAP_CANNOT_FIT, .target = T_NONE},
                {LEAK_END, .repeat = 20, .rule = POLICY_RULE_GAVE_UP, .target = T_NONE},
                {LEAK_END, .max = 2048 * M, .actions = LOWER, .rule = POLICY_RULE_TARGET_DOWN,
                 .target = T_IDEAL},
        };
        static const Row kill[] = {
                LEAK_ROWS,
                {LEAK_END, .actions = CANNOT | KILL, .rule = POLICY_RULE_HEAP_CANNOT_FIT},
                {LEAK_END, .repeat = 20, .rule = POLICY_RULE_GAVE_UP},
        };
        PolicyConfig c = defaults();
        Run r;

        RUN("leak let-oom", &c, let_oom, &r);
        CHECK(r.cannot_fit == 1, "leak let-oom: cannot-fit %u times", r.cannot_fit);
        c.give_up = POLICY_GIVE_UP_KILL;
        RUN("leak kill", &c, kill, &r);
        CHECK(r.cannot_fit == 1, "leak kill: cannot-fit %u times", r.cannot_fit);
}

#define SMALL .cur = 400 * M, .rt = 300 * M, .live = 200 * M

static void test_resize(void)
{
        /* memory.max 1G -> 512M in place: the target follows in the same step. 512M -> 1G: it climbs
         * back in ten bounded raises (486.4M at most 51.2M a step), one a window. Then someone sets
         * memory.high to 768M: it is a limit too. */
        static const Row rows[] = {
                {.max = 1024 * M, SMALL, INITIAL},
                {.max = 1024 * M, SMALL, .repeat = 4},
                {.max = 512 * M,
                 SMALL,
                 .actions = LOWER,
                 .rule = POLICY_RULE_TARGET_DOWN,
                 .target = T_IDEAL},
                {.max = 512 * M, SMALL, .repeat = 4},
                {.max = 1024 * M, SMALL},
                {.max = 1024 * M, SMALL, .repeat = 9},
                {.max = 1024 * M, SMALL, .actions = RAISE, .rule = POLICY_RULE_TARGET_UP, .target = T_UP},
                WAIT_THEN_RAISE(.max = 1024 * M, SMALL),
                WAIT_THEN_RAISE(.max = 1024 * M, SMALL),
                WAIT_THEN_RAISE(.max = 1024 * M, SMALL),
                WAIT_THEN_RAISE(.max = 1024 * M, SMALL),
                WAIT_THEN_RAISE(.max = 1024 * M, SMALL),
                WAIT_THEN_RAISE(.max = 1024 * M, SMALL),
                WAIT_THEN_RAISE(.max = 1024 * M, SMALL),
                WAIT_THEN_RAISE(.max = 1024 * M, SMALL),
                {.max = 1024 * M, SMALL, .repeat = 10},
                {.max = 1024 * M, SMALL, .actions = RAISE, .rule = POLICY_RULE_TARGET_UP, .target = T_IDEAL},
                {.max = 1024 * M, SMALL, .repeat = 20},
                {.max = 1024 * M,
                 .high = 768 * M,
                 SMALL,
                 .actions = LOWER,
                 .rule = POLICY_RULE_TARGET_DOWN,
                 .target = T_IDEAL},
                {.max = 1024 * M, .high = 768 * M, SMALL, .repeat = 5},
        };
        PolicyConfig c = defaults();
        Run r;

        RUN("resize", &c, rows, &r);
        CHECK(r.direction_changes == 2, "resize: down, up, down: %u", r.direction_changes);
}

#define DIP                          \
        {BASE},                      \
        {                            \
                BASE, .cur = 700 * M \
        }

static void test_up_to_window_min(void)
{
        /* With the step bound out of the way (100%), a raise goes to the smallest ideal seen during
         * the window, not to the latest: a dip inside the window is remembered. */
        static const Row rows[] = {
                {BASE, .cur = 900 * M, INITIAL},
                DIP,
                DIP,
                DIP,
                DIP,
                DIP,
                {BASE, .actions = RAISE, .rule = POLICY_RULE_TARGET_UP, .target = T_EQ,
                 .target_bytes = 1024 * M - 200 * M - 1024 * M / 20},
        };
        PolicyConfig c = defaults();

        c.up_step_max_permyriad = 10000;
        c.gc_outside_growth_permyriad = 0; /* each dip would be outside growth: test_outside_grew */
        RUN("up to the window's minimum", &c, rows, NULL);
}

static void test_pressure_without_growth(void)
{
        /* Nothing grows, PSI rises: elevated asks a GC; still pressing a GC interval later, a GC and a
         * release; full stalls make it critical: shed. Calm brings it down one level per 10 s. The
         * target never moves. */
        static const Row rows[] = {
                {BASE, INITIAL},
                {BASE, .repeat = 2},
                {BASE, .some = 800, .level = ELEV, .actions = GC, .rule = POLICY_RULE_PRESSURE},
                {BASE, .some = 800, .level = ELEV, .repeat = 9},
                {BASE, .some = 800, .level = ELEV, .actions = GC | RELEASE, .rule = POLICY_RULE_PRESSURE},
                {BASE, .some = 800, .level = ELEV},
                {BASE, .some = 900, .full = 1500, .full_fired = true, .level = CRIT, .actions = SHED,
                 .rule = POLICY_RULE_PRESSURE},
                {BASE, .level = CRIT, .repeat = 10},
                {BASE, .level = ELEV, .rule = POLICY_RULE_PRESSURE},
                {BASE, .level = ELEV, .repeat = 9},
                {BASE, .rule = POLICY_RULE_PRESSURE},
                {BASE, .repeat = 10},
        };
        PolicyConfig c = defaults();
        Run r;

        RUN("pressure without growth", &c, rows, &r);
        CHECK(r.target_changes == 1, "pressure: target moved %u times", r.target_changes);
}

static void test_events(void)
{
        /* memory.events counters are cumulative: the first sample is the baseline (50 max events
         * before memgov looked are no news); growth of high enters elevated, of oom_kill critical. */
        static const Row rows[] = {
                {BASE, .ev_max = 50, INITIAL},
                {BASE, .ev_max = 50, .ev_high = 3, .level = ELEV, .actions = GC,
                 .rule = POLICY_RULE_PRESSURE},
                {BASE, .ev_max = 50, .ev_high = 3, .level = ELEV, .repeat = 10},
                {BASE, .ev_max = 50, .ev_high = 3, .rule = POLICY_RULE_PRESSURE},
                {BASE, .ev_max = 50, .ev_high = 3, .ev_kill = 1, .level = CRIT,
                 .actions = GC | RELEASE | SHED, .rule = POLICY_RULE_PRESSURE},
                {BASE, .ev_max = 50, .ev_high = 3, .ev_kill = 1, .level = CRIT},
        };
        PolicyConfig c = defaults();
        RUN("events", &c, rows, NULL);
}

#define WIGGLE                  \
        {BASE, .cur = 630 * M}, \
        {                       \
                BASE            \
        }

static void test_noisy(void)
{
        /* Outside memory alternates 100M/130M: wider than the deadband and the hysteresis. The target
         * goes down once, to the low edge, and never climbs back into the noise. */
        static const Row rows[] = {
                {BASE, INITIAL},
                {BASE, .cur = 630 * M, .actions = LOWER, .rule = POLICY_RULE_TARGET_DOWN, .target = T_IDEAL},
                {BASE},
                WIGGLE,
                WIGGLE,
                WIGGLE,
                WIGGLE,
                WIGGLE,
                WIGGLE,
                WIGGLE,
                WIGGLE,
                WIGGLE,
                WIGGLE,
                WIGGLE,
                WIGGLE,
                WIGGLE,
                WIGGLE,
                WIGGLE,
                WIGGLE,
                WIGGLE,
                WIGGLE,
                WIGGLE,
                WIGGLE,
        };
        PolicyConfig c = defaults();
        Run r;

        RUN("noisy alternation", &c, rows, &r);
        CHECK(r.direction_changes == 0 && r.target_changes == 2, "noisy: %u changes %u flips",
              r.target_changes, r.direction_changes);
}

static void test_noisy_random(void)
{
        /* Pseudo-random wiggles of +-15M outside and PSI some in 0..4.5% around a fixed mean, for 10
         * minutes: no flip of direction, a handful of changes, at most one level change. */
        PolicyConfig c = defaults();
        PolicyState s;
        uint32_t seed = 12345;
        uint64_t target = POLICY_TARGET_NONE;
        unsigned changes = 0, flips = 0, level_changes = 0;
        int last_dir = 0;

        policy_state_init(&s, &c);
        for (unsigned i = 0; i < 600; i++) {
                PolicyDecision d;
                seed = seed * 1103515245u + 12345u;
                uint64_t wiggle = (seed >> 8) % (30 * M);
                seed = seed * 1103515245u + 12345u;
                PolicySample x = {
                        .now_usec = (uint64_t)i * USEC_PER_SEC,
                        .limits = {1024 * M, UNL},
                        .current_bytes = 500 * M + 85 * M + wiggle,
                        .psi_some_avg10_permyriad = (seed >> 8) % 450,
                        .agent_present = true,
                        .runtime_total_bytes = 500 * M,
                        .heap_live_bytes = 300 * M,
                };
                policy_step(&c, &s, &x, &d);
                if (d.target_bytes != target) {
                        int dir = d.target_bytes > target ? 1 : -1;
                        changes++;
                        if (target != POLICY_TARGET_NONE && last_dir && dir != last_dir)
                                flips++;
                        if (target != POLICY_TARGET_NONE)
                                last_dir = dir;
                }
                level_changes += d.level_changed;
                target = d.target_bytes;
        }
        CHECK(flips == 0 && changes <= 6 && level_changes == 0,
              "noisy random: %u changes, %u flips, %u levels", changes, flips, level_changes);
}

#define NOAGENT .no_agent = true, .target = T_NONE, .max = 1024 * M

static void test_no_agent(void)
{
        /* Only memory.reclaim: bring current back to 90% of the limit, from inactive_file only, at
         * most 5% of the limit per write, nothing under 1M. Pressure changes the level, nothing else. */
        static const Row rows[] = {
                {NOAGENT, .cur = 600 * M, .inact = 100 * M},
                {NOAGENT, .cur = 950 * M, .inact = 200 * M, .actions = RECLAIM, .rule = POLICY_RULE_RECLAIM,
                 .reclaim_bytes = 950 * M - 1024 * M * 9 / 10},
                {NOAGENT, .cur = 930 * M, .inact = 180 * M, .actions = RECLAIM, .rule = POLICY_RULE_RECLAIM,
                 .reclaim_bytes = 930 * M - 1024 * M * 9 / 10},
                {NOAGENT, .cur = 921 * M, .inact = 170 * M},
                {NOAGENT, .cur = 1000 * M, .inact = 20 * M, .actions = RECLAIM, .rule = POLICY_RULE_RECLAIM,
                 .reclaim_bytes = 20 * M},
                {NOAGENT, .cur = 1000 * M},
                {NOAGENT, .cur = 1023 * M, .inact = 500 * M, .actions = RECLAIM, .rule = POLICY_RULE_RECLAIM,
                 .reclaim_bytes = 1024 * M / 20},
                {NOAGENT, .cur = 700 * M, .some = 900, .level = ELEV, .rule = POLICY_RULE_PRESSURE},
                {NOAGENT, .cur = 700 * M, .some = 900, .level = ELEV, .repeat = 20},
        };
        PolicyConfig c = defaults();
        Run r;

        RUN("no agent", &c, rows, &r);
        CHECK(r.gcs == 0 && r.releases == 0, "no agent: asked the agent");
}

#define OURS(max) (((max) - (max) / 20) & ~UINT64_C(4095))

static void test_no_agent_memory_high(void)
{
        /* memory_high_adjust: memory.high = memory.max - 5%. A write that has not landed yet is not
         * repeated; a resize of memory.max moves it; a memory.high someone else writes is theirs. */
        static const Row rows[] = {
                {NOAGENT, .cur = 600 * M, .actions = SET_HIGH, .rule = POLICY_RULE_HIGH_FOLLOW,
                 .high_bytes = OURS(1024 * M)},
                {NOAGENT, .cur = 600 * M},
                {NOAGENT, .cur = 600 * M, .high = OURS(1024 * M), .repeat = 3},
                /* On 64K pages the kernel reads back less than was written: still ours. */
                {NOAGENT, .cur = 600 * M, .high = OURS(1024 * M) & ~UINT64_C(65535)},
                {NOAGENT, .cur = 600 * M, .max = 2048 * M, .high = OURS(1024 * M), .actions = SET_HIGH,
                 .rule = POLICY_RULE_HIGH_FOLLOW, .high_bytes = OURS(2048 * M)},
                {NOAGENT, .cur = 600 * M, .max = 2048 * M, .high = OURS(2048 * M)},
                {NOAGENT, .cur = 600 * M, .max = 2048 * M, .high = 700 * M, .repeat = 3},
                {NOAGENT, .cur = 650 * M, .inact = 100 * M, .max = 2048 * M, .high = 700 * M,
                 .actions = RECLAIM, .rule = POLICY_RULE_RECLAIM,
                 .reclaim_bytes = 650 * M - 700 * M * 9 / 10},
        };
        PolicyConfig c = defaults();

        c.memory_high_adjust = true;
        RUN("no agent memory.high", &c, rows, NULL);
}

static void test_agent_takes_over_high(void)
{
        /* memgov set memory.high while there was no agent; an agent connects: the target takes over
         * and memory.high goes back to what it was ("max"). */
        static const Row rows[] = {
                {NOAGENT, .cur = 600 * M, .rt = 500 * M, .live = 300 * M, .actions = SET_HIGH,
                 .rule = POLICY_RULE_HIGH_FOLLOW, .high_bytes = OURS(1024 * M)},
                {NOAGENT, .cur = 600 * M, .rt = 500 * M, .live = 300 * M, .high = OURS(1024 * M)},
                {BASE, .high = OURS(1024 * M), .actions = LOWER | SET_HIGH,
                 .rule = POLICY_RULE_TARGET_INITIAL,
                 /* memgov's own memory.high is not a limit: the ideal is from memory.max */
                 .target = T_EQ, .target_bytes = 1024 * M - 100 * M - 1024 * M / 20, .high_bytes = UNL},
                {BASE, .repeat = 3},
        };
        PolicyConfig c = defaults();

        c.memory_high_adjust = true;
        RUN("agent takes over memory.high", &c, rows, NULL);
}

/* The guard: memory.max less half the law's headroom (5% of 1G: 51.2M), in pages. */
#define GUARD(max) (((max) - (max) / 40) & ~UINT64_C(4095))

static void test_guard(void)
{
        /* With an agent, memory.high guards memory.max: placed with the first target, moved with every
         * resize of memory.max (not for a change inside the deadband), and not a limit: the target is from
         * memory.max. A jump across it is counted in memory.events "high": elevated, the target comes down
         * and a GC is asked. A memory.high someone else sets is a limit, and memgov's guard gives way to
         * it; when it goes, the guard comes back. The agent leaves: memory.high goes back to "max". */
        static const Row rows[] = {
                {BASE, .actions = LOWER | SET_HIGH, .rule = POLICY_RULE_TARGET_INITIAL, .target = T_IDEAL,
                 .high_bytes = GUARD(1024 * M)},
                {BASE, .high = GUARD(1024 * M), .repeat = 3},
                {BASE, .max = 1024 * M + 2 * M, .high = GUARD(1024 * M)},
                {BASE, .max = 512 * M, .high = GUARD(1024 * M), .cur = 450 * M, .rt = 400 * M,
                 .actions = LOWER | SET_HIGH, .rule = POLICY_RULE_TARGET_DOWN, .target = T_IDEAL,
                 .high_bytes = GUARD(512 * M)},
                {BASE, .max = 512 * M, .high = GUARD(512 * M), .cur = 450 * M, .rt = 400 * M, .repeat = 3},
                /* 55M outside the runtime at once, across the guard: the kernel counts "high". */
                {BASE, .max = 512 * M, .high = GUARD(512 * M), .cur = 505 * M, .rt = 400 * M, .ev_high = 3,
                 .level = ELEV, .actions = LOWER | GC, .rule = POLICY_RULE_PRESSURE, .target = T_EQ,
                 .target_bytes = 512 * M - 105 * M - 512 * M / 20}, /* from memory.max, not the guard */
                {BASE, .max = 512 * M, .high = GUARD(512 * M), .cur = 460 * M, .rt = 400 * M, .ev_high = 3,
                 .level = ELEV},
                /* Someone else's memory.high: a limit, not written; it goes, and the guard is placed again.
                 */
                {BASE, .max = 512 * M, .high = 480 * M, .cur = 460 * M, .rt = 400 * M, .ev_high = 3,
                 .level = ELEV, .repeat = 2},
                {BASE, .max = 512 * M, .cur = 460 * M, .rt = 400 * M, .ev_high = 3, .level = ELEV,
                 .actions = SET_HIGH, .rule = POLICY_RULE_HIGH_FOLLOW, .high_bytes = GUARD(512 * M)},
                {BASE, .max = 512 * M, .high = GUARD(512 * M), .cur = 460 * M, .rt = 400 * M, .ev_high = 3,
                 .level = ELEV},
                /* The agent leaves: the guard goes. */
                {NOAGENT, .max = 512 * M, .high = GUARD(512 * M), .cur = 460 * M, .ev_high = 3,
                 .level = ELEV, .actions = SET_HIGH, .rule = POLICY_RULE_HIGH_FOLLOW, .high_bytes = UNL},
                {NOAGENT, .max = 512 * M, .cur = 460 * M, .ev_high = 3, .level = ELEV},
        };
        PolicyConfig c = defaults();
        Run r;

        c.memory_high_guard_permyriad = 5000;
        c.memory_high_wire_permyriad = 0;
        RUN("guard", &c, rows, &r);
        CHECK(r.gcs == 1, "guard: %u GCs", r.gcs);
}

/* The wire: the charge plus 1% of memory.max (1024M), in pages. */
#define WIRE_AT(cur, n) (((cur) + (n) * (1024 * M * 100 / 10000)) & ~UINT64_C(4095))
#define WIRE(cur)       WIRE_AT(cur, 1)

static void test_wire(void)
{
        /* Far below the guard, memory.high is the wire, 1% of the limit above the charge: placed with the
         * first target, left alone while the charge stays under it, moved past the charge when a jump
         * crosses it (the kernel's "high" count is news, not pressure), twice as far at each crossing while
         * the charge grows into it, moved down (near again) only once the charge has stayed four distances
         * below it for a window (10 s), and given up for the guard near the guard. A
         * jump past the guard is pressure, whichever memory.high the kernel counted. */
        static const Row rows[] = {
                {BASE, .actions = LOWER | SET_HIGH, .rule = POLICY_RULE_TARGET_INITIAL, .target = T_IDEAL,
                 .high_bytes = WIRE(600 * M)},
                {BASE, .high = WIRE(600 * M), .repeat = 3},
                {BASE, .high = WIRE(600 * M), .cur = 605 * M},
                /* 40M outside the runtime at once, across the wire. */
                {BASE, .high = WIRE(600 * M), .cur = 640 * M, .ev_high = 5, .actions = LOWER | SET_HIGH,
                 .rule = POLICY_RULE_TARGET_DOWN, .target = T_EQ,
                 .target_bytes = 1024 * M - 140 * M - 1024 * M / 20, .high_bytes = WIRE(640 * M)},
                /* The heap grows into it again within 2 s: twice as far each time. */
                {BASE, .high = WIRE(640 * M), .cur = 652 * M, .rt = 512 * M, .ev_high = 6,
                 .actions = SET_HIGH, .rule = POLICY_RULE_HIGH_FOLLOW, .high_bytes = WIRE_AT(652 * M, 2)},
                {BASE, .high = WIRE_AT(652 * M, 2), .cur = 700 * M, .rt = 560 * M, .ev_high = 7,
                 .actions = SET_HIGH, .rule = POLICY_RULE_HIGH_FOLLOW, .high_bytes = WIRE_AT(700 * M, 4)},
                {BASE, .high = WIRE_AT(700 * M, 4), .cur = 700 * M, .rt = 560 * M, .ev_high = 7,
                 .repeat = 2},
                /* The runtime gave back 160M: after a window, the wire follows the charge down, near again.
                 */
                {BASE, .high = WIRE_AT(700 * M, 4), .cur = 540 * M, .rt = 400 * M, .ev_high = 7,
                 .repeat = 10},
                {BASE, .high = WIRE_AT(700 * M, 4), .cur = 540 * M, .rt = 400 * M, .ev_high = 7,
                 .actions = SET_HIGH, .rule = POLICY_RULE_HIGH_FOLLOW, .high_bytes = WIRE(540 * M)},
                {BASE, .high = WIRE(540 * M), .cur = 540 * M, .rt = 400 * M, .ev_high = 7, .repeat = 2},
                /* A jump from the wire past the guard: pressure; memory.high becomes the guard. */
                {BASE, .high = WIRE(540 * M), .cur = 1000 * M, .rt = 840 * M, .ev_high = 9, .level = ELEV,
                 .actions = LOWER | GC | SET_HIGH, .rule = POLICY_RULE_PRESSURE, .target = T_EQ,
                 .target_bytes = 1024 * M - 160 * M - 1024 * M / 20, .high_bytes = GUARD(1024 * M)},
                {BASE, .high = GUARD(1024 * M), .cur = 1000 * M, .rt = 840 * M, .ev_high = 9, .level = ELEV},
        };
        PolicyConfig c = defaults();
        Run r;

        c.memory_high_guard_permyriad = 5000;
        c.memory_high_wire_permyriad = 100;
        RUN("wire", &c, rows, &r);
        CHECK(r.gcs == 1, "wire: %u GCs", r.gcs);
}

static void test_guard_gives_up(void)
{
        /* A heap that cannot fit: let-oom lifts the target and the guard with it, so the kernel acts at
         * memory.max rather than throttle the program for ever. */
        static const Row rows[] = {
                {.max = 1024 * M,
                 .cur = 1000 * M,
                 .rt = 990 * M,
                 .live = 950 * M,
                 .actions = LOWER | SET_HIGH,
                 .rule = POLICY_RULE_TARGET_INITIAL,
                 .target = T_EQ,
                 .target_bytes = 950 * M + 95 * M > 1024 * M ? 1024 * M : 950 * M + 95 * M,
                 .high_bytes = GUARD(1024 * M)},
                {.max = 1024 * M,
                 .high = GUARD(1024 * M),
                 .cur = 1000 * M,
                 .rt = 990 * M,
                 .live = 950 * M,
                 .repeat = 4},
                {.max = 1024 * M,
                 .high = GUARD(1024 * M),
                 .cur = 1000 * M,
                 .rt = 990 * M,
                 .live = 950 * M,
                 .actions = CANNOT | RAISE | SET_HIGH,
                 .rule = POLICY_RULE_HEAP_CANNOT_FIT,
                 .target = T_NONE,
                 .high_bytes = UNL},
                {.max = 1024 * M,
                 .cur = 1000 * M,
                 .rt = 990 * M,
                 .live = 950 * M,
                 .repeat = 3,
                 .rule = POLICY_RULE_GAVE_UP,
                 .target = T_NONE},
        };
        PolicyConfig c = defaults();

        c.memory_high_guard_permyriad = 5000;
        RUN("guard gives up", &c, rows, NULL);
}

static void test_no_agent_stall(void)
{
        /* Critical for critical_stall_usec (5 s here): cannot-fit once; let-oom takes memgov's
         * memory.high back so the kernel acts at memory.max instead of throttling forever. */
        static const Row rows[] = {
                {NOAGENT, .cur = 900 * M, .actions = SET_HIGH, .rule = POLICY_RULE_HIGH_FOLLOW,
                 .high_bytes = OURS(1024 * M)},
                {NOAGENT, .cur = 900 * M, .high = OURS(1024 * M), .full = 2000, .full_fired = true,
                 .level = CRIT, .rule = POLICY_RULE_PRESSURE},
                {NOAGENT, .cur = 900 * M, .high = OURS(1024 * M), .full = 2000, .level = CRIT, .repeat = 4},
                {NOAGENT, .cur = 900 * M, .high = OURS(1024 * M), .full = 2000, .level = CRIT,
                 .actions = CANNOT | SET_HIGH, .rule = POLICY_RULE_STALL_CANNOT_FIT, .high_bytes = UNL},
                {NOAGENT, .cur = 900 * M, .full = 2000, .level = CRIT, .repeat = 10,
                 .rule = POLICY_RULE_GAVE_UP},
        };
        PolicyConfig c = defaults();
        Run r;

        c.memory_high_adjust = true;
        c.critical_stall_usec = 5 * USEC_PER_SEC;
        RUN("no agent stall", &c, rows, &r);
        CHECK(r.cannot_fit == 1, "stall: cannot-fit %u times", r.cannot_fit);
}

/* The runtime pressed against its target (860M + 5% headroom >= 872.8M); live heap fits. */
#define PRESSED .max = 1024 * M, .cur = 960 * M, .rt = 860 * M, .live = 700 * M

static void test_gc_cpu(void)
{
        /* GC CPU >= 40% for 30 s: cannot-fit. A dip below the bound restarts the clock. The same CPU
         * with the runtime far below its target is the program's own GOGC choice: not our squeeze. */
        static const Row pressed[] = {
                {PRESSED, INITIAL},
                {PRESSED, .gc = 4500, .repeat = 9},
                {PRESSED, .gc = 3000},
                {PRESSED, .gc = 4500, .repeat = 30},
                {PRESSED, .gc = 4500, .actions = CANNOT | RAISE, .rule = POLICY_RULE_GC_CPU_CANNOT_FIT,
                 .target = T_NONE},
                {PRESSED, .gc = 4500, .repeat = 5, .rule = POLICY_RULE_GAVE_UP, .target = T_NONE},
        };
        static const Row roomy[] = {
                {.max = 1024 * M, .cur = 500 * M, .rt = 400 * M, .live = 300 * M, INITIAL},
                {.max = 1024 * M, .cur = 500 * M, .rt = 400 * M, .live = 300 * M, .gc = 4500, .repeat = 60},
        };
        PolicyConfig c = defaults();
        Run r;

        RUN("gc cpu pressed", &c, pressed, &r);
        CHECK(r.cannot_fit == 1, "gc cpu: cannot-fit %u times", r.cannot_fit);
        RUN("gc cpu roomy", &c, roomy, &r);
        CHECK(r.cannot_fit == 0, "gc cpu roomy: cannot-fit %u times", r.cannot_fit);
}

static void test_reconnect(void)
{
        /* An agent that goes away and comes back is brought back in sync at once. */
        static const Row rows[] = {
                {BASE, INITIAL},
                {BASE, .no_agent = true, .target = T_NONE, .repeat = 3},
                {BASE, INITIAL},
                {BASE, .repeat = 3},
        };
        PolicyConfig c = defaults();
        RUN("reconnect", &c, rows, NULL);
}

/* A sample with an agent's stats and the charge paired with them, under a hard limit alone. */
static PolicySample agent_sample(usec_t now, uint64_t limit, uint64_t cur, uint64_t rt, uint64_t at_stats,
                                 uint64_t live)
{
        return (PolicySample){
                .now_usec = now,
                .limits = {limit, UNL},
                .current_bytes = cur,
                .agent_present = true,
                .runtime_total_bytes = rt,
                .charged_at_stats_bytes = at_stats,
                .heap_live_bytes = live,
        };
}

/* The runtime's total is as old as the agent's last stats; the charge read when they came is its pair. Heap
 * growth since then is not memory outside the heap; outside growth counts once the next stats come. */
static void test_stale_stats(void)
{
        static const struct {
                uint64_t cur, rt, at_stats;
                bool lowered;
                uint64_t unseen;
                bool refresh;
        } steps[] = {
                {600 * M, 500 * M, 600 * M, true, 100 * M, false},  /* connected: the initial target */
                {800 * M, 500 * M, 600 * M, false, 100 * M, true},  /* the heap grew 200M: stats? asked */
                {800 * M, 700 * M, 800 * M, false, 100 * M, false}, /* they catch up: the same unseen */
                {950 * M, 700 * M, 800 * M, false, 100 * M, true},  /* 150M outside, not yet paired */
                {950 * M, 700 * M, 950 * M, true, 250 * M, false},  /* paired: the target comes down */
                /* Within the headroom of the limit (51.2M) there is no time to wait: the fresh charge. */
                {1000 * M, 700 * M, 950 * M, true, 300 * M, true},
                /* Without the pair (an agent that is not read, or older memgov): the fresh charge. */
                {1010 * M, 700 * M, 0, true, 310 * M, false},
        };
        PolicyConfig c = defaults();
        PolicyState s;
        PolicyDecision d;

        policy_state_init(&s, &c);
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                PolicySample x = agent_sample((usec_t)(i + 1) * USEC_PER_SEC, 1024 * M, steps[i].cur,
                                              steps[i].rt, steps[i].at_stats, 300 * M);
                policy_step(&c, &s, &x, &d);
                CHECK(d.unseen_bytes == steps[i].unseen, "stale stats, step %zu: unseen %" PRIu64 "M", i,
                      d.unseen_bytes / M);
                CHECK(!!(d.actions & POLICY_ACTION_LOWER_TARGET) == steps[i].lowered,
                      "stale stats, step %zu: actions %#x", i, d.actions);
                CHECK(d.refresh_stats == steps[i].refresh, "stale stats, step %zu: stats? %d", i,
                      d.refresh_stats);
        }
}

/* A pure Go program after its scavenger released pages inside huge pages (measured in the test VM: 256M
 * group, live heap 191M, after debug.FreeOSMemory): 24M of anon pages no process maps are still charged,
 * and memory.reclaim frees them. They are freeable, not memory outside the runtime. */
static void test_unmapped_anon(void)
{
        PolicyConfig c = defaults();
        PolicyState s;
        PolicyDecision d;
        PolicySample x = {
                .now_usec = USEC_PER_SEC,
                .limits = {256 * M, UNL},
                .current_bytes = 226 * M,
                .anon_bytes = 198 * M,
                .anon_lru_bytes = 222 * M,
                .file_bytes = 3 * M,
                .agent_present = true,
                .runtime_total_bytes = 197 * M,
                .charged_at_stats_bytes = 226 * M,
                .heap_live_bytes = 191 * M,
        };

        policy_state_init(&s, &c);
        policy_step(&c, &s, &x, &d);
        CHECK(d.freeable_bytes == 24 * M, "unmapped anon: freeable %" PRIu64, d.freeable_bytes);
        CHECK(d.unseen_bytes == 5 * M, "unmapped anon: unseen %" PRIu64, d.unseen_bytes);
        /* shmem is on the anon LRU too, and not freeable. */
        x.shmem_bytes = x.file_bytes = 24 * M;
        x.now_usec += USEC_PER_SEC;
        policy_step(&c, &s, &x, &d);
        CHECK(d.freeable_bytes == 0, "shmem: freeable %" PRIu64, d.freeable_bytes);
}

/* The bench's jump (bench/latency.sh, 256M): the Go runtime counted 1.6M more than the group was charged
 * (spans and metadata it had mapped and not touched). Clamped at zero, that surplus hid the first 1.6M of
 * memory growing outside the runtime, and a fresh pair with 1.5M of it lowered no target. Credited to the
 * target, the same pair lowers it; the credit stops at a quarter of the headroom (12.8M here). */
static void test_slack(void)
{
        const uint64_t top = 256 * M - headroom(256 * M), cap = headroom(256 * M) / 4;
        const struct {
                uint64_t cur, rt;
                bool lowered;
                uint64_t slack;
        } steps[] = {
                {170 * M, 170 * M + 1638 * K, true, 1638 * K},           /* connected: the initial target */
                {170 * M + 1536 * K, 170 * M + 1638 * K, true, 102 * K}, /* 1.5M outside: lowered */
                {170 * M + 1536 * K, 200 * M, false, cap},               /* the credit's cap */
        };
        PolicyConfig c = defaults();
        PolicyState s;
        PolicyDecision d;

        policy_state_init(&s, &c);
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                PolicySample x = agent_sample((usec_t)(i + 1) * 20 * USEC_PER_MSEC, 256 * M, steps[i].cur,
                                              steps[i].rt, steps[i].cur, 110 * M);
                policy_step(&c, &s, &x, &d);
                CHECK(d.unseen_bytes == 0, "slack, step %zu: unseen %" PRIu64, i, d.unseen_bytes);
                CHECK(d.slack_bytes == steps[i].slack, "slack, step %zu: slack %" PRIu64, i, d.slack_bytes);
                CHECK(d.ideal_bytes == top + steps[i].slack, "slack, step %zu: ideal %" PRIu64, i,
                      d.ideal_bytes);
                CHECK(!!(d.actions & POLICY_ACTION_LOWER_TARGET) == steps[i].lowered,
                      "slack, step %zu: actions %#x", i, d.actions);
        }
}

#define NATIVE .max = 1024 * M, .rt = 300 * M, .live = 200 * M
#define GREW   .rule = POLICY_RULE_OUTSIDE_GREW
#define DOWN   .rule = POLICY_RULE_TARGET_DOWN, .target = T_IDEAL

static void test_outside_grew(void)
{
        /* Native memory that dead objects hold (Node's Intl objects, Java's Inflaters) grows outside the
         * runtime while its heap stays put. A GC is asked each time it has grown by 5% of the limit
         * (51.2M) above its low point since the last GC asked, once usage is past half the limit. */
        static const Row rows[] = {
                {NATIVE, .cur = 400 * M, INITIAL},                /* unseen 100M: the low point */
                {NATIVE, .cur = 460 * M, .actions = LOWER, DOWN}, /* +60M, below half the limit */
                {NATIVE, .cur = 520 * M, .actions = LOWER | GC, GREW, .target = T_IDEAL}, /* +120M */
                {NATIVE, .cur = 560 * M, .actions = LOWER, DOWN}, /* +40M since that GC */
                {NATIVE, .cur = 580 * M, .actions = LOWER | GC, GREW, .target = T_IDEAL}, /* +60M */
                {NATIVE, .cur = 500 * M},                      /* the GC freed 80M: new low point */
                {NATIVE, .cur = 540 * M},                      /* +40M */
                {NATIVE, .cur = 560 * M, .actions = GC, GREW}, /* +60M above the low point */
                {NATIVE, .cur = 560 * M, .repeat = 5},         /* no growth, no GC */
        };
        /* With a 5 s interval, growth within it waits for it. */
        static const Row spaced[] = {
                {NATIVE, .cur = 520 * M, INITIAL},
                {NATIVE, .cur = 580 * M, .actions = LOWER | GC, GREW, .target = T_IDEAL},
                {NATIVE, .cur = 640 * M, .actions = LOWER, DOWN}, /* +60M, 1 s later */
                {NATIVE, .cur = 640 * M, .repeat = 3},
                {NATIVE, .cur = 640 * M, .actions = GC, GREW}, /* 5 s later */
        };
        static const Row off[] = {
                {NATIVE, .cur = 520 * M, INITIAL},
                {NATIVE, .cur = 580 * M, .actions = LOWER, DOWN},
                {NATIVE, .cur = 700 * M, .actions = LOWER, DOWN},
        };
        PolicyConfig c = defaults();
        Run r;

        RUN("outside grew", &c, rows, &r);
        CHECK(r.gcs == 3, "outside grew: %u GCs", r.gcs);
        c.gc_outside_interval_usec = 5 * USEC_PER_SEC;
        RUN("outside grew, spaced", &c, spaced, NULL);
        c = defaults();
        c.gc_outside_growth_permyriad = 0;
        RUN("outside grew, off", &c, off, NULL);
        c = defaults();
        c.ladder_gc = false;
        RUN("outside grew, GC rung off", &c, off, NULL);
}

static void test_settled(void)
{
        /* policy_settled() lets a supervisor skip a sample whose charge is within the still band (0.5% of
         * the limit) of the last and whose agent figures are the same: such a sample must change nothing. */
        static const Row quiet = {BASE};
        PolicyConfig c = defaults();
        PaceConfig pc;
        PolicyState s;
        PolicyDecision d;
        usec_t now = 1000 * USEC_PER_SEC;
        PolicySample x;

        pace_config_default(&pc);
        policy_state_init(&s, &c);
        CHECK(!policy_settled(&s), "settled before any sample");
        for (unsigned i = 0; i < 3; i++, now += USEC_PER_SEC) {
                x = row_sample(&quiet, 0, now);
                policy_step(&c, &s, &x, &d);
        }
        CHECK(policy_settled(&s), "not settled after quiet samples");
        CHECK(policy_may_skip(&s, &d), "a quiet sample's decision may not be skipped after");
        /* A charge above the one paired with the agent's stats by more than the deadband (0.5% of 1G):
         * nothing is decided yet, the agent is asked for fresh stats, and their answer, the same figures,
         * must not be skipped as still (bench/latency.sh's jump waited 20 ms for the next look). */
        {
                PolicyState before = s;

                x = row_sample(&quiet, 0, now);
                x.charged_at_stats_bytes = x.current_bytes;
                x.current_bytes += 8 * M;
                policy_step(&c, &s, &x, &d);
                CHECK(d.actions == 0 && d.refresh_stats, "a stale pair: actions %#x, refresh %d", d.actions,
                      d.refresh_stats);
                CHECK(!policy_may_skip(&s, &d), "the answer to a refresh may be skipped");
                x.charged_at_stats_bytes = x.current_bytes;
                x.now_usec += 3 * USEC_PER_MSEC;
                policy_step(&c, &s, &x, &d);
                CHECK(d.actions & LOWER, "the answer to a refresh did not lower the target: actions %#x",
                      d.actions);
                s = before;
                now += USEC_PER_SEC;
        }
        /* Every charge the still band lets a glance skip, up and down, decides nothing. */
        for (int64_t delta = -5 * (int64_t)M; delta <= 5 * (int64_t)M;
             delta += (int64_t)M, now += USEC_PER_SEC) {
                PolicyState before = s;

                x = row_sample(&quiet, 0, now);
                x.current_bytes = (uint64_t)((int64_t)x.current_bytes + delta);
                CHECK(pace_still(&pc, now, x.current_bytes, 1024 * M, now - USEC_PER_SEC, 600 * M),
                      "%+" PRId64 " not within the still band", delta);
                policy_step(&c, &s, &x, &d);
                CHECK(d.actions == 0 && !d.level_changed && policy_settled(&s),
                      "a still sample (%+" PRId64 ") decided something: actions %#x", delta, d.actions);
                s = before;
        }
        /* Every move of the agents' figures (and the charge with them) that policy_agents_still() lets a
         * glance skip decides nothing either: an agent's report after each GC cycle is glanced at. */
        {
                const PolicySample base = row_sample(&quiet, 0, now);
                uint64_t band = pace_still_band(&pc, 1024 * M);
                unsigned still = 0, moving = 0;
                const int64_t deltas[] = {-5 * (int64_t)M, -2 * (int64_t)M, 0, 2 * (int64_t)M,
                                          5 * (int64_t)M};

                for (size_t a = 0; a < ELEMENTSOF(deltas); a++)
                        for (size_t b = 0; b < ELEMENTSOF(deltas); b++)
                                for (size_t k = 0; k < ELEMENTSOF(deltas); k++, now += USEC_PER_SEC) {
                                        PolicyState before = s;

                                        x = base;
                                        x.now_usec = now;
                                        x.runtime_total_bytes += (uint64_t)deltas[a];
                                        x.heap_live_bytes += (uint64_t)deltas[b];
                                        x.current_bytes += (uint64_t)deltas[k];
                                        x.charged_at_stats_bytes = x.current_bytes;
                                        if (!pace_still(&pc, now, x.current_bytes, 1024 * M, base.now_usec,
                                                        base.current_bytes) ||
                                            !policy_agents_still(&c, &base, &x, band)) {
                                                moving++;
                                                continue;
                                        }
                                        still++;
                                        policy_step(&c, &s, &x, &d);
                                        CHECK(d.actions == 0 && !d.level_changed && policy_settled(&s),
                                              "still agents (total %+" PRId64 "M, live %+" PRId64
                                              "M, charge %+" PRId64 "M) decided something: actions %#x",
                                              deltas[a] / (int64_t)M, deltas[b] / (int64_t)M,
                                              deltas[k] / (int64_t)M, d.actions);
                                        s = before;
                                }
                CHECK(still >= 8 && moving >= 8, "agents' figures: %u still, %u moving", still, moving);
                x = base;
                x.runtime_total_bytes += band;
                CHECK(!policy_agents_still(&c, &base, &x, band), "the runtime's total moved by the band");
                x = base;
                x.heap_live_bytes -= band;
                CHECK(!policy_agents_still(&c, &base, &x, band), "the live heap moved by the band");
                x = base;
                x.current_bytes += band - band / 2;
                x.runtime_total_bytes -= band / 2;
                CHECK(!policy_agents_still(&c, &base, &x, band), "unseen moved by the band");
                x = base;
                x.gc_cpu_permyriad = c.gc_cpu_limit_permyriad;
                CHECK(!policy_agents_still(&c, &base, &x, band), "GC CPU at the breaker's limit");
                x = base;
                x.agent_present = false;
                CHECK(!policy_agents_still(&c, &base, &x, band), "the agent went away");
        }
        /* Pressure is not settled: its level decays by time alone. */
        x = row_sample(&(Row){BASE, .some = 5000}, 0, now);
        policy_step(&c, &s, &x, &d);
        CHECK(!policy_settled(&s), "settled while elevated");
}

static void test_config_set(void)
{
        static const struct {
                const char *key, *value;
                int r;
        } rows[] = {
                {"headroom_permyriad", "7.5%", 0},     {"headroom_min_bytes", "16M", 0},
                {"window_usec", "500ms", 0},           {"give_up", "kill", 0},
                {"memory_high_adjust", "yes", 0},      {"critical_stall_usec", "0", 0},
                {"up_hysteresis_permyriad", "300", 0}, {"nope", "1", -ENOENT},
                {"headroom_permyriad", "5K", -EINVAL}, {"headroom_permyriad", "10001", -ERANGE},
                {"give_up", "maybe", -EINVAL},         {"memory_high_adjust", "perhaps", -EINVAL},
                {"window_usec", "soon", -EINVAL},
        };
        PolicyConfig c = defaults();
        size_t n = 0;

        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                int r = policy_config_set(&c, rows[i].key, rows[i].value);
                CHECK(r == rows[i].r, "config %s=%s: %d, want %d", rows[i].key, rows[i].value, r, rows[i].r);
        }
        CHECK(c.headroom_permyriad == 750 && c.headroom_min_bytes == 16 * M && c.window_usec == 500000 &&
                      c.give_up == POLICY_GIVE_UP_KILL && c.memory_high_adjust &&
                      c.critical_stall_usec == 0 && c.up_hysteresis_permyriad == 300,
              "config values");
        while (policy_config_field_name(n))
                n++;
        CHECK(n == 36, "config has %zu fields listed", n);
}

static void test_ladder_off(void)
{
        /* The spike again with the GC rung switched off: the target still drops, no GC is asked. */
        static const Row rows[] = {
                {BASE, INITIAL},
                {BASE, .repeat = 2},
                {BASE, .cur = 900 * M, .some = 800, .some_fired = true, .level = ELEV, .actions = LOWER,
                 .rule = POLICY_RULE_PRESSURE, .target = T_IDEAL},
                {BASE, .cur = 900 * M, .some = 600, .level = ELEV, .repeat = 2},
        };
        static const Row no_reclaim[] = {
                {NOAGENT, .cur = 600 * M, .inact = 100 * M},
                {NOAGENT, .cur = 950 * M, .inact = 200 * M},
                {NOAGENT, .cur = 1023 * M, .inact = 500 * M},
        };
        PolicyConfig c = defaults();
        Run r;

        CHECK(policy_config_set(&c, "ladder_gc", "no") == 0, "ladder_gc=no");
        RUN("ladder_gc off", &c, rows, &r);
        CHECK(r.gcs == 0, "ladder_gc off: %u gcs", r.gcs);
        c = defaults();
        c.ladder_reclaim = false;
        RUN("ladder_reclaim off", &c, no_reclaim, &r);
}

static void test_format(void)
{
        PolicyConfig c = defaults();
        PolicyState s;
        PolicySample x = {.now_usec = 1,
                          .limits = {1024 * M, UNL},
                          .current_bytes = 975 * M,
                          .agent_present = true,
                          .runtime_total_bytes = 500 * M,
                          .heap_live_bytes = 300 * M};
        PolicyDecision d;
        char line[POLICY_DECISION_STRLEN], actions[POLICY_ACTIONS_STRLEN];

        policy_state_init(&s, &c);
        policy_step(&c, &s, &x, &d);
        policy_decision_format(&d, line, sizeof(line));
        CHECK(strstr(line, "rule=target-initial level=ok target=") == line, "%s", line);
        CHECK(strstr(line, " actions=lower-target,gc limit=1G unseen=475M slack=0 freeable=0 "), "%s", line);
        CHECK(strcmp(policy_actions_format(0, actions, sizeof(actions)), "none") == 0, "none");
        CHECK(strcmp(policy_actions_format(CANNOT | KILL, actions, 12), "cannot-fit") == 0, "truncated: %s",
              actions);
        CHECK(strcmp(policy_rule_to_string(_POLICY_RULE_MAX), "unknown") == 0, "unknown rule");
        for (PolicyRule r = 0; r < _POLICY_RULE_MAX; r++)
                CHECK(strcmp(policy_rule_to_string(r), "unknown") != 0, "rule %d has a name", r);
}

int main(void)
{
        test_settled();
        test_steady();
        test_no_limit();
        test_outside_growth();
        test_spike();
        test_ladder_off();
        test_leak();
        test_resize();
        test_up_to_window_min();
        test_pressure_without_growth();
        test_events();
        test_noisy();
        test_noisy_random();
        test_no_agent();
        test_no_agent_memory_high();
        test_agent_takes_over_high();
        test_guard();
        test_wire();
        test_guard_gives_up();
        test_no_agent_stall();
        test_gc_cpu();
        test_reconnect();
        test_unmapped_anon();
        test_slack();
        test_stale_stats();
        test_outside_grew();
        test_config_set();
        test_format();
        return check_finish("test-law");
}

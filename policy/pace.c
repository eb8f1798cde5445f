/* SPDX-License-Identifier: MIT */
#include "pace.h"

void pace_config_default(PaceConfig *ret)
{
        *ret = (PaceConfig){
                /* The kernel rate-limits notifications of the group's event counts to one per 10 ms:
                 * sampling faster than the fastest event would not see more. */
                .floor_usec = 10 * USEC_PER_MSEC,
                /* Far below the limit and still, no sooner than tini's own wake-up (1 s) matters: inotify
                 * brings resizes, the event counts and PSI bring pressure, the guard brings jumps. */
                .ceiling_usec = 2 * USEC_PER_SEC,
                /* Idle, memgov then wakes a tenth as often as tini (once a second): bench/overhead.sh.
                 * Growth without faults (write() into a tmpfs) is caught at the guard meanwhile. */
                .ceiling_watched_usec = 10 * USEC_PER_SEC,
                /* Four samples before the room is gone at the current pace, each re-estimating it. */
                .share_permyriad = 2500,
                .near_permyriad = 2000,
                .rate_halflife_usec = USEC_PER_SEC,
                .pressing_usec = 100 * USEC_PER_MSEC,
                /* The law's own deadband (down_deadband_permyriad): less movement changes no target. */
                .still_permyriad = 50,
                .still_min_bytes = 1024 * 1024,
                /* A glance needs the law settled (policy_settled(): no window open, such as the 10 s calm
                 * before a raise), and the kernel's events wake the loop for pressure and resizes; this
                 * bounds only the age of what the status, the metrics and a post-mortem show of a still
                 * group. Shorter, every routine wake-up of an idle program was a full sample: the
                 * pace and the agents' reports came every 5 s, and so did the full sample. */
                .still_max_usec = 30 * USEC_PER_SEC,
                .faults_arm_min_usec = 100 * USEC_PER_MSEC,
                .faults_backoff_max_usec = 100 * USEC_PER_MSEC,
                /* On hardware a jump charges megabytes within a millisecond or two of its first fault:
                 * looked at after the floor (10 ms), that floor was most of the time to a decision. Under
                 * emulation the charge comes slower, and a look that sees nothing yet waits for the next
                 * fault. */
                .faults_look_usec = 2 * USEC_PER_MSEC,
                /* Ten times the backoff's top: a program faulting without growing keeps its backoff. Left
                 * at the top after a still spell's stray faults, the first look at a jump came 50-100 ms
                 * after it began (bench/latency.sh). */
                .faults_quiet_usec = USEC_PER_SEC,
        };
}

static usec_t clamp_usec(usec_t v, usec_t lo, usec_t hi)
{
        return v < lo ? lo : v > hi ? hi : v;
}

static void update_rate(const PaceConfig *c, PaceState *s, usec_t now, uint64_t current)
{
        double instant = 0, fade;

        if (!s->seen || now <= s->last_usec) {
                if (!s->seen)
                        s->rate_bytes_per_usec = 0;
                return;
        }
        if (current > s->last_bytes)
                instant = (double)(current - s->last_bytes) / (double)(now - s->last_usec);
        /* A hyperbolic fade: half the rate after one half-life, a quarter... roughly; no exp() needed. */
        fade = (double)c->rate_halflife_usec / (double)(c->rate_halflife_usec + (now - s->last_usec));
        s->rate_bytes_per_usec =
                instant > s->rate_bytes_per_usec * fade ? instant : s->rate_bytes_per_usec * fade;
}

usec_t pace_next(const PaceConfig *c, PaceState *s, usec_t now_usec, uint64_t current_bytes,
                 uint64_t limit_bytes, bool pressing)
{
        usec_t ceiling = c->ceiling_usec, next;
        uint64_t room;

        update_rate(c, s, now_usec, current_bytes);
        s->seen = true;
        s->last_usec = now_usec;
        s->last_bytes = current_bytes;

        if (pressing && c->pressing_usec < ceiling)
                ceiling = c->pressing_usec;
        if (limit_bytes == SIZE_MAX_UNLIMITED)
                return clamp_usec(ceiling, c->floor_usec, ceiling);
        /* At or over the limit the kernel acts (reclaim, throttling, OOM) and says so in the event counts:
         * sampling faster than the pressing pace would only watch it. */
        room = limit_bytes > current_bytes ? limit_bytes - current_bytes : 0;
        if (room == 0)
                return clamp_usec(c->pressing_usec < ceiling ? c->pressing_usec : ceiling, c->floor_usec,
                                  c->ceiling_usec);

        /* Close to the limit, even a still group is looked at more often, down to the pressing pace: the
         * next jump has less room. Faster than that is the growth rate's call. */
        uint64_t near = units_apply_permyriad(limit_bytes, c->near_permyriad);
        if (near > 0 && room < near) {
                usec_t scaled = (usec_t)((double)ceiling * (double)room / (double)near);
                usec_t least = c->pressing_usec < ceiling ? c->pressing_usec : ceiling;
                ceiling = scaled > least ? scaled : least;
        }

        next = ceiling;
        if (s->rate_bytes_per_usec > 0) {
                double until = (double)room / s->rate_bytes_per_usec * c->share_permyriad / 10000.0;
                if (until < (double)next)
                        next = (usec_t)until;
        }
        return clamp_usec(next, c->floor_usec, c->ceiling_usec);
}

uint64_t pace_still_band(const PaceConfig *c, uint64_t limit_bytes)
{
        uint64_t band = c->still_min_bytes;

        if (limit_bytes != SIZE_MAX_UNLIMITED) {
                uint64_t share = units_apply_permyriad(limit_bytes, c->still_permyriad);
                if (share > band)
                        band = share;
        }
        return band;
}

bool pace_still(const PaceConfig *c, usec_t now_usec, uint64_t current_bytes, uint64_t limit_bytes,
                usec_t last_usec, uint64_t last_bytes)
{
        uint64_t moved;

        if (now_usec < last_usec || now_usec - last_usec >= c->still_max_usec)
                return false;
        moved = current_bytes > last_bytes ? current_bytes - last_bytes : last_bytes - current_bytes;
        return moved < pace_still_band(c, limit_bytes);
}

bool pace_growing(const PaceConfig *c, usec_t now_usec, uint64_t current_bytes, uint64_t limit_bytes,
                  usec_t prev_usec, uint64_t prev_bytes)
{
        double rate;

        if (now_usec <= prev_usec || current_bytes <= prev_bytes)
                return false;
        rate = (double)(current_bytes - prev_bytes) / (double)(now_usec - prev_usec);
        return rate * (double)c->faults_backoff_max_usec >= (double)pace_still_band(c, limit_bytes);
}

usec_t pace_faults_delay(const PaceConfig *c, usec_t prev_usec, bool still)
{
        if (!still || prev_usec < c->faults_look_usec)
                return c->faults_look_usec;
        return prev_usec >= c->faults_backoff_max_usec / 2 ? c->faults_backoff_max_usec : 2 * prev_usec;
}

bool pace_faults_quiet(const PaceConfig *c, usec_t now_usec, usec_t last_usec)
{
        return last_usec == 0 || now_usec < last_usec || now_usec - last_usec >= c->faults_quiet_usec;
}

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * When to sample the group next: at a share of the time the recent growth needs
 * to fill the room left below the limit, between a floor and a ceiling.
 *
 * Growth without stall raises no kernel event short of memgov's own throttle
 * point (the guard), so between events only sampling sees memory coming. A fixed tick is
 * too slow when memory moves fast and wasteful when it does not; worse, a
 * wall-clock tick looks 10 to 30 times better under emulation than on
 * hardware, where the program runs that much faster. Paced by the growth it
 * measures, the sampler keeps its ratio to the program at any speed.
 *
 * Pure: time arrives as an argument, the state is the caller's.
 */

#include <stdbool.h>
#include <stdint.h>

#include "units.h"

typedef struct PaceConfig {
        usec_t floor_usec;   /* never sooner: a burst of growth does not become busy polling */
        usec_t ceiling_usec; /* never later, far below the limit and still */
        /* The ceiling while page faults wake the loop (platform_sandbox_faults_watch()): growth is seen as
         * it begins, so the paced sample is left only to feed the law's windows (still_max_usec). */
        usec_t ceiling_watched_usec;
        uint32_t share_permyriad; /* of the time until the limit at the recent growth rate */
        uint32_t near_permyriad;  /* room below this share of the limit shortens the ceiling in proportion */
        usec_t rate_halflife_usec; /* a growth rate seen is remembered, fading: bursts come in trains */
        usec_t pressing_usec;      /* at most this while an enter condition of a pressure level holds */
        /* A wake-up that may bring no news (a paced sample, an agent's routine report, a page fault) first
         * reads the charge alone; within this share of the limit (at least still_min_bytes) of the last
         * full sample, and younger than still_max_usec, the law would see nothing new: no full sample. */
        uint32_t still_permyriad;
        uint64_t still_min_bytes;
        usec_t still_max_usec;
        /* The fault watch (platform_sandbox_faults_watch()) is armed only while the next sample is further
         * off than this (so not at the pressing pace, where the kernel's events speak): while memory grows,
         * the pace samples anyway. After a fault that brought nothing
         * new the next one is looked at no sooner than a backoff, doubling up to faults_backoff_max_usec
         * (from faults_look_usec): a program that faults without growing is not sampled at the floor. */
        usec_t faults_arm_min_usec;
        /* From a fault that may bring news (the first after a still spell, or after a look that saw growth)
         * to the look. Not floor_usec: that is the kernel's rate for notifying the group's event counts,
         * and a fault's look is one read of the charge until it has moved. */
        usec_t faults_look_usec;
        usec_t faults_backoff_max_usec;
        /* A fault after this long without one starts afresh (pace_faults_quiet()): the backoff is for a
         * program faulting all the time, not for the first fault of a jump after a still spell. */
        usec_t faults_quiet_usec;
} PaceConfig;

typedef struct PaceState {
        bool seen;
        usec_t last_usec;
        uint64_t last_bytes;
        double rate_bytes_per_usec; /* the fading peak of the growth rate */
} PaceState;

void pace_config_default(PaceConfig *ret);

/* Takes one reading (now, usage, the effective limit: SIZE_MAX_UNLIMITED for none) and returns how long
 * to wait before the next one. pressing: the law saw pressure in this sample. */
usec_t pace_next(const PaceConfig *c, PaceState *s, usec_t now_usec, uint64_t current_bytes,
                 uint64_t limit_bytes, bool pressing);

/* The still band: how far the charge may move without news for the law (still_permyriad of the limit, at
 * least still_min_bytes). */
uint64_t pace_still_band(const PaceConfig *c, uint64_t limit_bytes);

/* True when a charge read at now_usec (current_bytes, against the effective limit) tells the law nothing
 * the last full sample (last_bytes at last_usec) did not: within the still band and younger than
 * still_max_usec. */
bool pace_still(const PaceConfig *c, usec_t now_usec, uint64_t current_bytes, uint64_t limit_bytes,
                usec_t last_usec, uint64_t last_bytes);

/* True when the charge grew from prev_bytes (read at prev_usec, the look before) to current_bytes (at
 * now_usec) fast enough to cross the still band within faults_backoff_max_usec. Such a look is still for
 * the law, but news for the faults' backoff: the first looks at a jump come before a band of it is touched
 * (in the VM, 0.3-1M in the first 10-20 ms of bench/latency.sh's), and backing off from them doubled the
 * wait for the look that would have seen it. A slow leak's stray faults still back off. */
bool pace_growing(const PaceConfig *c, usec_t now_usec, uint64_t current_bytes, uint64_t limit_bytes,
                  usec_t prev_usec, uint64_t prev_bytes);

/* How long to wait after a page fault before looking: faults_look_usec after one that brought news (still:
 * false), doubling after each one that did not, up to faults_backoff_max_usec. prev: the last delay, 0 for
 * none. */
usec_t pace_faults_delay(const PaceConfig *c, usec_t prev_usec, bool still);

/* True when a fault at now_usec comes faults_quiet_usec or more after the last one that woke the loop
 * (last_usec; 0 for none): the delay goes back to faults_look_usec. */
bool pace_faults_quiet(const PaceConfig *c, usec_t now_usec, usec_t last_usec);

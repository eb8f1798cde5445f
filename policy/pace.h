/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * When to sample the group next: at a share of the time the recent growth needs
 * to fill the room left below the limit, between a floor and a ceiling.
 *
 * Growth without stall raises no kernel event short of memgov's memory.high
 * guard, so between events only sampling sees memory coming. A fixed tick is
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
        usec_t floor_usec;        /* never sooner: a burst of growth does not become busy polling */
        usec_t ceiling_usec;      /* never later, far below the limit and still */
        uint32_t share_permyriad; /* of the time until the limit at the recent growth rate */
        uint32_t near_permyriad;  /* room below this share of the limit shortens the ceiling in proportion */
        usec_t rate_halflife_usec; /* a growth rate seen is remembered, fading: bursts come in trains */
        usec_t pressing_usec;      /* at most this while an enter condition of a pressure level holds */
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

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * From the limits a user asked for to the numbers memgov writes: the cgroup
 * limits, and the launch-time GC budget (GOMEMLIMIT) handed to the child.
 * Pure code: tests drive it with tables.
 */

#include <stdbool.h>
#include <stdint.h>

#include "units.h"

/* What the user asked for. A limit left unset is SIZE_MAX_UNLIMITED ("max"). */
typedef struct LimitSpec {
        uint64_t memory_max_bytes;
        uint64_t memory_high_bytes;     /* when !memory_high_is_percent */
        uint32_t memory_high_permyriad; /* when memory_high_is_percent: of memory_max */
        bool memory_high_is_percent;
        uint64_t swap_max_bytes;
        bool swap_max_set;
} LimitSpec;

typedef struct MemoryLimits {
        uint64_t max_bytes;
        uint64_t high_bytes;
} MemoryLimits;

typedef enum LimitError {
        LIMIT_OK = 0,
        LIMIT_HIGH_PERCENT_WITHOUT_MAX, /* "90%" but memory-max is max */
        LIMIT_HIGH_ABOVE_MAX,
        LIMIT_MAX_ZERO,
        LIMIT_HIGH_ZERO,
} LimitError;

/* Resolves percentages and checks consistency. Returns LIMIT_OK and fills
 * *ret, or the first problem found. */
LimitError limits_resolve(const LimitSpec *spec, MemoryLimits *ret);
const char *limit_error_to_string(LimitError e);

/* The budget the GC should live within: the throttle point when set, else the
 * hard limit; SIZE_MAX_UNLIMITED when neither is set. */
uint64_t budget_bytes(const MemoryLimits *limits);

/*
 * GOMEMLIMIT for a Go child: the budget minus a headroom for memory the Go
 * runtime does not account (cgo, mmap, thread stacks outside the runtime, page
 * cache charged to the group). The headroom is 10% of the budget, at least
 * 8 MiB, but never more than half of the budget. Returns false when there is no
 * budget (no limit) to derive one from.
 */
#define BUDGET_GO_HEADROOM_PERMYRIAD 1000u
#define BUDGET_GO_HEADROOM_MIN_BYTES (UINT64_C(8) << 20)
bool budget_go_memlimit(uint64_t budget, uint64_t *ret_bytes);

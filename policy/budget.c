/* SPDX-License-Identifier: MIT */
#include "budget.h"

LimitError limits_resolve(const LimitSpec *spec, MemoryLimits *ret)
{
        uint64_t max = spec->memory_max_bytes, high;

        if (max == 0)
                return LIMIT_MAX_ZERO;
        if (spec->memory_high_is_percent) {
                if (max == SIZE_MAX_UNLIMITED)
                        return LIMIT_HIGH_PERCENT_WITHOUT_MAX;
                high = units_apply_permyriad(max, spec->memory_high_permyriad);
        } else
                high = spec->memory_high_bytes;
        if (high == 0)
                return LIMIT_HIGH_ZERO;
        if (high != SIZE_MAX_UNLIMITED && high > max)
                return LIMIT_HIGH_ABOVE_MAX;
        if (high == SIZE_MAX_UNLIMITED && max != SIZE_MAX_UNLIMITED)
                high = SIZE_MAX_UNLIMITED; /* unset: no throttling below the hard limit */

        ret->max_bytes = max;
        ret->high_bytes = high;
        return LIMIT_OK;
}

const char *limit_error_to_string(LimitError e)
{
        switch (e) {
        case LIMIT_OK:
                return "ok";
        case LIMIT_HIGH_PERCENT_WITHOUT_MAX:
                return "--memory-high as a percentage needs --memory-max";
        case LIMIT_HIGH_ABOVE_MAX:
                return "--memory-high is above --memory-max; --memory-high is the throttle point below the hard limit, so it must not exceed it";
        case LIMIT_MAX_ZERO:
                return "--memory-max must be greater than 0; the child could not even start";
        case LIMIT_HIGH_ZERO:
                return "--memory-high must be greater than 0; the child would be throttled from its first page";
        }
        return "unknown limit error";
}

uint64_t budget_bytes(const MemoryLimits *limits)
{
        if (limits->high_bytes != SIZE_MAX_UNLIMITED)
                return limits->high_bytes;
        return limits->max_bytes;
}

bool budget_go_memlimit(uint64_t budget, uint64_t *ret_bytes)
{
        uint64_t headroom;

        if (budget == SIZE_MAX_UNLIMITED || budget == 0)
                return false;
        headroom = units_apply_permyriad(budget, BUDGET_GO_HEADROOM_PERMYRIAD);
        if (headroom < BUDGET_GO_HEADROOM_MIN_BYTES)
                headroom = BUDGET_GO_HEADROOM_MIN_BYTES;
        if (headroom > budget / 2)
                headroom = budget / 2;
        *ret_bytes = budget - headroom;
        return true;
}

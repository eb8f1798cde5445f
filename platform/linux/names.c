/* SPDX-License-Identifier: MIT */
/* The names governor/ prints for the group's event source, writes, limits and readings: the cgroup v2 files
 * they are. */
#include "../platform.h"

const char *platform_name(PlatformName n)
{
        /* cgroup v1 too: its messages have always used the v2 names, and tests and people grep for them. */
        static const char *const names[_PLATFORM_NAME_MAX] = {
                [PLATFORM_NAME_EVENTS] = "memory.events",     [PLATFORM_NAME_RECLAIM] = "memory.reclaim",
                [PLATFORM_NAME_HIGH] = "memory.high",         [PLATFORM_NAME_MAX] = "memory.max",
                [PLATFORM_NAME_SWAP_MAX] = "memory.swap.max", [PLATFORM_NAME_CURRENT] = "memory.current",
                [PLATFORM_NAME_PEAK] = "memory.peak",         [PLATFORM_NAME_STAT] = "memory.stat",
        };
        return (unsigned)n < _PLATFORM_NAME_MAX ? names[n] : "unknown";
}

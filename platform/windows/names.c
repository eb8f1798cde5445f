/* SPDX-License-Identifier: MIT */
/* The names governor/ prints for the Job Object's event source, writes, limits and readings. */
#include "../platform.h"

const char *platform_name(PlatformName n)
{
        /* As platform_limit_names() calls the limits; there is no reclaim write here
         * (platform_sandbox_reclaim() is -EOPNOTSUPP) and no swap limit (a Job Object limits committed
         * memory, paged out or not). The charge is the committed memory of the job's processes, summed
         * (job-source.c), which is also all its sample's "anon". */
        static const char *const names[_PLATFORM_NAME_MAX] = {
                [PLATFORM_NAME_EVENTS] = "job messages",
                [PLATFORM_NAME_RECLAIM] = "reclaim",
                [PLATFORM_NAME_HIGH] = "notification limit",
                [PLATFORM_NAME_MAX] = "JobMemoryLimit",
                [PLATFORM_NAME_SWAP_MAX] = "no Job Object limit",
                [PLATFORM_NAME_CURRENT] = "committed memory",
                [PLATFORM_NAME_PEAK] = "PeakJobMemoryUsed",
                [PLATFORM_NAME_STAT] = "process memory counters",
        };
        return (unsigned)n < _PLATFORM_NAME_MAX ? names[n] : "unknown";
}

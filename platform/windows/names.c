/* SPDX-License-Identifier: MIT */
/* The names governor/ prints for the Job Object's event source and writes. */
#include "../platform.h"

const char *platform_name(PlatformName n)
{
        /* As platform_limit_names() calls the notification limit; there is no reclaim write here
         * (platform_sandbox_reclaim() is -EOPNOTSUPP). */
        static const char *const names[_PLATFORM_NAME_MAX] = {
                [PLATFORM_NAME_EVENTS] = "job messages",
                [PLATFORM_NAME_RECLAIM] = "reclaim",
                [PLATFORM_NAME_HIGH] = "notification limit",
        };
        return (unsigned)n < _PLATFORM_NAME_MAX ? names[n] : "unknown";
}

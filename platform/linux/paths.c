/* SPDX-License-Identifier: MIT */
#include <stdlib.h>

#include "../../policy/macro.h"
#include "../platform.h"

const char *platform_policy_dir(void)
{
        return "/etc/memgov";
}

const PlatformLimitNames *platform_limit_names(PlatformBackend b)
{
        static const PlatformLimitNames v2 = {
                .max = "memory.max",
                .high = "memory.high",
                .swap = "memory.swap.max",
                .oom_group = "memory.oom.group",
        };
        /* v1's swap limit is on memory plus swap together (memory.memsw.*). */
        static const PlatformLimitNames v1 = {
                .max = "memory.limit_in_bytes",
                .high = "memory.soft_limit_in_bytes",
                .swap = "memory.memsw.limit_in_bytes",
        };

        return b == PLATFORM_BACKEND_CGROUP1 || b == PLATFORM_BACKEND_HYBRID ? &v1 : &v2;
}

int platform_executable_path(char **ret)
{
        char *path = realpath("/proc/self/exe", NULL);

        if (!path)
                return negative_errno();
        *ret = path;
        return 0;
}

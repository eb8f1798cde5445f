/* SPDX-License-Identifier: MIT */
#include "../platform.h"

const char *platform_policy_dir(void)
{
        return "/etc/memgov";
}

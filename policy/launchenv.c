/* SPDX-License-Identifier: MIT */
#include "launchenv.h"

#include <string.h>

const char *launchenv_get(char *const *envp, const char *name)
{
        size_t n = strlen(name);

        for (char *const *e = envp; e && *e; e++)
                if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
                        return *e + n + 1;
        return NULL;
}

void launchenv_plan(char *const *envp, const MemoryLimits *limits, LaunchEnv *ret)
{
        LaunchEnv plan = {.budget_bytes = budget_bytes(limits)};
        const char *user;

        if (budget_go_memlimit(plan.budget_bytes, &plan.go_memlimit_bytes))
                plan.go_source = GOMEMLIMIT_COMPUTED;
        user = launchenv_get(envp, "GOMEMLIMIT");
        if (user) {
                plan.go_source = GOMEMLIMIT_USER;
                plan.go_user_value = user;
        }
        *ret = plan;
}

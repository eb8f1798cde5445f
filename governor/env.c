/* SPDX-License-Identifier: MIT */
#include "env.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../policy/macro.h"
#include "../policy/units.h"
#include "log.h"

static int strv_push(char ***l, size_t *n, char *s)
{
        char **k = realloc(*l, (*n + 2) * sizeof(char *));
        if (!k) {
                free(s);
                return -ENOMEM;
        }
        k[(*n)++] = s;
        k[*n] = NULL;
        *l = k;
        return 0;
}

static bool named_in(const char *entry, char *const *list)
{
        size_t n = strcspn(entry, "=");

        for (char *const *e = list; e && *e; e++)
                if (strncmp(*e, entry, n) == 0 && (*e)[n] == '=')
                        return true;
        return false;
}

int env_build(char *const *envp, const LaunchEnv *plan, char *const *extra, char ***ret)
{
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        size_t n = 0;
        int r;

        if (!l)
                return -ENOMEM;
        for (char *const *e = extra; e && *e; e++) {
                char *copy = strdup(*e);
                if (!copy)
                        return -ENOMEM;
                r = strv_push(&l, &n, copy);
                if (r < 0)
                        return r;
        }
        for (char *const *e = envp; e && *e; e++) {
                if (named_in(*e, extra))
                        continue;
                char *copy = strdup(*e);
                if (!copy)
                        return -ENOMEM;
                r = strv_push(&l, &n, copy);
                if (r < 0)
                        return r;
        }
        if (plan->go_source == GOMEMLIMIT_COMPUTED) {
                char *s;
                if (asprintf(&s, "GOMEMLIMIT=%" PRIu64, plan->go_memlimit_bytes) < 0)
                        return -ENOMEM;
                r = strv_push(&l, &n, s);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

void env_report(const LaunchEnv *plan)
{
        char a[UNITS_SIZE_STRLEN];

        if (plan->go_source != GOMEMLIMIT_USER)
                return;
        if (plan->budget_bytes == SIZE_MAX_UNLIMITED)
                log_notice("GOMEMLIMIT=%s is already set in the environment; keeping it",
                           plan->go_user_value);
        else
                log_notice("GOMEMLIMIT=%s is already set in the environment; keeping it instead of %s",
                           plan->go_user_value, units_format_size(plan->go_memlimit_bytes, a, sizeof(a)));
}

/* SPDX-License-Identifier: MIT */
#include "launchenv.h"

#include <errno.h>
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

int launchenv_base64(const void *in, size_t n, char *out, size_t size)
{
        static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *p = in;
        size_t need = (n + 2) / 3 * 4 + 1, o = 0;

        if (size < need)
                return -ENOBUFS;
        for (size_t i = 0; i < n; i += 3) {
                uint32_t v = (uint32_t)p[i] << 16;
                if (i + 1 < n)
                        v |= (uint32_t)p[i + 1] << 8;
                if (i + 2 < n)
                        v |= p[i + 2];
                out[o++] = table[(v >> 18) & 63];
                out[o++] = table[(v >> 12) & 63];
                out[o++] = i + 1 < n ? table[(v >> 6) & 63] : '=';
                out[o++] = i + 2 < n ? table[v & 63] : '=';
        }
        out[o] = '\0';
        return 0;
}

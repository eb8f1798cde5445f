/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What memgov adds to the child's environment at launch, decided from the
 * limits and the environment the user already has. Settings the user made
 * are respected: they are kept and reported, never clobbered.
 */

#include <stdint.h>

#include "budget.h"

typedef enum GoMemLimitSource {
        GOMEMLIMIT_NONE,     /* no budget to derive one from (no limit) */
        GOMEMLIMIT_COMPUTED, /* memgov sets it */
        GOMEMLIMIT_USER,     /* already in the environment: kept */
} GoMemLimitSource;

typedef struct LaunchEnv {
        uint64_t budget_bytes;
        GoMemLimitSource go_source;
        uint64_t go_memlimit_bytes; /* what memgov computed (also when the user's is kept) */
        const char *go_user_value;  /* points into envp when GOMEMLIMIT_USER */
} LaunchEnv;

/* The value of name in a NULL-terminated "NAME=value" list, or NULL. */
const char *launchenv_get(char *const *envp, const char *name);

void launchenv_plan(char *const *envp, const MemoryLimits *limits, LaunchEnv *ret);

/* Standard base64 (RFC 4648, with padding) of n bytes into out, NUL-terminated.
 * -ENOBUFS when out is too small (it needs 4 * ceil(n / 3) + 1 bytes). */
int launchenv_base64(const void *in, size_t n, char *out, size_t size);

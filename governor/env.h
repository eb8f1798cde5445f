/* SPDX-License-Identifier: MIT */
#pragma once

#include "../policy/launchenv.h"

/* A malloc'd copy of envp with the plan's variables set, and extra ("NAME=value", may be NULL) set over any
 * entry of the same name: a nested memgov's child must talk to the inner memgov, not the outer one. */
int env_build(char *const *envp, const LaunchEnv *plan, char *const *extra, char ***ret);

/* Logs what the plan does with the user's own settings (a kept GOMEMLIMIT). */
void env_report(const LaunchEnv *plan);

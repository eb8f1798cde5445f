/* SPDX-License-Identifier: MIT */
#pragma once

#include "../policy/launchenv.h"

/* A malloc'd copy of envp with the plan's variables set. */
int env_build(char *const *envp, const LaunchEnv *plan, char ***ret);

/* Logs what the plan does with the user's own settings (a kept GOMEMLIMIT). */
void env_report(const LaunchEnv *plan);

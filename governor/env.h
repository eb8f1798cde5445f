/* SPDX-License-Identifier: MIT */
#pragma once

#include "../policy/launchenv.h"
#include "cli.h"
#include "runtime-detect.h"

/* Decides the runtime (--runtime, or detected from the resolved command at path when auto) and plans the
 * child's environment from the limits. d->reason says why; with --runtime it says so. */
void env_plan(const RunOptions *o, const char *path, const MemoryLimits *limits, RuntimeDetection *d,
              LaunchEnv *ret);

/* The Node agent memgov injects: <dir of memgov>/../lib/memgov/memgov-agent.js once installed, else the
 * source tree memgov was built from. NULL when neither exists. Not freed. */
const char *env_node_agent_path(void);
/* The JVM agent: <dir of memgov>/../lib/memgov/memgov-agent.jar once installed, else
 * <dir of memgov>/agents/java/memgov-agent.jar in the build tree. */
const char *env_java_agent_path(void);
/* MemgovAgent.dll, the .NET startup hook for DOTNET_STARTUP_HOOKS: the same places. */
const char *env_dotnet_agent_path(void);
/* libmemgov-preload.so, the C agent for LD_PRELOAD: the same places. */
const char *env_c_agent_path(void);

/* A malloc'd copy of envp with the plan's variables set, and extra ("NAME=value", may be NULL) set over any
 * entry of the same name: a nested memgov's child must talk to the inner memgov, not the outer one. */
int env_build(char *const *envp, const LaunchEnv *plan, char *const *extra, char ***ret);

/* Logs what the plan does with the user's own settings (kept, merged) and any conflict, once each. */
void env_report(const LaunchEnv *plan);

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * What memgov adds to the child's environment at launch, decided from the
 * limits, the runtime the child runs, and the environment the user already
 * has. Settings the user made are respected: they are kept and reported, or
 * merged (only what is missing is added), never clobbered. The numbers and
 * why they are what they are: docs/runtimes.md.
 */

#include <stdint.h>

#include "budget.h"
#include "runtime.h"

typedef enum GoMemLimitSource {
        GOMEMLIMIT_NONE,     /* no budget to derive one from (no limit), or --runtime none */
        GOMEMLIMIT_COMPUTED, /* memgov sets it */
        GOMEMLIMIT_USER,     /* already in the environment: kept */
} GoMemLimitSource;

/* Non-heap reserves: the fixed part (configurable) plus 10% of the budget. */
#define LAUNCHENV_RESERVE_PERMYRIAD 1000u
/* JVM: memory outside the heap measured at 27-30M (Serial) and 33-38M (G1, growing with the heap) for JDK
 * 17 and 25 in 256M-512M groups, a small program (docs/runtimes.md); the application's own classes and
 * compiled code come on top (not measurable here: JVM_APP is the room left for them). 64M fixed plus 10% of
 * the budget. */
#define LAUNCHENV_JVM_MEASURED_BYTES (UINT64_C(40) << 20)
#define LAUNCHENV_JVM_APP_BYTES      (UINT64_C(24) << 20)
#define LAUNCHENV_JVM_RESERVE_BYTES  (LAUNCHENV_JVM_MEASURED_BYTES + LAUNCHENV_JVM_APP_BYTES)
/* Node: memory outside the old space measured at 8-15M (Node 20) and 18-26M (Node 24) in 128M-512M groups,
 * young generation capped (docs/runtimes.md); 32M fixed plus 5% of the budget. */
#define LAUNCHENV_NODE_RESERVE_BYTES     (UINT64_C(32) << 20)
#define LAUNCHENV_NODE_RESERVE_PERMYRIAD 500u
/* V8's semi-space, in MiB: the budget / 256 (what V8 picks for a machine of the budget's size), 1 to 16. */
#define LAUNCHENV_NODE_SEMI_SPACE_RATIO   256u
#define LAUNCHENV_NODE_SEMI_SPACE_MAX_MIB 16u
#define LAUNCHENV_DOTNET_RESERVE_BYTES    (UINT64_C(64) << 20) /* runtime, JIT, native */
#define LAUNCHENV_GLIBC_ARENA_MAX         "2"
#define LAUNCHENV_GLIBC_TRIM_THRESHOLD    "131072"
#define LAUNCHENV_JEMALLOC_CONF           "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0"
#define LAUNCHENV_VALUE_MAX               4096
#define LAUNCHENV_VARS_MAX                8

typedef struct LaunchOptions {
        Runtime runtime;            /* decided (detected or --runtime); RUNTIME_NONE sets nothing */
        uint64_t jvm_reserve_bytes; /* fixed part of each reserve */
        uint64_t node_reserve_bytes;
        uint64_t dotnet_reserve_bytes;
        const char *gogc;         /* --gogc, or NULL: GOGC is left alone */
        const char *node_agent;   /* absolute path of memgov-agent.js to --require, or NULL */
        const char *java_agent;   /* absolute path of memgov-agent.jar for -javaagent:, or NULL */
        const char *dotnet_agent; /* absolute path of MemgovAgent.dll for DOTNET_STARTUP_HOOKS, or NULL */
        const char *c_agent;      /* absolute path of libmemgov-preload.so for LD_PRELOAD, or NULL */
        const char *c_agent_exe;  /* the program the C agent is meant for (MEMGOV_PRELOAD_EXE) */
} LaunchOptions;

typedef enum LaunchVarAction {
        LAUNCHVAR_SET,    /* the user had none: memgov's value */
        LAUNCHVAR_MERGED, /* the user's value with what was missing appended */
        LAUNCHVAR_KEPT,   /* the user's value, untouched */
} LaunchVarAction;

typedef struct LaunchVar {
        const char *name;
        LaunchVarAction action;
        const char *user_value;          /* points into envp when MERGED or KEPT */
        char value[LAUNCHENV_VALUE_MAX]; /* what the child gets when SET or MERGED */
        char why[200];                   /* for explain and the log */
        char conflict[256];              /* non-empty: a warning for the user */
} LaunchVar;

typedef struct LaunchEnv {
        uint64_t budget_bytes;
        Runtime runtime;
        GoMemLimitSource go_source;
        uint64_t go_memlimit_bytes;   /* what memgov computed (also when the user's is kept) */
        const char *go_user_value;    /* points into envp when GOMEMLIMIT_USER */
        uint64_t heap_bytes;          /* JVM -Xmx, Node old space, .NET hard limit: what memgov computed */
        uint64_t node_semi_space_mib; /* Node's --max-semi-space-size: what memgov computed */
        bool node_heap;               /* memgov sets Node's old space (the user set no heap size) */
        bool java_agent;              /* -javaagent added: the JVM agent needs MEMGOV_SOCKET */
        bool c_agent;                 /* libmemgov-preload.so is in LD_PRELOAD */
        bool dotnet_agent;            /* the .NET agent is in DOTNET_STARTUP_HOOKS */
        LaunchVar vars[LAUNCHENV_VARS_MAX];
        unsigned n_vars;
} LaunchEnv;

/* The value of name in a NULL-terminated "NAME=value" list, or NULL. */
const char *launchenv_get(char *const *envp, const char *name);

void launchenv_options_default(LaunchOptions *ret);

/* GOMEMLIMIT only, as for a child whose runtime is unknown. */
void launchenv_plan(char *const *envp, const MemoryLimits *limits, LaunchEnv *ret);
void launchenv_plan_runtime(char *const *envp, const MemoryLimits *limits, const LaunchOptions *opts,
                            LaunchEnv *ret);

/* budget - (fixed + 10% of budget), at least a quarter of the budget, rounded down to MiB. 0 without a
 * budget. */
uint64_t launchenv_heap_bytes(uint64_t budget, uint64_t fixed_reserve);

/* The same with the reserve's proportional part given in permyriad. */
uint64_t launchenv_heap_bytes_reserve(uint64_t budget, uint64_t fixed_reserve, unsigned permyriad);

/* Node's old space: budget - (fixed + 5% of the budget), at least a quarter, rounded down to MiB; 0
 * without a budget. */
uint64_t launchenv_node_old_space_bytes(uint64_t budget, uint64_t fixed_reserve);

/* Node's --max-semi-space-size in MiB for a budget: V8 sizes the young generation from the machine's
 * memory, not the group's, so memgov bounds it by the budget. */
uint64_t launchenv_node_semi_space_mib(uint64_t budget);

/* Node's own default old space on a machine of machine_bytes, whatever the group: V8's rule, a quarter of
 * the machine's memory, 256M to 4G (measured: Node 20 and 24 take 256M in the VM, whose kernel reports
 * 960M, and 4096M on 24G). */
#define LAUNCHENV_NODE_DEFAULT_OLD_MIN_BYTES (UINT64_C(256) << 20)
#define LAUNCHENV_NODE_DEFAULT_OLD_MAX_BYTES (UINT64_C(4) << 30)
uint64_t launchenv_node_default_old_space_bytes(uint64_t machine_bytes);

/* The heap the JVM gives itself in a group whose hard limit (or -XX:MaxRAM) = budget, as JDK 17 and 25
 * decide it (Arguments::set_heap_size): half the memory while that is below the JVM's built-in MaxHeapSize
 * (126M on 64-bit), else a quarter but at least those 126M. So 64M in 128M, 126M in 256M and 384M, 128M in
 * 512M: not the quarter below 504M. memgov's heap is never below it. */
#define LAUNCHENV_JVM_DEFAULT_MAX_HEAP_BYTES UINT64_C(132120576)
uint64_t launchenv_jvm_default_heap_bytes(uint64_t budget);

/* The JVM's heap rounded down to a multiple of its heap alignment: 2 MiB, or the power of two at or above
 * heap/2048 (G1's largest region for that heap), whichever is larger. The JVM would round -Xmx up. */
#define LAUNCHENV_JVM_ALIGN_MIN_BYTES (UINT64_C(2) << 20)
uint64_t launchenv_jvm_align(uint64_t heap);

/* A JVM size ("512m", "2G", "1048576"): 0 or -EINVAL. */
int launchenv_parse_jvm_size(const char *s, uint64_t *ret_bytes);

/* Standard base64 (RFC 4648, with padding) of n bytes into out, NUL-terminated.
 * -ENOBUFS when out is too small (it needs 4 * ceil(n / 3) + 1 bytes). */
int launchenv_base64(const void *in, size_t n, char *out, size_t size);

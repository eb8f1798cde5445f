/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "../policy/budget.h"
#include "../policy/capture.h"
#include "../policy/runtime.h"
#include "../policy/units.h"
#include "log.h"

/* memgov's own failures (bad options, no cgroup) exit with this, as env(1), timeout(1) and docker do, so
 * they are never mistaken for the child's code, or for 126/127 (could not execute / not found). */
#define EXIT_MEMGOV_FAILURE 125

#define GRACE_DEFAULT_USEC (10 * USEC_PER_SEC)

typedef struct RunOptions {
        LimitSpec spec;
        const char *name;   /* NULL: memgov-<program>-<pid> */
        const char *parent; /* NULL: memgov's own cgroup */
        const char *cgroup_root;
        usec_t grace_usec;
        bool kill_on_cannot_fit;    /* --on-cannot-fit kill; default let-oom */
        bool agent_socket;          /* --agent-socket: also offer MEMGOV_SOCKET */
        bool no_agent;              /* --no-agent: no agent channel and no agent injected */
        Runtime runtime;            /* --runtime; RUNTIME_AUTO detects it */
        const char *gogc;           /* --gogc, or NULL */
        uint64_t jvm_reserve_bytes; /* fixed non-heap reserves (docs/runtimes.md) */
        uint64_t node_reserve_bytes;
        uint64_t dotnet_reserve_bytes;
        bool init;              /* --init: act as init (reap, subreaper) even when not PID 1 */
        bool observe;           /* --observe: govern inside memgov's own group */
        bool oom_score_adj_set; /* --oom-score-adj given */
        int oom_score_adj;      /* for the child; default: memgov's own at start */
        char **argv;            /* the command, NULL-terminated; points into main()'s argv */
        const char *profile;    /* --profile: the policy profile by name, or NULL */
        const char *config_dir; /* --config-dir: where memgov.ini and conf.d/ are, or NULL */
        struct PolicyFile
                *policy; /* the policy files behind these options (governor/policyfile.h), or NULL */
        const char *metrics_file;   /* --metrics-file: Prometheus text, replaced at each step */
        const char *metrics_listen; /* --metrics-listen: loopback ADDRESS:PORT serving /metrics */
        const char *trace_file;     /* --trace: samples and decisions as JSON lines */
        CaptureConfig capture;      /* --capture, --capture-budget, --capture-interval */
        const char *capture_dir;    /* --capture-dir, or NULL for the default */
        bool log_format_set;        /* --log-format given (or by a policy file): log_format, not the env */
        LogTarget log_format;
} RunOptions;

/*
 * Parses `run`/`explain` options (argv[0] is the verb). Returns 0 with *ret
 * filled, 1 when --help was printed, or -EINVAL after printing what is wrong
 * with which option.
 */
int cli_parse_run(int argc, char **argv, RunOptions *ret);

/* Prints the run/explain usage to stdout. */
void cli_help_run(const char *verb);

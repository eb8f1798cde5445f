/* SPDX-License-Identifier: MIT */
/*
 * The supervisor for sandboxes that deliver their events on a queue rather
 * than on pollable descriptors: Windows, where a Job Object reports through a
 * completion port and there is no sd-event (run.c and govern.c are the Linux
 * supervisor and loop). CMake builds one or the other. The steps are run.c's:
 * resolve, plan the environment, create the sandbox, spawn, then loop
 *   child exit -> note the code; if others remain in the sandbox, grace, then kill
 *   sandbox empty -> exit with the child's code
 *   interrupt (Ctrl-C, Ctrl-Break) -> grace, then kill (the child got it from the console)
 *   memory-max/memory-high messages, and samples paced by the growth -> step.c's step, act
 *   the control channel (the child's agent) -> its lines; a hello steps the law
 * The closed loop is the same law as on Linux, fed the sandbox's samples and
 * the agent's stats; its targets, GC, release and shed requests go to the
 * agent over the channel (queue-agent.c, MEMGOV_FD: a pipe handle here).
 * --trace is written as govern.c writes it; the metrics and the status socket
 * are sd-event's and refused here (docs/windows.md).
 */
#include "run.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../platform/queue.h"
#include "../policy/launchenv.h"
#include "../policy/law.h"
#include "../policy/macro.h"
#include "../policy/postmortem.h"
#include "env.h"
#include "log.h"
#include "policyfile.h"
#include "queue-agent.h"
#include "step.h"
#include "trace.h"

extern char **environ;

/* How long to wait for the job to empty after a kill before giving up on it. */
#define KILL_WAIT_USEC (5 * USEC_PER_SEC)

typedef struct QueueSupervisor {
        RunState run;
        PlatformSandbox *sandbox;
        QueueAgent *agent;            /* NULL: no channel (it could not be opened) */
        Stepper st;                   /* sample, law, log, trace, pace: step.h, as on Linux */
        uint64_t grace_deadline_usec; /* 0: no grace period running */
        uint64_t killed_at_usec;      /* 0: not killed */
        uint64_t next_sample_usec;
        Trace *trace; /* --trace */
} QueueSupervisor;

const char *run_command_basename(const char *cmd)
{
        const char *base = cmd;

        for (const char *p = cmd; *p; p++)
                if (*p == '/' || *p == '\\')
                        base = p + 1;
        return base;
}

static void kill_sandbox(QueueSupervisor *q, const char *why)
{
        int r;

        if (q->killed_at_usec)
                return;
        q->killed_at_usec = platform_monotonic_usec();
        log_notice("%s, killing what is left in %s.", why, platform_sandbox_path(q->sandbox));
        r = platform_sandbox_kill(q->sandbox);
        if (r < 0)
                log_error_errno(r, "Failed to kill the processes in %s: %m",
                                platform_sandbox_path(q->sandbox));
}

static void start_grace(QueueSupervisor *q)
{
        if (q->grace_deadline_usec == 0)
                q->grace_deadline_usec = platform_monotonic_usec() + q->run.opts->grace_usec;
}

static void postmortem(QueueSupervisor *q, const char *cause)
{
        Postmortem p = {
                .what = q->run.opts->argv[0],
                .cause = cause,
                .names = step_sandbox_names(),
                .max_bytes = q->st.last_platform.max_bytes,
                .high_bytes = q->st.last_platform.high_bytes,
                .peak_bytes = q->st.last_platform.peak_bytes,
                .events_oom_kill = q->st.last_platform.events_oom_kill,
                .now_usec = platform_monotonic_usec(),
        };

        stepper_fill_postmortem(&q->st, p.now_usec, &p);
        postmortem_log(&p);
}

/* What the decision asks of the agent, as govern.c asks it of control.c's agents on Linux. */
static void act_on_agent(QueueSupervisor *q, const PolicyDecision *d)
{
        ProtoLevel level = (ProtoLevel)d->level;
        ProtoRequest requests[AGENT_REQUESTS_MAX];
        size_t n = agent_decision_requests(d, requests);
        uint64_t t;

        if (!q->agent)
                return;
        if (agent_decision_target(d, &t, &level))
                queue_agent_set_target(q->agent, t, level, platform_monotonic_usec());
        for (size_t i = 0; i < n; i++)
                queue_agent_request(q->agent, requests[i], level);
}

static void act(QueueSupervisor *q, const PolicyDecision *d)
{
        if (d->actions & POLICY_ACTION_SET_HIGH) {
                int r = platform_sandbox_set_high(q->sandbox, d->memory_high_bytes);
                if (r < 0)
                        log_warning_errno(r, "Failed to set the notification limit: %m, ignoring.");
        }
        if (d->actions & POLICY_ACTION_CANNOT_FIT) {
                log_error("cannot fit: the program needs more than its limit allows (rule %s); %s",
                          policy_rule_to_string(d->rule),
                          q->st.config.give_up == POLICY_GIVE_UP_KILL ? "killing it (--on-cannot-fit kill)"
                                                                      : "no longer squeezing it");
                postmortem(q, "cannot fit");
        }
        if ((d->actions & POLICY_ACTION_KILL) && run_state_policy_kill(&q->run, d->exit_status))
                kill_sandbox(q, "The program cannot fit");
}

static void step_agents(void *userdata, PolicySample *ps)
{
        QueueSupervisor *q = userdata;

        if (q->agent)
                queue_agent_sample(q->agent, ps);
}

static void step(QueueSupervisor *q, const char *why)
{
        PolicyDecision d;
        uint64_t now = platform_monotonic_usec();

        if (q->run.child_exited)
                return;
        if (stepper_step(&q->st, now, why, step_agents, q, &d) >= 0) {
                act_on_agent(q, &d);
                stepper_record(&q->st, &d, why);
                act(q, &d);
        }
        q->next_sample_usec = now + q->st.next_usec;
}

static void note_child_exit(QueueSupervisor *q)
{
        int code, r;

        if (q->run.child_exited)
                return;
        r = platform_child_exit_status(q->sandbox, &q->run.child, &code);
        if (r < 0)
                return;
        run_state_child_exited(&q->run, code);
        log_debug("Child %d exited, status %d.", (int)q->run.child.pid, code);
}

static bool sandbox_empty(QueueSupervisor *q)
{
        bool populated = true;
        int r = platform_sandbox_populated(q->sandbox, &populated);

        if (r < 0)
                log_warning_errno(r, "Failed to read whether %s is empty: %m, assuming it is in use.",
                                  platform_sandbox_path(q->sandbox));
        return !populated;
}

/* One turn of the loop; returns true when the supervisor is done. */
static bool handle(QueueSupervisor *q, const PlatformEvent *e)
{
        uint64_t now = platform_monotonic_usec();

        switch (e->kind) {
        case PLATFORM_EVENT_MEMORY_MAX:
        case PLATFORM_EVENT_MEMORY_HIGH:
                step(q, platform_event_to_string(e->kind));
                break;
        case PLATFORM_EVENT_INTERRUPT:
                log_debug("Interrupted, stopping within the grace period.");
                start_grace(q);
                break;
        case PLATFORM_EVENT_NEW_PROCESS:
                log_debug("Process %" PRIu32 " joined %s.", e->pid, platform_sandbox_path(q->sandbox));
                break;
        default:
                break;
        }
        /* On every turn, not only on PLATFORM_EVENT_CHANNEL: the channel's time limits run on the loop's
         * clock. A hello steps the law at once, as on Linux, so the new agent gets the target. */
        if (q->agent && queue_agent_process(q->agent, now))
                step(q, "agent-hello");
        /* Exit messages are not guaranteed to reach the port: the child's handle is the authority. */
        if (!q->run.child_exited) {
                note_child_exit(q);
                if (q->run.child_exited && !sandbox_empty(q)) {
                        log_notice(
                                "%s exited; its descendants still run in %s, waiting up to the grace period for them.",
                                q->run.opts->argv[0], platform_sandbox_path(q->sandbox));
                        start_grace(q);
                }
        }
        if (q->run.child_exited && sandbox_empty(q))
                return true;
        if (q->grace_deadline_usec && now >= q->grace_deadline_usec)
                kill_sandbox(q, "Grace period over");
        if (q->killed_at_usec && now >= q->killed_at_usec + KILL_WAIT_USEC && q->run.child_exited) {
                log_warning("%s is still not empty %" PRIu64
                            "s after the kill; leaving it to the job's close.",
                            platform_sandbox_path(q->sandbox), KILL_WAIT_USEC / USEC_PER_SEC);
                return true;
        }
        if (now >= q->next_sample_usec)
                step(q, "pace");
        return false;
}

static int loop(QueueSupervisor *q)
{
        for (;;) {
                uint64_t now = platform_monotonic_usec(), until = q->next_sample_usec;
                PlatformEvent e;
                int r;

                if (q->grace_deadline_usec && !q->killed_at_usec && q->grace_deadline_usec < until)
                        until = q->grace_deadline_usec;
                r = platform_sandbox_next_event(q->sandbox, until > now ? until - now : 0, &e);
                if (r < 0)
                        return log_error_errno(r, "Failed to wait for %s: %m",
                                               platform_sandbox_path(q->sandbox));
                if (handle(q, &e))
                        return 0;
        }
}

static int create_sandbox(QueueSupervisor *q)
{
        const RunOptions *o = q->run.opts;
        char name[256];
        PlatformError err = {};
        SandboxOptions so;
        int r;

        run_sandbox_options(o, &q->run.limits, name, sizeof(name), &so);
        r = platform_sandbox_create(&so, &q->sandbox, &err);
        if (r < 0) {
                log_error("%s", err.message[0] ? err.message : strerror(-r));
                return r;
        }
        /* Created, with a feature this system refused: said once, here. */
        if (err.message[0])
                log_notice("%s.", err.message);
        return 0;
}

/* The channel to the child's agent, and the child's environment with MEMGOV_FD naming the child's end of
 * it (a handle value here). Without a channel the program runs all the same, without an agent. */
static int prepare_child(QueueSupervisor *q, const LaunchEnv *plan, char ***ret_envp, int *ret_handle)
{
        char entry[32];
        char *extra[] = {entry, NULL};
        int handle = -1, r;

        r = queue_agent_new(q->sandbox, &q->agent, &handle);
        if (r < 0)
                log_warning_errno(
                        r,
                        "Failed to open the control channel: %m; the program runs without an agent, ignoring.");
        /* Empty without a channel: a MEMGOV_FD inherited from an outer memgov names no handle of the
         * child's. */
        if (q->agent)
                snprintf(entry, sizeof(entry), "MEMGOV_FD=%d", handle);
        else
                snprintf(entry, sizeof(entry), "MEMGOV_FD=");
        r = env_build(environ, plan, extra, ret_envp);
        if (r < 0)
                return log_error_errno(r, "Failed to build the child's environment: %m");
        *ret_handle = q->agent ? handle : -1;
        return 0;
}

int run_main(const RunOptions *o)
{
        _cleanup_strv_free_ char **envp = NULL;
        _cleanup_free_ char *path = NULL;
        QueueSupervisor q = {};
        RuntimeDetection detection;
        PolicyConfig config;
        PaceConfig pace;
        LaunchEnv plan;
        int keep_handle = -1, r;

        if (o->init || o->observe || o->oom_score_adj_set) {
                log_error(
                        "%s is not supported here: a Job Object holds the whole tree and ends it with memgov, and there is no OOM killer to steer (docs/windows.md).",
                        o->init      ? "--init"
                        : o->observe ? "--observe"
                                     : "--oom-score-adj");
                return EXIT_MEMGOV_FAILURE;
        }
        if (o->metrics_file || o->metrics_listen) {
                log_error(
                        "%s is not supported here yet: this supervisor does not publish metrics; --trace records every sample and decision instead (docs/windows.md).",
                        o->metrics_file ? "--metrics-file" : "--metrics-listen");
                return EXIT_MEMGOV_FAILURE;
        }
        if (o->capture_dir) {
                log_error(
                        "--capture-dir is not supported here yet: this supervisor asks no agent for heap captures (docs/windows.md).");
                return EXIT_MEMGOV_FAILURE;
        }
        if (o->capture.enabled)
                log_info("Heap captures are not built on Windows yet: no agent will be asked for one.");
        r = run_state_init(&q.run, o, &path);
        if (r != 0)
                return r;
        env_plan(o, path, &q.run.limits, &detection, &plan);
        env_report(&plan);
        policy_config_default(&config);
        if (o->policy)
                config = o->policy->law; /* the control law's keys from the policy files */
        config.give_up = o->kill_on_cannot_fit ? POLICY_GIVE_UP_KILL : POLICY_GIVE_UP_LET_OOM;
        pace_config_default(&pace);

        /* Before the job exists, so a path that cannot be written fails with nothing started, as on Linux.
         */
        if (o->trace_file && trace_open(o->trace_file, &q.trace) < 0)
                return EXIT_MEMGOV_FAILURE;
        if (create_sandbox(&q) < 0) {
                trace_close(q.trace);
                return EXIT_MEMGOV_FAILURE;
        }
        stepper_init(&q.st, q.sandbox, &config, &pace, o->argv[0], q.trace, platform_monotonic_usec());
        r = prepare_child(&q, &plan, &envp, &keep_handle);
        if (r >= 0) {
                r = platform_sandbox_spawn(q.sandbox, path, o->argv, envp, &keep_handle, keep_handle >= 0,
                                           &q.run.child);
                if (q.agent)
                        queue_agent_child_started(q.agent);
                if (r < 0)
                        r = run_spawn_failed(o->argv[0], platform_sandbox_path(q.sandbox), &q.run.child, r);
        } else
                r = EXIT_MEMGOV_FAILURE;
        if (r != 0) {
                queue_agent_free(q.agent);
                platform_sandbox_free(q.sandbox);
                trace_close(q.trace);
                return r;
        }
        log_debug("Started %s as %d in %s.", path, (int)q.run.child.pid, platform_sandbox_path(q.sandbox));
        /* The baseline: the law counts the sandbox's events from its first sample on, and a message may
         * come before the first paced sample. */
        step(&q, "start");

        /* From here on the child runs: a loop failure kills the job rather than orphaning it. */
        r = loop(&q);
        if (r < 0) {
                (void)platform_sandbox_kill(q.sandbox);
                q.run.exit_code = EXIT_MEMGOV_FAILURE;
        }
        platform_child_close(&q.run.child);
        queue_agent_free(q.agent); /* before the sandbox, whose port its pipe completes on */
        platform_sandbox_free(q.sandbox);
        trace_close(q.trace);
        return q.run.exit_code;
}

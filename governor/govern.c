/* SPDX-License-Identifier: MIT */
#include "govern.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../policy/launchenv.h"
#include "../policy/pace.h"
#include "../policy/postmortem.h"
#include "../policy/macro.h"
#include "actuator.h"
#include "agent-log.h"
#include "capture.h"
#include "control.h"
#include "log.h"
#include "metrics.h"
#include "status.h"
#include "step.h"
#include "trace.h"

/* A burst of events (the kernel sends up to 100/s) becomes one sample. */
#define STEP_COALESCE_USEC (10 * USEC_PER_MSEC)
/* The PSI trigger window: short enough to act within a second, as privileged windows allow. */
#define PSI_WINDOW_USEC (1 * USEC_PER_SEC)
/* What programs using systemd's memory-pressure protocol watch for: systemd's own default. */
#define MEMORY_PRESSURE_WRITE_DEFAULT "some 200000 2000000"

struct Governor {
        sd_event *event;
        PlatformSandbox *sandbox;
        GovernorOptions opts;
        Stepper st; /* sample, law, log, trace, pace: step.h */
        ControlServer *control;
        Actuator *actuator;
        sd_event_source *pace_source, *events_source, *step_source, *limits_source;
        int limits_fd;
        /* Page faults in the group: growth seen when it begins (platform_sandbox_faults_watch()). */
        PlatformFaultsWatch *faults;
        sd_event_source *faults_source;
        usec_t faults_delay_usec; /* from a fault to the look it brings: pace_faults_delay() */
        usec_t faults_woke_usec;  /* when a fault last woke the loop: pace_faults_quiet() */
        sd_event_source *psi_source[2];
        int psi_fd[2];
        const char *step_why; /* what armed the pending coalesced step */
        bool step_delayed;    /* the pending step waits on a timer, not a defer */
        bool stopped;
        /* The kernel refused a write for good (a read-only cgroupfs in a container, no delegation): the rung
         * that makes it stays off, whatever a reload says. */
        bool no_reclaim, no_high;
        governor_kill_t on_kill;
        void *userdata;
        const char *program; /* for the post-mortem */
        char *socket_path;
        /* What the metrics count. */
        Metrics *metrics;
        Trace *trace;
        StatusServer *status;
        pid_t child_pid;
        size_t n_decisions, next_decision; /* the last decisions that did something, a ring */
        StatusDecision decisions[STATUS_DECISIONS_MAX];
        usec_t start_realtime_usec, start_monotonic_usec;
        /* Evidence: heap captures, the agents' GC samples, and what waits for a capture to end. */
        Capturer *capturer;
        GcTrace gc_trace;
        bool postmortem_pending, kill_pending;
        int kill_status;
};

void governor_options_default(GovernorOptions *ret)
{
        *ret = (GovernorOptions){};
        pace_config_default(&ret->pace);
        policy_config_default(&ret->config);
        capture_config_default(&ret->capture);
}

/* The loop's clock (CLOCK_MONOTONIC at this wake-up), as the control server stamps targets with. */
static usec_t now_usec(const Governor *g)
{
        uint64_t t = 0;

        (void)sd_event_now(g->event, CLOCK_MONOTONIC, &t);
        return t;
}

static usec_t clock_usec(clockid_t clock)
{
        struct timespec ts;

        (void)clock_gettime(clock, &ts);
        return (usec_t)ts.tv_sec * USEC_PER_SEC + (usec_t)ts.tv_nsec / 1000;
}

/* What the agents last said, for step.c's sample. */
static void sample_agents(void *userdata, PolicySample *ps)
{
        Governor *g = userdata;
        const AgentReport *agents;
        size_t n = control_server_agents(g->control, &agents);

        agent_reports_sample(agents, n, ps);
}

/* The group's free room as the last sample saw it: the lower of its limits less its usage. */
static uint64_t headroom_bytes(const Governor *g)
{
        const PlatformSample *x = &g->st.last_platform;
        uint64_t limit = x->max_bytes < x->high_bytes ? x->max_bytes : x->high_bytes;

        if (limit == UINT64_MAX)
                return UINT64_MAX;
        return limit > x->current_bytes ? limit - x->current_bytes : 0;
}

static int capture(Governor *g, CaptureWhy why)
{
        char reason[CAPTURE_REASON_STRLEN];

        if (!g->capturer)
                return 0;
        return capturer_start(g->capturer, why, headroom_bytes(g), reason, sizeof(reason));
}

/* A capture ended: what waited for it goes on. */
static void on_capture_done(void *userdata)
{
        Governor *g = userdata;

        if (g->postmortem_pending) {
                g->postmortem_pending = false;
                governor_postmortem(g, g->program ?: "the program", "cannot fit", &g->st.last_platform);
        }
        if (g->kill_pending) {
                g->kill_pending = false;
                if (g->on_kill)
                        g->on_kill(g->kill_status, g->userdata);
        }
}

int governor_capture(Governor *g, char *reason, size_t reason_size)
{
        if (!g->capturer) {
                snprintf(reason, reason_size, "capture refused: memgov has no capture directory");
                return 0;
        }
        return capturer_start(g->capturer, CAPTURE_WHY_REQUEST, headroom_bytes(g), reason, reason_size);
}

/* The target and requests to the agents: the step's first act (stepper_record()). */
static void act_on_agents(Governor *g, const PolicyDecision *d)
{
        ProtoLevel level = (ProtoLevel)d->level; /* the same three levels, in the same order */
        ProtoRequest requests[AGENT_REQUESTS_MAX];
        size_t n = agent_decision_requests(d, requests);
        uint64_t t;
        int r;

        if (agent_decision_target(d, &t, &level)) {
                r = control_server_set_target(g->control, t, level);
                if (r < 0)
                        log_warning_errno(r, "Failed to send the target: %m, ignoring.");
        }
        for (size_t i = 0; i < n; i++)
                (void)control_server_request(g->control, requests[i], level);
}

static void act(Governor *g, const PolicyDecision *d)
{
        if (d->actions & POLICY_ACTION_RECLAIM)
                actuator_submit(g->actuator, ACTUATOR_RECLAIM, d->reclaim_bytes);
        if (d->actions & POLICY_ACTION_SET_HIGH)
                actuator_submit(g->actuator, ACTUATOR_SET_HIGH, d->memory_high_bytes);
        if (d->level_changed && d->level == POLICY_LEVEL_CRITICAL &&
            !(d->actions & POLICY_ACTION_CANNOT_FIT))
                (void)capture(g, CAPTURE_WHY_CRITICAL);
        if (d->actions & POLICY_ACTION_CANNOT_FIT) {
                char live[UNITS_SIZE_STRLEN], limit[UNITS_SIZE_STRLEN];
                log_error(
                        "cannot fit: the program needs more than its limit allows (rule %s: live heap plus its headroom %s, effective limit %s); %s",
                        policy_rule_to_string(d->rule),
                        units_format_size_human(d->floor_bytes, live, sizeof(live)),
                        units_format_size_human(d->limit_bytes, limit, sizeof(limit)),
                        g->st.config.give_up == POLICY_GIVE_UP_KILL
                                ? "killing it (--on-cannot-fit kill)"
                                : "no longer squeezing it: the kernel decides (--on-cannot-fit let-oom)");
                /* The evidence first: the post-mortem (and the kill) wait for the capture to end, also for
                 * one already under way (on critical), which would otherwise be cut off unnamed. */
                bool under_way =
                        g->capturer && (capturer_busy(g->capturer) || capturer_await_fired_arm(g->capturer));
                if (under_way)
                        log_notice("Waiting for the capture under way before the post-mortem.");
                if (under_way || capture(g, CAPTURE_WHY_CANNOT_FIT) > 0) {
                        g->postmortem_pending = true;
                        g->kill_pending = d->actions & POLICY_ACTION_KILL;
                        g->kill_status = d->exit_status;
                        return;
                }
                /* The step's own sample is current: no need to read the group again. */
                governor_postmortem(g, g->program ?: "the program", "cannot fit", &g->st.last_platform);
        }
        if ((d->actions & POLICY_ACTION_KILL) && g->on_kill)
                g->on_kill(d->exit_status, g->userdata);
}

static void fill_metrics(Governor *g, MetricsSnapshot *ret)
{
        const PlatformSample *x = &g->st.last_platform;
        const AgentReport *agents;
        *ret = (MetricsSnapshot){
                .program = g->program,
                .cgroup = platform_sandbox_path(g->sandbox),
                .version = MEMGOV_VERSION,
                .start_time_usec = g->start_realtime_usec,
                .names = step_sandbox_names(),
                .have_sample = g->st.have_last,
                .current_bytes = x->current_bytes,
                .peak_bytes = x->peak_bytes,
                .max_bytes = x->max_bytes,
                .high_bytes = x->high_bytes,
                .anon_bytes = x->anon_bytes,
                .file_bytes = x->file_bytes,
                .shmem_bytes = x->shmem_bytes,
                .kernel_bytes = x->kernel_bytes,
                .events_high = x->events_high,
                .events_max = x->events_max,
                .events_oom = x->events_oom,
                .events_oom_kill = x->events_oom_kill,
                .have_psi = x->have_psi,
                .psi_some_avg10_permyriad = x->psi_some_avg10_permyriad,
                .psi_full_avg10_permyriad = x->psi_full_avg10_permyriad,
                .psi_some_total_usec = x->psi_some_total_usec,
                .psi_full_total_usec = x->psi_full_total_usec,
                .steps_total = g->st.steps_total,
                .target_bytes = g->st.have_last ? g->st.last_decision.target_bytes : POLICY_TARGET_NONE,
                .level = g->st.have_last ? g->st.last_decision.level : POLICY_LEVEL_OK,
                .gave_up = g->st.state.gave_up,
                .agents_connected = (unsigned)control_server_agents(g->control, &agents),
                .have_agent_stats = g->st.last_sample.agent_present,
                .runtime_total_bytes = g->st.last_sample.runtime_total_bytes,
                .heap_live_bytes = g->st.last_sample.heap_live_bytes,
                .gc_cpu_permyriad = g->st.last_sample.gc_cpu_permyriad,
        };

        memcpy(ret->decisions_total, g->st.decisions_total, sizeof(ret->decisions_total));
}

static void publish_metrics(Governor *g)
{
        MetricsSnapshot m;

        if (!g->metrics)
                return;
        fill_metrics(g, &m);
        metrics_publish(g->metrics, &m);
}

static void remember_decision(Governor *g, const PolicyDecision *d)
{
        if (d->actions == 0 && !d->level_changed)
                return;
        g->decisions[g->next_decision] = (StatusDecision){
                .t_usec = clock_usec(CLOCK_MONOTONIC) - g->start_monotonic_usec,
                .rule = d->rule,
                .level = d->level,
                .actions = d->actions,
                .target_bytes = d->target_bytes,
        };
        g->next_decision = (g->next_decision + 1) % STATUS_DECISIONS_MAX;
        if (g->n_decisions < STATUS_DECISIONS_MAX)
                g->n_decisions++;
}

static void fill_status(void *userdata, StatusSnapshot *ret)
{
        Governor *g = userdata;
        const AgentReport *agents;
        const char *path = platform_sandbox_path(g->sandbox), *slash = strrchr(path, '/');
        size_t n = control_server_agents(g->control, &agents);

        *ret = (StatusSnapshot){
                .memgov_pid = getpid(),
                .child_pid = g->child_pid,
                .name = slash ? slash + 1 : path,
                .uptime_usec = clock_usec(CLOCK_MONOTONIC) - g->start_monotonic_usec,
        };
        fill_metrics(g, &ret->m);
        for (size_t i = 0; i < n && ret->n_agents < STATUS_AGENTS_MAX; i++) {
                const AgentReport *a = &agents[i];
                StatusAgent *sa = &ret->agents[ret->n_agents++];

                *sa = (StatusAgent){
                        .id = a->id,
                        .pid = a->pid,
                        .have_stats = a->have_stats,
                        .total_bytes = a->total_bytes,
                        .heap_live_bytes = a->heap_live_bytes,
                        .gc_count = a->gc_count,
                        .gc_cpu_permyriad = (uint32_t)(a->gc_cpu_fraction * 10000.0 + 0.5),
                        .target_bytes = a->target_seq ? a->target_bytes : UINT64_MAX,
                        .applied_limit_bytes = a->last_applied_seq ? a->applied_limit_bytes : UINT64_MAX,
                };
                snprintf(sa->runtime, sizeof(sa->runtime), "%s", a->runtime);
                snprintf(sa->version, sizeof(sa->version), "%s", a->version);
        }
        /* Oldest first. */
        for (size_t i = 0; i < g->n_decisions; i++)
                ret->decisions[i] =
                        g->decisions[(g->next_decision + STATUS_DECISIONS_MAX - g->n_decisions + i) %
                                     STATUS_DECISIONS_MAX];
        ret->n_decisions = g->n_decisions;
}

static void arm_pace(Governor *g, usec_t at_usec);

/* What the sandbox cannot do, or the kernel refused for good, stays off whatever the policy says. The guard
 * is memgov's own throttle point, which must say when it is crossed: none where the sandbox's does not
 * (cgroup v1's soft limit) or where memgov writes none (observe mode). */
static void restrict_config(Governor *g)
{
        if (!platform_sandbox_high_notifies(g->sandbox) || g->no_high)
                g->st.config.memory_high_guard_permyriad = 0;
        if (g->no_high)
                g->st.config.memory_high_adjust = false;
        if (g->no_reclaim)
                g->st.config.ladder_reclaim = false;
}

static void use_config(Governor *g, const PolicyConfig *c)
{
        g->st.config = *c;
        restrict_config(g);
}

/* The agent captures by itself where the law would start to count toward cannot-fit: a fast leak gets
 * there and on to the OOM killer sooner than a capture request could reach it. */
static void arm_capture(Governor *g, const PolicyDecision *d)
{
        if (g->capturer)
                capturer_arm(g->capturer,
                             g->st.last_sample.agent_present && d->limit_bytes != SIZE_MAX_UNLIMITED &&
                                     !g->st.state.gave_up,
                             d, &g->st.config);
}

static void arm_faults(Governor *g, bool woken, bool still, bool awaited);

/* Wake-ups that may bring no news: the timer, an agent's routine report, a page fault. */
static bool may_glance(const char *why)
{
        return strcmp(why, "pace") == 0 || strcmp(why, "agent-stats") == 0 || strcmp(why, "faults") == 0;
}

/* Every step, whatever woke it, sets the next sample: an event just sampled makes the timer's own sample
 * redundant, and the pace follows the growth the samples show (policy/pace.h). A wake-up that may bring no
 * news first glances at the charge, and steps only if it moved. */
static void governor_step(Governor *g, const char *why)
{
        PolicyDecision d;
        usec_t now = now_usec(g), next;
        bool still, awaited;

        if (g->stopped)
                return;
        still = may_glance(why) && stepper_glance(&g->st, now, sample_agents, g);
        if (!still && stepper_step(&g->st, now, why, sample_agents, g, &d) >= 0) {
                act_on_agents(g, &d);
                stepper_record(&g->st, &d, why);
                remember_decision(g, &d);
                act(g, &d);
                arm_capture(g, &d);
                publish_metrics(g);
        }
        /* While an agent owes fresh stats, their answer brings the next step: a page fault's look could only
         * ask again (docs/design.md, "While stats are awaited, no fault watch"). The pace keeps its
         * unwatched ceiling meanwhile. */
        awaited = control_server_stats_awaited(g->control);
        next = g->st.next_usec;
        if (awaited && next > g->opts.pace.ceiling_usec)
                next = g->opts.pace.ceiling_usec;
        arm_pace(g, now + next);
        arm_faults(g, strcmp(why, "faults") == 0, still && !g->st.look_growing, awaited);
}

static int on_step(sd_event_source *source, uint64_t usec, void *userdata)
{
        Governor *g = userdata;

        g->step_source = sd_event_source_disable_unref(g->step_source);
        governor_step(g, g->step_why);
        return 0;
}

static int on_step_now(sd_event_source *source, void *userdata)
{
        return on_step(source, 0, userdata);
}

/* How late a timer of this delay may fire: a tenth of it. sd-event's default (an accuracy of 0) is 250 ms,
 * which turned the 10 ms coalescing of a burst and the pace's short intervals into a quarter of a second
 * (bench/latency.sh: the decision came 263 ms after a jump, run after run). */
static usec_t timer_slack_usec(usec_t delay_usec)
{
        return delay_usec >= 10 ? delay_usec / 10 : 1;
}

/* why names the first source of a burst; it goes into the decision's log line. Kernel events come in
 * bursts and are coalesced; an agent's report is rate-limited by the agent and is stepped on before the
 * loop sleeps again, so it costs no wake-up of its own. */
static void request_step_after(Governor *g, const char *why, usec_t delay_usec)
{
        int r;

        if (g->stopped)
                return;
        if (g->step_source) {
                /* Fresh stats end a coalescing wait (a fault's, say): the step pairs them with the charge
                 * now, and the burst keeps the name of what began it. */
                if (delay_usec > 0 || !g->step_delayed)
                        return;
                g->step_source = sd_event_source_disable_unref(g->step_source);
                why = g->step_why;
        }
        g->step_why = why;
        g->step_delayed = delay_usec > 0;
        if (delay_usec == 0)
                r = sd_event_add_defer(g->event, &g->step_source, on_step_now, g);
        else
                r = sd_event_add_time_relative(g->event, &g->step_source, CLOCK_MONOTONIC, delay_usec,
                                               timer_slack_usec(delay_usec), on_step, g);
        if (r < 0)
                governor_step(g, why);
}

static void request_step(Governor *g, const char *why)
{
        request_step_after(g, why, STEP_COALESCE_USEC);
}

static int on_pace(sd_event_source *source, uint64_t usec, void *userdata)
{
        governor_step(userdata, "pace");
        return 0;
}

static void arm_pace(Governor *g, usec_t at_usec)
{
        usec_t now = now_usec(g), slack = timer_slack_usec(at_usec > now ? at_usec - now : 0);
        int r;

        if (g->stopped) /* the step's actions ended the run */
                return;
        if (!g->pace_source)
                r = sd_event_add_time(g->event, &g->pace_source, CLOCK_MONOTONIC, at_usec, slack, on_pace,
                                      g);
        else {
                r = sd_event_source_set_time(g->pace_source, at_usec);
                if (r >= 0)
                        r = sd_event_source_set_time_accuracy(g->pace_source, slack);
                if (r >= 0)
                        r = sd_event_source_set_enabled(g->pace_source, SD_EVENT_ONESHOT);
        }
        if (r < 0)
                log_warning_errno(r, "Failed to schedule the next sample: %m, ignoring.");
}

static int on_memory_events(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        (void)platform_watch_ack(fd);
        request_step(userdata, platform_name(PLATFORM_NAME_EVENTS));
        return 0;
}

static int on_psi(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        Governor *g = userdata;
        int which =
                fd == g->psi_fd[PLATFORM_PRESSURE_FULL] ? PLATFORM_PRESSURE_FULL : PLATFORM_PRESSURE_SOME;

        if (revents & EPOLLERR) { /* the group is gone */
                (void)sd_event_source_set_enabled(source, SD_EVENT_OFF);
                return 0;
        }
        g->st.fired[which] = true;
        request_step(g, which == PLATFORM_PRESSURE_FULL ? "psi-full" : "psi-some");
        return 0;
}

/* POLLPRI for cgroup v2's files, POLLIN for cgroup v1's eventfds. */
uint32_t governor_watch_events(PlatformSandbox *s, int fd)
{
        return platform_sandbox_watch_kind(s, fd) == PLATFORM_WATCH_READABLE ? EPOLLIN : EPOLLPRI;
}

static int watch_memory_events(Governor *g)
{
        int fd = platform_sandbox_memory_events_fd(g->sandbox);

        return sd_event_add_io(g->event, &g->events_source, fd, governor_watch_events(g->sandbox, fd),
                               on_memory_events, g);
}

static int on_limits(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        (void)platform_limits_watch_ack(((Governor *)userdata)->sandbox);
        request_step(userdata, "limits");
        return 0;
}

/* A resize (a container runtime's update, a pod resized in place, a policy reload) reaches the law when it
 * is written, so a lowered limit gets to the agent before the program has grown into it. Without the
 * watch, every sample still reads the limits. */
static void watch_limits(Governor *g)
{
        int r = platform_sandbox_limits_watch(g->sandbox, &g->limits_fd);

        if (r >= 0)
                r = sd_event_add_io(g->event, &g->limits_source, g->limits_fd, EPOLLIN, on_limits, g);
        if (r < 0)
                log_info("No watch on the group's limits (%s): a resize is seen at the next sample.",
                         strerror(-r));
}

static int on_faults(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
        Governor *g = userdata;
        usec_t now = now_usec(g);

        /* One look per arming: the step re-arms the watch when it has looked (arm_faults()). */
        (void)platform_faults_watch_disarm(g->faults);
        (void)sd_event_source_set_enabled(source, SD_EVENT_OFF);
        /* The first fault after a still spell may be a jump's: looked at after faults_look_usec, and its
         * look starts no backoff (a jump's first look often comes before a band of it is touched). */
        if (pace_faults_quiet(&g->opts.pace, now, g->faults_woke_usec))
                g->faults_delay_usec = 0;
        g->faults_woke_usec = now;
        request_step_after(g, "faults",
                           g->faults_delay_usec > 0 ? g->faults_delay_usec : g->opts.pace.faults_look_usec);
        return 0;
}

/* After each step: the next page fault wakes the loop only while the pace waits long (far below the limit,
 * or still) and no agent owes an answer to stats?; while memory grows the pace samples anyway. A fault that
 * brought nothing new (a still look at a charge that does not grow fast: pace_growing()) backs off the
 * next. */
static void arm_faults(Governor *g, bool woken, bool still, bool awaited)
{
        bool armed;

        if (!g->faults_source || g->stopped)
                return;
        if (woken)
                g->faults_delay_usec = pace_faults_delay(&g->opts.pace, g->faults_delay_usec, still);
        armed = !awaited && g->st.next_usec > g->opts.pace.faults_arm_min_usec &&
                platform_faults_watch_arm(g->faults) >= 0;
        if (!armed)
                (void)platform_faults_watch_disarm(g->faults);
        (void)sd_event_source_set_enabled(g->faults_source, armed ? SD_EVENT_ON : SD_EVENT_OFF);
}

/* Growth far below the limit raises no kernel event (the group's event counts move at the throttle point and
 * the hard limit, the pressure reading when tasks stall), but new memory comes by page faults: their first
 * one after a look wakes the loop. */
static void watch_faults(Governor *g)
{
        int r = platform_sandbox_faults_watch(g->sandbox, &g->faults);

        if (r >= 0)
                r = sd_event_add_io(g->event, &g->faults_source, platform_faults_watch_fd(g->faults),
                                    EPOLLIN, on_faults, g);
        if (r < 0) {
                g->faults = platform_faults_watch_free(g->faults);
                log_info(
                        "No watch on the group's page faults (%s): growth far below the limit is seen at the next paced sample.",
                        strerror(-r));
                return;
        }
        g->faults_delay_usec = g->opts.pace.faults_look_usec;
        g->st.pace_config.ceiling_usec = g->opts.pace.ceiling_watched_usec;
}

static void watch_psi(Governor *g)
{
        static const char *const names[] = {"some", "full"};
        uint32_t permyriad[2] = {g->st.config.elevated_enter_some_permyriad,
                                 g->st.config.critical_enter_full_permyriad};

        for (int i = 0; i < 2; i++) {
                uint64_t window = 0;
                uint64_t stall = PSI_WINDOW_USEC * permyriad[i] / 10000;
                int r;

                /* A fired trigger counts as entering its level (docs/control-law.md), so arm it at the enter
                 * threshold. */
                r = platform_sandbox_pressure_trigger(g->sandbox, (PlatformPressure)i, stall ?: 1000,
                                                      PSI_WINDOW_USEC, &g->psi_fd[i], &window);
                if (r < 0) {
                        log_info(
                                "No PSI trigger for %s memory pressure (%s); reading avg10 at every sample instead.",
                                names[i], strerror(-r));
                        continue;
                }
                r = sd_event_add_io(g->event, &g->psi_source[i], g->psi_fd[i], EPOLLPRI, on_psi, g);
                if (r < 0) {
                        log_warning_errno(r,
                                          "Failed to watch the %s PSI trigger: %m, sampling avg10 instead.",
                                          names[i]);
                        g->psi_fd[i] = safe_close(g->psi_fd[i]);
                        continue;
                }
                /* An unprivileged trigger gets a longer window, with the stall scaled along. */
                log_debug("PSI trigger armed: %s %" PRIu64 "us in %" PRIu64 "us.", names[i],
                          (stall ?: 1000) * window / PSI_WINDOW_USEC, window);
        }
}

static void on_actuated(ActuatorKind kind, uint64_t bytes, int result, usec_t took_usec, void *userdata)
{
        Governor *g = userdata;
        char b[UNITS_SIZE_STRLEN];

        units_format_size_human(bytes, b, sizeof(b));
        if (result == -EROFS || result == -EACCES || result == -EPERM) {
                /* It will fail the same way every time: say so once and stop asking. */
                (void)log_full_errno(LOG_NOTICE, result, "Cannot write %s (%m): memgov stops writing it.",
                                     actuator_kind_to_string(kind));
                if (kind == ACTUATOR_RECLAIM)
                        g->no_reclaim = true;
                else
                        g->no_high = true;
                restrict_config(g);
                return;
        }
        if (result == -EAGAIN && kind == ACTUATOR_RECLAIM)
                log_info("%s %s: the kernel reclaimed less than asked (%" PRIu64 "ms).",
                         actuator_kind_to_string(kind), b, took_usec / USEC_PER_MSEC);
        else if (result < 0)
                log_warning_errno(result, "Failed to write %s %s: %m, ignoring.",
                                  actuator_kind_to_string(kind), b);
        else
                log_info("Wrote %s %s in %" PRIu64 "ms.", actuator_kind_to_string(kind), b,
                         took_usec / USEC_PER_MSEC);
}

/* The law steers an agent only once it has its stats: asked for at once, the first target follows within
 * milliseconds of the hello, not a stats interval later, which is as long as some programs take to grow
 * past their launch budget or to see their limit lowered. */
static void on_agent_hello(const AgentReport *a, void *userdata)
{
        Governor *g = userdata;

        agent_log_connected(a);
        (void)control_server_request(g->control, PROTO_REQUEST_STATS,
                                     g->st.have_last ? (ProtoLevel)g->st.last_decision.level
                                                     : PROTO_LEVEL_OK);
        request_step(g, "agent-hello");
}

/* Fresh stats are a fresh view of what the runtime holds: the law pairs them with the charge read as they
 * came, so each report is worth a step. The agents report after a GC cycle and when asked (refresh_stats),
 * and at least every MEMGOV_STATS_INTERVAL (1 s, or 5 s with the fault watch: governor_prepare_child()). */
static void on_agent_stats(const AgentReport *a, void *userdata)
{
        request_step_after(userdata, "agent-stats", 0);
}

static void on_agent_applied(const AgentReport *a, uint64_t seq, void *userdata)
{
        agent_log_applied(a, seq);
}

static void on_agent_captured(const AgentReport *a, const ProtoCaptured *c, void *userdata)
{
        Governor *g = userdata;

        if (g->capturer)
                capturer_on_captured(g->capturer, a, c);
}

static void on_agent_gc_cycle(const AgentReport *a, const ProtoGcCycle *c, void *userdata)
{
        Governor *g = userdata;
        double f = c->gc_cpu_fraction > 1 ? 1 : c->gc_cpu_fraction;

        gc_trace_push(&g->gc_trace, &(GcCycle){
                                            .t_usec = now_usec(g),
                                            .count = c->count,
                                            .heap_goal_bytes = c->heap_goal_bytes,
                                            .heap_live_bytes = c->heap_live_bytes,
                                            .gc_cpu_permyriad = (uint32_t)(f * 10000.0 + 0.5),
                                    });
}

static void on_agent_gone(const AgentReport *a, const char *reason, void *userdata)
{
        Governor *g = userdata;

        if (g->capturer)
                capturer_on_agent_gone(g->capturer, a);
        agent_log_gone(a, reason, "cgroup limits");
}

static int status_capture(void *userdata, char *reason, size_t reason_size)
{
        return governor_capture(userdata, reason, reason_size);
}

/* The operator socket is a convenience: without it (unprivileged without XDG_RUNTIME_DIR, a foreign
 * directory) memgov runs on and says so at info level. */
static void watch_status(Governor *g)
{
        int r = status_server_new(g->event, g->opts.status_dir, fill_status, g, &g->status);

        if (r < 0)
                log_info("No status socket for 'memgov status' (%s), continuing without.", strerror(-r));
        else
                status_server_set_capture(g->status, status_capture);
}

/* Without a capture directory (unprivileged, neither XDG_STATE_HOME nor HOME) memgov governs on and
 * says so; the post-mortem then has no files to name. */
static void watch_captures(Governor *g)
{
        const char *path = platform_sandbox_path(g->sandbox), *slash = strrchr(path, '/');
        int r = capturer_new(g->event, g->control, &g->opts.capture, g->opts.capture_dir,
                             slash ? slash + 1 : path, on_capture_done, g, &g->capturer);

        if (r < 0)
                log_info("No capture directory (%s): no heap captures, continuing without.", strerror(-r));
        /* Where the agents would be armed: made now, not just after the first target (capturer_arm()); a
         * failure is said at the arm. */
        else if (g->opts.capture.enabled && !g->opts.no_agent)
                (void)capturer_prepare_dir(g->capturer);
}

int governor_check_outputs(const char *metrics_file, const char *metrics_listen, const char *trace_file)
{
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        Metrics *m = NULL;
        Trace *t = NULL;
        int r;

        if (!metrics_file && !metrics_listen && !trace_file)
                return 0;
        r = sd_event_new(&e);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate an event loop: %m");
        r = metrics_new(e, metrics_file, metrics_listen, &m);
        metrics_free(m);
        if (r >= 0 && trace_file) {
                r = trace_open(trace_file, &t);
                trace_close(t);
        }
        return r;
}

void governor_set_child_pid(Governor *g, pid_t pid)
{
        g->child_pid = pid;
}

static uint64_t agent_charged_now(void *userdata)
{
        Governor *g = userdata;
        uint64_t current;

        return platform_sandbox_current(g->sandbox, &current) >= 0 ? current : 0;
}

int governor_new(sd_event *e, PlatformSandbox *s, const GovernorOptions *o, governor_kill_t on_kill,
                 void *userdata, Governor **ret)
{
        const ControlCallbacks cb = {
                .charged_now = agent_charged_now,
                .on_hello = on_agent_hello,
                .on_stats = on_agent_stats,
                .on_applied = on_agent_applied,
                .on_captured = on_agent_captured,
                .on_gc_cycle = on_agent_gc_cycle,
                .on_gone = on_agent_gone,
        };
        Governor *g;
        int r;

        g = calloc(1, sizeof(*g));
        if (!g)
                return -ENOMEM;
        g->event = sd_event_ref(e);
        g->sandbox = s;
        g->opts = *o;
        g->on_kill = on_kill;
        g->userdata = userdata;
        g->program = o->program;
        g->psi_fd[0] = g->psi_fd[1] = -1;
        g->limits_fd = -1;
        g->start_realtime_usec = clock_usec(CLOCK_REALTIME);
        g->start_monotonic_usec = clock_usec(CLOCK_MONOTONIC);
        stepper_init(&g->st, s, &o->config, &o->pace, o->program, NULL, g->start_monotonic_usec);
        use_config(g, &o->config);

        ControlCallbacks cbu = cb;
        cbu.userdata = g;
        r = control_server_new(e, s, &cbu, &g->control);
        if (r >= 0)
                r = actuator_new(e, s, on_actuated, g, &g->actuator);
        if (r >= 0)
                r = watch_memory_events(g);
        if (r >= 0 && g->opts.agent_socket)
                r = control_server_listen(g->control, g->opts.socket_dir, &g->socket_path);
        if (r >= 0 && (g->opts.metrics_file || g->opts.metrics_listen))
                r = metrics_new(e, g->opts.metrics_file, g->opts.metrics_listen, &g->metrics);
        if (r >= 0 && g->opts.trace_file)
                r = trace_open(g->opts.trace_file, &g->trace);
        if (r < 0) {
                governor_free(g);
                return r;
        }
        g->st.trace = g->trace;
        watch_psi(g);
        watch_limits(g);
        watch_faults(g);
        watch_status(g);
        watch_captures(g);
        *ret = g;
        return 0;
}

static int strv_add(char ***l, size_t *n, const char *name, const char *value)
{
        char *s;

        if (asprintf(&s, "%s=%s", name, value) < 0)
                return -ENOMEM;
        return strv_append(l, n, s);
}

int governor_prepare_child(Governor *g, int *ret_keep_fd, char ***ret_env)
{
        _cleanup_strv_free_ char **env = NULL;
        char fdtext[16], write64[64], interval[32];
        _cleanup_free_ char *watch = NULL;
        size_t n = 0;
        int fd = -1, r;

        if (!g->opts.no_agent) {
                r = control_server_prepare_child_fd(g->control, &fd);
                if (r < 0)
                        return r;
        }
        snprintf(fdtext, sizeof(fdtext), "%d", fd);
        r = platform_sandbox_pressure_path(g->sandbox, &watch);
        if (r < 0)
                return r;
        r = launchenv_base64(MEMORY_PRESSURE_WRITE_DEFAULT, strlen(MEMORY_PRESSURE_WRITE_DEFAULT), write64,
                             sizeof(write64));
        if (r < 0)
                return r;

        if ((fd >= 0 && (r = strv_add(&env, &n, "MEMGOV_FD", fdtext)) < 0) ||
            (g->socket_path && (r = strv_add(&env, &n, "MEMGOV_SOCKET", g->socket_path)) < 0) ||
            (r = strv_add(&env, &n, "MEMORY_PRESSURE_WATCH", watch)) < 0 ||
            (r = strv_add(&env, &n, "MEMORY_PRESSURE_WRITE", write64)) < 0)
                return r;
        /* The agents' routine report (1 s by default) is a fallback for growth nobody announces. With the
         * page-fault watch, growth wakes memgov as it begins and the law asks for fresh stats then
         * (refresh_stats), so the routine report can be nearly as rare as the paced sample: an idle
         * program and memgov sleep. A little under the pace's ceiling, the report always comes first
         * and re-arms the pace: at equal periods the two raced, and an idle program cost memgov two
         * wake-ups each period instead of one. A value the user set is kept. */
        if (!g->opts.no_agent && g->faults_source && !getenv("MEMGOV_STATS_INTERVAL")) {
                snprintf(interval, sizeof(interval), "%" PRIu64 "ms",
                         g->opts.pace.ceiling_watched_usec * 4 / 5 / USEC_PER_MSEC);
                r = strv_add(&env, &n, "MEMGOV_STATS_INTERVAL", interval);
                if (r < 0)
                        return r;
        }
        *ret_keep_fd = fd;
        *ret_env = TAKE_PTR(env);
        return 0;
}

void governor_child_started(Governor *g)
{
        control_server_child_started(g->control);
        governor_step(g, "start");
}

void governor_postmortem(Governor *g, const char *what, const char *cause, const PlatformSample *final)
{
        Postmortem p = {
                .what = what,
                .cause = cause,
                .names = step_sandbox_names(),
                .max_bytes = final->max_bytes,
                .high_bytes = final->high_bytes,
                .peak_bytes = final->peak_bytes,
                .events_oom_kill = final->events_oom_kill,
        };

        if (g) {
                p.now_usec = now_usec(g);
                stepper_fill_postmortem(&g->st, p.now_usec, &p);
                /* The last five minutes of GC samples, thinned to what a report can show. */
                p.n_gc = gc_trace_recent(&g->gc_trace, p.now_usec, 5 * 60 * USEC_PER_SEC, p.gc,
                                         POSTMORTEM_GC_MAX);
                if (g->capturer)
                        capturer_fill_postmortem(g->capturer, &p);
        }
        postmortem_log(&p);
}

void governor_set_config(Governor *g, const PolicyConfig *c)
{
        bool rearm = c->elevated_enter_some_permyriad != g->st.config.elevated_enter_some_permyriad ||
                     c->critical_enter_full_permyriad != g->st.config.critical_enter_full_permyriad;

        /* The state stays: a target in force, the level and the timers carry over, so a reload acts as a
         * change of parameters at the next step, not as a restart of the law. */
        use_config(g, c);
        if (g->stopped)
                return;
        if (rearm) {
                /* The triggers were armed at the old enter thresholds. */
                for (int i = 0; i < 2; i++) {
                        g->psi_source[i] = sd_event_source_disable_unref(g->psi_source[i]);
                        g->psi_fd[i] = safe_close(g->psi_fd[i]);
                }
                watch_psi(g);
        }
        request_step(g, "reload");
}

void governor_stop(Governor *g)
{
        PlatformSample x;

        if (!g || g->stopped)
                return;
        /* The child ended while a capture was under way: the post-mortem it held back is due now. */
        if (g->postmortem_pending) {
                g->postmortem_pending = g->kill_pending = false;
                governor_postmortem(g, g->program ?: "the program", "cannot fit", &g->st.last_platform);
        }
        /* The last word for the metrics: after an OOM kill, the group's event counts have it only now. */
        if (g->metrics && platform_sandbox_sample(g->sandbox, &x) >= 0) {
                g->st.last_platform = x;
                publish_metrics(g);
        }
        g->stopped = true;
        g->pace_source = sd_event_source_disable_unref(g->pace_source);
        g->events_source = sd_event_source_disable_unref(g->events_source);
        g->step_source = sd_event_source_disable_unref(g->step_source);
        g->limits_source = sd_event_source_disable_unref(g->limits_source);
        g->faults_source = sd_event_source_disable_unref(g->faults_source);
        for (int i = 0; i < 2; i++)
                g->psi_source[i] = sd_event_source_disable_unref(g->psi_source[i]);
}

Governor *governor_free(Governor *g)
{
        if (!g)
                return NULL;
        governor_stop(g);
        actuator_free(g->actuator);
        capturer_free(g->capturer);
        metrics_free(g->metrics);
        status_server_free(g->status);
        trace_close(g->trace);
        control_server_free(g->control);
        for (int i = 0; i < 2; i++)
                safe_close(g->psi_fd[i]);
        platform_faults_watch_free(g->faults);
        free(g->socket_path);
        sd_event_unref(g->event);
        free(g);
        return NULL;
}

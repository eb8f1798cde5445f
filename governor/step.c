/* SPDX-License-Identifier: MIT */
/* One step of the closed loop, shared by both supervisors: sample, law, log, trace, pace. */
#include "step.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policy/macro.h"
#include "log.h"

void stepper_init(Stepper *st, PlatformSandbox *s, const PolicyConfig *c, const PaceConfig *pace,
                  const char *program, Trace *trace, usec_t start_usec)
{
        *st = (Stepper){
                .config = *c,
                .pace_config = *pace,
                .sandbox = s,
                .program = program,
                .trace = trace,
                .start_usec = start_usec,
                .next_usec = pace->ceiling_usec,
        };
        policy_state_init(&st->state, &st->config);
}

static void build_sample(Stepper *st, const PlatformSample *x, usec_t now, PolicySample *ret)
{
        bool some = x->pressure_some_notified > st->last_platform.pressure_some_notified,
             full = x->pressure_full_notified > st->last_platform.pressure_full_notified;

        /* A notification counted since the last sample fires as a trigger would. */
        if (some)
                st->fired[PLATFORM_PRESSURE_SOME] = true;
        if (full)
                st->fired[PLATFORM_PRESSURE_FULL] = true;
        if (some || full)
                log_debug("Pressure notifications so far: some=%" PRIu64 " full=%" PRIu64 ".",
                          x->pressure_some_notified, x->pressure_full_notified);
        *ret = (PolicySample){
                .now_usec = now,
                .limits = {.max_bytes = x->max_bytes, .high_bytes = x->high_bytes},
                .current_bytes = x->current_bytes,
                .anon_bytes = x->anon_bytes,
                .file_bytes = x->file_bytes,
                .shmem_bytes = x->shmem_bytes,
                .kernel_bytes = x->kernel_bytes,
                .inactive_file_bytes = x->inactive_file_bytes,
                .anon_lru_bytes = x->anon_lru_bytes,
                .psi_some_avg10_permyriad = x->psi_some_avg10_permyriad,
                .psi_full_avg10_permyriad = x->psi_full_avg10_permyriad,
                .psi_some_fired = st->fired[PLATFORM_PRESSURE_SOME],
                .psi_full_fired = st->fired[PLATFORM_PRESSURE_FULL],
                .events_high = x->events_high,
                .events_max = x->events_max,
                .events_oom = x->events_oom,
                .events_oom_kill = x->events_oom_kill,
        };
        st->fired[0] = st->fired[1] = false;
}

static void log_decision(const PolicyDecision *d, usec_t at_usec, const char *why)
{
        char line[POLICY_DECISION_STRLEN], actions[POLICY_ACTIONS_STRLEN];
        char target[24], limit[24], unseen[24], freeable[24], headroom[24], floor[24], at[24];
        int level = LOG_INFO;

        if (d->actions == 0 && !d->level_changed)
                return;
        if (d->actions & (POLICY_ACTION_CANNOT_FIT | POLICY_ACTION_KILL))
                level = LOG_ERR;
        else if (d->level_changed || (d->actions & POLICY_ACTION_SHED))
                level = LOG_NOTICE;
        if (d->target_bytes == POLICY_TARGET_NONE)
                snprintf(target, sizeof(target), "max");
        else
                snprintf(target, sizeof(target), "%" PRIu64, d->target_bytes);
        snprintf(limit, sizeof(limit), "%" PRIu64, d->limit_bytes);
        snprintf(unseen, sizeof(unseen), "%" PRIu64, d->unseen_bytes);
        snprintf(freeable, sizeof(freeable), "%" PRIu64, d->freeable_bytes);
        snprintf(headroom, sizeof(headroom), "%" PRIu64, d->headroom_bytes);
        snprintf(floor, sizeof(floor), "%" PRIu64, d->floor_bytes);
        snprintf(at, sizeof(at), "%" PRIu64, (uint64_t)at_usec);
        const LogField fields[] = {
                {"ACTION", policy_actions_format(d->actions, actions, sizeof(actions))},
                {"RULE", policy_rule_to_string(d->rule)},
                {"PRESSURE_LEVEL", policy_level_to_string(d->level)},
                {"TARGET_BYTES", target},
                {"LIMIT_BYTES", limit},
                {"UNSEEN_BYTES", unseen},
                {"FREEABLE_BYTES", freeable},
                {"HEADROOM_BYTES", headroom},
                {"FLOOR_BYTES", floor},
                {"ON", why},
                {"AT_USEC", at},
        };

        /* logfmt carries the fields as its own keys: the message need not repeat them. */
        if (log_get_target() == LOG_TARGET_LOGFMT) {
                (void)log_struct_errno(level, 0, fields, ELEMENTSOF(fields), "decision");
                return;
        }
        /* at_us is CLOCK_MONOTONIC, so bench/ can line decisions up with the child's own clock. */
        (void)log_struct_errno(level, 0, fields, ELEMENTSOF(fields), "decision %s on=%s at_us=%" PRIu64,
                               policy_decision_format(d, line, sizeof(line)), why, (uint64_t)at_usec);
}

static void trace_step(Stepper *st, const PolicySample *x, const PolicyDecision *d, const char *why)
{
        char line[TRACE_LINE_STRLEN];
        usec_t t = x->now_usec > st->start_usec ? x->now_usec - st->start_usec : 0;

        if (!st->trace)
                return;
        if (st->steps_total == 1)
                trace_line(st->trace, line,
                           trace_format_start(t, st->program, platform_sandbox_path(st->sandbox), &x->limits,
                                              line, sizeof(line)));
        trace_line(st->trace, line,
                   trace_format_sample(t, why, x, st->last_platform.peak_bytes, d, line, sizeof(line)));
        if (d->actions != 0 || d->level_changed)
                trace_line(st->trace, line, trace_format_decision(t, d, line, sizeof(line)));
        trace_flush(st->trace);
}

static void note_look(Stepper *st, usec_t now_usec, uint64_t current_bytes, uint64_t limit_bytes)
{
        st->look_growing = st->look_usec > 0 && pace_growing(&st->pace_config, now_usec, current_bytes,
                                                             limit_bytes, st->look_usec, st->look_bytes);
        st->look_usec = now_usec;
        st->look_bytes = current_bytes;
}

int stepper_step(Stepper *st, usec_t now_usec, const char *why, stepper_agents_t agents, void *userdata,
                 PolicyDecision *ret)
{
        PlatformSample x;
        PolicySample ps;
        PolicyDecision d;
        int r;

        r = platform_sandbox_sample(st->sandbox, &x);
        if (r < 0) {
                st->next_usec = st->pace_config.ceiling_usec;
                return log_debug_errno(r, "Failed to sample %s: %m, skipping this step.",
                                       platform_sandbox_path(st->sandbox));
        }
        build_sample(st, &x, now_usec, &ps);
        st->last_platform = x;
        if (agents)
                agents(userdata, &ps);
        log_debug("Sampled on=%s: current=%" PRIu64 " max=%" PRIu64 " high=%" PRIu64 ".", why,
                  ps.current_bytes, ps.limits.max_bytes, ps.limits.high_bytes);
        policy_step(&st->config, &st->state, &ps, &d);
        st->have_last = true;
        st->last_sample = ps;
        st->last_decision = d;
        st->steps_total++;
        note_look(st, ps.now_usec, ps.current_bytes, d.limit_bytes);
        for (unsigned i = 0; i < _POLICY_ACTION_COUNT; i++)
                if (d.actions & (1u << i))
                        st->decisions_total[i]++;
        st->next_usec = pace_next(&st->pace_config, &st->pace, ps.now_usec, ps.current_bytes, d.limit_bytes,
                                  d.level != POLICY_LEVEL_OK);
        *ret = d;
        return 0;
}

void stepper_record(Stepper *st, const PolicyDecision *d, const char *why)
{
        trace_step(st, &st->last_sample, d, why);
        log_decision(d, st->last_sample.now_usec, why);
}

bool stepper_glance(Stepper *st, usec_t now_usec, stepper_agents_t agents, void *userdata)
{
        const PolicySample *last = &st->last_sample;
        PolicySample ps = {};
        uint64_t current;

        if (!st->have_last || !policy_may_skip(&st->state, &st->last_decision))
                return false;
        if (platform_sandbox_current(st->sandbox, &current) < 0 ||
            !pace_still(&st->pace_config, now_usec, current, st->last_decision.limit_bytes, last->now_usec,
                        last->current_bytes))
                return false;
        if (agents) {
                agents(userdata, &ps);
                ps.current_bytes = current;
                if (!policy_agents_still(&st->config, last, &ps,
                                         pace_still_band(&st->pace_config, st->last_decision.limit_bytes)))
                        return false;
        }
        st->glances_total++;
        note_look(st, now_usec, current, st->last_decision.limit_bytes);
        st->next_usec = pace_next(&st->pace_config, &st->pace, now_usec, current,
                                  st->last_decision.limit_bytes, false);
        return true;
}

void stepper_fill_postmortem(const Stepper *st, usec_t now_usec, Postmortem *p)
{
        const PolicySample *x = &st->last_sample;
        const PolicyDecision *d = &st->last_decision;

        if (!st->have_last)
                return;
        p->have_sample = true;
        p->sample_age_usec = now_usec > x->now_usec ? now_usec - x->now_usec : 0;
        p->current_bytes = x->current_bytes;
        p->anon_bytes = x->anon_bytes;
        p->file_bytes = x->file_bytes;
        p->shmem_bytes = x->shmem_bytes;
        p->kernel_bytes = x->kernel_bytes;
        p->psi_some_avg10_permyriad = x->psi_some_avg10_permyriad;
        p->psi_full_avg10_permyriad = x->psi_full_avg10_permyriad;
        p->psi_system_wide = st->last_platform.psi_system_wide;
        p->events_high = x->events_high;
        p->events_max = x->events_max;
        p->have_decision = true;
        p->target_bytes = d->target_bytes;
        p->level = d->level;
        p->rule = d->rule;
        p->have_agent = x->agent_present;
        p->runtime_total_bytes = x->runtime_total_bytes;
        p->heap_live_bytes = x->heap_live_bytes;
        p->gc_cpu_permyriad = x->gc_cpu_permyriad;
}

SandboxNames step_sandbox_names(void)
{
        return (SandboxNames){
                .max = platform_name(PLATFORM_NAME_MAX),
                .high = platform_name(PLATFORM_NAME_HIGH),
                .current = platform_name(PLATFORM_NAME_CURRENT),
                .peak = platform_name(PLATFORM_NAME_PEAK),
                .stat = platform_name(PLATFORM_NAME_STAT),
                .events = platform_name(PLATFORM_NAME_EVENTS),
        };
}

void postmortem_log(const Postmortem *p)
{
        _cleanup_free_ char *text = malloc(POSTMORTEM_STRLEN);

        if (!text)
                return (void)log_error("Out of memory for the post-mortem.");
        postmortem_format(p, text, POSTMORTEM_STRLEN);
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save))
                log_error("%s", line);
}

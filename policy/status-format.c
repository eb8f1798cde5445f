/* SPDX-License-Identifier: MIT */
#include "status-format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "outbuf.h"
#include "trace-format.h"
#include "units.h"

/* "name":123 or "name":null, with a leading comma unless first. */
static void jbytes(OutBuf *o, bool comma, const char *name, uint64_t v)
{
        if (v == UINT64_MAX)
                outbuf_append(o, "%s\"%s\":null", comma ? "," : "", name);
        else
                outbuf_append(o, "%s\"%s\":%" PRIu64, comma ? "," : "", name, v);
}

static void jratio(OutBuf *o, const char *name, uint32_t permyriad)
{
        outbuf_append(o, ",\"%s\":%" PRIu32 ".%04" PRIu32, name, permyriad / 10000, permyriad % 10000);
}

static void jstring(OutBuf *o, bool comma, const char *name, const char *value)
{
        char e[512];

        outbuf_append(o, "%s\"%s\":\"%s\"", comma ? "," : "", name, trace_escape_json(value, e, sizeof(e)));
}

static void json_actions(OutBuf *o, unsigned actions)
{
        bool first = true;

        outbuf_append(o, "[");
        for (unsigned i = 0; i < _POLICY_ACTION_COUNT; i++)
                if (actions & (1u << i)) {
                        outbuf_append(o, "%s\"%s\"", first ? "" : ",",
                                      policy_action_to_string((PolicyAction)(1u << i)));
                        first = false;
                }
        outbuf_append(o, "]");
}

static void json_agents(OutBuf *o, const StatusSnapshot *s)
{
        outbuf_append(o, ",\"agents\":[");
        for (size_t i = 0; i < s->n_agents; i++) {
                const StatusAgent *a = &s->agents[i];

                outbuf_append(o, "%s{\"id\":%u,\"pid\":%d", i ? "," : "", a->id, (int)a->pid);
                jstring(o, true, "runtime", a->runtime);
                jstring(o, true, "version", a->version);
                if (a->have_stats) {
                        jbytes(o, true, "total_bytes", a->total_bytes);
                        jbytes(o, true, "heap_live_bytes", a->heap_live_bytes);
                        outbuf_append(o, ",\"gc_count\":%" PRIu64, a->gc_count);
                        jratio(o, "gc_cpu_ratio", a->gc_cpu_permyriad);
                }
                jbytes(o, true, "target_bytes", a->target_bytes);
                jbytes(o, true, "applied_limit_bytes", a->applied_limit_bytes);
                outbuf_append(o, "}");
        }
        outbuf_append(o, "]");
}

static void json_decisions(OutBuf *o, const StatusSnapshot *s)
{
        outbuf_append(o, ",\"decisions\":[");
        for (size_t i = 0; i < s->n_decisions; i++) {
                const StatusDecision *d = &s->decisions[i];

                outbuf_append(o,
                              "%s{\"t\":%" PRIu64 ".%06" PRIu64
                              ",\"rule\":\"%s\",\"level\":\"%s\",\"actions\":",
                              i ? "," : "", d->t_usec / USEC_PER_SEC, d->t_usec % USEC_PER_SEC,
                              policy_rule_to_string(d->rule), policy_level_to_string(d->level));
                json_actions(o, d->actions);
                jbytes(o, true, "target_bytes", d->target_bytes);
                outbuf_append(o, "}");
        }
        outbuf_append(o, "]");
}

int status_format_json(const StatusSnapshot *s, char *buf, size_t size)
{
        const MetricsSnapshot *m = &s->m;
        OutBuf o = {.buf = buf, .size = size};

        if (size == 0)
                return -ENOBUFS;
        outbuf_append(&o, "{\"memgov_pid\":%d,\"child_pid\":%d", (int)s->memgov_pid, (int)s->child_pid);
        jstring(&o, true, "name", s->name);
        jstring(&o, true, "program", m->program);
        jstring(&o, true, "cgroup", m->cgroup);
        outbuf_append(&o, ",\"uptime_seconds\":%" PRIu64 ".%06" PRIu64, s->uptime_usec / USEC_PER_SEC,
                      s->uptime_usec % USEC_PER_SEC);
        outbuf_append(&o, ",\"limits\":{");
        jbytes(&o, false, "max_bytes", m->have_sample ? m->max_bytes : UINT64_MAX);
        jbytes(&o, true, "high_bytes", m->have_sample ? m->high_bytes : UINT64_MAX);
        outbuf_append(&o, "},\"memory\":{");
        jbytes(&o, false, "current_bytes", m->have_sample ? m->current_bytes : UINT64_MAX);
        jbytes(&o, true, "peak_bytes", m->have_sample ? m->peak_bytes : UINT64_MAX);
        jbytes(&o, true, "anon_bytes", m->anon_bytes);
        jbytes(&o, true, "file_bytes", m->file_bytes);
        jbytes(&o, true, "shmem_bytes", m->shmem_bytes);
        jbytes(&o, true, "kernel_bytes", m->kernel_bytes);
        outbuf_append(&o,
                      "},\"events\":{\"high\":%" PRIu64 ",\"max\":%" PRIu64 ",\"oom\":%" PRIu64
                      ",\"oom_kill\":%" PRIu64 "}",
                      m->events_high, m->events_max, m->events_oom, m->events_oom_kill);
        outbuf_append(&o, ",\"pressure\":{\"level\":\"%s\"", policy_level_to_string(m->level));
        if (m->have_psi) {
                jratio(&o, "some_avg10", m->psi_some_avg10_permyriad);
                jratio(&o, "full_avg10", m->psi_full_avg10_permyriad);
        }
        outbuf_append(&o, "}");
        jbytes(&o, true, "gc_target_bytes", m->target_bytes);
        outbuf_append(&o, ",\"cannot_fit\":%s,\"steps\":%" PRIu64, m->gave_up ? "true" : "false",
                      m->steps_total);
        outbuf_append(&o, ",\"agents_connected\":%u", m->agents_connected);
        json_agents(&o, s);
        json_decisions(&o, s);
        outbuf_append(&o, "}\n");
        return outbuf_done(&o);
}

static const char *size_text(uint64_t v, char *buf, size_t size)
{
        if (v == UINT64_MAX)
                snprintf(buf, size, "max");
        else
                units_format_size_human(v, buf, size);
        return buf;
}

int status_format_text(const StatusSnapshot *s, char *buf, size_t size)
{
        const MetricsSnapshot *m = &s->m;
        char a[UNITS_SIZE_STRLEN], b[UNITS_SIZE_STRLEN], c[UNITS_SIZE_STRLEN], d[UNITS_SIZE_STRLEN];
        char acts[POLICY_ACTIONS_STRLEN];
        OutBuf o = {.buf = buf, .size = size};

        if (size == 0)
                return -ENOBUFS;
        outbuf_append(&o, "%s (memgov %d, child %d): %s, up %" PRIu64 "s\n", s->name, (int)s->memgov_pid,
                      (int)s->child_pid, m->program, s->uptime_usec / USEC_PER_SEC);
        outbuf_append(&o, "  cgroup:   %s\n", m->cgroup);
        if (m->have_sample) {
                outbuf_append(&o, "  limits:   %s=%s %s=%s\n", m->names.max,
                              size_text(m->max_bytes, a, sizeof(a)), m->names.high,
                              size_text(m->high_bytes, b, sizeof(b)));
                outbuf_append(
                        &o, "  memory:   current %s, peak %s (anon %s, file %s)\n",
                        size_text(m->current_bytes, a, sizeof(a)),
                        m->peak_bytes == UINT64_MAX ? "unknown" : size_text(m->peak_bytes, b, sizeof(b)),
                        size_text(m->anon_bytes, c, sizeof(c)), size_text(m->file_bytes, d, sizeof(d)));
        }
        outbuf_append(&o, "  pressure: level %s", policy_level_to_string(m->level));
        if (m->have_psi)
                outbuf_append(&o, ", some %u.%02u%%, full %u.%02u%% (avg10)",
                              m->psi_some_avg10_permyriad / 100, m->psi_some_avg10_permyriad % 100,
                              m->psi_full_avg10_permyriad / 100, m->psi_full_avg10_permyriad % 100);
        outbuf_append(&o, "; oom kills %" PRIu64 "\n", m->events_oom_kill);
        outbuf_append(&o, "  target:   %s%s\n",
                      m->target_bytes == POLICY_TARGET_NONE ? "none"
                                                            : size_text(m->target_bytes, a, sizeof(a)),
                      m->gave_up ? " (cannot fit: no longer squeezing)" : "");
        if (s->n_agents == 0)
                outbuf_append(&o, "  agents:   none connected\n");
        for (size_t i = 0; i < s->n_agents; i++) {
                const StatusAgent *ag = &s->agents[i];

                outbuf_append(&o, "  agent %u:  %s %s, pid %d", ag->id, ag->runtime, ag->version,
                              (int)ag->pid);
                if (ag->have_stats)
                        outbuf_append(&o, ", total %s, live heap %s, GC CPU %u.%02u%%",
                                      size_text(ag->total_bytes, a, sizeof(a)),
                                      size_text(ag->heap_live_bytes, b, sizeof(b)),
                                      ag->gc_cpu_permyriad / 100, ag->gc_cpu_permyriad % 100);
                outbuf_append(&o, "\n");
        }
        for (size_t i = 0; i < s->n_decisions; i++) {
                const StatusDecision *dd = &s->decisions[i];

                outbuf_append(&o, "  %s %" PRIu64 ".%03" PRIu64 "s %s (rule %s), level %s, target %s\n",
                              i ? "        " : "decided:", dd->t_usec / USEC_PER_SEC,
                              dd->t_usec % USEC_PER_SEC / 1000,
                              policy_actions_format(dd->actions, acts, sizeof(acts)),
                              policy_rule_to_string(dd->rule), policy_level_to_string(dd->level),
                              dd->target_bytes == POLICY_TARGET_NONE
                                      ? "none"
                                      : size_text(dd->target_bytes, a, sizeof(a)));
        }
        return outbuf_done(&o);
}

/* SPDX-License-Identifier: MIT */
#include "status-format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "trace-format.h"
#include "units.h"

typedef struct Out {
        char *buf;
        size_t size, n;
        bool overflow;
} Out;

_printf_(2, 3) static void out(Out *o, const char *fmt, ...)
{
        va_list ap;
        int k;

        if (o->overflow)
                return;
        va_start(ap, fmt);
        k = vsnprintf(o->buf + o->n, o->size - o->n, fmt, ap);
        va_end(ap);
        if (k < 0 || (size_t)k >= o->size - o->n)
                o->overflow = true;
        else
                o->n += (size_t)k;
}

/* "name":123 or "name":null, with a leading comma unless first. */
static void jbytes(Out *o, bool comma, const char *name, uint64_t v)
{
        if (v == UINT64_MAX)
                out(o, "%s\"%s\":null", comma ? "," : "", name);
        else
                out(o, "%s\"%s\":%" PRIu64, comma ? "," : "", name, v);
}

static void jratio(Out *o, const char *name, uint32_t permyriad)
{
        out(o, ",\"%s\":%" PRIu32 ".%04" PRIu32, name, permyriad / 10000, permyriad % 10000);
}

static void jstring(Out *o, bool comma, const char *name, const char *value)
{
        char e[512];

        out(o, "%s\"%s\":\"%s\"", comma ? "," : "", name, trace_escape_json(value, e, sizeof(e)));
}

static void json_actions(Out *o, unsigned actions)
{
        bool first = true;

        out(o, "[");
        for (unsigned i = 0; i < _POLICY_ACTION_COUNT; i++)
                if (actions & (1u << i)) {
                        out(o, "%s\"%s\"", first ? "" : ",",
                            policy_action_to_string((PolicyAction)(1u << i)));
                        first = false;
                }
        out(o, "]");
}

static void json_agents(Out *o, const StatusSnapshot *s)
{
        out(o, ",\"agents\":[");
        for (size_t i = 0; i < s->n_agents; i++) {
                const StatusAgent *a = &s->agents[i];

                out(o, "%s{\"id\":%u,\"pid\":%d", i ? "," : "", a->id, (int)a->pid);
                jstring(o, true, "runtime", a->runtime);
                jstring(o, true, "version", a->version);
                if (a->have_stats) {
                        jbytes(o, true, "total_bytes", a->total_bytes);
                        jbytes(o, true, "heap_live_bytes", a->heap_live_bytes);
                        out(o, ",\"gc_count\":%" PRIu64, a->gc_count);
                        jratio(o, "gc_cpu_ratio", a->gc_cpu_permyriad);
                }
                jbytes(o, true, "target_bytes", a->target_bytes);
                jbytes(o, true, "applied_limit_bytes", a->applied_limit_bytes);
                out(o, "}");
        }
        out(o, "]");
}

static void json_decisions(Out *o, const StatusSnapshot *s)
{
        out(o, ",\"decisions\":[");
        for (size_t i = 0; i < s->n_decisions; i++) {
                const StatusDecision *d = &s->decisions[i];

                out(o, "%s{\"t\":%" PRIu64 ".%06" PRIu64 ",\"rule\":\"%s\",\"level\":\"%s\",\"actions\":",
                    i ? "," : "", d->t_usec / USEC_PER_SEC, d->t_usec % USEC_PER_SEC,
                    policy_rule_to_string(d->rule), policy_level_to_string(d->level));
                json_actions(o, d->actions);
                jbytes(o, true, "target_bytes", d->target_bytes);
                out(o, "}");
        }
        out(o, "]");
}

int status_format_json(const StatusSnapshot *s, char *buf, size_t size)
{
        const MetricsSnapshot *m = &s->m;
        Out o = {.buf = buf, .size = size};

        if (size == 0)
                return -ENOBUFS;
        out(&o, "{\"memgov_pid\":%d,\"child_pid\":%d", (int)s->memgov_pid, (int)s->child_pid);
        jstring(&o, true, "name", s->name);
        jstring(&o, true, "program", m->program);
        jstring(&o, true, "cgroup", m->cgroup);
        out(&o, ",\"uptime_seconds\":%" PRIu64 ".%06" PRIu64, s->uptime_usec / USEC_PER_SEC,
            s->uptime_usec % USEC_PER_SEC);
        out(&o, ",\"limits\":{");
        jbytes(&o, false, "max_bytes", m->have_sample ? m->max_bytes : UINT64_MAX);
        jbytes(&o, true, "high_bytes", m->have_sample ? m->high_bytes : UINT64_MAX);
        out(&o, "},\"memory\":{");
        jbytes(&o, false, "current_bytes", m->have_sample ? m->current_bytes : UINT64_MAX);
        jbytes(&o, true, "peak_bytes", m->have_sample ? m->peak_bytes : UINT64_MAX);
        jbytes(&o, true, "anon_bytes", m->anon_bytes);
        jbytes(&o, true, "file_bytes", m->file_bytes);
        jbytes(&o, true, "shmem_bytes", m->shmem_bytes);
        jbytes(&o, true, "kernel_bytes", m->kernel_bytes);
        out(&o,
            "},\"events\":{\"high\":%" PRIu64 ",\"max\":%" PRIu64 ",\"oom\":%" PRIu64
            ",\"oom_kill\":%" PRIu64 "}",
            m->events_high, m->events_max, m->events_oom, m->events_oom_kill);
        out(&o, ",\"pressure\":{\"level\":\"%s\"", policy_level_to_string(m->level));
        if (m->have_psi) {
                jratio(&o, "some_avg10", m->psi_some_avg10_permyriad);
                jratio(&o, "full_avg10", m->psi_full_avg10_permyriad);
        }
        out(&o, "}");
        jbytes(&o, true, "gc_target_bytes", m->target_bytes);
        out(&o, ",\"cannot_fit\":%s,\"steps\":%" PRIu64, m->gave_up ? "true" : "false", m->steps_total);
        out(&o, ",\"agents_connected\":%u", m->agents_connected);
        json_agents(&o, s);
        json_decisions(&o, s);
        out(&o, "}\n");
        return o.overflow ? -ENOBUFS : (int)o.n;
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
        Out o = {.buf = buf, .size = size};

        if (size == 0)
                return -ENOBUFS;
        out(&o, "%s (memgov %d, child %d): %s, up %" PRIu64 "s\n", s->name, (int)s->memgov_pid,
            (int)s->child_pid, m->program, s->uptime_usec / USEC_PER_SEC);
        out(&o, "  cgroup:   %s\n", m->cgroup);
        if (m->have_sample) {
                out(&o, "  limits:   memory.max=%s memory.high=%s\n", size_text(m->max_bytes, a, sizeof(a)),
                    size_text(m->high_bytes, b, sizeof(b)));
                out(&o, "  memory:   current %s, peak %s (anon %s, file %s)\n",
                    size_text(m->current_bytes, a, sizeof(a)),
                    m->peak_bytes == UINT64_MAX ? "unknown" : size_text(m->peak_bytes, b, sizeof(b)),
                    size_text(m->anon_bytes, c, sizeof(c)), size_text(m->file_bytes, d, sizeof(d)));
        }
        out(&o, "  pressure: level %s", policy_level_to_string(m->level));
        if (m->have_psi)
                out(&o, ", some %u.%02u%%, full %u.%02u%% (avg10)", m->psi_some_avg10_permyriad / 100,
                    m->psi_some_avg10_permyriad % 100, m->psi_full_avg10_permyriad / 100,
                    m->psi_full_avg10_permyriad % 100);
        out(&o, "; oom kills %" PRIu64 "\n", m->events_oom_kill);
        out(&o, "  target:   %s%s\n",
            m->target_bytes == POLICY_TARGET_NONE ? "none" : size_text(m->target_bytes, a, sizeof(a)),
            m->gave_up ? " (cannot fit: no longer squeezing)" : "");
        if (s->n_agents == 0)
                out(&o, "  agents:   none connected\n");
        for (size_t i = 0; i < s->n_agents; i++) {
                const StatusAgent *ag = &s->agents[i];

                out(&o, "  agent %u:  %s %s, pid %d", ag->id, ag->runtime, ag->version, (int)ag->pid);
                if (ag->have_stats)
                        out(&o, ", total %s, live heap %s, GC CPU %u.%02u%%",
                            size_text(ag->total_bytes, a, sizeof(a)),
                            size_text(ag->heap_live_bytes, b, sizeof(b)), ag->gc_cpu_permyriad / 100,
                            ag->gc_cpu_permyriad % 100);
                out(&o, "\n");
        }
        for (size_t i = 0; i < s->n_decisions; i++) {
                const StatusDecision *dd = &s->decisions[i];

                out(&o, "  %s %" PRIu64 ".%03" PRIu64 "s %s (rule %s), level %s, target %s\n",
                    i ? "        " : "decided:", dd->t_usec / USEC_PER_SEC, dd->t_usec % USEC_PER_SEC / 1000,
                    policy_actions_format(dd->actions, acts, sizeof(acts)), policy_rule_to_string(dd->rule),
                    policy_level_to_string(dd->level),
                    dd->target_bytes == POLICY_TARGET_NONE ? "none"
                                                           : size_text(dd->target_bytes, a, sizeof(a)));
        }
        return o.overflow ? -ENOBUFS : (int)o.n;
}

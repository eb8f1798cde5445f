/* SPDX-License-Identifier: MIT */
#include "postmortem.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "units.h"

typedef struct Out {
        char *buf;
        size_t size, len;
} Out;

__attribute__((format(printf, 2, 3))) static void out(Out *o, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (o->len >= o->size)
                return;
        va_start(ap, fmt);
        n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
        va_end(ap);
        if (n > 0)
                o->len += (size_t)n < o->size - o->len ? (size_t)n : o->size - o->len - 1;
}

static const char *sz(uint64_t bytes, char *buf)
{
        return units_format_size_human(bytes, buf, UNITS_SIZE_STRLEN);
}

static uint64_t add_margin(uint64_t v)
{
        return v + v / 10;
}

uint64_t postmortem_suggested_max(const Postmortem *p)
{
        if (p->have_agent && p->heap_live_bytes > 0 && p->have_sample) {
                uint64_t unseen = p->current_bytes > p->runtime_total_bytes
                                          ? p->current_bytes - p->runtime_total_bytes
                                          : 0;
                return add_margin(p->heap_live_bytes + unseen);
        }
        if (p->peak_bytes != UINT64_MAX && p->peak_bytes > 0)
                return add_margin(p->peak_bytes);
        return 0;
}

static void advise(const Postmortem *p, Out *o)
{
        char a[UNITS_SIZE_STRLEN], b[UNITS_SIZE_STRLEN];
        uint64_t want = postmortem_suggested_max(p);

        if (p->have_agent && p->heap_live_bytes > 0) {
                out(o,
                    "what to change: the live heap alone is %s; raise %s to at least %s, or find what keeps the heap alive",
                    sz(p->heap_live_bytes, a), p->names.max, sz(want, b));
        } else if (want > 0)
                out(o,
                    "what to change: raise %s to at least %s (the peak plus 10%%), or make the program use less memory",
                    p->names.max, sz(want, a));
        else
                out(o, "what to change: raise %s, or make the program use less memory", p->names.max);
        if (p->have_sample && p->shmem_bytes > p->current_bytes / 4)
                out(o,
                    "; shmem/tmpfs holds %s of it, which counts against the limit and cannot be reclaimed without swap",
                    sz(p->shmem_bytes, a));
}

static void gc_trace(const Postmortem *p, Out *o)
{
        char a[UNITS_SIZE_STRLEN], b[UNITS_SIZE_STRLEN];

        if (p->n_gc == 0)
                return;
        out(o, "gc trace (the runtime's own view, oldest first):\n");
        for (size_t i = 0; i < p->n_gc; i++) {
                const GcCycle *c = &p->gc[i];
                uint64_t ago = p->now_usec > c->t_usec ? (p->now_usec - c->t_usec) / 1000000 : 0;
                out(o, "  -%" PRIu64 "s gc #%" PRIu64 ": heap goal %s, live heap %s, GC CPU %u.%02u%%\n",
                    ago, c->count, sz(c->heap_goal_bytes, a), sz(c->heap_live_bytes, b),
                    c->gc_cpu_permyriad / 100, c->gc_cpu_permyriad % 100);
        }
}

static void captures(const Postmortem *p, Out *o)
{
        char a[UNITS_SIZE_STRLEN];

        for (size_t i = 0; i < p->n_captures; i++) {
                const PostmortemCapture *c = &p->captures[i];
                if (c->error) {
                        out(o, "capture on %s failed: %s\n", capture_why_to_string(c->why), c->error);
                        continue;
                }
                out(o, "captured on %s: %s (%s); open with: ", capture_why_to_string(c->why), c->path,
                    sz(c->bytes, a));
                /* The command's one %s is the path. */
                const char *cmd = capture_format_open_command(c->format);
                const char *at = cmd ? strstr(cmd, "%s") : NULL;
                if (at)
                        out(o, "%.*s%s%s\n", (int)(at - cmd), cmd, c->path, at + 2);
                else
                        out(o, "%s\n", c->path);
        }
        if (p->capture_refused)
                out(o, "%s\n", p->capture_refused);
}

const char *postmortem_format(const Postmortem *p, char *buf, size_t size)
{
        char a[UNITS_SIZE_STRLEN], b[UNITS_SIZE_STRLEN], c[UNITS_SIZE_STRLEN], d[UNITS_SIZE_STRLEN],
                e[UNITS_SIZE_STRLEN];
        Out o = {buf, size, 0};

        if (size == 0)
                return buf;
        buf[0] = '\0';
        out(&o, "post-mortem: %s %s\n", p->what, p->cause);
        out(&o, "limits: %s=%s %s=%s; peak %s\n", p->names.max, sz(p->max_bytes, a), p->names.high,
            sz(p->high_bytes, b), p->peak_bytes == UINT64_MAX ? "unknown" : sz(p->peak_bytes, c));
        if (p->have_sample) {
                out(&o, "last sample (%llums before): current %s = anon %s, file %s, shmem %s, kernel %s\n",
                    (unsigned long long)(p->sample_age_usec / 1000), sz(p->current_bytes, a),
                    sz(p->anon_bytes, b), sz(p->file_bytes, c), sz(p->shmem_bytes, d),
                    sz(p->kernel_bytes, e));
                gc_trace(p, &o);
                out(&o,
                    "pressure%s: some %u.%02u%%, full %u.%02u%% (avg10); events high=%llu max=%llu oom_kill=%llu\n",
                    p->psi_system_wide ? " (system-wide)" : "", p->psi_some_avg10_permyriad / 100,
                    p->psi_some_avg10_permyriad % 100, p->psi_full_avg10_permyriad / 100,
                    p->psi_full_avg10_permyriad % 100, (unsigned long long)p->events_high,
                    (unsigned long long)p->events_max, (unsigned long long)p->events_oom_kill);
        }
        if (p->have_decision)
                out(&o, "last target: %s (level %s, rule %s)\n",
                    p->target_bytes == POLICY_TARGET_NONE ? "none" : sz(p->target_bytes, a),
                    policy_level_to_string(p->level), policy_rule_to_string(p->rule));
        if (p->have_agent)
                out(&o, "agent: runtime total %s, live heap %s, GC CPU %u.%02u%%\n",
                    sz(p->runtime_total_bytes, a), sz(p->heap_live_bytes, b), p->gc_cpu_permyriad / 100,
                    p->gc_cpu_permyriad % 100);
        else
                out(&o, "agent: none connected (the runtime's own view is unknown)\n");
        captures(p, &o);
        advise(p, &o);
        return buf;
}

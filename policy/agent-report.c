/* SPDX-License-Identifier: MIT */
#include "agent-report.h"

#include <errno.h>
#include <stdio.h>

static int bad(const char **reason, const char *why)
{
        *reason = why;
        return -EBADMSG;
}

static void copy_text(char *dst, size_t size, const char *src)
{
        snprintf(dst, size, "%s", src ? src : "");
}

int agent_report_hello(AgentReport *a, const ProtoMessage *m, bool take_pid, uint64_t *ret_version,
                       const char **reason)
{
        const char *runtime = proto_get(m, "runtime");
        uint64_t v, pid;
        int r;

        if (proto_get_u64(m, "v", &v) < 0 || v == 0)
                return bad(reason, "hello without a valid v=");
        if (!runtime || !*runtime)
                return bad(reason, "hello without runtime=");
        r = proto_get_u64(m, "pid", &pid);
        if (r < 0 && r != -ENOENT)
                return bad(reason, "bad pid= in hello");
        if (r == 0 && take_pid && pid <= INT32_MAX)
                a->pid = (pid_t)pid;
        copy_text(a->runtime, sizeof(a->runtime), runtime);
        copy_text(a->version, sizeof(a->version), proto_get(m, "version"));
        a->can_capture = proto_list_has(m, "caps", "capture");
        a->can_arm = a->can_capture && proto_list_has(m, "caps", "arm");
        *ret_version = v;
        return 0;
}

static int stats_get_u64(const ProtoMessage *m, const char *key, uint64_t *field, const char **reason)
{
        int r = proto_get_u64(m, key, field);

        if (r == -ENOENT || r == 0)
                return 0;
        return bad(reason, "bad number in stats");
}

int agent_report_stats(AgentReport *a, const ProtoMessage *m, const char **reason)
{
        AgentReport next = *a;
        int r;

        if ((r = stats_get_u64(m, "total_bytes", &next.total_bytes, reason)) < 0 ||
            (r = stats_get_u64(m, "heap_live_bytes", &next.heap_live_bytes, reason)) < 0 ||
            (r = stats_get_u64(m, "gc_count", &next.gc_count, reason)) < 0)
                return r;
        r = proto_get_fraction(m, "gc_cpu_fraction", &next.gc_cpu_fraction);
        if (r < 0 && r != -ENOENT)
                return bad(reason, "bad fraction in gc_cpu_fraction");
        if (proto_get(m, "total_bytes"))
                next.have_stats = true;
        *a = next;
        return 0;
}

int agent_report_applied(AgentReport *a, const ProtoMessage *m, usec_t now_usec, uint64_t *ret_seq,
                         const char **reason)
{
        uint64_t seq, limit, at = 0;
        int r, s;

        if (proto_get_u64(m, "seq", &seq) < 0)
                return bad(reason, "applied without a valid seq=");
        r = proto_get_limit(m, "limit_bytes", &limit);
        if (r < 0 && r != -ENOENT)
                return bad(reason, "bad limit_bytes= in applied");
        s = proto_get_u64(m, "at_us", &at);
        if (s < 0 && s != -ENOENT)
                return bad(reason, "bad at_us= in applied");
        a->last_applied_seq = seq;
        if (r == 0)
                a->applied_limit_bytes = limit;
        if (seq == a->target_seq) {
                a->applied_stamped = s == 0 && at >= a->target_sent_usec && at <= now_usec;
                a->applied_usec = a->applied_stamped ? at : now_usec;
                a->acked_usec = now_usec;
        }
        *ret_seq = seq;
        return 0;
}

void agent_report_target_sent(AgentReport *a, uint64_t seq, uint64_t bytes, usec_t now_usec)
{
        a->target_seq = seq;
        a->target_bytes = bytes;
        a->target_sent_usec = now_usec;
        a->applied_usec = a->acked_usec = 0;
        a->applied_stamped = false;
}

bool agent_report_applied_in(const AgentReport *a, uint64_t seq, usec_t *ret_usec, usec_t *ret_acked_usec)
{
        /* applied_usec lies between the send and acked_usec (agent_report_applied()). */
        if (seq != a->target_seq || a->acked_usec == 0 || a->acked_usec < a->target_sent_usec)
                return false;
        *ret_usec = a->applied_usec - a->target_sent_usec;
        if (ret_acked_usec)
                *ret_acked_usec = a->acked_usec - a->target_sent_usec;
        return true;
}

/* 256 TiB: a peer reporting absurd numbers cannot overflow the sum of the weights. */
#define WEIGHT_MAX (UINT64_C(1) << 48)

uint64_t agent_report_weight(const AgentReport *a)
{
        return a->total_bytes == 0 ? 1 : a->total_bytes > WEIGHT_MAX ? WEIGHT_MAX : a->total_bytes;
}

uint64_t agent_share(uint64_t total_bytes, uint64_t weight, uint64_t weight_sum)
{
        if (total_bytes == PROTO_LIMIT_NONE)
                return PROTO_LIMIT_NONE;
        if (weight_sum == 0 || weight >= weight_sum)
                return total_bytes;
                /* Without overflow where the compiler has 128-bit integers (close enough elsewhere). */
#ifdef __SIZEOF_INT128__
        return (uint64_t)((unsigned __int128)total_bytes * weight / weight_sum);
#else
        return (uint64_t)((long double)total_bytes * weight / weight_sum);
#endif
}

void agent_reports_sample(const AgentReport *agents, size_t n, PolicySample *ps)
{
        for (size_t i = 0; i < n; i++) {
                uint32_t gc;

                if (!agents[i].have_stats)
                        continue;
                ps->agent_present = true;
                ps->runtime_total_bytes += agents[i].total_bytes;
                /* The latest reading is the largest while memory grows: the conservative one. */
                if (agents[i].charged_at_stats_bytes > ps->charged_at_stats_bytes)
                        ps->charged_at_stats_bytes = agents[i].charged_at_stats_bytes;
                ps->heap_live_bytes += agents[i].heap_live_bytes;
                gc = (uint32_t)(agents[i].gc_cpu_fraction * 10000.0 + 0.5);
                if (gc > ps->gc_cpu_permyriad)
                        ps->gc_cpu_permyriad = gc > 10000 ? 10000 : gc;
        }
}

bool agent_decision_target(const PolicyDecision *d, uint64_t *ret_bytes, ProtoLevel *ret_level)
{
        if (!(d->actions & (POLICY_ACTION_LOWER_TARGET | POLICY_ACTION_RAISE_TARGET)) && !d->level_changed)
                return false;
        *ret_bytes = d->target_bytes == POLICY_TARGET_NONE ? PROTO_LIMIT_NONE : d->target_bytes;
        *ret_level = (ProtoLevel)d->level; /* the same three levels, in the same order */
        return true;
}

size_t agent_decision_requests(const PolicyDecision *d, ProtoRequest ret[AGENT_REQUESTS_MAX])
{
        size_t n = 0;

        if (d->refresh_stats)
                ret[n++] = PROTO_REQUEST_STATS;
        if (d->actions & POLICY_ACTION_GC)
                ret[n++] = PROTO_REQUEST_GC;
        if (d->actions & POLICY_ACTION_RELEASE)
                ret[n++] = PROTO_REQUEST_RELEASE;
        if (d->actions & POLICY_ACTION_SHED)
                ret[n++] = PROTO_REQUEST_SHED;
        return n;
}

/* SPDX-License-Identifier: MIT */
#include "trace-format.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "outbuf.h"

/* ,"name":123 or ,"name":null for UINT64_MAX (no limit, no target, unknown). */
static void field_bytes(OutBuf *o, const char *name, uint64_t v)
{
        if (v == UINT64_MAX)
                outbuf_append(o, ",\"%s\":null", name);
        else
                outbuf_append(o, ",\"%s\":%" PRIu64, name, v);
}

static void field_ratio(OutBuf *o, const char *name, uint32_t permyriad)
{
        outbuf_append(o, ",\"%s\":%" PRIu32 ".%04" PRIu32, name, permyriad / 10000, permyriad % 10000);
}

static void begin(OutBuf *o, const char *type, usec_t t_usec)
{
        outbuf_append(o, "{\"type\":\"%s\",\"t\":%" PRIu64 ".%06" PRIu64, type, t_usec / USEC_PER_SEC,
                      t_usec % USEC_PER_SEC);
}

const char *trace_escape_json(const char *s, char *buf, size_t size)
{
        size_t n = 0;

        if (size == 0)
                return buf;
        for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
                char esc[8];
                size_t len;

                if (*p == '"' || *p == '\\')
                        len = (size_t)snprintf(esc, sizeof(esc), "\\%c", *p);
                else if (*p < 0x20)
                        len = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", *p);
                else
                        len = (size_t)snprintf(esc, sizeof(esc), "%c", *p);
                if (n + len >= size)
                        break;
                memcpy(buf + n, esc, len);
                n += len;
        }
        buf[n] = '\0';
        return buf;
}

int trace_format_start(usec_t t_usec, const char *program, const char *cgroup, const MemoryLimits *limits,
                       char *buf, size_t size)
{
        char p[256], c[512];
        OutBuf o = {.buf = buf, .size = size};

        if (size == 0)
                return -ENOBUFS;
        begin(&o, "start", t_usec);
        outbuf_append(&o, ",\"program\":\"%s\",\"cgroup\":\"%s\"", trace_escape_json(program, p, sizeof(p)),
                      trace_escape_json(cgroup, c, sizeof(c)));
        field_bytes(&o, "max", limits->max_bytes);
        field_bytes(&o, "high", limits->high_bytes);
        outbuf_append(&o, "}");
        return outbuf_done(&o);
}

int trace_format_sample(usec_t t_usec, const char *on, const PolicySample *x, uint64_t peak_bytes,
                        const PolicyDecision *d, char *buf, size_t size)
{
        char why[64];
        OutBuf o = {.buf = buf, .size = size};

        if (size == 0)
                return -ENOBUFS;
        begin(&o, "sample", t_usec);
        outbuf_append(&o, ",\"on\":\"%s\"", trace_escape_json(on, why, sizeof(why)));
        field_bytes(&o, "current", x->current_bytes);
        field_bytes(&o, "peak", peak_bytes);
        field_bytes(&o, "max", x->limits.max_bytes);
        field_bytes(&o, "high", x->limits.high_bytes);
        field_bytes(&o, "anon", x->anon_bytes);
        field_bytes(&o, "file", x->file_bytes);
        field_bytes(&o, "shmem", x->shmem_bytes);
        field_bytes(&o, "kernel", x->kernel_bytes);
        field_ratio(&o, "psi_some", x->psi_some_avg10_permyriad);
        field_ratio(&o, "psi_full", x->psi_full_avg10_permyriad);
        if (x->agent_present) {
                field_bytes(&o, "runtime_total", x->runtime_total_bytes);
                field_bytes(&o, "heap_live", x->heap_live_bytes);
                field_ratio(&o, "gc_cpu", x->gc_cpu_permyriad);
        }
        field_bytes(&o, "target", d->target_bytes);
        outbuf_append(&o, ",\"level\":\"%s\"}", policy_level_to_string(d->level));
        return outbuf_done(&o);
}

int trace_format_decision(usec_t t_usec, const PolicyDecision *d, char *buf, size_t size)
{
        OutBuf o = {.buf = buf, .size = size};
        bool first = true;

        if (size == 0)
                return -ENOBUFS;
        begin(&o, "decision", t_usec);
        outbuf_append(&o, ",\"rule\":\"%s\",\"level\":\"%s\",\"level_changed\":%s,\"actions\":[",
                      policy_rule_to_string(d->rule), policy_level_to_string(d->level),
                      d->level_changed ? "true" : "false");
        for (unsigned i = 0; i < _POLICY_ACTION_COUNT; i++) {
                if (!(d->actions & (1u << i)))
                        continue;
                outbuf_append(&o, "%s\"%s\"", first ? "" : ",",
                              policy_action_to_string((PolicyAction)(1u << i)));
                first = false;
        }
        outbuf_append(&o, "]");
        field_bytes(&o, "target", d->target_bytes);
        field_bytes(&o, "limit", d->limit_bytes);
        field_bytes(&o, "unseen", d->unseen_bytes);
        field_bytes(&o, "slack", d->slack_bytes);
        field_bytes(&o, "freeable", d->freeable_bytes);
        field_bytes(&o, "headroom", d->headroom_bytes);
        field_bytes(&o, "ideal", d->ideal_bytes);
        field_bytes(&o, "floor", d->floor_bytes);
        if (d->actions & POLICY_ACTION_RECLAIM)
                field_bytes(&o, "reclaim", d->reclaim_bytes);
        if (d->actions & POLICY_ACTION_SET_HIGH)
                field_bytes(&o, "memory_high", d->memory_high_bytes);
        outbuf_append(&o, "}");
        return outbuf_done(&o);
}

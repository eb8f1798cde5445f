/* SPDX-License-Identifier: MIT */
#include "metrics-format.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "outbuf.h"

static void head(OutBuf *o, const char *name, const char *type, const char *help)
{
        outbuf_append(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A help text that names a reading as the platform calls it (MetricsSnapshot.names): before, it, after. */
static void head_of(OutBuf *o, const char *name, const char *type, const char *before, const char *reading,
                    const char *after)
{
        outbuf_append(o, "# HELP %s %s%s%s\n# TYPE %s %s\n", name, before, reading, after, name, type);
}

/* A byte count, where UINT64_MAX is the kernel's "max". */
static void bytes_value(OutBuf *o, uint64_t v)
{
        if (v == UINT64_MAX)
                outbuf_append(o, "+Inf\n");
        else
                outbuf_append(o, "%" PRIu64 "\n", v);
}

static void gauge_bytes(OutBuf *o, const char *name, const char *help, uint64_t v)
{
        head(o, name, "gauge", help);
        outbuf_append(o, "%s ", name);
        bytes_value(o, v);
}

static void gauge_bytes_of(OutBuf *o, const char *name, const char *reading, const char *rest, uint64_t v)
{
        head_of(o, name, "gauge", "", reading, rest);
        outbuf_append(o, "%s ", name);
        bytes_value(o, v);
}

/* permyriad as a ratio with all four digits: 1234 -> 0.1234. */
static void ratio_value(OutBuf *o, uint32_t permyriad)
{
        outbuf_append(o, "%" PRIu32 ".%04" PRIu32 "\n", permyriad / 10000, permyriad % 10000);
}

/* usec as seconds, exactly. */
static void seconds_value(OutBuf *o, uint64_t usec)
{
        outbuf_append(o, "%" PRIu64 ".%06" PRIu64 "\n", usec / 1000000, usec % 1000000);
}

const char *metrics_escape_label(const char *value, char *buf, size_t size)
{
        size_t n = 0;

        if (size == 0)
                return buf;
        for (const char *p = value ? value : ""; *p; p++) {
                const char *esc = *p == '\\' ? "\\\\" : *p == '"' ? "\\\"" : *p == '\n' ? "\\n" : NULL;
                size_t len = esc ? 2 : 1;

                if (n + len >= size)
                        break;
                if (esc)
                        memcpy(buf + n, esc, 2);
                else
                        buf[n] = *p;
                n += len;
        }
        buf[n] = '\0';
        return buf;
}

static void format_info(OutBuf *o, const MetricsSnapshot *m)
{
        char program[256], cgroup[512], version[64];

        head(o, "memgov_info", "gauge", "The governed program and its cgroup; always 1.");
        outbuf_append(o, "memgov_info{version=\"%s\",program=\"%s\",cgroup=\"%s\"} 1\n",
                      metrics_escape_label(m->version, version, sizeof(version)),
                      metrics_escape_label(m->program, program, sizeof(program)),
                      metrics_escape_label(m->cgroup, cgroup, sizeof(cgroup)));
        head(o, "memgov_start_time_seconds", "gauge", "When memgov started, in seconds since the epoch.");
        outbuf_append(o, "memgov_start_time_seconds ");
        seconds_value(o, m->start_time_usec);
}

static void format_memory(OutBuf *o, const MetricsSnapshot *m)
{
        static const char *const stat_names[] = {"anon", "file", "shmem", "kernel"};
        static const char *const event_names[] = {"high", "max", "oom", "oom_kill"};
        const uint64_t stat[] = {m->anon_bytes, m->file_bytes, m->shmem_bytes, m->kernel_bytes};
        const uint64_t events[] = {m->events_high, m->events_max, m->events_oom, m->events_oom_kill};
        const SandboxNames *n = &m->names;

        gauge_bytes_of(o, "memgov_memory_current_bytes", n->current, " of the governed group.",
                       m->current_bytes);
        if (m->peak_bytes != UINT64_MAX)
                gauge_bytes_of(o, "memgov_memory_peak_bytes", n->peak, " of the governed group.",
                               m->peak_bytes);
        gauge_bytes_of(o, "memgov_memory_max_bytes", n->max, " in force (+Inf: max).", m->max_bytes);
        gauge_bytes_of(o, "memgov_memory_high_bytes", n->high, " in force (+Inf: max).", m->high_bytes);
        head_of(o, "memgov_memory_stat_bytes", "gauge", "What fills the group, from ", n->stat,
                " (file includes shmem).");
        for (size_t i = 0; i < ELEMENTSOF(stat); i++)
                outbuf_append(o, "memgov_memory_stat_bytes{type=\"%s\"} %" PRIu64 "\n", stat_names[i],
                              stat[i]);
        head_of(o, "memgov_memory_events_total", "counter", "", n->events, " of the governed group.");
        for (size_t i = 0; i < ELEMENTSOF(events); i++)
                outbuf_append(o, "memgov_memory_events_total{event=\"%s\"} %" PRIu64 "\n", event_names[i],
                              events[i]);
        head(o, "memgov_oom_kills_total", "counter", "Processes the kernel OOM-killed in the group.");
        outbuf_append(o, "memgov_oom_kills_total %" PRIu64 "\n", m->events_oom_kill);
}

static void format_pressure(OutBuf *o, const MetricsSnapshot *m)
{
        if (!m->have_psi)
                return;
        head(o, "memgov_pressure_avg10_ratio", "gauge",
             "Memory pressure on the group (PSI avg10), as a ratio of wall time.");
        outbuf_append(o, "memgov_pressure_avg10_ratio{kind=\"some\"} ");
        ratio_value(o, m->psi_some_avg10_permyriad);
        outbuf_append(o, "memgov_pressure_avg10_ratio{kind=\"full\"} ");
        ratio_value(o, m->psi_full_avg10_permyriad);
        head(o, "memgov_pressure_stall_seconds_total", "counter",
             "Time the group's tasks stalled on memory (PSI total).");
        outbuf_append(o, "memgov_pressure_stall_seconds_total{kind=\"some\"} ");
        seconds_value(o, m->psi_some_total_usec);
        outbuf_append(o, "memgov_pressure_stall_seconds_total{kind=\"full\"} ");
        seconds_value(o, m->psi_full_total_usec);
}

static void format_law(OutBuf *o, const MetricsSnapshot *m)
{
        head(o, "memgov_steps_total", "counter", "Samples the control law has decided on.");
        outbuf_append(o, "memgov_steps_total %" PRIu64 "\n", m->steps_total);
        head(o, "memgov_decisions_total", "counter", "Actions the control law took, by action.");
        for (unsigned i = 0; i < _POLICY_ACTION_COUNT; i++)
                outbuf_append(o, "memgov_decisions_total{action=\"%s\"} %" PRIu64 "\n",
                              policy_action_to_string((PolicyAction)(1u << i)), m->decisions_total[i]);
        if (m->target_bytes != POLICY_TARGET_NONE)
                gauge_bytes(o, "memgov_gc_target_bytes", "The GC target sent to the agents.",
                            m->target_bytes);
        head(o, "memgov_pressure_level", "gauge", "The law's pressure level: 1 for the current one.");
        for (int l = 0; l < _POLICY_LEVEL_MAX; l++)
                outbuf_append(o, "memgov_pressure_level{level=\"%s\"} %d\n",
                              policy_level_to_string((PolicyLevel)l), (PolicyLevel)l == m->level);
        head(o, "memgov_cannot_fit", "gauge", "1 once memgov reported that the program cannot fit.");
        outbuf_append(o, "memgov_cannot_fit %d\n", m->gave_up);
}

static void format_agents(OutBuf *o, const MetricsSnapshot *m)
{
        head(o, "memgov_agents_connected", "gauge", "Agents connected from inside the child.");
        outbuf_append(o, "memgov_agents_connected %u\n", m->agents_connected);
        if (!m->have_agent_stats)
                return;
        gauge_bytes(o, "memgov_agent_runtime_bytes", "Memory the runtimes report (summed over agents).",
                    m->runtime_total_bytes);
        gauge_bytes(o, "memgov_agent_heap_live_bytes", "Live heap after the last GC (summed over agents).",
                    m->heap_live_bytes);
        head(o, "memgov_agent_gc_cpu_ratio", "gauge", "Share of CPU spent in GC (the worst agent).");
        outbuf_append(o, "memgov_agent_gc_cpu_ratio ");
        ratio_value(o, m->gc_cpu_permyriad);
}

int metrics_format(const MetricsSnapshot *m, char *buf, size_t size)
{
        OutBuf o = {.buf = buf, .size = size};

        if (size == 0)
                return -ENOBUFS;
        buf[0] = '\0';
        format_info(&o, m);
        if (m->have_sample) {
                format_memory(&o, m);
                format_pressure(&o, m);
        }
        format_law(&o, m);
        format_agents(&o, m);
        return outbuf_done(&o);
}

static bool ipv4_loopback(const uint8_t a[4])
{
        return a[0] == 127;
}

int metrics_parse_listen(const char *text, int *ret_family, uint8_t ret_addr[16], uint16_t *ret_port)
{
        char host[64];
        const char *colon, *port_text;
        uint8_t addr[16] = {};
        int family;
        char *end;
        unsigned long port;

        if (!text || !*text)
                return -EINVAL;
        if (text[0] == '[') {
                const char *close = strchr(text, ']');
                if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof(host))
                        return -EINVAL;
                memcpy(host, text + 1, (size_t)(close - text - 1));
                host[close - text - 1] = '\0';
                port_text = close + 2;
                family = AF_INET6;
        } else {
                colon = strrchr(text, ':');
                if (!colon || (size_t)(colon - text) >= sizeof(host) || strchr(text, ':') != colon)
                        return -EINVAL;
                memcpy(host, text, (size_t)(colon - text));
                host[colon - text] = '\0';
                port_text = colon + 1;
                family = AF_INET;
        }
        if (family == AF_INET && strcmp(host, "localhost") == 0)
                inet_pton(AF_INET, "127.0.0.1", addr);
        else if (inet_pton(family, host, addr) != 1)
                return -EINVAL;
        if (!*port_text || strspn(port_text, "0123456789") != strlen(port_text))
                return -EINVAL;
        errno = 0;
        port = strtoul(port_text, &end, 10);
        if (errno != 0 || port == 0 || port > 65535)
                return -ERANGE;
        if (family == AF_INET ? !ipv4_loopback(addr) : memcmp(addr, &in6addr_loopback, 16) != 0)
                return -EADDRNOTAVAIL;
        *ret_family = family;
        memcpy(ret_addr, addr, 16);
        *ret_port = (uint16_t)port;
        return 0;
}

const char *metrics_listen_error(int r)
{
        switch (r) {
        case -EADDRNOTAVAIL:
                return "not a loopback address; the metrics endpoint has no authentication, so it listens only on 127.0.0.1, another 127.x.y.z address, [::1] or localhost (put a proxy in front to expose it)";
        case -ERANGE:
                return "the port must be 1 to 65535";
        default:
                return "expected ADDRESS:PORT, such as 127.0.0.1:9464 or [::1]:9464";
        }
}

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * memgov's state as Prometheus text exposition (format 0.0.4), for
 * node_exporter's textfile collector and the loopback /metrics endpoint; and
 * the --metrics-listen address, which must be loopback. Pure: the governor
 * fills the snapshot, this writes the text.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "law.h"
#include "sandbox-names.h"

typedef struct MetricsSnapshot {
        const char *program; /* labels of memgov_info; escaped here */
        const char *cgroup;
        const char *version;
        uint64_t start_time_usec; /* CLOCK_REALTIME at start: memgov_start_time_seconds */
        SandboxNames names;       /* what the HELP lines call the readings */
        /* The group, as last sampled. UINT64_MAX: "max" (+Inf) or, for the peak, unknown (omitted). */
        bool have_sample;
        uint64_t current_bytes, peak_bytes, max_bytes, high_bytes;
        uint64_t anon_bytes, file_bytes, shmem_bytes, kernel_bytes;
        uint64_t events_high, events_max, events_oom, events_oom_kill;
        bool have_psi;
        uint32_t psi_some_avg10_permyriad, psi_full_avg10_permyriad;
        uint64_t psi_some_total_usec, psi_full_total_usec;
        /* The law. */
        uint64_t steps_total;
        uint64_t decisions_total[_POLICY_ACTION_COUNT]; /* by action bit, 1u << i */
        uint64_t target_bytes;                          /* POLICY_TARGET_NONE: omitted */
        PolicyLevel level;
        bool gave_up; /* "cannot fit" was reported */
        /* The agents. */
        unsigned agents_connected;
        bool have_agent_stats;
        uint64_t runtime_total_bytes, heap_live_bytes;
        uint32_t gc_cpu_permyriad;
} MetricsSnapshot;

/* Writes the exposition into buf. Returns its length, or -ENOBUFS when size is too small. */
int metrics_format(const MetricsSnapshot *m, char *buf, size_t size);
#define METRICS_STRLEN 8192

/* A label value with \, " and newline escaped, as the text format wants. Truncates at size. */
const char *metrics_escape_label(const char *value, char *buf, size_t size);

/*
 * Parses --metrics-listen: "127.0.0.1:PORT" (any 127.0.0.0/8 address),
 * "[::1]:PORT" or "localhost:PORT". *ret_family is AF_INET or AF_INET6,
 * ret_addr gets 4 or 16 bytes in network order, *ret_port 1..65535.
 * -EINVAL: not ADDR:PORT; -EADDRNOTAVAIL: a valid address that is not
 * loopback; -ERANGE: a bad port.
 */
int metrics_parse_listen(const char *text, int *ret_family, uint8_t ret_addr[16], uint16_t *ret_port);
const char *metrics_listen_error(int r);

/* SPDX-License-Identifier: MIT */
/* The Prometheus exposition and the --metrics-listen parser. With --print, writes a full exposition to
 * stdout instead, for `promtool check metrics` (unit/metrics-promtool). */
#include <arpa/inet.h>
#include <errno.h>

#include "../../policy/metrics-format.h"
#include "check.h"

#define M (UINT64_C(1) << 20)

static MetricsSnapshot full(void)
{
        MetricsSnapshot m = {
                .program = "./ser\"ver\\x\n",
                .cgroup = "/sys/fs/cgroup/memgov-server-42",
                .version = "0.1.0",
                .start_time_usec = UINT64_C(1700000000123456),
                .names = {.max = "memory.max", /* Linux's; platform_name() */
                          .high = "memory.high",
                          .current = "memory.current",
                          .peak = "memory.peak",
                          .stat = "memory.stat",
                          .events = "memory.events"},
                .have_sample = true,
                .current_bytes = 200 * M,
                .peak_bytes = 240 * M,
                .max_bytes = 256 * M,
                .high_bytes = UINT64_MAX,
                .anon_bytes = 180 * M,
                .file_bytes = 15 * M,
                .shmem_bytes = 1 * M,
                .kernel_bytes = 4 * M,
                .events_high = 3,
                .events_max = 2,
                .events_oom = 1,
                .events_oom_kill = 1,
                .have_psi = true,
                .psi_some_avg10_permyriad = 1234,
                .psi_full_avg10_permyriad = 5,
                .psi_some_total_usec = 2500001,
                .psi_full_total_usec = 7,
                .steps_total = 42,
                .target_bytes = 190 * M,
                .level = POLICY_LEVEL_ELEVATED,
                .agents_connected = 1,
                .have_agent_stats = true,
                .runtime_total_bytes = 170 * M,
                .heap_live_bytes = 120 * M,
                .gc_cpu_permyriad = 250,
        };
        m.decisions_total[0] = 5; /* lower-target */
        m.decisions_total[2] = 2; /* gc */
        return m;
}

static void check_format(void)
{
        char buf[METRICS_STRLEN];
        MetricsSnapshot m = full();
        int n = metrics_format(&m, buf, sizeof(buf));

        CHECK(n > 0 && (size_t)n == strlen(buf), "length %d", n);
        CHECK(strstr(buf, "\nmemgov_memory_current_bytes 209715200\n"), "%s", buf);
        CHECK(strstr(buf, "\nmemgov_memory_peak_bytes 251658240\n"), "%s", buf);
        CHECK(strstr(buf, "\nmemgov_memory_max_bytes 268435456\n"), "%s", buf);
        CHECK(strstr(buf, "\nmemgov_memory_high_bytes +Inf\n"), "max is +Inf: %s", buf);
        CHECK(strstr(buf, "\nmemgov_memory_stat_bytes{type=\"shmem\"} 1048576\n"), "%s", buf);
        CHECK(strstr(buf, "\nmemgov_oom_kills_total 1\n"), "%s", buf);
        CHECK(strstr(buf, "\nmemgov_memory_events_total{event=\"oom_kill\"} 1\n"), "%s", buf);
        CHECK(strstr(buf, "\nmemgov_pressure_avg10_ratio{kind=\"some\"} 0.1234\n"), "%s", buf);
        CHECK(strstr(buf, "\nmemgov_pressure_avg10_ratio{kind=\"full\"} 0.0005\n"), "%s", buf);
        CHECK(strstr(buf, "\nmemgov_pressure_stall_seconds_total{kind=\"some\"} 2.500001\n"), "%s", buf);
        CHECK(strstr(buf, "\nmemgov_decisions_total{action=\"lower-target\"} 5\n"), "%s", buf);
        CHECK(strstr(buf, "\nmemgov_decisions_total{action=\"gc\"} 2\n"), "%s", buf);
        CHECK(strstr(buf, "\nmemgov_decisions_total{action=\"set-high\"} 0\n"), "every action, even 0: %s",
              buf);
        CHECK(strstr(buf, "\nmemgov_gc_target_bytes 199229440\n"), "%s", buf);
        CHECK(strstr(buf, "\nmemgov_pressure_level{level=\"elevated\"} 1\n"), "%s", buf);
        CHECK(strstr(buf, "\nmemgov_pressure_level{level=\"ok\"} 0\n"), "%s", buf);
        CHECK(strstr(buf, "\nmemgov_agents_connected 1\n"), "%s", buf);
        CHECK(strstr(buf, "\nmemgov_agent_gc_cpu_ratio 0.0250\n"), "%s", buf);
        CHECK(strstr(buf, "program=\"./ser\\\"ver\\\\x\\n\""), "label escaped: %s", buf);
        CHECK(strstr(buf, "\nmemgov_start_time_seconds 1700000000.123456\n"), "%s", buf);
        CHECK(strstr(buf, "# TYPE memgov_oom_kills_total counter\n"), "%s", buf);
        CHECK(strstr(buf, "# HELP memgov_memory_current_bytes memory.current of the governed group.\n"),
              "%s", buf);
        CHECK(strstr(buf, "# HELP memgov_memory_max_bytes memory.max in force (+Inf: max).\n"), "%s", buf);
        CHECK(strstr(buf,
                     "# HELP memgov_memory_stat_bytes What fills the group, from memory.stat (file includes shmem).\n"),
              "%s", buf);
        CHECK(strstr(buf, "# HELP memgov_memory_events_total memory.events of the governed group.\n"), "%s",
              buf);

        /* The HELP lines go by the platform's names: a Job Object's on Windows. */
        m.names = (SandboxNames){.max = "JobMemoryLimit",
                                 .high = "notification limit",
                                 .current = "committed memory",
                                 .peak = "PeakJobMemoryUsed",
                                 .stat = "process memory counters",
                                 .events = "job messages"};
        n = metrics_format(&m, buf, sizeof(buf));
        CHECK(n > 0, "%d", n);
        CHECK(strstr(buf, "# HELP memgov_memory_peak_bytes PeakJobMemoryUsed of the governed group.\n"),
              "%s", buf);
        CHECK(strstr(buf, "# HELP memgov_memory_high_bytes notification limit in force (+Inf: max).\n"),
              "%s", buf);
        CHECK(!strstr(buf, "memory."), "%s", buf);
        m = full();

        /* What is unknown is left out, not reported as 0. */
        m.peak_bytes = UINT64_MAX;
        m.target_bytes = POLICY_TARGET_NONE;
        m.have_psi = false;
        m.have_agent_stats = false;
        m.agents_connected = 0;
        n = metrics_format(&m, buf, sizeof(buf));
        CHECK(n > 0, "%d", n);
        CHECK(!strstr(buf, "memgov_memory_peak_bytes"), "no peak: %s", buf);
        CHECK(!strstr(buf, "memgov_gc_target_bytes"), "no target: %s", buf);
        CHECK(!strstr(buf, "memgov_pressure_avg10_ratio"), "no psi: %s", buf);
        CHECK(!strstr(buf, "memgov_agent_heap_live_bytes"), "no agent stats: %s", buf);
        CHECK(strstr(buf, "\nmemgov_agents_connected 0\n"), "%s", buf);

        /* Before the first sample: the law's counters only. */
        m.have_sample = false;
        n = metrics_format(&m, buf, sizeof(buf));
        CHECK(n > 0 && !strstr(buf, "memgov_memory_current_bytes"), "%s", buf);

        /* Too small a buffer is an error, never a cut exposition. */
        m = full();
        CHECK(metrics_format(&m, buf, 100) == -ENOBUFS, "small buffer");
        CHECK(metrics_format(&m, buf, 0) == -ENOBUFS, "no buffer");
}

static void check_escape(void)
{
        char buf[8];

        CHECK(strcmp(metrics_escape_label("a\"b", buf, sizeof(buf)), "a\\\"b") == 0, "%s", buf);
        /* An escape is never cut in half. */
        CHECK(strcmp(metrics_escape_label("abcdef\\", buf, sizeof(buf)), "abcdef") == 0, "%s", buf);
        CHECK(strcmp(metrics_escape_label(NULL, buf, sizeof(buf)), "") == 0, "%s", buf);
}

static void check_listen(void)
{
        static const struct {
                const char *text;
                int r, family;
                uint16_t port;
        } rows[] = {
                {"127.0.0.1:9464", 0, AF_INET, 9464},
                {"127.1.2.3:1", 0, AF_INET, 1},
                {"localhost:65535", 0, AF_INET, 65535},
                {"[::1]:9464", 0, AF_INET6, 9464},
                {"0.0.0.0:9464", -EADDRNOTAVAIL, 0, 0},
                {"10.0.0.1:9464", -EADDRNOTAVAIL, 0, 0},
                {"[::]:9464", -EADDRNOTAVAIL, 0, 0},
                {"127.0.0.1:0", -ERANGE, 0, 0},
                {"127.0.0.1:65536", -ERANGE, 0, 0},
                {"127.0.0.1:", -EINVAL, 0, 0},
                {"127.0.0.1:9x", -EINVAL, 0, 0},
                {"127.0.0.1:-1", -EINVAL, 0, 0},
                {"9464", -EINVAL, 0, 0},
                {"example.com:9464", -EINVAL, 0, 0},
                {"::1:9464", -EINVAL, 0, 0},
                {"[::1]9464", -EINVAL, 0, 0},
                {"", -EINVAL, 0, 0},
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                uint8_t addr[16];
                uint16_t port = 0;
                int family = 0;
                int r = metrics_parse_listen(rows[i].text, &family, addr, &port);

                CHECK(r == rows[i].r, "'%s': got %d, want %d", rows[i].text, r, rows[i].r);
                if (r == 0)
                        CHECK(family == rows[i].family && port == rows[i].port, "'%s': family %d port %u",
                              rows[i].text, family, port);
        }
        CHECK(strstr(metrics_listen_error(-EADDRNOTAVAIL), "loopback"), "the error names why");
}

int main(int argc, char *argv[])
{
        if (argc > 1 && strcmp(argv[1], "--print") == 0) {
                char buf[METRICS_STRLEN];
                MetricsSnapshot m = full();

                m.program = "./server";
                if (metrics_format(&m, buf, sizeof(buf)) < 0)
                        return 1;
                fputs(buf, stdout);
                return 0;
        }
        check_format();
        check_escape();
        check_listen();
        return check_finish("test-metrics");
}

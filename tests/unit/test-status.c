/* SPDX-License-Identifier: MIT */
/* `memgov status`, as text and JSON. With --print, writes the JSON to stdout for a parser
 * (unit/status-json). */
#include <errno.h>

#include "../../policy/status-format.h"
#include "check.h"

#define M (UINT64_C(1) << 20)

static StatusSnapshot snapshot(void)
{
        StatusSnapshot s = {
                .memgov_pid = 100,
                .child_pid = 101,
                .name = "memgov-server-100",
                .uptime_usec = 61500000,
                .m =
                        {
                                .program = "./server",
                                .cgroup = "/sys/fs/cgroup/memgov-server-100",
                                .names = {.max = "memory.max", .high = "memory.high"}, /* Linux's */
                                .have_sample = true,
                                .current_bytes = 200 * M,
                                .peak_bytes = 220 * M,
                                .max_bytes = 256 * M,
                                .high_bytes = UINT64_MAX,
                                .anon_bytes = 190 * M,
                                .file_bytes = 6 * M,
                                .have_psi = true,
                                .psi_some_avg10_permyriad = 250,
                                .events_oom_kill = 0,
                                .steps_total = 60,
                                .target_bytes = 180 * M,
                                .level = POLICY_LEVEL_OK,
                                .agents_connected = 1,
                        },
                .n_agents = 1,
                .agents = {{.id = 1,
                            .pid = 101,
                            .runtime = "go",
                            .version = "go1.22",
                            .have_stats = true,
                            .total_bytes = 150 * M,
                            .heap_live_bytes = 90 * M,
                            .gc_count = 12,
                            .gc_cpu_permyriad = 300,
                            .target_bytes = 180 * M,
                            .applied_limit_bytes = UINT64_MAX}},
                .n_decisions = 2,
                .decisions = {{.t_usec = 2000000,
                               .rule = POLICY_RULE_TARGET_INITIAL,
                               .actions = POLICY_ACTION_LOWER_TARGET,
                               .target_bytes = 230 * M},
                              {.t_usec = 9500000,
                               .rule = POLICY_RULE_TARGET_DOWN,
                               .actions = POLICY_ACTION_LOWER_TARGET | POLICY_ACTION_GC,
                               .target_bytes = 180 * M}},
        };
        return s;
}

int main(int argc, char *argv[])
{
        StatusSnapshot s = snapshot();
        char buf[STATUS_STRLEN];
        int n;

        if (argc > 1 && strcmp(argv[1], "--print") == 0) {
                if (status_format_json(&s, buf, sizeof(buf)) < 0)
                        return 1;
                fputs(buf, stdout);
                return 0;
        }
        n = status_format_json(&s, buf, sizeof(buf));
        CHECK(n > 0 && buf[n - 1] == '\n', "%d", n);
        CHECK(strstr(buf, "{\"memgov_pid\":100,\"child_pid\":101,\"name\":\"memgov-server-100\","), "%s",
              buf);
        CHECK(strstr(buf, "\"limits\":{\"max_bytes\":268435456,\"high_bytes\":null}"), "%s", buf);
        CHECK(strstr(buf, "\"pressure\":{\"level\":\"ok\",\"some_avg10\":0.0250,\"full_avg10\":0.0000}"),
              "%s", buf);
        CHECK(strstr(buf, "\"gc_target_bytes\":188743680"), "%s", buf);
        CHECK(strstr(buf, "\"applied_limit_bytes\":null"), "%s", buf);
        CHECK(strstr(buf, "\"actions\":[\"lower-target\",\"gc\"]"), "%s", buf);
        CHECK(strstr(buf, "\"uptime_seconds\":61.500000"), "%s", buf);

        n = status_format_text(&s, buf, sizeof(buf));
        CHECK(n > 0, "%d", n);
        CHECK(strstr(buf, "memgov-server-100 (memgov 100, child 101): ./server, up 61s\n"), "%s", buf);
        CHECK(strstr(buf, "  limits:   memory.max=256.0M memory.high=max\n"), "%s", buf);
        s.m.names = (SandboxNames){.max = "JobMemoryLimit", .high = "notification limit"};
        status_format_text(&s, buf, sizeof(buf));
        CHECK(strstr(buf, "  limits:   JobMemoryLimit=256.0M notification limit=max\n"),
              "the Job Object's names: %s", buf);
        s = snapshot();
        CHECK(strstr(buf, "  target:   180.0M\n"), "%s", buf);
        CHECK(strstr(buf, "  agent 1:  go go1.22, pid 101, total 150.0M, live heap 90.0M, GC CPU 3.00%\n"),
              "%s", buf);
        CHECK(strstr(buf, "  decided: 2.000s lower-target (rule target-initial), level ok, target 230.0M\n"),
              "%s", buf);

        s.n_agents = 0;
        s.m.target_bytes = POLICY_TARGET_NONE;
        s.m.gave_up = true;
        status_format_text(&s, buf, sizeof(buf));
        CHECK(strstr(buf, "  agents:   none connected\n"), "%s", buf);
        CHECK(strstr(buf, "  target:   none (cannot fit: no longer squeezing)\n"), "%s", buf);
        CHECK(status_format_json(&s, buf, 64) == -ENOBUFS, "small buffer");
        return check_finish("test-status");
}

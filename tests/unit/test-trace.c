/* SPDX-License-Identifier: MIT */
/* The --trace lines. With --print, writes one of each to stdout, for a JSON parser (unit/trace-json). */
#include <errno.h>

#include "../../policy/trace-format.h"
#include "check.h"

#define M (UINT64_C(1) << 20)

static const PolicySample sample = {
        .limits = {.max_bytes = 256 * M, .high_bytes = UINT64_MAX},
        .current_bytes = 200 * M,
        .anon_bytes = 190 * M,
        .file_bytes = 8 * M,
        .kernel_bytes = 2 * M,
        .psi_some_avg10_permyriad = 1234,
        .agent_present = true,
        .runtime_total_bytes = 150 * M,
        .heap_live_bytes = 100 * M,
        .gc_cpu_permyriad = 5,
};

static const PolicyDecision decision = {
        .rule = POLICY_RULE_TARGET_DOWN,
        .level = POLICY_LEVEL_ELEVATED,
        .level_changed = true,
        .actions = POLICY_ACTION_LOWER_TARGET | POLICY_ACTION_GC,
        .target_bytes = 140 * M,
        .limit_bytes = 256 * M,
};

int main(int argc, char *argv[])
{
        const MemoryLimits limits = {.max_bytes = 256 * M, .high_bytes = UINT64_MAX};
        char buf[TRACE_LINE_STRLEN], small[8];
        PolicyDecision none = decision;
        int n;

        none.target_bytes = POLICY_TARGET_NONE;
        if (argc > 1 && strcmp(argv[1], "--print") == 0) {
                if (trace_format_start(0, "./a \"b\"\n", "/sys/fs/cgroup/x", &limits, buf, sizeof(buf)) < 0)
                        return 1;
                puts(buf);
                if (trace_format_sample(1500000, "tick", &sample, 210 * M, &decision, buf, sizeof(buf)) < 0)
                        return 1;
                puts(buf);
                if (trace_format_decision(1500000, &none, buf, sizeof(buf)) < 0)
                        return 1;
                puts(buf);
                return 0;
        }

        n = trace_format_start(0, "./a \"b\"\n", "/c", &limits, buf, sizeof(buf));
        CHECK(n > 0 &&
                      strcmp(buf,
                             "{\"type\":\"start\",\"t\":0.000000,\"program\":\"./a \\\"b\\\"\\u000a\",\"cgroup\":\"/c\",\"max\":268435456,\"high\":null}") ==
                              0,
              "%s", buf);

        n = trace_format_sample(1500000, "psi-some", &sample, UINT64_MAX, &decision, buf, sizeof(buf));
        CHECK(n > 0, "%d", n);
        CHECK(strstr(buf, "{\"type\":\"sample\",\"t\":1.500000,\"on\":\"psi-some\",\"current\":209715200,"),
              "%s", buf);
        CHECK(strstr(buf, "\"peak\":null"), "unknown peak is null: %s", buf);
        CHECK(strstr(buf, "\"high\":null"), "%s", buf);
        CHECK(strstr(buf, "\"psi_some\":0.1234,"), "%s", buf);
        CHECK(strstr(buf, "\"heap_live\":104857600,\"gc_cpu\":0.0005,"), "%s", buf);
        CHECK(strstr(buf, "\"target\":146800640,\"level\":\"elevated\"}"), "%s", buf);

        n = trace_format_decision(2000000, &none, buf, sizeof(buf));
        CHECK(n > 0, "%d", n);
        CHECK(strstr(buf,
                     "\"rule\":\"target-down\",\"level\":\"elevated\",\"level_changed\":true,\"actions\":[\"lower-target\",\"gc\"],\"target\":null,\"limit\":268435456"),
              "%s", buf);

        CHECK(trace_format_decision(0, &decision, small, sizeof(small)) == -ENOBUFS, "small buffer");
        CHECK(strcmp(trace_escape_json("ab\\", small, 4), "ab") == 0, "never half an escape: %s", small);
        return check_finish("test-trace");
}

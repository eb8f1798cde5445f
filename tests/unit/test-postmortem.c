/* SPDX-License-Identifier: MIT */
#include "../../policy/postmortem.h"
#include "check.h"

#define M (UINT64_C(1) << 20)

static Postmortem base(void)
{
        return (Postmortem){
                .what = "./server",
                .cause = "was OOM-killed",
                .names = {.max = "memory.max", .high = "memory.high"}, /* Linux's; platform_name() */
                .max_bytes = 256 * M,
                .high_bytes = UINT64_MAX,
                .peak_bytes = 256 * M,
        };
}

int main(void)
{
        char buf[POSTMORTEM_STRLEN];
        Postmortem p = base();

        /* Nothing but the limits: advice from the peak. */
        postmortem_format(&p, buf, sizeof(buf));
        CHECK(strstr(buf, "post-mortem: ./server was OOM-killed\n"), "%s", buf);
        CHECK(strstr(buf, "limits: memory.max=256.0M memory.high=max; peak 256.0M\n"), "%s", buf);
        CHECK(strstr(buf, "agent: none connected"), "%s", buf);
        CHECK(strstr(buf, "raise memory.max to at least 281.6M (the peak plus 10%)"), "%s", buf);
        CHECK(!strstr(buf, "last sample"), "no sample, no line: %s", buf);
        CHECK(postmortem_suggested_max(&p) == 256 * M + 256 * M / 10, "peak + 10%%");

        /* The limits go by the platform's names for them: a Job Object's on Windows. */
        p.names = (SandboxNames){.max = "JobMemoryLimit", .high = "notification limit"};
        postmortem_format(&p, buf, sizeof(buf));
        CHECK(strstr(buf, "limits: JobMemoryLimit=256.0M notification limit=max; peak 256.0M\n"), "%s", buf);
        CHECK(strstr(buf, "raise JobMemoryLimit to at least 281.6M (the peak plus 10%)"), "%s", buf);
        CHECK(!strstr(buf, "memory.max"), "%s", buf);
        p = base();

        /* With an agent: the live heap plus what the runtime does not see, plus 10%. */
        p.have_sample = true;
        p.sample_age_usec = 420000;
        p.current_bytes = 250 * M;
        p.anon_bytes = 240 * M;
        p.kernel_bytes = 10 * M;
        p.have_agent = true;
        p.runtime_total_bytes = 200 * M;
        p.heap_live_bytes = 180 * M;
        p.gc_cpu_permyriad = 4200;
        p.have_decision = true;
        p.target_bytes = 190 * M;
        p.level = POLICY_LEVEL_CRITICAL;
        p.rule = POLICY_RULE_HEAP_CANNOT_FIT;
        CHECK(postmortem_suggested_max(&p) == (180 * M + 50 * M) + (180 * M + 50 * M) / 10,
              "live + unseen + 10%%");
        postmortem_format(&p, buf, sizeof(buf));
        CHECK(strstr(buf,
                     "last sample (420ms before): current 250.0M = anon 240.0M, file 0B, shmem 0B, kernel 10.0M"),
              "%s", buf);
        CHECK(strstr(buf, "agent: runtime total 200.0M, live heap 180.0M, GC CPU 42.00%"), "%s", buf);
        CHECK(strstr(buf, "the live heap alone is 180.0M; raise memory.max to at least 253.0M"), "%s", buf);
        CHECK(strstr(buf, "last target: 190.0M (level critical, rule "), "%s", buf);
        CHECK(!strstr(buf, "shmem/tmpfs"), "no shmem note: %s", buf);
        CHECK(strstr(buf, "\npressure: some "), "the group's own pressure, unlabelled: %s", buf);
        p.psi_system_wide = true; /* cgroup v1: the host's /proc/pressure/memory */
        postmortem_format(&p, buf, sizeof(buf));
        CHECK(strstr(buf, "\npressure (system-wide): some "), "%s", buf);
        p.psi_system_wide = false;

        /* The GC trace sits under the memory.stat breakdown; captures name the file and its command. */
        p.now_usec = 200 * 1000000ull;
        p.gc[p.n_gc++] = (GcCycle){.t_usec = 80 * 1000000ull,
                                   .count = 40,
                                   .heap_goal_bytes = 200 * M,
                                   .heap_live_bytes = 100 * M,
                                   .gc_cpu_permyriad = 310};
        p.gc[p.n_gc++] = (GcCycle){.t_usec = 199 * 1000000ull,
                                   .count = 90,
                                   .heap_goal_bytes = 240 * M,
                                   .heap_live_bytes = 180 * M,
                                   .gc_cpu_permyriad = 4200};
        p.captures[p.n_captures++] = (PostmortemCapture){.path = "/c/memgov-a-1.pprof",
                                                         .format = CAPTURE_FORMAT_PPROF,
                                                         .why = CAPTURE_WHY_CRITICAL,
                                                         .bytes = 12345};
        p.captures[p.n_captures++] = (PostmortemCapture){.format = CAPTURE_FORMAT_HPROF,
                                                         .why = CAPTURE_WHY_CANNOT_FIT,
                                                         .error = "java.io.IOException: disk full"};
        p.capture_refused = "capture on cannot-fit refused: one capture per interval, the next in 30s";
        postmortem_format(&p, buf, sizeof(buf));
        CHECK(strstr(buf, "kernel 10.0M\npressure: ") == NULL &&
                      strstr(buf, "kernel 10.0M\ngc trace (the runtime's own view, oldest first):\n"
                                  "  -120s gc #40: heap goal 200.0M, live heap 100.0M, GC CPU 3.10%\n"
                                  "  -1s gc #90: heap goal 240.0M, live heap 180.0M, GC CPU 42.00%\n"),
              "%s", buf);
        CHECK(strstr(buf,
                     "captured on critical: /c/memgov-a-1.pprof (12.1K); open with: go tool pprof -top /c/memgov-a-1.pprof\n"),
              "%s", buf);
        CHECK(strstr(buf, "capture on cannot-fit failed: java.io.IOException: disk full\n"), "%s", buf);
        CHECK(strstr(buf, "capture on cannot-fit refused: one capture per interval, the next in 30s\n"),
              "%s", buf);
        p.n_gc = p.n_captures = 0;
        p.capture_refused = NULL;

        /* shmem that dominates is named. */
        p.shmem_bytes = 100 * M;
        postmortem_format(&p, buf, sizeof(buf));
        CHECK(strstr(buf, "shmem/tmpfs holds 100.0M"), "%s", buf);

        /* Unknown peak, no agent: no number is invented. */
        p = base();
        p.peak_bytes = UINT64_MAX;
        CHECK(postmortem_suggested_max(&p) == 0, "nothing to go on");
        postmortem_format(&p, buf, sizeof(buf));
        CHECK(strstr(buf, "peak unknown") && strstr(buf, "what to change: raise memory.max, or"), "%s", buf);

        /* A small buffer is cut, never overrun. */
        char tiny[40];
        postmortem_format(&p, tiny, sizeof(tiny));
        CHECK(strlen(tiny) < sizeof(tiny), "cut at %zu", strlen(tiny));
        return check_finish("test-postmortem");
}

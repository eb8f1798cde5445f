/* SPDX-License-Identifier: MIT */
/*
 * The closed loop on Windows, driven through the fake notification source:
 * memgov's run_main() with a real child in a real job, where the fake stages
 * what Wine cannot produce (the memory-limit messages, a commit charge near
 * the limit). Checks that policy_step() sees them and decides as on Linux,
 * by the decision lines memgov logs; and the control channel to an agent
 * (test-agent.exe) on top of the same loop. Usage: test-govern TEST-CHILD.EXE TEST-AGENT.EXE
 * test-govern --go MEMGOV-AGENT-DEMO.EXE: the Go agent's demo instead (it needs go-prefix.sh's shim).
 */
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "../../governor/cli.h"
#include "../../governor/log.h"
#include "../../governor/policyfile.h"
#include "../../governor/run.h"
#include "../unit/check.h"
#include "fake-source.h"

#define MB (1024ull * 1024)

static const char *child_exe, *agent_exe;
static char log_path[MAX_PATH];
static char captured[16384];

/* Runs `memgov run ARGS -- EXE MODE ARG` with stderr captured into `captured`; returns the status. */
static int run_exe_captured(const char *exe, const char *const *args, size_t n_args, const char *mode,
                            const char *arg)
{
        char *argv[16];
        size_t n = 0;
        RunOptions o;
        int saved, status;
        FILE *f;

        argv[n++] = "run";
        for (size_t i = 0; i < n_args; i++)
                argv[n++] = (char *)args[i];
        argv[n++] = "--";
        argv[n++] = (char *)exe;
        if (mode) {
                argv[n++] = (char *)mode;
                argv[n++] = (char *)arg;
        }
        argv[n] = NULL;
        /* As main() does: the options, then the policy files below them (--config-dir, if given). */
        if (cli_parse_run((int)n, argv, &o) != 0 || policyfile_apply((int)n, argv, &o) != 0)
                return -1;

        fflush(stderr);
        saved = _dup(2);
        if (!freopen(log_path, "w", stderr))
                return -1;
        status = run_main(&o);
        policyfile_free(o.policy);
        fflush(stderr);
        _dup2(saved, 2);
        _close(saved);
        log_set_max_level(LOG_NOTICE);

        f = fopen(log_path, "r");
        captured[0] = '\0';
        if (f) {
                size_t len = fread(captured, 1, sizeof(captured) - 1, f);
                captured[len] = '\0';
                fclose(f);
        }
        printf("---- memgov %s ... said:\n%s----\n", args[0], captured);
        return status;
}

static int run_mode_captured(const char *const *args, size_t n_args, const char *mode, const char *arg)
{
        return run_exe_captured(child_exe, args, n_args, mode, arg);
}

static int run_captured(const char *const *args, size_t n_args, const char *sleep_ms)
{
        return run_mode_captured(args, n_args, "sleep", sleep_ms);
}

static unsigned long read_pid(const char *pidfile)
{
        FILE *f = fopen(pidfile, "r");
        unsigned long pid = 0;

        if (!f)
                return 0;
        if (fscanf(f, "%lu", &pid) != 1)
                pid = 0;
        fclose(f);
        return pid;
}

/* Whether one logged line holds every one of the words. */
static bool logged(const char *w1, const char *w2, const char *w3)
{
        for (char *line = captured; line && *line;) {
                char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                char buf[2048];

                snprintf(buf, sizeof(buf), "%.*s", (int)len, line);
                if (strstr(buf, w1) && (!w2 || strstr(buf, w2)) && (!w3 || strstr(buf, w3)))
                        return true;
                line = nl ? nl + 1 : NULL;
        }
        return false;
}

/* The hard limit refused an allocation: on Windows that is the program failing, so critical at once. */
static void test_memory_max_message(void)
{
        static const char *const args[] = {"--memory-max", "64M", "-v"};
        FakeScript s = {
                .events = {{.kind = PLATFORM_EVENT_MEMORY_MAX}},
                .n_events = 1,
                .delay_ms = 200,
                .override_current = true,
                .current_bytes = 63 * MB,
        };
        int status;

        fake_source_install(&s);
        status = run_captured(args, 3, "1500");
        fake_source_install(NULL);
        CHECK(status == 0, "the child's status: %d", status);
        CHECK(s.delivered == 1, "the fake delivered its message");
        CHECK(s.accounting_calls >= 1, "memgov sampled through the source");
        CHECK(logged("decision", "level=critical", "on=memory-max"), "the law went critical on the message");
        /* Without an agent the ladder has no rung to take (no memory.reclaim on Windows): as on Linux. */
        CHECK(logged("decision", "level=critical", "actions=none"),
              "with nothing to ask of an absent agent");
        CHECK(logged("decision", "limit=64M", "unseen=63M"), "from the staged commit charge");
        CHECK(logged("decision", "on=memory-max", "headroom=8M"), "with the built-in headroom");
}

/* The control law's parameters come from the policy files: the same staged message, a headroom-min of 20M
 * instead of the built-in 8M. */
static void test_policy_law(void)
{
        char dir[MAX_PATH], path[MAX_PATH + 16];
        const char *args[] = {"--config-dir", dir, "--memory-max", "64M", "-v"};
        FakeScript s = {
                .events = {{.kind = PLATFORM_EVENT_MEMORY_MAX}},
                .n_events = 1,
                .delay_ms = 200,
                .override_current = true,
                .current_bytes = 63 * MB,
        };
        FILE *f;
        int status;

        snprintf(dir, sizeof(dir), "%s.policy", log_path);
        CreateDirectoryA(dir, NULL);
        snprintf(path, sizeof(path), "%s\\memgov.ini", dir);
        f = fopen(path, "w");
        CHECK(f, "%s: %m", path);
        if (!f)
                return;
        fputs("[defaults]\nheadroom-min = 20M\n", f);
        fclose(f);
        fake_source_install(&s);
        status = run_captured(args, 5, "1500");
        fake_source_install(NULL);
        CHECK(status == 0, "the child's status: %d", status);
        CHECK(logged("decision", "on=memory-max", "headroom=20M"), "the law's headroom is the policy's");
        DeleteFileA(path);
        RemoveDirectoryA(dir);
}

/* The notification limit (memory-high) was crossed: elevated, as memory.events "high" on Linux. */
static void test_memory_high_message(void)
{
        static const char *const args[] = {"--memory-max", "64M", "--memory-high", "48M", "-v"};
        FakeScript s = {
                .events = {{.kind = PLATFORM_EVENT_MEMORY_HIGH}},
                .n_events = 1,
                .delay_ms = 200,
                .override_current = true,
                .current_bytes = 49 * MB,
        };
        int status;

        fake_source_install(&s);
        status = run_captured(args, 5, "1500");
        fake_source_install(NULL);
        CHECK(status == 0, "the child's status: %d", status);
        CHECK(logged("decision", "level=elevated", "on=memory-high"),
              "the law went elevated on the message");
        CHECK(!logged("level=critical", NULL, NULL), "and not critical");
}

/* No message, usage far below the limit: the paced samples (at the slowest pace), and the law does nothing.
 */
static void test_quiet(void)
{
        static const char *const args[] = {"--memory-max", "64M", "-v"};
        FakeScript s = {.override_current = true, .current_bytes = 8 * MB};
        int status;

        fake_source_install(&s);
        status = run_captured(args, 3, "3500");
        fake_source_install(NULL);
        CHECK(status == 0, "the child's status: %d", status);
        CHECK(s.accounting_calls >= 2, "sampled at the start and at the pace: %u", s.accounting_calls);
        CHECK(logged("Sampled on=pace", "current=8388608", NULL), "the paced sample is logged");
        CHECK(!logged("decision", NULL, NULL), "no decision while calm");
}

/* Ctrl-C or Ctrl-Break at memgov (staged: a console event cannot be sent to a test without a console):
 * the grace period, then the job is killed and memgov exits with what the child got. */
static void test_interrupt(void)
{
        static const char *const args[] = {"--memory-max", "64M", "--grace", "300ms", "-v"};
        FakeScript s = {.events = {{.kind = PLATFORM_EVENT_INTERRUPT}}, .n_events = 1, .delay_ms = 200};
        uint64_t start = platform_monotonic_usec(), took_ms;
        int status;

        fake_source_install(&s);
        status = run_captured(args, 5, "60000");
        fake_source_install(NULL);
        took_ms = (platform_monotonic_usec() - start) / 1000;
        CHECK(status == 137, "the killed child's status: %d", status);
        CHECK(logged("Grace period over", NULL, NULL), "killed after the grace period");
        CHECK(took_ms < 10000, "within the grace period, not the child's 60 s: %llu ms",
              (unsigned long long)took_ms);
}

/* The child exits and leaves a grandchild: memgov waits the grace period, kills it, and exits with the
 * child's own code. */
static void test_descendants_after_exit(void)
{
        static const char *const args[] = {"--memory-max", "64M", "--grace", "500ms"};
        char pidfile[MAX_PATH];
        HANDLE grandchild;
        unsigned long pid;
        int status;

        snprintf(pidfile, sizeof(pidfile), "%s.orphan", log_path);
        DeleteFileA(pidfile);
        status = run_mode_captured(args, 4, "orphan", pidfile);
        CHECK(status == 3, "the child's own status: %d", status);
        CHECK(logged("descendants still run", NULL, NULL), "memgov says it waits for the descendants");
        pid = read_pid(pidfile);
        CHECK(pid != 0, "the grandchild started");
        /* It sleeps 60 s: gone already (OpenProcess fails) or exiting, it was killed. */
        grandchild = pid ? OpenProcess(SYNCHRONIZE, FALSE, (DWORD)pid) : NULL;
        CHECK(pid && (!grandchild || WaitForSingleObject(grandchild, 2000) == WAIT_OBJECT_0),
              "the grandchild was killed");
        if (grandchild)
                CloseHandle(grandchild);
        DeleteFileA(pidfile);
}

/* The agent says hello and reports stats; the staged notification makes the law go elevated, and the new
 * level goes to the agent as a target, which it acknowledges: the same log lines as on Linux. The agent's
 * total enters the law's sample: what it does not see (unseen) is the commit charge less its total. */
static void test_agent_target(void)
{
        static const char *const args[] = {"--memory-max", "64M", "--memory-high", "48M", "-v"};
        FakeScript s = {
                .events = {{.kind = PLATFORM_EVENT_MEMORY_HIGH}},
                .n_events = 1,
                .delay_ms = 1500,
                .real_while_waiting = true,
                .override_current = true,
                .current_bytes = 49 * MB,
        };
        int status;

        fake_source_install(&s);
        status = run_exe_captured(agent_exe, args, 5, "follow", "40");
        fake_source_install(NULL);
        CHECK(status == 0, "the agent got a target and exited 0: %d", status);
        CHECK(logged("Agent 1 connected: c test-agent, pid ", NULL, NULL), "memgov logs the agent's hello");
        CHECK(logged("decision", "level=elevated", "on=memory-high"),
              "the law went elevated on the message");
        CHECK(logged("decision", "on=memory-high", "unseen=9M"), "with the agent's 40M taken off the 49M");
        CHECK(logged("Agent 1 applied target ", "(limit ", "us."), "the agent acknowledged a target");
        CHECK(!logged("closing the connection", NULL, NULL), "and the channel stayed open");
}

/* A line that breaks the protocol: memgov says why and closes the channel; the program goes on (the
 * agent exits 0 only once it saw the channel close) and memgov returns its status. */
static void test_agent_malformed(void)
{
        static const char *const args[] = {"--memory-max", "64M", "-v"};
        static char long_line[5001];
        static const struct {
                const char *mode, *line, *reason;
        } rows[] = {
                {"malformed", "stats total_bytes=12x", "bad number in stats"},
                {"malformed", "applied limit_bytes=1", "applied without a valid seq="},
                {"malformed", "stats total_bytes=1 total_bytes=2", "duplicate key"}, /* proto_parse's own */
                {"malformed", long_line, "line longer than 4096 bytes"},
                {"partial", "stats total_bytes=1", "line not completed within 5000 ms"},
        };

        memset(long_line, 'a', sizeof(long_line) - 1);
        memcpy(long_line, "stats x-pad=", 12);
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                char want[160];
                int status = run_exe_captured(agent_exe, args, 3, rows[i].mode, rows[i].line);

                snprintf(want, sizeof(want), "%s, closing the connection.", rows[i].reason);
                CHECK(status == 0, "%s: the program went on after the close: %d", rows[i].reason, status);
                CHECK(logged("Control: agent 1 (pid ", want, NULL), "%s: refused with the reason",
                      rows[i].reason);
                CHECK(logged("Agent 1 went away: ", "The job's limits", NULL), "%s: said gone",
                      rows[i].reason);
        }
}

/* The agent closes its end and the program runs on: memgov notes it and waits for the program as before. */
static void test_agent_leaves(void)
{
        static const char *const args[] = {"--memory-max", "64M", "-v"};
        int status = run_exe_captured(agent_exe, args, 3, "leave", "800");

        CHECK(status == 0, "the program's status: %d", status);
        CHECK(logged("Agent 1 went away: connection closed by the agent.", NULL, NULL), "memgov saw it go");
}

/* The Go agent (agents/go/conn_windows.go) in its demo program: the handle in MEMGOV_FD becomes its
 * connection, it says hello and reports stats, and applies the target the law sends when the staged
 * notification raises the level. The demo runs until stopped: a staged interrupt ends it (grace, kill). */
static void test_go_agent(const char *demo_exe)
{
        static const char *const args[] = {"--memory-max", "64M", "--memory-high", "48M", "--grace",
                                           "300ms",        "-v"};
        FakeScript s = {
                .events = {{.kind = PLATFORM_EVENT_MEMORY_HIGH}, {.kind = PLATFORM_EVENT_INTERRUPT}},
                .n_events = 2,
                .delay_ms = 4000, /* a Go program's first start under Wine takes a while */
                .real_while_waiting = true,
                .override_current = true,
                .current_bytes = 49 * MB,
        };
        int status;

        fake_source_install(&s);
        status = run_exe_captured(demo_exe, args, 7, NULL, NULL);
        fake_source_install(NULL);
        CHECK(status == 137, "the demo ran until the staged interrupt: %d", status);
        CHECK(logged("Agent 1 connected: go go1.", ", pid ", NULL), "the Go agent said hello");
        CHECK(logged("decision", "level=elevated", "on=memory-high"),
              "the law went elevated on the message");
        CHECK(logged("decision", "on=memory-high", "unseen=") &&
                      !logged("decision", "on=memory-high", "unseen=49M"),
              "with the Go runtime's total taken off the commit charge");
        CHECK(logged("Agent 1 applied target ", "(limit ", "us."), "the Go agent applied a target");
        CHECK(!logged("closing the connection", "agent 1 (pid", NULL) ||
                      logged("connection closed by the agent", NULL, NULL),
              "no protocol error on the way");
}

int main(int argc, char *argv[])
{
        char dir[MAX_PATH];

        if (argc == 3 && strcmp(argv[1], "--go") == 0) {
                GetTempPathA(sizeof(dir), dir);
                snprintf(log_path, sizeof(log_path), "%s\\memgov-test-govern-go-%lu.log", dir,
                         GetCurrentProcessId());
                test_go_agent(argv[2]);
                DeleteFileA(log_path);
                return check_finish("test-govern --go");
        }
        if (argc != 3) {
                fprintf(stderr, "usage: test-govern TEST-CHILD.EXE TEST-AGENT.EXE\n");
                return 2;
        }
        child_exe = argv[1];
        agent_exe = argv[2];
        GetTempPathA(sizeof(dir), dir);
        snprintf(log_path, sizeof(log_path), "%s\\memgov-test-govern-%lu.log", dir, GetCurrentProcessId());
        test_memory_max_message();
        test_policy_law();
        test_memory_high_message();
        test_quiet();
        test_interrupt();
        test_descendants_after_exit();
        test_agent_target();
        test_agent_malformed();
        test_agent_leaves();
        DeleteFileA(log_path);
        return check_finish("test-govern");
}

/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "../../governor/cli.h"
#include "../../governor/log.h"
#include "../../governor/run.h"
#include "../../platform/linux/cgroup-util.h"
#include "../../platform/platform.h"
#include "check.h"

#define G (UINT64_C(1) << 30)
#define M (UINT64_C(1) << 20)

static int parse(RunOptions *o, ...)
{
        static char *argv[32]; /* RunOptions.argv points into it after we return */
        int argc = 0;
        va_list ap;

        va_start(ap, o);
        for (char *a; (a = va_arg(ap, char *));)
                argv[argc++] = a;
        va_end(ap);
        argv[argc] = NULL;
        return cli_parse_run(argc, argv, o);
}

static void test_parse_ok(void)
{
        RunOptions o;

        CHECK(parse(&o, "run", "--memory-max", "1G", "--memory-high", "90%", "--swap-max", "0", "--name",
                    "api", "--grace", "500ms", "--", "server", "--port", "80", NULL) == 0,
              "full");
        CHECK(o.spec.memory_max_bytes == G, "max");
        CHECK(o.spec.memory_high_is_percent && o.spec.memory_high_permyriad == 9000, "high pct");
        CHECK(o.spec.swap_max_set && o.spec.swap_max_bytes == 0, "swap");
        CHECK(o.name && strcmp(o.name, "api") == 0, "name");
        CHECK(o.grace_usec == 500 * USEC_PER_MSEC, "grace");
        CHECK(strcmp(o.argv[0], "server") == 0 && strcmp(o.argv[1], "--port") == 0 && o.argv[3] == NULL,
              "argv");

        CHECK(parse(&o, "run", "--memory-max=512M", "ls", "-l", NULL) == 0, "no --, = syntax");
        CHECK(o.spec.memory_max_bytes == 512 * M && strcmp(o.argv[0], "ls") == 0 &&
                      strcmp(o.argv[1], "-l") == 0,
              "stops at the command");
        CHECK(o.grace_usec == GRACE_DEFAULT_USEC && !o.spec.swap_max_set && !o.name, "defaults");
        CHECK(o.spec.memory_high_bytes == SIZE_MAX_UNLIMITED, "high defaults to max");
}

static void test_parse_errors(void)
{
        RunOptions o;

        log_set_max_level(LOG_CRIT); /* the messages are checked by the e2e tests */
        CHECK(parse(&o, "run", NULL) == -EINVAL, "no command");
        CHECK(parse(&o, "run", "--memory-max", "1G", "--", NULL) == -EINVAL, "nothing after --");
        CHECK(parse(&o, "run", "--memory-max", "lots", "x", NULL) == -EINVAL, "bad size");
        CHECK(parse(&o, "run", "--memory-max", "-1G", "x", NULL) == -EINVAL, "negative size");
        CHECK(parse(&o, "run", "--memory-high", "150%", "x", NULL) == -EINVAL, "150 percent");
        CHECK(parse(&o, "run", "--grace", "soon", "x", NULL) == -EINVAL, "bad duration");
        CHECK(parse(&o, "run", "--bogus", "x", NULL) == -EINVAL, "unknown option");
        CHECK(parse(&o, "run", "--memory-max", NULL) == -EINVAL, "missing value");
        CHECK(parse(&o, "run", "--parent", "", "x", NULL) == -EINVAL, "empty parent");
        log_set_max_level(LOG_NOTICE);
}

static void test_parse_init_options(void)
{
        RunOptions o;

        CHECK(parse(&o, "run", "--init", "--oom-score-adj", "-500", "--", "x", NULL) == 0, "init, oom");
        CHECK(o.init && !o.observe && o.oom_score_adj_set && o.oom_score_adj == -500, "init, oom values");
        CHECK(parse(&o, "run", "--observe", "--grace", "1s", "x", NULL) == 0, "observe");
        CHECK(o.observe && !o.oom_score_adj_set, "observe values");
        CHECK(parse(&o, "run", "--no-agent", "x", NULL) == 0 && o.no_agent, "no-agent");
        CHECK(parse(&o, "run", "x", NULL) == 0 && !o.no_agent, "agent by default");

        log_set_max_level(LOG_CRIT);
        CHECK(parse(&o, "run", "--oom-score-adj", "1001", "x", NULL) == -EINVAL, "oom above 1000");
        CHECK(parse(&o, "run", "--oom-score-adj", "-1001", "x", NULL) == -EINVAL, "oom below -1000");
        CHECK(parse(&o, "run", "--oom-score-adj", "5x", "x", NULL) == -EINVAL, "oom not a number");
        CHECK(parse(&o, "run", "--oom-score-adj", "", "x", NULL) == -EINVAL, "oom empty");
        CHECK(parse(&o, "run", "--observe", "--memory-max", "1G", "x", NULL) == -EINVAL, "observe with max");
        CHECK(parse(&o, "run", "--observe", "--memory-high", "90%", "x", NULL) == -EINVAL,
              "observe with pct");
        CHECK(parse(&o, "run", "--observe", "--name", "n", "x", NULL) == -EINVAL, "observe with name");
        CHECK(parse(&o, "run", "--observe", "--parent", "/p", "x", NULL) == -EINVAL, "observe with parent");
        log_set_max_level(LOG_INFO);
}

static void test_names(void)
{
        char buf[64];

        CHECK(cg_name_valid("api") == 0, "plain");
        CHECK(cg_name_valid("memgov-server-12") == 0, "default shape");
        CHECK(cg_name_valid("") < 0 && cg_name_valid(NULL) < 0, "empty");
        CHECK(cg_name_valid(".") < 0 && cg_name_valid("..") < 0, "dots");
        CHECK(cg_name_valid("a/b") < 0, "slash");
        CHECK(cg_name_valid("memory.max") < 0 && cg_name_valid("cgroup.procs") < 0, "interface file names");
        CHECK(cg_name_valid("a\nb") < 0, "newline");

        run_default_name("/usr/bin/server", "42", buf, sizeof(buf));
        CHECK(strcmp(buf, "memgov-server-42") == 0, "%s", buf);
        run_default_name("./my app", "7", buf, sizeof(buf));
        CHECK(strcmp(buf, "memgov-my_app-7") == 0, "%s", buf);
        /* On Linux a backslash is part of the program's name, not a separator (run.c). */
        run_default_name("/opt/a\\b", "7", buf, sizeof(buf));
        CHECK(strcmp(buf, "memgov-a_b-7") == 0, "%s", buf);
        run_default_name("memory.max", "7", buf, sizeof(buf));
        CHECK(cg_name_valid(buf) == 0, "default names are always valid: %s", buf);
}

static void test_join(void)
{
        static const struct {
                const char *a, *b, *want;
        } rows[] = {
                {"/sys/fs/cgroup", "/", "/sys/fs/cgroup"},
                {"/sys/fs/cgroup", "/a/b", "/sys/fs/cgroup/a/b"},
                {"/sys/fs/cgroup/", "a/", "/sys/fs/cgroup/a"},
                {"/", "x", "/x"},
                {"/", "", "/"},
        };
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                char *s = cg_join(rows[i].a, rows[i].b);
                CHECK(s && strcmp(s, rows[i].want) == 0, "join(%s, %s) = %s", rows[i].a, rows[i].b, s);
                free(s);
        }
        CHECK(cg_controller_listed("cpu memory pids\n", "memory"), "listed");
        CHECK(!cg_controller_listed("cpuset hugetlb\n", "cpu"), "cpu is not cpuset");
        CHECK(cg_controller_listed("cpu\n", "cpu"), "alone");
}

static void test_find_executable(void)
{
        char *p = NULL;

        CHECK(platform_find_executable("sh", "/nonexistent:/bin:/usr/bin", &p) == 0 && p, "sh on PATH");
        free(p);
        p = NULL;
        CHECK(platform_find_executable("memgov-no-such-command", "/bin:/usr/bin", &p) == -ENOENT, "missing");
        CHECK(platform_find_executable("/etc/passwd", NULL, &p) == -EACCES, "not executable");
        CHECK(platform_find_executable("/", NULL, &p) == -EACCES, "directory");
        CHECK(platform_find_executable("", NULL, &p) == -EINVAL, "empty");
}

/* What governor/ prints for each name: on Linux exactly the cgroup v2 files, whose names tests, bench
 * scripts and people grep memgov's texts for, and the same as `memgov explain` lists for a v2 host. */
static void test_platform_names(void)
{
        static const char *const want[_PLATFORM_NAME_MAX] = {
                [PLATFORM_NAME_EVENTS] = "memory.events",     [PLATFORM_NAME_RECLAIM] = "memory.reclaim",
                [PLATFORM_NAME_HIGH] = "memory.high",         [PLATFORM_NAME_MAX] = "memory.max",
                [PLATFORM_NAME_SWAP_MAX] = "memory.swap.max", [PLATFORM_NAME_CURRENT] = "memory.current",
                [PLATFORM_NAME_PEAK] = "memory.peak",         [PLATFORM_NAME_STAT] = "memory.stat",
        };
        const PlatformLimitNames *v2 = platform_limit_names(PLATFORM_BACKEND_CGROUP2);

        for (int n = 0; n < _PLATFORM_NAME_MAX; n++)
                CHECK(want[n] && strcmp(platform_name((PlatformName)n), want[n]) == 0, "name %d: %s", n,
                      platform_name((PlatformName)n));
        CHECK(strcmp(platform_name(PLATFORM_NAME_MAX), v2->max) == 0 &&
                      strcmp(platform_name(PLATFORM_NAME_HIGH), v2->high) == 0 &&
                      strcmp(platform_name(PLATFORM_NAME_SWAP_MAX), v2->swap) == 0,
              "as explain names them");
        CHECK(strcmp(platform_name(_PLATFORM_NAME_MAX), "unknown") == 0, "out of range");
}

int main(void)
{
        test_parse_ok();
        test_parse_errors();
        test_parse_init_options();
        test_names();
        test_join();
        test_find_executable();
        test_platform_names();
        return check_finish("test-cli");
}

/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "../../platform/linux/kfile.h"
#include "check.h"

static void test_keys(void)
{
        const char *events = "low 0\nhigh 17\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n";
        uint64_t v = 0;

        CHECK(kfile_get_key_u64(events, "high", &v) == 0 && v == 17, "high");
        CHECK(kfile_get_key_u64(events, "oom", &v) == 0 && v == 1, "oom is not oom_kill");
        CHECK(kfile_get_key_u64(events, "oom_kill", &v) == 0 && v == 1, "oom_kill");
        CHECK(kfile_get_key_u64(events, "oom_group_kill", &v) == 0 && v == 0, "last key");
        CHECK(kfile_get_key_u64(events, "hig", &v) == -ENOENT, "prefix");
        CHECK(kfile_get_key_u64(events, "missing", &v) == -ENOENT, "missing");
        CHECK(kfile_get_key_u64("populated 1", "populated", &v) == 0 && v == 1, "no trailing newline");
        CHECK(kfile_get_key_u64("populated x\n", "populated", &v) == -EINVAL, "not a number");
        CHECK(kfile_get_key_u64("populated 1x\n", "populated", &v) == -EINVAL, "garbage after number");
        CHECK(kfile_get_key_u64("", "populated", &v) == -ENOENT, "empty");
        CHECK(kfile_get_key_u64("anon 99999999999999999999999\n", "anon", &v) == -EINVAL, "overflow");
}

static void test_limit(void)
{
        uint64_t v = 0;

        CHECK(kfile_parse_limit("max\n", &v) == 0 && v == UINT64_MAX, "max");
        CHECK(kfile_parse_limit("1073741824\n", &v) == 0 && v == 1073741824, "number");
        CHECK(kfile_parse_limit("0", &v) == 0 && v == 0, "zero");
        CHECK(kfile_parse_limit("maximum\n", &v) == -EINVAL, "maximum");
        CHECK(kfile_parse_limit("\n", &v) == -EINVAL, "empty");
        CHECK(kfile_parse_limit("12 34\n", &v) == -EINVAL, "two numbers");
}

static void test_cgroup_path(void)
{
        char buf[64];

        CHECK(kfile_cgroup2_path("0::/user.slice/session-1.scope\n", buf, sizeof(buf)) == 0 &&
                      strcmp(buf, "/user.slice/session-1.scope") == 0,
              "v2 only");
        CHECK(kfile_cgroup2_path("12:memory:/x\n1:name=systemd:/y\n0::/init.scope\n", buf, sizeof(buf)) ==
                              0 &&
                      strcmp(buf, "/init.scope") == 0,
              "hybrid");
        CHECK(kfile_cgroup2_path("0::/\n", buf, sizeof(buf)) == 0 && strcmp(buf, "/") == 0, "root");
        CHECK(kfile_cgroup2_path("12:memory:/x\n", buf, sizeof(buf)) == -ENOENT, "v1 only");
        CHECK(kfile_cgroup2_path("0::/a/very/long/path/that/does/not/fit/in/a/small/buffer\n", buf, 8) ==
                      -ENOBUFS,
              "small buffer");
        CHECK(kfile_cgroup2_path("0::\n", buf, sizeof(buf)) == -EINVAL, "empty path");
}

static void test_v1(void)
{
        char buf[64];
        uint64_t v = 0;

        CHECK(kfile_parse_limit_v1("9223372036854771712\n", &v) == 0 && v == UINT64_MAX,
              "4K-page unlimited");
        CHECK(kfile_parse_limit_v1("9223372036854710272\n", &v) == 0 && v == UINT64_MAX,
              "64K-page unlimited");
        CHECK(kfile_parse_limit_v1("67108864\n", &v) == 0 && v == 67108864, "64M");
        CHECK(kfile_parse_limit_v1("-1\n", &v) == -EINVAL, "-1 is what one writes, never what one reads");
        CHECK(kfile_cgroup1_path("12:memory:/x\n1:name=systemd:/y\n0::/init.scope\n", "memory", buf,
                                 sizeof(buf)) == 0 &&
                      strcmp(buf, "/x") == 0,
              "hybrid memory line");
        CHECK(kfile_cgroup1_path("5:cpu,cpuacct:/a\n4:memory:/b/c\n", "cpuacct", buf, sizeof(buf)) == 0 &&
                      strcmp(buf, "/a") == 0,
              "co-mounted controllers");
        CHECK(kfile_cgroup1_path("5:cpu,cpuacct:/a\n", "cpu,", buf, sizeof(buf)) == -ENOENT,
              "no partial name");
        CHECK(kfile_cgroup1_path("4:memoryx:/b\n", "memory", buf, sizeof(buf)) == -ENOENT,
              "no prefix match");
        CHECK(kfile_cgroup1_path("0::/init.scope\n", "memory", buf, sizeof(buf)) == -ENOENT, "v2 only");
        CHECK(kfile_cgroup1_path("4:memory:/a/long/path\n", "memory", buf, 4) == -ENOBUFS, "small buffer");
        CHECK(kfile_cgroup1_path("4:memory:\n", "memory", buf, sizeof(buf)) == -EINVAL, "empty path");
        CHECK(kfile_cgroup1_path("4:memory:/\n", "memory", buf, sizeof(buf)) == 0 && strcmp(buf, "/") == 0,
              "root, no trailing newline needed");
}

static void test_psi(void)
{
        const char *both = "some avg10=12.34 avg60=5.00 avg300=1.00 total=987654\n"
                           "full avg10=0.50 avg60=0.00 avg300=0.00 total=42\n";
        uint32_t avg = 0;
        uint64_t total = 0;

        CHECK(kfile_psi_parse(both, "some", &avg, &total) == 0 && avg == 1234 && total == 987654, "some");
        CHECK(kfile_psi_parse(both, "full", &avg, &total) == 0 && avg == 50 && total == 42, "full");
        CHECK(kfile_psi_parse("some avg10=100.00 avg60=0 avg300=0 total=1\n", "some", &avg, &total) == 0 &&
                      avg == 10000,
              "100%%");
        CHECK(kfile_psi_parse("some avg10=0.5 avg60=0 avg300=0 total=1\n", "some", &avg, &total) == 0 &&
                      avg == 50,
              "one decimal");
        CHECK(kfile_psi_parse("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n", "full", &avg, &total) ==
                      -ENOENT,
              "no full line (cpu pressure on old kernels)");
        CHECK(kfile_psi_parse("some avg10=x avg60=0 total=1\n", "some", &avg, &total) == -EINVAL, "garbage");
        CHECK(kfile_psi_parse("some avg10=1.00 avg60=0\nfull avg10=0 total=3\n", "some", &avg, &total) ==
                      -EINVAL,
              "total on another line does not count");
        CHECK(kfile_psi_parse("some avg10=101.00 avg60=0 avg300=0 total=1\n", "some", &avg, &total) ==
                      -EINVAL,
              "above 100%%");
}

int main(void)
{
        test_psi();
        test_keys();
        test_limit();
        test_cgroup_path();
        test_v1();
        return check_finish("test-kfile");
}

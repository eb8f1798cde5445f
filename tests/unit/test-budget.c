/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "../../policy/budget.h"
#include "../../policy/launchenv.h"
#include "check.h"

#define M   (UINT64_C(1) << 20)
#define G   (UINT64_C(1) << 30)
#define UNL SIZE_MAX_UNLIMITED

static void test_limits_resolve(void)
{
        static const struct {
                const char *what;
                LimitSpec spec;
                LimitError e;
                uint64_t max, high;
        } rows[] = {
                {"nothing set", {.memory_max_bytes = UNL, .memory_high_bytes = UNL}, LIMIT_OK, UNL, UNL},
                {"max only", {.memory_max_bytes = G, .memory_high_bytes = UNL}, LIMIT_OK, G, UNL},
                {"high only",
                 {.memory_max_bytes = UNL, .memory_high_bytes = 512 * M},
                 LIMIT_OK,
                 UNL,
                 512 * M},
                {"both", {.memory_max_bytes = G, .memory_high_bytes = 768 * M}, LIMIT_OK, G, 768 * M},
                {"high == max", {.memory_max_bytes = G, .memory_high_bytes = G}, LIMIT_OK, G, G},
                {"high 90%",
                 {.memory_max_bytes = G, .memory_high_is_percent = true, .memory_high_permyriad = 9000},
                 LIMIT_OK,
                 G,
                 G * 9 / 10},
                {"high 100%",
                 {.memory_max_bytes = G, .memory_high_is_percent = true, .memory_high_permyriad = 10000},
                 LIMIT_OK,
                 G,
                 G},
                {"percent without max",
                 {.memory_max_bytes = UNL, .memory_high_is_percent = true, .memory_high_permyriad = 9000},
                 LIMIT_HIGH_PERCENT_WITHOUT_MAX},
                {"high above max",
                 {.memory_max_bytes = G, .memory_high_bytes = 2 * G},
                 LIMIT_HIGH_ABOVE_MAX},
                {"max zero", {.memory_max_bytes = 0, .memory_high_bytes = UNL}, LIMIT_MAX_ZERO},
                {"high zero", {.memory_max_bytes = G, .memory_high_bytes = 0}, LIMIT_HIGH_ZERO},
                {"tiny percent of tiny max",
                 {.memory_max_bytes = 100, .memory_high_is_percent = true, .memory_high_permyriad = 1},
                 LIMIT_HIGH_ZERO},
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                MemoryLimits l = {1, 1};
                LimitError e = limits_resolve(&rows[i].spec, &l);
                CHECK(e == rows[i].e, "%s: error %d, want %d", rows[i].what, e, rows[i].e);
                if (e != LIMIT_OK || rows[i].e != LIMIT_OK)
                        continue;
                CHECK(l.max_bytes == rows[i].max && l.high_bytes == rows[i].high,
                      "%s: max %" PRIu64 " high %" PRIu64, rows[i].what, l.max_bytes, l.high_bytes);
        }
        CHECK(strlen(limit_error_to_string(LIMIT_HIGH_ABOVE_MAX)) > 10, "message");
}

static void test_budget(void)
{
        static const struct {
                const char *what;
                MemoryLimits limits;
                bool have;
                uint64_t gomemlimit;
        } rows[] = {
                {"no limits", {UNL, UNL}, false, 0},
                {"1G max: 10% headroom", {G, UNL}, true, G - G / 10 - 0},
                {"1G max, 512M high: high is the budget", {G, 512 * M}, true, 512 * M - (512 * M) / 10},
                {"high only", {UNL, 256 * M}, true, 256 * M - (256 * M) / 10},
                {"64M: the 8M minimum headroom", {64 * M, UNL}, true, 56 * M},
                {"10M: headroom capped at half", {10 * M, UNL}, true, 5 * M},
                {"80M: 10% == 8M exactly", {80 * M, UNL}, true, 72 * M},
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                uint64_t v = 0;
                bool have = budget_go_memlimit(budget_bytes(&rows[i].limits), &v);
                CHECK(have == rows[i].have, "%s: have=%d", rows[i].what, have);
                if (have && rows[i].have) {
                        uint64_t want = rows[i].gomemlimit;
                        /* 10% of 1G is computed in permyriad: allow the 1-byte rounding of bytes/10000*1000.
                         */
                        CHECK(v >= want - 1 && v <= want + 1, "%s: GOMEMLIMIT %" PRIu64 ", want %" PRIu64,
                              rows[i].what, v, want);
                        CHECK(v < budget_bytes(&rows[i].limits), "%s: below the budget", rows[i].what);
                }
        }
}

static void test_launchenv(void)
{
        char *plain[] = {"PATH=/bin", "HOME=/root", NULL};
        char *user[] = {"PATH=/bin", "GOMEMLIMIT=300MiB", NULL};
        char *lookalike[] = {"GOMEMLIMIT_X=1", "XGOMEMLIMIT=2", NULL};
        MemoryLimits one_g = {G, UNL}, none = {UNL, UNL};
        LaunchEnv p;

        launchenv_plan(plain, &one_g, &p);
        CHECK(p.go_source == GOMEMLIMIT_COMPUTED && p.go_memlimit_bytes > 900 * M, "computed for 1G");
        launchenv_plan(user, &one_g, &p);
        CHECK(p.go_source == GOMEMLIMIT_USER && strcmp(p.go_user_value, "300MiB") == 0, "user's kept");
        CHECK(p.go_memlimit_bytes > 900 * M, "computed value still reported beside the user's");
        launchenv_plan(plain, &none, &p);
        CHECK(p.go_source == GOMEMLIMIT_NONE, "no limit, no GOMEMLIMIT");
        launchenv_plan(lookalike, &one_g, &p);
        CHECK(p.go_source == GOMEMLIMIT_COMPUTED, "GOMEMLIMIT_X is not GOMEMLIMIT");
        CHECK(launchenv_get(plain, "PATH") && strcmp(launchenv_get(plain, "PATH"), "/bin") == 0, "get");
        CHECK(launchenv_get(plain, "PAT") == NULL, "prefix is no match");
        CHECK(launchenv_get(NULL, "PATH") == NULL, "NULL env");
}

static void test_base64(void)
{
        static const struct {
                const char *in, *out;
        } rows[] = {
                {"", ""},
                {"f", "Zg=="},
                {"fo", "Zm8="},
                {"foo", "Zm9v"},
                {"foob", "Zm9vYg=="},
                {"some 200000 2000000", "c29tZSAyMDAwMDAgMjAwMDAwMA=="},
        };
        char buf[64];

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
                CHECK(launchenv_base64(rows[i].in, strlen(rows[i].in), buf, sizeof(buf)) == 0 &&
                              strcmp(buf, rows[i].out) == 0,
                      "base64(%s) = %s", rows[i].in, buf);
        CHECK(launchenv_base64("foo", 3, buf, 4) == -ENOBUFS, "too small");
        CHECK(launchenv_base64("foo", 3, buf, 5) == 0, "exactly enough");
}

int main(void)
{
        test_base64();
        test_limits_resolve();
        test_budget();
        test_launchenv();
        return check_finish("test-budget");
}

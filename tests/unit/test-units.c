/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "../../policy/units.h"
#include "check.h"

#define K (UINT64_C(1) << 10)
#define M (UINT64_C(1) << 20)
#define G (UINT64_C(1) << 30)
#define T (UINT64_C(1) << 40)

static void test_parse_size(void)
{
        static const struct {
                const char *in;
                int r;
                uint64_t bytes;
        } rows[] = {
                {"0", 0, 0},
                {"1", 0, 1},
                {"4096", 0, 4096},
                {"1K", 0, K},
                {"1k", 0, K},
                {"512M", 0, 512 * M},
                {"1G", 0, G},
                {"1g", 0, G},
                {"1GiB", 0, G},
                {"1GB", 0, G},
                {"2T", 0, 2 * T},
                {"1.5G", 0, G + G / 2},
                {"0.5M", 0, M / 2},
                {"100B", 0, 100},
                {"max", 0, SIZE_MAX_UNLIMITED},
                {"MAX", 0, SIZE_MAX_UNLIMITED},
                {"infinity", 0, SIZE_MAX_UNLIMITED},
                {"18446744073709551614", 0, UINT64_MAX - 1},
                {"", -EINVAL, 0},
                {"G", -EINVAL, 0},
                {"-1", -EINVAL, 0},
                {"-1G", -EINVAL, 0},
                {" 1G", -EINVAL, 0},
                {"1G ", -EINVAL, 0},
                {"1 G", -EINVAL, 0},
                {"1X", -EINVAL, 0},
                {"1KK", -EINVAL, 0},
                {"1Gi", -EINVAL, 0},
                {"1.5", -EINVAL, 0},
                {"1.", -EINVAL, 0},
                {".5G", -EINVAL, 0},
                {"1e9", -EINVAL, 0},
                {"0x10", -EINVAL, 0},
                {"50%", -EINVAL, 0},
                {"18446744073709551615", -ERANGE, 0}, /* would read back as max */
                {"18446744073709551616", -ERANGE, 0},
                {"99999999999999999999999", -ERANGE, 0},
                {"16777216T", -ERANGE, 0},
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                uint64_t b = 12345;
                int r = units_parse_size(rows[i].in, &b);
                CHECK(r == rows[i].r, "parse_size(\"%s\") = %d, want %d", rows[i].in, r, rows[i].r);
                if (rows[i].r == 0)
                        CHECK(b == rows[i].bytes, "parse_size(\"%s\") = %" PRIu64 ", want %" PRIu64,
                              rows[i].in, b, rows[i].bytes);
                else
                        CHECK(b == 12345, "parse_size(\"%s\") wrote its result on failure", rows[i].in);
        }
        CHECK(units_parse_size(NULL, &(uint64_t){0}) == -EINVAL, "NULL");
}

static void test_parse_percent(void)
{
        static const struct {
                const char *in;
                int r;
                bool pct;
                uint64_t v; /* bytes or permyriad */
        } rows[] = {
                {"90%", 0, true, 9000},        {"100%", 0, true, 10000},
                {"12.5%", 0, true, 1250},      {"0.01%", 0, true, 1},
                {"1G", 0, false, G},           {"max", 0, false, SIZE_MAX_UNLIMITED},
                {"0%", -ERANGE, false, 0},     {"101%", -ERANGE, false, 0},
                {"100.5%", -ERANGE, false, 0}, {"0.001%", -ERANGE, false, 0},
                {"%", -EINVAL, false, 0},      {"-5%", -EINVAL, false, 0},
                {"5 %", -EINVAL, false, 0},    {"5%%", -EINVAL, false, 0},
                {"x%", -EINVAL, false, 0},     {"1G%", -EINVAL, false, 0},
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                uint64_t b = 0;
                uint32_t pm = 0;
                bool is_pct = false;
                int r = units_parse_size_or_percent(rows[i].in, &b, &pm, &is_pct);
                CHECK(r == rows[i].r, "parse_size_or_percent(\"%s\") = %d, want %d", rows[i].in, r,
                      rows[i].r);
                if (r != 0 || rows[i].r != 0)
                        continue;
                CHECK(is_pct == rows[i].pct, "\"%s\" percent=%d", rows[i].in, is_pct);
                CHECK((is_pct ? pm : b) == rows[i].v, "\"%s\" value %" PRIu64, rows[i].in,
                      is_pct ? (uint64_t)pm : b);
        }
        CHECK(units_apply_permyriad(G, 9000) == G * 9 / 10, "90%% of 1G");
        CHECK(units_apply_permyriad(UINT64_MAX - 1, 10000) == UINT64_MAX - 1,
              "100%% of near-max, no overflow");
        CHECK(units_apply_permyriad(1000, 1250) == 125, "12.5%% of 1000");
}

static void test_parse_duration(void)
{
        static const struct {
                const char *in;
                int r;
                usec_t usec;
        } rows[] = {
                {"0", 0, 0},
                {"10", 0, 10 * USEC_PER_SEC},
                {"10s", 0, 10 * USEC_PER_SEC},
                {"500ms", 0, 500 * USEC_PER_MSEC},
                {"2m", 0, 2 * USEC_PER_MINUTE},
                {"1min", 0, USEC_PER_MINUTE},
                {"1.5s", 0, 1500 * USEC_PER_MSEC},
                {"250us", 0, 250},
                {"10S", 0, 10 * USEC_PER_SEC},
                {"", -EINVAL, 0},
                {"s", -EINVAL, 0},
                {"-1s", -EINVAL, 0},
                {"10h", -EINVAL, 0},
                {"10 s", -EINVAL, 0},
                {"1m30s", -EINVAL, 0},
                {"99999999999999999999m", -ERANGE, 0},
                {"999999999999999m", -ERANGE, 0},
        };

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                usec_t u = 7;
                int r = units_parse_duration(rows[i].in, &u);
                CHECK(r == rows[i].r, "parse_duration(\"%s\") = %d, want %d", rows[i].in, r, rows[i].r);
                if (rows[i].r == 0 && r == 0)
                        CHECK(u == rows[i].usec, "parse_duration(\"%s\") = %" PRIu64, rows[i].in,
                              (uint64_t)u);
        }
}

static void test_format_roundtrip(void)
{
        static const uint64_t values[] = {
                0, 1, 1023, K, 1536 * K, 512 * M, G, 3 * G, 2 * T, SIZE_MAX_UNLIMITED, G + 1};
        char buf[UNITS_SIZE_STRLEN];

        for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
                uint64_t back = 0;
                units_format_size(values[i], buf, sizeof(buf));
                CHECK(units_parse_size(buf, &back) == 0 && back == values[i], "roundtrip %" PRIu64 " via %s",
                      values[i], buf);
        }
        CHECK(strcmp(units_format_size(G, buf, sizeof(buf)), "1G") == 0, "%s", buf);
        CHECK(strcmp(units_format_size(1536 * M, buf, sizeof(buf)), "1536M") == 0, "%s", buf);
        CHECK(strcmp(units_format_size_human(G + G / 2, buf, sizeof(buf)), "1.5G") == 0, "%s", buf);
        CHECK(strcmp(units_format_size_human(300, buf, sizeof(buf)), "300B") == 0, "%s", buf);
        CHECK(strcmp(units_format_duration(10 * USEC_PER_SEC, buf, sizeof(buf)), "10s") == 0, "%s", buf);
        CHECK(strcmp(units_format_duration(500 * USEC_PER_MSEC, buf, sizeof(buf)), "500ms") == 0, "%s", buf);
        CHECK(strcmp(units_format_duration(2 * USEC_PER_MINUTE, buf, sizeof(buf)), "2m") == 0, "%s", buf);
}

static void test_format_utc(void)
{
        /* Leap days (2000 is a leap year, 2100 is not), the ends of days and years, and the compact form. */
        static const struct {
                uint64_t sec;
                const char *want;
        } rows[] = {
                {0, "1970-01-01T00:00:00"},          {951782400, "2000-02-29T00:00:00"},
                {951868799, "2000-02-29T23:59:59"},  {1709251199, "2024-02-29T23:59:59"},
                {4107542399, "2100-02-28T23:59:59"}, {4107542400, "2100-03-01T00:00:00"},
                {1798860345, "2027-01-02T03:25:45"}, {253402300799, "9999-12-31T23:59:59"},
        };
        char buf[UNITS_UTC_STRLEN];

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                units_format_utc(rows[i].sec, false, buf, sizeof(buf));
                CHECK(strcmp(buf, rows[i].want) == 0, "utc %llu: '%s', want '%s'",
                      (unsigned long long)rows[i].sec, buf, rows[i].want);
        }
        units_format_utc(1798860345, true, buf, sizeof(buf));
        CHECK(strcmp(buf, "20270102T032545") == 0, "compact utc: '%s'", buf);
#ifndef _WIN32
        /* Every day to 2400, each at a different second of its day, against the C library. */
        for (uint64_t day = 0; day < 157000; day++) {
                uint64_t sec = day * 86400 + day % 86400;
                time_t t = (time_t)sec;
                struct tm tm;
                char want[UNITS_UTC_STRLEN];

                if (!gmtime_r(&t, &tm) || strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
                        continue;
                units_format_utc(sec, false, buf, sizeof(buf));
                if (strcmp(buf, want) != 0) {
                        CHECK(false, "utc %llu: '%s', the C library says '%s'", (unsigned long long)sec, buf,
                              want);
                        break;
                }
        }
#endif
}

int main(void)
{
        test_parse_size();
        test_parse_percent();
        test_parse_duration();
        test_format_roundtrip();
        test_format_utc();
        return check_finish("test-units");
}

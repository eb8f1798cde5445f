/* SPDX-License-Identifier: MIT */
#include "../../policy/pace.h"
#include "check.h"

#define M  (UINT64_C(1) << 20)
#define MS USEC_PER_MSEC
#define S  USEC_PER_SEC

/* One reading after another; each row is what the sampler returns for it. */
typedef struct Reading {
        usec_t at;
        uint64_t current, limit;
        bool pressing;
        usec_t lo, hi; /* the answer lies within [lo, hi] */
} Reading;

static void run(const char *name, const Reading *rows, size_t n)
{
        PaceConfig c;
        PaceState s = {};

        pace_config_default(&c);
        for (size_t i = 0; i < n; i++) {
                const Reading *r = &rows[i];
                usec_t next = pace_next(&c, &s, r->at, r->current, r->limit, r->pressing);
                CHECK(next >= r->lo && next <= r->hi,
                      "%s, reading %zu: %" PRIu64 "us, expected %" PRIu64 "..%" PRIu64 "us", name, i, next,
                      r->lo, r->hi);
        }
}

#define RUN(rows) run(#rows, rows, sizeof(rows) / sizeof(rows[0]))

static void test_still_far_below(void)
{
        /* Far below the limit and not growing: the ceiling. The first reading knows no rate yet. */
        static const Reading rows[] = {
                {0, 10 * M, 256 * M, false, 2 * S, 2 * S},
                {2 * S, 10 * M, 256 * M, false, 2 * S, 2 * S},
                {4 * S, 9 * M, 256 * M, false, 2 * S, 2 * S},
        };
        RUN(rows);
}

static void test_no_limit(void)
{
        /* Nothing to fill: growth does not matter. */
        static const Reading rows[] = {
                {0, 10 * M, SIZE_MAX_UNLIMITED, false, 2 * S, 2 * S},
                {100 * MS, 500 * M, SIZE_MAX_UNLIMITED, false, 2 * S, 2 * S},
                {200 * MS, 900 * M, SIZE_MAX_UNLIMITED, true, 100 * MS, 100 * MS},
        };
        RUN(rows);
}

static void test_growth_shortens(void)
{
        /* 100M/s with 156M of room: 1.56 s to the limit, sample at a quarter of it; then the room shrinks
         * and the interval with it, down to the floor. */
        static const Reading rows[] = {
                {0, 0, 256 * M, false, 2 * S, 2 * S},
                {1 * S, 100 * M, 256 * M, false, 380 * MS, 400 * MS},
                {1390 * MS, 139 * M, 256 * M, false, 280 * MS, 300 * MS},
                {1680 * MS, 168 * M, 256 * M, false, 210 * MS, 230 * MS},
                {2 * S, 250 * M, 256 * M, false, 10 * MS, 10 * MS},
                /* At the limit the kernel acts and reports it: the pressing pace. */
                {2010 * MS, 256 * M, 256 * M, false, 100 * MS, 100 * MS},
        };
        RUN(rows);
}

static void test_fast_jump(void)
{
        /* 60M in 100 ms (600M/s), 80M of room left: 33 ms. The floor holds below 10 ms. */
        static const Reading rows[] = {
                {0, 116 * M, 256 * M, false, 2 * S, 2 * S},
                {100 * MS, 176 * M, 256 * M, false, 30 * MS, 36 * MS},
                {110 * MS, 250 * M, 256 * M, false, 10 * MS, 10 * MS},
        };
        RUN(rows);
}

static void test_rate_fades(void)
{
        /* A burst, then stillness: the remembered rate fades, so the interval lengthens again, not at once.
         */
        static const Reading rows[] = {
                {0, 0, 1024 * M, false, 2 * S, 2 * S},
                {1 * S, 200 * M, 1024 * M, false, 1 * S, 1100 * MS},
                {2 * S, 200 * M, 1024 * M, false, 1900 * MS, 2 * S},
                {4 * S, 200 * M, 1024 * M, false, 2 * S, 2 * S},
        };
        RUN(rows);
}

static void test_near_limit_still(void)
{
        /* A Go heap sitting at its target, 5% below the limit: a still group near the limit is looked at
         * in proportion to its room (a quarter of the ceiling at 5% of 20%), but not faster than the
         * pressing pace; at or over the limit, the pressing pace. */
        static const Reading rows[] = {
                {0, 243 * M, 256 * M, false, 490 * MS, 520 * MS},
                {1 * S, 243 * M, 256 * M, false, 490 * MS, 520 * MS},
                {2 * S, 254 * M, 256 * M, false, 10 * MS, 50 * MS},
                {4 * S, 254 * M, 256 * M, false, 100 * MS, 100 * MS},
                {5 * S, 256 * M, 256 * M, false, 100 * MS, 100 * MS},
                {6 * S, 300 * M, 256 * M, false, 100 * MS, 100 * MS},
        };
        RUN(rows);
}

static void test_pressing(void)
{
        static const Reading rows[] = {
                {0, 10 * M, 256 * M, true, 100 * MS, 100 * MS},
                {100 * MS, 10 * M, 256 * M, false, 2 * S, 2 * S},
        };
        RUN(rows);
}

static void test_clock_backwards(void)
{
        /* A repeated or older timestamp must not divide by zero or invent a rate. */
        static const Reading rows[] = {
                {5 * S, 10 * M, 256 * M, false, 2 * S, 2 * S},
                {5 * S, 200 * M, 256 * M, false, 10 * MS, 2 * S},
                {4 * S, 10 * M, 256 * M, false, 10 * MS, 2 * S},
        };
        RUN(rows);
}

/* A charge read now against an earlier one (last at last_at), and the answer expected of a look function. */
typedef struct LookRow {
        usec_t now, last_at;
        uint64_t current, last, limit;
        bool want;
} LookRow;

typedef bool (*look_fn)(const PaceConfig *c, usec_t now_usec, uint64_t current_bytes, uint64_t limit_bytes,
                        usec_t last_usec, uint64_t last_bytes);

static void check_looks(const char *what, look_fn f, const LookRow *rows, size_t n)
{
        PaceConfig c;

        pace_config_default(&c);
        for (size_t i = 0; i < n; i++)
                CHECK(f(&c, rows[i].now, rows[i].current, rows[i].limit, rows[i].last_at, rows[i].last) ==
                              rows[i].want,
                      "%s, row %zu: expected %s", what, i, rows[i].want ? "true" : "false");
}

static void test_still_band(void)
{
        /* Each row: a charge read now against the last full sample (last_bytes at last_usec); still when the
         * law would see nothing new: within 0.5% of the limit (at least 1M), younger than 30 s. */
        static const LookRow rows[] = {
                {1 * S, 0, 100 * M, 100 * M, 256 * M, true},
                {1 * S, 0, 100 * M + M, 100 * M, 256 * M, true},      /* 1M < 1.28M */
                {1 * S, 0, 100 * M + 2 * M, 100 * M, 256 * M, false}, /* grew past the band */
                {1 * S, 0, 98 * M, 100 * M, 256 * M, false},          /* shrank past it: news too */
                {1 * S, 0, 100 * M + 4 * M, 100 * M, 1024 * M, true}, /* 4M < 5.12M of a 1G limit */
                {1 * S, 0, 100 * M + M / 2, 100 * M, SIZE_MAX_UNLIMITED, true},
                {1 * S, 0, 100 * M + 2 * M, 100 * M, SIZE_MAX_UNLIMITED, false},
                {29 * S, 0, 100 * M, 100 * M, 256 * M, true},
                {30 * S, 0, 100 * M, 100 * M, 256 * M, false},    /* too old: the status wants one */
                {1 * S, 2 * S, 100 * M, 100 * M, 256 * M, false}, /* a clock that went back */
        };

        check_looks("still band", pace_still, rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_faults_backoff(void)
{
        /* A fault that brought news is looked at after 2 ms; each one that brought none doubles the wait, up
         * to 100 ms; news resets it. */
        static const struct {
                usec_t prev;
                bool still;
                usec_t want;
        } rows[] = {
                {0, false, 2 * MS},         {0, true, 2 * MS},         {2 * MS, true, 4 * MS},
                {4 * MS, true, 8 * MS},     {32 * MS, true, 64 * MS},  {64 * MS, true, 100 * MS},
                {100 * MS, true, 100 * MS}, {100 * MS, false, 2 * MS},
        };
        PaceConfig c;

        pace_config_default(&c);
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
                usec_t got = pace_faults_delay(&c, rows[i].prev, rows[i].still);
                CHECK(got == rows[i].want, "faults backoff, row %zu: %" PRIu64 "us, expected %" PRIu64 "us",
                      i, got, rows[i].want);
        }
}

static void test_growing(void)
{
        /* A look is news for the backoff when the charge, at the pace since the look before, would cross the
         * still band (1.28M of 256M; 1M of an unlimited group) within the backoff's top (100 ms): the VM's
         * jump touched 0.3M in its first 11 ms (2.7M in 100 ms at that pace); a 2 MiB/s leak's stray faults
         * (0.2M in 100 ms) are not. */
        static const LookRow rows[] = {
                {11 * MS, 0, 66 * M + 3 * M / 10, 66 * M, 256 * M, true},
                {100 * MS, 0, 66 * M + M / 5, 66 * M, 256 * M, false},
                {100 * MS, 0, 66 * M + 2 * M, 66 * M, 256 * M, true},
                {100 * MS, 0, 66 * M + M, 66 * M, 256 * M, false},           /* 1M < 1.28M */
                {100 * MS, 0, 66 * M + M, 66 * M, SIZE_MAX_UNLIMITED, true}, /* 1M: the band's floor */
                {10 * MS, 0, 66 * M, 66 * M, 256 * M, false},                /* no growth */
                {10 * MS, 0, 60 * M, 66 * M, 256 * M, false},                /* shrinking */
                {10 * MS, 10 * MS, 70 * M, 66 * M, 256 * M, false},          /* no time between */
                {10 * MS, 20 * MS, 70 * M, 66 * M, 256 * M, false},          /* a clock that went back */
        };

        check_looks("growing", pace_growing, rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_faults_quiet(void)
{
        /* A fault 1 s or more after the last one that woke the loop starts afresh; the first one does too,
         * and so does one whose clock went back. A program faulting every 100 ms keeps its backoff. */
        static const struct {
                usec_t now, last;
                bool quiet;
        } rows[] = {
                {5 * S, 0, true},          {5 * S, 4 * S, true},
                {5 * S, 4 * S + 1, false}, {5 * S, 5 * S - 100 * MS, false},
                {4 * S, 5 * S, true},
        };
        PaceConfig c;

        pace_config_default(&c);
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
                CHECK(pace_faults_quiet(&c, rows[i].now, rows[i].last) == rows[i].quiet,
                      "faults quiet, row %zu: expected %s", i, rows[i].quiet ? "quiet" : "backoff kept");
}

int main(void)
{
        test_still_band();
        test_faults_backoff();
        test_growing();
        test_faults_quiet();
        test_still_far_below();
        test_no_limit();
        test_growth_shortens();
        test_fast_jump();
        test_rate_fades();
        test_near_limit_still();
        test_pressing();
        test_clock_backwards();
        return check_finish("test-pace");
}

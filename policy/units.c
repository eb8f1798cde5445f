/* SPDX-License-Identifier: MIT */
#include "units.h"

#include "macro.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Parses "<digits>[.<digits>]" and returns the integer part and the fraction
 * scaled to 1e9 (nine significant decimal places are more than any unit here
 * needs). *endp points after the number. */
static int parse_decimal(const char *s, const char **endp, uint64_t *ret_int, uint64_t *ret_frac_nano)
{
        uint64_t v, frac = 0, scale = 100000000;
        const char *p;
        int r;

        r = parse_u64_prefix(s, &p, &v);
        if (r < 0)
                return r;
        if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                        return -EINVAL;
                for (; *p >= '0' && *p <= '9'; p++) {
                        frac += (uint64_t)(*p - '0') * scale;
                        scale /= 10;
                }
        }
        *endp = p;
        *ret_int = v;
        *ret_frac_nano = frac;
        return 0;
}

/* int.frac * mult, rounded down, or -ERANGE. */
static int scale_decimal(uint64_t v, uint64_t frac_nano, uint64_t mult, uint64_t *ret)
{
        unsigned __int128 total =
                (unsigned __int128)v * mult + (unsigned __int128)frac_nano * mult / 1000000000u;

        if (total > UINT64_MAX)
                return -ERANGE;
        *ret = (uint64_t)total;
        return 0;
}

static bool streq_ci(const char *a, const char *b)
{
        for (; *a && *b; a++, b++) {
                char x = *a, y = *b;
                if (x >= 'A' && x <= 'Z')
                        x = (char)(x - 'A' + 'a');
                if (y >= 'A' && y <= 'Z')
                        y = (char)(y - 'A' + 'a');
                if (x != y)
                        return false;
        }
        return *a == *b;
}

static int size_suffix_multiplier(const char *suffix, uint64_t *ret)
{
        static const struct {
                char c;
                unsigned shift;
        } table[] = {
                {'k', 10},
                {'m', 20},
                {'g', 30},
                {'t', 40},
        };

        if (*suffix == '\0' || streq_ci(suffix, "b")) {
                *ret = 1;
                return 0;
        }
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                char c = suffix[0];
                if (c >= 'A' && c <= 'Z')
                        c = (char)(c - 'A' + 'a');
                if (c != table[i].c)
                        continue;
                if (suffix[1] == '\0' || streq_ci(suffix + 1, "b") || streq_ci(suffix + 1, "ib")) {
                        *ret = UINT64_C(1) << table[i].shift;
                        return 0;
                }
        }
        return -EINVAL;
}

int units_parse_size(const char *s, uint64_t *ret_bytes)
{
        uint64_t v, frac, mult, bytes;
        const char *end;
        int r;

        if (!s || !*s)
                return -EINVAL;
        if (streq_ci(s, "max") || streq_ci(s, "infinity")) {
                *ret_bytes = SIZE_MAX_UNLIMITED;
                return 0;
        }
        r = parse_decimal(s, &end, &v, &frac);
        if (r < 0)
                return r;
        r = size_suffix_multiplier(end, &mult);
        if (r < 0)
                return r;
        if (mult == 1 && frac != 0)
                return -EINVAL; /* "1.5" bytes */
        r = scale_decimal(v, frac, mult, &bytes);
        if (r < 0)
                return r;
        if (bytes == SIZE_MAX_UNLIMITED)
                return -ERANGE; /* would read back as "max" */
        *ret_bytes = bytes;
        return 0;
}

int units_parse_size_or_percent(const char *s, uint64_t *ret_bytes, uint32_t *ret_permyriad,
                                bool *ret_is_percent)
{
        size_t n;

        if (!s || !*s)
                return -EINVAL;
        n = strlen(s);
        if (s[n - 1] == '%') {
                char buf[32];
                uint64_t v, frac, pm;
                const char *end;
                int r;

                if (n >= sizeof(buf))
                        return -EINVAL;
                memcpy(buf, s, n - 1);
                buf[n - 1] = '\0';
                r = parse_decimal(buf, &end, &v, &frac);
                if (r < 0)
                        return r;
                if (*end != '\0')
                        return -EINVAL;
                if (v > 100)
                        return -ERANGE;
                pm = v * 100 + frac / 10000000;
                if (pm == 0 || pm > 10000)
                        return -ERANGE;
                *ret_permyriad = (uint32_t)pm;
                *ret_is_percent = true;
                return 0;
        }

        uint64_t bytes;
        int r = units_parse_size(s, &bytes);
        if (r < 0)
                return r;
        *ret_bytes = bytes;
        *ret_is_percent = false;
        return 0;
}

uint64_t units_apply_permyriad(uint64_t bytes, uint32_t permyriad)
{
        return bytes / 10000 * permyriad + bytes % 10000 * permyriad / 10000;
}

int units_parse_duration(const char *s, usec_t *ret_usec)
{
        static const struct {
                const char *suffix;
                usec_t mult;
        } table[] = {
                {"", USEC_PER_SEC},       {"us", 1},
                {"ms", USEC_PER_MSEC},    {"s", USEC_PER_SEC},
                {"sec", USEC_PER_SEC},    {"m", USEC_PER_MINUTE},
                {"min", USEC_PER_MINUTE},
        };
        uint64_t v, frac, usec;
        const char *end;
        int r;

        if (!s || !*s)
                return -EINVAL;
        r = parse_decimal(s, &end, &v, &frac);
        if (r < 0)
                return r;
        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                if (!streq_ci(end, table[i].suffix))
                        continue;
                r = scale_decimal(v, frac, table[i].mult, &usec);
                if (r < 0)
                        return r;
                *ret_usec = usec;
                return 0;
        }
        return -EINVAL;
}

const char *units_format_size(uint64_t bytes, char *buf, size_t size)
{
        static const char suffixes[] = "KMGT";

        if (bytes == SIZE_MAX_UNLIMITED) {
                snprintf(buf, size, "max");
                return buf;
        }
        for (int i = 3; i >= 0; i--) {
                uint64_t unit = UINT64_C(1) << (10 * (i + 1));
                if (bytes >= unit && bytes % unit == 0) {
                        snprintf(buf, size, "%llu%c", (unsigned long long)(bytes / unit), suffixes[i]);
                        return buf;
                }
        }
        snprintf(buf, size, "%llu", (unsigned long long)bytes);
        return buf;
}

const char *units_format_size_human(uint64_t bytes, char *buf, size_t size)
{
        static const char suffixes[] = "KMGT";

        if (bytes == SIZE_MAX_UNLIMITED) {
                snprintf(buf, size, "max");
                return buf;
        }
        for (int i = 3; i >= 0; i--) {
                uint64_t unit = UINT64_C(1) << (10 * (i + 1));
                if (bytes >= unit) {
                        uint64_t tenths = bytes / (unit / 10);
                        snprintf(buf, size, "%llu.%llu%c", (unsigned long long)(tenths / 10),
                                 (unsigned long long)(tenths % 10), suffixes[i]);
                        return buf;
                }
        }
        snprintf(buf, size, "%lluB", (unsigned long long)bytes);
        return buf;
}

const char *units_format_duration(usec_t usec, char *buf, size_t size)
{
        if (usec % USEC_PER_MINUTE == 0 && usec != 0)
                snprintf(buf, size, "%llum", (unsigned long long)(usec / USEC_PER_MINUTE));
        else if (usec % USEC_PER_SEC == 0)
                snprintf(buf, size, "%llus", (unsigned long long)(usec / USEC_PER_SEC));
        else if (usec % USEC_PER_MSEC == 0)
                snprintf(buf, size, "%llums", (unsigned long long)(usec / USEC_PER_MSEC));
        else
                snprintf(buf, size, "%lluus", (unsigned long long)usec);
        return buf;
}

const char *units_format_utc(uint64_t unix_sec, bool compact, char *buf, size_t size)
{
        /* Days counted from 0000-03-01 instead, so that a leap day ends its year; the calendar repeats every
         * 400 years (146097 days), and within such an era a year is 365 days plus a leap day every 4th,
         * but not every 100th, yet every 400th. */
        uint64_t days = unix_sec / 86400 + 719468, rem = unix_sec % 86400;
        uint64_t era = days / 146097, day_of_era = days % 146097;
        uint64_t year_of_era =
                (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
        uint64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        uint64_t month_from_march = (5 * day_of_year + 2) / 153; /* 0 is March, 11 February */
        unsigned day = (unsigned)(day_of_year - (153 * month_from_march + 2) / 5 + 1);
        unsigned month = (unsigned)(month_from_march < 10 ? month_from_march + 3 : month_from_march - 9);
        unsigned long long year = era * 400 + year_of_era + (month <= 2);

        snprintf(buf, size, compact ? "%04llu%02u%02uT%02u%02u%02u" : "%04llu-%02u-%02uT%02u:%02u:%02u",
                 year, month, day, (unsigned)(rem / 3600), (unsigned)(rem / 60 % 60), (unsigned)(rem % 60));
        return buf;
}

const char *units_error_hint(int error, const char *what)
{
        if (error == -ERANGE)
                return "out of range";
        if (what && strcmp(what, "duration") == 0)
                return "expected a number with a unit: ms, s or m (e.g. 500ms, 10s, 2m)";
        if (what && strcmp(what, "percent") == 0)
                return "expected a size (bytes, or a number with K, M, G or T, 1024-based), 'max', or a percentage of memory-max such as 90%";
        return "expected bytes, a number with K, M, G or T (1024-based, e.g. 512M, 1.5G), or 'max'";
}

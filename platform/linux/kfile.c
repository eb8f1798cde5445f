/* SPDX-License-Identifier: MIT */
#include "kfile.h"

#include "../../policy/macro.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

int kfile_get_key_u64(const char *text, const char *key, uint64_t *ret)
{
        size_t klen = strlen(key);

        for (const char *line = text; line && *line;) {
                const char *nl = strchr(line, '\n');

                if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
                        const char *end;
                        uint64_t v;
                        int r = parse_u64_prefix(line + klen + 1, &end, &v);
                        if (r < 0)
                                return -EINVAL;
                        if (*end != '\n' && *end != '\0')
                                return -EINVAL;
                        *ret = v;
                        return 0;
                }
                line = nl ? nl + 1 : NULL;
        }
        return -ENOENT;
}

int kfile_parse_limit(const char *text, uint64_t *ret)
{
        const char *end;
        uint64_t v;
        int r;

        if (strncmp(text, "max", 3) == 0 && (text[3] == '\n' || text[3] == '\0')) {
                *ret = UINT64_MAX;
                return 0;
        }
        r = parse_u64_prefix(text, &end, &v);
        if (r < 0)
                return -EINVAL;
        if (*end != '\n' && *end != '\0')
                return -EINVAL;
        *ret = v;
        return 0;
}

/* LONG_MAX rounded down to a 64K page: the lowest "unlimited" any page size prints. */
#define V1_UNLIMITED_FLOOR UINT64_C(0x7FFFFFFFFFFF0000)

int kfile_parse_limit_v1(const char *text, uint64_t *ret)
{
        uint64_t v;
        int r;

        r = kfile_parse_limit(text, &v);
        if (r < 0)
                return r;
        *ret = v >= V1_UNLIMITED_FLOOR ? UINT64_MAX : v;
        return 0;
}

/* Whether the comma-separated list [p, end) names controller. */
static bool list_has(const char *p, const char *end, const char *controller)
{
        size_t n = strlen(controller);

        while (p < end) {
                const char *comma = memchr(p, ',', (size_t)(end - p));
                const char *stop = comma ?: end;

                if ((size_t)(stop - p) == n && strncmp(p, controller, n) == 0)
                        return true;
                p = stop + 1;
        }
        return false;
}

/* The path field of a /proc/pid/cgroup line (len bytes at p): absolute, copied NUL-terminated. */
static int copy_cgroup_path(const char *p, size_t len, char *buf, size_t size)
{
        if (len == 0 || p[0] != '/')
                return -EINVAL;
        if (len + 1 > size)
                return -ENOBUFS;
        memcpy(buf, p, len);
        buf[len] = '\0';
        return 0;
}

int kfile_cgroup1_path(const char *text, const char *controller, char *buf, size_t size)
{
        for (const char *line = text; line && *line;) {
                const char *nl = strchr(line, '\n');
                const char *end = nl ?: line + strlen(line);
                const char *c1 = memchr(line, ':', (size_t)(end - line));
                const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;

                if (c2 && c2 > c1 + 1 && list_has(c1 + 1, c2, controller))
                        return copy_cgroup_path(c2 + 1, (size_t)(end - c2 - 1), buf, size);
                line = nl ? nl + 1 : NULL;
        }
        return -ENOENT;
}

int kfile_cgroup2_path(const char *text, char *buf, size_t size)
{
        for (const char *line = text; line && *line;) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);

                if (len >= 3 && strncmp(line, "0::", 3) == 0)
                        return copy_cgroup_path(line + 3, len - 3, buf, size);
                line = nl ? nl + 1 : NULL;
        }
        return -ENOENT;
}

/* "12.34" -> 1234 (hundredths); the kernel always prints two decimals, but be lenient. */
static int parse_hundredths(const char *p, const char **endp, uint32_t *ret)
{
        uint64_t whole, frac = 0;
        int r, digits = 0;

        r = parse_u64_prefix(p, &p, &whole);
        if (r < 0)
                return r;
        if (*p == '.') {
                p++;
                for (; *p >= '0' && *p <= '9'; p++, digits++)
                        if (digits < 2)
                                frac = frac * 10 + (uint64_t)(*p - '0');
                if (digits == 0)
                        return -EINVAL;
                if (digits == 1)
                        frac *= 10;
        }
        if (whole > 100)
                return -ERANGE;
        *endp = p;
        *ret = (uint32_t)(whole * 100 + frac);
        return 0;
}

int kfile_psi_parse(const char *text, const char *which, uint32_t *ret_avg10_permyriad,
                    uint64_t *ret_total_usec)
{
        size_t wl = strlen(which);

        for (const char *line = text; line && *line;) {
                const char *nl = strchr(line, '\n');

                if (strncmp(line, which, wl) == 0 && line[wl] == ' ') {
                        const char *a = strstr(line, "avg10="), *t = strstr(line, "total=");
                        uint32_t avg;
                        uint64_t total;
                        int r;

                        if (!a || !t || (nl && (a > nl || t > nl)))
                                return -EINVAL;
                        r = parse_hundredths(a + 6, &a, &avg);
                        if (r < 0)
                                return -EINVAL;
                        r = parse_u64_prefix(t + 6, &t, &total);
                        if (r < 0)
                                return -EINVAL;
                        *ret_avg10_permyriad = avg;
                        *ret_total_usec = total;
                        return 0;
                }
                line = nl ? nl + 1 : NULL;
        }
        return -ENOENT;
}

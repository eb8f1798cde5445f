/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Language helpers shared by every layer: scope-bound cleanup (systemd's
 * _cleanup_ idiom), ownership transfer, array sizes. Header-only and free of
 * project logic, so the pure policy/ layer can host it without depending on
 * anything.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f)   __attribute__((cleanup(f)))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_     __attribute__((noreturn))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Returns the pointer and leaves NULL behind, so a cleanup attribute no longer frees it. */
#define TAKE_PTR(p)                      \
        ({                               \
                __typeof__(p) _p_ = (p); \
                (p) = NULL;              \
                _p_;                     \
        })
#define TAKE_FD(fd)              \
        ({                       \
                int _fd_ = (fd); \
                (fd) = -1;       \
                _fd_;            \
        })

static inline void freep(void *p)
{
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Closes without touching errno, so a caller's %m still names the real failure. */
static inline int safe_close(int fd)
{
        if (fd >= 0) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return -1;
}
static inline void closep(int *fd)
{
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

static inline void strv_free(char **l)
{
        if (!l)
                return;
        for (char **i = l; *i; i++)
                free(*i);
        free(l);
}
static inline void strv_freep(char ***l)
{
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

#define STRV_FOREACH(s, l) for (char **s = (l); s && *s; s++)

/* Appends s (taking ownership; freed on failure) to the NULL-terminated list *l of *n entries. */
static inline int strv_append(char ***l, size_t *n, char *s)
{
        char **k = realloc(*l, (*n + 2) * sizeof(char *));
        if (!k) {
                free(s);
                return -ENOMEM;
        }
        k[(*n)++] = s;
        k[*n] = NULL;
        *l = k;
        return 0;
}

/* A decimal u64 at p ("123abc" -> 123, *endp at "abc"): -EINVAL without a digit, -ERANGE past UINT64_MAX. */
static inline int parse_u64_prefix(const char *p, const char **endp, uint64_t *ret)
{
        uint64_t v = 0;

        if (*p < '0' || *p > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++) {
                if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t)(*p - '0');
        }
        *endp = p;
        *ret = v;
        return 0;
}

/* Negative errno from a libc call that sets errno, never 0 by accident. */
static inline int negative_errno(void)
{
        return errno > 0 ? -errno : -EIO;
}

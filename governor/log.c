/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int max_level = LOG_NOTICE;

void log_set_max_level(int level)
{
        max_level = level;
}

int log_get_max_level(void)
{
        return max_level;
}

int log_full_errno(int level, int error, const char *fmt, ...)
{
        int saved = errno;
        va_list ap;

        if (error > 0)
                error = -error;
        if (level > max_level)
                return error;

        /* "%m" in fmt names error, or the caller's errno when there is none. */
        errno = error != 0 ? -error : saved;
        va_start(ap, fmt);
        fputs("memgov: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        errno = saved;
        return error;
}

/* SPDX-License-Identifier: MIT */
#include "trace.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../policy/macro.h"
#include "log.h"

struct Trace {
        FILE *f;
        char *path;
        bool failed;
};

int trace_open(const char *path, Trace **ret)
{
        Trace *t = calloc(1, sizeof(*t));

        if (!t)
                return -ENOMEM;
        t->path = strdup(path);
        if (t->path) {
                /* Not fopen(path, "we"): Windows' C library knows no "e", and its text mode would end each
                 * line with CRLF. O_NOCTTY is _O_BINARY there (platform/windows/compat/gnu-compat.h). */
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666);

                t->f = fd < 0 ? NULL : fdopen(fd, "w");
                if (fd >= 0 && !t->f)
                        safe_close(fd);
        }
        if (!t->path || !t->f) {
                int r = t->path ? -errno : -ENOMEM;
                trace_close(t);
                return log_error_errno(r, "--trace '%s': cannot write it: %m", path);
        }
        *ret = t;
        return 0;
}

void trace_line(Trace *t, const char *line, int len)
{
        if (!t || len < 0)
                return;
        if (fwrite(line, 1, (size_t)len, t->f) != (size_t)len || fputc('\n', t->f) == EOF) {
                if (!t->failed)
                        log_warning_errno(errno, "Failed to write the trace to %s: %m, ignoring.", t->path);
                t->failed = true;
        }
}

void trace_flush(Trace *t)
{
        if (t && fflush(t->f) == EOF && !t->failed) {
                log_warning_errno(errno, "Failed to write the trace to %s: %m, ignoring.", t->path);
                t->failed = true;
        }
}

Trace *trace_close(Trace *t)
{
        if (!t)
                return NULL;
        if (t->f && fclose(t->f) == EOF && !t->failed)
                log_warning_errno(errno, "Failed to write the trace to %s: %m.", t->path);
        free(t->path);
        free(t);
        return NULL;
}

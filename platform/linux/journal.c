/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "../../policy/macro.h"
#include "../platform.h"

/* sd_journal_sendv() takes at most this many fields from us; more is the caller's mistake. */
#define JOURNAL_FIELDS_MAX 64

bool platform_journal_available(void)
{
        return true;
}

bool platform_journal_is_stderr(void)
{
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

bool platform_stderr_is_terminal(void)
{
        return isatty(STDERR_FILENO) == 1;
}

int platform_journal_send(const PlatformJournalField *fields, size_t n_fields)
{
        struct iovec iov[JOURNAL_FIELDS_MAX];
        char *lines[JOURNAL_FIELDS_MAX] = {};
        int r = 0;

        if (n_fields > JOURNAL_FIELDS_MAX)
                return -E2BIG;
        for (size_t i = 0; r == 0 && i < n_fields; i++)
                if (asprintf(&lines[i], "%s=%s", fields[i].name, fields[i].value) < 0) {
                        lines[i] = NULL;
                        r = -ENOMEM;
                }
        if (r == 0) {
                for (size_t i = 0; i < n_fields; i++)
                        iov[i] = (struct iovec){.iov_base = lines[i], .iov_len = strlen(lines[i])};
                r = sd_journal_sendv(iov, (int)n_fields);
        }
        for (size_t i = 0; i < ELEMENTSOF(lines); i++)
                free(lines[i]);
        return r;
}

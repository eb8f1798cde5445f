/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <io.h>
#include <stdio.h>

#include "../platform.h"

/* Windows has no systemd journal. The Event Log would be its counterpart, but it wants a registered event
 * source (an installer's job) and nothing of it could be checked under Wine: memgov logs to stderr there,
 * as text or logfmt, and refuses --log-format journal (governor/cli.c). */
bool platform_journal_available(void)
{
        return false;
}

bool platform_journal_is_stderr(void)
{
        return false;
}

/* A console; a file or pipe (and Wine's redirected stderr) is not one. */
bool platform_stderr_is_terminal(void)
{
        return _isatty(_fileno(stderr)) != 0;
}

int platform_journal_send(const PlatformJournalField *fields, size_t n_fields)
{
        return -EOPNOTSUPP;
}

/* SPDX-License-Identifier: MIT */
#include <errno.h>

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

int platform_journal_send(const PlatformJournalField *fields, size_t n_fields)
{
        return -EOPNOTSUPP;
}

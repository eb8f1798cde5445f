/* SPDX-License-Identifier: MIT */
/* logfmt quoting and the log target names. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../governor/log.h"
#include "../../platform/platform.h"
#include "check.h"

int main(void)
{
        static const struct {
                const char *in, *out;
        } rows[] = {
                {"lower-target,gc", "lower-target,gc"}, {"", "\"\""},
                {"two words", "\"two words\""},         {"a=b", "\"a=b\""},
                {"say \"hi\"", "\"say \\\"hi\\\"\""},   {"back\\slash", "\"back\\\\slash\""},
                {"line\nbreak", "\"line\\nbreak\""},    {"tab\there", "\"tab\\x09here\""},
        };
        char buf[64], small[8];
        const char *bad;
        LogTarget t, plain;
        int r;

        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
                CHECK(strcmp(log_logfmt_value(rows[i].in, buf, sizeof(buf)), rows[i].out) == 0,
                      "'%s' -> '%s'", rows[i].in, buf);
        /* Cut short, still one quoted value. */
        CHECK(strcmp(log_logfmt_value("a b c d e f", small, sizeof(small)), "\"a b c\"") == 0, "%s", small);

        CHECK(log_target_from_string("logfmt", &t) == 0 && t == LOG_TARGET_LOGFMT, "logfmt");
        CHECK(log_target_from_string("syslog", &t) < 0, "unknown");
        /* JOURNAL_STREAM that is not our stderr: not the journal, but text on a terminal and logfmt on
         * anything else (under ctest, a pipe). */
        plain = platform_stderr_is_terminal() ? LOG_TARGET_TEXT : LOG_TARGET_LOGFMT;
        setenv("JOURNAL_STREAM", "1:2", 1);
        log_open(LOG_TARGET_AUTO);
        CHECK(log_get_target() == plain, "%s", log_target_to_string(log_get_target()));
        unsetenv("JOURNAL_STREAM");
        log_open(LOG_TARGET_AUTO);
        CHECK(log_get_target() == plain, "%s", log_target_to_string(log_get_target()));
        /* MEMGOV_LOG_FORMAT is the default; a bad value is refused and named, with the target left as it
         * was (text, as main() has it then), so the refusal is said in text. */
        setenv("MEMGOV_LOG_FORMAT", "text", 1);
        CHECK(log_open_default(&bad) == 0 && log_get_target() == LOG_TARGET_TEXT, "env text");
        setenv("MEMGOV_LOG_FORMAT", "yaml", 1);
        CHECK(log_open_default(&bad) == -EINVAL && strcmp(bad, "yaml") == 0 &&
                      log_get_target() == LOG_TARGET_TEXT,
              "env yaml: %s", log_target_to_string(log_get_target()));
        setenv("MEMGOV_LOG_FORMAT", "", 1);
        CHECK(log_open_default(&bad) == 0 && log_get_target() == plain, "env empty");
        unsetenv("MEMGOV_LOG_FORMAT");
        CHECK(log_open_default(&bad) == 0 && log_get_target() == plain && !bad, "env unset");
        (void)log_open(LOG_TARGET_TEXT);
        /* Asked for outright: the journal, or, where the system has none (Windows), a refusal that keeps
         * the target. */
        CHECK(log_target_available(LOG_TARGET_JOURNAL) == platform_journal_available() &&
                      log_target_available(LOG_TARGET_LOGFMT) && log_target_available(LOG_TARGET_TEXT),
              "available");
        r = log_open(LOG_TARGET_JOURNAL);
        CHECK(r == (log_target_available(LOG_TARGET_JOURNAL) ? 0 : -EOPNOTSUPP), "journal: %d", r);
        CHECK(r == 0 ? log_get_target() == LOG_TARGET_JOURNAL
                     : r == -EOPNOTSUPP && log_get_target() == LOG_TARGET_TEXT,
              "%d %s", r, log_target_to_string(log_get_target()));
        CHECK(log_open(LOG_TARGET_LOGFMT) == 0 && log_get_target() == LOG_TARGET_LOGFMT,
              "logfmt everywhere");
        return check_finish("test-log");
}

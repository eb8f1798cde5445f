/* SPDX-License-Identifier: MIT */
#include "log.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../platform/platform.h"
#include "../policy/units.h"

#define LOG_FIELDS_MAX 24

static int max_level = LOG_NOTICE;
static LogTarget target = LOG_TARGET_TEXT;

static const char *const target_names[_LOG_TARGET_MAX] = {
        [LOG_TARGET_AUTO] = "auto",
        [LOG_TARGET_TEXT] = "text",
        [LOG_TARGET_LOGFMT] = "logfmt",
        [LOG_TARGET_JOURNAL] = "journal",
};

static const char *const level_names[] = {"emerg",   "alert",  "crit", "err",
                                          "warning", "notice", "info", "debug"};

void log_set_max_level(int level)
{
        max_level = level;
}

int log_get_max_level(void)
{
        return max_level;
}

int log_target_from_string(const char *s, LogTarget *ret)
{
        for (int i = 0; i < _LOG_TARGET_MAX; i++)
                if (strcmp(s, target_names[i]) == 0) {
                        *ret = (LogTarget)i;
                        return 0;
                }
        return -EINVAL;
}

const char *log_target_to_string(LogTarget t)
{
        return t >= 0 && t < _LOG_TARGET_MAX ? target_names[t] : "unknown";
}

bool log_target_available(LogTarget t)
{
        return t != LOG_TARGET_JOURNAL || platform_journal_available();
}

int log_open(LogTarget t)
{
        if (!log_target_available(t))
                return -EOPNOTSUPP;
        if (t == LOG_TARGET_AUTO)
                t = platform_journal_is_stderr()    ? LOG_TARGET_JOURNAL
                    : platform_stderr_is_terminal() ? LOG_TARGET_TEXT
                                                    : LOG_TARGET_LOGFMT;
        target = t;
        return 0;
}

int log_open_default(const char **ret_bad)
{
        const char *e = getenv("MEMGOV_LOG_FORMAT");
        LogTarget t = LOG_TARGET_AUTO;

        if (e && *e && log_target_from_string(e, &t) < 0) {
                *ret_bad = e;
                return -EINVAL;
        }
        *ret_bad = e;
        return log_open(t);
}

LogTarget log_get_target(void)
{
        return target;
}

const char *log_logfmt_value(const char *value, char *buf, size_t size)
{
        bool quote = !*value;
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *)value; *p && !quote; p++)
                quote = *p <= ' ' || *p == '=' || *p == '"' || *p == '\\' || *p == 0x7f;
        if (size < 3) {
                if (size)
                        buf[0] = '\0';
                return buf;
        }
        if (!quote) {
                snprintf(buf, size, "%s", value);
                return buf;
        }
        buf[n++] = '"';
        for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
                char esc[8];
                size_t len;

                if (*p == '"' || *p == '\\')
                        len = (size_t)snprintf(esc, sizeof(esc), "\\%c", *p);
                else if (*p == '\n')
                        len = (size_t)snprintf(esc, sizeof(esc), "\\n");
                else if (*p < ' ' || *p == 0x7f)
                        len = (size_t)snprintf(esc, sizeof(esc), "\\x%02x", *p);
                else
                        len = (size_t)snprintf(esc, sizeof(esc), "%c", *p);
                if (n + len + 2 > size) /* room for the closing quote and NUL */
                        break;
                memcpy(buf + n, esc, len);
                n += len;
        }
        buf[n++] = '"';
        buf[n] = '\0';
        return buf;
}

static void write_text(const char *msg)
{
        fprintf(stderr, "memgov: %s\n", msg);
}

static void write_logfmt(int level, int error, const LogField *fields, size_t n, const char *msg)
{
        uint64_t now = platform_realtime_usec();
        char when[UNITS_UTC_STRLEN], v[1024];

        units_format_utc(now / USEC_PER_SEC, false, when, sizeof(when));
        fprintf(stderr, "time=%s.%03uZ level=%s msg=%s", when, (unsigned)(now % 1000000 / 1000),
                level_names[level & 7], log_logfmt_value(msg, v, sizeof(v)));
        if (error != 0)
                fprintf(stderr, " errno=%d", -error);
        for (size_t i = 0; i < n; i++) {
                fputc(' ', stderr);
                for (const char *k = fields[i].key; *k; k++)
                        fputc(tolower((unsigned char)*k), stderr);
                fprintf(stderr, "=%s", log_logfmt_value(fields[i].value, v, sizeof(v)));
        }
        fputc('\n', stderr);
}

static void write_journal(int level, int error, const LogField *fields, size_t n, const char *msg)
{
        PlatformJournalField f[LOG_FIELDS_MAX + 4];
        char names[LOG_FIELDS_MAX][64], priority[4], errno_text[16];
        size_t k = 0;

        if (n > LOG_FIELDS_MAX)
                n = LOG_FIELDS_MAX;
        snprintf(priority, sizeof(priority), "%d", level & 7);
        f[k++] = (PlatformJournalField){"MESSAGE", msg};
        f[k++] = (PlatformJournalField){"PRIORITY", priority};
        f[k++] = (PlatformJournalField){"SYSLOG_IDENTIFIER", "memgov"};
        if (error != 0) {
                snprintf(errno_text, sizeof(errno_text), "%d", -error);
                f[k++] = (PlatformJournalField){"ERRNO", errno_text};
        }
        for (size_t i = 0; i < n; i++) {
                snprintf(names[i], sizeof(names[i]), "MEMGOV_%s", fields[i].key);
                f[k++] = (PlatformJournalField){names[i], fields[i].value};
        }
        /* Without the journal, the message still reaches stderr, which systemd reads too. */
        if (platform_journal_send(f, k) < 0)
                write_text(msg);
}

_printf_(5, 0) static int log_dispatch(int level, int error, const LogField *fields, size_t n,
                                       const char *fmt, va_list ap)
{
        int saved = errno;
        char msg[2048];

        if (error > 0)
                error = -error;
        if (level > max_level)
                return error;
        /* "%m" in fmt names error, or the caller's errno when there is none. */
        errno = error != 0 ? -error : saved;
        vsnprintf(msg, sizeof(msg), fmt, ap);
        switch (target) {
        case LOG_TARGET_JOURNAL:
                write_journal(level, error, fields, n, msg);
                break;
        case LOG_TARGET_LOGFMT:
                write_logfmt(level, error, fields, n, msg);
                break;
        default:
                write_text(msg);
        }
        errno = saved;
        return error;
}

int log_struct_errno(int level, int error, const LogField *fields, size_t n_fields, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_dispatch(level, error, fields, n_fields, fmt, ap);
        va_end(ap);
        return r;
}

int log_full_errno(int level, int error, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = log_dispatch(level, error, NULL, 0, fmt, ap);
        va_end(ap);
        return r;
}

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * memgov's own messages. governor/ logs once, where a decision is made; a
 * failure that is tolerated says ", ignoring". The *_errno variants set errno
 * from r so "%m" names the error, and return r (kept negative) so a caller can
 * `return log_error_errno(r, ...);`.
 *
 * Where they go (log_open()): to the journal (platform_journal_send(): sd-journal
 * on Linux, none on Windows) when stderr is connected to it (JOURNAL_STREAM, as systemd sets it for a
 * service), with structured fields MEMGOV_*; otherwise to stderr: "memgov: <text>" lines when stderr is a
 * terminal, logfmt when it is a file, a pipe or a log collector. --log-format, or MEMGOV_LOG_FORMAT when
 * neither the command line nor a policy file says, picks one. The short commands (check, status) and
 * everything until the command line, environment and policy files are read write text: a usage error is a
 * person's to read, as systemd-run's, docker's and env's are, whatever the log target.
 */

#include <stdbool.h>
#include <stddef.h>
#include <syslog.h>

#include "../policy/macro.h"

typedef enum LogTarget {
        LOG_TARGET_AUTO,    /* the journal if stderr is connected to it, text on a terminal, else logfmt */
        LOG_TARGET_TEXT,    /* "memgov: <text>" on stderr */
        LOG_TARGET_LOGFMT,  /* time=... level=... msg="..." key=value ... on stderr */
        LOG_TARGET_JOURNAL, /* sd-journal, with MEMGOV_* fields */
        _LOG_TARGET_MAX,
} LogTarget;

/* Picks the target; AUTO looks at JOURNAL_STREAM and stderr. -EOPNOTSUPP for the journal where the system
 * has none (Windows); the target is then left as it was. */
int log_open(LogTarget t);
/* false for the journal where the system has none: log_open() would refuse it. */
bool log_target_available(LogTarget t);
/* log_open() of MEMGOV_LOG_FORMAT when set, else of AUTO. -EINVAL when the variable names no format,
 * -EOPNOTSUPP when it names the journal where there is none (the target is then left as it was, so the
 * error can be said in text); *ret_bad is the variable. */
int log_open_default(const char **ret_bad);
LogTarget log_get_target(void);
int log_target_from_string(const char *s, LogTarget *ret);
const char *log_target_to_string(LogTarget t);

void log_set_max_level(int level);
int log_get_max_level(void);

/* A structured field: key in upper case without the MEMGOV_ prefix ("ACTION", "TARGET_BYTES"). The
 * journal gets MEMGOV_<KEY>=value, logfmt <key>=value (lower case); the text form only the message. */
typedef struct LogField {
        const char *key;
        const char *value;
} LogField;

_printf_(5, 6) int log_struct_errno(int level, int error, const LogField *fields, size_t n_fields,
                                    const char *fmt, ...);
_printf_(3, 4) int log_full_errno(int level, int error, const char *fmt, ...);

/* value quoted for logfmt when it needs it (space, =, ", \, control characters, empty). Returns buf. */
const char *log_logfmt_value(const char *value, char *buf, size_t size);

#define log_full(level, ...) ((void)log_full_errno((level), 0, __VA_ARGS__))
#define log_debug(...)       log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)        log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)      log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...)     log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)       log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...)   log_full_errno(LOG_DEBUG, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...)   log_full_errno(LOG_ERR, (error), __VA_ARGS__)

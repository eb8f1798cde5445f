/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * memgov's own messages: "memgov: <text>" on stderr. governor/ logs once,
 * where a decision is made; a failure that is tolerated says ", ignoring".
 * The *_errno variants set errno from r so "%m" names the error, and return
 * r (kept negative) so a caller can `return log_error_errno(r, ...);`.
 */

#include <syslog.h>

#include "../policy/macro.h"

void log_set_max_level(int level);
int log_get_max_level(void);

_printf_(3, 4) int log_full_errno(int level, int error, const char *fmt, ...);

#define log_full(level, ...) ((void)log_full_errno((level), 0, __VA_ARGS__))
#define log_debug(...)       log_full(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)        log_full(LOG_INFO, __VA_ARGS__)
#define log_notice(...)      log_full(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...)     log_full(LOG_WARNING, __VA_ARGS__)
#define log_error(...)       log_full(LOG_ERR, __VA_ARGS__)

#define log_debug_errno(error, ...)   log_full_errno(LOG_DEBUG, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...)   log_full_errno(LOG_ERR, (error), __VA_ARGS__)

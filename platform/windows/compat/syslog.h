/* SPDX-License-Identifier: MIT */
#pragma once

/* The log levels of <syslog.h>, which governor/log.h names; mingw-w64 has no
 * syslog. memgov only uses the numbers (it writes to stderr). */
#define LOG_EMERG   0
#define LOG_ALERT   1
#define LOG_CRIT    2
#define LOG_ERR     3
#define LOG_WARNING 4
#define LOG_NOTICE  5
#define LOG_INFO    6
#define LOG_DEBUG   7

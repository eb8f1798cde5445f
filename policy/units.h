/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Parsing and formatting of the units memgov's user interface speaks: sizes
 * ("512M", "1.5G", "max"), percentages ("90%") and durations ("500ms", "10s").
 * Pure functions: no I/O, no allocation, no locale. They return 0 or a negative
 * errno and write their result only on success:
 *   -EINVAL  not of the expected form (empty, garbage, unknown unit),
 *   -ERANGE  of the right form but out of range (overflow, 0%, 101%).
 * units_error_hint() turns that pair into words for the caller's message.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "max": no limit. Also what the kernel prints for an unlimited cgroup file. */
#define SIZE_MAX_UNLIMITED UINT64_MAX

typedef uint64_t usec_t;
#define USEC_PER_MSEC   ((usec_t)1000)
#define USEC_PER_SEC    ((usec_t)1000000)
#define USEC_PER_MINUTE (60 * USEC_PER_SEC)

/* Bytes, or a number with a K/M/G/T suffix (1024-based; an optional trailing
 * "B" or "iB" is accepted: "1G", "1GiB", "1.5g"), or "max". */
int units_parse_size(const char *s, uint64_t *ret_bytes);

/* Like units_parse_size(), but also "N%" (0 < N <= 100, fractions allowed).
 * On success exactly one of *ret_bytes or *ret_permyriad is meaningful:
 * *ret_is_percent says which. Percent is kept in hundredths of a percent so
 * "12.5%" stays exact. */
int units_parse_size_or_percent(const char *s, uint64_t *ret_bytes, uint32_t *ret_permyriad,
                                bool *ret_is_percent);

/* bytes * permyriad / 10000 without overflow. */
uint64_t units_apply_permyriad(uint64_t bytes, uint32_t permyriad);

/* "500ms", "10s", "2m", or a bare number of seconds ("10"). */
int units_parse_duration(const char *s, usec_t *ret_usec);

/* "1G", "512M", "1536K", "123" (bytes) or "max": the largest exact unit, so the
 * text parses back to the same number. Returns buf. */
const char *units_format_size(uint64_t bytes, char *buf, size_t size);
#define UNITS_SIZE_STRLEN 32

/* A human-friendly rounded size with one decimal: "1.5G", "300.2M". */
const char *units_format_size_human(uint64_t bytes, char *buf, size_t size);

/* "10s", "500ms", "1m", "1500us". */
const char *units_format_duration(usec_t usec, char *buf, size_t size);

/* A UTC time of seconds since 1970, ISO 8601: "2026-12-04T03:34:41", or with compact "20261204T033441" (a
 * file name's). By arithmetic alone: glibc's gmtime_r() reads the time zone (/etc/localtime) at its first
 * call, which held memgov's loop 14 ms at the first capture arm in the VM. Returns buf. */
const char *units_format_utc(uint64_t unix_sec, bool compact, char *buf, size_t size);
#define UNITS_UTC_STRLEN 32

/* Why parsing failed, in words, for error messages. */
const char *units_error_hint(int error, const char *what);

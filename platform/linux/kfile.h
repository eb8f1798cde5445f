/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * Parsers of the kernel's text files, on buffers so tests need no files:
 * flat-keyed files ("key value" lines: memory.events, memory.stat,
 * cgroup.events), single values ("max" or a number: memory.max), and the
 * cgroup v2 line of /proc/<pid>/cgroup.
 */

#include <stddef.h>
#include <stdint.h>

/* Finds "key <u64>" in a flat-keyed file. -ENOENT when the key is absent,
 * -EINVAL when its value is not a number. */
int kfile_get_key_u64(const char *text, const char *key, uint64_t *ret);

/* "max\n" -> UINT64_MAX, "12345\n" -> 12345. */
int kfile_parse_limit(const char *text, uint64_t *ret);

/* A cgroup v1 limit (memory.limit_in_bytes, memory.soft_limit_in_bytes): a
 * number, where "unlimited" is the page counter's maximum in bytes
 * (9223372036854771712 with 4K pages; 64K pages round it lower), reported as
 * UINT64_MAX like v2's "max". */
int kfile_parse_limit_v1(const char *text, uint64_t *ret);

/* The path of controller's line ("4:memory:/path", controllers comma-separated,
 * "name=systemd" for named hierarchies) of /proc/<pid>/cgroup, copied into buf.
 * -ENOENT when no v1 hierarchy lists controller, -ENOBUFS when buf is too small. */
int kfile_cgroup1_path(const char *text, const char *controller, char *buf, size_t size);

/* The path of the "0::/path" line of /proc/<pid>/cgroup, copied into buf.
 * -ENOENT when there is no v2 line, -ENOBUFS when buf is too small. */
int kfile_cgroup2_path(const char *text, char *buf, size_t size);

/* One line of a PSI file ("some avg10=1.23 avg60=... avg300=... total=123"):
 * avg10 in hundredths of a percent (1.23% -> 123) and total in usec.
 * which is "some" or "full". -ENOENT when that line is absent. */
int kfile_psi_parse(const char *text, const char *which, uint32_t *ret_avg10_permyriad,
                    uint64_t *ret_total_usec);

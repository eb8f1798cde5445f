/* SPDX-License-Identifier: MIT */
#pragma once

/* Small helpers for cgroupfs: every file is opened relative to its group's
 * directory fd, O_CLOEXEC always. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../platform.h"

#define CGROUP_ROOT_DEFAULT "/sys/fs/cgroup"

/* Says what went wrong in err (may be NULL), for the governor to print. */
__attribute__((format(printf, 2, 3))) void cg_fail(PlatformError *err, const char *fmt, ...);

/* Says in err why creating the group at path (--name name) failed with r; access_hint follows a
 * permission error ("Run as root, ..."). */
void cg_fail_create(PlatformError *err, const char *path, const char *name, int r, const char *access_hint);

/* cg_name_valid(), saying in err why --name is refused. */
int cg_check_name(const char *name, PlatformError *err);

/* Reads a small file (up to size-1 bytes) and NUL-terminates it. */
int cg_read_at(int dirfd, const char *file, char *buf, size_t size);
int cg_write_at(int dirfd, const char *file, const char *value);
int cg_read_key_at(int dirfd, const char *file, const char *key, uint64_t *ret);
int cg_read_limit_at(int dirfd, const char *file, uint64_t *ret);
/* The same through a descriptor kept open: a read at offset 0 makes kernfs generate the file afresh, so a
 * reading taken at every wake-up costs one system call, not four (open, read, read to the end, close). The
 * value must fit one 63-byte read, as memory.current's does. */
int cg_pread_limit(int fd, uint64_t *ret);
/* Like cg_read_at(), through a descriptor opened at the first call and kept in *fd: read again from offset
 * 0, a cgroup file is generated afresh. */
int cg_pread_kept_at(int dirfd, int *fd, const char *file, char *buf, size_t size);
int cg_write_limit_at(int dirfd, const char *file, uint64_t bytes);

/* SIGKILLs every process listed in the group's cgroup.procs until the list is empty: where there is no
 * cgroup.kill (cgroup v1, v2 before 5.14). -EBUSY if it never empties. */
int cg_kill_procs_at(int dirfd);

/* Whether controller is listed in a space-separated controller file. */
bool cg_controller_listed(const char *text, const char *controller);

/* The cgroup v2 path of pid (0: self), e.g. "/user.slice/session-1.scope". */
int cg_pid_get_path(pid_t pid, char *buf, size_t size);

/* Whether pid is in the group rel ("/a/b", relative to the hierarchy's root) or below it, by
 * /proc/<pid>/cgroup: its cgroup v2 line, or with controller (v1: "memory") that controller's line.
 * 1 when it is, 0 when not, a negative errno when the file cannot be read or has no such line. */
int cg_pid_in_group(pid_t pid, const char *controller, const char *rel);

/* Statfs-based detection of the hierarchy under root. sandbox.c's probe asks once per root and keeps the
 * answer. */
int cg_detect_backend(const char *root, PlatformBackend *ret);

/* Rejects names that are not one plain directory (slashes, ".", "..") or that
 * would shadow interface files ("memory.max", "cgroup.procs"). */
int cg_name_valid(const char *name);

/* Joins root + "/" + rel, collapsing duplicate slashes. malloc'd. */
char *cg_join(const char *root, const char *rel);

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The GNU/POSIX library functions that policy/ and governor/ call and
 * mingw-w64's C library lacks. Force-included in the Windows build
 * (cmake/windows.cmake), so the shared sources compile unchanged; the
 * implementations are in gnu-compat.c.
 */

#include <stddef.h>

/* Windows descriptors are not inherited when opened with _O_NOINHERIT: close-on-exec's counterpart. */
#include <fcntl.h>
#ifndef O_CLOEXEC
#define O_CLOEXEC _O_NOINHERIT
#endif
/* No controlling terminals on Windows. memgov asks for O_NOCTTY where it opens a file to read its bytes (the
 * policy files), so there it gets what Linux gives: bytes, not CRLF translation and an end at Ctrl-Z. */
#ifndef O_NOCTTY
#define O_NOCTTY _O_BINARY
#endif

char *strndup(const char *s, size_t n);

void *memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

/* The canonical absolute path of an existing file, malloc'd when resolved is NULL; NULL with errno set
 * (ENOENT) when there is none. Symbolic links are not resolved. */
char *realpath(const char *path, char *resolved);

/* POSIX's environment setters over _putenv_s(), for the shared unit tests (test-log). Windows cannot hold an
 * empty variable: setenv() with "" removes it. */
int setenv(const char *name, const char *value, int overwrite);
int unsetenv(const char *name);

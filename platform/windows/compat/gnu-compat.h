/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * The GNU/POSIX library functions that policy/ and governor/ call and
 * mingw-w64's C library lacks. Force-included in the Windows build
 * (cmake/windows.cmake), so the shared sources compile unchanged; the
 * implementations are in gnu-compat.c.
 */

#include <stddef.h>

void *memmem(const void *haystack, size_t haystack_len, const void *needle, size_t needle_len);

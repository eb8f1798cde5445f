/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * fnmatch(3), which mingw-w64's C library lacks and policy/config-resolve.c calls
 * for the match-* rules of policy files (docs/policy.md: "shell globs").
 * What glibc's fnmatch() does in the C locale with flags 0 or FNM_NOESCAPE,
 * byte by byte: '*', '?', bracket expressions with '!'/'^', ranges and the
 * POSIX classes ([:alpha:] ...), backslash quoting. memgov never calls
 * setlocale(), so glibc's matching on Linux is byte-wise too. The Linux
 * build checks this file against glibc's fnmatch (tests/unit/test-fnmatch-compat.c);
 * the Windows build runs the same table under Wine.
 *
 * Not there: FNM_PATHNAME, FNM_PERIOD, FNM_CASEFOLD and the other GNU flags
 * (refused: -1 and EINVAL, never ignored); equivalence classes and
 * collating symbols other than one byte ([=a=], [.a.]).
 */

#define FNM_NOMATCH  1
#define FNM_PATHNAME (1 << 0)
#define FNM_NOESCAPE (1 << 1)
#define FNM_PERIOD   (1 << 2)

int fnmatch(const char *pattern, const char *string, int flags);

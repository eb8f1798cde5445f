/* SPDX-License-Identifier: MIT */
#pragma once

/* A very small test harness: CHECK() records a failure with its location and
 * goes on; check_finish() prints "N passed, N failed" and gives the exit code. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static unsigned check_passed, check_failed;

#define CHECK(cond, ...)                                                                   \
        do {                                                                               \
                if (cond)                                                                  \
                        check_passed++;                                                    \
                else {                                                                     \
                        check_failed++;                                                    \
                        fprintf(stderr, "%s:%d: FAILED: %s: ", __FILE__, __LINE__, #cond); \
                        fprintf(stderr, __VA_ARGS__);                                      \
                        fputc('\n', stderr);                                               \
                }                                                                          \
        } while (0)

static inline int check_finish(const char *suite)
{
        printf("%s: %u passed, %u failed\n", suite, check_passed, check_failed);
        return check_failed == 0 ? 0 : 1;
}

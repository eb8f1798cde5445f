/* SPDX-License-Identifier: MIT */
#pragma once

/* The fuzz harnesses' invariant check: a broken one aborts, which the fuzzer reports with its input. */
#include <stdio.h>
#include <stdlib.h>

#define REQUIRE(x)                                                                                \
        do {                                                                                      \
                if (!(x)) {                                                                       \
                        fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #x); \
                        abort();                                                                  \
                }                                                                                 \
        } while (0)

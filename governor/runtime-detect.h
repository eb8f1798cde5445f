/* SPDX-License-Identifier: MIT */
#pragma once

/* Reads the files runtime detection looks at; the rules themselves are in policy/runtime.c. */

#include <limits.h>
#include <stdbool.h>

#include "../policy/runtime.h"

typedef struct RuntimeDetection {
        Runtime runtime;
        bool is_elf;
        bool is_static;     /* an ELF without PT_INTERP: LD_PRELOAD cannot reach it */
        bool has_agent;     /* built with libmemgov-agent: it starts its own agent */
        bool has_sanitizer; /* needs a sanitizer runtime that must load first: nothing may be preloaded */
        char program[PATH_MAX]; /* the file the decision was made from */
        char reason[3 * PATH_MAX];
} RuntimeDetection;

/* path: argv[0] as resolved through PATH. Never fails: what cannot be read is RUNTIME_UNKNOWN, with why. */
void runtime_detect(const char *path, char *const *argv, const char *search_path, RuntimeDetection *ret);

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * A caller's fixed buffer, appended to with printf formats. The first append
 * that does not fit marks the buffer overflowed and every later one is a
 * no-op, so a formatter writes straight through and checks once, at the end.
 * Pure: no allocation.
 */

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

typedef struct OutBuf {
        char *buf;
        size_t size, n;
        bool overflow;
} OutBuf;

_printf_(2, 3) void outbuf_append(OutBuf *o, const char *fmt, ...);

/* Return the length written, or -ENOBUFS if anything did not fit. */
int outbuf_done(const OutBuf *o);

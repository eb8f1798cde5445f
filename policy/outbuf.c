/* SPDX-License-Identifier: MIT */
#include "outbuf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

void outbuf_append(OutBuf *o, const char *fmt, ...)
{
        va_list ap;
        int k;

        if (o->overflow)
                return;
        va_start(ap, fmt);
        k = vsnprintf(o->buf + o->n, o->size - o->n, fmt, ap);
        va_end(ap);
        if (k < 0 || (size_t)k >= o->size - o->n)
                o->overflow = true;
        else
                o->n += (size_t)k;
}

int outbuf_done(const OutBuf *o)
{
        return o->overflow ? -ENOBUFS : (int)o->n;
}

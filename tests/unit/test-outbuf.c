/* SPDX-License-Identifier: MIT */
#include <errno.h>

#include "../../policy/outbuf.h"
#include "check.h"

static void test_fits(void)
{
        char buf[8];
        OutBuf o = {.buf = buf, .size = sizeof(buf)};

        outbuf_append(&o, "%s", "abc");
        outbuf_append(&o, "%d", 1234);
        CHECK(outbuf_done(&o) == 7, "seven bytes and the NUL fill eight");
        CHECK(strcmp(buf, "abc1234") == 0, "got %s", buf);
}

static void test_overflow_sticks(void)
{
        char buf[8];
        OutBuf o = {.buf = buf, .size = sizeof(buf)};

        outbuf_append(&o, "%s", "abcd");
        outbuf_append(&o, "%s", "efgh");
        CHECK(o.overflow, "eight bytes do not fit with the NUL");
        CHECK(o.n == 4, "the length stays at the last whole append: %zu", o.n);
        outbuf_append(&o, "%s", "");
        CHECK(outbuf_done(&o) == -ENOBUFS, "an append after overflow does not clear it");
}

int main(void)
{
        test_fits();
        test_overflow_sticks();
        return check_finish("outbuf");
}

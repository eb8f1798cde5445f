/* SPDX-License-Identifier: MIT */
/*
 * The compat fnmatch (platform/windows/compat/fnmatch.c) as the Windows build
 * runs it, under Wine: the case table that the Linux build checks against
 * glibc (tests/unit/test-fnmatch-compat.c), and the flags it refuses.
 */
#include <errno.h>
#include <fnmatch.h>

#include "../../policy/macro.h"
#include "../unit/check.h"
#include "fnmatch-cases.h"

int main(void)
{
        for (size_t i = 0; i < ELEMENTSOF(fnmatch_cases); i++) {
                const FnmatchCase *c = &fnmatch_cases[i];
                int got = fnmatch(c->pattern, c->string, c->noescape ? FNM_NOESCAPE : 0);

                CHECK(got == (c->match ? 0 : FNM_NOMATCH), "\"%s\" against \"%s\": %d", c->pattern,
                      c->string, got);
        }
        errno = 0;
        CHECK(fnmatch("*", "a/b", FNM_PATHNAME) == -1 && errno == EINVAL, "FNM_PATHNAME is not ignored");
        return check_finish("test-fnmatch");
}

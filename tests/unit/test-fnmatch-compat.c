/* SPDX-License-Identifier: MIT */
/*
 * The Windows build's fnmatch (platform/windows/compat/fnmatch.c, built here
 * as compat_fnmatch) against glibc's, which policy/config-resolve.c uses on Linux:
 * the case table with its expected answers, then random patterns and strings
 * over the characters that mean something in a glob. glibc is the reference
 * in the C locale (memgov never calls setlocale()).
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>

#include "../../policy/macro.h"
#include "../windows/fnmatch-cases.h"
#include "check.h"

int compat_fnmatch(const char *pattern, const char *string, int flags);

/* Deterministic, so a failure reproduces. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static unsigned rng(unsigned n)
{
        rng_state ^= rng_state << 13;
        rng_state ^= rng_state >> 7;
        rng_state ^= rng_state << 17;
        return (unsigned)(rng_state % n);
}

static void random_text(char *buf, size_t max, const char *const *atoms, size_t n_atoms)
{
        size_t len = 0, k = rng(8);

        buf[0] = '\0';
        for (size_t i = 0; i < k; i++) {
                const char *a = atoms[rng((unsigned)n_atoms)];
                if (len + strlen(a) + 1 > max)
                        break;
                strcpy(buf + len, a);
                len += strlen(a);
        }
}

static void check_random(unsigned rounds)
{
        static const char *const pattern_atoms[] = {
                "a",     "b",     "-",     "]",  "[",  "!",         "^",         "\\",
                "*",     "?",     ":",     ".",  "=",  "[:alpha:]", "[:digit:]", "[:foo:]",
                "[.a.]", "[.-.]", "[=a=]", "[:", ":]", ".]",        "=]",        "a-c",
                "[a-c]", "[!a]",  "\xe9",  "[=", "[.", "\\]",       "-]",        "[]"};
        static const char *const string_atoms[] = {"a", "b", "c", "-", "]", "[", "!", "\\",
                                                   "*", "1", ":", ".", "=", "A", " ", "\xe9"};
        unsigned differ = 0;

        for (unsigned i = 0; i < rounds; i++) {
                char pattern[64], string[32], *p_copy, *s_copy;
                int flags = rng(4) == 0 ? FNM_NOESCAPE : 0, want, got;

                random_text(pattern, sizeof(pattern), pattern_atoms, ELEMENTSOF(pattern_atoms));
                random_text(string, sizeof(string), string_atoms, ELEMENTSOF(string_atoms));
                if (rng(2) == 0)
                        /* The pattern's own bytes, some dropped: what a '[' read as a literal has to match.
                         */
                        for (size_t j = 0, k = 0; k + 1 < sizeof(string); j++) {
                                string[k] = pattern[j];
                                if (!pattern[j])
                                        break;
                                if (rng(5) != 0)
                                        k++;
                        }
                want = fnmatch(pattern, string, flags);
                /* Exact-size copies, so that a read past the NUL is an ASan error in the sanitized build. */
                p_copy = strdup(pattern);
                s_copy = strdup(string);
                if (!p_copy || !s_copy)
                        abort();
                got = compat_fnmatch(p_copy, s_copy, flags);
                free(p_copy);
                free(s_copy);
                if (want != got && differ++ < 20)
                        fprintf(stderr, "differ: fnmatch(\"%s\", \"%s\", %d): glibc %d, compat %d\n",
                                pattern, string, flags, want, got);
        }
        CHECK(differ == 0, "%u of %u random cases differ from glibc", differ, rounds);
}

/* Every class against every byte. */
static void check_classes(void)
{
        static const char *const classes[] = {"alnum", "alpha", "blank", "cntrl", "digit", "graph",
                                              "lower", "print", "punct", "space", "upper", "xdigit"};
        unsigned differ = 0;

        for (size_t i = 0; i < ELEMENTSOF(classes); i++)
                for (int b = 1; b < 256; b++) {
                        char pattern[32], string[2] = {(char)b, '\0'};
                        snprintf(pattern, sizeof(pattern), "[[:%s:]]", classes[i]);
                        if (fnmatch(pattern, string, 0) != compat_fnmatch(pattern, string, 0) &&
                            differ++ < 20)
                                fprintf(stderr, "differ: %s against byte %d\n", pattern, b);
                }
        CHECK(differ == 0, "%u class/byte pairs differ from glibc", differ);
}

int main(int argc, char **argv)
{
        for (size_t i = 0; i < ELEMENTSOF(fnmatch_cases); i++) {
                const FnmatchCase *c = &fnmatch_cases[i];
                int flags = c->noescape ? FNM_NOESCAPE : 0;
                int want = c->match ? 0 : FNM_NOMATCH;

                CHECK(fnmatch(c->pattern, c->string, flags) == want, "glibc: \"%s\" \"%s\"", c->pattern,
                      c->string);
                CHECK(compat_fnmatch(c->pattern, c->string, flags) == want, "compat: \"%s\" \"%s\"",
                      c->pattern, c->string);
        }
        /* Flags the compat fnmatch does not implement are refused, not ignored. */
        errno = 0;
        CHECK(compat_fnmatch("*", "a/b", FNM_PATHNAME) == -1 && errno == EINVAL, "FNM_PATHNAME");
        CHECK(compat_fnmatch("*", ".a", FNM_PERIOD) == -1 && errno == EINVAL, "FNM_PERIOD");
        check_classes();
        check_random(argc > 1 ? (unsigned)atoi(argv[1]) : 500000);
        return check_finish("test-fnmatch-compat");
}

/* SPDX-License-Identifier: MIT */
/*
 * fnmatch(3) for mingw-w64, with glibc's results in the C locale (see
 * fnmatch.h), corner cases included: a bracket expression without its ']'
 * is a literal '[', a range or a class name that cannot be read fails the
 * match, and a '-' before the last character of a bracket only starts a
 * range when another character follows it. tests/unit/test-fnmatch-compat.c
 * compares this file with glibc on random patterns.
 */
#include "fnmatch.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

typedef enum {
        BRACKET_NOMATCH,
        BRACKET_MATCH,
        BRACKET_LITERAL, /* no ']': the '[' is an ordinary character */
        BRACKET_ERROR,   /* a malformed member: the pattern matches nothing here */
} BracketResult;

/* The C locale's classes, ASCII only: bytes above 127 belong to none. */
static int class_find(const char *name, size_t len)
{
        static const char *const names[] = {"alnum", "alpha", "blank", "cntrl", "digit", "graph",
                                            "lower", "print", "punct", "space", "upper", "xdigit"};

        for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
                if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
                        return i;
        return -1;
}

static bool class_has(int class, unsigned char c)
{
        bool upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z', digit = c >= '0' && c <= '9';
        bool graph = c >= 33 && c <= 126;

        switch (class) {
        case 0:
                return upper || lower || digit;
        case 1:
                return upper || lower;
        case 2:
                return c == ' ' || c == '\t';
        case 3:
                return c < 32 || c == 127;
        case 4:
                return digit;
        case 5:
                return graph;
        case 6:
                return lower;
        case 7:
                return graph || c == ' ';
        case 8:
                return graph && !upper && !lower && !digit;
        case 9:
                return c == ' ' || (c >= '\t' && c <= '\r');
        case 10:
                return upper;
        default:
                return digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
        }
}

/* A class name is lower-case letters up to ":]"; anything else makes the "[:" two ordinary characters.
 * *p points at the ':'. Returns the class, -1 for a bad name, -2 for "not a class". */
static int class_parse(const char **p)
{
        const char *name = *p + 1, *q = name;

        while (*q >= 'a' && *q < 'z')
                q++;
        if (q[0] != ':' || q[1] != ']')
                return -2;
        *p = q + 2;
        return class_find(name, (size_t)(q - name));
}

/* "[.c.]" with *p at the '.': one byte, the only collating symbol the C locale names. Returns it, or -1. */
static int collating_parse(const char **p)
{
        const char *q = *p + 1, *end = strstr(q, ".]");

        /* The name ends at the first ".]": "[..]" names nothing, "[...]" names '.'. */
        if (!end || end - q != 1)
                return -1;
        *p = end + 2;
        return (unsigned char)*q;
}

/* The members after '[' (and '!' or '^'), scanned until one matches c; *p is left after the member. */
static BracketResult bracket_scan(const char **pp, unsigned char c, bool escape)
{
        const char *p = *pp;
        unsigned char m = (unsigned char)*p++, lo;

        for (;;) {
                bool range_next;
                int k;

                if (escape && m == '\\') {
                        if (*p == '\0')
                                return BRACKET_ERROR;
                        m = (unsigned char)*p++;
                        goto single;
                }
                if (m == '\0')
                        return BRACKET_LITERAL;
                if (m == '[' && *p == ':') {
                        k = class_parse(&p);
                        if (k == -2)
                                goto single;
                        if (k < 0)
                                return BRACKET_ERROR;
                        if (class_has(k, c))
                                goto matched;
                        m = (unsigned char)*p++;
                        goto next;
                }
                if (m == '[' && *p == '=') {
                        /* "[=c=]": in the C locale, the byte itself. */
                        if (p[1] == '\0' || p[2] != '=' || p[3] != ']')
                                goto single;
                        lo = (unsigned char)p[1];
                        p += 4;
                        if (lo == c)
                                goto matched;
                        m = (unsigned char)*p++;
                        goto next;
                }
                if (m == '[' && *p == '.') {
                        k = collating_parse(&p);
                        if (k < 0)
                                return BRACKET_ERROR;
                        lo = (unsigned char)k;
                        range_next = p[0] == '-' && p[1] != '\0';
                        goto start;
                }
        single:
                lo = m;
                range_next = p[0] == '-' && p[1] != '\0' && p[1] != ']';
        start:
                if (!range_next && lo == c)
                        goto matched;
                m = (unsigned char)*p++;
                if (m == '-' && *p != ']') {
                        unsigned char hi = (unsigned char)*p++;
                        if (hi == '[' && *p == '.') {
                                k = collating_parse(&p);
                                if (k < 0)
                                        return BRACKET_ERROR;
                                hi = (unsigned char)k;
                        } else if (escape && hi == '\\')
                                hi = (unsigned char)*p++;
                        if (hi == '\0')
                                return BRACKET_ERROR;
                        if (lo <= c && c <= hi)
                                goto matched;
                        m = (unsigned char)*p++;
                }
        next:
                if (m == ']') {
                        *pp = p;
                        return BRACKET_NOMATCH;
                }
        }
matched:
        *pp = p;
        return BRACKET_MATCH;
}

/* After a member matched: the rest up to ']', read as members without judging them. */
static BracketResult bracket_skip(const char **pp, bool escape)
{
        const char *p = *pp;

        for (;;) {
                char m = *p++;

                if (m == '\0')
                        return BRACKET_LITERAL;
                if (m == ']')
                        break;
                if (escape && m == '\\') {
                        if (*p == '\0')
                                return BRACKET_ERROR;
                        p++;
                } else if (m == '[' && *p == ':') {
                        const char *q = p;
                        if (class_parse(&q) != -2)
                                p = q;
                } else if (m == '[' && *p == '=') {
                        if (p[1] == '\0' || p[2] != '=' || p[3] != ']')
                                return BRACKET_ERROR;
                        p += 4;
                } else if (m == '[' && *p == '.') {
                        const char *end = strstr(p + 1, ".]");
                        if (!end)
                                return BRACKET_ERROR;
                        p = end + 2;
                }
        }
        *pp = p;
        return BRACKET_MATCH;
}

/* A bracket expression, *pp just after its '['. */
static BracketResult bracket_match(const char **pp, unsigned char c, bool escape)
{
        const char *p = *pp;
        bool negate = *p == '!' || *p == '^';
        BracketResult r;

        if (negate)
                p++;
        r = bracket_scan(&p, c, escape);
        if (r == BRACKET_MATCH)
                r = bracket_skip(&p, escape);
        if (r == BRACKET_MATCH || r == BRACKET_NOMATCH) {
                *pp = p;
                if (negate)
                        r = r == BRACKET_MATCH ? BRACKET_NOMATCH : BRACKET_MATCH;
        }
        return r;
}

/* One element of the pattern (not '*') against the byte c; *p advances past it when it matches. */
static bool element_match(const char **p, unsigned char c, bool escape)
{
        const char *q = *p;
        unsigned char want = (unsigned char)*q++;

        if (want == '?') {
                *p = q;
                return true;
        }
        if (want == '[') {
                switch (bracket_match(&q, c, escape)) {
                case BRACKET_MATCH:
                        *p = q;
                        return true;
                case BRACKET_LITERAL:
                        break; /* the '[' alone, then what follows it */
                default:
                        return false;
                }
        } else if (want == '\\' && escape) {
                want = (unsigned char)*q++;
                if (want == '\0')
                        return false;
        }
        if (want != c)
                return false;
        *p = q;
        return true;
}

int fnmatch(const char *pattern, const char *string, int flags)
{
        bool escape = !(flags & FNM_NOESCAPE);
        const char *p = pattern, *s = string, *star_p = NULL, *star_s = NULL;

        if (flags & ~FNM_NOESCAPE) {
                errno = EINVAL;
                return -1;
        }
        for (;;) {
                if (*p == '*') {
                        /* Each element consumes exactly one byte, so on a mismatch it is enough to let
                         * the last '*' take one byte more and try again from there. */
                        while (*p == '*')
                                p++;
                        star_p = p;
                        star_s = s;
                        continue;
                }
                if (*p == '\0') {
                        if (*s == '\0')
                                return 0;
                } else if (*s != '\0' && element_match(&p, (unsigned char)*s, escape)) {
                        s++;
                        continue;
                }
                if (!star_p || *star_s == '\0')
                        return FNM_NOMATCH;
                p = star_p;
                s = ++star_s;
        }
}

/* SPDX-License-Identifier: MIT */
#pragma once

/*
 * fnmatch() cases, flags 0 unless said, with glibc's answer in the C locale.
 * The Linux build checks every row against glibc and against the compat
 * fnmatch (tests/unit/test-fnmatch-compat.c); the Windows build checks the
 * compat one under Wine (tests/windows/test-fnmatch.c). The first rows are
 * the policy files' uses (docs/policy.md, examples/policies/).
 */

#include <stdbool.h>

typedef struct FnmatchCase {
        const char *pattern;
        const char *string;
        bool noescape;
        bool match;
} FnmatchCase;

static const FnmatchCase fnmatch_cases[] = {
        /* match-command, match-exe, match-env as the docs and examples write them */
        {"api-*", "api-server", false, true},
        {"api-*", "api-", false, true},
        {"api-*", "web-api", false, false},
        {"gunicorn", "gunicorn", false, true},
        {"gunicorn", "gunicorn3", false, false},
        {"*/bin/java", "/usr/lib/jvm/java-17/bin/java", false,
         true}, /* '*' crosses '/' without FNM_PATHNAME */
        {"*/bin/java", "/usr/bin/javac", false, false},
        {"/opt/jdk*/bin/java", "/opt/jdk-21/bin/java", false, true},
        {"/opt/jdk*/bin/java", "/opt/jre/bin/java", false, false},
        {"*\\\\bin\\\\java.exe", "C:\\jdk\\bin\\java.exe", false,
         true}, /* Windows paths (docs/windows.md) */
        {"*/bin/java", "C:\\jdk\\bin\\java.exe", false, false},
        {"*api-server*", "C:\\srv\\api-server.exe", false, true},
        {"front*", "frontend", false, true},
        {"front*", "Frontend", false, false}, /* case matters */
        {"*", "", false, true},
        {"*", ".hidden", false, true}, /* no FNM_PERIOD */
        {"", "", false, true},
        {"", "a", false, false},
        {"a", "", false, false},
        /* '?' and '*' */
        {"?", "a", false, true},
        {"?", "", false, false},
        {"?", "/", false, true},
        {"a?c", "abc", false, true},
        {"a?c", "ac", false, false},
        {"*a", "bba", false, true},
        {"*a*b", "xaxxb", false, true},
        {"*a*b", "xaxx", false, false},
        {"a*b*c", "abbbcbc", false, true},
        {"a**b", "ab", false, true},
        {"*?", "", false, false},
        {"*?*?", "ab", false, true},
        {"*?*?", "a", false, false},
        /* bracket expressions */
        {"[abc]", "b", false, true},
        {"[abc]", "d", false, false},
        {"[a-c]x", "bx", false, true},
        {"[a-c]x", "dx", false, false},
        {"[!a-c]", "d", false, true},
        {"[!a-c]", "b", false, false},
        {"[^a-c]", "d", false, true},
        {"[]]", "]", false, true},
        {"[]a]", "a", false, true},
        {"[!]]", "]", false, false},
        {"[!]]", "x", false, true},
        {"[a-]", "-", false, true},
        {"[-a]", "-", false, true},
        {"[c-a]", "b", false, false}, /* an empty range */
        {"[[:digit:]]*", "7up", false, true},
        {"[[:digit:]]*", "up", false, false},
        {"[[:alpha:][:digit:]]", "Q", false, true},
        {"[[:upper:]]", "q", false, false},
        {"[[:space:]]", "\t", false, true},
        {"[[:punct:]]", "_", false, true},
        {"[[:xdigit:]]", "G", false, false},
        {"[[:xdigit:]]", "e", false, true},
        {"[[:blank:]]", " ", false, true},
        {"[[:blank:]]", "\n", false, false},
        {"[[:cntrl:]]", "\x7f", false, true},
        {"[[:graph:]]", " ", false, false},
        {"[[:print:]]", " ", false, true},
        {"[[:lower:]]", "q", false, true},
        {"[[:alnum:]]", "\xe9", false, false}, /* bytes above 127 are in no class */
        {"[![:alnum:]]", "-", false, true},
        {"[[:foo:]]", "f", false, false}, /* an unknown class matches nothing */
        {"[[:alpha:]-z]", "-", false, true},
        {"[[.a.]]", "a", false, true},
        {"[[=a=]]", "a", false, true},
        {"[[=a=]b]", "b", false, true},
        {"[\\]]", "]", false, true},
        {"[a\\-z]", "-", false, true},
        {"[a\\-z]", "m", false, false},
        /* a '[' without its ']' */
        {"[", "[", false, true},
        {"[ab", "[ab", false, true},
        {"[ab", "a", false, false},
        {"[*", "[xyz", false, true},
        {"[[*", "[[", false, true}, /* even when a member would have matched */
        {"[a*", "a", false, false},
        {"[a-", "b", false, false},
        /* backslash */
        {"\\*", "*", false, true},
        {"\\*", "x", false, false},
        {"\\", "\\", false, false}, /* a trailing backslash matches nothing */
        {"a\\b", "ab", false, true},
        {"\\*", "\\x", true, true}, /* FNM_NOESCAPE: the backslash is itself */
        {"\\*", "*", true, false},
};

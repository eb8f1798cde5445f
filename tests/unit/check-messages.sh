#!/bin/bash
# scripts/check-messages: the tree has no message split across string literals, and the checker
# finds one (naming file and line), joins it with --fix, and leaves alone what it says it allows.
# Usage: check-messages.sh SOURCE_DIR
set -u
SRC=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# shellcheck source=../lib/okbad.sh
. "$SRC/tests/lib/okbad.sh"
check=$SRC/scripts/check-messages

passes_in "$SRC" "the tree has no split message" "$check"

cat >"$T/split.c" <<'C'
void f(void)
{
        log_error("cannot "
                  "open %s", p);
        cg_fail(err, "a" /* why */ "b");
        s = "\x4" "1";
}
C
out=$("$check" "$T/split.c" 2>/dev/null)
rc=$?
[ "$rc" -eq 1 ] && ok "a split fails the check" || bad "a split: exit $rc, want 1"
want="$T/split.c:3: message split across string literals: \"cannot \" \"open %s\"
$T/split.c:5: message split across string literals: \"a\" \"b\"
$T/split.c:6: message split across string literals: \"\\x4\" \"1\"; cannot be joined as is (an escape or prefix differs)"
[ "$out" == "$want" ] && ok "each split is named by file:line" || {
        bad "the report:"
        diff <(echo "$want") <(echo "$out") | sed 's/^/#   /'
}
"$check" --fix "$T/split.c" >/dev/null 2>&1
grep -q 'log_error("cannot open %s", p);' "$T/split.c" && grep -q 'cg_fail(err, "ab");' "$T/split.c" &&
        grep -qF 's = "\x4" "1";' "$T/split.c" && ok "--fix joins what it can and only that" ||
        bad "--fix left: $(cat "$T/split.c")"

cat >"$T/allowed.c" <<'C'
#define MSG "a " "b"
#define LONG(x) "pre " \
        "post" x
#include "x.h"
/* "c" "d" */
// "e" "f"
static const char q = '"';
void f(void)
{
        printf("%" PRIu64 " bytes\n", n);
        log_error("memgov: " FMT, x);
        printf("line one\n"
               "line two\n");
}
C
out=$("$check" "$T/allowed.c" 2>&1) && ok "macros, comments, a macro between literals and whole lines pass" ||
        bad "allowed cases flagged: $out"

[ "$failed" -eq 0 ]

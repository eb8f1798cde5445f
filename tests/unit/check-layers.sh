#!/bin/bash
# scripts/check-layers: governor/ and policy/ name no cgroup file and no /proc or /sys path, and the
# checker finds one in code or in a comment (naming file and line) and leaves words alone.
# Usage: check-layers.sh SOURCE_DIR
set -u
SRC=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# shellcheck source=../lib/okbad.sh
. "$SRC/tests/lib/okbad.sh"
check=$SRC/scripts/check-layers

passes_in "$SRC" "governor/ and policy/ name no kernel file" "$check"

cat >"$T/named.c" <<'C'
/* The budget is memory.high when set. */
static const char *root = "/sys/fs/cgroup";
int f(void)
{
        return open("/proc/self/cgroup", O_RDONLY) + cg_write(g, "cgroup.procs", "0");
}
C
out=$("$check" "$T/named.c" 2>/dev/null)
rc=$?
[ "$rc" -eq 1 ] && ok "a named file fails the check" || bad "named files: exit $rc, want 1"
check "each is named by file:line" "$(echo "$out" | cut -d' ' -f1-3)" "$T/named.c:1: names 'memory.high':
$T/named.c:2: names '/sys/':
$T/named.c:5: names '/proc':
$T/named.c:5: names 'cgroup.procs':"

cat >"$T/words.c" <<'C'
/* The throttle point, the hard limit, the charge; memory_high_bytes, a process, /processes. */
int memory_max_bytes;
C
out=$("$check" "$T/words.c" 2>&1) && ok "the project's words and field names pass" || bad "words flagged: $out"

[ "$failed" -eq 0 ]

#!/bin/bash
# memgov check and explain with policy files, from outside: the exact lines and
# exit status of check, the shipped examples, and explain's precedence and
# origins. No cgroup is touched (explain only plans).
# Usage: check-cli.sh MEMGOV SOURCE_DIR
# (MEMGOV may be tests/windows/memgov-wine.sh's stand-in for memgov.exe under Wine.)
set -u
MEMGOV=$1
SRC=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
# shellcheck source=../lib/okbad.sh
. "$SRC/tests/lib/okbad.sh"

cat >"$T/bad.ini" <<'INI'
[defaults]
memory-max = 1G
memroy-high = 90%
grace = forever
X-Note = hello
[profile "api"]
match-env = ROLE
INI
printf '[defaults]\nheadroom = 150%%\n' >"$T/bad2.ini"
out=$("$MEMGOV" check "$T/bad.ini" "$T/bad2.ini" "$T/missing.ini")
rc=$?
check "check: exit status" "$rc" 1
check "check: every problem in every file" "$out" "$T/bad.ini:3: memroy-high: unknown key
$T/bad.ini:4: grace: 'forever': expected a number with a unit: ms, s or m (e.g. 500ms, 10s, 2m)
$T/bad.ini:5: X-Note: warning: ignored (X- keys are left for local use)
$T/bad.ini:7: match-env: expected NAME=PATTERN, such as ROLE=api
$T/bad2.ini:2: headroom: '150%': a percentage must be at most 100%
$T/missing.ini: cannot read: No such file or directory"

out=$("$MEMGOV" check "$SRC/examples/policies/memgov.ini" "$SRC"/examples/policies/conf.d/*.ini)
check "check: the shipped examples are valid" "$?" 0

# explain: the drop-in over the file, the environment over the profile, the command line over all.
out=$(MEMGOV_GRACE=3s MEMGOV_CONFIG_DIR="$SRC/examples/policies" "$MEMGOV" explain --memory-high 80% \
        -- api-orders 2>/dev/null)
grep_line() { echo "$out" | grep -E "^  $1 " | sed 's/  */ /g'; }
check "explain: profile" "$(echo "$out" | grep '^profile:')" \
        "profile:           api (match-command api-* ($SRC/examples/policies/memgov.ini:23))"
check "explain: drop-in" "$(grep_line memory-max)" \
        " memory-max 3G # [profile \"api\"] $SRC/examples/policies/conf.d/50-api-memory.ini:5"
check "explain: environment" "$(grep_line grace)" " grace 3s # environment MEMGOV_GRACE"
check "explain: command line" "$(grep_line memory-high)" " memory-high 80% # command line"
check "explain: inherited from [defaults]" "$(grep_line headroom)" \
        " headroom 5% # [defaults] $SRC/examples/policies/memgov.ini:9"
# The hard limit's line: memory.max on cgroup v2, memory.limit_in_bytes on v1 and hybrid hosts (like the dev
# hosts), JobMemoryLimit on Windows (the Windows build runs this too).
check "explain: limits follow" "$(echo "$out" | sed -n 's/^\(memory\.max\|memory\.limit_in_bytes\|JobMemoryLimit\)  *//p')" "3G"

# run refuses a bad policy before touching anything (exit 125), naming file and line.
mkdir -p "$T/dir/conf.d" && cp "$T/bad2.ini" "$T/dir/conf.d/"
err=$("$MEMGOV" explain --config-dir "$T/dir" -- true 2>&1 >/dev/null)
check "a bad policy stops explain/run with 125" "$?" 125
check "... and says where" "$err" "memgov: $T/dir/conf.d/bad2.ini:2: headroom: '150%': a percentage must be at most 100%"
err=$("$MEMGOV" explain --profile nope --config-dir "$SRC/examples/policies" -- true 2>&1 >/dev/null | grep -v X-Owner)
check "an unknown --profile is an error" "$err" "memgov: command line: profile: no [profile \"nope\"] in the policy files"

# A usage error is text, "memgov: ...", whatever the log target, as systemd-run's, docker's and env's are:
# stderr is a pipe here, where memgov's own log (once the child runs) would be logfmt. Parsing fails before
# anything is created, so run is safe to call on the host.
size_hint="expected bytes, a number with K, M, G or T (1024-based, e.g. 512M, 1.5G), or 'max'"
for how in "-u MEMGOV_LOG_FORMAT" "MEMGOV_LOG_FORMAT=logfmt" "MEMGOV_LOG_FORMAT=auto"; do
        # shellcheck disable=SC2086 # $how is env's arguments
        err=$(env $how "$MEMGOV" run --memory-max 12Q -- true 2>&1 >/dev/null)
        check "usage error to a pipe, env $how: exit status" "$?" 125
        check "... and plain text" "$err" "memgov: --memory-max '12Q': $size_hint"
done
err=$(env -u MEMGOV_LOG_FORMAT "$MEMGOV" run --log-format logfmt --memory-max 12Q -- true 2>&1 >/dev/null)
check "usage error after --log-format logfmt is plain text" "$err" "memgov: --memory-max '12Q': $size_hint"
# (explain: this command line is valid, and explain only plans.)
err=$(env MEMGOV_LOG_FORMAT=yaml "$MEMGOV" explain --config-dir "$T" -- true 2>&1 >/dev/null)
check "a bad MEMGOV_LOG_FORMAT is plain text" "$err" \
        "memgov: environment: MEMGOV_LOG_FORMAT: 'yaml': expected auto, text, logfmt or journal"
err=$(env -u MEMGOV_LOG_FORMAT "$MEMGOV" explain --config-dir "$T/dir" -- true 2>&1 >/dev/null)
check "a bad policy file is plain text" "$err" \
        "memgov: $T/dir/conf.d/bad2.ini:2: headroom: '150%': a percentage must be at most 100%"

# Every run option is a policy key (one row in policy/config.c's run_keys[]), except these, which are
# about memgov's own invocation rather than the policy.
not_keys=" help verbose quiet profile config-dir "
keys=$("$MEMGOV" explain --config-dir "$T" -- true 2>/dev/null | sed -n 's/^  \([a-z-]*\) .*#.*/\1/p')
missing=
for opt in $("$MEMGOV" run --help | grep -oE -- '--[a-z][a-z-]+' | sed 's/^--//' | sort -u); do
        case "$not_keys" in *" $opt "*) continue ;; esac
        echo "$keys" | grep -qx -- "$opt" || missing="$missing $opt"
done
check "every run option is a policy key" "${missing:-none}" none

echo "check-cli.sh: $failed failed"
[ "$failed" -eq 0 ]

#!/bin/bash
# platform.h is one interface: every function a platform header declares is defined by the backend that was
# built (the Linux or the Windows one), so governor/ never links against a name only the other one has.
# Usage: check-platform-interface.sh NM ARCHIVE HEADER...
set -u
NM=$1 ARCHIVE=$2
shift 2
# shellcheck source=../lib/okbad.sh
. "$(dirname "$0")/../lib/okbad.sh"

defined=$("$NM" -g --defined-only "$ARCHIVE" | awk '$2 == "T" { sub(/^_/, "", $3); print $3 }' | sort -u)
[ -n "$defined" ] && ok "$ARCHIVE defines functions" || bad "$ARCHIVE: nm found no function in it"
for header in "$@"; do
        # Declarations start at the line's beginning with their type; mentions in comments do not.
        declared=$(grep -oE '^[A-Za-z_][A-Za-z0-9_ *]*\bplatform_[a-z0-9_]+\(' "$header" |
                grep -oE 'platform_[a-z0-9_]+\($' | tr -d '(' | sort -u)
        [ -n "$declared" ] && ok "$header declares functions" || bad "$header: no platform_ declaration found"
        missing=$(comm -23 <(echo "$declared") <(echo "$defined"))
        if [ -z "$missing" ]; then
                ok "all $(echo "$declared" | wc -l) functions of $(basename "$header") are defined"
        else
                bad "declared in $header but not defined by this backend: $(echo $missing)"
        fi
done
[ "$failed" -eq 0 ]

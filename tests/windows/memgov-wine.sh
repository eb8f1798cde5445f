#!/bin/bash
# memgov.exe under Wine, standing in for a Linux memgov in scripts written for
# one (tests/unit/check-cli.sh): its arguments pass unchanged (Wine maps /work/...
# to Z:\work\...), stdout and stderr lose Wine's CRs, the status is memgov's.
# Usage: MEMGOV_WINE_BUILD=BUILD_DIR MEMGOV_WINE_EXE=MEMGOV.EXE memgov-wine.sh [ARG...]
set -u
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
"$(dirname "$0")/wine-run.sh" "$MEMGOV_WINE_BUILD" "$MEMGOV_WINE_EXE" "$@" >"$out" 2>"$err"
rc=$?
tr -d '\r' <"$out"
tr -d '\r' <"$err" >&2
exit $rc

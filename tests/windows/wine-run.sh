#!/bin/bash
# Runs a Windows program of the build under Wine, in a prefix inside the build
# directory (created on first use, ~30-60 s), without Wine's debug chatter.
# Usage: wine-run.sh BUILD_DIR PROGRAM [ARG...]
#        wine-run.sh BUILD_DIR --prefix    creates the prefix unless it exists
set -euo pipefail
build=$1
shift
export WINEPREFIX=$build/wine-prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
wine=${WINE:-/usr/lib/wine/wine64}
[ -x "$wine" ] || {
        echo "wine-run.sh: $wine not found; install wine64 (scripts/deps does)" >&2
        exit 1
}
if [ "${1:-}" = --prefix ]; then
        # Wine brings an existing prefix up to date itself when its version changes.
        [ -f "$WINEPREFIX/system.reg" ] && exit 0
        exec "$wine" wineboot -i
fi
exec "$wine" "$@"

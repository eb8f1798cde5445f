#!/bin/bash
# Runs a Windows program of the build under Wine, in a prefix inside the build
# directory (created on first use, ~30-60 s), without Wine's debug chatter.
# Usage: wine-run.sh BUILD_DIR PROGRAM [ARG...]
set -euo pipefail
build=$1
shift
export WINEPREFIX=$build/wine-prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
wine=${WINE:-/usr/lib/wine/wine64}
[ -x "$wine" ] || {
        echo "wine-run.sh: $wine not found; install wine64 (scripts/deps does)" >&2
        exit 1
}
exec "$wine" "$@"

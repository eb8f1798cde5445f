#!/bin/bash
# Makes the test prefix able to run Go programs: Go 1.22+ needs ProcessPrng
# from bcryptprimitives.dll, which Wine 8.0 lacks. Copies the shim
# (bcryptprimitives-shim.c) into the prefix's system32 unless a DLL of that
# name is already there (Wine 9 and later bring their own), then checks that a
# Go program starts. Usage: go-prefix.sh BUILD_DIR SHIM.DLL GO-PROGRAM.EXE
set -euo pipefail
build=$1 shim=$2 program=$3
dir=$build/wine-prefix/drive_c/windows/system32
[ -d "$dir" ] || {
        echo "go-prefix.sh: no prefix at $build/wine-prefix" >&2
        exit 1
}
if [ ! -e "$dir/bcryptprimitives.dll" ]; then
        cp "$shim" "$dir/bcryptprimitives.dll"
        echo "go-prefix.sh: put the ProcessPrng shim into $dir"
fi
# The demo agent without MEMGOV_FD does nothing and runs until stopped: "ready" shows the runtime started.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
timeout 60 "$(dirname "$0")/wine-run.sh" "$build" "$program" >"$log" 2>&1 &
pid=$!
for _ in $(seq 1 400); do
        grep -q '^ready' "$log" && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
done
kill "$pid" 2>/dev/null || true
wait "$pid" || true
grep -q '^ready' "$log" || {
        echo "go-prefix.sh: $program did not start under Wine:" >&2
        cat "$log" >&2
        exit 1
}
echo "go-prefix.sh: a Go program starts under Wine"

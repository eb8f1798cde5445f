#!/bin/bash
# scripts/plot-trace draws a trace into a PNG of plausible size: the PNG
# signature, the 1000x560 header, and between 8K and 2M (an empty plot with
# only axes is about 6K; a lost series makes it smaller).
# Usage: plot-check.sh PLOT-TRACE TRACE.jsonl OUTDIR
set -euo pipefail
plot=$1 trace=$2 out=$3/plot-check.png
rm -f "$out"
"$plot" "$trace" "$out" "plot-check"
python3 - "$out" <<'PY'
import os, struct, sys
path = sys.argv[1]
data = open(path, "rb").read()
if data[:8] != b"\x89PNG\r\n\x1a\n":
    sys.exit("not a PNG: %r" % data[:8])
w, h = struct.unpack(">II", data[16:24])
if (w, h) != (1000, 560):
    sys.exit("PNG is %dx%d, want 1000x560" % (w, h))
if not 8 * 1024 <= len(data) <= 2 * 1024 * 1024:
    sys.exit("PNG of %d bytes: implausible" % len(data))
print("ok - %s: PNG %dx%d, %d bytes" % (os.path.basename(path), w, h, len(data)))
PY
# A trace with no samples is refused, not drawn empty.
echo '{"type":"start","t":0}' >"$3/empty.jsonl"
if "$plot" "$3/empty.jsonl" "$3/empty.png" 2>/dev/null; then
        echo "not ok - an empty trace was drawn" >&2
        exit 1
fi
echo "ok - an empty trace is refused"

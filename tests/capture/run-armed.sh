#!/bin/bash
# The armed capture (issue 17, docs/protocol.md "Armed captures"), inside the test VM (tests/vm/vmrun): a
# Go program leaking as fast as it can (about 100 MiB/s on hardware) into a 256M group dies before a
# capture request could reach it; the agent, armed at the cannot-fit line, leaves a heap profile in the
# capture directory whose top function is the leak. What is asserted is the file and its content; how long
# anything took is reported only.
# Usage: run-armed.sh MEMGOV GO-WORKLOAD WORKDIR
set -u
MEMGOV=$(realpath "$1")
WORKLOAD=$(realpath "$2")
W=$(realpath "$3")
CG=/sys/fs/cgroup
T=$(mktemp -d /tmp/armed.XXXXXX)
. "$(dirname "$0")/../lib/harness.sh"
require_cgroup2 run-armed.sh
PPROF=$W/pprof # `go tool pprof`, built on the host (CMakeLists.txt)
export HOME=$T

begin "go: a fast leak under 256M leaves a heap profile with the leaking function on top"
# mapleak never sleeps with -fast-until past the limit: it leaks as fast as the (emulated) CPU allows.
# The program's file pages are read here first, outside the group, as when its binary is already in the
# page cache. Read first by the program inside its group, they are charged to it: at the limit the kernel
# reclaims them, the agent's writer re-reads its code from disk page by page, and the profile was still
# empty 20-60 s after it fired in 2 of 6 runs (docs/design.md, "A program at its limit reclaims its own
# code"; an open problem, not what this check is about).
cat "$WORKLOAD" >/dev/null
start=$(date +%s%N)
"$MEMGOV" run -v --memory-max 256M --on-cannot-fit kill --name armed --capture-dir "$T/cap" -- \
        "$WORKLOAD" mapleak -fast-until 100000 >"$T/out" 2>"$T/err"
rc=$?
secs=$((($(date +%s%N) - start) / 1000000))
echo "# exit $rc after ${secs}ms; $(grep -cE 'Capture: armed agent' "$T/err") arm(s)"
grep -E "armed agent|Captured|Capture .*(failed|armed)|captured on|cannot fit|OOM" "$T/err" | sed 's/^/#   /' | head -20
profiles=$(ls "$T"/cap/memgov-armed-*.pprof 2>/dev/null)
if [ -z "$profiles" ]; then
        fail "no profile in the capture directory ($(ls "$T/cap" 2>&1 | tr '\n' ' '))"
else
        # The leak's profile is the newest: an armed one, or the cannot-fit one if the law got there first.
        profile=$(ls -t $profiles | head -1)
        "$PPROF" -top "$profile" >"$T/pprof" 2>"$T/pprof.err"
        top=$(awk '/flat%/ { getline; print $NF; exit }' "$T/pprof")
        expect "the program ended (OOM kill or cannot fit)" "$([ "$rc" -ne 0 ] && echo ended)" ended &&
                expect "pprof's top function in $(basename "$profile")" "$top" "main.leakIntoMap" &&
                pass "$(basename "$profile"), $(stat -c %s "$profile") bytes: $(grep -m1 leakIntoMap "$T/pprof" | tr -s ' ')"
fi

begin "go: the profile came from the arm, and the post-mortem names it"
# The arm's own log lines: where it was armed, and the file it wrote (answered, or found after the kill).
if expect_grep "armed" "$T/err" "Capture: armed agent [0-9]+ \(pid [0-9]+\) to write $T/cap/memgov-armed-[0-9]+-[0-9T]+-[0-9]+\.pprof once its live heap passes [0-9.]+M" &&
        expect_grep "written at the threshold" "$T/err" "(Captured $T/cap/.*\.pprof \([0-9]+ bytes\) on heap-threshold: the live heap passed|Capture $T/cap/.*\.pprof \([0-9]+ bytes\) armed at the heap threshold is there)" &&
        expect_grep "post-mortem" "$T/err" "captured on heap-threshold: $T/cap/memgov-armed-.*\.pprof"; then
        pass "$(grep -oE 'once its live heap passes [0-9.]+M' "$T/err" | tail -1)"
fi

finish run-armed.sh

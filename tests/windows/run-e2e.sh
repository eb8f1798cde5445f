#!/bin/bash
# memgov.exe under Wine, driven from outside: exit codes, errors for bad
# input, the child in its job, the environment budget.
# Usage: run-e2e.sh BUILD_DIR MEMGOV.EXE TEST-CHILD.EXE
set -uo pipefail
build=$1 memgov=$2 child=$3
wine_run=$(dirname "$0")/wine-run.sh
failed=0 passed=0
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT

# memgov ARGS...: runs memgov.exe, leaves stdout/stderr (without CRs) in $out/$err, the status in $rc.
memgov() {
        "$wine_run" "$build" "$memgov" "$@" >"$out" 2>"$err"
        rc=$?
        sed -i 's/\r$//' "$out" "$err"
}
check() { # check DESCRIPTION CONDITION...
        local what=$1
        shift
        if "$@"; then
                passed=$((passed + 1))
        else
                failed=$((failed + 1))
                echo "FAILED: $what (status $rc)" >&2
                sed 's/^/  stdout: /' "$out" >&2
                sed 's/^/  stderr: /' "$err" >&2
        fi
}
status_is() { [ "$rc" -eq "$1" ]; }
says() { grep -qF -- "$1" "$err"; }
prints() { [ "$(cat "$out")" = "$1" ]; }
not() { ! "$@"; }

memgov run --memory-max 64M -- "$child" exit 0
check "exit 0 passes through" status_is 0
memgov run --memory-max 64M -- "$child" exit 7
check "exit 7 passes through" status_is 7
memgov run --memory-max 64M -- "$child" injob
check "the child runs in a Job Object" status_is 0
memgov run --memory-max 64M -- memgov-no-such-program
check "a missing command is 127" status_is 127
check "... and says so" says "memgov-no-such-program: command not found"
memgov run --memory-max 1G --memory-high 2G -- "$child" exit 0
check "high above max is refused with 125" status_is 125
check "... naming the option" says "--memory-high is above --memory-max"
memgov run --memory-max 12Q -- "$child" exit 0
check "a bad size is refused with 125" status_is 125
check "... naming the option" says "--memory-max"
memgov run --memory-max 64M --swap-max 1G -- "$child" exit 0
check "--swap-max is refused on Windows" status_is 125
check "... with the reason" says "--swap-max has no counterpart on Windows"
for opt in --init --observe "--oom-score-adj 100"; do
        # shellcheck disable=SC2086
        memgov run $opt -- "$child" exit 0
        check "$opt is refused on Windows" status_is 125
        check "... with the reason" says "${opt%% *} is not supported here: a Job Object holds the whole tree"
done
memgov run --memory-max 64M --parent /x -- "$child" exit 0
check "--parent is refused on Windows" status_is 125
check "... with the reason" says "--parent names a cgroup; Windows has none"
memgov run --memory-max 64M --runtime go -- "$child" env GOMEMLIMIT
check "GOMEMLIMIT reaches the child" prints 58720256
GOMEMLIMIT=100MiB memgov run --memory-max 64M --runtime go -- "$child" env GOMEMLIMIT
check "a user's GOMEMLIMIT is kept" prints 100MiB
check "... and memgov says so" says "GOMEMLIMIT=100MiB is already set"
# The control channel's handle, in place of one an outer memgov named (test-govern speaks over it).
MEMGOV_FD=99999 memgov run --memory-max 64M -- "$child" env MEMGOV_FD
check "MEMGOV_FD names the channel's handle" grep -qxE '[0-9]+' "$out"
check "... not the outer one" not prints 99999
memgov run --memory-max max -- "$child" exit 4
check "no limit (max) runs too" status_is 4
memgov run --memory-max 64M -- 'C:\windows'
check "a directory is 126" status_is 126
memgov run --memory-max 64M --grace xyz -- "$child" exit 0
check "a bad duration is 125" status_is 125
check "... naming the option" says "--grace 'xyz'"
# Wine refuses notification limits (docs/windows.md): memgov must say so and go on.
memgov run --memory-max 64M --memory-high 48M -- "$child" exit 0
check "memory-high without notifications still runs" status_is 0
check "... and says that it follows memory-high from samples only" says "followed from samples only"

memgov explain --memory-max 64M --memory-high 48M -- "$child" exit 0
check "explain works" status_is 0
check "... in the Job Object's terms" grep -q "^JobMemoryLimit *64M$" "$out"
check "... with the notification limit" grep -q "^notification limit *48M$" "$out"
memgov explain --memory-max 64M --swap-max 1G -- "$child" exit 0
check "explain names what run would refuse" status_is 125
check "... and why" grep -q "^problem: .*--swap-max has no counterpart" "$out"

# Policy files (docs/policy.md) on Windows; tests/unit/check-cli.sh runs under Wine too (windows/check-cli).
pol=$(mktemp -d)
trap 'rm -f "$out" "$err"; rm -rf "$pol"' EXIT
printf '[defaults]\r\nmemory-max = 1G\r\n' >"$pol/crlf.ini"
memgov check "$pol/crlf.ini"
check "check: a file with CRLF line ends is valid, as on Linux" status_is 0
# Read as bytes: text mode would end the file at the Ctrl-Z and see no problem at all.
printf '[defaults]\nmemory-max = 1G\n\x1a\nmemroy-high = 1\n' >"$pol/ctrlz.ini"
memgov check "$pol/ctrlz.ini"
check "check: a Ctrl-Z byte is read, not an end of file" status_is 1
check "... and every line after it" prints "$pol/ctrlz.ini:3: not a [section], a 'key = value' line or a comment
$pol/ctrlz.ini:4: memroy-high: unknown key"
# Without --config-dir or MEMGOV_CONFIG_DIR: the ProgramData folder (C:\ProgramData under Wine), not /etc.
memgov explain --memory-max 64M -- "$child" exit 0
check "explain: the default policy directory is ProgramData's" grep -qF 'policy files:      none in C:\ProgramData\memgov' "$out"
memgov check
check "check: no default directory is no policy, as on Linux" status_is 0
mkdir -p "$pol/etc/conf.d"
printf '[defaults]\nmemory-max = 32M\n[profile "child"]\nmatch-command = test-child*\nmemory-max = 64M\nruntime = go\n' \
        >"$pol/etc/memgov.ini"
printf '[profile "child"]\ngogc = 50\n' >"$pol/etc/conf.d/50-child.ini"
memgov run --config-dir "$pol/etc" -- "$child" env GOMEMLIMIT
check "run: the profile chosen by match-command sets the budget" prints 58720256
MEMGOV_CONFIG_DIR=$pol/etc memgov run -- "$child" env GOGC
check "run: MEMGOV_CONFIG_DIR, and the drop-in over the file" prints 50
memgov run --config-dir "$pol/etc" --memory-max 32M -- "$child" env GOMEMLIMIT
check "run: the command line over the profile" prints 25165824
memgov run --config-dir "$pol/etc" --profile nope -- "$child" exit 0
check "run: an unknown --profile is 125" status_is 125
memgov run --config-dir "$pol/missing" -- "$child" exit 0
check "run: a --config-dir that does not exist is 125" status_is 125
printf '[defaults]\nheadroom = 150%%\n' >"$pol/etc/conf.d/60-bad.ini"
memgov run --config-dir "$pol/etc" -- "$child" exit 0
check "run: a bad policy file is 125" status_is 125
check "... naming file and line" says "60-bad.ini:2: headroom: '150%': a percentage must be at most 100%"

# What the see branch added (docs/windows.md): --trace and the log formats work, the rest is refused by name.
memgov run --memory-max 64M --trace "$pol/trace.jsonl" -- "$child" sleep 3500
check "--trace: the run goes on" status_is 0
trace=$pol/trace.jsonl
check "... the start line, then the samples" eval "head -1 '$trace' | grep -q '^{\"type\":\"start\",' &&
        [ \$(grep -c '^{\"type\":\"sample\",' '$trace') -ge 2 ]"
check "... the first sample is the baseline, a paced one follows (every 2 s far below the limit)" eval "grep -q '\"on\":\"start\"' '$trace' &&
        grep -q '\"on\":\"pace\"' '$trace'"
check "... lines end in LF, not CRLF" eval "! grep -q \$'\\r' '$trace'"
check "... each one JSON" python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$trace"
memgov run --memory-max 64M --trace "$pol/no-such-dir/trace.jsonl" -- "$child" exit 0
check "--trace into a missing directory is 125" status_is 125
check "... naming the option" says "--trace '$pol/no-such-dir/trace.jsonl': cannot write it"
memgov run --memory-max 64M --metrics-file "$pol/metrics.prom" -- "$child" exit 0
check "--metrics-file is refused on Windows" status_is 125
check "... with the reason" says "--metrics-file is not supported here yet: this supervisor does not publish metrics"
memgov run --memory-max 64M --capture-dir /captures -- "$child" exit 0
check "--capture-dir is refused on Windows" status_is 125
check "... with the reason" says "--capture-dir is not supported here yet"
memgov run -v --memory-max 64M -- "$child" exit 0
check "the default --capture on takes nothing, and -v says so" says "Heap captures are not built on Windows yet"
check "... and nothing was written" test ! -e "$pol/metrics.prom"
memgov run --memory-max 64M --metrics-listen 127.0.0.1:9464 -- "$child" exit 0
check "--metrics-listen is refused on Windows" status_is 125
check "... with the reason" says "--metrics-listen is not supported here yet"
memgov run --memory-max 64M --metrics-listen 10.0.0.1:9464 -- "$child" exit 0
check "--metrics-listen's address is checked as on Linux" says "not a loopback address"
memgov status
check "status is refused on Windows" status_is 125
check "... with the reason" says "status is not supported here: a running memgov serves its status over a Unix socket"
memgov run --log-format journal --memory-max 64M -- "$child" exit 0
check "--log-format journal is refused on Windows" status_is 125
check "... with the reason" says "--log-format journal: this system has no journal"
memgov run -v --log-format logfmt --memory-max 64M -- "$child" exit 3
check "--log-format logfmt runs" status_is 3
check "... every line is logfmt" eval "[ -s '$err' ] && ! grep -qv '^time=[0-9T:.-]*Z level=[a-z]* msg=' '$err'"
check "... with a UTC time of today" grep -q "^time=$(date -u +%Y-%m-%d)T" "$err"
memgov run -v --log-format text --memory-max 64M -- "$child" exit 0
check "--log-format text runs" status_is 0
check "... every line is text" eval "[ -s '$err' ] && ! grep -qv '^memgov: ' '$err'"

echo "run-e2e: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

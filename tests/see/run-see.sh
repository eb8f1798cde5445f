#!/bin/bash
# What an operator sees of `memgov run` (issue 9): the Prometheus metrics in a
# file and on a loopback port, the --trace JSON lines and their plot, the
# metrics after an OOM kill, and the refusals. Runs as root inside the test VM
# (tests/vm/vmrun), one boot.
# Usage: run-see.sh MEMGOV WORKLOAD HELPER OUTDIR JOURNAL-SINK
# OUTDIR (--share'd with the host): the Go run's trace goes there, for tests/see/vm-see.sh to check.
set -u
MEMGOV=$(realpath "$1")
WORKLOAD=$(realpath "$2")
HELPER=$(realpath "$3")
OUT=$4
SINK=$(realpath "$5")
CG=/sys/fs/cgroup
T=$(mktemp -d /tmp/see.XXXXXX)
. "$(dirname "$0")/../lib/harness.sh"
require_cgroup2 run-see.sh
PORT=9464
URL=http://127.0.0.1:$PORT/metrics

metric() { # FILE NAME{LABELS}: its value, or empty
        awk -v n="$2" '$1 == n {print $2}' "$1"
}

# --- a Go program with its agent, watched from outside --------------------------
# It runs until the checks that need it running are done (the stop file), 5 minutes at most: on a loaded
# machine the checks took longer than any fixed time chosen once (20 s).

begin "metrics file and endpoint while a Go program runs (promtool checks both)"
"$MEMGOV" run --memory-max 256M --name see-go --metrics-file "$T/m.prom" --metrics-listen 127.0.0.1:$PORT \
        --trace "$T/trace.jsonl" -- "$WORKLOAD" outside -for 300s -stop-file "$T/stop" >"$T/out" 2>"$T/err" &
pid=$!
# The target follows the agent's first stats, a moment after it connects.
if ! wait_for "$T/m.prom" "^memgov_gc_target_bytes [0-9]"; then
        fail "no memgov_gc_target_bytes in the metrics file within 30 s"
elif ! curl --max-time 10 -sf -o "$T/scrape" "$URL"; then
        fail "GET $URL failed"
else
        # The HTTP checks first, while the program runs; promtool takes seconds to start in the VM.
        code=$(curl --max-time 10 -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/other")
        type=$(curl --max-time 10 -sf -o /dev/null -w '%{content_type}' "$URL")
        head_len=$(curl --max-time 10 -sfI "$URL" | tr -d '\r' | awk -F': ' 'tolower($1) == "content-length" {print $2}')
        cp "$T/m.prom" "$T/file-copy"
        # memgov status too, while it runs; checked below.
        "$MEMGOV" status see-go --json >"$OUT/status.json" 2>"$T/err"
        rc_json=$?
        "$MEMGOV" status "$(pgrep -o -f 'name see-go')" --json >"$T/status-pid.json" 2>>"$T/err"
        rc_pid=$?
        "$MEMGOV" status >"$T/status.txt" 2>>"$T/err"
        rc_text=$?
        "$MEMGOV" status no-such-governor >/dev/null 2>"$T/err-none"
        rc_none=$?
        sock=$(ls /run/memgov/*.status 2>/dev/null | head -1)
        modes="$(stat -c %a /run/memgov) $(stat -c %a "$sock" 2>/dev/null)"
        MEMGOV_STATUS_DIR=/run/memgov setpriv --reuid=65534 --regid=65534 --clear-groups "$MEMGOV" status see-go \
                >/dev/null 2>"$T/err-nobody"
        rc_nobody=$?
        timeout 120 promtool check metrics <"$T/scrape" >"$T/lint" 2>&1
        lint=$?
        timeout 120 promtool check metrics <"$T/file-copy" >"$T/lint-file" 2>&1
        lint_file=$?
        expect "promtool on the scrape" "$lint:$(cat "$T/lint")" "0:" &&
                expect "promtool on the file" "$lint_file:$(cat "$T/lint-file"; head -c 300 "$T/file-copy")" "0:$(head -c 300 "$T/file-copy")" &&
                expect "max" "$(metric "$T/scrape" memgov_memory_max_bytes)" 268435456 &&
                expect "agents" "$(metric "$T/scrape" memgov_agents_connected)" 1 &&
                expect "404 elsewhere" "$code" 404 &&
                expect "content type" "$type" "text/plain; version=0.0.4; charset=utf-8" &&
                expect "HEAD has a length" "$([ "${head_len:-0}" -gt 1000 ] && echo yes)" yes &&
                expect_grep "a GC target" "$T/scrape" "^memgov_gc_target_bytes [0-9]+$" &&
                expect_grep "memory.current" "$T/scrape" "^memgov_memory_current_bytes [0-9]+$" &&
                expect_grep "pressure" "$T/scrape" '^memgov_pressure_avg10_ratio\{kind="some"\} [0-9.]+$' &&
                pass "current $(($(metric "$T/scrape" memgov_memory_current_bytes) >> 20))M"
fi

begin "memgov status while it runs: text, --json by name and by pid, only for root or the owner"
expect "exit --json" $rc_json 0 &&
        expect "exit by pid" $rc_pid 0 &&
        expect "exit text" $rc_text 0 &&
        expect "by pid is the same governor" "$(grep -o '"name":"[^"]*"' "$T/status-pid.json")" '"name":"see-go"' &&
        expect_grep "json has the agent" "$OUT/status.json" '"agents_connected":1' &&
        expect_grep "text names it" "$T/status.txt" "^see-go \(memgov [0-9]+, child [0-9]+\)" &&
        expect_grep "text has the limits (memory.high: memgov's guard)" "$T/status.txt" "limits:   memory.max=256.0M memory.high=249.5M" &&
        expect_grep "text has the agent" "$T/status.txt" "agent 1:  go" &&
        expect "unknown name" $rc_none 1 &&
        expect_grep "names what it looked for" "$T/err-none" "no running memgov named 'no-such-governor'" &&
        expect "modes" "$modes" "700 600" &&
        expect "another user" $rc_nobody 125 &&
        expect_grep "refused" "$T/err-nobody" "cannot read /run/memgov: Permission denied" &&
        pass "schema checked on the host"

# The trace checked on the host wants the whole run: all the memory outside the heap grown.
wait_for "$T/out" "^outside-done" || true
touch "$T/stop"
wait $pid
rc=$?
expect "status socket removed" "$(ls /run/memgov/ | grep -c status)" 0

begin "the Go program completes; the final metrics count its target decisions"
lowered=$(metric "$T/m.prom" 'memgov_decisions_total{action="lower-target"}')
steps=$(metric "$T/m.prom" memgov_steps_total)
expect "exit" $rc 0 &&
        expect "lowered at least once" "$([ "${lowered:-0}" -ge 1 ] && echo yes)" yes &&
        expect "no temporary file left" "$(ls "$T" | grep -c '\.tmp$')" 0 &&
        no_group see-go && pass "$steps steps, $lowered lower-target"

cp "$T/trace.jsonl" "$OUT/trace.jsonl" # checked and plotted on the host: python and gnuplot crawl here

# --- a governor that is not root -------------------------------------------------

begin "without root, outside the delegated subtree: refused with the kernel's rule, no group left"
D=$CG/see-deleg
mkdir -p "$D/lead" /tmp/see-xdg
echo +memory >"$CG/cgroup.subtree_control"
chown 65534:65534 "$D" "$D/cgroup.procs" "$D/cgroup.subtree_control" "$D/lead/cgroup.procs" /tmp/see-xdg
chmod 700 /tmp/see-xdg
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups env XDG_RUNTIME_DIR=/tmp/see-xdg HOME=/tmp "$@"; }
as_nobody "$MEMGOV" run --parent "$D" --memory-max 64M --name see-out -- "$HELPER" exit 0 >"$T/out" 2>"$T/err"
rc=$?
expect "exit" $rc 125 &&
        expect_grep "names the group and the rule" "$T/err" \
                "Failed to start a process in $D/see-out: Permission denied \(without root, .*delegated subtree" &&
        expect "child never ran" "$(cat "$T/out")" "" &&
        no_group see-deleg/see-out && pass

begin "without root, inside it: memgov status for its user and root, not for another user"
# Root moves the shell into the subtree, then becomes nobody: how a delegated service starts.
sh -c 'echo $$ >"$1/lead/cgroup.procs" && exec setpriv --reuid=65534 --regid=65534 --clear-groups \
        env XDG_RUNTIME_DIR=/tmp/see-xdg HOME=/tmp "$2" run --parent "$1" --memory-max 64M --name see-user -- \
        "$3" alloc 1 60' sh "$D" "$MEMGOV" "$HELPER" >"$T/out" 2>"$T/err" &
upid=$!
wait_for "$T/out" "^event" || true
as_nobody "$MEMGOV" status >"$T/st-user" 2>&1
rc_user=$?
MEMGOV_STATUS_DIR=/tmp/see-xdg/memgov "$MEMGOV" status see-user --json >"$T/st-root" 2>&1
rc_root=$?
setpriv --reuid=65533 --regid=65533 --clear-groups env MEMGOV_STATUS_DIR=/tmp/see-xdg/memgov "$MEMGOV" status \
        >"$T/st-other" 2>&1
rc_other=$?
# Loosened by someone: the directory and the socket open to all; memgov still answers only its user and root.
sock=$(ls /tmp/see-xdg/memgov/*.status 2>/dev/null | head -1)
chmod 711 /tmp/see-xdg && chmod 755 /tmp/see-xdg/memgov
chmod 666 "$sock"
setpriv --reuid=65533 --regid=65533 --clear-groups env MEMGOV_STATUS_DIR=/tmp/see-xdg/memgov "$MEMGOV" status \
        see-user >"$T/st-loose" 2>&1
rc_loose=$?
kill -TERM $upid
wait $upid
expect "exit for its user" $rc_user 0 &&
        expect_grep "its user sees it" "$T/st-user" "^see-user \(memgov [0-9]+, child [0-9]+\)" &&
        expect_grep "under the subtree" "$T/st-user" "cgroup:   $D/see-user" &&
        expect "exit for root" $rc_root 0 && expect_grep "root sees it" "$T/st-root" '"name":"see-user"' &&
        expect "exit for another user" $rc_other 125 &&
        expect_grep "another user is kept out" "$T/st-other" "cannot read /tmp/see-xdg/memgov: Permission denied" &&
        expect "another user, the directory loosened" $rc_loose 1 &&
        no_group see-deleg/see-user && pass
rmdir "$D/lead" "$D" 2>/dev/null

# --- OOM -----------------------------------------------------------------------

begin "after an OOM kill, the last metrics count it"
mg run --memory-max 32M --name see-oom --metrics-file "$T/oom.prom" -- "$HELPER" alloc 200
rc=$?
kills=$(metric "$T/oom.prom" memgov_oom_kills_total)
timeout 120 promtool check metrics <"$T/oom.prom" >"$T/lint" 2>&1
lint=$?
expect "exit" $rc 137 &&
        expect "oom kills counted" "$([ "${kills:-0}" -ge 1 ] && echo yes)" yes &&
        expect "promtool" "$lint:$(cat "$T/lint")" "0:" &&
        expect_grep "post-mortem" "$T/err" "post-mortem: .*e2e-helper was OOM-killed" &&
        no_group see-oom && pass "memgov_oom_kills_total $kills"

# --- refusals --------------------------------------------------------------------

begin "--metrics-listen on a non-loopback address is refused before anything starts"
mg run --memory-max 64M --name see-any --metrics-listen 0.0.0.0:$PORT -- "$HELPER" exit 0
rc=$?
expect "exit" $rc 125 &&
        expect_grep "names the reason" "$T/err" "^memgov: --metrics-listen '0.0.0.0:$PORT': not a loopback address" &&
        expect "child never ran" "$(cat "$T/out")" "" &&
        no_group see-any && pass

begin "--metrics-file in a missing directory is refused in one line, before any group exists"
mg run --memory-max 64M --name see-nodir --metrics-file /nonexistent/m.prom -- "$HELPER" exit 0
rc=$?
expect "exit" $rc 125 &&
        expect_grep "names the file" "$T/err" "^memgov: --metrics-file '/nonexistent/m.prom': cannot write it: No such file" &&
        expect "one line" "$(wc -l <"$T/err")" 1 &&
        no_group see-nodir && pass

begin "--metrics-listen on a port in use is refused, no group left"
"$MEMGOV" run --memory-max 64M --name see-holder --metrics-listen 127.0.0.1:$PORT -- "$HELPER" alloc 1 20 \
        >"$T/holder" 2>&1 &
holder=$!
wait_for "$T/holder" "^event" || true
mg run --memory-max 64M --name see-busy --metrics-listen 127.0.0.1:$PORT -- "$HELPER" exit 0
rc=$?
kill -TERM $holder 2>/dev/null
wait $holder 2>/dev/null
expect "exit" $rc 125 &&
        expect_grep "names the address" "$T/err" "^memgov: --metrics-listen '127.0.0.1:$PORT': cannot listen there: Address (already )?in use" &&
        no_group see-busy && no_group see-holder && pass

begin "--trace to an unwritable path is refused, no group left"
mg run --memory-max 64M --name see-trace --trace /nonexistent/t.jsonl -- "$HELPER" exit 0
rc=$?
expect "exit" $rc 125 &&
        expect_grep "names the file" "$T/err" "^memgov: --trace '/nonexistent/t.jsonl': cannot write it" &&
        expect "one line" "$(wc -l <"$T/err")" 1 &&
        no_group see-trace && pass

# --- logs ------------------------------------------------------------------------

# Stand-in (tests/see/journal-sink.c for journald), kept beside the real journald of tests/real/run-systemd.sh:
# it shows the datagrams exactly as memgov sends them, before journald adds its own fields, in this fast VM.
begin "under systemd (stderr is JOURNAL_STREAM), decisions go to the journal with MEMGOV_* fields"
mkdir -p /run/systemd/journal
"$SINK" /run/systemd/journal/socket >"$T/journal" &
sink=$!
wait_for "$T/journal" "^ready" || true
: >"$T/err"
# MEMGOV_LOG_FORMAT (text, for the other tests) would be a choice that overrides the journal: unset here.
JOURNAL_STREAM=$(stat -c %d:%i "$T/err") env -u MEMGOV_LOG_FORMAT "$MEMGOV" run -v --memory-max 256M --name see-journal -- \
        "$WORKLOAD" outside -for 4s -outside 60 >"$T/out" 2>>"$T/err"
rc=$?
sleep 0.2
kill $sink
wait $sink 2>/dev/null
expect "exit" $rc 0 &&
        expect_grep "a decision entry" "$T/journal" "^MESSAGE=decision rule=" &&
        expect_grep "its action" "$T/journal" "^MEMGOV_ACTION=lower-target" &&
        expect_grep "its target" "$T/journal" "^MEMGOV_TARGET_BYTES=[0-9]+$" &&
        expect_grep "its rule" "$T/journal" "^MEMGOV_RULE=target-" &&
        expect_grep "priority" "$T/journal" "^PRIORITY=6$" &&
        expect_grep "identifier" "$T/journal" "^SYSLOG_IDENTIFIER=memgov$" &&
        expect "decisions on stderr" "$(grep -c decision "$T/err")" 0 &&
        pass "$(grep -c '^--$' "$T/journal") entries"

begin "JOURNAL_STREAM naming another stream is not the journal: logfmt on stderr (a file); usage errors text"
JOURNAL_STREAM=1:2 env -u MEMGOV_LOG_FORMAT "$MEMGOV" run -v --memory-max 64M --name see-notjournal -- \
        "$HELPER" exit 0 >"$T/out" 2>"$T/err"
rc=$?
JOURNAL_STREAM=1:2 env -u MEMGOV_LOG_FORMAT "$MEMGOV" run --memory-max 64M --name see-notjournal --grace 1x -- \
        "$HELPER" exit 0 >"$T/out" 2>"$T/err-usage"
rc_usage=$?
expect "exit" $rc 0 && expect_grep "logfmt" "$T/err" '^time=.* level=[a-z]+ msg="Started ' &&
        expect "usage error's exit" $rc_usage 125 &&
        expect_grep "a usage error is text" "$T/err-usage" "^memgov: --grace '1x': " &&
        no_group see-notjournal && pass

begin "--log-format logfmt: every line is logfmt, decisions carry their fields"
"$MEMGOV" run --log-format logfmt -v --memory-max 256M --name see-logfmt -- \
        "$WORKLOAD" outside -for 4s -outside 60 >"$T/out" 2>"$T/err"
rc=$?
bad=$(grep -cvE '^time=[0-9T:.-]+Z level=[a-z]+ msg=' "$T/err")
expect "exit" $rc 0 &&
        expect "lines not logfmt" "$bad" 0 &&
        expect_grep "a decision" "$T/err" 'level=info msg=decision action=lower-target rule=target-[a-z]+ pressure_level=ok target_bytes=[0-9]+ ' &&
        pass "$(wc -l <"$T/err") lines"

begin "by default a governor logs logfmt to a file or pipe, text to a terminal; MEMGOV_LOG_FORMAT picks"
env -u MEMGOV_LOG_FORMAT "$MEMGOV" run -v --memory-max 64M --name see-deflog -- "$HELPER" exit 0 \
        >"$T/out" 2>"$T/err"
rc=$?
bad=$(grep -cvE '^time=[0-9T:.-]+Z level=[a-z]+ msg=' "$T/err")
# script(1) gives memgov a terminal for stderr.
env -u MEMGOV_LOG_FORMAT script -qec "'$MEMGOV' run -v --memory-max 64M --name see-ttylog -- '$HELPER' exit 0" \
        /dev/null </dev/null >"$T/tty" 2>&1
rc_tty=$?
MEMGOV_LOG_FORMAT=yaml "$MEMGOV" run --memory-max 64M --name see-badlog -- "$HELPER" exit 0 >"$T/out" 2>"$T/err-bad"
rc_bad=$?
expect "exit" $rc 0 && expect "lines not logfmt" "$bad" 0 &&
        expect_grep "logfmt" "$T/err" '^time=.* level=[a-z]+ msg="Started ' &&
        expect "exit on a terminal" $rc_tty 0 &&
        expect_grep "text on a terminal" "$T/tty" "^memgov: Started " &&
        expect "bad MEMGOV_LOG_FORMAT" $rc_bad 125 &&
        expect_grep "names it, in text" "$T/err-bad" \
                "^memgov: environment: MEMGOV_LOG_FORMAT: 'yaml': expected auto, text, logfmt or journal" &&
        no_group see-deflog && no_group see-ttylog && no_group see-badlog && pass "$(wc -l <"$T/err") lines"

finish run-see.sh

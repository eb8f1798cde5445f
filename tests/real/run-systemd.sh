#!/bin/bash
# memgov under a real systemd 252 (issue 19): the example service with Delegate=yes, a non-root user's
# transient scope from the real user manager, decisions in the real journal, and what 252 does with
# MEMORY_PRESSURE_WATCH. Runs as root inside `tests/vm/vmrun --init systemd` (systemd is PID 1, this
# script is vmrun-job.service), one boot; the VM's /etc and /usr/local are an overlay, so the unit,
# the users and the installed binary vanish with it.
# Usage: run-systemd.sh MEMGOV WORKLOAD EXAMPLE-UNIT
set -u
MEMGOV=$(realpath "$1")
WORKLOAD=$(realpath "$2")
UNIT_FILE=$(realpath "$3")
CG=/sys/fs/cgroup
T=$(mktemp -d /tmp/real-systemd.XXXXXX)
. "$(dirname "$0")/../lib/harness.sh"
require_cgroup2 run-systemd.sh
# The fields README.md ("Logs") and memgov(1) (--log-format) promise on every decision.
DOCUMENTED_FIELDS="MEMGOV_ACTION MEMGOV_RULE MEMGOV_PRESSURE_LEVEL MEMGOV_TARGET_BYTES MEMGOV_LIMIT_BYTES
MEMGOV_UNSEEN_BYTES MEMGOV_FREEABLE_BYTES MEMGOV_HEADROOM_BYTES MEMGOV_FLOOR_BYTES MEMGOV_ON MEMGOV_AT_USEC"

if [ "$(cat /proc/1/comm)" != systemd ]; then
        echo "run-systemd.sh: PID 1 is $(cat /proc/1/comm), not systemd; run me through tests/vm/vmrun --init systemd" >&2
        exit 2
fi
sd_version=$(systemctl --version | awk 'NR == 1 {print $2}')
echo "# systemd $sd_version, $(systemctl is-system-running 2>/dev/null)"

# until TRIES CMD...: CMD, every 0.2 s, until it succeeds. Every use waits for something that must come.
until_ok() {
        local n=$1
        shift
        for _ in $(seq "$n"); do
                "$@" >/dev/null 2>&1 && return 0
                sleep 0.2
        done
        return 1
}
pid_of_child() { # the workload's PID, whose parent is memgov $1
        pgrep -P "$1" -x workload | head -1
}
environ_has() { # PID NAME: the variable's value from the process's environment, or nothing
        tr '\0' '\n' <"/proc/$1/environ" | sed -n "s/^$2=//p"
}

# --- the example unit, as shipped, with only its two paths filled in ---------------------------
# The unit names /usr/local/bin/memgov and /usr/local/bin/cache-server and User=cache: the overlay makes
# all three real. The drop-in adds -v (decisions are logged at debug, which the journal test needs) and
# a budget small enough that the workload's growth outside its heap makes memgov lower the target.
install -m 0755 "$MEMGOV" /usr/local/bin/memgov
cat >/usr/local/bin/cache-server <<EOF
#!/bin/sh
exec $WORKLOAD outside -for 300s -live 40 -outside 120 -stop-file /run/cache-server.stop
EOF
chmod 0755 /usr/local/bin/cache-server
useradd --system --no-create-home --shell /usr/sbin/nologin cache
cp "$UNIT_FILE" /etc/systemd/system/memgov-app.service
mkdir -p /etc/systemd/system/memgov-app.service.d
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT_FILE")
cat >/etc/systemd/system/memgov-app.service.d/test.conf <<EOF
[Service]
ExecStart=
ExecStart=$(echo "$exec_start" | sed 's/ run / run -v /; s/--memory-max 512M/--memory-max 256M/')
EOF
systemctl daemon-reload
SVC=$CG/system.slice/memgov-app.service

begin "the example unit starts; memgov governs the server in a group of its own inside the service's"
systemctl start memgov-app >"$T/out" 2>"$T/err"
expect "systemctl start" $? 0
main=$(systemctl show -P MainPID memgov-app)
child=
until_ok 150 test -n "$(pid_of_child "$main")" && child=$(pid_of_child "$main")
if [ -z "$child" ]; then
        fail "no workload under memgov (MainPID $main): $(journalctl -u memgov-app --no-pager -o cat | tail -5)"
else
        mg_group=$(cut -d: -f3 "/proc/$main/cgroup")
        child_group=$(cut -d: -f3 "/proc/$child/cgroup")
        expect "memgov's group" "$mg_group" /system.slice/memgov-app.service/supervisor &&
                expect "the server's group is beside memgov's, in the service's" "${child_group%/*}" \
                        /system.slice/memgov-app.service &&
                expect "the server's memory.max" "$(cat "$CG$child_group/memory.max")" 268435456 &&
                expect "the service's memory.max (the unit's MemoryMax=560M)" "$(cat $SVC/memory.max)" 587202560 &&
                expect "the server's user" "$(stat -c %U "/proc/$child")" cache && pass "server in $child_group"
fi

begin "memgov's log in the journal shows it governing: a decision that lowered the server's GC target"
# The workload's memory outside the heap grows by 120M over ~8 s; memgov lowers the target as it does.
until_ok 300 sh -c 'journalctl -u memgov-app -o cat --no-pager | grep -q "^decision .*actions=lower-target"'
journalctl -u memgov-app -o cat --no-pager >"$T/log"
expect_grep "a lower-target decision" "$T/log" "^decision .*actions=lower-target" && pass

begin "systemd 252 gives the service no MEMORY_PRESSURE_WATCH; memgov gives the server its own group's"
watch_mg=$(environ_has "$main" MEMORY_PRESSURE_WATCH)
watch_child=$(environ_has "$child" MEMORY_PRESSURE_WATCH)
ok=1
if [ "$sd_version" -lt 254 ]; then
        expect "MEMORY_PRESSURE_WATCH in memgov's environment (systemd $sd_version)" "$watch_mg" "" || ok=0
fi
[ $ok = 1 ] && expect "the server's MEMORY_PRESSURE_WATCH" "$watch_child" "$CG$child_group/memory.pressure" &&
        expect "the server's MEMORY_PRESSURE_WRITE (some 200 ms per 2 s)" \
                "$(environ_has "$child" MEMORY_PRESSURE_WRITE | base64 -d)" "some 200000 2000000" &&
        expect "that file exists" "$(test -f "$watch_child" && echo yes)" yes && pass "systemd $sd_version"

begin "decisions reach the real journald: journalctl MEMGOV_ACTION=lower-target -o json, every documented field"
journalctl MEMGOV_ACTION=lower-target -o json --no-pager >"$T/json" 2>"$T/err"
python3 - "$T/json" $DOCUMENTED_FIELDS >"$T/check" 2>&1 <<'EOF'
import json, sys
entries = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
if not entries:
    sys.exit("no entries")
for e in entries:
    missing = [f for f in sys.argv[2:] if f not in e]
    if missing:
        sys.exit("an entry lacks %s: %s" % (" ".join(missing), json.dumps(e)[:600]))
    if e["MEMGOV_ACTION"] != "lower-target" or e.get("_SYSTEMD_UNIT") != "memgov-app.service":
        sys.exit("unexpected entry: %s" % json.dumps(e)[:600])
    if not e["MEMGOV_TARGET_BYTES"].isdigit() or e.get("SYSLOG_IDENTIFIER") != "memgov":
        sys.exit("bad fields: %s" % json.dumps(e)[:600])
print(len(entries), "entries, e.g. MEMGOV_RULE=%s MEMGOV_TARGET_BYTES=%s" %
      (entries[0]["MEMGOV_RULE"], entries[0]["MEMGOV_TARGET_BYTES"]))
EOF
if [ $? = 0 ]; then pass "$(cat "$T/check")"; else fail "$(cat "$T/check")"; fi

begin "systemctl stop: memgov forwards SIGTERM, the unit stops cleanly, no group is left behind"
systemctl stop memgov-app >"$T/out" 2>"$T/err"
expect "systemctl stop" $? 0 &&
        expect "state" "$(systemctl show -P ActiveState memgov-app)" inactive &&
        expect "result" "$(systemctl show -P Result memgov-app)" success &&
        expect "memgov and the server are gone" "$(ps -o pid= -p "$main,$child" | tr -d ' ')" "" &&
        no_group system.slice/memgov-app.service &&
        pass "$(journalctl -u memgov-app -o cat --no-pager | grep -E 'Main process exited|Deactivated' | tr '\n' ' ')"


begin "why the unit says SuccessExitStatus=143: without it, the same stop leaves the unit failed"
# memgov passes the server's death by the forwarded SIGTERM on as 143, which systemd counts as a failure.
printf '[Service]\nSuccessExitStatus=\n' >/etc/systemd/system/memgov-app.service.d/no-143.conf
systemctl daemon-reload
systemctl start memgov-app
main=$(systemctl show -P MainPID memgov-app)
if ! until_ok 150 test -n "$(pid_of_child "$main")"; then
        fail "no workload under memgov (MainPID $main)"
else
        systemctl stop memgov-app
        expect "state" "$(systemctl show -P ActiveState memgov-app)" failed &&
                expect "result" "$(systemctl show -P Result memgov-app)" exit-code &&
                expect "the status systemd saw" "$(journalctl -u memgov-app -o cat --no-pager |
                        sed -n 's/.*Main process exited, code=exited, status=\([0-9]*\).*/\1/p' | tail -1)" 143 &&
                no_group system.slice/memgov-app.service && pass
fi
rm /etc/systemd/system/memgov-app.service.d/no-143.conf
systemctl reset-failed memgov-app

# --- a user with a running user manager -------------------------------------------------------
useradd --create-home --shell /bin/sh memgovtest
uid=$(id -u memgovtest)
as_user() {
        setpriv --reuid="$uid" --regid="$uid" --init-groups env -i PATH=/usr/bin:/bin HOME=/home/memgovtest \
                USER=memgovtest XDG_RUNTIME_DIR="/run/user/$uid" MEMGOV_LOG_FORMAT=text "$@"
}
UM=$CG/user.slice/user-$uid.slice/user@$uid.service

begin "systemctl start user@UID: the real user manager runs, with memory delegated to it"
systemctl start "user@$uid" >"$T/out" 2>"$T/err"
expect "systemctl start user@$uid" $? 0 &&
        expect "state" "$(systemctl show -P ActiveState "user@$uid")" active &&
        expect_grep "memory delegated" "$UM/cgroup.controllers" memory && pass

begin "non-root: memgov gets its transient scope from the real user manager, with MemoryMax and MemoryHigh"
mkdir -p "$T/u" && chown memgovtest "$T/u" && chmod 755 "$T"
as_user /usr/local/bin/memgov run -v --memory-max 64M --memory-high 48M --name app -- sh -c \
        'g=$(cut -d: -f3 /proc/self/cgroup); echo "$g" >'"$T/u/group"'; while [ ! -e '"$T/u/stop"' ]; do sleep 0.2; done' \
        >"$T/out" 2>"$T/err" &
job=$! # a subshell running as_user; memgov is its descendant
if ! until_ok 300 test -s "$T/u/group"; then
        fail "the child never started: $(tail -3 "$T/err")"
else
        as_user systemctl --user show -p MemoryMax -p MemoryHigh -p Delegate -p ControlGroup app.scope >"$T/show" 2>&1
        scope=$(sed -n 's/^ControlGroup=//p' "$T/show")
        child_group=$(cat "$T/u/group")
        mgpid=$(pgrep -u "$uid" -x memgov | head -1)
        expect "the scope's group" "$scope" "/user.slice/user-$uid.slice/user@$uid.service/app.slice/app.scope" &&
                expect_grep "MemoryMax" "$T/show" "^MemoryMax=67108864$" &&
                expect_grep "MemoryHigh" "$T/show" "^MemoryHigh=50331648$" &&
                expect_grep "Delegate" "$T/show" "^Delegate=yes$" &&
                expect "the scope's memory.max" "$(cat "$CG$scope/memory.max")" 67108864 &&
                expect "the scope's memory.high" "$(cat "$CG$scope/memory.high")" 50331648 &&
                expect "the child's group, inside the scope" "$child_group" "$scope/app" &&
                expect "memgov, inside the scope" "$(cut -d: -f3 "/proc/$mgpid/cgroup")" "$scope/supervisor" &&
                expect_grep "memgov says so" "$T/err" "In transient scope app.scope \(Delegate=yes\)" &&
                pass "$scope"
fi
touch "$T/u/stop"
wait $job
rc=$?

begin "the scope ends with memgov: exit status passed on, and the user manager removes the scope"
until_ok 150 sh -c "! test -e '$CG$scope'"
expect "exit" $rc 0 && expect "the scope's group is gone" "$(test -e "$CG$scope" && echo left)" "" && pass

begin "systemd 252 gives a user's processes no MEMORY_PRESSURE_WATCH; memgov's child gets its own group's"
printf '%s\n' 'echo "${MEMORY_PRESSURE_WATCH-unset}"' >"$T/u/env.sh"
as_user systemd-run --user --wait --pipe --quiet sh "$T/u/env.sh" >"$T/out" 2>"$T/err"
rc=$?
in_unit=$(cat "$T/out")
as_user /usr/local/bin/memgov run --memory-max 64M --name envcheck -- sh -c 'echo "$MEMORY_PRESSURE_WATCH"' \
        >"$T/out" 2>"$T/err"
rc_mg=$?
# 254 added MemoryPressureWatch=; 252 does not know the setting at all.
as_user systemd-run --user --quiet -p MemoryPressureWatch=auto true >"$T/out-watch" 2>&1
rc_watch=$?
expect "memgov's exit" $rc_mg 0 && expect "systemd-run's exit" $rc 0 &&
        if [ "$sd_version" -lt 254 ]; then
                expect "a user service's MEMORY_PRESSURE_WATCH" "$in_unit" unset &&
                        expect "systemd-run -p MemoryPressureWatch=auto, refused" $rc_watch 1 &&
                        expect_grep "why" "$T/out-watch" "Unknown assignment: MemoryPressureWatch=auto"
        fi &&
        expect "the child's" "$(cat "$T/out")" \
                "$CG/user.slice/user-$uid.slice/user@$uid.service/app.slice/envcheck.scope/envcheck/memory.pressure" &&
        pass "systemd $sd_version"

finish real-systemd

#!/bin/bash
# On a cgroup v1 or hybrid host, `memgov run` must refuse with exit 125 and a
# message that names the mode it found, and must create nothing.
# Usage: refuses.sh MEMGOV v1|hybrid   (inside tests/vm/vmrun --cgroup v1|hybrid)
set -u
MEMGOV=$1
mode=$2
passed=0
failed=0
check() { # WHAT CONDITION...
        local what=$1
        shift
        if "$@"; then
                passed=$((passed + 1))
                echo "ok - $what"
        else
                failed=$((failed + 1))
                echo "not ok - $what"
        fi
}
before=$(find /sys/fs/cgroup -maxdepth 2 | wc -l)
"$MEMGOV" run --memory-max 64M -- true >/tmp/out 2>/tmp/err
rc=$?
cat /tmp/err
check "exit 125 on $mode" [ $rc -eq 125 ]
case $mode in
v1) check "names cgroup v1" grep -q "this host's cgroups are cgroup v1" /tmp/err ;;
hybrid) check "names hybrid" grep -q "this host's cgroups are hybrid" /tmp/err ;;
esac
check "says what is needed" grep -q "needs cgroup v2 with the memory controller" /tmp/err
check "created nothing" [ "$(find /sys/fs/cgroup -maxdepth 2 | wc -l)" -eq "$before" ]
"$MEMGOV" explain --memory-max 64M -- true >/tmp/out 2>&1
check "explain reports the backend" grep -q "^backend: .*$( [ $mode = v1 ] && echo 'cgroup v1' || echo hybrid)" /tmp/out
echo "refuses-$mode: $passed passed, $failed failed"
[ $failed -eq 0 ]

#!/bin/bash
# The OOM-avoidance matrix, on the real kernel in the test VM (scripts/bench runs
# it there): each workload shape under each strategy, RUNS times, each run in a
# fresh parent group whose counters outlive the run (memory.peak, memory.events).
# Strategies:
#   unconstrained  no memory.max, no settings: the wall-time reference
#   none           memory.max, no settings (Go: neither GOMEMLIMIT nor GOGC)
#   static         memory.max and GOMEMLIMIT = 90% of it, set once (automemlimit's
#                  default); for the JVM and Node, their container defaults
#   env            memgov run --no-agent: the launch environment, no agent
#   agent          memgov run: the launch environment and the agent
# For the JVM and Node, none would be their container defaults again: not run.
# One line per run in OUTDIR/matrix-RUNTIME.csv: wall_ms from the launch (the group's
# creation) to the group's removal, program_ms the program's own time to its done line;
# memgov's trace and -v log of the first run of each memgov cell in OUTDIR/traces/ and
# OUTDIR/logs/.
# Usage: matrix.sh MEMGOV RUNTIME(go|jvm|jvm25|node) PROGRAM OUTDIR RUNS [SHAPE...]
#   PROGRAM: the Go workload, the directory of Bench.class, or bench.js
#   SHAPE...    only these shapes (default: all)
#   EXCEPT      (environment) not these shapes, e.g. "steady burst"
#   STRATEGIES  (environment) only these, e.g. "agent" (default: all)
#   NODE        (environment) the node to run for RUNTIME node (default: node in PATH), e.g. Node 24's
# One shape of one runtime, a few runs, without the rest of scripts/bench:
#   flock /tmp/memgov-vm.lock tests/vm/vmrun --timeout 1200 --share "$PWD/out" -- \
#       bench/matrix.sh build/memgov node bench/workload/bench.js "$PWD/out" 3 native-shm
set -u
MEMGOV=$(realpath "$1")
RT=$2
PROG=$(realpath "$3")
OUT=$4
RUNS=$5
shift 5
CG=/sys/fs/cgroup
T=$(mktemp -d /tmp/matrix.XXXXXX)
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
unset GOMEMLIMIT GOGC JAVA_TOOL_OPTIONS NODE_OPTIONS
[ "$(stat -fc %T $CG)" = cgroup2fs ] || {
        echo "matrix.sh: $CG is not cgroup v2; run me through tests/vm/vmrun" >&2
        exit 2
}
mkdir -p "$OUT/traces" "$OUT/logs"
# The -v logs are read as text lines; a file on stderr would get logfmt.
export MEMGOV_LOG_FORMAT=text
echo "$RT matrix: kernel $(uname -r), $(nproc) vCPUs, $(awk '$1 == "MemTotal:" { print int($2 / 1024) }' /proc/meminfo) MiB" \
        >>"$OUT/environment.txt"
[ "$RT" = node ] && echo "node matrix: node $("${NODE:-node}" --version)" >>"$OUT/environment.txt"
csv=$OUT/matrix-$RT.csv
[ -s "$csv" ] || echo "runtime,shape,strategy,rep,max_mib,exit,outcome,oom_kills,work_mib,work_target_mib,peak_bytes,gc_cpu,wall_ms,cannot_fit_to_end_ms,program_ms" >"$csv"

# The cells: shape name, memory.max in MiB, the work it should complete (MiB; 0 for the leak), the program's
# arguments. The sizes keep the live set (heap plus outside) at or below 80% of memory.max, except the leaks.
case $RT in
go)
        cells=(
                "steady|256|600|steady -live 190 -work 600"
                "burst|256|600|burst -live 60 -burst 100 -work 600"
                "outside-mmap|256|600|outside -kind mmap -live 100 -outside 100 -work 600"
                "outside-shm|256|600|outside -kind shm -live 100 -outside 100 -work 600"
                "outside-helper|256|600|outside -kind helper -live 100 -outside 100 -work 600"
                "outside-mmap-fast|256|600|outside -kind mmap -live 100 -outside 100 -pace 4 -work 600"
                "outside-shm-fast|256|600|outside -kind shm -live 100 -outside 100 -pace 4 -work 600"
                "outside-helper-fast|256|600|outside -kind helper -live 100 -outside 100 -pace 4 -work 600"
                "jump|256|600|jump -live 110 -outside 60 -work 600"
                "high-live|256|600|steady -live 200 -work 600"
                "resize|256|600|resize -live 100 -work 600"
                "leak|256|0|leak -max 256"
                "slow-leak|256|0|leak -max 256 -rate 2"
        )
        strategies=(unconstrained none static env agent)
        cmd=("$PROG")
        warmup=(burst -live 1 -burst 1 -work 2)
        ;;
jvm | jvm25)
        # offheap: 160M of live direct buffers next to a 60M live heap and its garbage. The JVM's default
        # MaxDirectMemorySize is its heap limit: the default heap in 384M is 126M (not a quarter: see
        # docs/runtimes.md), 121.8M of it usable with Serial. With 120M the default still completed.
        cells=(
                "steady|384|600|steady -live 150 -work 600"
                "outside-shm|384|600|outside -live 60 -outside 220 -work 600"
                "offheap|384|600|offheap -live 60 -direct 160 -work 600"
        )
        strategies=(unconstrained static env agent)
        # jvm is the machine's java (OpenJDK 17); jvm25 Temurin 25, or JAVA25.
        java=java
        [ "$RT" = jvm25 ] && java=${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
        cmd=("$java" -cp "$PROG" Bench)
        warmup=(steady -live 1 -work 2)
        ;;
node)
        cells=(
                "steady|256|600|steady -live 140 -work 600"
                "outside-shm|256|600|outside -live 60 -outside 140 -work 600"
                "native-shm|256|600|native -kind shm -live 60 -native 140 -work 600"
        )
        strategies=(unconstrained static env agent)
        cmd=("${NODE:-node}" "$PROG")
        warmup=(steady -live 1 -work 2)
        ;;
*)
        echo "matrix.sh: unknown runtime $RT" >&2
        exit 2
        ;;
esac
if [ -n "${STRATEGIES:-}" ]; then
        for s in $STRATEGIES; do
                printf '%s\n' "${strategies[@]}" | grep -qx "$s" || {
                        echo "matrix.sh: STRATEGIES: '$s' is not a strategy of $RT (${strategies[*]})" >&2
                        exit 2
                }
        done
        read -ra strategies <<<"$STRATEGIES"
fi
RESIZE_TO_MIB=160

# lower_when_low GROUP: the resize shape: when the program says its heap is built, lower memory.max.
lower_when_low() {
        for _ in $(seq 600); do
                grep -q "^low" "$T/out" 2>/dev/null && break
                sleep 0.05
        done
        echo $((RESIZE_TO_MIB << 20)) >"$1/memory.max" 2>/dev/null
}

# baseline_when_settled TIMEOUT-PID: the leaks: once the live heap reaches 100M (well before the cannot-fit
# line), ask memgov (the child of `timeout`) for a heap capture: the baseline that report.py sets against
# the capture memgov takes on cannot-fit (go tool pprof -base).
baseline_when_settled() {
        local work mg
        for _ in $(seq 1200); do
                work=$(grep -oE "work_mib=[0-9]+" "$T/out" 2>/dev/null | tail -1 | cut -d= -f2)
                [ "${work:-0}" -ge 100 ] && break
                kill -0 "$1" 2>/dev/null || return 0
                sleep 0.05
        done
        mg=$(cut -d' ' -f1 "/proc/$1/task/$1/children" 2>/dev/null)
        [ -n "$mg" ] && "$MEMGOV" capture "$mg" >>"$T/capture" 2>&1
}

# run_cell SHAPE MAX_MIB STRATEGY REP ARGS...: one run; sets exit_code and wall_ms.
run_cell() {
        local shape=$1 max=$2 strategy=$3 rep=$4 p=$CG/bench-$$-$RANDOM watcher=
        shift 4
        mkdir "$p"
        echo +memory >"$p/cgroup.subtree_control"
        local limit=$((max << 20)) args=("$@")
        [ "$shape" = resize ] && [ "$strategy" = unconstrained ] && args+=(-wait 0)
        [ "$strategy" = unconstrained ] && limit=max
        : >"$T/out"
        : >"$T/err"
        local start
        start=$(date +%s%N)
        case $strategy in
        unconstrained | none | static)
                mkdir "$p/w"
                echo "$limit" >"$p/w/memory.max"
                echo 1 >"$p/w/memory.oom.group"
                local env=()
                [ "$strategy" = static ] && [ "$RT" = go ] && env=(GOMEMLIMIT=$((limit * 9 / 10)))
                [ "$shape" = resize ] && [ "$strategy" != unconstrained ] && { lower_when_low "$p/w" & watcher=$!; }
                # Braces with stderr closed: bash reports a foreground job killed by a signal on its own stderr.
                { timeout -s KILL "$RUN_TIMEOUT" bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec env "$@"' \
                        bash "$p/w" "${env[@]}" "${cmd[@]}" "${args[@]}" >"$T/out" 2>"$T/err"; } 2>/dev/null
                exit_code=$?
                ;;
        env | agent)
                local opts=(-v --parent "$p" --name w --memory-max "$limit")
                [ "$strategy" = env ] && opts+=(--no-agent)
                # golang/go#58106: a slow leak under a memory limit thrashes the GC for a long time before the
                # OOM kill; memgov is asked to end it once it cannot fit.
                [ "$shape" = slow-leak ] && opts+=(--on-cannot-fit kill)
                [ "$rep" = 1 ] && opts+=(--trace "$OUT/traces/$RT-$shape-$strategy.jsonl")
                [ "$shape" = resize ] && { lower_when_low "$p/w" & watcher=$!; }
                local captures=$OUT/captures/$RT-$shape-$strategy baseline=
                # The interval lets the capture on cannot-fit follow the baseline.
                case $shape in *leak) [ "$rep" = 1 ] && [ "$strategy" = agent ] && baseline=yes &&
                        rm -rf "$captures" && mkdir -p "$captures" &&
                        opts+=(--capture-dir "$captures" --capture-interval 1s) ;; esac
                : >"$T/capture"
                timeout -s TERM "$RUN_TIMEOUT" "$MEMGOV" run "${opts[@]}" -- "${cmd[@]}" "${args[@]}" \
                        >"$T/out" 2>"$T/err" &
                local tpid=$!
                [ -n "$baseline" ] && baseline_when_settled $tpid &
                wait $tpid
                exit_code=$?
                wait
                [ -n "$baseline" ] && cp "$T/capture" "$captures/baseline-request.txt"
                [ "$rep" = 1 ] && cp "$T/err" "$OUT/logs/$RT-$shape-$strategy.log"
                ;;
        esac
        end_ns=$(date +%s%N)
        # memgov removes its group before it exits; the clock of the other strategies stops once theirs is
        # removed too, so the launch and the teardown of a group are on both sides.
        if [ -d "$p/w" ]; then
                echo 1 >"$p/w/cgroup.kill" 2>/dev/null
                for _ in $(seq 50); do rmdir "$p/w" 2>/dev/null && break; sleep 0.1; done
        fi
        wall_ms=$((($(date +%s%N) - start) / 1000000))
        [ -n "$watcher" ] && wait "$watcher" 2>/dev/null
        peak=$(cat "$p/memory.peak" 2>/dev/null || echo "")
        oom_kills=$(awk '$1 == "oom_kill" { print $2 }' "$p/memory.events")
        rmdir "$p" 2>/dev/null || echo "matrix.sh: $p left behind" >&2
        rm -f /dev/shm/bench-shm-* # a killed program leaves its tmpfs file
}

# last KEY: the last value of KEY= in the program's progress and done lines.
last() { grep -oE "(^| )$1=[-0-9.]+" "$T/out" | tail -1 | cut -d= -f2; }

# The first start of a program in a fresh VM reads it through 9p: not part of any measurement.
"${cmd[@]}" "${warmup[@]}" >/dev/null 2>&1
"$MEMGOV" --version >/dev/null 2>&1

# Repetitions outside, strategies inside: a slow minute (another VM) falls on every strategy alike. Each
# repetition starts one strategy further on, so none always runs right after the same one (the one before
# may still be freeing its memory, and a run's place in the order is not a cost of its strategy).
nstrategies=${#strategies[@]}
for cell in "${cells[@]}"; do
        IFS='|' read -r shape max target argline <<<"$cell"
        if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$shape"; then continue; fi
        case " ${EXCEPT:-} " in *" $shape "*) continue ;; esac
        read -ra args <<<"$argline"
        for rep in $(seq "$RUNS"); do
                for i in $(seq 0 $((nstrategies - 1))); do
                        strategy=${strategies[$(((i + rep - 1) % nstrategies))]}
                        case $shape in *leak) [ "$strategy" = unconstrained ] && continue ;; esac # it would never end
                        run_cell "$shape" "$max" "$strategy" "$rep" "${args[@]}"
                        work=$(last work_mib)
                        gc=$(last gc_cpu)
                        cf_at=$(sed -n 's/^cannot_fit at_ns=\([0-9]*\).*/\1/p' "$T/out")
                        cf_ms=
                        [ -n "$cf_at" ] && cf_ms=$(((end_ns - cf_at) / 1000000))
                        if grep -q "^done " "$T/out" && [ "$exit_code" -eq 0 ]; then
                                outcome=completed
                        elif [ "${oom_kills:-0}" -gt 0 ]; then
                                outcome=oom-killed
                        elif [ "$exit_code" -eq 122 ]; then
                                outcome=cannot-fit-kill
                        elif [ "$exit_code" -eq 124 ] || [ "$exit_code" -eq 137 ]; then
                                outcome=timeout
                        else
                                outcome=failed
                        fi
                        prog_ms=$(sed -n 's/^done .*wall_ms=\([0-9]*\).*/\1/p' "$T/out")
                        echo "$RT,$shape,$strategy,$rep,$max,$exit_code,$outcome,${oom_kills:-0},${work:-0},$target,$peak,$gc,$wall_ms,$cf_ms,$prog_ms" >>"$csv"
                        echo "matrix: $RT $shape $strategy #$rep: $outcome (exit $exit_code) work=${work:-0}/$target peak=$((${peak:-0} >> 20))M gc=$gc ${wall_ms}ms${cf_ms:+ cannot-fit->end ${cf_ms}ms}"
                        if [ "$outcome" = failed ]; then
                                tail -3 "$T/err" | sed 's/^/#   /'
                        fi
                done
        done
done
rm -rf "$T"

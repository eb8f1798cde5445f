# shellcheck shell=bash
# For host-side check scripts that list many small facts (sourced): "ok - ..." and "not ok - ...",
# with $failed counting the failures for the script's exit status ([ "$failed" -eq 0 ]).
failed=0
ok() { echo "ok - $*"; }
bad() {
        echo "not ok - $*"
        failed=$((failed + 1))
}
# check WHAT GOT WANT: ok when GOT is WANT, else bad with a diff (- want, + got) under it.
check() {
        if [ "$2" == "$3" ]; then ok "$1"; else
                bad "$1"
                diff <(echo "$3") <(echo "$2") | sed 's/^/#   /'
        fi
}
# passes_in DIR WHAT COMMAND...: ok when COMMAND, run in DIR, exits 0; else bad with its output under it.
passes_in() {
        local out
        if out=$(cd "$1" && "${@:3}" 2>&1); then ok "$2"; else
                bad "$2:"
                echo "$out" | sed 's/^/#   /'
        fi
}

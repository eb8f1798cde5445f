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

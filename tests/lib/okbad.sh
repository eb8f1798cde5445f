# shellcheck shell=bash
# For host-side check scripts that list many small facts (sourced): "ok - ..." and "not ok - ...",
# with $failed set by the first failure for the script's exit status.
failed=0
ok() { echo "ok - $*"; }
bad() {
        echo "not ok - $*"
        failed=1
}

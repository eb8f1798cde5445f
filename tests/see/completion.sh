#!/bin/bash
# The bash completion offers memgov's verbs, options and option values.
# Usage: completion.sh COMPLETION-FILE
set -u
source /usr/share/bash-completion/bash_completion || exit 1
source "$1" || exit 1
failed=0

complete_line() { # LINE: what <TAB> offers at its end
        COMP_LINE=$1
        COMP_POINT=${#COMP_LINE}
        read -ra COMP_WORDS <<<"$COMP_LINE"
        [[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMPREPLY=()
        _memgov memgov "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
        echo "${COMPREPLY[*]}"
}
check() { # LINE WANT
        local got
        got=$(complete_line "$1")
        if [ "$got" = "$2" ]; then
                echo "ok - '$1' -> '$got'"
        else
                echo "not ok - '$1': got '$got', want '$2'"
                failed=1
        fi
}

check "memgov ex" "explain"
check "memgov st" "status"
check "memgov status --j" "--json"
check "memgov run --metrics-l" "--metrics-listen"
check "memgov run --on-cannot-fit " "let-oom kill"
check "memgov run --runtime j" "jvm jemalloc"
check "memgov run --memory-max 1G --tr" "--trace"
check "memgov explain --run" "--runtime"
exit $failed

# bash completion for memgov(1)                              -*- shell-script -*-

_memgov()
{
        local cur prev words cword
        _init_completion || return

        local verbs="run explain check status capture --version --help"
        local opts="--memory-max --memory-high --swap-max --name --parent --grace --on-cannot-fit
                --agent-socket --no-agent --runtime --gogc --jvm-reserve --node-reserve --dotnet-reserve
                --profile --config-dir --init --observe --oom-score-adj
                --metrics-file --metrics-listen --trace --capture --capture-dir --capture-budget
                --capture-interval --log-format --verbose --quiet --help"

        if [[ $cword -eq 1 ]]; then
                COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
                return
        fi
        case ${words[1]} in
        capture)
                [[ $cur == -* ]] && COMPREPLY=($(compgen -W "--help" -- "$cur"))
                return
                ;;
        status)
                [[ $cur == -* ]] && COMPREPLY=($(compgen -W "--json --help" -- "$cur"))
                return
                ;;
        check)
                COMPREPLY=($(compgen -f -X '!*.ini' -- "$cur") $(compgen -d -- "$cur"))
                return
                ;;
        run | explain) ;;
        *) return ;;
        esac

        # After "--" or the first non-option word, it is the command and its own arguments.
        local i
        for ((i = 2; i < cword; i++)); do
                if [[ ${words[i]} == -- ]]; then
                        _command_offset $((i + 1))
                        return
                fi
        done

        case $prev in
        --config-dir)
                COMPREPLY=($(compgen -d -- "$cur"))
                return
                ;;
        --on-cannot-fit)
                COMPREPLY=($(compgen -W "let-oom kill" -- "$cur"))
                return
                ;;
        --runtime)
                COMPREPLY=($(compgen -W "auto go jvm node dotnet glibc jemalloc none" -- "$cur"))
                return
                ;;
        --log-format)
                COMPREPLY=($(compgen -W "auto text logfmt journal" -- "$cur"))
                return
                ;;
        --capture)
                COMPREPLY=($(compgen -W "on off" -- "$cur"))
                return
                ;;
        --capture-dir)
                COMPREPLY=($(compgen -d -- "$cur"))
                return
                ;;
        --metrics-file | --trace)
                _filedir
                return
                ;;
        --metrics-listen)
                COMPREPLY=($(compgen -W "127.0.0.1: [::1]: localhost:" -- "$cur"))
                compopt -o nospace
                return
                ;;
        --memory-max | --memory-high | --swap-max | --name | --parent | --grace | --gogc | \
                --jvm-reserve | --node-reserve | --dotnet-reserve | --capture-budget | --capture-interval)
                return
                ;;
        esac

        if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$opts --" -- "$cur"))
        else
                COMPREPLY=($(compgen -c -- "$cur"))
        fi
} &&
        complete -F _memgov memgov

# ex: filetype=sh

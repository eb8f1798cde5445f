#!/bin/bash
# `cmake --install` puts the binary, the agents, the man pages, the pkg-config
# file and the bash completion where a distribution would, and what it puts
# there works: the binary runs, the man pages render without warnings, the
# completion completes.
# Usage: install.sh BUILD-DIR SOURCE-DIR
set -u
build=$1 src=$2
dest=$(mktemp -d "${TMPDIR:-/tmp}/memgov-install.XXXXXX")
trap 'rm -rf "$dest"' EXIT
# shellcheck source=../lib/okbad.sh
. "$(dirname "$0")/../lib/okbad.sh"

DESTDIR=$dest cmake --install "$build" --prefix /usr >"$dest.log" 2>&1 || {
        cat "$dest.log"
        exit 1
}
rm -f "$dest.log"
for f in usr/bin/memgov usr/share/man/man1/memgov.1 usr/share/man/man5/memgov.ini.5 \
        usr/share/bash-completion/completions/memgov usr/include/memgov-agent.h usr/lib/memgov/memgov-agent.js \
        usr/lib/memgov/memgov-agent.jar usr/share/doc/memgov/README.md usr/share/memgov/memgov-plot-trace; do
        if [ -e "$dest/$f" ]; then ok "/$f"; else bad "/$f is missing"; fi
done
pc=$(find "$dest/usr/lib" -name memgov-agent.pc)
libso=$(find "$dest/usr/lib" -name 'libmemgov-agent.so*' | head -1)
[ -n "$pc" ] && ok "${pc#"$dest"}" || bad "no memgov-agent.pc"
[ -n "$libso" ] && ok "${libso#"$dest"}" || bad "no libmemgov-agent.so"

# The Go agent's source builds into a program that imports it, from where it was installed, offline.
goagent=$dest/usr/share/gocode/src/memgov.dev/agent
if [ -f "$goagent/go.mod" ] && [ -f "$goagent/agent.go" ] && ! ls "$goagent"/*_test.go >/dev/null 2>&1; then
        ok "/usr/share/gocode/src/memgov.dev/agent"
        if command -v go >/dev/null; then
                prog=$dest/goprog
                mkdir -p "$prog"
                printf 'package main\n\nimport _ "memgov.dev/agent"\n\nfunc main() {}\n' >"$prog/main.go"
                printf 'module example.com/prog\n\ngo 1.19\n\nrequire memgov.dev/agent v0.0.0\n\nreplace memgov.dev/agent => %s\n' \
                        "$goagent" >"$prog/go.mod"
                if out=$(cd "$prog" && GOFLAGS=-mod=mod GOPROXY=off GOCACHE=$dest/gocache go build -o prog . 2>&1); then
                        ok "a Go program builds with the installed agent"
                else
                        bad "a Go program with the installed agent: $out"
                fi
        fi
else
        bad "the Go agent's source is not installed as a module in $goagent"
fi

v=$("$dest/usr/bin/memgov" --version)
[[ $v == "memgov "* ]] && ok "memgov --version: $v" || bad "memgov --version: $v"
for page in man1/memgov.1 man5/memgov.ini.5; do
        warnings=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$dest/usr/share/man/$page" 2>&1)
        text=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$dest/usr/share/man/$page" 2>/dev/null | wc -l)
        if [ -z "$warnings" ] && [ "$text" -gt 10 ]; then ok "$page renders ($text lines)"; else bad "$page: $warnings"; fi
done
# Every option `memgov run --help` lists is in the man page and in the completion.
for opt in $("$dest/usr/bin/memgov" run --help | grep -oE '^  (-[a-z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+'); do
        grep -q -- "${opt//-/\\\\-}" "$dest/usr/share/man/man1/memgov.1" || bad "memgov(1) lacks $opt"
        grep -q -- "$opt" "$dest/usr/share/bash-completion/completions/memgov" || bad "the completion lacks $opt"
done
[ $failed -eq 0 ] && ok "every option of 'memgov run --help' is in memgov(1) and the completion"
"$src/tests/see/completion.sh" "$dest/usr/share/bash-completion/completions/memgov" || failed=$((failed + 1))
exit $failed

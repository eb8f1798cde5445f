#!/bin/bash
# The .deb (CPack, from the build tree's install rules) has what a Debian
# package must: the binary, the man pages, the copyright file and a gzipped
# changelog in its doc directory, and Depends from dpkg-shlibdeps.
# Usage: deb.sh BUILD-DIR
set -u
build=$1
out=$(mktemp -d "${TMPDIR:-/tmp}/memgov-deb.XXXXXX")
trap 'rm -rf "$out"' EXIT
# shellcheck source=../lib/okbad.sh
. "$(dirname "$0")/../lib/okbad.sh"

if ! (cd "$build" && cpack -G DEB -B "$out" >"$out/cpack.log" 2>&1); then
        cat "$out/cpack.log"
        exit 1
fi
deb=$(ls "$out"/*.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { bad "cpack made no .deb"; exit 1; }
ok "$(basename "$deb")"
dpkg-deb -c "$deb" | awk '{print $6}' >"$out/files"
for f in ./usr/bin/memgov ./usr/share/man/man1/memgov.1 ./usr/share/man/man5/memgov.ini.5 \
        ./usr/share/doc/memgov/copyright ./usr/share/doc/memgov/changelog.Debian.gz \
        ./usr/share/gocode/src/memgov.dev/agent/go.mod ./usr/share/bash-completion/completions/memgov; do
        grep -qx -- "$f" "$out/files" && ok "$f" || bad "$f is not in the package"
done
dpkg-deb -x "$deb" "$out/root"
if zcat "$out/root/usr/share/doc/memgov/changelog.Debian.gz" | head -1 | grep -qE '^memgov \([0-9.]+\) '; then
        ok "the changelog names the package and its version"
else
        bad "changelog.Debian.gz does not start with 'memgov (VERSION)'"
fi
grep -q '^License: MIT' "$out/root/usr/share/doc/memgov/copyright" && ok "copyright: MIT" || bad "copyright names no license"
depends=$(dpkg-deb -f "$deb" Depends)
[[ $depends == *libsystemd0* && $depends == *libc6* ]] && ok "Depends: $depends" || bad "Depends: '$depends'"
exit $failed

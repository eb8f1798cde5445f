#!/bin/sh
# Installs the build into a scratch prefix and builds the C demo against the
# installed libmemgov-agent through pkg-config, shared and static, then runs
# both (without MEMGOV_* they must start and stop cleanly).
#   pkgconfig.sh <build dir> <source dir> <C compiler>
set -eu
build=$1 src=$2 cc=$3
prefix=$(mktemp -d "${TMPDIR:-/tmp}/memgov-pc.XXXXXX")
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
pcdir=$(dirname "$(find "$prefix" -name memgov-agent.pc)")
export PKG_CONFIG_PATH="$pcdir"
# Installed elsewhere than the configured prefix: let pkg-config derive it from the .pc file's place.
pc() { pkg-config --define-prefix "$@"; }
pc --exists memgov-agent
demo="$src/agents/c/examples/demo.c"
# shellcheck disable=SC2046
"$cc" -o "$prefix/demo-shared" "$demo" $(pc --cflags --libs memgov-agent) -pthread
# shellcheck disable=SC2046
"$cc" -o "$prefix/demo-static" "$demo" $(pc --cflags memgov-agent) \
        "$(pc --variable=libdir memgov-agent)/libmemgov-agent.a" $(pc --libs-only-l --static memgov-agent | sed 's/-lmemgov-agent//') -pthread
libdir=$(pc --variable=libdir memgov-agent)
for d in demo-shared demo-static; do
        out=$(env -u MEMGOV_FD -u MEMGOV_SOCKET LD_LIBRARY_PATH="$libdir" timeout 10 sh -c \
                "\"$prefix/$d\" & pid=\$!; sleep 0.3; kill -TERM \$pid; wait \$pid")
        [ "$out" = "ready agent=off" ] || { echo "$d: unexpected output: $out"; exit 1; }
        echo "$d: ok"
done
if nm -D --defined-only "$libdir/libmemgov-agent.so" | grep -q ' T proto_'; then
        echo "libmemgov-agent.so exports the protocol internals"
        exit 1
fi
echo "pkgconfig: 3 passed, 0 failed"

#!/bin/sh
# Runs the go tool for the tests, from the Go agent's module directory:
#   go.sh <module dir> <build dir> go-args...
# The build cache goes under the build dir when HOME is not writable (CI, sandboxes);
# GOTOOLCHAIN=local keeps go from fetching a toolchain, GOFLAGS from the caller is ignored.
set -eu
module=$1 build=$2
shift 2
if [ -z "${HOME:-}" ] || ! [ -w "${HOME:-/nonexistent}" ]; then
        export GOCACHE="$build/go-cache" GOPATH="$build/go-path"
fi
export GOTOOLCHAIN=local GOFLAGS= CGO_ENABLED=${CGO_ENABLED:-0}
cd "$module"
exec go "$@"

#!/usr/bin/env bash
# The Go module against the release libkeycard.a (the build ffi/valgrind.sh makes too), with the
# race detector: go test -race ./... in bindings/go. Standard library only; no module downloads.
#   bindings/go/test.sh [GO_TEST_ARGS...]      e.g. -run XXX -bench . -benchtime 200000x
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"
target="${CARGO_TARGET_DIR:-$repo/target}"
command -v go >/dev/null || { echo "go is not installed (apt-get install golang-go)" >&2; exit 1; }
cargo build --quiet --release -p keycard-ffi --lib
cd bindings/go
gofmt_out="$(gofmt -l .)"
[ -z "$gofmt_out" ] || { echo "gofmt: $gofmt_out" >&2; exit 1; }
export GOPROXY=off GOFLAGS=-mod=readonly KEYCARD_REPO="$repo"
export CGO_LDFLAGS="-L$target/release ${CGO_LDFLAGS:-}"
go vet ./...
if [ "$#" -gt 0 ]; then
  go test "$@" ./...
else
  go test -race -count=1 ./...
fi

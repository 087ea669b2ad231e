#!/usr/bin/env bash
# keycard_authorize over the stream benchmark's requests (benches/stream.sh writes them), timed
# call by call as the Rust side times Snapshot::decide, so C − Rust is the C ABI's cost per call.
#   ffi/bench/stream.sh DIR [PASSES]     (DIR: a directory `stream prepare` wrote)
# Environment: KEYCARD_FFI_LIB_DIR, the directory holding libkeycard.so (default: this
# workspace's target/release, built first).
set -euo pipefail
cd "$(dirname "$0")/../.."
dir="$1" passes="${2:-5}"
lib="${KEYCARD_FFI_LIB_DIR:-}"
if [[ -z "$lib" ]]; then
  cargo build --quiet --release -p keycard-ffi --lib
  lib="${CARGO_TARGET_DIR:-$PWD/target}/release"
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cc -std=c11 -O2 -I ffi/include ffi/bench/stream.c -o "$out/stream" -L"$lib" -Wl,-rpath,"$lib" -lkeycard
"$out/stream" "$dir" "$passes" | grep -v '^checksum'

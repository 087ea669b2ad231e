#!/usr/bin/env bash
# The C ABI's cost over the Rust API on the stream benchmark's requests, in one process,
# interleaved request by request (bench/abi_stream.rs), then the plain C program on the same
# requests (bench/stream.c).
#   ffi/bench/abi_stream.sh DIR [ROUNDS]    (DIR: a directory `benches/target/release/stream prepare` wrote)
set -euo pipefail
cd "$(dirname "$0")/../.."
dir="$1" rounds="${2:-2}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
cargo build --quiet --release -p keycard-ffi --lib --example abi_stream
echo "keycard commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
"$target/release/examples/abi_stream" "$dir" "$rounds" | grep -v '^checksum'
KEYCARD_FFI_LIB_DIR="$target/release" ffi/bench/stream.sh "$dir" "$rounds"

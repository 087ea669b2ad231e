#!/usr/bin/env bash
# The C ABI's added cost per decision. examples/rust_api.rs times, in one process and round by
# round in turn, the Rust API on a snapshot held directly, the Rust API through Live::current(),
# and keycard_authorize from the release libkeycard.so (dlopen, NUL-terminated strings), on the
# same cases (tests/cases.tsv) with the same loop; then bench/overhead.c times keycard_authorize
# from a plain C program, for reference.
#   ffi/bench.sh [ROUNDS] [CALLS_PER_ROUND]      (defaults: 101 rounds of 50,000 calls; short rounds in turn,
# and the median of the per-round differences, keep a shared machine's noise out of the figure)
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
rounds="${1:-101}" calls="${2:-50000}"
cargo build --quiet --release -p keycard-ffi --lib --example rust_api
lib="$target/release"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
"$lib/examples/rust_api" ffi/tests/cases.tsv policies "$lib/libkeycard.so" "$rounds" "$calls" | grep -v '^checksum'
cc -std=c11 -O2 -I ffi/include ffi/bench/overhead.c -o "$out/overhead" -L"$lib" -Wl,-rpath,"$lib" -lkeycard
"$out/overhead" ffi/tests/cases.tsv policies "$rounds" "$calls" | grep '^round' | awk '{print $3}' | sort -g \
  | awk '{a[NR]=$1} END {printf "plain C program (bench/overhead.c): median %.1f ns/call over %d rounds\n", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2), NR}'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

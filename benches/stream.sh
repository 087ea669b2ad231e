#!/usr/bin/env bash
# The stream benchmark (BENCHMARKS.md leads with it): per shape, a shuffled stream of distinct
# requests by every principal; the compiled index, the reference and cedar on the principal's
# slice over it, the one-request-repeated figure, RSS after load, load + compile time; then the C
# ABI (ffi/bench/stream.c) on the same requests.
#   benches/stream.sh [SHAPE...]          (default: medium large)
# Environment: CARGO_TARGET_DIR (default benches/target), KEYCARD_STREAM_PASSES,
# KEYCARD_STREAM_REFERENCE, KEYCARD_STREAM_CEDAR (see src/bin/stream.rs), KEYCARD_FFI_LIB_DIR.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
cargo build --release --quiet --bin stream
bin="$CARGO_TARGET_DIR/release/stream"
[[ $# -gt 0 ]] || set -- medium large
echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "keycard commit: $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)"
for shape in "$@"; do
  dir="$CARGO_TARGET_DIR/keycard-bench/stream/$shape"
  [[ -f "$dir/stream.tsv" ]] || "$bin" prepare "$shape" "$dir"
  "$bin" run "$shape" "$dir"
  "$here/../ffi/bench/stream.sh" "$dir" "${KEYCARD_STREAM_PASSES:-5}"
done

#!/usr/bin/env bash
# Runs every keycard benchmark with bounded times and prints the tables of BENCHMARKS.md.
#
#   benches/run.sh            # full run (about 11 minutes on 2 cores)
#   benches/run.sh --quick    # shorter measurements, for a smoke test
#
# Environment: KEYCARD_BENCH_SHAPES=small,medium,large (default: all), CARGO_TARGET_DIR
# (default: benches/target; outputs land in $CARGO_TARGET_DIR/criterion and
# $CARGO_TARGET_DIR/keycard-bench, the tables in $CARGO_TARGET_DIR/keycard-bench/summary.md).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
out="$CARGO_TARGET_DIR/keycard-bench"

if [[ "${1:-}" == "--quick" ]]; then
  export KEYCARD_BENCH_SECS="${KEYCARD_BENCH_SECS:-1}" KEYCARD_BENCH_SAMPLES="${KEYCARD_BENCH_SAMPLES:-10}"
  export KEYCARD_LATENCY_MS="${KEYCARD_LATENCY_MS:-300}"
  compile_secs=3
else
  export KEYCARD_BENCH_SECS="${KEYCARD_BENCH_SECS:-3}" KEYCARD_BENCH_SAMPLES="${KEYCARD_BENCH_SAMPLES:-30}"
  export KEYCARD_LATENCY_MS="${KEYCARD_LATENCY_MS:-1000}"
  compile_secs=10
fi

start=$(date +%s)
mkdir -p "$out"
rm -f "$out"/latency.json "$out"/shapes.json "$out"/compile.json
{
  echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1), $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
  echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "rustc: $(rustc --version)"
  echo "keycard commit: $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$here/.." diff --quiet HEAD -- core 2>/dev/null || echo ' (core/ has uncommitted changes)')"
} | tee "$out/machine.txt"

echo "== build"
cargo build --release --benches --bins --tests --quiet

echo "== translation check (cedar = keycard on random requests)"
cargo test --release --quiet --test translation

echo "== compile time and memory (large store)"
KEYCARD_BENCH_SECS=$compile_secs cargo bench --quiet --bench compile

echo "== decisions (criterion: reference, compiled, cedar, cedar_sliced per shape and request)"
cargo bench --quiet --bench authorize

echo "== per-call latency (p50, p99)"
"$CARGO_TARGET_DIR/release/latency"

echo "== summary"
{
  cat "$out/machine.txt"
  echo
  "$CARGO_TARGET_DIR/release/report"
} | tee "$out/summary.md"
echo
echo "run took $(( $(date +%s) - start )) s; tables in $out/summary.md"

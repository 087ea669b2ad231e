#!/usr/bin/env bash
# Two builds of the stream benchmark side by side, in one run: ROUNDS rounds of old-then-new per
# shape on the same stream files (BENCHMARKS.md, "Old and new side by side"). Prints each run's
# JSON line prefixed with its label; the medians of the rounds go into BENCHMARKS.md.
#   benches/stream_compare.sh OLD_STREAM_BIN NEW_STREAM_BIN [ROUNDS] [SHAPE...]
# The stream files must exist (benches/stream.sh, or `stream prepare SHAPE DIR`) under
# $CARGO_TARGET_DIR/keycard-bench/stream/SHAPE (default benches/target). Environment as for
# benches/stream.sh (KEYCARD_STREAM_PASSES, KEYCARD_STREAM_REFERENCE, KEYCARD_STREAM_CEDAR).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
old="$1" new="$2" rounds="${3:-3}"
shift 2; [[ $# -gt 0 ]] && shift
[[ $# -gt 0 ]] || set -- medium large
target="${CARGO_TARGET_DIR:-$here/target}"
echo "machine: $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for shape in "$@"; do
  dir="$target/keycard-bench/stream/$shape"
  for round in $(seq 1 "$rounds"); do
    for label in old new; do
      bin="$old"; [[ $label == new ]] && bin="$new"
      "$bin" run "$shape" "$dir" | sed -n "s/^json /$label $shape $round /p"
    done
  done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

#!/usr/bin/env bash
# The C ABI's added cost per decision: keycard_authorize from C (bench/overhead.c, linked to the
# release libkeycard.so) against the same decisions through the Rust API (examples/rust_api.rs),
# and through Live::current() (what the engine runs on); same cases, same loop; C and Rust runs
# alternate, 3 times each, and the medians are compared.
#   ffi/bench.sh [ROUNDS] [CALLS_PER_ROUND]      (defaults: 15 rounds of 400,000 calls)
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
rounds="${1:-15}" calls="${2:-400000}"
cargo build --quiet --release -p keycard-ffi --lib --example rust_api
lib="$target/release"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cc -std=c11 -O2 -I ffi/include ffi/bench/overhead.c -o "$out/overhead" -L"$lib" -Wl,-rpath,"$lib" -lkeycard
for i in 1 2 3; do
  "$out/overhead" ffi/tests/cases.tsv policies "$rounds" "$calls" | grep '^round' >> "$out/c.txt"
  "$lib/examples/rust_api" ffi/tests/cases.tsv policies "$rounds" "$calls" > "$out/rust-all.txt"
  grep 'direct$' "$out/rust-all.txt" >> "$out/rust.txt"
  grep 'live$' "$out/rust-all.txt" >> "$out/live.txt"
done
median() { awk '{print $3}' "$1" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
min() { awk '{print $3}' "$1" | sort -g | head -1; }
c=$(median "$out/c.txt") r=$(median "$out/rust.txt") l=$(median "$out/live.txt")
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Rust API (Request::new + decide): median $r ns/call, min $(min "$out/rust.txt") ($(wc -l < "$out/rust.txt") rounds of $calls)"
echo "Rust API through Live::current(): median $l ns/call, min $(min "$out/live.txt")"
echo "C ABI (keycard_authorize):       median $c ns/call, min $(min "$out/c.txt") ($(wc -l < "$out/c.txt") rounds of $calls)"
awk -v c="$c" -v r="$r" -v l="$l" 'BEGIN {printf "added by the C ABI: %.1f ns/call against a snapshot held directly, %.1f ns/call against Live::current() (medians)\n", c - r, c - l}'

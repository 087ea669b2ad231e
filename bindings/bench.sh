#!/usr/bin/env bash
# The bindings' per-call cost over the Rust API, on one request stream: the 8 cases of
# ffi/tests/cases.tsv, cycled, on the default store. Round by round in turn, each a fresh process
# making CALLS calls: ffi/examples/rust_api.rs (the Rust API on a snapshot held directly, and
# keycard_authorize through dlopen), ffi/bench/overhead.c (a plain C program), the Go benchmarks
# (BenchmarkAuthorize: Context as a map; ...ContextJSON: as JSON text), and
# bindings/python/bench.py (the installed wheel). Prints the median ns/call of each and the
# median of the per-round differences against the Rust API of the same round.
#   bindings/bench.sh [ROUNDS] [CALLS]        (defaults: 15 rounds of 20,000 calls)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
target="${CARGO_TARGET_DIR:-$repo/target}"
rounds="${1:-15}" calls="${2:-20000}"
cargo build --quiet --release -p keycard-ffi --lib --example rust_api
lib="$target/release"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cc -std=c11 -O2 -I ffi/include ffi/bench/overhead.c -o "$work/overhead" -L"$lib" -Wl,-rpath,"$lib" -lkeycard
(cd bindings/go && GOPROXY=off CGO_LDFLAGS="-L$lib" go test -c -o "$work/go.test" .)
KEYCARD_LIB="$lib/libkeycard.so" python3 -m pip wheel --quiet --no-deps -w "$work/dist" bindings/python
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$work"/dist/keycard-*.whl
cases=ffi/tests/cases.tsv
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  "$lib/examples/rust_api" "$cases" policies "$lib/libkeycard.so" 1 "$calls" \
    | awk '/^round/ {print "rust", $3; print "c-abi-dlopen", $8}'
  "$work/overhead" "$cases" policies 1 "$calls" | awk '/^round/ {print "c", $3}'
  (cd bindings/go && KEYCARD_REPO="$repo" "$work/go.test" -test.run XXX -test.bench 'Authorize(ContextJSON)?$|CgoFloor' \
    -test.benchtime "${calls}x") | awk '/^BenchmarkAuthorize-/ {print "go-map", $3} /^BenchmarkAuthorizeContextJSON-/ {print "go-text", $3}
      /^BenchmarkCgoFloor-/ {print "go-cgo-floor", $3}'
  "$work/venv/bin/python" bindings/python/bench.py "$cases" policies "$calls"
done > "$work/results"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
# Each pair: the median over rounds of (first - second) in the same round. Pairs within one
# process (rust_api's two variants, the Go benchmarks, bench.py's loops) are the steadiest.
awk '
  function median(arr, n,   i, j, t) {
    for (i = 2; i <= n; i++) { t = arr[i]; for (j = i - 1; j >= 1 && arr[j] > t; j--) arr[j + 1] = arr[j]; arr[j + 1] = t }
    return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
  }
  { k = ++count[$1]; v[$1, k] = $2 }
  END {
    split("rust c-abi-dlopen c go-cgo-floor go-text go-map python-ctypes python-text python-dict", order, " ")
    for (o = 1; o <= 9; o++) {
      name = order[o]; n = count[name]; if (!n) continue
      for (i = 1; i <= n; i++) a[i] = v[name, i]
      printf "%-14s median %8.1f ns/call over %d rounds\n", name, median(a, n), n
    }
    split("c-abi-dlopen:rust c:rust go-cgo-floor:rust go-text:go-cgo-floor go-map:go-cgo-floor go-text:rust go-map:rust python-ctypes:rust python-text:python-ctypes python-dict:python-ctypes python-text:rust python-dict:rust", pairs, " ")
    for (p = 1; p <= 12; p++) {
      split(pairs[p], ab, ":"); n = count[ab[1]]; if (!n || !count[ab[2]]) continue
      for (i = 1; i <= n; i++) d[i] = v[ab[1], i] - v[ab[2], i]
      printf "%-14s - %-14s median of per-round differences %8.1f ns/call\n", ab[1], ab[2], median(d, n)
    }
  }' "$work/results"

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
  (cd bindings/go && KEYCARD_REPO="$repo" "$work/go.test" -test.run XXX -test.bench 'Authorize(ContextJSON)?$' \
    -test.benchtime "${calls}x") | awk '/^BenchmarkAuthorize-/ {print "go-map", $3} /^BenchmarkAuthorizeContextJSON-/ {print "go-text", $3}'
  "$work/venv/bin/python" bindings/python/bench.py "$cases" policies "$calls"
done > "$work/results"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v rounds="$rounds" '
  function median(arr, n,   i, j, t) {
    for (i = 2; i <= n; i++) { t = arr[i]; for (j = i - 1; j >= 1 && arr[j] > t; j--) arr[j + 1] = arr[j]; arr[j + 1] = t }
    return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
  }
  { k = ++count[$1]; v[$1, k] = $2; if ($1 == "rust") rust[k] = $2; else names[$1] = 1 }
  END {
    for (i = 1; i <= count["rust"]; i++) a[i] = rust[i]
    printf "%-14s median %8.1f ns/call over %d rounds\n", "rust", median(a, count["rust"]), count["rust"]
    split("c-abi-dlopen c go-text go-map python-ctypes python-text python-dict", order, " ")
    for (o = 1; o <= 8; o++) {
      name = order[o]; n = count[name]; if (!n) continue
      for (i = 1; i <= n; i++) { a[i] = v[name, i]; d[i] = v[name, i] - rust[i] }
      m = median(a, n); md = median(d, n)
      printf "%-14s median %8.1f ns/call, added over rust (median of per-round differences) %8.1f\n", name, m, md
    }
  }' "$work/results"

#!/usr/bin/env bash
# The C test against the release libkeycard.so: natively with 1,000,000 decisions on 8 pthreads
# while the store is reloaded, then under valgrind (memcheck, --error-exitcode=1: any invalid
# read or write, use of uninitialised memory, or a definite or indirect leak fails it).
#   ffi/valgrind.sh               KEYCARD_VALGRIND_DECISIONS (default 1000000) under valgrind
# "still reachable" and "possibly lost" blocks (Rust's thread-locals, the standard library's
# per-thread handles) are not leaks and not counted. `cargo test` runs a shorter valgrind pass
# on the debug build (ffi/tests/c_api.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-$PWD/target}"
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
cargo build --quiet --release -p keycard-ffi --lib
lib="$target/release"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cc -std=c11 -Wall -Wextra -Werror -g -O1 -I ffi/include ffi/tests/c/test_keycard.c -o "$work/test_keycard" \
  -L"$lib" -Wl,-rpath,"$lib" -lkeycard -lpthread
run() {
  rm -rf "$work/store" && cp -r policies "$work/store"
  "$@" "$work/test_keycard" ffi/tests/cases.tsv policies "$work/store"
}
echo "== C test, release, 1,000,000 decisions"
KEYCARD_TEST_DECISIONS=1000000 run
echo "== C test under valgrind, ${KEYCARD_VALGRIND_DECISIONS:-1000000} decisions"
KEYCARD_TEST_DECISIONS="${KEYCARD_VALGRIND_DECISIONS:-1000000}" run valgrind -q --leak-check=full \
  --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=1
echo "valgrind: no errors, no leaks"

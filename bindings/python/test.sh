#!/usr/bin/env bash
# The Python package as a user gets it: builds the wheel (libkeycard.so inside, from the release
# build that ffi/valgrind.sh makes too), installs it into a fresh venv with pytest and botocore
# (the signedRequest test signs with it), and runs tests/ there, outside the source tree.
#   bindings/python/test.sh [PYTEST_ARGS...]     KEEP_WHEEL=DIR keeps the wheel in DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$PWD"
target="${CARGO_TARGET_DIR:-$repo/target}"
cargo build --quiet --release -p keycard-ffi --lib
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
echo "== building the wheel"
KEYCARD_LIB="$target/release/libkeycard.so" python3 -m pip wheel --quiet --no-deps -w "$work/dist" bindings/python
wheel="$(ls "$work"/dist/keycard-*.whl)"
echo "$(basename "$wheel"): $(python3 -m zipfile -l "$wheel" | awk 'NR>1 {print $1}' | tr '\n' ' ')"
if [ -n "${KEEP_WHEEL:-}" ]; then mkdir -p "$KEEP_WHEEL" && cp "$wheel" "$KEEP_WHEEL/"; fi
echo "== installing it into a fresh venv"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$wheel" pytest botocore
echo "== pytest against the installed wheel"
cd "$work"
KEYCARD_REPO="$repo" "$work/venv/bin/python" -m pytest -q -p no:cacheprovider "$repo/bindings/python/tests" "$@"

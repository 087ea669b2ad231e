# Shared by the load scripts (run.sh, gateway.sh, floor.sh): wrk from Debian when missing, and the release
# `keycard` binary built once. Expects ROOT (the repository) to be set; sets BIN.

ensure_wrk() {
  if ! command -v wrk >/dev/null; then
    echo "installing wrk (Debian package)" >&2
    (apt-get install -y wrk || (apt-get update && apt-get install -y wrk)) >/dev/null
  fi
}

build_release() {
  echo "building the release binary" >&2
  (cd "$ROOT" && cargo build --release -q -p keycard-sidecar)
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/keycard"
}

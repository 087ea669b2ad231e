#!/usr/bin/env bash
# Load test of the gateway's gRPC ext_authz against its HTTP /v1/gate, side by side in one run,
# keycard alone (no proxy), the same routes, store and principal, the same load generator (h2load,
# from Debian's nghttp2-client), the same connections and duration:
#   (i)  GET /v1/gate over HTTP/1.1 keep-alive, with nginx's X-Original-* headers (what nginx sends);
#   (ii) gRPC envoy.service.auth.v3.Authorization/Check over HTTP/2, one call in flight per
#        connection (what Envoy sends: the same request as a CheckRequest built here, byte for
#        byte a protobuf an Envoy would send, with source.address);
#   (iii) (ii) with 8 calls in flight per connection (Envoy multiplexes on few connections).
# Prints a Markdown summary (also $OUT/summary.md) with Check ÷ /v1/gate. About 30 s.
#
#   benches/load/grpc.sh
#   DURATION=8 CONNECTIONS=16 benches/load/grpc.sh
#   KEYCARD_BIN=target/debug/keycard DURATION=1 benches/load/grpc.sh   # checks the script only
set -euo pipefail
source "$(cd "$(dirname "$0")/../.." && pwd)/gateway/nginx/lib.sh"

DURATION="${DURATION:-8}"
CONNECTIONS="${CONNECTIONS:-16}"
OUT="${OUT:-${CARGO_TARGET_DIR:-$ROOT/target}/keycard-grpc-load}"
rm -rf "$OUT" && mkdir -p "$OUT"
WORK="$OUT"

if ! command -v h2load >/dev/null; then
  echo "installing h2load (Debian package nghttp2-client)" >&2
  (apt-get install -y -qq nghttp2-client || (apt-get update -qq && apt-get install -y -qq nghttp2-client)) >/dev/null
fi
source "$ROOT/benches/load/lib.sh"
if [ -n "${KEYCARD_BIN:-}" ]; then BIN="$KEYCARD_BIN"; else build_release; fi
trap stop_all EXIT

write_store "$OUT/store"
start_keycard "$BIN" "$OUT/store" --trust-principal-header x-user --grpc-listen 127.0.0.1:0
GRPC="$(sed -n 's|^keycard: grpc listening on ||p' "$WORK/keycard.out" | head -1)"
ALICE="arn:aws:iam::111122223333:user/alice"
PATH_ASKED="/reports/2026/q1.csv"

# The CheckRequest, gRPC-framed (a zero byte, a 4-byte big-endian length, the protobuf).
python3 - "$ALICE" "$PATH_ASKED" > "$OUT/check.bin" <<'PY'
import sys, struct
def varint(n):
    out = b""
    while True:
        b = n & 0x7F; n >>= 7
        if n: out += bytes([b | 0x80])
        else: return out + bytes([b])
def field(num, payload):  # length-delimited
    return varint(num << 3 | 2) + varint(len(payload)) + payload
def s(num, text): return field(num, text.encode())
alice, path = sys.argv[1], sys.argv[2]
headers = {":method": "GET", ":path": path, ":authority": "app.example", ":scheme": "http",
           "x-user": alice, "user-agent": "curl/7.88.1", "accept": "*/*",
           "x-forwarded-proto": "http", "x-request-id": "5f1c2d9e-8b1a-4c33-9a7e-2b1d0c9e7f10"}
http = s(2, "GET") + b"".join(field(3, s(1, k) + s(2, v)) for k, v in headers.items()) \
     + s(4, path) + s(5, "app.example") + s(6, "http") + s(10, "HTTP/1.1")
socket = s(2, "203.0.113.7") + varint(3 << 3 | 0) + varint(40000)
attributes = field(1, field(1, field(1, socket))) + field(4, field(2, http))
message = field(1, attributes)
sys.stdout.buffer.write(b"\0" + struct.pack(">I", len(message)) + message)
PY

# Both must be allowed before anything is timed.
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "X-Original-Method: GET" -H "X-Original-URI: $PATH_ASKED" \
     -H "x-user: $ALICE" "http://127.0.0.1:$KEYCARD_PORT/v1/gate")" = 200 ] \
  || { echo "/v1/gate does not allow the benchmark request" >&2; exit 1; }
curl -s --http2-prior-knowledge -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @"$OUT/check.bin" \
  "http://$GRPC/envoy.service.auth.v3.Authorization/Check" | grep -aq allowed \
  || { echo "Check does not allow the benchmark request" >&2; exit 1; }

run_gate() {
  h2load --h1 -t1 -c"$CONNECTIONS" -D "$1" -H "X-Original-Method: GET" -H "X-Original-URI: $PATH_ASKED" \
    -H "x-user: $ALICE" "http://127.0.0.1:$KEYCARD_PORT/v1/gate"
}
run_check() {
  h2load -t1 -c"$CONNECTIONS" -m"$2" -D "$1" -d "$OUT/check.bin" -H 'content-type: application/grpc' \
    -H 'te: trailers' "http://$GRPC/envoy.service.auth.v3.Authorization/Check"
}
echo "warm-up" >&2
run_gate 2 >/dev/null
run_check 2 1 >/dev/null
echo "(i) /v1/gate, HTTP/1.1: $CONNECTIONS connections, ${DURATION}s" >&2
run_gate "$DURATION" > "$OUT/gate.txt"
echo "(ii) gRPC Check, HTTP/2, 1 stream per connection" >&2
run_check "$DURATION" 1 > "$OUT/check.txt"
echo "(iii) gRPC Check, HTTP/2, 8 streams per connection" >&2
run_check "$DURATION" 8 > "$OUT/check8.txt"

rps() { sed -n 's/^finished in .*, \([0-9.]*\) req\/s.*/\1/p' "$1"; }
failed() { sed -n 's/.* \([0-9]*\) failed, \([0-9]*\) errored.*/\1+\2/p' "$1" | head -1; }
mean() { sed -n 's/^time for request: *[^ ]* *[^ ]* *\([^ ]*\).*/\1/p' "$1"; }
G=$(rps "$OUT/gate.txt"); C=$(rps "$OUT/check.txt"); C8=$(rps "$OUT/check8.txt")
{
  echo "| run | requests/s | mean latency | failed+errored |"
  echo "| --- | ---: | ---: | ---: |"
  echo "| (i) /v1/gate, HTTP/1.1, $CONNECTIONS conn. | $G | $(mean "$OUT/gate.txt") | $(failed "$OUT/gate.txt") |"
  echo "| (ii) gRPC Check, HTTP/2, $CONNECTIONS conn. × 1 stream | $C | $(mean "$OUT/check.txt") | $(failed "$OUT/check.txt") |"
  echo "| (iii) gRPC Check, HTTP/2, $CONNECTIONS conn. × 8 streams | $C8 | $(mean "$OUT/check8.txt") | $(failed "$OUT/check8.txt") |"
  echo
  echo "Check ÷ /v1/gate: $(python3 -c "print(round($C / $G, 2))") (1 stream), $(python3 -c "print(round($C8 / $G, 2))") (8 streams); ${DURATION}s each, h2load 1 thread, $(nproc) cores."
} | tee "$OUT/summary.md"

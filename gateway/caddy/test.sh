#!/usr/bin/env bash
# The gateway end to end through a real Caddy (forward auth), run by .ci/run: Caddy from Debian's
# packages (installed when missing) on loopback, in front of a tiny upstream (a second Caddy
# site), with `forward_auth` to `keycard serve`'s /v1/gate, which reads the original request from
# X-Forwarded-Method / X-Forwarded-Uri; curl checks allow, deny, 401, an unmatched route, path
# attacks (an encoded slash, dot segments, '//'), HEAD, and a route hot-swapped into the store
# (answering within 2 s) while a client keeps calling (no failed request). Everything runs as the
# current user under a temp directory; a few seconds.
#
#   gateway/caddy/test.sh                  # builds the debug binary if needed
#   KEYCARD_BIN=target/release/keycard gateway/caddy/test.sh
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
# start_keycard, write_store and ROOT.
source "$HERE/../nginx/lib.sh"

if ! command -v caddy >/dev/null; then
  echo "installing caddy (Debian package)" >&2
  (apt-get install -y -qq caddy >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq caddy >/dev/null)) \
    || { echo "cannot install caddy" >&2; exit 1; }
fi
# Debian's package would start a system service; this test runs its own Caddy only.
CADDY="$(command -v caddy)"
if [ -z "${KEYCARD_BIN:-}" ]; then
  (cd "$ROOT" && cargo build -q -p keycard-sidecar)
  KEYCARD_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/keycard"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/keycard-caddy.XXXXXX")"
CADDY_PID=""
LOAD_PID=""
cleanup() {
  [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null && wait "$LOAD_PID" 2>/dev/null
  [ -n "$CADDY_PID" ] && kill -TERM "$CADDY_PID" 2>/dev/null && wait "$CADDY_PID" 2>/dev/null
  stop_all
  if [ "${FAILED:-0}" != 0 ]; then
    echo "--- keycard log" >&2; tail -20 "$WORK/keycard.log" >&2 || true
    echo "--- caddy log" >&2; tail -20 "$WORK/caddy.log" >&2 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

write_store "$WORK/store"
start_keycard "$KEYCARD_BIN" "$WORK/store" --trust-principal-header x-user
read -r PORT APP_PORT <<< "$(python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')"
sed -e "s|@WORK@|$WORK|g" -e "s|@KEYCARD_PORT@|$KEYCARD_PORT|g" -e "s|@APP_PORT@|$APP_PORT|g" -e "s|@PORT@|$PORT|g" \
  "$HERE/Caddyfile.in" > "$WORK/Caddyfile"
# HOME and XDG dirs under $WORK: Caddy writes nothing outside it.
export HOME="$WORK" XDG_DATA_HOME="$WORK/data" XDG_CONFIG_HOME="$WORK/config"
"$CADDY" validate --adapter caddyfile --config "$WORK/Caddyfile" > "$WORK/caddy.log" 2>&1 \
  || { cat "$WORK/caddy.log" >&2; exit 1; }
"$CADDY" run --adapter caddyfile --config "$WORK/Caddyfile" >> "$WORK/caddy.log" 2>&1 &
CADDY_PID=$!
for _ in $(seq 1 200); do
  curl -s -o /dev/null "http://127.0.0.1:$APP_PORT/" && break
  sleep 0.05
done
curl -s -o /dev/null "http://127.0.0.1:$APP_PORT/" || { echo "caddy did not start" >&2; cat "$WORK/caddy.log" >&2; exit 1; }
echo "keycard on 127.0.0.1:$KEYCARD_PORT, caddy on 127.0.0.1:$PORT, upstream on 127.0.0.1:$APP_PORT ($("$CADDY" version))"

ALICE="arn:aws:iam::111122223333:user/alice"
PASSED=0
FAILED=0

URL="http://127.0.0.1:$PORT"
check "allow: the upstream answers, with the principal" 200 allowed "upstream saw GET /reports/2026/q1.csv as $ALICE" \
  -- -H "x-user: $ALICE" "$URL/reports/2026/q1.csv"
check "a client's own X-Keycard-Principal is replaced" 200 allowed "as $ALICE" \
  -- -H "x-user: $ALICE" -H "X-Keycard-Principal: arn:aws:iam::111122223333:root" "$URL/reports/2026/q1.csv"
check "explicit deny" 403 explicitDeny "" -- -H "x-user: $ALICE" "$URL/reports/secret/plans.csv"
check "no identity: 401" 401 unauthenticated "" -- "$URL/reports/2026/q1.csv"
check "no identity on an unknown path: still 401" 401 unauthenticated "" -- "$URL/nowhere"
check "unknown principal" 403 implicitDeny "" -- -H "x-user: arn:aws:iam::111122223333:user/mallory" "$URL/reports/2026/q1.csv"
check "unmatched route" 403 noRoute "" -- -H "x-user: $ALICE" "$URL/nowhere"
check "method without a route" 403 noRoute "" -- -X DELETE -H "x-user: $ALICE" "$URL/reports/2026/q1.csv"
check "HEAD matches GET routes" 200 allowed "" -- -I -H "x-user: $ALICE" "$URL/reports/2026/q1.csv"
check "the query is part of X-Forwarded-Uri" 200 allowed "upstream saw GET /reports/2026/q1.csv?x=1 as" \
  -- -H "x-user: $ALICE" "$URL/reports/2026/q1.csv?x=1"
check "an encoded slash is refused" 403 invalidRequest "" -- -H "x-user: $ALICE" "$URL/reports/2026%2Fx/q1.csv"
check "a '..' segment is refused" 403 invalidRequest "" \
  -- --path-as-is -H "x-user: $ALICE" "$URL/reports/x/../2026/q1.csv"
check "an encoded '..' segment is refused" 403 invalidRequest "" \
  -- --path-as-is -H "x-user: $ALICE" "$URL/reports/%2e%2e/2026/q1.csv"
check "a '.' segment is refused" 403 invalidRequest "" -- --path-as-is -H "x-user: $ALICE" "$URL/reports/./2026/q1.csv"
check "'//' is refused" 403 invalidRequest "" -- --path-as-is -H "x-user: $ALICE" "$URL/reports//2026/q1.csv"

# Hot swap under load: a client keeps asking about a route the swap does not touch (every answer
# must be 200) while a new route is written into the store; the new route answers within 2 s.
check "before the swap" 403 noRoute "" -- -H "x-user: $ALICE" "$URL/new/thing"
(
  while [ ! -e "$WORK/stop-load" ]; do
    curl -s -o /dev/null -w '%{http_code}\n' -H "x-user: $ALICE" "$URL/reports/2026/q1.csv" >> "$WORK/load" || echo 000 >> "$WORK/load"
  done
) &
LOAD_PID=$!
swap_in_new_route "$WORK/store" "$URL/new/thing" "$ALICE"
check "after the swap" 200 allowed "upstream saw GET /new/thing as $ALICE" -- -H "x-user: $ALICE" "$URL/new/thing"
# The load goes on for 50 more requests after the swap.
AFTER=$(( $(wc -l < "$WORK/load") + 50 ))
for _ in $(seq 1 500); do
  [ "$(wc -l < "$WORK/load")" -ge "$AFTER" ] && break
  sleep 0.02
done
touch "$WORK/stop-load"
wait "$LOAD_PID" || true
LOAD_PID=""
CALLS=$(wc -l < "$WORK/load")
BAD=$(grep -vc '^200$' "$WORK/load" || true)
if [ "$BAD" = 0 ] && [ "$CALLS" -ge "$AFTER" ]; then
  PASSED=$((PASSED + 1)); echo "ok   $CALLS requests during the swap, none failed"
else
  FAILED=$((FAILED + 1)); echo "FAIL $BAD of $CALLS requests during the swap failed (wanted at least $AFTER)"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]

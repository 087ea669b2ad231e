#!/usr/bin/env bash
# The gateway end to end through a real nginx (docs/gateway.md), run by .ci/run: nginx from
# Debian's packages (installed when missing) on loopback, in front of a tiny upstream (a second
# nginx server block), with `auth_request` to `keycard serve`; curl checks allow, deny, 401,
# an unmatched route, path attacks (`%2F`, `..`, `//`, a fragment, `;`), X-Forwarded-For bytes
# that are not an address, HEAD, and a route hot-swapped into the store (answering within 2 s).
# Everything runs as the current user under a temp directory; about 5 seconds. The nginx
# configuration passes the client's own X-User on (test only: see nginx.conf.in).
#
#   gateway/nginx/test.sh                  # builds the debug binary if needed
#   KEYCARD_BIN=target/release/keycard gateway/nginx/test.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"

ensure_nginx
if [ -z "${KEYCARD_BIN:-}" ]; then
  (cd "$ROOT" && cargo build -q -p keycard-sidecar)
  KEYCARD_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/keycard"
fi
WORK="$(mktemp -d "${TMPDIR:-/tmp}/keycard-nginx.XXXXXX")"
cleanup() {
  stop_all
  if [ "${FAILED:-0}" != 0 ]; then
    echo "--- keycard log" >&2; tail -20 "$WORK/keycard.log" >&2 || true
    echo "--- nginx error log" >&2; tail -20 "$WORK/error.log" >&2 || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

write_store "$WORK/store"
start_keycard "$KEYCARD_BIN" "$WORK/store" --trust-principal-header x-user
start_nginx 1
echo "keycard on 127.0.0.1:$KEYCARD_PORT, nginx on 127.0.0.1:$PORT, upstream on 127.0.0.1:$APP_PORT"

ALICE="arn:aws:iam::111122223333:user/alice"
PASSED=0
FAILED=0

URL="http://127.0.0.1:$PORT"
check "allow: the upstream answers, with the principal" 200 allowed "upstream saw GET /reports/2026/q1.csv as $ALICE" \
  -- -H "x-user: $ALICE" "$URL/reports/2026/q1.csv"
check "explicit deny" 403 explicitDeny "" -- -H "x-user: $ALICE" "$URL/reports/secret/plans.csv"
check "no identity: 401" 401 unauthenticated "" -- "$URL/reports/2026/q1.csv"
check "no identity on an unknown path: still 401" 401 unauthenticated "" -- "$URL/nowhere"
check "unknown principal" 403 implicitDeny "" -- -H "x-user: arn:aws:iam::111122223333:user/mallory" "$URL/reports/2026/q1.csv"
check "unmatched route" 403 noRoute "" -- -H "x-user: $ALICE" "$URL/nowhere"
check "method without a route" 403 noRoute "" -- -X DELETE -H "x-user: $ALICE" "$URL/reports/2026/q1.csv"
check "HEAD matches GET routes" 200 allowed "" -- -I -H "x-user: $ALICE" "$URL/reports/2026/q1.csv"
check "an encoded slash is refused" 403 invalidRequest "" -- -H "x-user: $ALICE" "$URL/reports/2026%2Fx/q1.csv"
check "a '..' segment is refused (nginx normalises, keycard reads the raw URI)" 403 invalidRequest "" \
  -- --path-as-is -H "x-user: $ALICE" "$URL/reports/x/../2026/q1.csv"
check "'//' is refused" 403 invalidRequest "" -- --path-as-is -H "x-user: $ALICE" "$URL/reports//2026/q1.csv"
# Attacks (issue 19): nginx passes on the raw target and whatever X-Forwarded-For bytes it got.
check "a fragment in the raw target is refused" 403 invalidRequest "" \
  -- --request-target '/reports/2026/q1.csv#/../../secret/plans.csv' -H "x-user: $ALICE" "$URL/"
check "a path parameter (';') is refused" 403 invalidRequest "" -- -H "x-user: $ALICE" "$URL/reports/2026;x/q1.csv"
check "aws:SourceIp from the peer: the loopback client is denied" 403 explicitDeny "" \
  -- -H "x-user: $ALICE" "$URL/reports/blocked/q1.csv"
check "X-Forwarded-For bytes that are not text do not erase aws:SourceIp" 403 explicitDeny "" \
  -- -H $'X-Forwarded-For: \xff' -H "x-user: $ALICE" "$URL/reports/blocked/q1.csv"
check "nor does an empty entry" 403 explicitDeny "" \
  -- -H 'X-Forwarded-For: ,' -H "x-user: $ALICE" "$URL/reports/blocked/q1.csv"

# Hot swap: a new route in the store answers within 2 s of the write.
check "before the swap" 403 noRoute "" -- -H "x-user: $ALICE" "$URL/new/thing"
swap_in_new_route "$WORK/store" "$URL/new/thing" "$ALICE"
check "after the swap" 200 allowed "upstream saw GET /new/thing as $ALICE" -- -H "x-user: $ALICE" "$URL/new/thing"

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]

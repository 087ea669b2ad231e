# Shared by gateway/nginx/test.sh and benches/load/gateway.sh: nginx installed from Debian's
# packages when missing, free loopback ports, keycard serve and nginx started as the current
# user under a temp directory ($WORK), and stopped on exit.
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NGINX_DIR="$ROOT/gateway/nginx"
KEYCARD_PID=""
NGINX_PID=""

ensure_nginx() {
  if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
    echo "installing nginx (Debian package)" >&2
    (apt-get install -y -qq nginx >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq nginx >/dev/null)) \
      || { echo "cannot install nginx" >&2; return 1; }
  fi
  NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
  "$NGINX" -V 2>&1 | grep -q http_auth_request_module \
    || { echo "$NGINX has no auth_request module" >&2; return 1; }
}

# start_keycard BIN STORE [ARGS...]: sets KEYCARD_PORT.
start_keycard() {
  local bin=$1 store=$2
  shift 2
  "$bin" serve --policies "$store" --listen 127.0.0.1:0 "$@" > "$WORK/keycard.out" 2> "$WORK/keycard.log" &
  KEYCARD_PID=$!
  local addr=""
  for _ in $(seq 1 200); do
    addr="$(sed -n 's|^keycard: listening on http://||p' "$WORK/keycard.out" 2>/dev/null | head -1)"
    [ -n "$addr" ] && curl -sf "http://$addr/readyz" >/dev/null && break
    sleep 0.05
  done
  curl -sf "http://$addr/readyz" >/dev/null || { echo "keycard did not get ready" >&2; cat "$WORK/keycard.log" >&2; return 1; }
  KEYCARD_PORT="${addr##*:}"
}

# start_nginx WORKERS: renders the config, starts nginx, sets PORT (with auth_request to keycard),
# PLAIN_PORT (without auth_request), NULL_PORT (auth_request to a null authorizer in nginx) and
# APP_PORT (the upstream).
start_nginx() {
  local workers=${1:-1}
  local ports
  ports="$(python3 -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')"
  read -r PORT PLAIN_PORT APP_PORT NULL_PORT <<< "$ports"
  mkdir -p "$WORK/tmp"
  sed -e "s|@WORK@|$WORK|g" -e "s|@USER@|$(id -un)|g" -e "s|@GROUP@|$(id -gn)|g" -e "s|@WORKERS@|$workers|g" \
      -e "s|@KEYCARD_PORT@|$KEYCARD_PORT|g" -e "s|@APP_PORT@|$APP_PORT|g" -e "s|@PORT@|$PORT|g" \
      -e "s|@PLAIN_PORT@|$PLAIN_PORT|g" -e "s|@NULL_PORT@|$NULL_PORT|g" "$NGINX_DIR/nginx.conf.in" > "$WORK/nginx.conf"
  "$NGINX" -p "$WORK" -e "$WORK/error.log" -c "$WORK/nginx.conf" -t -q \
    || { cat "$WORK/error.log" >&2; return 1; }
  "$NGINX" -p "$WORK" -e "$WORK/error.log" -c "$WORK/nginx.conf" &
  NGINX_PID=$!
  for _ in $(seq 1 200); do
    curl -s -o /dev/null "http://127.0.0.1:$PLAIN_PORT/" && return 0
    sleep 0.05
  done
  echo "nginx did not start" >&2; cat "$WORK/error.log" >&2; return 1
}

stop_all() {
  [ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null && wait "$NGINX_PID" 2>/dev/null
  [ -n "$KEYCARD_PID" ] && kill -TERM "$KEYCARD_PID" 2>/dev/null && wait "$KEYCARD_PID" 2>/dev/null
  return 0
}

# The test store: alice (the principal header's value) reads reports but not the secret ones,
# nor the blocked ones from loopback (a Deny on aws:SourceIp); routes for reports only.
write_store() {
  local dir=$1
  mkdir -p "$dir"
  cat > "$dir/account.json" <<'JSON'
{"AccountId": "111122223333", "UserDetailList": [{"UserName": "alice", "Path": "/",
  "UserPolicyList": [{"PolicyName": "Reports", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Action": ["reports:GetReport", "reports:NewThing"], "Resource": "*"},
    {"Sid": "NoSecrets", "Effect": "Deny", "Action": "reports:GetReport", "Resource": "arn:aws:reports:::report/secret/*"},
    {"Sid": "NotFromLoopback", "Effect": "Deny", "Action": "reports:GetReport", "Resource": "arn:aws:reports:::report/blocked/*",
     "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}]}}]}]}
JSON
  cat > "$dir/routes.json" <<'JSON'
{"Routes": [
  {"Method": "GET", "Path": "/reports/{year}/{file}", "Action": "reports:GetReport",
   "Resource": "arn:aws:reports:::report/{year}/{file}"}
]}
JSON
}

# Hot swap: adds a /new/{name} route to the store in $1 and waits up to 2 s for $2 (the proxy's
# URL of /new/thing, asked as $3 in x-user) to answer 200; counts the result in PASSED/FAILED.
swap_in_new_route() {
  local store=$1 url=$2 user=$3
  cat > "$store/routes.json.tmp" <<'JSON'
{"Routes": [
  {"Method": "GET", "Path": "/reports/{year}/{file}", "Action": "reports:GetReport",
   "Resource": "arn:aws:reports:::report/{year}/{file}"},
  {"Method": "GET", "Path": "/new/{name}", "Action": "reports:NewThing", "Resource": "arn:aws:reports:::new/{name}"}
]}
JSON
  mv "$store/routes.json.tmp" "$store/routes.json"
  local start swapped=""
  start=$(date +%s%N)
  while [ $(( ($(date +%s%N) - start) / 1000000 )) -lt 2000 ]; do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "x-user: $user" "$url")" = 200 ]; then
      swapped=$(( ($(date +%s%N) - start) / 1000000 )); break
    fi
    sleep 0.02
  done
  if [ -n "$swapped" ]; then
    PASSED=$((PASSED + 1)); echo "ok   the hot-swapped route answers after ${swapped} ms"
  else
    FAILED=$((FAILED + 1)); echo "FAIL the hot-swapped route did not answer within 2 s"
  fi
}

# check NAME STATUS DECISION [BODY_SUBSTRING] -- CURL_ARGS...: one request through the proxy,
# its status and x-keycard-decision (and a body substring) compared, counted in PASSED/FAILED.
check() {
  local name=$1 want_status=$2 want_decision=$3 want_body=$4
  shift 5
  local status decision
  status="$(curl -s -D "$WORK/headers" -o "$WORK/body" -w '%{http_code}' "$@")" || true
  decision="$(tr -d '\r' < "$WORK/headers" | sed -n 's/^[Xx]-[Kk]eycard-[Dd]ecision: //p' | head -1)"
  if [ "$status" = "$want_status" ] && [ "$decision" = "$want_decision" ] \
     && { [ -z "$want_body" ] || grep -qF -- "$want_body" "$WORK/body"; }; then
    PASSED=$((PASSED + 1)); echo "ok   $name ($status $decision)"
  else
    FAILED=$((FAILED + 1))
    echo "FAIL $name: got $status '$decision', want $want_status '$want_decision' ${want_body:+and body with '$want_body'}"
    sed 's/^/     /' "$WORK/body"
  fi
}

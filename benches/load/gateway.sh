#!/usr/bin/env bash
# Load test of the gateway (issue 7): wrk through nginx on loopback, side by side in one run:
#   (i)   nginx proxying to a tiny upstream, no auth_request (the baseline);
#   (i')  auth_request to a null authorizer (nginx answering 200 itself): nginx's own cost;
#   (ii)  nginx with auth_request to `keycard serve`, which decides every request;
#   (iii) (ii) while the store's routes file is rewritten every second (zero failures expected);
#   (iv)  keycard alone: wrk asking /v1/gate directly, with nginx's headers (no nginx).
# The cost of authorization is the throughput ratio (ii)/(i). Installs nginx and wrk (Debian) if
# missing, builds the release binary, prints a Markdown summary (also $OUT/summary.md).
# Bounded: about 60 s with the defaults.
#
#   benches/load/gateway.sh
#   DURATION=30 CONNECTIONS=100 NGINX_WORKERS=2 benches/load/gateway.sh
#
# Knobs: DURATION (s, per run), CONNECTIONS, THREADS (wrk), NGINX_WORKERS, OUT.
set -euo pipefail
source "$(cd "$(dirname "$0")/../.." && pwd)/gateway/nginx/lib.sh"

DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-50}"
THREADS="${THREADS:-2}"
NGINX_WORKERS="${NGINX_WORKERS:-1}"
OUT="${OUT:-${CARGO_TARGET_DIR:-$ROOT/target}/keycard-gateway-load}"
rm -rf "$OUT" && mkdir -p "$OUT"
WORK="$OUT"

ensure_nginx
source "$ROOT/benches/load/lib.sh"
ensure_wrk
build_release

SWAPPER=""
cleanup() {
  [ -n "$SWAPPER" ] && kill "$SWAPPER" 2>/dev/null || true
  stop_all
}
trap cleanup EXIT

write_store "$OUT/store"
start_keycard "$BIN" "$OUT/store" --trust-principal-header x-user
start_nginx "$NGINX_WORKERS"
ALICE="arn:aws:iam::111122223333:user/alice"
PATH_ASKED="/reports/2026/q1.csv"

# The request must be allowed end to end before anything is timed.
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "x-user: $ALICE" "http://127.0.0.1:$PORT$PATH_ASKED")" = 200 ] \
  || { echo "the gateway does not allow the benchmark request" >&2; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT$PATH_ASKED")" = 401 ] \
  || { echo "the gateway does not ask keycard" >&2; exit 1; }

run_wrk() { # name port
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "x-user: $ALICE" \
    "http://127.0.0.1:$2$PATH_ASKED" > "$OUT/$1.txt"
}
echo "warm-up" >&2
wrk -t1 -c8 -d2s -H "x-user: $ALICE" "http://127.0.0.1:$PLAIN_PORT$PATH_ASKED" >/dev/null
wrk -t1 -c8 -d2s -H "x-user: $ALICE" "http://127.0.0.1:$PORT$PATH_ASKED" >/dev/null

echo "(i) nginx, no auth_request: $THREADS threads, $CONNECTIONS connections, ${DURATION}s" >&2
run_wrk plain "$PLAIN_PORT"
echo "(i') nginx + auth_request to a null authorizer (nginx itself)" >&2
run_wrk null "$NULL_PORT"
echo "(ii) nginx + auth_request to keycard" >&2
DECISIONS_BEFORE=$(curl -s "http://127.0.0.1:$KEYCARD_PORT/metrics" | awk '$1 == "keycard_gate_answers_total{decision=\"allowed\"}" {print $2}')
run_wrk gate "$PORT"
DECISIONS_AFTER=$(curl -s "http://127.0.0.1:$KEYCARD_PORT/metrics" | awk '$1 == "keycard_gate_answers_total{decision=\"allowed\"}" {print $2}')

echo "(iv) keycard alone: /v1/gate asked directly, as nginx asks it" >&2
wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "x-user: $ALICE" -H "X-Original-Method: GET" \
  -H "X-Original-URI: $PATH_ASKED" "http://127.0.0.1:$KEYCARD_PORT/v1/gate" > "$OUT/direct.txt"

echo "(iii) (ii) while routes.json is rewritten every second" >&2
RELOADS_BEFORE=$(curl -s "http://127.0.0.1:$KEYCARD_PORT/metrics" | awk '$1 == "keycard_reloads_total" {print $2}')
(
  i=0
  while true; do
    i=$((i + 1))
    # Write-and-rename, a new route each time (so each version is a new snapshot); the benchmark's
    # route stays first.
    cat > "$OUT/store/.routes.json.tmp" <<JSON
{"Routes": [
  {"Method": "GET", "Path": "/reports/{year}/{file}", "Action": "reports:GetReport",
   "Resource": "arn:aws:reports:::report/{year}/{file}"},
  {"Method": "GET", "Path": "/swap/$i", "Action": "reports:GetReport", "Resource": "arn:aws:reports:::swap/$i"}
]}
JSON
    mv "$OUT/store/.routes.json.tmp" "$OUT/store/routes.json"
    sleep 1
  done
) &
SWAPPER=$!
run_wrk swap "$PORT"
kill "$SWAPPER" 2>/dev/null || true
SWAPPER=""
sleep 0.5
RELOADS_AFTER=$(curl -s "http://127.0.0.1:$KEYCARD_PORT/metrics" | awk '$1 == "keycard_reloads_total" {print $2}')
FAILURES=$(curl -s "http://127.0.0.1:$KEYCARD_PORT/metrics" | awk '$1 == "keycard_reload_failures_total" {print $2}')

python3 - "$OUT" "$THREADS" "$CONNECTIONS" "$DURATION" "$NGINX_WORKERS" "$DECISIONS_BEFORE" "$DECISIONS_AFTER" \
  "$RELOADS_BEFORE" "$RELOADS_AFTER" "$FAILURES" <<'PY'
import re, sys, os
out, threads, conns, duration, workers, d0, d1, r0, r1, failures = sys.argv[1:]

def parse(name):
    text = open(os.path.join(out, name + ".txt")).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = {m.group(1): m.group(2) for m in re.finditer(r"^\s+(50|99)%\s+(\S+)", text, re.M)}
    total = int(re.search(r"(\d+) requests in", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: (.*)", text)
    return rps, lat, total, int(non2xx.group(1)) if non2xx else 0, errors.group(1).strip() if errors else "none"

runs = [("plain", "(i) nginx → upstream, no auth_request"),
        ("null", "(i') nginx + auth_request → null authorizer (nginx) → upstream"),
        ("gate", "(ii) nginx + auth_request → keycard → upstream"),
        ("swap", "(iii) as (ii), routes.json rewritten every second"),
        ("direct", "(iv) keycard alone: wrk → /v1/gate (no nginx)")]
parsed = {name: parse(name) for name, _ in runs}
rows = ["| run | requests/s | p50 | p99 | requests | non-2xx | socket errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
for name, what in runs:
    rps, lat, total, bad, errors = parsed[name]
    rows.append(f"| {what} | {rps:,.0f} | {lat.get('50', '?')} | {lat.get('99', '?')} | {total:,} | {bad} | {errors} |")
ratio = parsed["gate"][0] / parsed["plain"][0]
null_ratio = parsed["null"][0] / parsed["plain"][0]
decided = int(float(d1)) - int(float(d0))
rows.append("")
rows.append(f"auth_request keeps {ratio:.0%} of plain proxying throughput (costs {1 - ratio:.0%}); "
            f"auth_request to a null authorizer alone keeps {null_ratio:.0%} (costs {1 - null_ratio:.0%}); "
            f"keycard decided {decided:,} of the {parsed['gate'][2]:,} requests of run (ii) (allowed). "
            f"Run (iii): {int(float(r1)) - int(float(r0))} reloads published, {int(float(failures))} reload failures. "
            f"wrk {threads} threads, {conns} connections, {duration} s per run; nginx {workers} worker(s).")
text = "\n".join(rows)
open(os.path.join(out, "summary.md"), "w").write(text + "\n")
print(text)
PY

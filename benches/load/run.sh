#!/usr/bin/env bash
# Load test of `keycard serve` on loopback (issue 4): single-request throughput and latency with
# keep-alive, batch throughput in decisions per second, and single requests while the store is
# swapped every second. Builds the release binary, installs wrk (Debian) if missing, and prints a
# Markdown summary (also written to $OUT/summary.md). Bounded: about 1.5 minutes with the defaults.
#
#   benches/load/run.sh                      # defaults: 10 s per run
#   DURATION=30 CONNECTIONS=64 benches/load/run.sh
#
# Knobs: DURATION (s, per run), CONNECTIONS (single-request runs), THREADS (wrk threads),
# BATCH (requests per batch body), PORT, OUT (output directory).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/benches/load"
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-16}"
THREADS="${THREADS:-1}"
BATCH="${BATCH:-1000}"
PORT="${PORT:-18181}"
OUT="${OUT:-${CARGO_TARGET_DIR:-$ROOT/target}/keycard-load}"
mkdir -p "$OUT"

source "$ROOT/benches/load/lib.sh"
ensure_wrk
build_release

# A copy of the default store that the swap run can rewrite.
STORE="$OUT/store"
rm -rf "$STORE" && cp -r "$ROOT/policies" "$STORE"

# Bodies: allowed, explicitDeny, implicitDeny (the README's alice, and an unknown caller).
ALLOW='{"principal": "arn:aws:iam::111122223333:user/dev/alice", "action": "s3:GetObject", "resource": "arn:aws:s3:::example-reports/2026/q1.csv", "context": {"aws:SourceIp": "203.0.113.7", "aws:SecureTransport": true}}'
DENY='{"principal": "arn:aws:iam::111122223333:user/dev/alice", "action": "s3:GetObject", "resource": "arn:aws:s3:::example-reports/2026/q1.csv", "context": {"aws:SourceIp": "198.51.100.9", "aws:SecureTransport": true}}'
NONE='{"principal": "arn:aws:iam::111122223333:user/dev/alice", "action": "s3:PutObject", "resource": "arn:aws:s3:::example-reports/2026/q1.csv", "context": {"aws:SourceIp": "203.0.113.7", "aws:SecureTransport": true}}'
printf '%s\n%s\n%s\n' "$ALLOW" "$DENY" "$NONE" > "$OUT/single.jsonl"
python3 - "$BATCH" "$OUT/batch.jsonl" "$ALLOW" "$DENY" "$NONE" <<'PY'
import sys
n, path, bodies = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
with open(path, "w") as f:
    f.write('{"requests": [' + ",".join(bodies[i % 3] for i in range(n)) + "]}\n")
PY
echo "batch body: $(wc -c < "$OUT/batch.jsonl") bytes, $BATCH requests" >&2

"$BIN" serve --policies "$STORE" --listen "127.0.0.1:$PORT" > "$OUT/serve.out" 2> "$OUT/serve.log" &
SERVER=$!
SWAPPER=""
cleanup() {
  [ -n "$SWAPPER" ] && kill "$SWAPPER" 2>/dev/null || true
  kill -TERM "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.05
done
curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "server not ready" >&2; cat "$OUT/serve.log" >&2; exit 1; }

URL="http://127.0.0.1:$PORT"
run_wrk() { # name path bodies connections
  local name=$1 path=$2 bodies=$3 conns=$4
  KEYCARD_PATH="$path" KEYCARD_BODIES="$bodies" wrk -t"$THREADS" -c"$conns" -d"${DURATION}s" --latency \
    -s "$HERE/requests.lua" "$URL$path" > "$OUT/$name.txt"
}
# Warm-up.
KEYCARD_PATH=/v1/authorize KEYCARD_BODIES="$OUT/single.jsonl" wrk -t1 -c4 -d2s -s "$HERE/requests.lua" "$URL/v1/authorize" >/dev/null

echo "single requests, $CONNECTIONS connections, ${DURATION}s" >&2
run_wrk single /v1/authorize "$OUT/single.jsonl" "$CONNECTIONS"
echo "batches of $BATCH, 2 connections, ${DURATION}s" >&2
run_wrk batch /v1/authorize/batch "$OUT/batch.jsonl" 2

echo "single requests while the store is swapped every second" >&2
RELOADS_BEFORE=$(curl -s "$URL/metrics" | awk '$1 == "keycard_reloads_total" {print $2}')
(
  i=0
  while true; do
    i=$((i + 1))
    # An editor-style swap: write a temporary file, rename it over; the content changes each time.
    python3 - "$STORE/account.json" "$i" <<'PY'
import json, os, sys
path, i = sys.argv[1], sys.argv[2]
doc = json.load(open(path))
doc.setdefault("UserDetailList", [])
users = [u for u in doc["UserDetailList"] if not u["UserName"].startswith("loadtest-")]
users.append({"UserName": f"loadtest-{i}", "Path": "/", "UserId": "AIDALOADTEST" + i.zfill(9)})
doc["UserDetailList"] = users
tmp = os.path.join(os.path.dirname(path), ".account.json.tmp")
json.dump(doc, open(tmp, "w"))
os.rename(tmp, path)
PY
    sleep 1
  done
) &
SWAPPER=$!
run_wrk swap /v1/authorize "$OUT/single.jsonl" "$CONNECTIONS"
kill "$SWAPPER" 2>/dev/null || true
SWAPPER=""
sleep 0.5
RELOADS_AFTER=$(curl -s "$URL/metrics" | awk '$1 == "keycard_reloads_total" {print $2}')
FAILURES=$(curl -s "$URL/metrics" | awk '$1 == "keycard_reload_failures_total" {print $2}')
curl -s "$URL/metrics" > "$OUT/metrics.txt"

python3 - "$OUT" "$BATCH" "$RELOADS_BEFORE" "$RELOADS_AFTER" "$FAILURES" "$CONNECTIONS" "$DURATION" <<'PY'
import re, sys, os
out, batch, before, after, failures, conns, duration = sys.argv[1:]
batch = int(batch)

def parse(name):
    text = open(os.path.join(out, name + ".txt")).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = {m.group(1): m.group(2) for m in re.finditer(r"^\s+(50|75|90|99)%\s+(\S+)", text, re.M)}
    total = int(re.search(r"(\d+) requests in", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: (.*)", text)
    return rps, lat, total, int(non2xx.group(1)) if non2xx else 0, errors.group(1) if errors else "none"

rows = []
for name, what in [("single", f"single requests, {conns} connections"),
                   ("batch", f"batches of {batch}, 2 connections"),
                   ("swap", f"single requests, {conns} connections, store swapped every second")]:
    rps, lat, total, bad, errors = parse(name)
    decisions = rps * (batch if name == "batch" else 1)
    rows.append(f"| {what} | {rps:,.0f} | {decisions:,.0f} | {lat.get('50', '?')} | {lat.get('99', '?')} | {total:,} | {bad} | {errors} |")
summary = ["| run | HTTP requests/s | decisions/s | p50 | p99 | requests | non-2xx | socket errors |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |"] + rows
summary.append("")
summary.append(f"Swap run: {int(float(after)) - int(float(before))} reloads published, "
               f"{int(float(failures))} reload failures; each run {duration} s.")
text = "\n".join(summary)
open(os.path.join(out, "summary.md"), "w").write(text + "\n")
print(text)
PY

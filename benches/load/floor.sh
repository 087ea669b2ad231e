#!/usr/bin/env bash
# keycard against the HTTP floor of this machine (issue 14), side by side in one run, loopback only:
#   1. keycard `/healthz` (hyper + tokio with no body and no decision: the bare server cost);
#   2. keycard `/v1/authorize`, a stream of LEN different bodies from the benches crate's
#      generated stream (`stream prepare SHAPE`), against that shape's store;
#   3. keycard `/v1/authorize/batch`, BATCH requests per body, bodies cut from the same stream;
#   4. nginx answering `return 200` to the same wrk with the same single bodies (the floor).
# Then, if perf is installed, a separate profiled run of (2) (not part of the figures).
# Prints a Markdown summary (also $OUT/summary.md) with keycard ÷ floor and the CPU time of each
# keycard thread and of wrk during (2) and (4). Bounded: about 1 minute plus the release build and,
# the first time, building the benches crate (cedar) and preparing the stream.
#
#   benches/load/floor.sh                      # large store, 5,000 bodies, 8 s per run
#   SHAPE=medium DURATION=4 benches/load/floor.sh
#
# Knobs: SHAPE (small, medium, large), LEN (bodies in the stream), DURATION (s per run),
# CONNECTIONS, THREADS (wrk), BATCH (requests per batch body), BATCH_CONNECTIONS, PORT,
# NGINX_PORT, NGINX_WORKERS, PERF (0 to skip the profile), OUT.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/benches/load"
SHAPE="${SHAPE:-large}"
LEN="${LEN:-5000}"
DURATION="${DURATION:-8}"
CONNECTIONS="${CONNECTIONS:-16}"
THREADS="${THREADS:-1}"
BATCH="${BATCH:-1000}"
BATCH_CONNECTIONS="${BATCH_CONNECTIONS:-2}"
PORT="${PORT:-18191}"
NGINX_PORT="${NGINX_PORT:-18192}"
NGINX_WORKERS="${NGINX_WORKERS:-2}"
PERF="${PERF:-1}"
OUT="${OUT:-${CARGO_TARGET_DIR:-$ROOT/target}/keycard-floor}"
mkdir -p "$OUT"

source "$ROOT/benches/load/lib.sh"
ensure_wrk
command -v nginx >/dev/null || { echo "nginx is needed (Debian package nginx)" >&2; exit 1; }
build_release

# The store and the stream, from the benches crate's generator (its own target dir).
BENCH_TARGET="${BENCH_TARGET:-$ROOT/benches/target}"
STREAM_DIR="$BENCH_TARGET/keycard-bench/floor/$SHAPE-$LEN"
if [ ! -f "$STREAM_DIR/stream.tsv" ]; then
  echo "building the benches crate and preparing the $SHAPE stream ($LEN requests)" >&2
  (cd "$ROOT/benches" && CARGO_TARGET_DIR="$BENCH_TARGET" cargo build --release -q --bin stream)
  "$BENCH_TARGET/release/stream" prepare "$SHAPE" "$STREAM_DIR" "$LEN" >&2
fi
python3 - "$STREAM_DIR/stream.tsv" "$OUT/single.jsonl" "$OUT/batch.jsonl" "$BATCH" <<'PY'
import json, sys
tsv, single, batch, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
bodies = []
for line in open(tsv):
    if line.startswith("#") or not line.strip():
        continue
    p, a, r, ctx, _, _ = line.rstrip("\n").split("\t")
    body = {"principal": p, "action": a, "resource": r}
    if ctx != "-":
        body["context"] = json.loads(ctx)
    bodies.append(json.dumps(body, separators=(",", ":")))
open(single, "w").write("\n".join(bodies) + "\n")
with open(batch, "w") as f:
    for i in range(0, len(bodies) - n + 1, n):
        f.write('{"requests":[' + ",".join(bodies[i:i + n]) + "]}\n")
print(f"{len(bodies)} distinct bodies; {len(bodies) // n} batch bodies of {n}", file=sys.stderr)
PY

SERVER="" NGINX=""
cleanup() {
  [ -n "$SERVER" ] && kill -TERM "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
  [ -n "$NGINX" ] && kill -TERM "$NGINX" 2>/dev/null && wait "$NGINX" 2>/dev/null || true
}
trap cleanup EXIT

wait_up() { # url
  for _ in $(seq 1 600); do curl -sf -o /dev/null "$1" && return 0; sleep 0.05; done
  echo "not up: $1" >&2; return 1
}
# CPU ticks (user + system) of each thread of a process: "tid name ticks" per line.
threads_cpu() {
  for t in /proc/"$1"/task/*; do
    awk -v tid="${t##*/}" '{ sub(/^[^)]*\) /, ""); print tid, $12 + $13 }' "$t/stat" 2>/dev/null |
      while read -r tid ticks; do echo "$tid $(cat "$t/comm" 2>/dev/null | tr ' ' _) $ticks"; done
  done
}
cpu_delta() { # before after -> "name s; ..." per thread that used CPU (threads born during the run
  # count from 0; blocking-pool threads that exit during it are in "process total")
  awk -v hz="$(getconf CLK_TCK)" 'NR == FNR { t0[$1] = $3; next }
    { d = ($3 - ($1 in t0 ? t0[$1] : 0)) / hz; if (d > 0.005) { printf "%s %.2f s; ", $2, d; sum += d } }
    END { }' "$1" "$2"
}
proc_cpu() { awk '{ sub(/^[^)]*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
run_wrk() { # name url path bodies connections [pid to watch]
  local name=$1 url=$2 path=$3 bodies=$4 conns=$5 pid=${6:-}
  [ -n "$pid" ] && threads_cpu "$pid" > "$OUT/$name.cpu0" && proc_cpu "$pid" > "$OUT/$name.proc0"
  local script=()
  [ -n "$bodies" ] && script=(-s "$HERE/requests.lua") # no bodies: GET
  { TIMEFORMAT='%U %S'; time KEYCARD_PATH="$path" KEYCARD_BODIES="$bodies" wrk -t"$THREADS" -c"$conns" \
      -d"${DURATION}s" --latency "${script[@]}" "$url$path" > "$OUT/$name.txt"; } 2> "$OUT/$name.wrktime"
  [ -n "$pid" ] && threads_cpu "$pid" > "$OUT/$name.cpu1" && { cpu_delta "$OUT/$name.cpu0" "$OUT/$name.cpu1"
    echo "process total $(( $(proc_cpu "$pid") - $(cat "$OUT/$name.proc0") )) ticks of 1/$(getconf CLK_TCK) s"; } > "$OUT/$name.cpu"
  return 0
}

"$BIN" serve --policies "$STREAM_DIR/store" --listen "127.0.0.1:$PORT" > "$OUT/serve.out" 2> "$OUT/serve.log" &
SERVER=$!
wait_up "http://127.0.0.1:$PORT/readyz"
KC="http://127.0.0.1:$PORT"

mkdir -p "$OUT/nginx"
cat > "$OUT/nginx/nginx.conf" <<EOF
worker_processes $NGINX_WORKERS;
daemon off;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $OUT/nginx/body;
  proxy_temp_path $OUT/nginx/proxy;
  fastcgi_temp_path $OUT/nginx/fastcgi;
  uwsgi_temp_path $OUT/nginx/uwsgi;
  scgi_temp_path $OUT/nginx/scgi;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / { return 200; }
  }
}
EOF
nginx -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" &
NGINX=$!
wait_up "http://127.0.0.1:$NGINX_PORT/"
NG="http://127.0.0.1:$NGINX_PORT"

# Warm-up of both (page cache, allocator, connection paths).
KEYCARD_PATH=/v1/authorize KEYCARD_BODIES="$OUT/single.jsonl" wrk -t1 -c4 -d2s -s "$HERE/requests.lua" "$KC/v1/authorize" >/dev/null
KEYCARD_PATH=/v1/authorize KEYCARD_BODIES="$OUT/single.jsonl" wrk -t1 -c4 -d1s -s "$HERE/requests.lua" "$NG/v1/authorize" >/dev/null

echo "machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)" > "$OUT/conditions.txt"
echo "keycard $(git -C "$ROOT" rev-parse --short HEAD); $("$BIN" --version 2>/dev/null | head -1); $(nginx -v 2>&1); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)" >> "$OUT/conditions.txt"
echo "store: $SHAPE ($(du -sh "$STREAM_DIR/store" | cut -f1)); bodies: $(wc -l < "$OUT/single.jsonl") single, $(wc -l < "$OUT/batch.jsonl") batch of $BATCH" >> "$OUT/conditions.txt"

echo "keycard /healthz" >&2
run_wrk healthz "$KC" /healthz "" "$CONNECTIONS" "$SERVER"
echo "keycard /v1/authorize stream" >&2
run_wrk keycard "$KC" /v1/authorize "$OUT/single.jsonl" "$CONNECTIONS" "$SERVER"
echo "keycard /v1/authorize/batch" >&2
run_wrk batch "$KC" /v1/authorize/batch "$OUT/batch.jsonl" "$BATCH_CONNECTIONS" "$SERVER"
echo "nginx return 200" >&2
run_wrk nginx "$NG" /v1/authorize "$OUT/single.jsonl" "$CONNECTIONS"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/conditions.txt"
# nginx's workers' CPU over its run is not split here; wrk's is.

if [ "$PERF" != 0 ] && command -v perf >/dev/null; then
  echo "profiling keycard (perf, separate run, not in the figures)" >&2
  KEYCARD_PATH=/v1/authorize KEYCARD_BODIES="$OUT/single.jsonl" timeout $((DURATION + 5)) wrk -t"$THREADS" -c"$CONNECTIONS" \
    -d"${DURATION}s" -s "$HERE/requests.lua" "$KC/v1/authorize" > /dev/null &
  LOADER=$!
  sleep 1
  timeout 30 perf record -q -F 499 -g -p "$SERVER" -o "$OUT/perf.data" -- sleep 5 2>/dev/null || true
  wait "$LOADER" || true
  perf report -i "$OUT/perf.data" --no-children --sort sym --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -40 > "$OUT/perf-self.txt" || true
  perf report -i "$OUT/perf.data" --children --sort sym --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -60 > "$OUT/perf-children.txt" || true
fi

python3 - "$OUT" "$BATCH" "$CONNECTIONS" "$BATCH_CONNECTIONS" "$DURATION" <<'PY'
import os, re, sys
out, batch, conns, bconns, duration = sys.argv[1], int(sys.argv[2]), *sys.argv[3:]

def parse(name):
    text = open(os.path.join(out, name + ".txt")).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = {m.group(1): m.group(2) for m in re.finditer(r"^\s+(50|75|90|99)%\s+(\S+)", text, re.M)}
    total = int(re.search(r"(\d+) requests in", text).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: (.*)", text)
    u, s = open(os.path.join(out, name + ".wrktime")).read().split()[-2:]
    cpu = os.path.join(out, name + ".cpu")
    return dict(rps=rps, lat=lat, total=total, bad=int(non2xx.group(1)) if non2xx else 0,
                errors=errors.group(1) if errors else "none", wrk=float(u) + float(s),
                cpu=open(cpu).read().strip() if os.path.exists(cpu) else "-")

r = {n: parse(n) for n in ["healthz", "keycard", "batch", "nginx"]}
rows = [("keycard `/healthz`", "healthz", 1, conns), ("keycard `/v1/authorize` stream", "keycard", 1, conns),
        (f"keycard `/v1/authorize/batch`, {batch} per body", "batch", batch, bconns),
        ("nginx `return 200`, same bodies", "nginx", 1, conns)]
lines = [open(os.path.join(out, "conditions.txt")).read().strip(), "",
         "| run | connections | requests/s | decisions/s | p50 | p99 | non-2xx | socket errors | wrk CPU | keycard threads' CPU |",
         "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- |"]
for what, n, per, c in rows:
    x = r[n]
    lines.append(f"| {what} | {c} | {x['rps']:,.0f} | {x['rps'] * per:,.0f} | {x['lat'].get('50', '?')} | "
                 f"{x['lat'].get('99', '?')} | {x['bad']} | {x['errors']} | {x['wrk']:.2f} s | {x['cpu']} |")
lines += ["", f"keycard ÷ floor: **{r['keycard']['rps'] / r['nginx']['rps']:.2f}**; "
          f"`/healthz` ÷ floor: {r['healthz']['rps'] / r['nginx']['rps']:.2f}; "
          f"batch decisions/s: {r['batch']['rps'] * batch:,.0f}; each run {duration} s."]
text = "\n".join(lines)
open(os.path.join(out, "summary.md"), "w").write(text + "\n")
print(text)
PY

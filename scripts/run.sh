#!/usr/bin/env bash
# `make run`: a private redis-server under var/ and all five services with the
# sample configuration. Ctrl-C or SIGTERM stops everything, redis included.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${YX_BIN:-build/bin}
CFG=${YX_CONFIG:-config/yixian.cfg}
VAR=${YX_VAR:-var}
mkdir -p "$VAR/redis" "$VAR/log"

REDIS_PORT=$("$BIN/yx-intake" -c "$CFG" --print redis.port 2>/dev/null || echo 6390)
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "stopping…"
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  echo "stopped"
  exit 0
}
trap cleanup INT TERM EXIT

VAR_ABS=$(cd "$VAR" && pwd)
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$VAR_ABS/redis" \
  --appendonly yes --appendfsync everysec --save "" --daemonize no \
  --logfile "$VAR_ABS/log/redis.log" &
pids+=($!)
for _ in $(seq 1 100); do
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
  sleep 0.05
done

for svc in dispatcher classifier notifier metrics intake; do
  "$BIN/yx-$svc" -c "$CFG" 2>>"$VAR/log/$svc.log" &
  pids+=($!)
done

HTTP_PORT=$("$BIN/yx-intake" -c "$CFG" --print intake.http_port)
METRICS_PORT=$("$BIN/yx-intake" -c "$CFG" --print metrics.http_port)
cat <<TEXT
Yixian is running (logs in $VAR/log/, data in $VAR/redis/).

  intake API   http://127.0.0.1:$HTTP_PORT/v1/cases
  Open311      http://127.0.0.1:$HTTP_PORT/open311/v2/services.json
  metrics      http://127.0.0.1:$METRICS_PORT/metrics
  dashboard    http://127.0.0.1:$METRICS_PORT/?key=demo-operator-key
  redis        127.0.0.1:$REDIS_PORT

Demo API keys:
  demo-hotline-key        reporter, source hotline
  demo-open311-key        reporter, source open311
  demo-operator-key       operator, whole city
  demo-admin-key          admin
  demo-dept-<department>  one per department, e.g. demo-dept-fz-water, demo-dept-st-350102001

Try:  build/bin/yxctl report --title 井盖冒污水 "鼓楼区某小区多个井盖冒污水" --lat 26.0845 --lon 119.2960
Ctrl-C stops everything.
TEXT
wait -n "${pids[@]}" || true
echo "a process exited (see $VAR/log/); stopping the rest" >&2

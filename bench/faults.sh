#!/usr/bin/env bash
# Faults under load, on loopback: the server killed with SIGKILL, Postgres
# restarted, Redis stopped, and two instances sharing one database. Each
# scenario runs footfall-load against the server while the fault happens;
# footfall-load ends by comparing what the server acknowledged with what it
# counts, so a lost or double-counted upload fails the scenario.
#
#   bench/faults.sh                 # every scenario (needs Postgres and Redis)
#   bench/faults.sh kill9-embedded  # one of: kill9-embedded kill9-postgres
#                                   #   postgres-restart redis-stop two-instances
#
# Environment: PROFILE (debug|release, default debug), PG_ADMIN_URL
# (default postgres://postgres@127.0.0.1:5432/postgres), REDIS_PORT (6379).
set -euo pipefail
cd "$(dirname "$0")/.."

PROFILE=${PROFILE:-debug}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
REDIS_PORT=${REDIS_PORT:-6379}
WORK=$(mktemp -d)
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || start_redis
  pg_isready -q -h 127.0.0.1 -p 5432 || start_postgres
  for db in kill9 restart redis two; do
    psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS ff_faults_$db WITH (FORCE)" >/dev/null 2>&1 || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

say() { printf '\n=== %s\n' "$*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

flag=()
[ "$PROFILE" = release ] && flag=(--release)
cargo build -q "${flag[@]}" -p footfall-api -p footfall-bench
TARGET_DIR=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
BIN=$TARGET_DIR/$PROFILE

start_postgres() {
  local v
  v=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
  for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p 5432 && return 0; sleep 0.5; done
  fail "Postgres did not come back"
}

start_redis() {
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no >/dev/null
  for _ in $(seq 1 40); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0; sleep 0.25; done
  fail "Redis did not come back"
}

# start_server NAME PORT [ENV=VALUE...]: starts the server, waits for /healthz.
start_server() {
  local name=$1 port=$2
  shift 2
  env FOOTFALL_LISTEN=127.0.0.1:$port FOOTFALL_DATA_DIR="$WORK/$name" RUST_LOG=warn \
    FOOTFALL_JWT_SECRET=fault-scenarios-secret-0123456789abcdef "$@" \
    "$BIN/footfall" >>"$WORK/$name.log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  echo "$pid" >"$WORK/$name.pid"
  for _ in $(seq 1 100); do
    curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$WORK/$name.log"; fail "$name exited"; }
    sleep 0.2
  done
  fail "$name did not start"
}

fresh_database() {
  local db=ff_faults_$1
  psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1
  psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $db" >/dev/null
  echo "${PG_ADMIN_URL%/*}/$db"
}

# load PORT SECONDS [ARGS...]: footfall-load's upload phase, in the background.
load() {
  local port=$1 seconds=$2
  shift 2
  "$BIN/footfall-load" --server "http://127.0.0.1:$port" --devices 200 --concurrency 16 \
    --seconds "$seconds" --uploads-only "$@" >"$WORK/load.out" 2>&1 &
  LOAD=$!
}

finish_load() {
  local status=0
  wait "$LOAD" || status=$?
  cat "$WORK/load.out"
  [ "$status" = 0 ] || fail "footfall-load exited $status"
  grep -q '^MATCH' "$WORK/load.out" || fail "not every acknowledged upload was counted exactly once"
}

kill9() { # kill9 NAME PORT [ENV...]
  local name=$1 port=$2
  shift 2
  start_server "$name" "$port" "$@"
  load "$port" 14
  sleep 6
  kill -9 "$(cat "$WORK/$name.pid")"
  echo "killed $name with SIGKILL under load"
  sleep 1
  start_server "$name" "$port" "$@"
  echo "restarted $name"
  finish_load
}

scenario_kill9_embedded() {
  say "kill -9 under load, embedded SQLite"
  kill9 embedded 18301
}

scenario_kill9_postgres() {
  say "kill -9 under load, Postgres + Redis"
  local url
  url=$(fresh_database kill9)
  kill9 pg 18302 DATABASE_URL="$url" REDIS_URL="redis://127.0.0.1:$REDIS_PORT" FOOTFALL_REDIS_PREFIX=faults-kill9
}

scenario_postgres_restart() {
  say "Postgres restarted under load"
  local url v
  url=$(fresh_database restart)
  start_server pgr 18303 DATABASE_URL="$url" REDIS_URL="redis://127.0.0.1:$REDIS_PORT" FOOTFALL_REDIS_PREFIX=faults-pgr
  load 18303 16
  sleep 6
  v=$(ls /etc/postgresql | sort -V | tail -n 1)
  pg_ctlcluster --skip-systemctl-redirect "$v" main stop -m fast
  echo "Postgres stopped"
  # While it is down an upload is refused quickly, not left hanging.
  local t0 code
  t0=$(date +%s%N)
  code=$(curl -s -m 10 -o "$WORK/refused.json" -w '%{http_code}' http://127.0.0.1:18303/api/camera/dataUpload \
    -d '{"sn":"NOT-A-DEVICE-X","startTime":1,"endTime":2,"in":1,"out":0}' || true)
  echo "an upload during the outage: HTTP $code $(cat "$WORK/refused.json") in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  [ "$code" = 200 ] || fail "a device request during the outage got HTTP $code"
  sleep 3
  start_postgres
  echo "Postgres back; the server was not restarted"
  finish_load
  curl -fsS http://127.0.0.1:18303/readyz | grep -q '"database":"ok"' || fail "readyz after the restart"
}

scenario_redis_stop() {
  say "Redis stopped under load"
  local url
  url=$(fresh_database redis)
  start_server red 18304 DATABASE_URL="$url" REDIS_URL="redis://127.0.0.1:$REDIS_PORT" FOOTFALL_REDIS_PREFIX=faults-red
  load 18304 14
  sleep 5
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  echo "Redis stopped"
  # A device still gets its heartbeat answer at once, and shows online.
  python3 - <<'PY'
import json, time, urllib.request

def call(path, body=None, token=None, method=None):
    req = urllib.request.Request(f"http://127.0.0.1:18304{path}", method=method or ("POST" if body is not None else "GET"))
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, json.dumps(body).encode() if body is not None else None, timeout=10) as r:
        return json.loads(r.read() or b"null")

stamp = int(time.time() * 1000)
token = call("/api/v1/auth/signup", {"tenantName": f"Redis {stamp}", "email": f"redis-{stamp}@footfall.test", "password": "fault scenario password"})["accessToken"]
site = call("/api/v1/sites", {"name": "R", "timezone": "UTC"}, token)["id"]
device = call("/api/v1/devices", {"sn": f"RED{stamp}", "siteId": site, "protocol": "people_counter"}, token)["id"]
t0 = time.monotonic()
answer = call("/api/camera/heartBeat", {"sn": f"RED{stamp}", "time": int(time.time())})
ms = (time.monotonic() - t0) * 1000
assert answer["code"] == 0, answer
assert ms < 1000, f"heartbeat took {ms:.0f} ms without Redis"
online = call(f"/api/v1/devices/{device}", token=token)["online"]
assert online, "online from this instance's own record while Redis is down"
print(f"heartbeat without Redis: code 0 in {ms:.0f} ms; device online")
PY
  sleep 3
  curl -s http://127.0.0.1:18304/readyz || true
  echo
  start_redis
  echo "Redis back"
  finish_load
}

# Two instances on one database and Redis: a device alternating between them
# sees a configuration change made through either.
scenario_two_instances() {
  say "two instances sharing Postgres + Redis"
  local url common
  url=$(fresh_database two)
  common=(DATABASE_URL="$url" REDIS_URL="redis://127.0.0.1:$REDIS_PORT" FOOTFALL_REDIS_PREFIX=faults-two)
  start_server one 18305 "${common[@]}"
  start_server two 18306 "${common[@]}" FOOTFALL_MIGRATE_ON_START=false
  load 18305 10 --also http://127.0.0.1:18306
  finish_load
  python3 - <<'PY'
import json, time, urllib.request

def call(port, path, body=None, token=None, method=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method or ("POST" if body is not None else "GET"))
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(req, data) as r:
        return json.loads(r.read() or b"null")

stamp = int(time.time() * 1000)
s = call(18305, "/api/v1/auth/signup", {"tenantName": f"Faults {stamp}", "email": f"faults-{stamp}@footfall.test", "password": "fault scenario password"})
token = s["accessToken"]
site = call(18305, "/api/v1/sites", {"name": "Two", "timezone": "UTC"}, token)["id"]
sn = f"TWO{stamp}"
device = call(18305, "/api/v1/devices", {"sn": sn, "siteId": site, "protocol": "people_counter"}, token)["id"]
for (change_at, beat_at, interval, mode) in [(18305, 18306, 1, "TOTAL"), (18306, 18305, 15, "ADD")]:
    call(change_at, f"/api/v1/devices/{device}/config", {"uploadInterval": interval, "dataMode": mode}, token, method="PUT")
    answer = call(beat_at, "/api/camera/heartBeat", {"sn": sn, "time": int(time.time())})
    got = (answer["data"]["uploadInterval"], answer["data"]["dataMode"].upper())
    assert got == (interval, mode), f"changed at :{change_at}, heartbeat at :{beat_at}: {got}"
    print(f"config changed through :{change_at} reached the device at :{beat_at}: {got}")
PY
}

ALL=(kill9-embedded kill9-postgres postgres-restart redis-stop two-instances)
for s in "${@:-${ALL[@]}}"; do
  "scenario_${s//-/_}"
done
say "all fault scenarios passed"

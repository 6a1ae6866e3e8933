#!/usr/bin/env bash
# run.sh — start the peer: Django + DRF + Djoser + SimpleJWT (blacklist, rotation)
# on gunicorn, against an ephemeral Postgres cluster (or PEER_DATABASE_URL).
#
#   ./run.sh                 foreground; Ctrl-C / SIGTERM stops gunicorn + Postgres
#   ./run.sh --background    start detached; prints URL, pid file, log and stop command
#   ./run.sh --stop          stop the instance on $PORT (background or foreground)
#   ./run.sh --status        show whether an instance on $PORT is up
#
# Env knobs (defaults): PORT=8100  WORKERS=2*nproc+1  WORKER_CLASS=sync|gevent
#   PASSWORD_HASHER=pbkdf2|scrypt|<dotted.path>  SCRYPT_WORK_FACTOR/_BLOCK_SIZE/_PARALLELISM
#   PBKDF2_ITERATIONS  DB_CONN_MAX_AGE (sync: 60)  DB_POOL (gevent: 1)  DB_POOL_MAX=10
#   PEER_DATABASE_URL  SECRET_KEY
#   PEER_VENV  PG_BIN  PG_EXTRA_OPTS  KEEP_PG_DIR=1  ACCESS_LOG=-  PYTHON=python3
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}"
VENV="${PEER_VENV:-$HERE/.venv}"
PYTHON="${PYTHON:-python3}"
export PORT="${PORT:-8100}"
STATE_DIR="${PEER_STATE_DIR:-${TMPDIR:-/tmp}/peer-djoser-$PORT}"
PID_FILE="$STATE_DIR/run.pid"
URL_FILE="$STATE_DIR/url"
LOG_FILE="$STATE_DIR/run.log"
PG_OS_USER="${PG_OS_USER:-postgres}"
# keep .pyc files out of the source tree
export PYTHONPYCACHEPREFIX="${PYTHONPYCACHEPREFIX:-$CACHE_ROOT/peer-djoser-pycache}"

log() { printf '[run.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() { sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

# The venv (created or reused by setup.sh).
ensure_venv() { PEER_VENV="$VENV" PYTHON="$PYTHON" "$HERE/setup.sh"; }

free_port() { "$PYTHON" -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
port_busy() { "$PYTHON" -c 'import socket,sys;s=socket.socket();s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)
try: s.bind(("127.0.0.1",int(sys.argv[1])))
except OSError: sys.exit(0)
sys.exit(1)' "$1"; }

find_pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return; fi
  if command -v initdb >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v initdb)")"; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# initdb/postgres refuse to run as root: drop to $PG_OS_USER when we are root.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u "$PG_OS_USER" -- "$@"; else "$@"; fi; }

PG_TMP=""; PG_STARTED=0; PG_BIN_DIR=""; GUNICORN_PID=""

start_pg() {
  PG_BIN_DIR="$(find_pg_bin)"
  [ -x "$PG_BIN_DIR/initdb" ] || die "Postgres binaries not found (set PG_BIN)"
  PG_TMP="$(mktemp -d "${TMPDIR:-/tmp}/peer-djoser-pg.XXXXXX")"
  if [ "$(id -u)" -eq 0 ]; then chown "$PG_OS_USER" "$PG_TMP"; fi
  local pg_port="${PG_PORT:-$(free_port)}"
  log "initdb + start Postgres ($("$PG_BIN_DIR/postgres" --version | awk '{print $3}')) on 127.0.0.1:$pg_port in $PG_TMP"
  as_pg "$PG_BIN_DIR/initdb" -D "$PG_TMP/data" -U postgres -A trust -E UTF8 --no-sync \
    >"$PG_TMP/initdb.log" 2>&1 || { cat "$PG_TMP/initdb.log" >&2; die "initdb failed"; }
  PG_STARTED=1
  as_pg "$PG_BIN_DIR/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/postgres.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $pg_port -k $PG_TMP ${PG_EXTRA_OPTS:-}" start >/dev/null \
    || { cat "$PG_TMP/postgres.log" >&2; die "Postgres failed to start"; }
  "$PG_BIN_DIR/createdb" -h 127.0.0.1 -p "$pg_port" -U postgres peer
  export DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/peer"
  log "DATABASE_URL=$DATABASE_URL"
}

stop_pg() {
  if [ "$PG_STARTED" = 1 ] && [ -f "$PG_TMP/data/postmaster.pid" ]; then
    as_pg "$PG_BIN_DIR/pg_ctl" -D "$PG_TMP/data" -m fast -w -t 30 stop >/dev/null 2>&1 \
      || as_pg "$PG_BIN_DIR/pg_ctl" -D "$PG_TMP/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
  PG_STARTED=0
  if [ -n "$PG_TMP" ] && [ "${KEEP_PG_DIR:-0}" != 1 ]; then rm -rf "$PG_TMP"; fi
}

stop_gunicorn() {
  [ -n "$GUNICORN_PID" ] || return 0
  if kill -0 "$GUNICORN_PID" 2>/dev/null; then
    kill -TERM "$GUNICORN_PID" 2>/dev/null || true        # graceful (graceful_timeout=10s)
    local i; for i in $(seq 1 150); do kill -0 "$GUNICORN_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$GUNICORN_PID" 2>/dev/null; then
      local kids; kids="$(pgrep -P "$GUNICORN_PID" || true)"
      kill -KILL "$GUNICORN_PID" $kids 2>/dev/null || true
    fi
  fi
  wait "$GUNICORN_PID" 2>/dev/null || true
  GUNICORN_PID=""
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  stop_gunicorn
  stop_pg
  rm -f "$URL_FILE"
  if [ "$(cat "$PID_FILE" 2>/dev/null || true)" = "$$" ]; then rm -f "$PID_FILE"; fi
  log "stopped (gunicorn + Postgres)"
  exit "$rc"
}

run_foreground() {
  ensure_venv
  mkdir -p "$STATE_DIR"
  if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null && [ "$(cat "$PID_FILE")" != "$$" ]; then
    die "already running on port $PORT (pid $(cat "$PID_FILE")); use ./run.sh --stop"
  fi
  port_busy "$PORT" && die "127.0.0.1:$PORT is already in use"
  echo $$ >"$PID_FILE"
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP

  if [ -z "${SECRET_KEY:-}" ]; then
    SECRET_KEY="$("$VENV/bin/python" -c 'import secrets;print(secrets.token_urlsafe(50))')"; export SECRET_KEY
  fi
  export WORKER_CLASS="${WORKER_CLASS:-sync}"
  export WORKERS="${WORKERS:-$((2 * $(nproc) + 1))}"
  # sync: persistent per-worker connection; gevent: Django's psycopg pool per worker
  if [ "$WORKER_CLASS" = sync ]; then
    export DB_POOL="${DB_POOL:-0}" DB_CONN_MAX_AGE="${DB_CONN_MAX_AGE:-60}"
  else
    export DB_POOL="${DB_POOL:-1}" DB_CONN_MAX_AGE="${DB_CONN_MAX_AGE:-0}"
  fi
  export PASSWORD_HASHER="${PASSWORD_HASHER:-pbkdf2}"

  if [ -n "${PEER_DATABASE_URL:-}" ]; then
    export DATABASE_URL="$PEER_DATABASE_URL"
    log "using PEER_DATABASE_URL (no ephemeral Postgres)"
  else
    start_pg
  fi

  log "migrate"
  (cd "$HERE/app" && "$VENV/bin/python" manage.py migrate --noinput -v 0)

  log "gunicorn: workers=$WORKERS class=$WORKER_CLASS hasher=$PASSWORD_HASHER db_pool=$DB_POOL conn_max_age=$DB_CONN_MAX_AGE"
  "$VENV/bin/gunicorn" --config "$HERE/app/gunicorn.conf.py" --chdir "$HERE/app" peer.wsgi:application &
  GUNICORN_PID=$!

  local url="http://127.0.0.1:$PORT" i
  for i in $(seq 1 600); do
    kill -0 "$GUNICORN_PID" 2>/dev/null || die "gunicorn exited during startup"
    if "$VENV/bin/python" -c 'import sys,urllib.request;urllib.request.urlopen(sys.argv[1]+"/healthz",timeout=2)' "$url" 2>/dev/null; then
      break
    fi
    sleep 0.1
  done
  "$VENV/bin/python" -c 'import sys,urllib.request;print(urllib.request.urlopen(sys.argv[1]+"/healthz",timeout=5).read().decode())' "$url" >&2 \
    || die "gunicorn did not become ready"
  echo "$url" >"$URL_FILE"
  echo "PEER_URL=$url"
  log "ready at $url — Ctrl-C or '$HERE/run.sh --stop' (PORT=$PORT) stops everything"
  wait "$GUNICORN_PID" || true
  log "gunicorn exited"
}

run_background() {
  mkdir -p "$STATE_DIR"
  if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
    die "already running on port $PORT (pid $(cat "$PID_FILE")); use ./run.sh --stop"
  fi
  rm -f "$URL_FILE" "$PID_FILE"
  ensure_venv   # visible progress on first run
  setsid "$HERE/run.sh" --foreground >"$LOG_FILE" 2>&1 </dev/null &
  local pid=$! i
  for i in $(seq 1 1800); do
    [ -s "$URL_FILE" ] && break
    if ! kill -0 "$pid" 2>/dev/null; then tail -n 40 "$LOG_FILE" >&2; die "startup failed (log: $LOG_FILE)"; fi
    sleep 0.1
  done
  [ -s "$URL_FILE" ] || { tail -n 40 "$LOG_FILE" >&2; kill -TERM "$pid" 2>/dev/null || true; die "startup timed out"; }
  echo "PEER_URL=$(cat "$URL_FILE")"
  echo "PID_FILE=$PID_FILE (supervisor pid $(cat "$PID_FILE"))"
  echo "LOG=$LOG_FILE"
  echo "STOP: PORT=$PORT $HERE/run.sh --stop    # or: kill -TERM $(cat "$PID_FILE")"
}

run_stop() {
  [ -f "$PID_FILE" ] || { log "nothing running on port $PORT (no $PID_FILE)"; return 0; }
  local pid i; pid="$(cat "$PID_FILE")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for i in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && die "pid $pid still alive after 60 s"
    log "stopped pid $pid"
  else
    log "pid $pid not running; removing stale pid file"
  fi
  rm -f "$PID_FILE" "$URL_FILE"
}

run_status() {
  if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
    echo "running: pid $(cat "$PID_FILE") url $(cat "$URL_FILE" 2>/dev/null || echo '(starting)')"
  else
    echo "not running on port $PORT"; return 1
  fi
}

case "${1:-}" in
  "" | --foreground) run_foreground ;;
  --background | -b) run_background ;;
  --stop) run_stop ;;
  --status) run_status ;;
  -h | --help) usage ;;
  *) usage; exit 2 ;;
esac

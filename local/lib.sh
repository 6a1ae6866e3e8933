# Shared by local/serve.sh and local/test.sh: configuration, Postgres, cargo-lambda,
# building and migrating. Source it from the repository root; functions only.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCAL="$ROOT/local"
DATA="$LOCAL/.data"

say() { printf '\033[1m[latchkey]\033[0m %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

random_secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(48))'; }

# Loads local/.env, creating it from .env.example with random secrets on first use.
# Variables already set in the environment win over the file.
load_env() {
  local env_file="$LOCAL/.env"
  if [[ ! -f $env_file ]]; then
    say "creating local/.env with generated secrets"
    sed -e "s|^JWT_SECRET=$|JWT_SECRET=$(random_secret)|" \
        -e "s|^ADMIN_PASSWORD=$|ADMIN_PASSWORD=$(random_secret)|" \
        "$LOCAL/.env.example" > "$env_file"
    chmod 600 "$env_file"
  fi
  local line key
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[[:space:]]*# || ! $line =~ = ]] && continue
    key=${line%%=*}
    [[ -n ${!key+x} ]] && continue
    export "$key=${line#*=}"
  done < "$env_file"
}

# Makes DATABASE_URL point at a running Postgres with the app's role and database.
# An existing DATABASE_URL is used as it is.
ensure_postgres() {
  if [[ -n ${DATABASE_URL:-} ]]; then
    say "using DATABASE_URL from the environment"
    return
  fi
  local port=${LOCAL_PG_PORT:-15432}
  if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
    start_postgres_container "$port"
  else
    start_postgres_cluster "$port"
  fi
  export DATABASE_URL="postgres://latchkey:latchkey@127.0.0.1:$port/latchkey"
  export LATCHKEY_PG_ADMIN_URL="postgres://postgres@127.0.0.1:$port/postgres"
  psql -q "$LATCHKEY_PG_ADMIN_URL" -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT 'CREATE ROLE latchkey LOGIN PASSWORD ''latchkey'' CREATEDB'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'latchkey') \gexec
SELECT 'CREATE DATABASE latchkey OWNER latchkey'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'latchkey') \gexec
SQL
}

start_postgres_container() {
  local port=$1
  if ! docker ps --format '{{.Names}}' | grep -qx latchkey-postgres; then
    docker rm -f latchkey-postgres >/dev/null 2>&1 || true
    say "starting Postgres 15 in a container on 127.0.0.1:$port"
    docker run -d --name latchkey-postgres -p "127.0.0.1:$port:5432" \
      -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15 >/dev/null
  fi
  for _ in $(seq 60); do
    pg_isready -q -h 127.0.0.1 -p "$port" && return
    sleep 0.5
  done
  die "the Postgres container did not become ready"
}

# A throwaway cluster from the Postgres binaries on PATH, under local/.data (ignored).
start_postgres_cluster() {
  local port=$1 dir="$DATA/pg"
  local as=()
  if [[ $(id -u) == 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    as=(runuser -u postgres --)
  fi
  command -v initdb >/dev/null || die "no Docker engine and no Postgres binaries (initdb) on PATH"
  if pg_isready -q -h 127.0.0.1 -p "$port"; then
    return
  fi
  mkdir -p "$DATA"
  chmod 755 "$DATA"
  if [[ ! -f $dir/PG_VERSION ]]; then
    say "creating a throwaway Postgres cluster in local/.data/pg"
    mkdir -p "$dir" && chmod 700 "$dir"
    [[ ${#as[@]} -gt 0 ]] && chown postgres "$dir"
    "${as[@]}" initdb -D "$dir" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  say "starting Postgres on 127.0.0.1:$port"
  export LATCHKEY_STARTED_PG=1
  "${as[@]}" pg_ctl -D "$dir" -l "$dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=off" \
    start >/dev/null || die "Postgres did not start; see local/.data/pg/server.log"
}

stop_postgres_cluster() {
  local dir="$DATA/pg"
  [[ -f $dir/postmaster.pid ]] || return 0
  if [[ $(id -u) == 0 ]]; then
    runuser -u postgres -- pg_ctl -D "$dir" -m fast stop >/dev/null
  else
    pg_ctl -D "$dir" -m fast stop >/dev/null
  fi
}

# cargo-lambda from PyPI when it is not installed.
ensure_cargo_lambda() {
  if ! command -v cargo-lambda >/dev/null 2>&1; then
    say "installing cargo-lambda from PyPI"
    python3 -m pip install --quiet --disable-pip-version-check cargo-lambda >&2
    export PATH="$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))'):$PATH"
    hash -r
  fi
  command -v cargo-lambda >/dev/null 2>&1 || die "cargo-lambda is not on PATH after installing it"
}

# Every function crate: what the router table serves.
function_packages() {
  local dir args=()
  for dir in "$ROOT"/functions/*/; do args+=(-p "$(basename "$dir")"); done
  printf '%s\n' "${args[@]}"
}

# Builds the functions exactly as `cargo lambda watch` will run them (debug), so that no
# request waits for a compile.
build_functions() {
  say "building the functions"
  mapfile -t packages < <(function_packages)
  (cd "$ROOT" && cargo build --quiet "${packages[@]}")
}

run_migrations() {
  say "applying migrations"
  (cd "$ROOT" && ./target/debug/migrate)
}

# Serves the API through `cargo lambda watch` with the workspace router table.
# $1: port; remaining arguments go to cargo lambda watch.
watch() {
  local port=$1; shift
  cd "$ROOT" && exec cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$port" \
    --timeout "${WATCH_TIMEOUT:-30}" "$@"
}

# The routes of the workspace router table, one "METHOD PATH" a line.
router_routes() {
  python3 - "$ROOT/Cargo.toml" <<'PY'
import sys, tomllib
router = tomllib.load(open(sys.argv[1], "rb"))["workspace"]["metadata"]["lambda"]["watch"]["router"]
for path, targets in router.items():
    for target in targets:
        print(target["method"], path)
PY
}

# DATABASE_URL with another database name.
database_url_for() {
  python3 - "$DATABASE_URL" "$1" <<'PY'
import sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
print(urllib.parse.urlunsplit(url._replace(path="/" + sys.argv[2])))
PY
}

# A real SMTP server on 127.0.0.1:${LOCAL_SMTP_PORT:-1025} (Python's aiosmtpd, installed
# into a venv under local/.data on first use) that stores every message it receives as one
# file in the Maildir local/.data/mail/new/. Exports SMTP_URL (for maintenance; one set in
# local/.env wins) and LATCHKEY_MAILDIR (for the tests). An SMTP server already listening
# on the port is used as it is.
start_smtp() {
  local port=${LOCAL_SMTP_PORT:-1025} venv="$DATA/smtp-venv"
  export SMTP_URL=${SMTP_URL:-smtp://127.0.0.1:$port} LATCHKEY_MAILDIR="$DATA/mail"
  mkdir -p "$DATA/mail/new" "$DATA/mail/cur" "$DATA/mail/tmp"
  if (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    say "using the SMTP server already listening on 127.0.0.1:$port"
    return
  fi
  if ! "$venv/bin/python" -c 'import aiosmtpd' 2>/dev/null; then
    say "installing aiosmtpd (the local SMTP server) into local/.data/smtp-venv"
    python3 -m venv "$venv" &&
      "$venv/bin/pip" install --quiet --disable-pip-version-check 'aiosmtpd==1.4.6' >&2 ||
      die "could not install aiosmtpd"
  fi
  say "SMTP server on 127.0.0.1:$port; mail lands in local/.data/mail/new/"
  "$venv/bin/python" -m aiosmtpd -n -l "127.0.0.1:$port" \
    -c aiosmtpd.handlers.Mailbox "$DATA/mail" >"$DATA/smtp.log" 2>&1 &
  LATCHKEY_SMTP_PID=$!
  for _ in $(seq 50); do
    (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return
    sleep 0.1
  done
  die "the SMTP server did not start; see local/.data/smtp.log"
}

# The maintenance loop (target/debug/maintenance --loop): delivers the outbox within a
# second or two and deletes what expired. $1: its log file.
start_maintenance() {
  say "maintenance loop delivering mail via ${SMTP_URL:-smtp://127.0.0.1:1025} (log: ${1#"$ROOT/"})"
  "$ROOT/target/debug/maintenance" --loop >"$1" 2>&1 &
  LATCHKEY_MAINTENANCE_PID=$!
}

# Stops what start_smtp and start_maintenance started.
stop_mail() {
  [[ -n ${LATCHKEY_MAINTENANCE_PID:-} ]] && kill "$LATCHKEY_MAINTENANCE_PID" 2>/dev/null
  [[ -n ${LATCHKEY_SMTP_PID:-} ]] && kill "$LATCHKEY_SMTP_PID" 2>/dev/null
  return 0
}

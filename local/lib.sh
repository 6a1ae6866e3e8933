# Shared by local/serve.sh and local/test.sh: prerequisites, configuration, Postgres,
# Python tools, building and migrating. Source it from the repository root; functions only.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOCAL="$ROOT/local"
DATA="$LOCAL/.data"
# Python tools (cargo-lambda, schemathesis, ...) live in this virtualenv (ignored by git),
# never in a system-wide site-packages (PEP 668 forbids that on current Debian, Ubuntu
# and Homebrew Pythons).
VENV="$LOCAL/.venv"
# Pinned versions of the Python tools; .ci/template-checks pins cargo-lambda the same.
CARGO_LAMBDA_VERSION=1.9.2
SCHEMATHESIS_VERSION=4.32.5
OPENAPI_PYTHON_CLIENT_VERSION=0.29.1
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0

say() { printf '\033[1m[latchkey]\033[0m %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# Checks what cannot be installed for you, with the fix in the message. Postgres (a
# Docker engine, or the Postgres binaries) is checked when it is started.
require_prerequisites() {
  command -v cargo >/dev/null 2>&1 \
    || die "cargo is not on PATH: install Rust with rustup (https://rustup.rs), then open a new shell"
  command -v curl >/dev/null 2>&1 || die "curl is not on PATH: install it (e.g. apt-get install curl)"
  require_python
}

# python3 >= 3.11 (the scripts read Cargo.toml with tomllib, new in 3.11) with venv.
require_python() {
  command -v python3 >/dev/null 2>&1 \
    || die "python3 is not on PATH: install Python 3.11 or newer"
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || die "python3 is $(python3 -c 'import platform; print(platform.python_version())'); Latchkey's scripts need Python 3.11 or newer (for tomllib)"
}

# Creates local/.venv on first use. `pip install` goes there, so no system Python is
# touched and no root is needed.
ensure_venv() {
  [[ -x $VENV/bin/python ]] && return
  require_python
  say "creating the Python virtualenv local/.venv (for cargo-lambda and schemathesis)"
  python3 -m venv "$VENV" >&2 || {
    rm -rf "$VENV"
    die "python3 -m venv failed: install the venv module (Debian/Ubuntu: apt-get install python3-venv)"
  }
}

# venv_install PACKAGE VERSION [COMMAND]: PACKAGE==VERSION in local/.venv unless already
# there; its commands are then on PATH.
venv_install() {
  local package=$1 version=$2 command=${3:-$1}
  ensure_venv
  export PATH="$VENV/bin:$PATH"
  if [[ -x $VENV/bin/$command ]] && "$VENV/bin/python" -c \
      'import sys, importlib.metadata as m; sys.exit(m.version(sys.argv[1]) != sys.argv[2])' \
      "$package" "$version" 2>/dev/null; then
    return
  fi
  say "installing $package $version from PyPI into local/.venv"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$package==$version" >&2 \
    || die "pip could not install $package $version into local/.venv (network? see the output above)"
  hash -r
}

random_secret() { python3 -c 'import secrets; print(secrets.token_urlsafe(48))'; }

# Loads local/.env, creating it from .env.example with random secrets on first use.
# Variables already set in the environment win over the file.
load_env() {
  local env_file="$LOCAL/.env"
  if [[ ! -f $env_file ]]; then
    say "creating local/.env with generated secrets"
    sed -e "s|^JWT_SECRET=$|JWT_SECRET=$(random_secret)|" \
        -e "s|^ADMIN_PASSWORD=$|ADMIN_PASSWORD=$(random_secret)|" \
        -e "s|^MFA_ENCRYPTION_KEY=$|MFA_ENCRYPTION_KEY=$(random_secret)|" \
        "$LOCAL/.env.example" > "$env_file"
    chmod 600 "$env_file"
  fi
  # A local/.env from before the second factor: give it its key.
  if ! grep -q '^MFA_ENCRYPTION_KEY=.' "$env_file"; then
    say "adding a generated MFA_ENCRYPTION_KEY to local/.env"
    sed -i '/^MFA_ENCRYPTION_KEY=$/d' "$env_file"
    printf 'MFA_ENCRYPTION_KEY=%s\n' "$(random_secret)" >> "$env_file"
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
# An existing DATABASE_URL is used as it is (the host then needs psql for test.sh).
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
  # Two roles, as in production: latchkey owns the schema (migrate), the functions
  # connect as latchkey_api, which migrate keeps to row rights (as_api_role).
  export LATCHKEY_LOCAL_API_ROLE=latchkey_api
  export LATCHKEY_PG_ADMIN_URL="postgres://postgres@127.0.0.1:$port/postgres"
  pg_psql "$LATCHKEY_PG_ADMIN_URL" -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT 'CREATE ROLE latchkey LOGIN PASSWORD ''latchkey'' CREATEDB CREATEROLE'
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'latchkey') \gexec
ALTER ROLE latchkey CREATEDB CREATEROLE;
SELECT 'CREATE DATABASE latchkey OWNER latchkey'
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'latchkey') \gexec
SQL
}

# pg_psql URL [ARGS...]: psql against URL. With the Postgres container it runs inside the
# container (URL's 127.0.0.1:<published port> becomes the container's own 5432), so the
# Docker path needs no Postgres client on the host.
pg_psql() {
  local url=$1
  shift
  if [[ -n ${LATCHKEY_PG_CONTAINER:-} ]]; then
    docker exec -i "$LATCHKEY_PG_CONTAINER" psql \
      -d "${url/@127.0.0.1:${LATCHKEY_PG_CONTAINER_PORT}\//@127.0.0.1:5432/}" "$@"
  else
    command -v psql >/dev/null 2>&1 \
      || die "psql is not on PATH: install the Postgres client (Debian/Ubuntu: apt-get install postgresql-client; macOS: brew install libpq)"
    psql -d "$url" "$@"
  fi
}

# A postgres:15 container per port, named latchkey-postgres-<port>, publishing 5432 on
# 127.0.0.1:<port> only. Readiness is asked inside the container over TCP: the image's
# first-start initialisation runs a temporary server on the Unix socket only, so a TCP
# answer means the real server is up.
start_postgres_container() {
  local port=$1 name="latchkey-postgres-$1"
  if ! docker ps --format '{{.Names}}' | grep -qx "$name"; then
    docker rm -f "$name" >/dev/null 2>&1 || true
    say "starting Postgres 15 in the container $name on 127.0.0.1:$port"
    docker run -d --name "$name" -p "127.0.0.1:$port:5432" \
      -e POSTGRES_HOST_AUTH_METHOD=trust postgres:15 >/dev/null \
      || die "docker run failed; is 127.0.0.1:$port free? (LOCAL_PG_PORT chooses another port)"
  fi
  export LATCHKEY_PG_CONTAINER=$name LATCHKEY_PG_CONTAINER_PORT=$port
  for _ in $(seq 120); do
    docker exec "$name" pg_isready -q -h 127.0.0.1 -p 5432 -U postgres && return
    sleep 0.5
  done
  die "the Postgres container $name did not become ready (docker logs $name)"
}

# The Postgres binaries: on PATH, else Debian/Ubuntu's versioned directory.
find_postgres_binaries() {
  command -v initdb >/dev/null 2>&1 && return
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [[ -n $dir && -x $dir/initdb ]]; then
    export PATH="$dir:$PATH"
    return
  fi
  die "no Postgres binaries (initdb, pg_ctl, psql) on PATH or in /usr/lib/postgresql/*/bin: install Postgres 15 or newer (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@15); serve.sh and test.sh can use a running Docker engine or DATABASE_URL instead"
}

# A throwaway cluster from the Postgres binaries on PATH, under local/.data (ignored).
start_postgres_cluster() {
  local port=$1 dir="$DATA/pg"
  local as=()
  find_postgres_binaries
  command -v pg_isready >/dev/null 2>&1 && command -v psql >/dev/null 2>&1 \
    || die "initdb is there but psql or pg_isready is not: install the Postgres client programs too (Debian/Ubuntu: apt-get install postgresql-client)"
  if [[ $(id -u) == 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    as=(runuser -u postgres --)
  fi
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

# LOCAL_POOLER=pgbouncer: PgBouncer in transaction-pool mode on
# 127.0.0.1:${LOCAL_POOLER_PORT:-16432} in front of the Postgres of DATABASE_URL, every
# database of it reachable by name (a wildcard entry), so that the code under test shares
# server connections as it would behind RDS Proxy or a production PgBouncer. Debian's
# package is installed when missing (as root; otherwise it says what to install). Config,
# log and pid file live in local/.data/pgbouncer. Exports LATCHKEY_POOLER_URL (DATABASE_URL
# through the pooler); what needs a session (migrations, CREATE DATABASE, psql) keeps the
# direct DATABASE_URL. Without LOCAL_POOLER, or with LOCAL_POOLER=none, it does nothing.
# LOCAL_POOLER_POOL_SIZE: server connections per database and user (default 20);
# LOCAL_POOLER_DIR: where its files live (default local/.data/pgbouncer).
start_pooler() {
  case ${LOCAL_POOLER:-none} in
    none) return 0 ;;
    pgbouncer) ;;
    *) die "LOCAL_POOLER=$LOCAL_POOLER: the pooler can be pgbouncer or none" ;;
  esac
  local port=${LOCAL_POOLER_PORT:-16432} dir=${LOCAL_POOLER_DIR:-$DATA/pgbouncer} as=() target host pg_port user password
  if ! command -v pgbouncer >/dev/null 2>&1 && [[ ! -x /usr/sbin/pgbouncer ]]; then
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
      say "installing pgbouncer (Debian's package)"
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null \
        || die "apt-get install pgbouncer failed"
    else
      die "LOCAL_POOLER=pgbouncer needs pgbouncer on PATH or in /usr/sbin (Debian/Ubuntu: apt-get install pgbouncer; macOS: brew install pgbouncer)"
    fi
  fi
  local bin
  bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
  # Where DATABASE_URL points: host and port of the real server.
  target=$(python3 - "$DATABASE_URL" <<'PY'
import sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
print(url.hostname or "127.0.0.1", url.port or 5432, url.username or "", urllib.parse.unquote(url.password or ""))
PY
)
  read -r host pg_port user password <<<"$target"
  # PgBouncer refuses to run as root.
  if [[ $(id -u) == 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    as=(runuser -u postgres --)
  fi
  mkdir -p "$dir"
  printf '"%s" "%s"\n' "$user" "$password" >"$dir/userlist.txt"
  [[ -z ${LATCHKEY_LOCAL_API_ROLE:-} ]] \
    || printf '"%s" "%s"\n' "$LATCHKEY_LOCAL_API_ROLE" "$LATCHKEY_LOCAL_API_ROLE" >>"$dir/userlist.txt"
  cat >"$dir/pgbouncer.ini" <<INI
[databases]
; Any database name (the handler tests create one per test) on the real server.
* = host=$host port=$pg_port

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
pool_mode = transaction
; The pooler authenticates nobody (it is on the loopback), and logs in to Postgres as the
; client's user with the password of userlist.txt.
auth_type = trust
auth_file = $dir/userlist.txt
default_pool_size = ${LOCAL_POOLER_POOL_SIZE:-20}
max_client_conn = 2000
; Hundreds of short-lived test databases: give their server connections back quickly.
server_idle_timeout = 5
autodb_idle_timeout = 30
logfile = $dir/pgbouncer.log
pidfile = $dir/pgbouncer.pid
INI
  [[ ${#as[@]} -gt 0 ]] && chown -R postgres "$dir"
  if [[ -f $dir/pgbouncer.pid ]] && kill -0 "$(cat "$dir/pgbouncer.pid")" 2>/dev/null; then
    say "PgBouncer already running on 127.0.0.1:$port; reloading its configuration"
    kill -HUP "$(cat "$dir/pgbouncer.pid")"
  else
    (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null \
      && die "something already listens on 127.0.0.1:$port; stop it or set LOCAL_POOLER_PORT"
    say "starting PgBouncer (transaction pooling) on 127.0.0.1:$port in front of $host:$pg_port"
    "${as[@]}" "$bin" -d -q "$dir/pgbouncer.ini" || die "PgBouncer did not start; see $dir/pgbouncer.log"
    export LATCHKEY_STARTED_POOLER=1
  fi
  for _ in $(seq 50); do
    (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  LATCHKEY_POOLER_URL=$(python3 - "$DATABASE_URL" "$port" <<'PY'
import sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
netloc = url.netloc.rsplit(":", 1)[0] if url.port else url.netloc
print(urllib.parse.urlunsplit(url._replace(netloc=f"{netloc}:{sys.argv[2]}")))
PY
)
  export LATCHKEY_POOLER_URL
}

# Stops the PgBouncer that start_pooler started.
stop_pooler() {
  local pidfile=${LOCAL_POOLER_DIR:-$DATA/pgbouncer}/pgbouncer.pid
  [[ ${LATCHKEY_STARTED_POOLER:-} == 1 && -f $pidfile ]] || return 0
  kill -INT "$(cat "$pidfile")" 2>/dev/null || true
}

# cargo-lambda: the one on PATH if there is one (cargo install, brew, pipx), else the
# pinned one from PyPI in local/.venv.
ensure_cargo_lambda() {
  command -v cargo-lambda >/dev/null 2>&1 && return
  venv_install cargo-lambda "$CARGO_LAMBDA_VERSION"
  command -v cargo-lambda >/dev/null 2>&1 || die "cargo-lambda is not on PATH after installing it into local/.venv"
}

# Every function crate: what the router table serves.
function_packages() {
  local dir args=()
  for dir in "$ROOT"/functions/*/; do args+=(-p "$(basename "$dir")"); done
  printf '%s\n' "${args[@]}"
}

# Builds the functions exactly as `cargo lambda watch` will run them, so that no request
# waits for a compile. Watch starts a function with `cargo run --bin <name>` from the
# workspace root, which resolves features across every workspace member; `cargo build
# --bin ...` resolves them the same way (`-p <package>` would resolve one package's
# features and leave artifacts that `cargo run` rebuilds at the first request).
build_functions() {
  say "building the functions"
  local dir bins=()
  for dir in "$ROOT"/functions/*/; do bins+=(--bin "$(basename "$dir")"); done
  (cd "$ROOT" && cargo build --quiet "${bins[@]}")
}

run_migrations() {
  say "applying migrations"
  (cd "$ROOT" && ./target/debug/migrate)
}

# with_user URL USER PASSWORD: URL with another user and password.
with_user() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
host = url.hostname + (f":{url.port}" if url.port else "")
userinfo = urllib.parse.quote(sys.argv[2], safe="") + ":" + urllib.parse.quote(sys.argv[3], safe="")
print(urllib.parse.urlunsplit(url._replace(netloc=f"{userinfo}@{host}")))
PY
}

# Migrates as DATABASE_URL's role (the schema's owner) and, with the Postgres these
# scripts manage, has migrate provision the functions' own role (API_DATABASE_URL, row
# rights only, as docs/deploying.md describes for production); then DATABASE_URL is that
# role's, for everything started afterwards. A DATABASE_URL given from outside is used as
# it is, for migrating and serving alike.
migrate_and_use_api_role() {
  if [[ -z ${LATCHKEY_LOCAL_API_ROLE:-} ]]; then
    run_migrations
    return
  fi
  API_DATABASE_URL=$(with_user "$DATABASE_URL" "$LATCHKEY_LOCAL_API_ROLE" "$LATCHKEY_LOCAL_API_ROLE") \
    run_migrations
  DATABASE_URL=$(with_user "$DATABASE_URL" "$LATCHKEY_LOCAL_API_ROLE" "$LATCHKEY_LOCAL_API_ROLE")
  say "the functions connect as $LATCHKEY_LOCAL_API_ROLE (row rights only)"
}

# Serves the API through `cargo lambda watch` with the workspace router table, for as long
# as it runs. $1: port; remaining arguments go to cargo lambda watch.
#
# No `--timeout`: cargo-lambda applies it to its Runtime API as well, so a function idle
# for that long gets a 408 to its long poll for the next event, and lambda_runtime panics
# on it (docs/local-stack-idle-timeout.md). Without it a request waits for its answer,
# however long a first compile takes.
#
# Supervised: watch does not start a function again once its process has died (a panic,
# a start-up error such as a missing variable, a kill); every later request to it would
# wait forever. So when watch reports a dead function, this says so loudly, with the lines
# the function printed above it, and restarts watch: the next request starts it again.
watch() {
  local port=$1; shift
  local fifo line died reloaded pid overflowed=
  fifo=$(mktemp -u "${TMPDIR:-/tmp}/latchkey-watch.XXXXXX")
  mkfifo "$fifo"
  trap '[[ -n ${pid:-} ]] && kill -TERM "$pid" 2>/dev/null; wait; rm -f "$fifo"; exit 0' INT TERM
  cd "$ROOT"
  while :; do
    cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$port" "$@" >"$fifo" 2>&1 &
    pid=$!
    died= reloaded=-100
    while IFS= read -r line; do
      printf '%s\n' "$line"
      # A hot reload (a source file changed) stops the old process, which watch then
      # reports as killed: a kill within 10 s of a reload is that, not a death.
      if [[ $line == *"outcome resolved outcome=Both(Stop, Start)"* ]]; then
        reloaded=$SECONDS
      elif [[ $line == *"cannot send event from fs watcher"* && -z $overflowed ]]; then
        # cargo-lambda's file watcher overflowed (a build or a database writing under the
        # repository): the function whose watcher it was still serves, but watch would no
        # longer notice its death. Say so once.
        overflowed=1
        printf '\n\033[1;33m[latchkey] cargo lambda watch lost track of a function process\033[0m (its file watcher overflowed).\n' >&2
        printf '[latchkey] It still serves; should a route hang later, restart the stack.\n\n' >&2
      elif [[ $line == *"command killed"* ]] && ((SECONDS - reloaded <= 10)); then
        continue
      elif [[ $line =~ command\ (exited|killed|stopped|ended\ by\ exception) ]]; then
        died=$line
        break
      fi
    done <"$fifo"
    if [[ -z $died ]]; then
      wait "$pid" || die "cargo lambda watch exited with status $?"
      rm -f "$fifo"
      return 0
    fi
    printf '\n\033[1;31m[latchkey] A FUNCTION PROCESS DIED\033[0m: %s\n' "$died" >&2
    printf '[latchkey] Why: see the lines above (its panic or start-up error). Restarting the local stack;\n' >&2
    printf '[latchkey] the next request to that route starts the function again.\n\n' >&2
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
  done
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

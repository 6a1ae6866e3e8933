#!/usr/bin/env bash
# The benchmark (BENCHMARKS.md), one command:
#
#   local/bench.sh            every function, side by side with the Django peer (~15 min):
#                             size, init, cold start, warm latency and memory, the latency
#                             floor (hello + a raw database round trip), login against raw
#                             scrypt, round trips, get-me and refresh at 8 and 32 concurrent
#                             instances against the peer at 8 and 32 concurrent clients,
#                             the storm; writes SVG charts and copies them to docs/bench/
#   local/bench.sh --smoke    get-me, refresh and login, a few hundred invocations, the
#                             floor, 8 concurrent instances, no peer, nothing enforced:
#                             proves the harness works (CI runs it; built without LTO,
#                             reusing .ci/template-checks' builds; charts in target/bench
#                             only)
#   local/bench.sh --storm    the connection storm alone (~2 min; built as --smoke builds):
#                             200 instances of get-me, refresh and login at once against
#                             Postgres, directly, then through PgBouncer (full runs end with it)
#
# It builds every function exactly as SAM's rust-cargolambda build does for x86_64: in the
# function's directory, `cargo lambda build --release --bin <function>` with the deploy
# profile, in target/sam (SAM_CARGO_TARGET_DIR to change), so the binaries are the ones a
# deploy's `sam build` ships. (.ci/template-checks builds in ~/.cache/latchkey/sam-target
# with a faster profile without LTO, so it never shares this directory.) The
# baselines `hello` and `scrypt-rate` (tests/bench/baseline) are built the same way. It
# zips each `bootstrap` as SAM does, starts a throwaway Postgres with pg_stat_statements
# (local/.data/bench-pg on 127.0.0.1:$BENCH_PG_PORT, default 15442), creates fresh
# databases, migrates with the release `migrate`, then runs the harness (tests/bench,
# `latchkey-bench`), which prints the report and writes it to target/bench/report-*.md,
# with its charts (latency.svg, throughput.svg, rss.svg) beside it; a full run also copies
# the charts to docs/bench/, where BENCHMARKS.md shows them.
#
# The benchmark's Postgres runs with max_connections=$BENCH_PG_MAX_CONNECTIONS (default 50)
# and, except in the smoke run, a PgBouncer in transaction mode in front of it
# (local/lib.sh start_pooler; 127.0.0.1:$BENCH_POOLER_PORT, default 16442, server pool
# $BENCH_POOLER_POOL_SIZE, default 20) for the storm's second run.
#
# Extra arguments go to the harness: --init N, --cold N, --warm N, --logins N, --peer-requests N,
# --peer-logins N, --fixed-trace-id (diagnostic: one X-Ray trace id for every invocation,
# see BENCHMARKS.md). Environment: BENCH_PG_PORT, BENCH_PEER_PORT (18100), PEER_DIR (the
# peer; default tests/bench/peer, set up by its setup.sh), BENCH_KEEP_PG=1 (leave Postgres
# running).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

SMOKE=0
STORM=0
HARNESS_ARGS=()
for arg in "$@"; do
  case $arg in
    --smoke) SMOKE=1; HARNESS_ARGS+=(--smoke) ;;
    --storm) STORM=1; HARNESS_ARGS+=(--storm) ;;
    -h | --help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) HARNESS_ARGS+=("$arg") ;;
  esac
done

# The smoke run checks the harness, never figures: it builds as .ci/template-checks does
# (no whole-program optimisation) into that script's target directory, so in CI, which
# runs it first, the function binaries are already built. The storm alone builds the same
# way: it measures connections, not speed.
if [[ $SMOKE == 1 || $STORM == 1 ]]; then
  export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
  SAM_CARGO_TARGET_DIR=${SAM_CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/latchkey/sam-target}
fi

PG_PORT=${BENCH_PG_PORT:-15442}
PG_DIR="$DATA/bench-pg"
PEER_DIR=${PEER_DIR:-$ROOT/tests/bench/peer}
OUT="$ROOT/target/bench"
APP_PASSWORD=latchkey-bench
AS_PG=()
if [[ $(id -u) == 0 ]]; then
  AS_PG=(runuser -u postgres --)
fi

# What SAM would build: every function crate; the smoke run needs fewer. Each line:
# "<package directory> <binary>".
binaries() {
  local dir
  if [[ $SMOKE == 1 || $STORM == 1 ]]; then
    for name in get-me refresh login register migrate; do echo "functions/$name $name"; done
  else
    for dir in "$ROOT"/functions/*/; do
      [[ -f $dir/Cargo.toml ]] && echo "functions/$(basename "$dir") $(basename "$dir")"
    done
  fi
  printf '%s\n' "tests/bench/baseline hello" "tests/bench/baseline scrypt-rate"
}

# One `cargo lambda build --release --bin <name>` per binary from its package directory:
# from the workspace root, cargo would unify dependency features across every member
# (the test crates included) and build binaries SAM does not ship.
build() {
  ensure_cargo_lambda
  export CARGO_TARGET_DIR="${SAM_CARGO_TARGET_DIR:-$ROOT/target/sam}"
  LAMBDA_DIR="$CARGO_TARGET_DIR/lambda"
  local line dir name started=$SECONDS
  mapfile -t lines < <(binaries)
  BINARIES=()
  say "building ${#lines[@]} binaries: (cd <package> && cargo lambda build --release --bin <name>), CARGO_TARGET_DIR=${CARGO_TARGET_DIR#"$ROOT"/}"
  for line in "${lines[@]}"; do
    read -r dir name <<<"$line"
    (cd "$ROOT/$dir" && cargo lambda build --release --quiet --bin "$name") \
      || die "cargo lambda build failed for $name"
    BINARIES+=("$name")
  done
  BUILD_COMMAND="(cd <package dir> && cargo lambda build --release --bin <name>) for each of ${#BINARIES[@]} binaries, CARGO_TARGET_DIR=${CARGO_TARGET_DIR#"$ROOT"/}"
  say "built in $((SECONDS - started)) s; building the harness (cargo build --release -p latchkey-bench)"
  (unset CARGO_TARGET_DIR; cargo build --release --quiet -p latchkey-bench)
}

# Each bootstrap alone in a deflated zip, as SAM packages a function.
zip_binaries() {
  rm -rf "$OUT/zip" && mkdir -p "$OUT/zip"
  python3 - "$LAMBDA_DIR" "$OUT/zip" "${BINARIES[@]}" <<'PY'
import os, sys, zipfile
source, target, names = sys.argv[1], sys.argv[2], sys.argv[3:]
for name in names:
    with zipfile.ZipFile(os.path.join(target, name + ".zip"), "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(os.path.join(source, name, "bootstrap"), "bootstrap")
PY
}

# A cluster of our own: pg_stat_statements must be preloaded, and the dev cluster on
# 15432 belongs to everyone else. Stock durability (fsync on). The app role signs in with
# SCRAM like on RDS; the superuser (setup, pg_stat_statements) by trust on loopback.
start_bench_postgres() {
  # Its own cluster (pg_stat_statements preloaded), so the Postgres binaries are needed
  # even where a Docker engine runs.
  find_postgres_binaries
  if [[ ${#AS_PG[@]} -gt 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  fi
  mkdir -p "$DATA" && chmod 755 "$DATA"
  if [[ ! -f $PG_DIR/PG_VERSION ]]; then
    say "creating the benchmark's Postgres cluster in local/.data/bench-pg"
    mkdir -p "$PG_DIR" && chmod 700 "$PG_DIR"
    [[ ${#AS_PG[@]} -gt 0 ]] && chown postgres "$PG_DIR"
    "${AS_PG[@]}" initdb -D "$PG_DIR" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    printf '%s\n' 'local all all trust' \
      'host all postgres 127.0.0.1/32 trust' \
      'host all all 127.0.0.1/32 scram-sha-256' > "$PG_DIR/pg_hba.conf"
    [[ ${#AS_PG[@]} -gt 0 ]] && chown postgres "$PG_DIR/pg_hba.conf"
  fi
  if pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; then
    [[ -f $PG_DIR/postmaster.pid ]] \
      || die "127.0.0.1:$PG_PORT is taken by another server; set BENCH_PG_PORT"
    say "reusing the benchmark's Postgres on 127.0.0.1:$PG_PORT"
    return
  fi
  say "starting the benchmark's Postgres on 127.0.0.1:$PG_PORT (pg_stat_statements)"
  "${AS_PG[@]}" pg_ctl -D "$PG_DIR" -l "$PG_DIR/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c shared_preload_libraries=pg_stat_statements -c max_connections=${BENCH_PG_MAX_CONNECTIONS:-50}" \
    start >/dev/null || die "Postgres did not start; see local/.data/bench-pg/server.log"
  STARTED_PG=1
}

stop_bench_postgres() {
  "${AS_PG[@]}" pg_ctl -D "$PG_DIR" -m fast stop >/dev/null 2>&1 || true
}

# The storm's pooler: start_pooler (local/lib.sh) with the benchmark's own port,
# directory and pool size, in front of the benchmark database.
start_bench_pooler() {
  BENCH_POOLER_POOL_SIZE=${BENCH_POOLER_POOL_SIZE:-20}
  DATABASE_URL=$BENCH_DATABASE_URL LOCAL_POOLER=pgbouncer LOCAL_POOLER_PORT=${BENCH_POOLER_PORT:-16442} \
    LOCAL_POOLER_DIR=$DATA/bench-pgbouncer LOCAL_POOLER_POOL_SIZE=$BENCH_POOLER_POOL_SIZE start_pooler
  HARNESS_ARGS+=(--pooler-url "$LATCHKEY_POOLER_URL" --pooler-pool-size "$BENCH_POOLER_POOL_SIZE")
}

stop_bench_services() {
  LOCAL_POOLER_DIR=$DATA/bench-pgbouncer stop_pooler
  if [[ ${STARTED_PG:-0} == 1 && ${BENCH_KEEP_PG:-0} != 1 ]]; then
    stop_bench_postgres
  fi
}

fresh_databases() {
  ADMIN_URL="postgres://postgres@127.0.0.1:$PG_PORT/postgres"
  say "fresh databases latchkey_bench and peer_bench"
  psql -q "$ADMIN_URL" -v ON_ERROR_STOP=1 >/dev/null <<SQL
SELECT 'CREATE ROLE latchkey LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'latchkey') \gexec
ALTER ROLE latchkey PASSWORD '$APP_PASSWORD';
DROP DATABASE IF EXISTS latchkey_bench WITH (FORCE);
CREATE DATABASE latchkey_bench OWNER latchkey;
DROP DATABASE IF EXISTS peer_bench WITH (FORCE);
CREATE DATABASE peer_bench OWNER latchkey;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
SQL
  BENCH_DATABASE_URL="postgres://latchkey:$APP_PASSWORD@127.0.0.1:$PG_PORT/latchkey_bench"
  PEER_URL="postgres://latchkey:$APP_PASSWORD@127.0.0.1:$PG_PORT/peer_bench"
}

migrate() {
  say "migrating with the release migrate"
  env -u AWS_LAMBDA_RUNTIME_API APP_SETTINGS=production DATABASE_URL="$BENCH_DATABASE_URL" \
    JWT_ISSUER=https://auth.bench.invalid JWT_SECRET="$(random_secret)" MFA_ENCRYPTION_KEY="$(random_secret)" \
    APP_URL=https://app.bench.invalid \
    "$LAMBDA_DIR/migrate/bootstrap" >"$OUT/logs/migrate.log" 2>&1 \
    || { cat "$OUT/logs/migrate.log" >&2; die "migrate failed"; }
}

mkdir -p "$OUT/logs"
rm -f "$OUT"/logs/*.log
build
zip_binaries
trap stop_bench_services EXIT
start_bench_postgres
fresh_databases
migrate
if [[ $SMOKE == 0 ]]; then
  start_bench_pooler
fi

PEER_ARGS=()
if [[ $SMOKE == 0 && $STORM == 0 ]]; then
  if [[ -x $PEER_DIR/run.sh ]]; then
    # Its venv first, so that creating it is never part of the peer's timed start.
    if [[ -x $PEER_DIR/setup.sh ]]; then
      "$PEER_DIR/setup.sh" || die "the peer's setup.sh failed"
    fi
    PEER_ARGS=(--peer-dir "$(cd "$PEER_DIR" && pwd)" --peer-database-url "$PEER_URL"
      --peer-port "${BENCH_PEER_PORT:-18100}")
  else
    say "no peer at $PEER_DIR (set PEER_DIR): running without it"
  fi
fi
say "running the harness (function logs: target/bench/logs/)"
"$ROOT/target/release/latchkey-bench" --root "$ROOT" --lambda-dir "$LAMBDA_DIR" \
  --database-url "$BENCH_DATABASE_URL" --admin-url "$ADMIN_URL" \
  --build-command "$BUILD_COMMAND" "${PEER_ARGS[@]}" "${HARNESS_ARGS[@]}"

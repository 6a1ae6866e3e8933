#!/usr/bin/env bash
# Runs every test: unit, handler (in-process, a fresh Postgres database per test) and
# end-to-end (HTTP through `cargo lambda watch` on 127.0.0.1:${E2E_PORT:-8000}). Starts
# what it needs (Postgres, cargo-lambda, the local stack) and stops what it started.
# Extra arguments go to `cargo test`, e.g. `local/test.sh -- refresh`.
# LOCAL_POOLER=pgbouncer runs the code under test (handler tests' apps, the stack's
# functions) through PgBouncer in transaction-pool mode; migrations, database creation and
# the tests' own SQL stay on direct connections.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_prerequisites

# Test settings win over local/.env: cheap scrypt, testing defaults.
export APP_SETTINGS=testing SCRYPT_LOG_N=${TEST_SCRYPT_LOG_N:-10} RUST_LOG=${RUST_LOG:-info}
unset ADMIN_LOGIN ADMIN_PASSWORD
load_env
unset ADMIN_LOGIN ADMIN_PASSWORD SMTP_URL
ensure_postgres
start_pooler
ensure_cargo_lambda

port=${E2E_PORT:-8000}
if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then
  die "something already listens on 127.0.0.1:$port (local/serve.sh?); stop it or set E2E_PORT"
fi

app_url=$DATABASE_URL
e2e_db="latchkey_e2e_$$"
watch_pid=
cleanup() {
  stop_mail
  if [[ -n $watch_pid ]]; then
    # The stack: watch's session and every process descended from it (the functions run
    # in sessions of their own). Listed before the TERM, which orphans them. What ignores
    # the TERM (seen: a watch started again by the restart check) gets KILL.
    local pids
    pids=$(stack_pids)
    kill -TERM -- "-$watch_pid" 2>/dev/null && sleep 2
    [[ -z $pids ]] || kill -KILL $pids 2>/dev/null || true
  fi
  pg_psql "$app_url" -q -c "DROP DATABASE IF EXISTS $e2e_db WITH (FORCE)" >/dev/null 2>&1 || true
  stop_pooler
  [[ ${LATCHKEY_STARTED_PG:-} == 1 ]] && stop_postgres_cluster
  return 0
}
trap cleanup EXIT

build_functions
say "building the tests"
(cd "$ROOT" && cargo test --workspace --no-run --quiet "$@" 2>&1 | grep -v '^ *Executable' >&2 || true)

pg_psql "$app_url" -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE $e2e_db" >/dev/null
export DATABASE_URL=$(database_url_for "$e2e_db")
# The end-to-end stack gets an admin the way a deployment does: bootstrapped by migrate.
export ADMIN_LOGIN=e2e-admin ADMIN_PASSWORD=$(random_secret)
export LATCHKEY_E2E_ADMIN_LOGIN=$ADMIN_LOGIN LATCHKEY_E2E_ADMIN_PASSWORD=$ADMIN_PASSWORD
migrate_and_use_api_role
if [[ -n ${LATCHKEY_POOLER_URL:-} ]]; then
  DATABASE_URL=$(DATABASE_URL=$LATCHKEY_POOLER_URL database_url_for "$e2e_db")
  [[ -z ${LATCHKEY_LOCAL_API_ROLE:-} ]] \
    || DATABASE_URL=$(with_user "$DATABASE_URL" "$LATCHKEY_LOCAL_API_ROLE" "$LATCHKEY_LOCAL_API_ROLE")
  say "the stack's functions connect through PgBouncer on 127.0.0.1:${LOCAL_POOLER_PORT:-16432}"
fi
start_smtp
start_maintenance "$ROOT/target/e2e-maintenance.log"

log="$ROOT/target/e2e-watch.log"
say "serving the stack for end-to-end tests on 127.0.0.1:$port (log: target/e2e-watch.log)"
# Served exactly as local/serve.sh serves it (the same `watch`, no timeout of its own), so
# the idle regression test in tests/e2e checks what a user runs.
setsid bash -c "source '$LOCAL/lib.sh'; watch $port --ignore-changes" >"$log" 2>&1 &
watch_pid=$!
for _ in $(seq 240); do
  curl -s -o /dev/null --max-time 30 "http://127.0.0.1:$port/health" && break
  kill -0 "$watch_pid" 2>/dev/null || { cat "$log" >&2; die "cargo lambda watch exited"; }
  sleep 0.5
done
# Start every function once, so that no test waits for a function process to come up.
warm_up() {
  while read -r method path; do
    curl -s -o /dev/null --max-time 900 -X "$method" "http://127.0.0.1:$port${path//\{id\}/0}" || true
  done < <(router_routes)
}

# Contract fuzzing: schemathesis generates requests from the served /openapi.json, as an
# authenticated user, and checks that no response is a 5xx or breaks the document
# (undocumented status, wrong content type, body off its schema). Positive mode: the
# emulator itself answers 500 to bodies that are not UTF-8 (API Gateway base64-encodes
# them), so malformed input is left to the fuzzers and handler tests. The logout routes
# are left out because they would revoke the token the run authenticates with.
contract_fuzz() {
  venv_install schemathesis "$SCHEMATHESIS_VERSION"
  local password token
  password=$(random_secret)
  token=$(curl -s -X POST "http://127.0.0.1:$port/auth/register" \
      -d "{\"login\": \"fuzz-$$\", \"password\": \"$password\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
  say "contract fuzzing with schemathesis (${FUZZ_EXAMPLES:-20} examples per operation)"
  schemathesis run "http://127.0.0.1:$port/openapi.json" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --header "Authorization: Bearer $token" \
    --mode positive --exclude-operation-id logout --exclude-operation-id logout_all \
    --max-examples "${FUZZ_EXAMPLES:-20}" --seed 20261122 --request-timeout 30 \
    --report junit --report-junit-path "$ROOT/target/schemathesis.xml" --no-color 2>&1 |
    tee "$ROOT/target/schemathesis.log" | tail -25
  return "${PIPESTATUS[0]}"
}

# A Python client generated from the committed openapi.json (openapi-python-client, in a
# venv of its own: its pins are not schemathesis'), used as a newcomer would, through its
# typed models only (tests/client/typed_client.py).
typed_client_check() {
  local venv="$DATA/client-venv" out="$ROOT/target/typed-client"
  if ! "$venv/bin/python" -c 'import sys, importlib.metadata as m; sys.exit(m.version("openapi-python-client") != sys.argv[1])' \
      "$OPENAPI_PYTHON_CLIENT_VERSION" 2>/dev/null; then
    say "installing openapi-python-client $OPENAPI_PYTHON_CLIENT_VERSION into local/.data/client-venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
      "openapi-python-client==$OPENAPI_PYTHON_CLIENT_VERSION" >&2 \
      || die "pip could not install openapi-python-client (network?)"
  fi
  rm -rf "$out"
  # It would format with ruff when present; without, it says so and generates all the same.
  "$venv/bin/openapi-python-client" generate --path "$ROOT/openapi.json" \
    --output-path "$out/latchkey_client" --meta none >"$ROOT/target/typed-client.log" 2>&1 \
    || { cat "$ROOT/target/typed-client.log" >&2; return 1; }
  PYTHONPATH="$out" "$venv/bin/python" "$ROOT/tests/client/typed_client.py" "http://127.0.0.1:$port"
}

# A function process that dies is started again: kill one, and its route must still
# answer, with the death announced in the stack's output.
restart_check() {
  local before after pid victims=()
  # Its health process must be running: start it, then find it among the processes this
  # stack's watch started (its descendants), never another checkout's.
  curl -s -o /dev/null --max-time 60 "http://127.0.0.1:$port/health" || true
  before=$(grep -c 'A FUNCTION PROCESS DIED' "$log" || true)
  local stack
  stack=" $(stack_pids | tr '\n' ' ') "
  for pid in $(pgrep -f "target/debug/health\$"); do
    [[ $stack == *" $pid "* ]] && victims+=("$pid")
  done
  if ((${#victims[@]} == 0)); then
    say "restart check: no health process of this stack to kill"
    restart_check_diagnostics
    return 1
  fi
  kill -KILL "${victims[@]}"
  # watch notices a process end at its next action, at most 3 s later (its throttle).
  for _ in $(seq 120); do
    after=$(grep -c 'A FUNCTION PROCESS DIED' "$log" || true)
    ((after > before)) && break
    sleep 0.5
  done
  if ((after <= before)); then
    say "restart check: the death of health (pid ${victims[*]}) was not announced in $log within 60 s"
    restart_check_diagnostics
    return 1
  fi
  if ! curl -sf -o /dev/null --retry 20 --retry-connrefused --retry-delay 1 --max-time 120 \
      "http://127.0.0.1:$port/health"; then
    say "restart check: /health did not answer after its function process was killed"
    restart_check_diagnostics
    return 1
  fi
  say "restart check: a killed function was announced and started again"
  echo "test result: ok. 1 passed; 0 failed (the local stack restarts a dead function)" >>"$results"
}

# The stack's processes: watch's and every one descended from it (the functions run in
# sessions of their own), never another checkout's.
stack_pids() {
  local pid
  for pid in $(ps -e -o pid=); do
    descends_from "$pid" "$watch_pid" 2>/dev/null && echo "$pid"
  done
  return 0
}

# True if process $1 is process $2 or one of its descendants.
descends_from() {
  local pid=$1
  while [[ -n $pid && $pid != 0 && $pid != 1 ]]; do
    [[ $pid == "$2" ]] && return 0
    pid=$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null) || return 1
  done
  return 1
}

restart_check_diagnostics() {
  say "the stack's processes:"
  ps -o pid,ppid,sid,stat,etime,args --forest -g "$watch_pid" >&2 || true
  say "the health processes of this machine:"
  ps -o pid,ppid,sid,stat,etime,args -p "$(pgrep -d, -f 'target/debug/health$' || echo 1)" >&2 || true
  say "the last 40 lines of $log:"
  tail -n 40 "$log" | cut -c1-240 >&2
}

say "running the tests"
export LATCHKEY_TEST_DATABASE_URL=$app_url LATCHKEY_E2E_URL="http://127.0.0.1:$port"
export LATCHKEY_TEST_APP_DATABASE_URL=${LATCHKEY_POOLER_URL:-$app_url}
export LATCHKEY_E2E_LOG=$log LATCHKEY_E2E_SECRETS_FILE="$ROOT/target/e2e-secrets.txt"
rm -f "$LATCHKEY_E2E_SECRETS_FILE"
cd "$ROOT"
results="$ROOT/target/test-output.log"
: >"$results"
status=0
if [[ $# == 0 ]]; then
  # First of all, while only health runs: starting every function (each a `cargo run`
  # that writes under target/), the test databases and the builds write so much under the
  # repository that watch's file watchers overflow ("cannot send event from fs watcher:
  # sending into a full channel"), and from then on watch no longer notices a function's
  # death (docs/local-stack-idle-timeout.md).
  restart_check || status=$?
fi
warm_up
cargo test --workspace --no-fail-fast "$@" 2>&1 | tee -a "$results" || status=$?
if [[ $status == 0 && $# == 0 ]]; then
  contract_fuzz || status=$?
  typed_client_check || status=$?
  # Only now that every request is done: no password or token may be in the logs.
  cargo test -p latchkey-tests --test log_secrets -- --ignored 2>&1 | tee -a "$results" || status=$?
fi
# cargo prints one summary per test binary (the last is often an empty doc-test run);
# close with the total.
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "\nall tests: %d passed, %d failed\n", p, f }' "$results"
exit "$status"

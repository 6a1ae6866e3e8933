#!/usr/bin/env bash
# Serves the Latchkey API on http://127.0.0.1:8000 (PORT to change): configuration from
# local/.env (created with random secrets on first run), Postgres (DATABASE_URL, else a
# container or a throwaway cluster), migrations and the admin, then `cargo lambda watch`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_prerequisites

load_env
ensure_postgres
ensure_cargo_lambda
build_functions
migrate_and_use_api_role
start_smtp
start_maintenance "$DATA/maintenance.log"
# watch runs in a subshell (it execs), so that this script outlives it and stops the mail
# helpers when it ends.
trap stop_mail EXIT
say "serving on http://127.0.0.1:${PORT:-8000} (admin login: ${ADMIN_LOGIN:-none}; password in local/.env)"
(watch "${PORT:-8000}")

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
run_migrations
say "serving on http://127.0.0.1:${PORT:-8000} (admin login: ${ADMIN_LOGIN:-none}; password in local/.env)"
watch "${PORT:-8000}"

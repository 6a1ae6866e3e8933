#!/usr/bin/env bash
# openapi.json at the repository root: the OpenAPI 3.1 document of every route, generated
# from the code (the `#[utoipa::path]` beside each handler) and committed.
#
#   local/openapi.sh          rewrite openapi.json from the code, then validate it
#   local/openapi.sh --check  fail if the committed file differs from what the code
#                             generates, then validate it (CI)
#
# Generating is the test tests/consistency/committed_openapi.rs with
# LATCHKEY_WRITE_OPENAPI=1; without it the same test fails on drift (local/test.sh runs it
# too). Validation: openapi-spec-validator (PyPI, pinned, in local/.venv) against the
# OpenAPI 3.1 JSON Schema. No database needed.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
require_prerequisites
cd "$ROOT"

case ${1:-} in
  "")
    say "writing openapi.json from the code"
    LATCHKEY_WRITE_OPENAPI=1 cargo test --quiet -p latchkey-tests --test consistency \
      -- committed_openapi >&2
    ;;
  --check)
    say "checking that openapi.json is what the code generates"
    cargo test --quiet -p latchkey-tests --test consistency -- committed_openapi >&2 \
      || die "openapi.json is stale: run local/openapi.sh and commit it"
    ;;
  -h | --help) sed -n '2,/^set -e/{/^set -e/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
  *) die "unknown argument $1 (see local/openapi.sh --help)" ;;
esac
venv_install openapi-spec-validator "$OPENAPI_SPEC_VALIDATOR_VERSION"
say "validating openapi.json against the OpenAPI 3.1 schema"
openapi-spec-validator openapi.json

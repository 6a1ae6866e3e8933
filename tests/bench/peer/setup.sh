#!/usr/bin/env bash
# setup.sh — the peer's Python environment: a venv (default: .venv next to this script,
# ignored by git; PEER_VENV to choose another) with requirements.txt installed from PyPI.
# Idempotent: does nothing when the venv exists and requirements.txt has not changed
# since it was made (it is recreated otherwise). run.sh calls it; local/bench.sh calls it
# before the benchmark so that the venv's creation is never part of a timed start.
#
# Needs Python >= 3.10 with the venv module (Debian/Ubuntu: apt-get install python3-venv).
# Env: PEER_VENV, PYTHON (default python3).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${PEER_VENV:-$HERE/.venv}"
PYTHON="${PYTHON:-python3}"

log() { printf '[setup.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

want="$(sha256sum "$HERE/requirements.txt" | cut -d' ' -f1)"
have=""
[ -f "$VENV/.requirements.sha256" ] && have="$(cat "$VENV/.requirements.sha256")"
if [ -x "$VENV/bin/python" ] && [ "$want" = "$have" ]; then
  exit 0
fi
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON is not on PATH: install Python 3.10 or newer"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
  || die "$PYTHON is too old: the peer needs Python 3.10 or newer (Django 5.2)"

if [ -e "$VENV" ]; then
  log "requirements.txt changed (or the venv is incomplete): recreating $VENV"
  rm -rf "$VENV"
fi
log "creating venv $VENV and installing requirements.txt (first run only, ~40 s)"
"$PYTHON" -m venv "$VENV" \
  || { rm -rf "$VENV"; die "$PYTHON -m venv failed: install the venv module (Debian/Ubuntu: apt-get install python3-venv)"; }
"$VENV/bin/pip" install --disable-pip-version-check -q -r "$HERE/requirements.txt" \
  || { rm -rf "$VENV"; die "pip could not install requirements.txt (network? see above)"; }
echo "$want" >"$VENV/.requirements.sha256"

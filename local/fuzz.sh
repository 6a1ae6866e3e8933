#!/usr/bin/env bash
# Runs every libFuzzer target in shared/fuzz for SECONDS each (default 60) and prints the
# executions and crashes of each. CI runs `local/fuzz.sh 20`; the figures in
# docs/security-model.md come from a longer run. cargo-fuzz needs nightly-only compiler flags: on a stable toolchain
# RUSTC_BOOTSTRAP=1 enables them for this build only.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
seconds=${1:-60}

if ! cargo fuzz --version >/dev/null 2>&1; then
  say "installing cargo-fuzz"
  cargo install --quiet --locked cargo-fuzz
fi

cd "$ROOT"
export RUSTC_BOOTSTRAP=1
say "building the fuzz targets (release, AddressSanitizer)"
cargo fuzz build --fuzz-dir shared/fuzz -O >/dev/null 2>&1 || cargo fuzz build --fuzz-dir shared/fuzz -O
failed=0
for target in $(cargo fuzz list --fuzz-dir shared/fuzz); do
  log="$ROOT/target/fuzz-$target.log"
  mkdir -p "$ROOT/target"
  if cargo fuzz run --fuzz-dir shared/fuzz -O "$target" -- -max_total_time="$seconds" >"$log" 2>&1; then
    runs=$(grep -oE '^Done [0-9]+ runs' "$log" | grep -oE '[0-9]+' || echo "?")
    say "fuzz $target: $runs executions in ${seconds}s, 0 crashes"
  else
    failed=$((failed + 1))
    say "fuzz $target: CRASH (see $log and shared/fuzz/artifacts/$target/)"
    tail -40 "$log" >&2
  fi
done
exit "$failed"

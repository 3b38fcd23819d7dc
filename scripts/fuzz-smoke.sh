#!/usr/bin/env bash
# A short fuzzing pass: every cargo-fuzz target for a few seconds on a scratch copy of its seed
# corpus (the committed seeds are never modified). Not part of CI; see fuzz/README.md.
# Usage: scripts/fuzz-smoke.sh [SECONDS_PER_TARGET]   (default 20; needs nightly and cargo-fuzz)
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds="${1:-20}"
command -v cargo-fuzz >/dev/null || { echo "error: cargo-fuzz is not installed (cargo install cargo-fuzz --locked)" >&2; exit 2; }

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

cargo +nightly fuzz build
status=0
for target in $(cargo +nightly fuzz list); do
  cp -r "corpus/$target" "$scratch/$target"
  if cargo +nightly fuzz run "$target" "$scratch/$target" -- \
      -max_total_time="$seconds" -jobs=1 -workers=1 -print_final_stats=1 >"$scratch/$target.log" 2>&1; then
    runs=$(grep -Eo 'number_of_executed_units: *[0-9]+' "$scratch/$target.log" | grep -Eo '[0-9]+' | tail -n 1)
    echo "ok    $target (${runs:-?} executions in ${seconds}s)"
  else
    echo "FAIL  $target; the crashing input is in fuzz/artifacts/$target/:"
    grep -E 'panicked|ERROR|SUMMARY' "$scratch/$target.log" | head -n 5
    status=1
  fi
done
rm -f fuzz-*.log
exit "$status"

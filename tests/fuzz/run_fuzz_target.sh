#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time on a temp copy of its seed corpus (the
# repository is never written). A crash, sanitizer finding, leak, timeout or failed invariant
# fails the run; the input that caused it is kept in ARTIFACT_DIR and printed in hex.
# Usage: run_fuzz_target.sh BINARY CORPUS_DIR SECONDS ARTIFACT_DIR
# $S3HC_FUZZ_SECONDS, when set, overrides SECONDS.
set -euo pipefail
binary=$1 corpus=$2 seconds=${S3HC_FUZZ_SECONDS:-$3} artifacts=$4

work=$(mktemp -d "${TMPDIR:-/tmp}/s3hc-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -R "$corpus" "$work/corpus"
mkdir -p "$artifacts"

touch "$work/started"
status=0
"$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$artifacts/" "$work/corpus" >"$work/log" 2>&1 || status=$?
if ((status != 0)); then
  cat "$work/log"
  find "$artifacts" -type f -newer "$work/started" | while read -r artifact; do
    echo "--- $artifact"
    od -A d -c "$artifact" | head -40
  done
  exit "$status"
fi
# The closing statistics: executions, speed, corpus size.
grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|Done )' "$work/log" || true
echo "corpus: $(ls "$work/corpus" | wc -l) inputs"

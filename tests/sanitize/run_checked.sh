#!/usr/bin/env bash
# Runs a command (a test) whose child processes are sanitizer-instrumented, with ASan and
# UBSan reports written to files in a temp directory instead of stderr; fails when the command
# fails or any report was written (a proxy that died of a finding, a leak found at exit), and
# prints the reports.
# Usage: run_checked.sh COMMAND [ARG...]
set -uo pipefail
reports=$(mktemp -d "${TMPDIR:-/tmp}/s3hc-sanitizer-reports.XXXXXX")
trap 'rm -rf "$reports"' EXIT
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$reports/asan"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$reports/ubsan"

"$@"
status=$?
shopt -s nullglob
found=("$reports"/*)
if ((${#found[@]})); then
  for report in "${found[@]}"; do
    echo "=== sanitizer report $(basename "$report")"
    cat "$report"
  done
  echo "run_checked: ${#found[@]} sanitizer report(s) written" >&2
  ((status == 0)) && status=1
fi
exit "$status"

#!/usr/bin/env bash
# One command: install what is missing, build, and run every test (unit and integration) with CTest,
# then the sanitizer stage (scripts/sanitize.sh; S3HC_SKIP_SANITIZE=1 skips it). Each stage's
# tests that fail among the parallel ones are run again alone (scripts/ctest_stage.sh).
set -euo pipefail
export S3HC_REQUIRE_TEST_PYTHON=1
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
S3HC_TEST_SUMMARY=$(mktemp)
export S3HC_TEST_SUMMARY
trap 'rm -f "$S3HC_TEST_SUMMARY"' EXIT
cd "$S3HC_BUILD_DIR"
status=0
bash "$S3HC_ROOT/scripts/ctest_stage.sh" main "$@" || status=$?
# Then the sanitizer stage: ASan + UBSan build, unit and chaos tests, bounded fuzzing.
if [[ "${S3HC_SKIP_SANITIZE:-0}" != 1 ]]; then
  bash "$S3HC_ROOT/scripts/sanitize.sh" || status=$?
fi
# A CI log is often read from its end: flaky and failed tests are told again here.
cat "$S3HC_TEST_SUMMARY"
exit "$status"

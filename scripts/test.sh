#!/usr/bin/env bash
# One command: install what is missing, build, and run every test (unit and integration) with CTest,
# then the sanitizer stage (scripts/sanitize.sh; S3HC_SKIP_SANITIZE=1 skips it).
set -euo pipefail
export S3HC_REQUIRE_TEST_PYTHON=1
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$S3HC_BUILD_DIR"
status=0
ctest --output-on-failure --timeout 900 -j "${S3HC_TEST_JOBS:-2}" "$@" || status=$?
main_status=$status
# Then the sanitizer stage: ASan + UBSan build, unit and chaos tests, bounded fuzzing.
if [[ "${S3HC_SKIP_SANITIZE:-0}" != 1 ]]; then
  bash "$S3HC_ROOT/scripts/sanitize.sh" || status=$?
fi
# A CI log is often read from its end: a failure of the main stage is told again here, with
# the failed tests run once more, alone, to tell a steady failure from one under load. The
# run fails either way.
if [[ "$main_status" != 0 ]]; then
  echo "test.sh: the main stage failed (ctest exit $main_status); failed tests:"
  cat Testing/Temporary/LastTestsFailed.log 2>/dev/null || true
  echo "test.sh: those tests once more, one at a time:"
  ctest --rerun-failed --output-on-failure --timeout 900 -j 1 || true
fi
exit "$status"

#!/usr/bin/env bash
# One command: install what is missing, build, and run every test (unit and integration) with CTest,
# then the sanitizer stage (scripts/sanitize.sh; S3HC_SKIP_SANITIZE=1 skips it).
set -euo pipefail
export S3HC_REQUIRE_TEST_PYTHON=1
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$S3HC_BUILD_DIR"
status=0
ctest --output-on-failure --timeout 900 -j "${S3HC_TEST_JOBS:-2}" "$@" || status=$?
# Then the sanitizer stage: ASan + UBSan build, unit and chaos tests, bounded fuzzing.
if [[ "${S3HC_SKIP_SANITIZE:-0}" != 1 ]]; then
  bash "$S3HC_ROOT/scripts/sanitize.sh" || status=$?
fi
exit "$status"

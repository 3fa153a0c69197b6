#!/usr/bin/env bash
# One command: install what is missing, build, and run every test (unit and integration) with CTest.
set -euo pipefail
export S3HC_REQUIRE_TEST_PYTHON=1
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$S3HC_BUILD_DIR"
exec ctest --output-on-failure --timeout 900 -j "${S3HC_TEST_JOBS:-2}" "$@"

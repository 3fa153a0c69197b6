#!/usr/bin/env bash
# The sanitizer stage (test.sh runs it after the main tests): installs clang if missing,
# builds s3hc with ASan + UBSan and the libFuzzer targets into build-asan/ (S3HC_ASAN_BUILD_DIR),
# and runs there with CTest: every unit test, the chaos test against the instrumented proxy,
# and each fuzz target for a bounded time on a temp copy of its seed corpus.
# Any sanitizer finding fails. Extra arguments go to ctest (e.g. -L fuzz, -R unit).
# Knobs: S3HC_FUZZ_SECONDS (per target, default 20), S3HC_CHAOS_SECONDS (default 30),
# S3HC_BUILD_JOBS (default 2), S3HC_TEST_JOBS (default 2).
set -euo pipefail

S3HC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
S3HC_ASAN_BUILD_DIR=${S3HC_ASAN_BUILD_DIR:-$S3HC_ROOT/build-asan}

# Only this stage needs clang (Debian 12: 14), its sanitizer and libFuzzer runtimes, and
# llvm-symbolizer for readable reports.
source "$S3HC_ROOT/scripts/debian_packages.sh"
install_missing_packages sanitize clang-14 libclang-rt-14-dev llvm-14

# The Python of the integration tests (and the main dependencies), when not run by test.sh.
if [[ -z "${S3HC_PYTHON:-}" ]]; then
  export S3HC_REQUIRE_TEST_PYTHON=1
  source "$S3HC_ROOT/scripts/setup.sh"
fi

if [[ ! -f "$S3HC_ASAN_BUILD_DIR/build.ninja" ]]; then
  echo "sanitize: configuring the sanitizer build in $S3HC_ASAN_BUILD_DIR"
  # -O0: instrumented coroutine code takes clang 14 four times longer to build at -O1 (the
  # parsers and fuzz targets get -O1 in their CMakeLists); line tables for symbolized
  # reports; no NDEBUG, so Boost's own assertions are checked too.
  cmake -S "$S3HC_ROOT" -B "$S3HC_ASAN_BUILD_DIR" -G Ninja \
    -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Sanitize \
    -DCMAKE_CXX_FLAGS_SANITIZE="-O0 -gline-tables-only" \
    -DS3HC_SANITIZE=ON -DS3HC_FUZZ=ON -DS3HC_PYTHON="$S3HC_PYTHON" >/dev/null
fi
if ! build_log=$(cmake --build "$S3HC_ASAN_BUILD_DIR" --parallel "${S3HC_BUILD_JOBS:-2}" 2>&1); then
  echo "$build_log" >&2
  exit 1
fi

cd "$S3HC_ASAN_BUILD_DIR"
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-/usr/bin/llvm-symbolizer-14}
bash "$S3HC_ROOT/scripts/ctest_stage.sh" sanitize "$@"

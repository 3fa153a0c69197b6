#!/usr/bin/env bash
# Installs what is missing (Debian 12, as root) and builds s3hc into build/.
# Idempotent and quiet when nothing needs installing. Sourced by run.sh and test.sh,
# which rely on S3HC_PYTHON and S3HC_BUILD_DIR being set here.
set -euo pipefail

S3HC_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
S3HC_BUILD_DIR=${S3HC_BUILD_DIR:-$S3HC_ROOT/build}
S3HC_BUILD_TYPE=${S3HC_BUILD_TYPE:-Release}

# Build and test dependencies, all from Debian 12's archive.
debian_packages=(
  build-essential cmake ninja-build pkg-config
  libboost1.81-dev libssl-dev libspdlog-dev libfmt-dev libyaml-cpp-dev
  nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev liblz4-dev libxxhash-dev
  libprotobuf-dev protobuf-compiler librocksdb-dev libc-ares-dev
  nginx wrk curl procps openssl varnish
)

source "$S3HC_ROOT/scripts/debian_packages.sh"
install_missing_packages setup "${debian_packages[@]}"

# The integration tests need a Python with moto (server mode), boto3 and the AWS CLI (v1).
find_test_python() {
  local candidates=("${S3HC_PYTHON:-}" "$(command -v python3 || true)")
  candidates+=("$HOME"/.pyenv/versions/*/bin/python3 /root/.pyenv/versions/*/bin/python3)
  for py in "${candidates[@]}"; do
    [[ -n "$py" && -x "$py" ]] || continue
    if "$py" -c 'import moto, boto3, awscli' 2>/dev/null; then
      echo "$py"
      return 0
    fi
  done
  return 1
}
if ! S3HC_PYTHON=$(find_test_python); then
  S3HC_PYTHON=""
  if [[ "${S3HC_REQUIRE_TEST_PYTHON:-0}" == 1 ]]; then
    echo "setup: no Python with moto, boto3 and awscli found." >&2
    echo "setup: install them into a Python 3.11+ (pip install 'moto[server]>=5' boto3 awscli)" >&2
    echo "setup: or point S3HC_PYTHON at an interpreter that has them." >&2
    exit 1
  fi
fi
export S3HC_PYTHON S3HC_ROOT S3HC_BUILD_DIR

if [[ ! -f "$S3HC_BUILD_DIR/build.ninja" ]]; then
  echo "setup: configuring and building s3hc in $S3HC_BUILD_DIR (the first build takes a few minutes)"
  cmake -S "$S3HC_ROOT" -B "$S3HC_BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE="$S3HC_BUILD_TYPE" -DS3HC_PYTHON="$S3HC_PYTHON" >/dev/null
fi
# Quiet when up to date; the compiler's output in full when the build fails.
if ! build_log=$(cmake --build "$S3HC_BUILD_DIR" 2>&1); then
  echo "$build_log" >&2
  exit 1
fi

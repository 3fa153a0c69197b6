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
  libgrpc++-dev protobuf-compiler-grpc
  nginx libnginx-mod-stream wrk curl procps openssl varnish
)

source "$S3HC_ROOT/scripts/debian_packages.sh"
install_missing_packages setup "${debian_packages[@]}"

# The integration tests need a Python 3.10+ with the pinned packages of
# tests/integration/requirements.txt (moto in server mode, boto3, the AWS CLI v1,
# opentelemetry-proto). A Python that has them all is used as it is. Otherwise, when the tests
# are to run (test.sh sets S3HC_REQUIRE_TEST_PYTHON=1), what is missing is installed: into the
# first Python that already has moto (one set up for these tests), else into a virtual
# environment of the project's own (S3HC_TEST_VENV).
test_requirements=$S3HC_ROOT/tests/integration/requirements.txt
test_venv=${S3HC_TEST_VENV:-$HOME/.cache/s3hc/test-python}
test_python_candidates=("${S3HC_PYTHON:-}" "$(command -v python3 || true)")
test_python_candidates+=("$HOME"/.pyenv/versions/*/bin/python3 /root/.pyenv/versions/*/bin/python3)
test_python_candidates+=("$test_venv/bin/python3")

# True when $1 has every pinned version of the requirements (read offline, from its metadata).
has_test_requirements() {
  "$1" - "$test_requirements" 2>/dev/null <<'PY'
import re, sys
from importlib.metadata import version, PackageNotFoundError
for line in open(sys.argv[1]):
    match = re.match(r"\s*([A-Za-z0-9_.-]+)(\[[^]]*\])?==(\S+)", line)
    if not match:
        continue
    try:
        if version(match.group(1)) != match.group(3):
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PY
}

find_test_python() {
  local py
  for py in "${test_python_candidates[@]}"; do
    [[ -n "$py" && -x "$py" ]] && has_test_requirements "$py" && { echo "$py"; return 0; }
  done
  return 1
}

# Where the missing packages go: a Python 3.10+ that has moto, else the project's venv.
python_to_install_into() {
  local py
  for py in "${test_python_candidates[@]}"; do
    [[ -n "$py" && -x "$py" ]] || continue
    if "$py" -c 'import sys, moto; assert sys.version_info >= (3, 10)' 2>/dev/null; then
      echo "$py"
      return 0
    fi
  done
  if [[ ! -x "$test_venv/bin/python3" ]]; then
    install_missing_packages setup python3 python3-venv >&2
    python3 -m venv "$test_venv" >&2
  fi
  echo "$test_venv/bin/python3"
}

if ! S3HC_PYTHON=$(find_test_python); then
  S3HC_PYTHON=""
  if [[ "${S3HC_REQUIRE_TEST_PYTHON:-0}" == 1 ]]; then
    S3HC_PYTHON=$(python_to_install_into)
    echo "setup: installing the integration tests' Python packages into $S3HC_PYTHON"
    if ! pip_log=$("$S3HC_PYTHON" -m pip install --quiet --disable-pip-version-check \
                     --root-user-action=ignore -r "$test_requirements" 2>&1) ||
       ! has_test_requirements "$S3HC_PYTHON"; then
      echo "$pip_log" >&2
      echo "setup: could not install tests/integration/requirements.txt into $S3HC_PYTHON" >&2
      exit 1
    fi
  fi
fi

# The dashboard's browser tests (tests/integration/test_dashboard_*.py) drive Debian's Chromium
# with playwright-core, pinned in tests/integration/package.json and package-lock.json and
# installed there into node_modules. They are skipped where these are missing; when the tests
# are to run, what is missing is installed. Node.js and npm are the machine's when it has them
# (a Node.js from elsewhere brings its own npm, which Debian's npm package would conflict with);
# playwright-core needs Node.js 20 or later.
browser_test_dir=$S3HC_ROOT/tests/integration
# True when node_modules has the playwright-core version that package.json pins.
has_browser_node_packages() {
  command -v node >/dev/null &&
    (cd "$browser_test_dir" && node -e '
      const wanted = require("./package.json").dependencies["playwright-core"];
      process.exit(require("./node_modules/playwright-core/package.json").version === wanted ? 0 : 1);
    ') 2>/dev/null
}
if [[ "${S3HC_REQUIRE_TEST_PYTHON:-0}" == 1 ]]; then
  browser_packages=(chromium)
  command -v node >/dev/null || browser_packages+=(nodejs)
  command -v npm >/dev/null || browser_packages+=(npm)
  install_missing_packages setup "${browser_packages[@]}"
  if ! has_browser_node_packages; then
    echo "setup: installing the integration tests' Node.js packages (npm ci in tests/integration)"
    if ! npm_log=$(npm ci --prefix "$browser_test_dir" --no-audit --no-fund 2>&1) ||
       ! has_browser_node_packages; then
      echo "$npm_log" >&2
      echo "setup: could not install tests/integration/package-lock.json's packages" >&2
      exit 1
    fi
  fi
fi

# The deployment tests (tests/deploy/): Ansible and its linter from Debian; helm, kubeconform,
# the Kubernetes schemas and promtool, pinned in tests/deploy/deploy_tools.py, fetched into a
# cache outside the tree (helm and kubeconform built with the machine's Go; without Go the
# chart's tests are skipped, saying so).
if [[ "${S3HC_REQUIRE_TEST_PYTHON:-0}" == 1 ]]; then
  install_missing_packages setup ansible ansible-lint
  "$S3HC_PYTHON" "$S3HC_ROOT/tests/deploy/deploy_tools.py"
fi
export S3HC_PYTHON S3HC_ROOT S3HC_BUILD_DIR

if [[ ! -f "$S3HC_BUILD_DIR/build.ninja" ]]; then
  echo "setup: configuring and building s3hc in $S3HC_BUILD_DIR (the first build takes a few minutes)"
  cmake -S "$S3HC_ROOT" -B "$S3HC_BUILD_DIR" -G Ninja \
    -DCMAKE_BUILD_TYPE="$S3HC_BUILD_TYPE" -DS3HC_PYTHON="$S3HC_PYTHON" >/dev/null
elif [[ -n "$S3HC_PYTHON" ]] &&
     ! grep -qxF "S3HC_PYTHON:FILEPATH=$S3HC_PYTHON" "$S3HC_BUILD_DIR/CMakeCache.txt"; then
  # A build configured before the test Python was there (run.sh first) registers no
  # integration test: tell it the Python found since.
  cmake -S "$S3HC_ROOT" -B "$S3HC_BUILD_DIR" -DS3HC_PYTHON="$S3HC_PYTHON" >/dev/null
fi
# Quiet when up to date; the compiler's output in full when the build fails.
if ! build_log=$(cmake --build "$S3HC_BUILD_DIR" 2>&1); then
  echo "$build_log" >&2
  exit 1
fi

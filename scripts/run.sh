#!/usr/bin/env bash
# One command: install what is missing, build, and start s3hc-proxy on the example config.
# Extra arguments go to s3hc-proxy (e.g. --upstream http://127.0.0.1:9000).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec "$S3HC_BUILD_DIR/dataplane/s3hc-proxy" -c "$S3HC_ROOT/config/s3hc.example.yaml" "$@"

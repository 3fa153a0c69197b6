#!/usr/bin/env bash
# One command: install what is missing, build, and start s3hc.
#
#   bash scripts/run.sh [PROXY ARGS...]
#       one standalone s3hc-proxy on config/s3hc.example.yaml; extra arguments go to it
#       (e.g. --upstream http://127.0.0.1:9000).
#   bash scripts/run.sh --fleet N [PROXY ARGS...]
#       s3hc-control on 127.0.0.1:7070 (its dashboard and the fleet's /metrics on
#       http://127.0.0.1:7071/) and N proxies sharing one cache directory, each taking its
#       policy from the control plane: proxy i listens on 0.0.0.0:808i (admin, with its own
#       dashboard, 127.0.0.1:909i). State under $S3HC_RUN_DIR (default /tmp/s3hc-fleet): the cache, each
#       proxy's mirror and pushed policy, the control plane's data and its token. Ctrl-C stops
#       them all. Set a policy with:
#         S3HC_TOKEN=$(cat $S3HC_RUN_DIR/control.token) build/cli/s3hc-ctl policy set -f FILE
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"

if [[ "${1:-}" != "--fleet" ]]; then
  exec "$S3HC_BUILD_DIR/dataplane/s3hc-proxy" -c "$S3HC_ROOT/config/s3hc.example.yaml" "$@"
fi
proxies=${2:?"--fleet needs the number of proxies"}
shift 2
if ! [[ "$proxies" =~ ^[1-9]$ ]]; then
  echo "run: --fleet takes 1 to 9 proxies" >&2
  exit 2
fi
run_dir=${S3HC_RUN_DIR:-/tmp/s3hc-fleet}
mkdir -p "$run_dir"
token_file="$run_dir/control.token"
[[ -s "$token_file" ]] || head -c 32 /dev/urandom | base64 > "$token_file"

pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
"$S3HC_BUILD_DIR/controlplane/s3hc-control" --listen 127.0.0.1:7070 \
  --http-listen 127.0.0.1:7071 --data-dir "$run_dir/control" --token-file "$token_file" &
pids+=($!)
for ((i = 0; i < proxies; i++)); do
  config="$run_dir/proxy-$i.yaml"
  cat > "$config" <<EOF
listen: 0.0.0.0:$((8080 + i))
admin_listen: 127.0.0.1:$((9090 + i))
cache:
  dir: $run_dir/cache
  mirror_dir: $run_dir/mirror-$i
control:
  endpoint: 127.0.0.1:7070
  policy_file: $run_dir/pushed-policy-$i.json
EOF
  "$S3HC_BUILD_DIR/dataplane/s3hc-proxy" -c "$config" "$@" &
  pids+=($!)
done
echo "run: s3hc-control on 127.0.0.1:7070 and $proxies proxies (ports 8080 to $((8079 + proxies)));" \
     "token in $token_file; Ctrl-C stops them" >&2
echo "run: dashboard http://127.0.0.1:7071/ (the fleet), http://127.0.0.1:9090/ (proxy 0)" >&2
wait -n

#!/usr/bin/env bash
# Runs the local gateway in AWS mode against moto's server (no Docker needed): starts
# moto on 127.0.0.1:5000, creates the table and queues, then `pitchside serve --demo`
# with PITCHSIDE_BACKEND=aws, its secrets read from moto's Secrets Manager. Ctrl-C stops
# both. Used by `make run-aws`.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
if [ ! -x "$venv/bin/moto_server" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.*'
fi
port=${MOTO_PORT:-5000}
"$venv/bin/python" infra/moto_server.py -H 127.0.0.1 -p "$port" > target/moto-run.log 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true' EXIT
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test

cargo build --profile gateway -p pitchside
for _ in $(seq 1 100); do
  python3 -c "import urllib.request; urllib.request.urlopen('$AWS_ENDPOINT_URL/moto-api/')" 2>/dev/null && break
  sleep 0.1
done
# aws-bootstrap prints KEY=value lines for the settings; the secrets are stored in
# moto's Secrets Manager and read from there, as on AWS.
set -a
eval "$(target/gateway/pitchside aws-bootstrap --secrets pitchside)"
set +a
target/gateway/pitchside serve --demo

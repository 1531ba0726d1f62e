#!/usr/bin/env bash
# The benchmark command: builds in release, starts moto's server (for the Lambda
# figures; installed into .venv as `make test` does), and runs the bench. Figures, not
# tests: see BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
if [ ! -x "$venv/bin/moto_server" ] || ! cmp -s infra/requirements-test.txt "$venv/.requirements"; then
  echo "== installing the emulator into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r infra/requirements-test.txt
  cp infra/requirements-test.txt "$venv/.requirements"
fi

cargo build --release -p pitchside -p pitchside-lambdas -p pitchside-tests \
  --bin pitchside --bin webhook --bin worker --bin ws --bin sse --bin api --bin bench

mkdir -p target
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/python" infra/moto_server.py -H 127.0.0.1 -p "$port" > target/moto-bench.log 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true' EXIT
export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request; urllib.request.urlopen('$AWS_ENDPOINT_URL/moto-api/')" 2>/dev/null; then break; fi
  sleep 0.1
done

target/release/bench

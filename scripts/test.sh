#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the emulator and linters into
# .venv, starts moto's server on a free port, builds everything, runs every test, and
# stops moto. Prints cargo's own summary lines.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.venv
if [ ! -x "$venv/bin/moto_server" ] || ! cmp -s infra/requirements-test.txt "$venv/.requirements"; then
  echo "== installing the test tools into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r infra/requirements-test.txt
  cp infra/requirements-test.txt "$venv/.requirements"
fi

# The browser test: Debian's Chromium (no browser download) and playwright-core.
if [ ! -x /usr/bin/chromium ]; then
  echo "== installing chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null
fi
if [ ! -d tests/browser/node_modules/playwright-core ]; then
  echo "== installing playwright-core"
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi

mkdir -p target
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/python" infra/moto_server.py -H 127.0.0.1 -p "$port" > target/moto.log 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true' EXIT

export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN

echo "== checking template.yaml"
export SAM_CLI_TELEMETRY=0
"$venv/bin/cfn-lint" template.yaml
"$venv/bin/sam" validate --lint --region us-east-1 --template-file template.yaml

# The black-box tests start the real gateway and function binaries: build them first.
cargo build --workspace --all-targets

# moto answers once it is up; wait for it (bounded).
for _ in $(seq 1 100); do
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('$AWS_ENDPOINT_URL/moto-api/')" 2>/dev/null; then break; fi
  kill -0 "$moto_pid" 2>/dev/null || { echo "moto exited:"; cat target/moto.log; exit 1; }
  sleep 0.1
done

cargo test --workspace --no-fail-fast

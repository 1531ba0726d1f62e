#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the emulator and linters into
# .venv, starts moto's server on a free port, builds everything, runs every test, and
# stops moto. Prints cargo's own summary lines.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/emulator.sh
ensure_venv

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

start_moto target/moto.log

echo "== checking template.yaml"
export SAM_CLI_TELEMETRY=0
"$venv/bin/cfn-lint" template.yaml
"$venv/bin/sam" validate --lint --region us-east-1 --template-file template.yaml

# The black-box tests start the real gateway and function binaries: build them first.
cargo build --workspace --all-targets

wait_for_moto target/moto.log

cargo test --workspace --no-fail-fast

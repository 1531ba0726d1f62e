#!/usr/bin/env bash
# The benchmark command: builds in release, starts moto's server (for the Lambda
# figures; installed into .venv as `make test` does), and runs the bench. Figures, not
# tests: see BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/emulator.sh
ensure_venv

# The gateway and the bench in the speed profile; the functions as `sam build` builds
# them (release: tuned for size), so their figures are the deployed ones.
cargo build --profile gateway -p pitchside -p pitchside-tests --bin pitchside --bin bench
cargo build --release -p pitchside-lambdas \
  --bin webhook --bin worker --bin ws --bin sse --bin api --bin fanout --bin push
export PITCHSIDE_LAMBDA_DIR="$PWD/target/release"

start_moto target/moto-bench.log
wait_for_moto target/moto-bench.log

target/gateway/bench

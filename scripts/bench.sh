#!/usr/bin/env bash
# The benchmark command: builds in release, starts moto's server (for the Lambda
# figures; installed into .venv as `make test` does), and runs the bench. Figures, not
# tests: see BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."

source scripts/emulator.sh
ensure_venv

cargo build --release -p pitchside -p pitchside-lambdas -p pitchside-tests \
  --bin pitchside --bin webhook --bin worker --bin ws --bin sse --bin api --bin bench

start_moto target/moto-bench.log
wait_for_moto target/moto-bench.log

target/release/bench

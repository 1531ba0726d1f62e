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

# The seed's design as a Node server, run under the same load in the same run
# (`../shared/peers/seed-node`, or SEED_NODE_DIR), installed into target/ as it ships.
seed_src=${SEED_NODE_DIR:-../shared/peers/seed-node}
if [ -f "$seed_src/package-lock.json" ] && command -v npm >/dev/null; then
  rm -rf target/seed-node && mkdir -p target/seed-node
  (cd "$seed_src" && tar --exclude=node_modules -cf - .) | tar -xf - -C target/seed-node
  (cd target/seed-node && npm ci --no-audit --no-fund --silent)
  export BENCH_SEED_DIR="$PWD/target/seed-node"
else
  echo "bench: no seed peer at $seed_src (or no npm): its figures are skipped" >&2
fi

start_moto target/moto-bench.log
wait_for_moto target/moto-bench.log

target/gateway/bench

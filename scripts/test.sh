#!/usr/bin/env bash
# The whole test suite, from a fresh machine: builds everything, then runs the unit,
# port and black-box tests. Prints cargo's own summary lines.
set -euo pipefail
cd "$(dirname "$0")/.."

# The black-box tests start the real gateway binary: build it first.
cargo build --workspace --all-targets
cargo test --workspace --no-fail-fast

# The two commands of the README: `make run` and `make test`.
.PHONY: run run-aws test bench lint fmt

run:
	cargo run --profile gateway -p pitchside -- serve --demo

# The same gateway in AWS mode, against moto's DynamoDB and SQS (no Docker needed).
run-aws:
	bash infra/run-aws-local.sh

test:
	bash scripts/test.sh

# Figures, not tests: see BENCHMARKS.md.
bench:
	bash scripts/bench.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

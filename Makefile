# The two commands of the README: `make run` and `make test`.
.PHONY: run test lint fmt

run:
	cargo run --release -p pitchside -- serve --demo

test:
	bash scripts/test.sh

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

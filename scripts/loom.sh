#!/bin/sh
# Model-checks the handle state machine and the sleep/wake protocol with loom
# (src/task/loom_tests.rs, src/sleep/loom_tests.rs). tests/loom_models.rs runs
# this as part of `cargo test`; run it by hand to explore deeper:
#   LOOM_MAX_PREEMPTIONS=3 scripts/loom.sh
# Extra arguments go to the test binary (e.g. a model's name).
set -eu
cd "$(dirname "$0")/.."
export RUSTFLAGS="${RUSTFLAGS:-} --cfg loom"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/loom}"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
exec "${CARGO:-cargo}" test --lib --release -- loom_tests "$@"

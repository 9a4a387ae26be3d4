#!/usr/bin/env bash
# Requests per second of a minimal hyper 1 handler with sealed-session's
# SessionLayer (one read and one write of the session per request) versus
# the same handler without a session.
#
#   bash benches/load_hyper.sh [--seconds N] [--warmup N] [--rounds R] [--connections C]
#
# Loopback only (127.0.0.1, a port the OS picks), bounded: at most 60 s per
# variant and round, 10 rounds, 256 connections and 5,000,000 requests per
# run. The load generator is benches/load_hyper/, a crate of its own (its
# own workspace), so it is built only here, never by the library's build or
# CI. Defaults: 3 rounds of 3 s measured after 1 s of warm-up, 32
# connections; the variants are interleaved and the median round is shown,
# with every round's figure beside it (the machine is shared).
set -euo pipefail
cd "$(dirname "$0")/load_hyper"
root=$(cd ../.. && pwd)
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}/load_hyper"
cargo build --release --quiet
echo "machine: $(nproc) cores, $(uname -m); $(rustc --version)"
"$CARGO_TARGET_DIR/release/sealed-session-load-hyper" "$@"

#!/usr/bin/env bash
# The deterministic simulator (tests/sim): tests/sim.sh [SEEDS] [--from N]
# [--threads K] runs SEEDS seeds (default 1000) and ends with
# `sim: N seeds, M violations`; tests/sim.sh --seed N reruns one seed and
# prints its trace. Exit status 1 if any invariant was violated.
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo run -q --locked --profile sim -p hookrelay-sim --bin sim -- "$@"

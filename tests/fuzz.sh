#!/usr/bin/env bash
# A real fuzzing campaign: runs every fuzz target (signing's header parsers
# and request verification, the receiver's whole request path) for a given
# time each and prints, per target, the executions and coverage reached.
# CI's 10-second runs only catch regressions; this explores.
#
#   tests/fuzz.sh                 # 300 s per target
#   tests/fuzz.sh 1800            # 30 min per target
#   tests/fuzz.sh 600 parse_headers receiver_request   # only these targets
#   FUZZ_SANITIZER=address tests/fuzz.sh               # with AddressSanitizer
#
# The corpus grows across runs and stays out of the repository: it lives in
# $HOOKRELAY_FUZZ_DIR (default ~/.cache/hookrelay/fuzz), one folder per
# target. A crash stops that target, its input is kept in the folder's
# `artifacts/`, and the script exits 1 naming it: turn it into a
# regression test (shared/signing/tests, tests/it/hostile_input.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-300}"
shift || true
only=("$@")
state="${HOOKRELAY_FUZZ_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hookrelay/fuzz}"
mkdir -p "$state"
command -v cargo-fuzz >/dev/null || {
  echo "cargo-fuzz is missing: cargo install cargo-fuzz --locked" >&2
  exit 1
}

status=0
printf '%-18s %8s %14s %10s %8s %8s\n' target seconds executions exec/s cov ft
for fuzz_dir in shared/signing/fuzz shared/core/fuzz; do
  for target in $(cd "$fuzz_dir" && cargo fuzz list); do
    if [ "${#only[@]}" -gt 0 ] && [[ ! " ${only[*]} " == *" $target "* ]]; then
      continue
    fi
    corpus="$state/$target/corpus"
    artifacts="$state/$target/artifacts"
    log="$state/$target/last.log"
    mkdir -p "$corpus" "$artifacts"
    # The fuzz crates build outside the workspace; RUSTC_BOOTSTRAP lets the
    # stable toolchain take cargo fuzz's -Z flags. No sanitizer by default:
    # the code under test has no unsafe (forbid(unsafe_code)), so
    # AddressSanitizer only halves the executions; what is looked for is
    # panics, overflows (debug assertions on) and hangs.
    if ! (cd "$fuzz_dir" && RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer "${FUZZ_SANITIZER:-none}" \
      --debug-assertions "$target" "$corpus" -- \
      -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$artifacts/" >"$log" 2>&1); then
      echo "$target: crashed or failed; input in $artifacts, log in $log" >&2
      tail -n 30 "$log" >&2
      status=1
      continue
    fi
    runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
    cov=$(grep -E '^#[0-9]+.*DONE' "$log" | grep -oE 'cov: [0-9]+' | awk '{print $2}')
    ft=$(grep -E '^#[0-9]+.*DONE' "$log" | grep -oE 'ft: [0-9]+' | awk '{print $2}')
    per=$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')
    printf '%-18s %8s %14s %10s %8s %8s\n' "$target" "$seconds" "$runs" "$per" "${cov:-?}" "${ft:-?}"
  done
done
exit $status

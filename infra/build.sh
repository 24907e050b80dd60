#!/usr/bin/env bash
# Builds both Lambda binaries for arm64 (provided.al2023) with cargo-lambda
# and reports their sizes. Installs cargo-lambda (from PyPI, with zig) into
# a virtualenv and the aarch64 Rust target if they are missing.
#
#   infra/build.sh            # -> target/lambda/{receiver,dispatcher}/bootstrap
#
# HOOKRELAY_CACHE (default ~/.cache/hookrelay) holds the virtualenv;
# CARGO_TARGET_DIR is honoured (default: the repository's target/).
set -euo pipefail
cd "$(dirname "$0")/.."

cache="${HOOKRELAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hookrelay}"
mkdir -p "$cache"
venv="$cache/venv-lambda"
if [ ! -x "$venv/bin/cargo-lambda" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet cargo-lambda
fi
export PATH="$venv/bin:$PATH"
rustup target list --installed | grep -q '^aarch64-unknown-linux-gnu$' \
  || rustup target add aarch64-unknown-linux-gnu

cargo lambda build --release --arm64 -p hookrelay-receiver -p hookrelay-dispatcher

target="${CARGO_TARGET_DIR:-target}"
limit=$((8 * 1024 * 1024))
status=0
for function in receiver dispatcher; do
  binary="$target/lambda/$function/bootstrap"
  size=$(stat -c %s "$binary")
  awk -v f="$function" -v s="$size" -v b="$binary" 'BEGIN { printf "%-10s %6.2f MiB  %s\n", f, s / 1048576, b }'
  if [ "$size" -gt "$limit" ]; then
    echo "$function is over the 8 MiB target" >&2
    status=1
  fi
done
exit $status

#!/usr/bin/env bash
# Signature verification throughput against OpenSSL's SHA-256 on this
# machine, measured in one run so the ratio means something.
#
#   bench/signing.sh            # prints both figures and their ratio
#
# Ours: HMAC-SHA256 verification of a 1 MiB body (GitHub scheme, one
# secret) from the criterion benchmark `verify/github/1MiB`.
# Baseline: `openssl speed -evp sha256` on 16 KiB blocks (plain SHA-256,
# no HMAC; HMAC adds two compression rounds per message, negligible at
# 1 MiB).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v openssl >/dev/null || { echo "openssl not found: apt-get install openssl" >&2; exit 1; }

echo "== openssl speed -evp sha256 (16 KiB blocks)"
openssl_line=$(openssl speed -evp sha256 -bytes 16384 -seconds 3 2>/dev/null | grep -E '^sha256 ')
echo "$openssl_line"
# The figure is in thousands of bytes per second.
openssl_bps=$(echo "$openssl_line" | awk '{ v=$2; sub(/k$/, "", v); printf "%.0f", v * 1000 }')

echo "== cargo bench: verify/*/1MiB"
bench_out=$(cargo bench -p hookrelay-signing --bench verify -- --warm-up-time 1 --measurement-time 5 '/1MiB' 2>/dev/null)
echo "$bench_out" | grep -E '^verify/|thrpt' || true

# Criterion prints `thrpt:  [low mid high]` with units; take the median of
# the GitHub case and convert to bytes/s.
ours_bps=$(echo "$bench_out" | awk '
  /^verify\/github\/1MiB/ { want = 1 }
  want && /thrpt:/ {
    gsub(/\[|\]/, "")
    for (i = 1; i <= NF; i++) if ($i == "thrpt:") { v = $(i + 3); u = $(i + 4) }
    m = 1
    if (u == "KiB/s") m = 1024; else if (u == "MiB/s") m = 1048576; else if (u == "GiB/s") m = 1073741824
    printf "%.0f", v * m
    exit
  }')

if [ -z "$ours_bps" ] || [ -z "$openssl_bps" ]; then
  echo "could not read the figures" >&2
  exit 1
fi

awk -v ours="$ours_bps" -v base="$openssl_bps" 'BEGIN {
  printf "\nhookrelay verify (github, 1 MiB): %8.1f MB/s\n", ours / 1e6
  printf "openssl sha256 (16 KiB blocks):   %8.1f MB/s\n", base / 1e6
  printf "ratio:                            %8.2f  (target >= 0.80)\n", ours / base
}'

#!/usr/bin/env bash
# Every performance figure in README's Performance section, in one run,
# each next to the baseline it is compared with:
#   signature verification vs `openssl speed`; the receiver's warm path;
#   dispatcher deliveries/s vs plain POSTs; end-to-end latency through
#   `hookrelay dev` vs a direct POST; Lambda cold start vs starting a
#   process; Lambda binary sizes.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "### machine"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
grep -q -w sha_ni /proc/cpuinfo && echo "SHA-NI: yes" || echo "SHA-NI: no"

echo; echo "### signature verification"
bench/signing.sh | tail -n 3

echo; echo "### receiver warm path (2 KiB GitHub push, embedded adapters)"
cargo bench -q -p hookrelay-receiver --bench warm_path -- --warm-up-time 1 --measurement-time 5 2>/dev/null | grep -E 'time:|thrpt:'

echo; echo "### route filters (a 4 KiB event, 100 patterns, vs parsing its body)"
cargo bench -q -p hookrelay-models --bench route_filters -- --warm-up-time 1 --measurement-time 5 2>/dev/null | grep -E 'route_filters|time:'

echo; echo "### dispatcher"
cargo bench -q -p hookrelay-dispatcher --bench deliveries 2>/dev/null | tail -n 5

echo; echo "### end to end and cold start"
cargo bench -q -p hookrelay-tests --bench end_to_end 2>/dev/null

echo; echo "### Lambda binaries (arm64)"
infra/build.sh 2>/dev/null | tail -n 2

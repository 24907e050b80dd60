#!/usr/bin/env bash
# Every performance figure in README's Performance section, in one run,
# each next to the baseline it is compared with:
#   signature verification vs `openssl speed`; the receiver's warm path;
#   dispatcher deliveries/s vs plain POSTs; end-to-end latency through
#   `hookrelay dev` vs a direct POST; Lambda cold start vs starting a
#   process; Lambda binary sizes.
#
#   bench/all.sh                         # every part
#   bench/all.sh signing end_to_end      # only these parts: signing,
#                                        # warm_path, route_filters,
#                                        # dispatcher, end_to_end, lambda
#   bench/all.sh --check [PART ...]      # then exit 1 if a figure is past
#                                        # its floor, naming each one
#
# The floors --check holds, each against its baseline in the same run:
#   verification of a 1 MiB GitHub body >= 0.8x `openssl speed` sha256;
#   end-to-end p50 through `hookrelay dev` <= 2x a POST straight to the sink;
#   each Lambda binary <= 8 MiB. The Lambda build (infra/build.sh: it
#   installs cargo-lambda if missing) may fail here without failing the
#   run: without binaries that check is skipped with a note. A part not
#   run is not checked.
set -euo pipefail
cd "$(dirname "$0")/.."

check=false
parts=()
for arg in "$@"; do
  case "$arg" in
    --check) check=true ;;
    signing | warm_path | route_filters | dispatcher | end_to_end | lambda) parts+=("$arg") ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/all.sh: unknown argument '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

# ratio A B: A / B, or nothing if either is missing.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b + 0 > 0) print a / b }'; }
wants() { [ ${#parts[@]} -eq 0 ] || [[ " ${parts[*]} " == *" $1 "* ]]; }

# What --check found: one line per floor, and the ones past it.
checked=()
failed=()
# floor NAME VALUE OP LIMIT UNIT: records whether VALUE OP LIMIT holds
# (an empty VALUE, a figure not read, does not).
floor() {
  local line
  if [ -z "$2" ]; then
    line="$1: figures not read FAILED"
  else
    line=$(awk -v n="$1" -v v="$2" -v op="$3" -v l="$4" -v u="$5" 'BEGIN {
      ok = (op == ">=") ? (v >= l) : (v <= l)
      printf "%s: %.2f%s (%s %s%s) %s\n", n, v, u, (op == ">=" ? "floor" : "limit"), l, u, (ok ? "ok" : "FAILED")
    }')
  fi
  checked+=("$line")
  [[ "$line" == *" ok" ]] || failed+=("$line")
}

echo "### machine"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
grep -q -w sha_ni /proc/cpuinfo && echo "SHA-NI: yes" || echo "SHA-NI: no"

if wants signing; then
  echo; echo "### signature verification"
  signing=$(bench/signing.sh | tail -n 3)
  echo "$signing"
  # From the MB/s figures, not the rounded ratio.
  ours=$(echo "$signing" | awk '/^hookrelay verify/ { print $(NF - 1) }')
  base=$(echo "$signing" | awk '/^openssl sha256/ { print $(NF - 1) }')
  floor "verification (github, 1 MiB) / openssl sha256" "$(ratio "$ours" "$base")" ">=" 0.8 x
fi

if wants warm_path; then
  echo; echo "### receiver warm path (2 KiB GitHub push, embedded adapters)"
  cargo bench -q -p hookrelay-receiver --bench warm_path -- --warm-up-time 1 --measurement-time 5 2>/dev/null | grep -E 'time:|thrpt:'
fi

if wants route_filters; then
  echo; echo "### route filters (a 4 KiB event, 100 patterns, vs parsing its body)"
  cargo bench -q -p hookrelay-models --bench route_filters -- --warm-up-time 1 --measurement-time 5 2>/dev/null | grep -E 'route_filters|time:'
fi

if wants dispatcher; then
  echo; echo "### dispatcher"
  cargo bench -q -p hookrelay-dispatcher --bench deliveries 2>/dev/null | tail -n 5
fi

if wants end_to_end; then
  echo; echo "### end to end and cold start"
  end_to_end=$(cargo bench -q -p hookrelay-tests --bench end_to_end 2>/dev/null)
  echo "$end_to_end"
  # The first figure (p50, in µs) of each latency line.
  p50() { echo "$end_to_end" | awk -v what="$1" 'index($0, what) { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+µs$/) { sub(/µs$/, "", $i); print $i; exit } }'; }
  relay=$(p50 "POST to hookrelay dev")
  direct=$(p50 "POST straight to the sink")
  floor "end-to-end p50 / direct POST p50" "$(ratio "$relay" "$direct")" "<=" 2 x
fi

if wants lambda; then
  echo; echo "### Lambda binaries (arm64)"
  built=true
  infra/build.sh 2>/dev/null | tail -n 2 || built=false
  target="${CARGO_TARGET_DIR:-target}"
  for function in receiver dispatcher; do
    binary="$target/lambda/$function/bootstrap"
    if [ ! -f "$binary" ]; then
      checked+=("Lambda $function: not built, size not checked (infra/build.sh failed)")
      continue
    fi
    $built || echo "note: infra/build.sh failed; $binary is from an earlier build ($(date -r "$binary" '+%F %T'))"
    floor "Lambda $function binary" "$(stat -c %s "$binary" | awk '{ print $1 / 1048576 }')" "<=" 8 " MiB"
  done
fi

if $check; then
  echo; echo "### check"
  [ ${#checked[@]} -gt 0 ] || echo "nothing to check in the parts run"
  for line in "${checked[@]}"; do echo "$line"; done
  if [ ${#failed[@]} -gt 0 ]; then
    echo; echo "past the floor:"
    for line in "${failed[@]}"; do echo "  $line"; done
    exit 1
  fi
fi

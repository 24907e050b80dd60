#!/usr/bin/env bash
# What a webhook costs on AWS, measured: real webhooks through the real
# receiver and dispatcher (release builds, under a Lambda Runtime API
# emulator) on DynamoDB, SQS and S3 (moto), every AWS call billed by a
# metering proxy as AWS bills it. Prints, per scenario and dispatcher batch
# size, the units and requests per webhook, $ per million (with API
# Gateway's HTTP API in front, and with a function URL instead), and ends
# with one line per scenario and batch size:
#
#   cost one-destination b=10: $6.16 per million ($5.16 with a function URL)
#
#   bench/cost.sh                          # every scenario, batch sizes 1 and 10
#   bench/cost.sh --webhooks 50 --batch 10 --scenario one-destination
set -euo pipefail
cd "$(dirname "$0")/.."
command -v moto_server >/dev/null || { echo "moto_server is missing: pip install 'moto[server]'" >&2; exit 1; }
HOOKRELAY_FUNCTION_PROFILE=release cargo run -q -p hookrelay-tests --bin cost -- "$@"

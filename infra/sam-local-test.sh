#!/usr/bin/env bash
# sam local, as users run it, against moto: `sam build`, then `sam local
# invoke` of the receiver on every events/ API Gateway and function URL
# sample and of the dispatcher on what the receiver queued, then `sam local
# start-api` with real signed webhooks from `hookrelay send`. Asserts the
# answers, the stored events and the deliveries at a sink. Called by
# .ci/run; runs on its own too:
#
#   infra/sam-local-test.sh
#
# What it sets up, each only if missing: Docker (Debian's docker.io, and a
# dockerd of its own, stopped at the end), the base image SAM runs the
# functions on, aws-sam-cli in a virtualenv, cargo-lambda. Images cannot be
# pulled here, so the base image is built locally: a minimal Debian root
# filesystem (debootstrap, with ca-certificates: the functions' HTTPS
# client needs the roots) imported as public.ecr.aws/lambda/provided:
# al2023-<arch>, the name SAM looks for; SAM adds the official Runtime
# Interface Emulator on top. Users pull the real image instead (README,
# Local testing with sam local).
#
# Network: moto and the sink listen on the Docker bridge's gateway address
# (the bridge this machine's dockerd made), the only address the function
# containers and this machine share; `hookrelay send` talks to start-api
# on 127.0.0.1. Nothing leaves the machine.
#
# HOOKRELAY_CACHE (default ~/.cache/hookrelay) holds the root filesystem
# tarball, the virtualenvs and SAM's build; CARGO_TARGET_DIR is honoured
# (the functions are built in $CARGO_TARGET_DIR/ci-lambda, beside
# infra/build.sh's arm64 build, where the host artefacts, build scripts
# and proc macros, can be shared).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"

cache="${HOOKRELAY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hookrelay}"
mkdir -p "$cache"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$cache/target}"
as_root=""
if [ "$(id -u)" -ne 0 ]; then as_root="sudo"; fi

case "$(uname -m)" in
  x86_64) arch=x86_64 ;;
  aarch64) arch=arm64 ;;
  *) echo "sam-local-test: no Lambda architecture for $(uname -m)" >&2; exit 1 ;;
esac
image="public.ecr.aws/lambda/provided:al2023-$arch"
# The version whose behaviour this script was written against (the
# container's network, the build's target directory).
sam_version="1.170.0"

started_at=$(date +%s)
phase_at=$started_at
phase() {
  local now; now=$(date +%s)
  printf -- '--- %s (%ss; %ss in all)\n' "$1" "$((now - phase_at))" "$((now - started_at))"
  phase_at=$now
}
fail() { echo "sam-local-test: $*" >&2; exit 1; }

work="$(mktemp -d)"
dockerd_pid=""
moto_pid=""
sink_pid=""
api_pid=""
containers_before=""
cleanup() {
  local status=$?
  set +e
  # start-api ignores SIGINT when in the background; SIGTERM stops it and
  # the containers it ran.
  if [ -n "$api_pid" ]; then kill -TERM "$api_pid" 2>/dev/null; wait "$api_pid" 2>/dev/null; fi
  if [ -n "$sink_pid" ]; then kill "$sink_pid" 2>/dev/null; wait "$sink_pid" 2>/dev/null; fi
  if [ -n "$moto_pid" ]; then kill "$moto_pid" 2>/dev/null; wait "$moto_pid" 2>/dev/null; fi
  if docker info >/dev/null 2>&1; then
    # Containers this run made and left (none, when SAM cleans up).
    local left
    left="$(comm -13 <(echo "$containers_before") <(docker ps -aq --no-trunc | sort))"
    if [ -n "$left" ]; then
      echo "sam-local-test: removing containers left behind: $left" >&2
      # shellcheck disable=SC2086
      docker rm -f $left >/dev/null
      [ "$status" -ne 0 ] || status=1
    fi
  fi
  if [ -n "$dockerd_pid" ]; then
    $as_root kill -TERM "$dockerd_pid" 2>/dev/null
    for _ in $(seq 1 100); do $as_root kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.1; done
    wait "$dockerd_pid" 2>/dev/null
  fi
  if [ "$status" -ne 0 ]; then
    for log in "$work"/*.log; do
      [ -f "$log" ] || continue
      echo "----- $log (last 40 lines)"; tail -n 40 "$log"
    done
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

apt_install() {
  export DEBIAN_FRONTEND=noninteractive
  $as_root apt-get update -qq
  $as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# --- Docker --------------------------------------------------------------
if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
  apt_install docker.io
fi
if ! docker info >/dev/null 2>&1; then
  # A daemon of our own; its socket is group-owned by us when not root.
  $as_root dockerd --group "$(id -g)" >"$work/dockerd.log" 2>&1 &
  dockerd_pid=$!
  for _ in $(seq 1 300); do docker info >/dev/null 2>&1 && break; sleep 0.1; done
  docker info >/dev/null 2>&1 || fail "dockerd did not start (see $work/dockerd.log)"
fi
containers_before="$(docker ps -aq --no-trunc | sort)"
# The bridge's gateway: as its IPAM says, or (dockerd 20.10 leaves that
# empty for the default bridge) the address of its interface.
bridge="$(docker network inspect bridge --format '{{range .IPAM.Config}}{{.Gateway}}{{end}}')"
if [ -z "$bridge" ]; then
  bridge_if="$(docker network inspect bridge --format '{{index .Options "com.docker.network.bridge.name"}}')"
  bridge="$(ip -4 -o addr show dev "${bridge_if:-docker0}" | awk '{ split($4, a, "/"); print a[1]; exit }')"
fi
[ -n "$bridge" ] || fail "the Docker bridge has no gateway address"
phase "docker up (bridge gateway $bridge)"

# --- the base image --------------------------------------------------------
if ! docker image inspect "$image" >/dev/null 2>&1; then
  rootfs_tar="$cache/sam-local/rootfs-bookworm-$arch.tar.gz"
  if [ ! -s "$rootfs_tar" ]; then
    command -v debootstrap >/dev/null || apt_install debootstrap
    mkdir -p "$cache/sam-local"
    rootfs="$work/rootfs"
    $as_root debootstrap --variant=minbase --include=ca-certificates \
      bookworm "$rootfs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
      || fail "debootstrap failed (see $work/debootstrap.log)"
    # debootstrap keeps the packages it installed; the image needs none.
    $as_root rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    $as_root tar -C "$rootfs" -czf "$rootfs_tar.tmp" .
    $as_root chown "$(id -u):$(id -g)" "$rootfs_tar.tmp"
    mv "$rootfs_tar.tmp" "$rootfs_tar"
    $as_root rm -rf "$rootfs"
  fi
  docker import "$rootfs_tar" "$image" >/dev/null
fi
docker run --rm --network none --entrypoint /bin/sh "$image" -c 'test -s /etc/ssl/certs/ca-certificates.crt' \
  || fail "$image has no CA certificates"
phase "base image $image"

# --- aws-sam-cli and cargo-lambda ------------------------------------------
# Each in a virtualenv of its own: installed globally, aws-sam-cli's pins
# break the machine's awscli.
sam_venv="$cache/venv-sam"
if [ "$("$sam_venv/bin/sam" --version 2>/dev/null)" != "SAM CLI, version $sam_version" ]; then
  python3 -m venv "$sam_venv"
  "$sam_venv/bin/pip" install --quiet "aws-sam-cli==$sam_version"
fi
lambda_venv="$cache/venv-lambda"
if [ ! -x "$lambda_venv/bin/cargo-lambda" ]; then
  python3 -m venv "$lambda_venv"
  "$lambda_venv/bin/pip" install --quiet cargo-lambda
fi
# cargo-lambda finds zig as the python module ziglang of the first python3
# on PATH: its own virtualenv's.
# The helpers below keep the machine's python3 (moto, boto3).
python="$(command -v python3)"
python3() { "$python" "$@"; }
export PATH="$lambda_venv/bin:$sam_venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0
phase "sam $(sam --version | awk '{print $NF}'), cargo-lambda"

(cd infra && sam validate --lint --region us-east-1 >"$work/sam-validate.log" 2>&1) \
  || fail "sam validate --lint: $(cat "$work/sam-validate.log")"
phase "sam validate --lint"

# --- sam build -------------------------------------------------------------
# x86_64 here, whatever the template's default (arm64, as deployed); cargo
# builds into the shared target directory, so a rerun rebuilds nothing.
build_dir="$cache/sam-local/build"
params="Architecture=$arch"
(
  cd infra
  CARGO_TARGET_DIR="$CARGO_TARGET_DIR/ci-lambda" sam build \
    --build-dir "$build_dir" --cache-dir "$cache/sam-local/build-cache" \
    --parameter-overrides "$params" >"$work/sam-build.log" 2>&1
) || fail "sam build failed (see $work/sam-build.log)"
# The ELF header's machine field: 3e (x86_64) or b7 (aarch64).
case "$arch" in x86_64) machine="3e 00" ;; arm64) machine="b7 00" ;; esac
for function in ReceiverFunction DispatcherFunction; do
  [ "$(od -An -tx1 -j18 -N2 "$build_dir/$function/bootstrap" | xargs)" = "$machine" ] \
    || fail "$function's bootstrap was not built for $arch"
done
phase "sam build"

# --- moto, the stack's resources, the sink ----------------------------------
# "$python", not the function: $! must be the server's own pid.
"$python" infra/sam_local.py moto "$bridge" "$work/moto.port" >"$work/moto.log" 2>&1 &
moto_pid=$!
for _ in $(seq 1 300); do [ -s "$work/moto.port" ] && break; sleep 0.1; done
[ -s "$work/moto.port" ] || fail "moto did not start on $bridge"
moto="http://$bridge:$(cat "$work/moto.port")"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
# Named as infra/env.local.json names them (moto is this run's own).
python3 infra/sam_local.py provision "$moto" "$work/stack.json" local
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/stack.json" "$1"; }
events_table="$(field events_table)"
config_table="$(field config_table)"
queue_url="$(field queue_url)"

cargo build -q -p hookrelay-cli --locked
hookrelay="$CARGO_TARGET_DIR/debug/hookrelay"
dest_secret="whsec_c2FtcGxlIGRlc3RpbmF0aW9uIGtleSAxMjM0"
"$hookrelay" sink --listen "$bridge:0" --secret "$dest_secret" >"$work/sink.log" 2>&1 &
sink_pid=$!
for _ in $(seq 1 100); do grep -qs "listening on" "$work/sink.log" && break; sleep 0.1; done
sink_url="$(sed -nE 's/.*listening on (http:[^ ]*) .*/\1/p' "$work/sink.log" | head -n1)"
[ -n "$sink_url" ] || fail "the sink did not start on $bridge"

# The shipped configuration with its destination at the sink, and the
# twilio source the events/ sample is signed for.
sed -e "s#^url = \"http://127.0.0.1:9000/hook\"#url = \"${sink_url}hook\"#" hookrelay.toml >"$work/hookrelay.toml"
grep -q "url = \"${sink_url}hook\"" "$work/hookrelay.toml" || fail "no destination url to point at the sink in hookrelay.toml"
cat >>"$work/hookrelay.toml" <<'EOF'

[[sources]]
id = "twilio"
scheme = "twilio"
secrets = ["twilio-sample-auth-token"]
EOF
export HOOKRELAY_EVENTS_TABLE="$events_table" HOOKRELAY_CONFIG_TABLE="$config_table" HOOKRELAY_QUEUE_URL="$queue_url"
AWS_ENDPOINT_URL="$moto" "$hookrelay" config push --aws --config "$work/hookrelay.toml" >"$work/config-push.log"

# What `sam local --env-vars` sets: the committed infra/env.local.json
# (for moto on the bridge's usual address, port 5000), pointed at this
# run's moto. It allows private destinations (the sink is on a private
# address; never so in a deployment).
python3 - infra/env.local.json "$work/env.json" "$moto" "$work/stack.json" <<'EOF'
import json, sys
sample, out, moto, stack = sys.argv[1:]
env = json.loads(open(sample).read().replace("http://172.17.0.1:5000", moto))
names = json.load(open(stack))
for key, name in [("HOOKRELAY_EVENTS_TABLE", "events_table"), ("HOOKRELAY_CONFIG_TABLE", "config_table"),
                  ("HOOKRELAY_QUEUE_URL", "queue_url"), ("HOOKRELAY_BODY_BUCKET", "body_bucket")]:
    assert env["Parameters"][key] == names[name], f"infra/env.local.json's {key} is not {names[name]}"
assert env["DispatcherFunction"]["HOOKRELAY_DEAD_LETTER_QUEUE_URL"] == names["dead_letter_queue_url"]
assert env["DispatcherFunction"]["HOOKRELAY_ALLOW_PRIVATE_DESTINATIONS"] == "true"
json.dump(env, open(out, "w"), indent=2)
EOF
phase "moto on $moto, sink on $sink_url"

# With infra/samconfig.toml, as a user runs it from infra/ (SAM looks for
# it beside the template, here in the build folder, so it is named): its
# skip_pull_image applies (no registry is reachable here; SAM's docker
# build of the emulation image would fail at the pull).
sam_local() {
  (cd infra && exec sam local "$@" --template "$build_dir/template.yaml" --config-file "$repo/infra/samconfig.toml" \
    --env-vars "$work/env.json" --parameter-overrides "$params" --region us-east-1)
}

# --- sam local invoke: the receiver on every events/ sample ----------------
# Signed now (the committed samples are signed at a fixed time, stale for
# the timed schemes), into a folder of this run's.
mkdir -p "$work/events"
SIGNED_AT="$(date +%s)" OUT_DIR="$work/events" python3 events/generate.py
invoke_receiver() { # sample expected-status -> the answer's body on stdout
  local sample="$1" expected="$2" out="$work/invoke-$1.out"
  sam_local invoke ReceiverFunction --event "$work/events/$sample.json" >"$out" 2>"$work/invoke-$sample.log" \
    || fail "sam local invoke ReceiverFunction -e $sample failed"
  local status; status="$(python3 infra/sam_local.py status "$out")"
  [ "$status" = "$expected" ] || fail "$sample: answered $status, expected $expected: $(cat "$out")"
  echo "receiver, $sample: $status $(python3 infra/sam_local.py body "$out")" >&2
}
# The order matters: the REST API copy of the GitHub push and the function
# URL copy of the Stripe event repeat the provider's delivery id, so the
# receiver answers them as duplicates of the first.
declare -A expect=(
  [apigw-v2-github-push]=202 [apigw-v1-github-push]=200
  [apigw-v2-stripe-invoice-paid]=202 [function-url-stripe-invoice-paid]=200
  [apigw-v2-standard-user-created]=202 [apigw-v2-twilio-sms]=202
  [apigw-v2-github-bad-signature]=401
)
order=(apigw-v2-github-push apigw-v1-github-push apigw-v2-stripe-invoice-paid function-url-stripe-invoice-paid
  apigw-v2-standard-user-created apigw-v2-twilio-sms apigw-v2-github-bad-signature)
# Every API Gateway and function URL sample is covered.
for sample in events/apigw-*.json events/function-url-*.json; do
  name="$(basename "$sample" .json)"
  [ -n "${expect[$name]:-}" ] || fail "no expectation for the sample $name"
done
accepted=()
for sample in "${order[@]}"; do
  invoke_receiver "$sample" "${expect[$sample]}"
  if [ "${expect[$sample]}" = 202 ]; then
    accepted+=("$(python3 infra/sam_local.py event-id "$work/invoke-$sample.out")")
  fi
done
for sample in apigw-v1-github-push function-url-stripe-invoice-paid; do
  python3 infra/sam_local.py body "$work/invoke-$sample.out" | grep -q '"duplicate":true' \
    || fail "$sample was not answered as a duplicate"
done
phase "sam local invoke ReceiverFunction: ${#order[@]} samples"

# --- sam local invoke: the dispatcher on what the receiver queued ----------
dispatch_queued() { # expected-count
  local batch="$work/sqs-$RANDOM.json"
  local count; count="$(python3 infra/sam_local.py sqs-event "$moto" "$queue_url" "$batch")"
  [ "$count" = "$1" ] || fail "the queue held $count messages, expected $1"
  sam_local invoke DispatcherFunction --event "$batch" >"$work/dispatch.out" 2>"$work/dispatch.log" \
    || fail "sam local invoke DispatcherFunction failed"
  local answer; answer="$(python3 infra/sam_local.py ack "$moto" "$queue_url" "$batch" "$work/dispatch.out")"
  [ "$answer" = '{"batchItemFailures": []}' ] || fail "the dispatcher answered $answer"
  echo "dispatcher: $count messages, $answer" >&2
}
delivered_to_sink() { # event-id: one valid delivery at the sink
  local msg="msg_${1#evt_}"
  grep -q "webhook-id=$msg .*signature=valid -> 200" "$work/sink.log" \
    || fail "no valid delivery of $1 at the sink"
  local state; state="$(python3 infra/sam_local.py stored "$moto" "$events_table" "$1" orders)"
  [ "$state" = succeeded ] || fail "$1's delivery to orders is $state in DynamoDB, not succeeded"
}
# A message per accepted event (the dispatcher works out its routes), and
# one more per duplicate of an event not dispatched yet (the receiver
# queues it again, in case the first send was lost): 4 + 2. github,
# stripe and acme route to orders, each delivered once; twilio routes
# nowhere.
dispatch_queued 6
for id in "${accepted[@]:0:3}"; do delivered_to_sink "$id"; done
# Delivery is at least once: a second message for an event (the duplicates
# above) may send it again when the first attempt outlives its lease (seen
# once in a slow container), always with the same webhook-id. So: exactly
# the three events, each by its webhook-id, and no request that failed
# its signature.
delivered_ids="$(grep 'signature=valid -> 200' "$work/sink.log" | sed -E 's/.*webhook-id=([^ ]+).*/\1/' | sort -u | wc -l)"
test "$delivered_ids" -eq 3 || fail "the sink got deliveries of $delivered_ids events, not 3"
if grep -q 'webhook-id=' "$work/sink.log" && grep 'webhook-id=' "$work/sink.log" | grep -vq 'signature=valid'; then
  fail "the sink got a delivery whose signature did not verify"
fi
echo "sink: $(grep -c 'signature=valid -> 200' "$work/sink.log") valid deliveries of $delivered_ids events"
python3 infra/sam_local.py stored "$moto" "$events_table" "${accepted[3]}" orders | grep -qx none \
  || fail "the twilio event has a delivery to orders"
phase "sam local invoke DispatcherFunction"

# --- sam local start-api, with hookrelay send --------------------------------
api_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
# Started directly (not through the function), so $! is sam's own pid.
(cd infra && exec sam local start-api --host 127.0.0.1 --port "$api_port" --template "$build_dir/template.yaml" \
  --config-file "$repo/infra/samconfig.toml" \
  --env-vars "$work/env.json" --parameter-overrides "$params" --region us-east-1) >"$work/start-api.log" 2>&1 &
api_pid=$!
api="http://127.0.0.1:$api_port"
for _ in $(seq 1 600); do
  curl -fsS -o /dev/null "$api/health" 2>/dev/null && break
  kill -0 "$api_pid" 2>/dev/null || fail "sam local start-api exited"
  sleep 0.2
done
curl -fsS "$api/health" >/dev/null || fail "start-api's GET /health did not answer 200"
# New webhooks, not the samples' again: the same signed GitHub body is a
# replay, and the same Stripe event id a duplicate.
mkdir -p "$work/payloads"
python3 - events/payloads "$work/payloads" <<'EOF'
import json, sys, uuid
source, out = sys.argv[1:]
push = json.load(open(f"{source}/github-push.json"))
push["after"] = uuid.uuid4().hex + uuid.uuid4().hex[:8]
json.dump(push, open(f"{out}/github-push.json", "w"), indent=2)
invoice = json.load(open(f"{source}/stripe-invoice-paid.json"))
invoice["id"] = "evt_" + uuid.uuid4().hex[:24]
json.dump(invoice, open(f"{out}/stripe-invoice-paid.json", "w"), indent=2)
EOF
sent="$("$hookrelay" send --source github --file "$work/payloads/github-push.json" --config "$work/hookrelay.toml" --url "$api")" \
  || fail "hookrelay send github: $sent"
echo "start-api: $sent" >&2
echo "$sent" | grep -q -- '-> 202 ' || fail "hookrelay send github was not answered 202"
github_id="$(echo "$sent" | sed -E 's/.*"id":"(evt_[^"]+)".*/\1/')"
sent="$("$hookrelay" send --source stripe --file "$work/payloads/stripe-invoice-paid.json" --config "$work/hookrelay.toml" --url "$api")" \
  || fail "hookrelay send stripe: $sent"
echo "start-api: $sent" >&2
echo "$sent" | grep -q -- '-> 202 ' || fail "hookrelay send stripe was not answered 202"
stripe_id="$(echo "$sent" | sed -E 's/.*"id":"(evt_[^"]+)".*/\1/')"
# A forged signature, through the same API.
forged="$(curl -sS -o /dev/null -w '%{http_code}' -X POST "$api/hooks/github" \
  -H 'Content-Type: application/json' -H 'X-GitHub-Event: push' -H 'X-GitHub-Delivery: forged-1' \
  -H 'X-Hub-Signature-256: sha256=0000000000000000000000000000000000000000000000000000000000000000' \
  --data-binary @events/payloads/github-push.json)"
[ "$forged" = 401 ] || fail "a forged webhook through start-api was answered $forged, not 401"
echo "start-api: forged signature -> 401" >&2
kill -TERM "$api_pid"
wait "$api_pid" || true
api_pid=""
dispatch_queued 2
delivered_to_sink "$github_id"
delivered_to_sink "$stripe_id"
phase "sam local start-api + hookrelay send"

left="$(comm -13 <(echo "$containers_before") <(docker ps -aq --no-trunc | sort))"
[ -z "$left" ] || fail "sam local left containers: $left"
echo "sam local: 7 samples, 2 dispatcher batches, 2 webhooks and a forgery through start-api, in $(( $(date +%s) - started_at ))s"

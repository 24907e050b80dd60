#!/usr/bin/env python3
"""Writes the sample Lambda events in this folder.

Signatures are computed here with Python's hmac module, independently of
hookrelay's Rust signing code; the test suite replays every sample through
the real receiver handler and fails if one no longer verifies.

Secrets are the samples in ../hookrelay.toml (twilio's is the test-only
one in tests/it/sample_events.rs). Timed schemes (Stripe, Standard
Webhooks) are signed at SIGNED_AT, so a live receiver rejects them as stale
after 5 minutes: regenerate with `SIGNED_AT=$(date +%s) events/generate.py`
before `cargo lambda invoke` against a running receiver. OUT_DIR writes
the events elsewhere (infra/sam-local-test.sh signs fresh copies so, and
leaves the committed ones alone).
"""
import base64
import hashlib
import hmac
import json
import os
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.environ.get("OUT_DIR", HERE)
SIGNED_AT = int(os.environ.get("SIGNED_AT", "1795000000"))
DOMAIN = "abc123xyz.execute-api.us-east-1.amazonaws.com"

GITHUB_SECRET = b"It's a Secret to Everybody"
STRIPE_SECRET = b"whsec_local_stripe_sample_secret"
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TWILIO_TOKEN = b"twilio-sample-auth-token"


def payload(name):
    with open(os.path.join(HERE, "payloads", name), "rb") as f:
        return f.read()


def hmac_hex(key, message):
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def http_api_v2(path, headers, body, base64_body=False, query="", domain=DOMAIN):
    headers = {k.lower(): v for k, v in headers.items()}
    headers.setdefault("host", domain)
    headers.setdefault("x-forwarded-proto", "https")
    event = {
        "version": "2.0",
        "routeKey": "POST /hooks/{source}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": domain.split(".")[0],
            "domainName": domain,
            "domainPrefix": domain.split(".")[0],
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.10",
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "routeKey": "POST /hooks/{source}",
            "stage": "$default",
            "time": "18/Nov/2026:10:13:20 +0000",
            "timeEpoch": SIGNED_AT * 1000,
        },
        "pathParameters": {"source": path.rsplit("/", 1)[-1]},
        "isBase64Encoded": base64_body,
        "body": base64.b64encode(body).decode() if base64_body else body.decode(),
    }
    if query:
        event["queryStringParameters"] = dict(urllib.parse.parse_qsl(query))
    return event


def rest_api_v1(path, headers, body, stage="prod"):
    return {
        "resource": "/hooks/{source}",
        "path": path,
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"source": path.rsplit("/", 1)[-1]},
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123xyz",
            "domainName": DOMAIN,
            "httpMethod": "POST",
            "identity": {"sourceIp": "192.0.2.10", "userAgent": headers.get("User-Agent", "")},
            "path": f"/{stage}{path}",
            "protocol": "HTTP/1.1",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "requestTimeEpoch": SIGNED_AT * 1000,
            "resourceId": "roq9wj",
            "resourcePath": "/hooks/{source}",
            "stage": stage,
        },
        "body": body.decode(),
        "isBase64Encoded": False,
    }


def github_headers(body, secret=GITHUB_SECRET):
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/7c1f2a0",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-GitHub-Hook-ID": "292430182",
        "X-Hub-Signature-256": "sha256=" + hmac_hex(secret, body),
    }


def write(name, event):
    with open(os.path.join(OUT_DIR, name), "w") as f:
        json.dump(event, f, indent=2)
        f.write("\n")


def main():
    github = payload("github-push.json")
    write("apigw-v2-github-push.json", http_api_v2("/hooks/github", github_headers(github), github, base64_body=True))
    write(
        "apigw-v2-github-bad-signature.json",
        http_api_v2("/hooks/github", github_headers(github, secret=b"not the secret"), github),
    )
    write("apigw-v1-github-push.json", rest_api_v1("/hooks/github", github_headers(github), github))

    stripe = payload("stripe-invoice-paid.json")
    ts = str(SIGNED_AT)
    stripe_sig = hmac_hex(STRIPE_SECRET, ts.encode() + b"." + stripe)
    write(
        "apigw-v2-stripe-invoice-paid.json",
        http_api_v2(
            "/hooks/stripe",
            {
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": f"t={ts},v1={stripe_sig}",
            },
            stripe,
        ),
    )
    write(
        "function-url-stripe-invoice-paid.json",
        http_api_v2(
            "/hooks/stripe",
            {
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": f"t={ts},v1={stripe_sig}",
            },
            stripe,
            domain="hr7x2rcvz3qyvaq3ukexample.lambda-url.us-east-1.on.aws",
        ),
    )

    standard = payload("standard-user-created.json")
    msg_id = "msg_2Kp1Lsample0000000000000"
    key = base64.b64decode(STANDARD_SECRET[len("whsec_"):])
    sig = base64.b64encode(
        hmac.new(key, f"{msg_id}.{ts}.".encode() + standard, hashlib.sha256).digest()
    ).decode()
    write(
        "apigw-v2-standard-user-created.json",
        http_api_v2(
            "/hooks/acme",
            {
                "Content-Type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": ts,
                "webhook-signature": f"v1,{sig}",
            },
            standard,
        ),
    )

    # Twilio signs the public URL (query included) and the sorted form.
    form = "AccountSid=ACsample&Body=Hello+there&From=%2B15005550006&MessageSid=SMsample&To=%2B15005550001"
    query = "tenant=acme"
    url = f"https://{DOMAIN}/hooks/twilio?{query}"
    params = sorted(urllib.parse.parse_qsl(form))
    signed = url + "".join(k + v for k, v in params)
    twilio_sig = base64.b64encode(hmac.new(TWILIO_TOKEN, signed.encode(), hashlib.sha1).digest()).decode()
    write(
        "apigw-v2-twilio-sms.json",
        http_api_v2(
            "/hooks/twilio",
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": twilio_sig,
                "I-Twilio-Idempotency-Token": "idem-sample-1",
            },
            form.encode(),
            query=query,
        ),
    )

    # The dispatcher's schedule tick (an EventBridge scheduled event, as
    # SAM's Schedule event source sends it): it looks at the dead-letter
    # queue for the operational event dead_letters.waiting.
    write(
        "dispatcher-schedule.json",
        {
            "version": "0",
            "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(SIGNED_AT)),
            "region": "us-east-1",
            "resources": ["arn:aws:events:us-east-1:123456789012:rule/hookrelay-DispatcherDeadLetterCheck"],
            "detail": {},
        },
    )

    write(
        "sqs-batch.json",
        {
            "Records": [
                {
                    "messageId": "19dd0b57-b21e-4ac1-bd88-01bbb068cb78",
                    "receiptHandle": "MessageReceiptHandle",
                    "body": json.dumps({"event_id": "evt_01jd0000000000000000000000"}),
                    "attributes": {
                        "ApproximateReceiveCount": "1",
                        "SentTimestamp": str(SIGNED_AT * 1000),
                        "SenderId": "123456789012",
                        "ApproximateFirstReceiveTimestamp": str(SIGNED_AT * 1000),
                    },
                    "messageAttributes": {},
                    "md5OfBody": hashlib.md5(
                        json.dumps({"event_id": "evt_01jd0000000000000000000000"}).encode()
                    ).hexdigest(),
                    "eventSource": "aws:sqs",
                    "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:hookrelay-deliveries",
                    "awsRegion": "us-east-1",
                }
            ]
        },
    )


if __name__ == "__main__":
    main()

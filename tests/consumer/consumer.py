"""A webhook consumer for hookrelay's tests: an HTTP server on 127.0.0.1 that
verifies each delivery the way a receiving service would, and logs what it
found, one JSON line per request.

- v1a (Ed25519): with the public keys it fetched from the relay's
  /.well-known/webhook-keys/{destination} (a JWKS), using the `cryptography`
  package (OpenSSL's Ed25519), an implementation independent of hookrelay's.
  No released official Standard Webhooks or Svix library verifies v1a yet.
- v1 (HMAC): with the official libraries, PyPI `standardwebhooks` and `svix`,
  when given the destination's whsec_ secret (so they also show that a
  header holding v1a entries beside v1 is read correctly).

Usage: python consumer.py --log PATH [--whsec SECRET]
It prints "listening PORT" once bound. POST /configure {"keys_url": URL}
makes it fetch the keys; any other POST is a delivery: 200 if every check it
was given passed, else 400.
"""
import argparse
import base64
import hashlib
import http.server
import json
import sys
import time
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
import standardwebhooks
import svix.webhooks

TOLERANCE_SECS = 300


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def fetch_keys(url):
    """The JWKS at `url`, as [(kid, raw key bytes)], checked for shape."""
    with urllib.request.urlopen(url, timeout=10) as response:
        document = json.load(response)
        cache_control = response.headers.get("Cache-Control", "")
    keys = []
    for jwk in document["keys"]:
        assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519", jwk
        raw = b64url_decode(jwk["x"])
        assert len(raw) == 32, jwk
        # The Standard Webhooks form must be the same key.
        assert jwk["whpk"] == "whpk_" + base64.b64encode(raw).decode(), jwk
        # The kid is the key's own fingerprint: recompute it.
        assert jwk["kid"] == hashlib.sha256(raw).hexdigest()[:16], jwk
        keys.append((jwk["kid"], raw))
    return keys, cache_control


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--whsec")
    args = parser.parse_args()
    state = {"keys": []}
    log = open(args.log, "a", buffering=1)

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *_):
            pass

        def answer(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if self.path == "/configure":
                url = json.loads(body)["keys_url"]
                state["keys"], cache_control = fetch_keys(url)
                return self.answer(200, {"kids": [k for k, _ in state["keys"]], "cache_control": cache_control})
            headers = {k.lower(): v for k, v in self.headers.items()}
            msg_id = headers.get("webhook-id", "")
            timestamp = headers.get("webhook-timestamp", "")
            signatures = headers.get("webhook-signature", "").split(" ")
            fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) <= TOLERANCE_SECS
            signed = f"{msg_id}.{timestamp}.".encode() + body
            kids = []
            for kid, raw in state["keys"]:
                key = Ed25519PublicKey.from_public_bytes(raw)
                for entry in signatures:
                    if not entry.startswith("v1a,"):
                        continue
                    try:
                        key.verify(base64.b64decode(entry[4:]), signed)
                    except (InvalidSignature, ValueError):
                        continue
                    kids.append(kid)
                    break
            record = {
                "id": msg_id,
                "fresh": fresh,
                "v1a_kids": kids,
                "versions": sorted({s.split(",", 1)[0] for s in signatures if "," in s}),
                "headers": {k: v for k, v in headers.items() if k.startswith("webhook-")},
                "body_b64": base64.b64encode(body).decode(),
            }
            ok = fresh and (bool(kids) or not state["keys"])
            if args.whsec:
                for name, verifier in (
                    ("standardwebhooks", standardwebhooks.Webhook(args.whsec)),
                    ("svix", svix.webhooks.Webhook(args.whsec)),
                ):
                    try:
                        if name == "svix":
                            verifier.verify(body, headers)
                        else:
                            verifier.verify(body, headers, json_parse=False)
                        record[name] = True
                    except Exception:
                        record[name] = False
                        ok = False
            record["ok"] = ok
            log.write(json.dumps(record) + "\n")
            self.answer(200 if ok else 400, {"ok": ok})

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"listening {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())

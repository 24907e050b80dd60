#!/usr/bin/env python3
"""Writes one sample API Gateway event per provider scheme into providers/.

Each provider's signature is computed here with Python's hmac module from
the provider's documentation, independently of hookrelay's Rust catalogue.
providers/hookrelay.toml configures one source per scheme (source id =
scheme name) with the secret used here, and providers/expected.json says
what the receiver must read from each sample (event type, delivery id).
tests/it/sample_events.rs replays every sample through the real receiver
handler. Timed schemes are signed at SIGNED_AT (see generate.py).
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from generate import DOMAIN, SIGNED_AT, http_api_v2

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "providers")
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TS = str(SIGNED_AT)


# Public-key schemes: fixed private keys, so the public keys in
# providers/hookrelay.toml stay the same from run to run.
DISCORD_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"hookrelay discord sample").digest())
SENDGRID_KEY = ec.derive_private_key(
    int.from_bytes(hashlib.sha256(b"hookrelay sendgrid sample").digest(), "big"), ec.SECP256R1()
)
PUBLIC_KEYS = {
    "discord": DISCORD_KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex(),
    "sendgrid": base64.b64encode(SENDGRID_KEY.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)).decode(),
}


# AWS SNS signs with the RSA key of a certificate it serves from
# https://sns.<region>.amazonaws.com/….pem. The samples' stand-in is a
# self-signed certificate whose key signs nothing else (it is made on the
# first run and kept, so the samples stay the same from run to run). The
# tests serve it from a server on loopback in place of SNS's host.
SNS_KEY_FILE = os.path.join(HERE, "sns-signing-key.pem")
SNS_CERT_FILE = os.path.join(HERE, "sns-signing-cert.pem")
SNS_TOPIC = "arn:aws:sns:us-east-1:123456789012:orders"
SNS_CERT_URL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem"
SNS_TIME = datetime.datetime.fromtimestamp(SIGNED_AT, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def sns_key_and_cert():
    if os.path.exists(SNS_KEY_FILE):
        with open(SNS_KEY_FILE, "rb") as f:
            key = serialization.load_pem_private_key(f.read(), None)
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        with open(SNS_KEY_FILE, "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    if not os.path.exists(SNS_CERT_FILE):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com (hookrelay test stand-in)")])
        start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(1).not_valid_before(start).not_valid_after(start + datetime.timedelta(days=3650))
                .sign(key, hashes.SHA256()))
        with open(SNS_CERT_FILE, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
    return key


def sns_message(key, message_type, message_id, message, version="1", subject=None, topic=SNS_TOPIC, token=None):
    """An SNS envelope signed as SNS signs it: `Name\nvalue\n` for each
    field the type signs, in name order (sns-verify-signature-of-message)."""
    fields = {"Type": message_type, "MessageId": message_id, "TopicArn": topic, "Message": message,
              "Timestamp": SNS_TIME}
    if subject is not None:
        fields["Subject"] = subject
    if message_type != "Notification":
        fields["Token"] = token or "2336412f37fb687f5d51e6e2425c464de12884eb3ee76e24ef36a29b05a0d8f1"
        fields["SubscribeURL"] = ("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"
                                  f"&TopicArn={topic}&Token={fields['Token']}")
    signed = [k for k in ["Message", "MessageId", "Subject", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
              if k in fields]
    string_to_sign = "".join(f"{k}\n{fields[k]}\n" for k in signed).encode()
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = key.sign(string_to_sign, padding.PKCS1v15(), digest)
    envelope = {**fields, "SignatureVersion": version, "Signature": base64.b64encode(signature).decode(),
                "SigningCertURL": SNS_CERT_URL,
                "UnsubscribeURL": f"https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={topic}:c9135db0"}
    body = json.dumps(envelope, indent=2).encode()
    headers = {"Content-Type": "text/plain; charset=UTF-8", "x-amz-sns-message-type": message_type,
               "x-amz-sns-message-id": message_id, "x-amz-sns-topic-arn": topic,
               "User-Agent": "Amazon Simple Notification Service Agent"}
    return body, headers


def discord_headers(body):
    return {"X-Signature-Ed25519": DISCORD_KEY.sign(TS.encode() + body).hex(), "X-Signature-Timestamp": TS}


def secret(scheme):
    # HTTP Basic's secret is the credentials, user:password.
    return f"sample-{scheme}-user:secret" if scheme == "basic" else f"sample-{scheme}-secret"


def mac(scheme, message, algo=hashlib.sha256):
    return hmac.new(secret(scheme).encode(), message, algo).digest()


def hexmac(scheme, message, algo=hashlib.sha256):
    return mac(scheme, message, algo).hex()


def b64mac(scheme, message, algo=hashlib.sha256):
    return base64.b64encode(mac(scheme, message, algo)).decode()


def url(scheme):
    return f"https://{DOMAIN}/hooks/{scheme}"


def standard(scheme, body, msg_id):
    key = base64.b64decode(STANDARD_SECRET[len("whsec_"):])
    sig = base64.b64encode(
        hmac.new(key, f"{msg_id}.{TS}.".encode() + body, hashlib.sha256).digest()
    ).decode()
    return {"svix-id": msg_id, "svix-timestamp": TS, "svix-signature": f"v1,{sig}"}


def j(value):
    return json.dumps(value, separators=(",", ":")).encode()


# scheme -> (body, headers for that body, expected event type, expected
# delivery id). Bodies are shaped like each provider's documented payloads.
def samples():
    out = {}

    body = j({"object_kind": "push", "ref": "refs/heads/main", "project": {"id": 15}})
    out["gitlab"] = (body, {
        "X-Gitlab-Token": secret("gitlab"),
        "X-Gitlab-Event": "Push Hook",
        "Idempotency-Key": "f5e5f430-f57b-4e6e-9fac-d9128cd7232f",
    }, "Push Hook", "f5e5f430-f57b-4e6e-9fac-d9128cd7232f")

    body = j({"push": {"changes": []}, "repository": {"full_name": "acme/app"}})
    out["bitbucket"] = (body, {
        "X-Hub-Signature": "sha256=" + hexmac("bitbucket", body),
        "X-Event-Key": "repo:push",
        "X-Request-UUID": "4a2c1c1e-7d3e-4a3b-9c52-0f0b2f6d1a10",
    }, "repo:push", "4a2c1c1e-7d3e-4a3b-9c52-0f0b2f6d1a10")

    body = j({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp"}}]}]})
    out["meta"] = (body, {
        "X-Hub-Signature-256": "sha256=" + hexmac("meta", body),
    }, "whatsapp_business_account.messages", None)

    # Mailgun signs timestamp + token, inside the body.
    token = "e0b5477167110d68991efc6b9f89f0a11066af27834600e123"
    body = j({"signature": {"token": token, "timestamp": TS, "signature": hexmac("mailgun", TS.encode() + token.encode())},
              "event-data": {"event": "delivered", "id": "CCXMjJ7nQi2N3BPigGOdgQ", "recipient": "alice@example.com"}})
    # Its delivery id is the signed timestamp and token (each token used
    # once), not the unsigned event-data id.
    out["mailgun"] = (body, {}, "delivered", f"{TS}.{token}")

    body = j({"merchant_id": "MLEFBHHSJGVHD", "type": "payment.updated", "event_id": "ac3ac95b-f97d-458c-a6e6-18981597e05f", "data": {"type": "payment", "id": "KkAkhdMsgzn59SM8A89WgKwekxLZY"}})
    out["square"] = (body, {
        "x-square-hmacsha256-signature": b64mac("square", url("square").encode() + body),
    }, "payment.updated", "ac3ac95b-f97d-458c-a6e6-18981597e05f")

    body = j([{"eventId": 100, "subscriptionId": 12345, "portalId": 62515, "occurredAt": SIGNED_AT * 1000, "subscriptionType": "contact.creation", "attemptNumber": 0, "objectId": 123, "changeSource": "CRM", "changeFlag": "NEW", "appId": 54321}])
    ms = str(SIGNED_AT * 1000)
    out["hubspot"] = (body, {
        "X-HubSpot-Signature-v3": b64mac("hubspot", b"POST" + url("hubspot").encode() + body + ms.encode()),
        "X-HubSpot-Request-Timestamp": ms,
    }, "contact.creation", "100")

    body = j({"type": "notification_event", "id": "notif_78c122d0-23ba-11e4-9464-79b01267cc2e", "topic": "contact.created", "app_id": "a86dr8yl", "data": {"item": {}}})
    out["intercom"] = (body, {
        "X-Hub-Signature": "sha1=" + hexmac("intercom", body, hashlib.sha1),
    }, "contact.created", "notif_78c122d0-23ba-11e4-9464-79b01267cc2e")

    body = j({"event": {"id": "01BWDWL3NYY7LUFPZCC28QUCMK", "event_type": "incident.triggered", "resource_type": "incident", "data": {"id": "PGR0VU2"}}})
    out["pagerduty"] = (body, {
        "X-PagerDuty-Signature": "v1=" + "00" * 32 + ",v1=" + hexmac("pagerduty", body),
        "X-Webhook-Id": "7b7a5f62-8e50-4d44-8b2c-2a0e7c6b2a11",
    }, "incident.triggered", "7b7a5f62-8e50-4d44-8b2c-2a0e7c6b2a11")

    body = j({"event_id": "01KBYWTTXW2SXX86TBH2SGNCCS", "event_type": "form_response", "form_response": {"form_id": "lT4Z3j", "token": "a3a12ec67a1365927098a606107fac15"}})
    out["typeform"] = (body, {
        "Typeform-Signature": "sha256=" + b64mac("typeform", body),
    }, "form_response", "01KBYWTTXW2SXX86TBH2SGNCCS")

    body = j({"event": "invitee.created", "created_at": "2026-11-18T10:13:20.000000Z", "payload": {"uri": "https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2/invitees/AAAAAAAAAAAAAAAA"}})
    out["calendly"] = (body, {
        "Calendly-Webhook-Signature": f"t={TS},v1=" + hexmac("calendly", TS.encode() + b"." + body),
    }, "invitee.created", None)

    body = j({"action": "created", "installation": {"uuid": "7a485448-a9e2-4c85-8a3c-4f44175783c9"}, "data": {"issue": {"id": "1117540176"}}})
    out["sentry"] = (body, {
        "Sentry-Hook-Signature": hexmac("sentry", body),
        "Sentry-Hook-Resource": "issue",
        "Sentry-Hook-Timestamp": TS,
        "Request-ID": "9d8a8c0b2e4f4d5a8d3c1b0a9f8e7d6c",
    }, "issue.created", "9d8a8c0b2e4f4d5a8d3c1b0a9f8e7d6c")

    body = j({"id": "uHHtKGrHbGxAXJqA9cX6FMVF", "type": "deployment.succeeded", "createdAt": SIGNED_AT * 1000, "payload": {"deployment": {"id": "dpl_2qcf"}}})
    out["vercel"] = (body, {
        "x-vercel-signature": hexmac("vercel", body, hashlib.sha1),
    }, "deployment.succeeded", "uHHtKGrHbGxAXJqA9cX6FMVF")

    body = j({"id": 727, "status": "processing", "currency": "USD", "total": "29.35"})
    out["woocommerce"] = (body, {
        "X-WC-Webhook-Signature": b64mac("woocommerce", body),
        "X-WC-Webhook-Topic": "order.created",
        "X-WC-Webhook-Resource": "order",
        "X-WC-Webhook-Event": "created",
        "X-WC-Webhook-ID": "12",
        "X-WC-Webhook-Delivery-ID": "8b3f0a4e2c7d9e1f6a5b4c3d2e1f0a9b",
    }, "order.created", "8b3f0a4e2c7d9e1f6a5b4c3d2e1f0a9b")

    body = j({"type": "zen:event-type:user.active_changed", "id": "2b7e2f4a-9f3d-4f6b-8e1c-0a7d5b3c2e1f", "account_id": 123456, "detail": {"id": "28"}})
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(SIGNED_AT))
    out["zendesk"] = (body, {
        "X-Zendesk-Webhook-Signature": b64mac("zendesk", iso.encode() + body),
        "X-Zendesk-Webhook-Signature-Timestamp": iso,
        "X-Zendesk-Webhook-Id": "01F1KRFQ6BG29CNWFR60NK5FNY",
        "X-Zendesk-Webhook-Invocation-Id": "8350205582",
    }, "zen:event-type:user.active_changed", "8350205582")

    body = j({"id": 1, "scheduled_for": "2026-11-18T10:13:20Z", "attempt_number": 1, "event": {"id": "24934862-d980-46cb-9402-43c81b0cdba6", "type": "charge:created"}})
    out["coinbase"] = (body, {
        "X-CC-Webhook-Signature": hexmac("coinbase", body),
    }, "charge:created", "1")

    body = j({"type": "video.asset.ready", "id": "3a56ac3d-33da-4366-855b-f592d898409d", "object": {"type": "asset", "id": "0201p02fGKPE7MrbC269XRD7LpcHhrmbu0002"}})
    out["mux"] = (body, {
        "Mux-Signature": f"t={TS},v1=" + hexmac("mux", TS.encode() + b"." + body),
    }, "video.asset.ready", "3a56ac3d-33da-4366-855b-f592d898409d")

    body = j({"list_folder": {"accounts": ["dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"]}, "delta": {"users": [12345678]}})
    out["dropbox"] = (body, {
        "X-Dropbox-Signature": hexmac("dropbox", body),
    }, None, None)

    body = j({"meta": {"event_name": "order_created"}, "data": {"type": "orders", "id": "1"}})
    out["lemonsqueezy"] = (body, {
        "X-Signature": hexmac("lemonsqueezy", body),
        "X-Event-Name": "order_created",
    }, "order_created", None)

    body = j({"entity": "event", "account_id": "acc_BFQ7uQEaa7j2z7", "event": "payment.captured", "payload": {"payment": {"entity": {"id": "pay_DESlfW9H8K9uqM"}}}})
    out["razorpay"] = (body, {
        "X-Razorpay-Signature": hexmac("razorpay", body),
        "x-razorpay-event-id": "JhNm1LjBlIFW2g",
    }, "payment.captured", "JhNm1LjBlIFW2g")

    body = j({"event": "charge.success", "data": {"id": 302961, "reference": "qTPrJoy9Bx"}})
    out["paystack"] = (body, {
        "x-paystack-signature": hexmac("paystack", body, hashlib.sha512),
    }, "charge.success", None)

    body = j({"id": "evt_az5sblvku4ge3dwpztvyizgcau", "type": "payment_approved", "data": {"id": "pay_mbabizu24mvu3mela5njyhpit4"}})
    out["checkout"] = (body, {
        "Cko-Signature": hexmac("checkout", body),
    }, "payment_approved", "evt_az5sblvku4ge3dwpztvyizgcau")

    body = j({"event": "taskCreated", "task_id": "1vj37mc", "webhook_id": "7fa3ec74-69a8-4530-a251-8a13730bd204"})
    out["clickup"] = (body, {
        "X-Signature": hexmac("clickup", body),
    }, "taskCreated", None)

    body = j({"id": "3888f21b-eaa7-38e3-8f3d-75a63bba8895", "type": "workflow-completed", "happened_at": "2026-11-18T10:13:20.000Z"})
    out["circleci"] = (body, {
        "circleci-signature": "v1=" + hexmac("circleci", body),
        "Circleci-Event-Type": "workflow-completed",
    }, "workflow-completed", "3888f21b-eaa7-38e3-8f3d-75a63bba8895")

    body = j({"id": "4f6c2b8a-2a7c-4d8e-9c1b-5e3f7a9d0b2c", "event": "trade-order.completed", "context": {"id": "trade-order-1"}})
    out["coinify"] = (body, {
        "X-Coinify-Webhook-Signature": hexmac("coinify", body),
    }, "trade-order.completed", "4f6c2b8a-2a7c-4d8e-9c1b-5e3f7a9d0b2c")

    body = j({"RecordType": "Delivery", "ServerID": 23, "MessageStream": "outbound", "MessageID": "00000000-0000-0000-0000-000000000000", "Recipient": "john@example.com", "DeliveredAt": "2026-11-18T10:13:20Z"})
    out["basic"] = (body, {
        "Authorization": "Basic " + base64.b64encode(secret("basic").encode()).decode(),
    }, "Delivery", None)

    body = j({"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "eventId": "b5a188b9-5ece-4636-b041-482ffda96311", "eventTime": "2026-11-18T10:13:20.000Z",
              "data": {"events": [{"uuid": "4c6b4e2a-8d9c-11ee-b9d1-0242ac120002", "eventType": "user.session.start"}]}})
    out["okta"] = (body, {"Authorization": secret("okta")}, "user.session.start", "b5a188b9-5ece-4636-b041-482ffda96311")

    body = j({"id": "787053080478613555", "application_id": "775799577604522054", "type": 2, "version": 1,
              "token": "ThisIsATokenFromDiscord", "data": {"id": "771825006014889984", "name": "blep", "type": 1}})
    out["discord"] = (body, discord_headers(body), "blep", "787053080478613555")

    body = b'[{"email":"alice@example.com","event":"delivered","sg_event_id":"ZGVsaXZlcmVkLTAtMjM0NTY3ODktdGVzdA","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","timestamp":1795000000}]\r\n'
    signature = SENDGRID_KEY.sign(TS.encode() + body, ec.ECDSA(hashes.SHA256()))
    out["sendgrid"] = (body, {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": TS,
    }, "delivered", "ZGVsaXZlcmVkLTAtMjM0NTY3ODktdGVzdA")

    body = j({"value": [{"id": "lsgTZMr9KwAAA", "subscriptionId": "7f105c7d-2dc5-4530-97cd-4e7ae6534c07", "subscriptionExpirationDateTime": "2026-11-20T18:23:45.9356913Z",
              "clientState": secret("microsoft_graph"), "changeType": "created", "resource": "Users/7a6e5ba5/Messages/AAMkADNm", "tenantId": "84bd8158-6d4d-4958-8b9f-9d6445542f95"}]})
    out["microsoft_graph"] = (body, {}, "created", "lsgTZMr9KwAAA")

    body, headers = sns_message(sns_key_and_cert(), "Notification", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
                                '{"order":"ord_1","status":"paid"}', subject="order paid")
    out["sns"] = (body, headers, "Notification", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324")

    for scheme, event_type in [
        ("clerk", "user.created"),
        ("resend", "email.delivered"),
        ("openai", "response.completed"),
        ("polar", "order.paid"),
        ("liveblocks", "storageUpdated"),
    ]:
        body = j({"type": event_type, "data": {"id": f"{scheme}_sample_1"}})
        msg_id = f"msg_{scheme}_sample_0001"
        out[scheme] = (body, standard(scheme, body, msg_id), event_type, msg_id)
    body = j({"id": "ufawqhfynnddngldkgtslldrkq", "status": "succeeded", "output": ["https://replicate.delivery/x.png"]})
    out["replicate"] = (body, standard("replicate", body, "msg_replicate_sample_0001"), "succeeded", "msg_replicate_sample_0001")
    return out


def main():
    os.makedirs(HERE, exist_ok=True)
    config = ["# One source per scheme, for the samples in this folder (see ../providers.py).\n"]
    expected = {}
    for scheme, (body, headers, event_type, delivery_id) in sorted(samples().items()):
        headers = {"Content-Type": "application/json", **headers}
        event = http_api_v2(f"/hooks/{scheme}", headers, body)
        with open(os.path.join(HERE, f"{scheme}.json"), "w") as f:
            json.dump(event, f, indent=2)
            f.write("\n")
        # SNS sources list the topics they accept in place of secrets.
        key = STANDARD_SECRET if "svix-signature" in headers else SNS_TOPIC if scheme == "sns" \
            else PUBLIC_KEYS.get(scheme, secret(scheme))
        config.append(f'\n[[sources]]\nid = "{scheme}"\nscheme = "{scheme}"\nsecrets = ["{key}"]\n')
        expected[scheme] = {"event_type": event_type, "delivery_id": delivery_id}
    with open(os.path.join(HERE, "hookrelay.toml"), "w") as f:
        f.write("".join(config))
    # Discord's PING interaction, answered by the receiver itself.
    ping = b'{"type":1}'
    with open(os.path.join(HERE, "discord-ping.json"), "w") as f:
        headers = {"Content-Type": "application/json", **discord_headers(ping)}
        json.dump(http_api_v2("/hooks/discord", headers, ping), f, indent=2)
        f.write("\n")
    # An SNS subscription confirmation (signature version 2).
    key = sns_key_and_cert()
    body, headers = sns_message(key, "SubscriptionConfirmation", "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
                                f"You have chosen to subscribe to the topic {SNS_TOPIC}.\nTo confirm the subscription, "
                                "visit the SubscribeURL included in this message.", version="2")
    with open(os.path.join(HERE, "sns-subscription-confirmation.json"), "w") as f:
        json.dump(http_api_v2("/hooks/sns", headers, body), f, indent=2)
        f.write("\n")
    # Bodies for the signing crate's own SNS tests.
    messages = {
        "notification_v1": sns_message(key, "Notification", "m-v1", "hello", subject="greeting")[0],
        "notification_v2": sns_message(key, "Notification", "m-v2", "line one\nline \u00e9 \"two\"", version="2")[0],
        "subscription_confirmation_v1": sns_message(key, "SubscriptionConfirmation", "m-sub", "confirm me")[0],
        "unsubscribe_confirmation_v2": sns_message(key, "UnsubscribeConfirmation", "m-unsub", "bye", version="2")[0],
        "other_topic_v2": sns_message(key, "Notification", "m-other", "hello", version="2",
                                      topic="arn:aws:sns:us-east-1:123456789012:someone-elses")[0],
        "other_key_v2": sns_message(rsa.generate_private_key(public_exponent=65537, key_size=2048),
                                    "Notification", "m-forged", "hello", version="2")[0],
    }
    data = os.path.join(os.path.dirname(HERE), "..", "shared", "signing", "tests", "data", "sns-messages.json")
    with open(data, "w") as f:
        json.dump({name: body.decode() for name, body in messages.items()}, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()

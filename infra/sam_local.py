#!/usr/bin/env python3
"""Helpers for infra/sam-local-test.sh: moto on a given address, the
stack's tables, queue and bucket on it, SQS events made from what the
receiver queued, and checks of what is stored. Uses boto3 (moto brings
it) and moto itself; nothing here talks to AWS.

    sam_local.py moto HOST PORT_FILE        # serve moto on HOST, port 0
    sam_local.py provision ENDPOINT OUT [SUFFIX]  # tables, queue, bucket -> OUT (JSON)
    sam_local.py sqs-event ENDPOINT QUEUE_URL OUT   # receive <= 10 -> Lambda SQS event
    sam_local.py ack ENDPOINT QUEUE_URL EVENT RESPONSE  # delete what the batch handled
    sam_local.py status FILE                 # sam local invoke stdout -> HTTP status
    sam_local.py body FILE                   # ... -> the answer's body
    sam_local.py event-id FILE               # ... -> the answer's event id
    sam_local.py stored ENDPOINT TABLE EVENT_ID DESTINATION  # event and delivery state
"""
import json
import os
import sys
import uuid

REGION = "us-east-1"


def client(service, endpoint):
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def serve_moto(host, port_file):
    # moto_server's own app, bound to port 0 and the port told through a
    # file, so no other process can take it between a choice and the bind.
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    server = make_server(host, 0, DomainDispatcherApplication(create_backend_app), threaded=True)
    port = server.socket.getsockname()[1]
    os.environ["MOTO_PORT"] = str(port)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


def provision(endpoint, out, suffix=None):
    """As shared/aws/src/provision.rs and the template create them, named
    hookrelay-events-SUFFIX and so on (a random suffix by default;
    infra/env.local.json names those of `local`)."""
    dynamo, sqs, s3 = (client(s, endpoint) for s in ("dynamodb", "sqs", "s3"))
    suffix = suffix or uuid.uuid4().hex[:8]
    names = {
        "events_table": f"hookrelay-events-{suffix}",
        "config_table": f"hookrelay-config-{suffix}",
        "body_bucket": f"hookrelay-bodies-{suffix}",
    }
    keys = [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]

    def attributes(*names):
        return [{"AttributeName": n, "AttributeType": "S"} for n in names]

    def index(name, projection):
        return {
            "IndexName": name,
            "KeySchema": [
                {"AttributeName": f"{name}pk", "KeyType": "HASH"},
                {"AttributeName": f"{name}sk", "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": projection},
        }

    dynamo.create_table(
        TableName=names["events_table"],
        KeySchema=keys,
        AttributeDefinitions=attributes("pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"),
        GlobalSecondaryIndexes=[index("gsi1", "KEYS_ONLY"), index("gsi2", "ALL")],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamo.create_table(
        TableName=names["config_table"],
        KeySchema=keys,
        AttributeDefinitions=attributes("pk", "sk"),
        BillingMode="PAY_PER_REQUEST",
    )
    dead = sqs.create_queue(QueueName=f"hookrelay-dead-{suffix}")["QueueUrl"]
    dead_arn = sqs.get_queue_attributes(QueueUrl=dead, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    names["queue_url"] = sqs.create_queue(
        QueueName=f"hookrelay-deliveries-{suffix}",
        Attributes={
            "VisibilityTimeout": "900",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dead_arn, "maxReceiveCount": "5"}),
        },
    )["QueueUrl"]
    names["dead_letter_queue_url"] = dead
    s3.create_bucket(Bucket=names["body_bucket"])
    with open(out, "w") as f:
        json.dump(names, f, indent=2)


def sqs_event(endpoint, queue_url, out):
    """What the event source mapping hands the dispatcher: a batch of up to
    10 messages as the Records of an SQS event."""
    sqs = client("sqs", endpoint)
    messages = []
    for _ in range(5):
        got = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10 - len(messages),
            VisibilityTimeout=300,
            WaitTimeSeconds=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        messages += got
        if not got or len(messages) == 10:
            break
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    records = []
    for m in messages:
        attributes = {
            "ApproximateReceiveCount": m["Attributes"].get("ApproximateReceiveCount", "1"),
            "SentTimestamp": m["Attributes"].get("SentTimestamp", "0"),
            "SenderId": m["Attributes"].get("SenderId", "123456789012"),
            "ApproximateFirstReceiveTimestamp": m["Attributes"].get("ApproximateFirstReceiveTimestamp", "0"),
        }
        message_attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": None,
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in m.get("MessageAttributes", {}).items()
        }
        records.append(
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": attributes,
                "messageAttributes": message_attributes,
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": REGION,
            }
        )
    with open(out, "w") as f:
        json.dump({"Records": records}, f, indent=2)
    print(len(records))


def answer(path):
    """The function's answer in `sam local invoke`'s stdout: the first JSON
    object there with a statusCode (the receiver's) or batchItemFailures
    (the dispatcher's). The function's own stdout (its metric documents)
    follows on the same stream, even on the same line."""
    text = open(path).read()
    decoder = json.JSONDecoder()
    at = text.find("{")
    while at != -1:
        try:
            value, end = decoder.raw_decode(text, at)
        except json.JSONDecodeError:
            at = text.find("{", at + 1)
            continue
        if isinstance(value, dict) and ("statusCode" in value or "batchItemFailures" in value):
            return value
        at = text.find("{", end)
    sys.exit(f"no function answer in {path}: {text[:2000]}")


def ack(endpoint, queue_url, event_file, response_file):
    """Deletes the batch's messages the dispatcher did not report failed,
    as the event source mapping does with ReportBatchItemFailures."""
    with open(event_file) as f:
        records = json.load(f)["Records"]
    result = answer(response_file)
    failed = {i["itemIdentifier"] for i in result.get("batchItemFailures", [])}
    sqs = client("sqs", endpoint)
    for r in records:
        if r["messageId"] not in failed:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=r["receiptHandle"])
    print(json.dumps(result))


def stored(endpoint, table, event_id, destination):
    """The event's item and its delivery's state, read straight from the
    table (the layout in shared/aws/src/lib.rs)."""
    dynamo = client("dynamodb", endpoint)
    pk = {"S": f"EVT#{event_id}"}
    event = dynamo.get_item(TableName=table, Key={"pk": pk, "sk": {"S": "EVENT"}}, ConsistentRead=True)
    if "Item" not in event:
        sys.exit(f"{event_id} is not stored in {table}")
    delivery = dynamo.get_item(
        TableName=table, Key={"pk": pk, "sk": {"S": f"DLV#{destination}"}}, ConsistentRead=True
    ).get("Item")
    state = delivery["state"]["S"] if delivery else "none"
    print(f"{event_id} stored; delivery to {destination}: {state}", file=sys.stderr)
    return state


def main():
    command, args = sys.argv[1], sys.argv[2:]
    if command == "moto":
        serve_moto(*args)
    elif command == "provision":
        provision(*args)
    elif command == "sqs-event":
        sqs_event(*args)
    elif command == "ack":
        ack(*args)
    elif command == "status":
        print(answer(args[0])["statusCode"])
    elif command == "body":
        print(answer(args[0])["body"])
    elif command == "event-id":
        print(json.loads(answer(args[0])["body"])["id"])
    elif command == "stored":
        print(stored(*args))
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()

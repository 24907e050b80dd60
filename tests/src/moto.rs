//! A real SQS/DynamoDB wire-protocol server for tests: `moto_server` on a
//! free loopback port, started by the test process itself.
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub struct Moto {
    child: Child,
    pub endpoint: String,
}

const INSTALL_HINT: &str =
    "python3 cannot import moto.server. Install it with: pip install 'moto[server]'";

/// moto's own server (what `moto_server` runs), with two differences, both
/// making it behave more like DynamoDB:
///
/// - its DynamoDB handlers run one at a time. moto checks a condition and
///   then writes without a lock, so two concurrent conditional writes can
///   both pass, which DynamoDB never allows; our claims rely on that
///   atomicity. SQS requests stay concurrent (long polls must not block).
/// - `TransactWriteItems` checks every condition first and then writes,
///   keeping copies of only the items it touches to undo a failed write.
///   moto copies every table the transaction names, on every call, so its
///   cost grows with the table: a soak of thousands of webhooks slowed to a
///   crawl. Same results, same errors.
const SERVER: &str = r#"
import os, sys, threading
from moto.server import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server
from moto.dynamodb import models as dm

def transact_write_items(self, transact_items):
    if len(transact_items) > 100:
        raise dm.TooManyTransactionsException()
    seen, plan, errors = set(), [], []
    for item in transact_items:
        if len(item) > 1:
            raise dm.TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError("Unsupported transaction operation")
        table_name = op["TableName"]
        if op_type == "Put":
            table = self.get_table(table_name)
            attrs = op["Item"]
            key = {table.hash_key_attr: attrs[table.hash_key_attr]}
            if table.range_key_attr is not None:
                key[table.range_key_attr] = attrs[table.range_key_attr]
        else:
            key = op["Key"]
        unique = (str(table_name), str(dict(sorted(key.items()))))
        if unique in seen:
            raise dm.MultipleTransactionsException()
        seen.add(unique)
        current = self.get_item(table_name, key)
        condition = op.get("ConditionExpression")
        if condition is not None:
            check = dm.get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues"))
            if not check.expr(current):
                old = None
                if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                    old = current.to_json()["Attributes"]
                errors.append(("ConditionalCheckFailed", "The conditional request failed", old))
                continue
        errors.append((None, None, None))
        plan.append((op_type, op, key, current))
    if any(code is not None for code, _, _ in errors):
        raise dm.TransactionCanceledException(errors)
    undo = []
    try:
        for op_type, op, key, current in plan:
            table_name = op["TableName"]
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            before = dm.copy.deepcopy(current.to_json()["Attributes"]) if current else None
            undo.append((table_name, key, before))
            if op_type == "Put":
                self.put_item(table_name, op["Item"], expression_attribute_names=names,
                              expression_attribute_values=values)
            elif op_type == "Delete":
                self.delete_item(table_name, key, expression_attribute_names=names,
                                 expression_attribute_values=values)
            elif op_type == "Update":
                self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                 expression_attribute_names=names,
                                 expression_attribute_values=values)
    except Exception:
        for table_name, key, before in reversed(undo):
            self.delete_item(table_name, key)
            if before is not None:
                self.put_item(table_name, before)
        raise

dm.DynamoDBBackend.transact_write_items = transact_write_items
app = DomainDispatcherApplication(create_backend_app)
dynamodb = threading.Lock()
def serve(environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with dynamodb:
            return list(app(environ, start_response))
    return app(environ, start_response)
# Bound to port 0 and the port told through a file: no other process can
# take it between a choice and the bind.
server = make_server("127.0.0.1", 0, serve, threaded=True)
port = server.socket.getsockname()[1]
os.environ["MOTO_PORT"] = str(port)  # read lazily, for the URLs moto makes
with open(sys.argv[1] + ".tmp", "w") as port_file:
    port_file.write(str(port))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
"#;

impl Moto {
    /// Starts a fresh server and waits until it accepts connections. A
    /// watchdog shell ends it when this test process exits, even if the
    /// handle is never dropped (as with [`shared`]).
    pub fn start() -> Moto {
        let found = Command::new("sh")
            .args(["-c", "python3 -c 'import moto.server, werkzeug'"])
            .stdout(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(found, "{INSTALL_HINT}");
        let port_file = std::env::temp_dir().join(unique_name("moto-port"));
        let child = Command::new("sh")
            .args([
                "-c",
                r#"python3 -c "$3" "$1" >/dev/null 2>&1 & m=$!
                   trap 'kill $m 2>/dev/null; exit 0' TERM INT
                   while kill -0 "$2" 2>/dev/null && kill -0 $m 2>/dev/null; do sleep 0.3; done
                   kill $m 2>/dev/null; wait $m 2>/dev/null"#,
                "moto-watchdog",
                &port_file.display().to_string(),
                &std::process::id().to_string(),
                SERVER,
            ])
            .stdin(Stdio::null())
            .spawn()
            .expect("spawn sh for moto_server");
        let deadline = Instant::now() + Duration::from_secs(30);
        let port = read_port_file(
            &port_file,
            deadline,
            &format!("moto_server did not start within 30 s ({INSTALL_HINT} if missing)"),
        );
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "moto_server did not accept on port {port} within 30 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let endpoint = format!("http://127.0.0.1:{port}");
        Moto { child, endpoint }
    }

    /// SDK configuration pointing at this server, with dummy credentials.
    pub fn sdk_config(&self) -> SdkConfig {
        sdk_config_for(&self.endpoint)
    }

    /// Stops the server (for tests of an unreachable store).
    pub fn stop(&mut self) {
        // TERM, so the watchdog shell's trap ends the server it started; a
        // SIGKILL would leave that python process running, orphaned.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.stop();
    }
}

/// SDK configuration for any endpoint — a live server, or a closed port to
/// play an unreachable service.
pub fn sdk_config_for(endpoint: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(Region::new("us-east-1"))
        // What `aws_config::defaults` would add: STS (an assumed role's
        // session) needs a clock and a sleep.
        .time_source(aws_smithy_async::time::SystemTimeSource::new())
        .sleep_impl(aws_smithy_async::rt::sleep::TokioSleep::new())
        .credentials_provider(aws_sdk_dynamodb::config::SharedCredentialsProvider::new(
            aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "tests"),
        ))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_timeout(Duration::from_secs(30))
                .build(),
        )
        .build()
}

/// One server shared by every test in this process; tests keep apart by
/// using [`unique_name`]s.
pub fn shared() -> &'static Moto {
    static SHARED: OnceLock<Moto> = OnceLock::new();
    SHARED.get_or_init(Moto::start)
}

/// A table or queue name no other test (or earlier run) uses.
pub fn unique_name(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// A new secret holding `value` in the shared server's Secrets Manager,
/// under a unique name starting with `name`; answers its ARN.
pub async fn create_secret(name: &str, value: &str) -> String {
    aws_sdk_secretsmanager::Client::new(&shared().sdk_config())
        .create_secret()
        .name(unique_name(name))
        .secret_string(value)
        .send()
        .await
        .expect("create the secret")
        .arn()
        .expect("a created secret has an ARN")
        .to_string()
}

/// The port a server started by a watchdog shell wrote to `path` (and
/// `path` removed), waiting for it until `deadline`; panics with
/// `too_late` after that.
pub fn read_port_file(path: &std::path::Path, deadline: Instant, too_late: &str) -> u16 {
    loop {
        if let Some(port) = std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.trim().parse().ok())
        {
            let _ = std::fs::remove_file(path);
            return port;
        }
        assert!(Instant::now() < deadline, "{too_late}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A stack's own tables and queue on a moto server: fresh names, created.
#[derive(Debug, Clone)]
pub struct Provisioned {
    pub events_table: String,
    pub config_table: String,
    pub queue_url: String,
    /// The S3 bucket for bodies too large for their item.
    pub body_bucket: String,
}

impl Provisioned {
    /// Creates them through `dynamo`, `sqs` and `s3` (clients of the
    /// server, or of a proxy in front of it).
    pub async fn create(
        dynamo: &aws_sdk_dynamodb::Client,
        sqs: &aws_sdk_sqs::Client,
        s3: &aws_sdk_s3::Client,
    ) -> Self {
        use hookrelay_aws::provision;
        let events_table = unique_name("events");
        let config_table = unique_name("config");
        provision::create_events_table(dynamo, &events_table)
            .await
            .expect("create the events table");
        provision::create_config_table(dynamo, &config_table)
            .await
            .expect("create the config table");
        let queue_url = provision::create_queue(sqs, &unique_name("queue"))
            .await
            .expect("create the queue");
        let body_bucket = unique_name("bodies");
        provision::create_body_bucket(s3, &body_bucket, 30)
            .await
            .expect("create the body bucket");
        Provisioned {
            events_table,
            config_table,
            queue_url,
            body_bucket,
        }
    }

    /// On the shared server, with clients of it.
    pub async fn on_shared_with_clients() -> (Self, aws_sdk_dynamodb::Client, aws_sdk_sqs::Client) {
        let sdk = shared().sdk_config();
        let (dynamo, sqs) = (
            aws_sdk_dynamodb::Client::new(&sdk),
            aws_sdk_sqs::Client::new(&sdk),
        );
        let s3 = hookrelay_aws::s3_client(&sdk);
        (Self::create(&dynamo, &sqs, &s3).await, dynamo, sqs)
    }

    /// On the shared server.
    pub async fn on_shared() -> Self {
        let sdk = shared().sdk_config();
        Self::create(
            &aws_sdk_dynamodb::Client::new(&sdk),
            &aws_sdk_sqs::Client::new(&sdk),
            &hookrelay_aws::s3_client(&sdk),
        )
        .await
    }

    /// The environment a process (a Lambda binary, `hookrelay dev --aws`,
    /// an admin command) needs to work on these, on `endpoint`.
    pub fn environment(&self, endpoint: &str) -> Vec<(String, String)> {
        vec![
            ("AWS_ENDPOINT_URL".into(), endpoint.to_string()),
            ("AWS_REGION".into(), "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID".into(), "test".into()),
            ("AWS_SECRET_ACCESS_KEY".into(), "test".into()),
            ("HOOKRELAY_EVENTS_TABLE".into(), self.events_table.clone()),
            ("HOOKRELAY_CONFIG_TABLE".into(), self.config_table.clone()),
            ("HOOKRELAY_QUEUE_URL".into(), self.queue_url.clone()),
            ("HOOKRELAY_BODY_BUCKET".into(), self.body_bucket.clone()),
        ]
    }
}

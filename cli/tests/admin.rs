//! The admin subcommands through the real binary, against both targets:
//! a running `hookrelay dev` (its in-memory store, via the admin endpoint)
//! and DynamoDB + SQS on moto (`--aws`, with `hookrelay dev --aws` as the
//! dispatcher). Deliveries go to a scripted sink on 127.0.0.1.
use hookrelay_signing::{sign_as_provider, ProviderMessage, Scheme, SchemeKind, Secret};
use hookrelay_tests::moto::{self, unique_name};
use hookrelay_tests::sink::{Reply, Sink};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const GITHUB_SECRET: &str = "admin-test-github-secret";
const APP_SECRET: &str = "whsec_YWRtaW4gdGVzdCBkZXN0aW5hdGlvbiBrZXkgMTIzNA==";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Dev,
    Moto,
}

/// One test per target for a scenario.
macro_rules! on_both_targets {
    ($scenario:ident: $dev:ident, $moto:ident) => {
        #[tokio::test(flavor = "multi_thread")]
        async fn $dev() {
            $scenario(Target::Dev).await;
        }

        #[tokio::test(flavor = "multi_thread")]
        async fn $moto() {
            $scenario(Target::Moto).await;
        }
    };
}

/// `hookrelay dev` on free ports (on moto tables and a queue of its own
/// for `Target::Moto`), and how to point admin commands at it.
struct Stack {
    dev: Child,
    /// What `hookrelay dev` logged (stderr).
    log: PathBuf,
    receiver: u16,
    args: Vec<String>,
    env: Vec<(String, String)>,
    client: reqwest::Client,
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self.dev.kill();
        let _ = self.dev.wait();
    }
}

/// A folder of its own for a stack's admin token.
fn state_dir() -> String {
    let dir = std::env::temp_dir().join(unique_name("hookrelay-state"));
    std::fs::create_dir_all(&dir).unwrap();
    dir.display().to_string()
}

fn config_file(sink: &Sink) -> PathBuf {
    let dir = std::env::temp_dir().join(unique_name("hookrelay-admin"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hookrelay.toml");
    std::fs::write(
        &path,
        format!(
            r#"allow_private_destinations = true

[[sources]]
id = "github"
scheme = "github"
secrets = ["{GITHUB_SECRET}"]

[[destinations]]
id = "app"
url = "{}"
secret = "{APP_SECRET}"
retry_schedule = ["0s", "50ms"]
timeout = "5s"

[[routes]]
source = "github"
destination = "app"
"#,
            sink.url("/app")
        ),
    )
    .unwrap();
    path
}

impl Stack {
    async fn start(target: Target, sink: &Sink) -> Stack {
        Self::start_with(target, sink, &[]).await
    }

    /// With `dev_args` added to `hookrelay dev`'s command line.
    async fn start_with(target: Target, sink: &Sink, dev_args: &[&str]) -> Stack {
        let config = config_file(sink);
        let log = config.with_file_name("dev.log");
        let mut env: Vec<(String, String)> = vec![("HOOKRELAY_STATE_DIR".into(), state_dir())];
        let mut args: Vec<String> = Vec::new();
        if target == Target::Moto {
            let provisioned = moto::Provisioned::on_shared().await;
            env.extend(provisioned.environment(&moto::shared().endpoint));
            args.push("--aws".into());
        }
        let mut command = Command::new(env!("CARGO_BIN_EXE_hookrelay"));
        command
            .args(["dev", "--config"])
            .arg(&config)
            .args(["--listen", "127.0.0.1:0"])
            .args(["--admin-listen", "127.0.0.1:0"])
            .args(dev_args)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("HOOKRELAY_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(std::fs::File::create(&log).unwrap()));
        if target == Target::Moto {
            command.arg("--aws");
        }
        let mut dev = command.spawn().unwrap();
        let (receiver, admin) = hookrelay_tests::dev_ports(&mut dev);
        if target == Target::Dev {
            args.extend(["--admin-url".into(), format!("http://127.0.0.1:{admin}")]);
        }
        let stack = Stack {
            dev,
            log,
            receiver,
            args,
            env,
            client: reqwest::Client::new(),
        };
        stack.wait_until_up(admin).await;
        stack
    }

    async fn wait_until_up(&self, admin: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let health = self
                .client
                .get(format!("http://127.0.0.1:{}/health", self.receiver))
                .send()
                .await;
            let admin_up = tokio::net::TcpStream::connect(("127.0.0.1", admin))
                .await
                .is_ok();
            if health.is_ok_and(|r| r.status() == 200) && admin_up {
                return;
            }
            assert!(Instant::now() < deadline, "hookrelay dev did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The admin token `hookrelay dev` wrote for its admin port.
    fn admin_token(&self) -> String {
        let dir = &self
            .env
            .iter()
            .find(|(k, _)| k == "HOOKRELAY_STATE_DIR")
            .unwrap()
            .1;
        let port = self.args[1].rsplit(':').next().unwrap();
        std::fs::read_to_string(format!("{dir}/admin-token-{port}")).unwrap()
    }

    /// Runs `hookrelay <args>` against this stack.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_hookrelay"))
            .args(args)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap()
    }

    /// Runs `hookrelay <args>` with `input` on its stdin; must succeed.
    fn run_with_stdin(&self, args: &[&str], input: &str) -> String {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_hookrelay"))
            .args(args)
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "hookrelay {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let output = self.run(args);
        assert!(
            output.status.success(),
            "hookrelay {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut with_json = args.to_vec();
        with_json.extend(["--output", "json"]);
        serde_json::from_str(&self.ok(&with_json)).unwrap()
    }

    /// Runs a command that must fail with `code`, saying `says`; returns
    /// its error text.
    fn refused(&self, args: &[&str], code: i32, says: &str) -> String {
        let output = self.run(args);
        let stderr = String::from_utf8_lossy(&output.stderr).to_string();
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr:?} lacks {says:?}");
        stderr
    }

    /// POSTs a GitHub-signed webhook; returns the event id.
    async fn send_github(&self, body: &str) -> String {
        let scheme = Scheme::from_parts(SchemeKind::Github, None).unwrap();
        let message = ProviderMessage {
            body: body.as_bytes(),
            timestamp: 0,
            id: "",
            url: None,
        };
        let mut request = self
            .client
            .post(format!("http://127.0.0.1:{}/hooks/github", self.receiver))
            .header("x-github-event", "push")
            .header("content-type", "application/json");
        for (name, value) in
            sign_as_provider(&scheme, &Secret::new(GITHUB_SECRET), &message).unwrap()
        {
            request = request.header(name, value);
        }
        let response = request.body(body.to_string()).send().await.unwrap();
        assert_eq!(response.status(), 202);
        let answer: Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
        answer["id"].as_str().unwrap().to_string()
    }

    /// Waits until `events list` filtered by `status` shows `count` events.
    async fn wait_for_status(&self, status: &str, count: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let listed = self.json(&["events", "list", "--status", status]);
            let events = listed.as_array().unwrap().clone();
            if events.len() >= count {
                assert_eq!(events.len(), count, "{listed}");
                return events;
            }
            assert!(
                Instant::now() < deadline,
                "only {} events {status}: {listed}",
                events.len()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn ids(listed: &Value) -> Vec<String> {
    listed
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_string())
        .collect()
}

// ---- configuration ----------------------------------------------------

/// Each configuration command family once through the binary: what it
/// prints, its exit codes, and that a refusal writes nothing. The rules
/// themselves (every refusal, on both backends) are tested in process, in
/// `tests/it/admin_rules.rs`.
async fn configuration_commands_through_the_binary(target: Target) {
    let sink = Sink::start().await;
    let stack = Stack::start(target, &sink).await;
    let listings = || {
        (
            stack.json(&["sources", "list"]),
            stack.json(&["destinations", "list"]),
            stack.json(&["routes", "list"]),
        )
    };
    let before = listings();
    assert_eq!(ids(&before.0), ["github"]);
    assert_eq!(ids(&before.1), ["app"]);

    // Refusals: exit 2 for invalid input (a flag the CLI cannot parse, a
    // change the use case refuses), nothing written.
    stack.refused(
        &[
            "sources", "add", "shop", "--scheme", "shopifx", "--secret", "s",
        ],
        2,
        "unknown scheme \"shopifx\"",
    );
    stack.refused(
        &[
            "destinations",
            "add",
            "internal",
            "--url",
            "http://10.0.0.8/hook",
            "--secret",
            APP_SECRET,
        ],
        2,
        "private, loopback or link-local",
    );
    stack.refused(
        &["routes", "add", "--source", "nope", "--destination", "app"],
        2,
        "no such source",
    );
    assert_eq!(listings(), before, "a refused change wrote something");

    // sources: add, exists (4), update, list (fingerprints only).
    stack.ok(&[
        "sources",
        "add",
        "shop",
        "--scheme",
        "shopify",
        "--secret",
        "shop-secret",
    ]);
    stack.refused(
        &[
            "sources", "add", "shop", "--scheme", "shopify", "--secret", "x",
        ],
        4,
        "exists",
    );
    stack.ok(&["sources", "update", "shop", "--tolerance-secs", "60"]);
    let sources = stack.json(&["sources", "list"]);
    let shop = sources
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "shop")
        .unwrap();
    assert_eq!(shop["tolerance_secs"], 60);
    assert!(!shop.to_string().contains("shop-secret"), "{shop}");
    assert!(shop["secrets"][0].as_str().unwrap().starts_with("sha256:"));

    // destinations: a generated secret is printed once and never listed.
    let added = stack.ok(&[
        "destinations",
        "add",
        "crm",
        "--url",
        "http://127.0.0.1:9/crm",
        "--allow-private",
        "--timeout",
        "3s",
    ]);
    let generated = added
        .lines()
        .find_map(|l| l.split("receiver): ").nth(1))
        .expect("a generated secret is printed once");
    assert!(generated.starts_with("whsec_"), "{added}");
    let listed = stack.ok(&["destinations", "list"]);
    assert!(
        listed.contains("crm") && !listed.contains(generated),
        "{listed}"
    );
    stack.ok(&["destinations", "update", "crm", "--timeout", "4s"]);

    // routes: add, update the filters, list; removal guarded (exit 4).
    stack.ok(&[
        "routes",
        "add",
        "--source",
        "shop",
        "--destination",
        "crm",
        "--events",
        "orders/*",
    ]);
    stack.ok(&[
        "routes",
        "update",
        "--source",
        "shop",
        "--destination",
        "crm",
        "--events",
        "orders/create,orders/paid",
    ]);
    let routes = stack.json(&["routes", "list"]);
    let route = routes
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["destination"] == "crm")
        .unwrap();
    assert_eq!(
        route["events"],
        serde_json::json!(["orders/create", "orders/paid"])
    );
    stack.refused(
        &["destinations", "remove", "crm"],
        4,
        "still routed to from shop",
    );
    stack.ok(&[
        "routes",
        "remove",
        "--source",
        "shop",
        "--destination",
        "crm",
    ]);
    stack.ok(&["destinations", "remove", "crm"]);
    stack.ok(&["sources", "remove", "shop"]);
    stack.refused(
        &["events", "show", "evt_01jd0000000000000000000000"],
        3,
        "no event",
    );
    assert_eq!(listings(), before);

    // config pull, then push what was pulled (renamed) back.
    let pulled = stack.ok(&["config", "pull"]);
    let file = std::env::temp_dir()
        .join(unique_name("pulled"))
        .with_extension("toml");
    std::fs::write(
        &file,
        pulled
            .replace("id = \"app\"", "id = \"app2\"")
            .replace("destination = \"app\"", "destination = \"app2\""),
    )
    .unwrap();
    let pushed = stack.ok(&[
        "config",
        "push",
        "--allow-private",
        "--config",
        file.to_str().unwrap(),
    ]);
    assert!(
        pushed.contains("pushed 1 sources, 1 destinations, 1 routes"),
        "{pushed}"
    );
    assert_eq!(ids(&stack.json(&["destinations", "list"])), ["app2"]);
}

on_both_targets!(configuration_commands_through_the_binary: configuration_on_dev, configuration_on_moto);

// ---- route filters: tried on stored events, then saved -------------------

/// `routes test` tries a filter on the stored pushes (from a file and from
/// stdin) and names the field each non-match failed on; `routes update
/// --filter` saves it, `events show` then says what the route made of an
/// event, and `--no-filter` takes it off again.
async fn a_filter_is_tried_then_saved_through_the_binary(target: Target) {
    let sink = Sink::start().await;
    sink.script("/app", vec![Reply::Status(200)]);
    let stack = Stack::start(target, &sink).await;
    let mut ids = Vec::new();
    for (total, reference) in [
        (250, "refs/heads/main"),
        (50, "refs/heads/main"),
        (900, "refs/tags/v1"),
    ] {
        ids.push(
            stack
                .send_github(&format!(r#"{{"total":{total},"ref":"{reference}"}}"#))
                .await,
        );
        // Distinct milliseconds: newest first is then a known order.
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let dir = std::env::temp_dir().join(unique_name("hookrelay-filter"));
    std::fs::create_dir_all(&dir).unwrap();
    let filter = dir.join("branch-over-100.json");
    let pattern =
        r#"{"body": {"total": [{"numeric": [">", 100]}], "ref": [{"prefix": "refs/heads/"}]}}"#;
    std::fs::write(&filter, pattern).unwrap();
    let filter = filter.to_str().unwrap();

    let tried = stack.json(&["routes", "test", "--filter", filter]);
    let verdicts: Vec<(String, bool, Value)> = tried
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["matched"].as_bool().unwrap(),
                r["failed_field"].clone(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [
            (ids[2].clone(), false, Value::from("body.ref")),
            (ids[1].clone(), false, Value::from("body.total")),
            (ids[0].clone(), true, Value::Null),
        ]
    );
    let table = stack.ok(&["routes", "test", "--filter", filter, "--limit", "2"]);
    assert!(table.contains("no: body.ref"), "{table}");
    assert!(table.contains("no: body.total"), "{table}");
    assert!(table.ends_with("0 of 2 event(s) matched\n"), "{table}");
    let from_stdin = stack.run_with_stdin(
        &[
            "routes", "test", "--filter", "-", "--source", "github", "--output", "json",
        ],
        pattern,
    );
    assert_eq!(
        serde_json::from_str::<Value>(&from_stdin).unwrap(),
        tried,
        "the pattern read from stdin"
    );
    let wrong = dir.join("wrong.json");
    std::fs::write(&wrong, r#"{"body": {"total": [{"numeric": [">"]}]}}"#).unwrap();
    let wrong = wrong.to_str().unwrap();
    stack.refused(
        &["routes", "test", "--filter", wrong],
        2,
        "/body/total/0/numeric",
    );
    stack.refused(
        &["routes", "test", "--filter", filter, "--source", "nope"],
        3,
        "no source nope",
    );

    // Saved on the route: listed, and judged per event.
    stack.refused(
        &[
            "routes",
            "update",
            "--source",
            "github",
            "--destination",
            "app",
            "--filter",
            wrong,
        ],
        2,
        "/body/total/0/numeric",
    );
    stack.ok(&[
        "routes",
        "update",
        "--source",
        "github",
        "--destination",
        "app",
        "--filter",
        filter,
    ]);
    let routes = stack.json(&["routes", "list"]);
    let saved: Value = serde_json::from_str(routes[0]["filter"].as_str().unwrap()).unwrap();
    assert_eq!(saved, serde_json::from_str::<Value>(pattern).unwrap());
    assert_eq!(routes[0]["events"], serde_json::json!(["*"]));
    assert!(stack.ok(&["routes", "list"]).contains(r#"{"body":"#));
    let shown = stack.ok(&["events", "show", &ids[1]]);
    assert!(
        shown.contains("app: not matched: filter failed at body.total"),
        "{shown}"
    );
    assert!(stack
        .ok(&["events", "show", &ids[0]])
        .contains("app: matched"));

    // Only the events change on update; --no-filter removes the filter.
    stack.ok(&[
        "routes",
        "update",
        "--source",
        "github",
        "--destination",
        "app",
        "--events",
        "push",
    ]);
    let routes = stack.json(&["routes", "list"]);
    assert_eq!(routes[0]["events"], serde_json::json!(["push"]));
    assert!(routes[0]["filter"].is_string(), "{routes}");
    stack.ok(&[
        "routes",
        "update",
        "--source",
        "github",
        "--destination",
        "app",
        "--no-filter",
    ]);
    let routes = stack.json(&["routes", "list"]);
    assert!(routes[0].get("filter").is_none(), "{routes}");
    assert_eq!(routes[0]["events"], serde_json::json!(["push"]));
    std::fs::remove_dir_all(&dir).unwrap();
}

on_both_targets!(a_filter_is_tried_then_saved_through_the_binary: filters_on_dev, filters_on_moto);

// ---- logs, replay and recovery ----------------------------------------

async fn an_outage_is_recovered_each_failed_delivery_once(target: Target) {
    let sink = Sink::start().await;
    sink.script("/app", vec![Reply::Status(503)]);
    let stack = Stack::start(target, &sink).await;

    let mut events = Vec::new();
    for n in 0..4 {
        events.push(stack.send_github(&format!("{{\"n\":{n}}}")).await);
    }
    let failed = stack.wait_for_status("failed", 4).await;
    let mut failed_ids = ids(&Value::Array(failed));
    failed_ids.sort();
    let mut sent = events.clone();
    sent.sort();
    assert_eq!(failed_ids, sent);
    assert_eq!(sink.received("/app").len(), 8, "two attempts each");

    // The logs: every attempt failed, and `events show` has the detail.
    let attempts = stack.json(&[
        "attempts",
        "list",
        "--destination",
        "app",
        "--status",
        "failed",
    ]);
    assert_eq!(attempts.as_array().unwrap().len(), 8, "{attempts}");
    assert!(attempts
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["outcome"]["status"] == 503));
    let shown = stack.ok(&["events", "show", &events[0]]);
    assert!(shown.contains("{\"n\":0}"), "{shown}");
    assert!(shown.contains("app: failed after 2 attempt(s)"), "{shown}");
    assert!(shown.contains("x-github-event: push"), "{shown}");
    let listed = stack.json(&["events", "list", "--source", "github", "--since", "1h"]);
    assert_eq!(listed.as_array().unwrap().len(), 4);
    let none = stack.json(&["events", "list", "--since", "2099-01-01T00:00:00Z"]);
    assert!(none.as_array().unwrap().is_empty(), "{none}");

    // The destination is back: recover every failed delivery.
    sink.script("/app", vec![Reply::Status(200)]);
    let recovered = stack.json(&[
        "replay",
        "--destination",
        "app",
        "--status",
        "failed",
        "--since",
        "1h",
    ]);
    assert_eq!(recovered.as_array().unwrap().len(), 4, "{recovered}");
    stack.wait_for_status("succeeded", 4).await;
    // Recovering again finds nothing failed and sends nothing.
    let again = stack.json(&["replay", "--destination", "app", "--status", "failed"]);
    assert!(again.as_array().unwrap().is_empty(), "{again}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let successes = sink.successes_by_webhook_id();
    assert_eq!(successes.len(), 4, "{successes:?}");
    assert!(successes.values().all(|&n| n == 1), "{successes:?}");
    // Same webhook-id as the failed attempts: receivers can deduplicate.
    let first_failed: Vec<String> = sink.received("/app")[..8]
        .iter()
        .map(|r| r.header("webhook-id").unwrap().to_string())
        .collect();
    assert!(successes.keys().all(|id| first_failed.contains(id)));

    // One event replayed by hand: a new series, the same webhook-id.
    let replayed = stack.json(&["replay", &events[1], "--destination", "app"]);
    assert_eq!(replayed[0]["previous_state"], "succeeded");
    let webhook_id = events[1].replacen("evt_", "msg_", 1);
    wait_until("the replayed delivery", || {
        sink.successes_by_webhook_id().get(&webhook_id) == Some(&2)
    })
    .await;
    let shown = stack.ok(&["events", "show", &events[1]]);
    assert!(shown.contains("series 2"), "{shown}");
    // Without --destination: to every destination it was delivered to.
    let replayed = stack.json(&["replay", &events[2]]);
    assert_eq!(replayed.as_array().unwrap().len(), 1, "{replayed}");
    assert_eq!(replayed[0]["destination"], "app");
    let webhook_id = events[2].replacen("evt_", "msg_", 1);
    wait_until("the second replayed delivery", || {
        sink.successes_by_webhook_id().get(&webhook_id) == Some(&2)
    })
    .await;
    let totals: HashMap<String, usize> = sink.successes_by_webhook_id();
    assert_eq!(totals.values().sum::<usize>(), 6);
}

on_both_targets!(an_outage_is_recovered_each_failed_delivery_once: recovery_on_dev, recovery_on_moto);

// ---- disable, park, enable in order ------------------------------------

async fn parked_deliveries_go_out_in_arrival_order_on_enable(target: Target) {
    let sink = Sink::start().await;
    let stack = Stack::start(target, &sink).await;
    let said = stack.ok(&["destinations", "disable", "app"]);
    assert!(said.contains("parked"), "{said}");
    let listed = stack.ok(&["destinations", "list"]);
    assert!(listed.contains("disabled (disabled by hand"), "{listed}");

    let mut events = Vec::new();
    for n in 0..5 {
        events.push(stack.send_github(&format!("{{\"n\":{n}}}")).await);
    }
    stack.wait_for_status("parked", 5).await;
    assert_eq!(
        sink.received_count(),
        0,
        "a disabled destination was attempted"
    );

    let said = stack.ok(&["destinations", "enable", "app"]);
    assert!(said.contains("arrival order"), "{said}");
    stack.wait_for_status("succeeded", 5).await;
    let bodies = sink.bodies("/app");
    let expected: Vec<String> = (0..5).map(|n| format!("{{\"n\":{n}}}")).collect();
    assert_eq!(bodies, expected);
    assert!(stack.ok(&["destinations", "list"]).contains("enabled"));
}

on_both_targets!(parked_deliveries_go_out_in_arrival_order_on_enable: parking_on_dev, parking_on_moto);

/// `config push` of a file that enables a disabled destination releases
/// its parked deliveries, as `destinations enable` does.
async fn a_push_that_enables_a_destination_releases_it(target: Target) {
    let sink = Sink::start().await;
    let stack = Stack::start(target, &sink).await;
    stack.ok(&["destinations", "disable", "app"]);
    for n in 0..2 {
        stack.send_github(&format!("{{\"n\":{n}}}")).await;
    }
    stack.wait_for_status("parked", 2).await;
    let pulled = stack.ok(&["config", "pull"]);
    assert!(pulled.contains("enabled = false"), "{pulled}");
    let enabled: String = pulled
        .lines()
        .filter(|l| !l.starts_with("disabled_reason"))
        .map(|l| l.replace("enabled = false", "enabled = true") + "\n")
        .collect();
    let file = std::env::temp_dir()
        .join(unique_name("enabled"))
        .with_extension("toml");
    std::fs::write(&file, enabled).unwrap();
    let pushed = stack.ok(&[
        "config",
        "push",
        "--allow-private",
        "--config",
        file.to_str().unwrap(),
    ]);
    assert!(pushed.contains("app enabled again, releasing"), "{pushed}");
    stack.wait_for_status("succeeded", 2).await;
    let bodies = sink.bodies("/app");
    assert_eq!(bodies, ["{\"n\":0}", "{\"n\":1}"]);
}

on_both_targets!(a_push_that_enables_a_destination_releases_it: push_enables_on_dev, push_enables_on_moto);

// ---- automatic disable and probing ---------------------------------------

async fn a_failing_destination_is_disabled_then_probed_back(target: Target) {
    let sink = Sink::start().await;
    sink.script("/app", vec![Reply::Status(500)]);
    let stack = Stack::start_with(
        target,
        &sink,
        &["--auto-disable-after", "1s", "--probe-every", "1s"],
    )
    .await;
    let mut bodies: HashMap<String, String> = HashMap::new();
    let send = |n: u32| {
        let body = format!("{{\"n\":{n}}}");
        let stack = &stack;
        async move { (stack.send_github(&body).await, body) }
    };
    let (id, body) = send(0).await;
    bodies.insert(id, body);
    stack.wait_for_status("failed", 1).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (id, body) = send(1).await;
    bodies.insert(id, body);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let listed = stack.ok(&["destinations", "list"]);
        if listed.contains("disabled (every attempt failed") {
            break;
        }
        assert!(Instant::now() < deadline, "not disabled: {listed}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Parked while disabled, not attempted: what arrives now, and a retry
    // that was still due when it was disabled.
    let attempted = sink.received("/app").len();
    let mut later = Vec::new();
    for n in 2..4 {
        let (id, body) = send(n).await;
        bodies.insert(id.clone(), body);
        later.push(id);
    }
    let mut parked: Vec<String>;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        // Pending first: a delivery can go from pending to parked between
        // two listings, never back while the destination is disabled, so
        // none pending, then the parked list, sees every parked one.
        let pending = ids(&stack.json(&["events", "list", "--status", "pending"]));
        parked = ids(&stack.json(&["events", "list", "--status", "parked"]));
        if later.iter().all(|id| parked.contains(id)) && pending.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "not parked: {parked:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        sink.received("/app")
            .iter()
            .skip(attempted)
            .all(|r| String::from_utf8_lossy(&r.body).contains("hookrelay.probe")),
        "a parked delivery was attempted"
    );
    // The destination recovers: a probe enables it and the parked
    // deliveries follow, in arrival order.
    sink.script("/app", vec![Reply::Status(200)]);
    let succeeded = stack.wait_for_status("succeeded", parked.len()).await;
    assert_eq!(succeeded.len(), parked.len());
    assert!(stack.ok(&["destinations", "list"]).contains("enabled"));
    let delivered: Vec<String> = sink
        .received("/app")
        .iter()
        .filter(|r| r.status == Some(200))
        .map(|r| r.body_text())
        .filter(|body| !body.contains("hookrelay.probe"))
        .collect();
    parked.sort();
    let in_arrival_order: Vec<String> = parked.iter().map(|id| bodies[id].clone()).collect();
    assert_eq!(delivered, in_arrival_order);
}

on_both_targets!(a_failing_destination_is_disabled_then_probed_back: health_on_dev, health_on_moto);

// ---- secrets -----------------------------------------------------------

async fn rotated_secrets_overlap_for_the_grace_period(target: Target) {
    let sink = Sink::start().await;
    let stack = Stack::start(target, &sink).await;
    let rotated = stack.json(&["secrets", "rotate", "--destination", "app", "--grace", "3s"]);
    let new_secret = rotated["secret"].as_str().unwrap().to_string();
    assert!(new_secret.starts_with("whsec_") && new_secret != APP_SECRET);

    stack.send_github("{\"during\":true}").await;
    wait_until("the delivery during the grace period", || {
        sink.received_count() == 1
    })
    .await;
    let during = &sink.received("/app")[0];
    assert_eq!(
        during
            .header("webhook-signature")
            .unwrap()
            .split(' ')
            .count(),
        2,
        "both secrets sign"
    );
    assert!(
        during.python_verifies(APP_SECRET),
        "the old secret verifies"
    );
    assert!(
        during.python_verifies(&new_secret),
        "the new secret verifies"
    );

    tokio::time::sleep(Duration::from_secs(4)).await;
    stack.send_github("{\"after\":true}").await;
    wait_until("the delivery after the grace period", || {
        sink.received_count() == 2
    })
    .await;
    let after = &sink.received("/app")[1];
    assert!(after.python_verifies(&new_secret));
    assert!(
        !after.python_verifies(APP_SECRET),
        "the old secret still verifies after the grace period"
    );

    // A source's secrets: add the successor, retire the old one.
    stack.ok(&[
        "secrets",
        "rotate",
        "--source",
        "github",
        "--add",
        "next-github-secret",
    ]);
    stack.refused(
        &[
            "secrets",
            "rotate",
            "--source",
            "github",
            "--retire",
            "never-had-it",
        ],
        3,
        "no such secret",
    );
    stack.ok(&[
        "secrets",
        "rotate",
        "--source",
        "github",
        "--retire",
        GITHUB_SECRET,
    ]);
    stack.refused(
        &[
            "secrets",
            "rotate",
            "--source",
            "github",
            "--retire",
            "next-github-secret",
        ],
        2,
        "only secret",
    );
    let response = stack
        .client
        .post(format!("http://127.0.0.1:{}/hooks/github", stack.receiver))
        .header(
            "x-hub-signature-256",
            sign_as_provider(
                &Scheme::from_parts(SchemeKind::Github, None).unwrap(),
                &Secret::new(GITHUB_SECRET),
                &ProviderMessage {
                    body: b"{}",
                    timestamp: 0,
                    id: "",
                    url: None,
                },
            )
            .unwrap()[0]
                .1
                .clone(),
        )
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        401,
        "a retired source secret still verifies"
    );
}

on_both_targets!(rotated_secrets_overlap_for_the_grace_period: rotation_on_dev, rotation_on_moto);

/// From HMAC to Ed25519 with the CLI: only the public key is printed and
/// listed, the key is published at the well-known path at once, and during
/// the grace every delivery carries the old `v1` and the new `v1a`.
async fn rotating_to_ed25519_signs_both_ways_and_publishes_the_key(target: Target) {
    let sink = Sink::start().await;
    let stack = Stack::start(target, &sink).await;
    let rotated = stack.json(&[
        "secrets",
        "rotate",
        "--destination",
        "app",
        "--ed25519",
        "--grace",
        "1h",
    ]);
    assert!(rotated.get("secret").is_none(), "{rotated}");
    let public = rotated["public_key"].as_str().unwrap().to_string();
    let key = hookrelay_signing::WebhookPublicKey::parse(&public).unwrap();

    let listed = stack.ok(&["destinations", "list", "--output", "json"]);
    assert!(!listed.contains("whsk_"), "{listed}");
    let listed: Value = serde_json::from_str(&listed).unwrap();
    let app = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "app")
        .unwrap();
    assert_eq!(app["public_key"], public.as_str(), "{app}");
    assert!(app["secret"].as_str().unwrap().starts_with("sha256:"));
    assert!(stack.ok(&["destinations", "list"]).contains(&public));
    // config pull round-trips the key itself, as it does secrets.
    let pulled = stack.ok(&["config", "pull"]);
    assert!(
        pulled.contains("secret = \"whsk_") && pulled.contains(APP_SECRET),
        "{pulled}"
    );

    let published: Value = serde_json::from_str(
        &stack
            .client
            .get(format!(
                "http://127.0.0.1:{}/.well-known/webhook-keys/app",
                stack.receiver
            ))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(published["keys"][0]["whpk"], public.as_str(), "{published}");

    stack.send_github("{\"rotated\":true}").await;
    wait_until("the delivery", || sink.received_count() == 1).await;
    let delivery = &sink.received("/app")[0];
    let header = delivery.header("webhook-signature").unwrap();
    let versions: Vec<_> = header
        .split(' ')
        .map(|s| s.split(',').next().unwrap())
        .collect();
    assert_eq!(versions, ["v1a", "v1"], "{header}");
    assert!(
        delivery.python_verifies(APP_SECRET),
        "the old secret verifies"
    );
    assert!(
        key.verifies(
            header,
            delivery.header("webhook-id").unwrap(),
            delivery
                .header("webhook-timestamp")
                .unwrap()
                .parse()
                .unwrap(),
            &delivery.body
        ),
        "the new key verifies"
    );
}

on_both_targets!(rotating_to_ed25519_signs_both_ways_and_publishes_the_key: ed25519_rotation_on_dev, ed25519_rotation_on_moto);

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_endpoint_refuses_what_a_web_page_could_send() {
    let sink = Sink::start().await;
    let stack = Stack::start(Target::Dev, &sink).await;
    let url = format!("{}/admin", stack.args[1]);
    let list = r#"{"op":"list_sources"}"#;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let token = stack.admin_token();
    let cases: [(&str, &str, Option<&str>, u16); 4] = [
        ("application/json", "127.0.0.1", None, 200),
        (
            "application/json",
            "127.0.0.1",
            Some("https://evil.example"),
            403,
        ),
        ("text/plain", "127.0.0.1", None, 403),
        ("application/json", "rebound.evil.example", None, 403),
    ];
    for (content_type, host, origin, status) in cases {
        let mut request = client
            .post(&url)
            .header("content-type", content_type)
            .header("host", host)
            .bearer_auth(&token)
            .body(list);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.status(),
            status,
            "{content_type} {host} {origin:?}"
        );
    }
}

/// A loopback port nothing listens on (just released by us); what is under
/// test here is the absence of a server.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn admin_commands_say_how_to_reach_a_stack_when_none_runs() {
    let output = Command::new(env!("CARGO_BIN_EXE_hookrelay"))
        .args([
            "sources",
            "list",
            "--admin-url",
            &format!("http://127.0.0.1:{}", closed_port()),
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is `hookrelay dev` running?"), "{stderr}");
}

/// Any local process can reach loopback: without the token `hookrelay dev`
/// wrote (readable by its user only) the admin endpoint answers 401, and
/// the CLI says how to get it.
#[tokio::test(flavor = "multi_thread")]
async fn the_admin_endpoint_needs_its_token() {
    let sink = Sink::start().await;
    let stack = Stack::start(Target::Dev, &sink).await;
    let url = format!("{}/admin", stack.args[1]);
    let token = stack.admin_token();
    assert_eq!(token.len(), 64, "{token}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let dir = &stack.env[0].1;
        let port = stack.args[1].rsplit(':').next().unwrap();
        let mode = std::fs::metadata(format!("{dir}/admin-token-{port}"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the token file is readable by others: {mode:o}"
        );
    }
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    for bearer in [None, Some("0".repeat(64)), Some(format!("{token}0"))] {
        let mut request = client
            .post(&url)
            .header("content-type", "application/json")
            .body(r#"{"op":"pull_config"}"#);
        if let Some(bearer) = &bearer {
            request = request.bearer_auth(bearer);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{bearer:?}");
        let text = response.text().await.unwrap();
        assert!(!text.contains(GITHUB_SECRET), "{text}");
    }
    // The CLI finds the token itself; with a wrong one it is refused.
    assert!(stack.ok(&["sources", "list"]).contains("github"));
    let output = Command::new(env!("CARGO_BIN_EXE_hookrelay"))
        .args(["config", "pull"])
        .args(&stack.args)
        .env("HOOKRELAY_ADMIN_TOKEN", "not-the-token")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("HOOKRELAY_ADMIN_TOKEN"), "{stderr}");
    assert!(!String::from_utf8_lossy(&output.stdout).contains(GITHUB_SECRET));
}

/// A destination's extra headers are often its API key, and a URL may
/// carry credentials: neither may show in any output format, in an error,
/// or in dev's log.
async fn credentials_never_reach_the_output_or_the_log(target: Target) {
    let sink = Sink::start().await;
    let stack = Stack::start(target, &sink).await;
    let api_key = "Bearer api-key-7f3a9c1e-do-not-print";
    let url = sink.url("/keyed");
    let header = format!("Authorization={api_key}");
    stack.ok(&[
        "destinations",
        "add",
        "keyed",
        "--url",
        &url,
        "--header",
        &header,
        "--allow-private",
    ]);
    let mut printed = String::new();
    printed += &stack.ok(&["destinations", "list"]);
    printed += &stack.json(&["destinations", "list"]).to_string();
    printed += &stack.ok(&["destinations", "update", "keyed", "--timeout", "3s"]);
    printed += &stack
        .json(&["destinations", "update", "keyed", "--timeout", "4s"])
        .to_string();
    let listed = stack.json(&["destinations", "list"]);
    let keyed = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "keyed")
        .unwrap();
    assert!(
        keyed["headers"]["Authorization"]
            .as_str()
            .unwrap()
            .starts_with("sha256:"),
        "{keyed}"
    );
    // A URL with credentials is refused, and the refusal does not repeat them.
    let with_password = url.replace("http://", "http://admin:hunter2-secret@");
    for args in [
        vec![
            "destinations",
            "add",
            "creds",
            "--url",
            &with_password,
            "--allow-private",
        ],
        vec![
            "destinations",
            "update",
            "keyed",
            "--url",
            &with_password,
            "--allow-private",
        ],
    ] {
        printed += &stack.refused(&args, 2, "credentials");
    }
    let log = std::fs::read_to_string(&stack.log).unwrap();
    for (what, text) in [("output", &printed), ("dev's log", &log)] {
        for secret in ["api-key-7f3a9c1e", "hunter2-secret", APP_SECRET] {
            assert!(!text.contains(secret), "{secret} in {what}:\n{text}");
        }
    }
}

on_both_targets!(credentials_never_reach_the_output_or_the_log: credentials_on_dev, credentials_on_moto);

/// A destination's `auth`, set from a file (or stdin): its kind listed,
/// its credentials fingerprints in every output and absent from dev's log;
/// `config pull` prints them whole and `config push` takes them back.
async fn auth_credentials_are_masked_and_round_trip_through_pull(target: Target) {
    let sink = Sink::start().await;
    let stack = Stack::start(target, &sink).await;
    let client_secret = "oauth-cs-5d1e-do-not-print";
    let password = "basic-pw-93b2-do-not-print";
    let file = std::env::temp_dir()
        .join(unique_name("auth"))
        .with_extension("json");
    std::fs::write(
        &file,
        serde_json::json!({
            "kind": "oauth2_client_credentials",
            "token_url": "https://id.example.com/oauth2/token",
            "client_id": "relay",
            "client_secret": client_secret,
            "scope": "hooks:write",
        })
        .to_string(),
    )
    .unwrap();
    let url = sink.url("/authed");
    let mut printed = stack.ok(&[
        "destinations",
        "add",
        "authed",
        "--url",
        &url,
        "--auth",
        file.to_str().unwrap(),
        "--allow-private",
    ]);
    let table = stack.ok(&["destinations", "list"]);
    assert!(table.contains("oauth2_client_credentials"), "{table}");
    printed += &table;
    let listed = stack.json(&["destinations", "list"]);
    printed += &listed.to_string();
    let authed = |listed: &Value| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == "authed")
            .unwrap()["auth"]
            .clone()
    };
    let shown = authed(&listed);
    assert_eq!(shown["client_id"], "relay", "{shown}");
    assert_eq!(
        shown["client_secret"],
        format!("sha256:{}", Secret::new(client_secret).fingerprint())
    );

    let pulled = stack.ok(&["config", "pull"]);
    assert!(pulled.contains(client_secret), "pull prints it whole");
    let pulled_file = std::env::temp_dir()
        .join(unique_name("pulled-auth"))
        .with_extension("toml");
    std::fs::write(&pulled_file, &pulled).unwrap();
    printed += &stack.ok(&[
        "config",
        "push",
        "--allow-private",
        "--config",
        pulled_file.to_str().unwrap(),
    ]);
    assert_eq!(authed(&stack.json(&["destinations", "list"])), shown);

    printed += &stack.run_with_stdin(
        &["destinations", "update", "authed", "--auth", "-"],
        &serde_json::json!({ "kind": "basic", "username": "relay", "password": password })
            .to_string(),
    );
    let basic = authed(&stack.json(&["destinations", "list"]));
    assert_eq!(basic["kind"], "basic");
    assert_eq!(
        basic["password"],
        format!("sha256:{}", Secret::new(password).fingerprint())
    );
    printed += &stack.refused(
        &["destinations", "update", "authed", "--auth", "-"],
        2,
        "--auth -",
    );
    printed += &stack.ok(&["destinations", "update", "authed", "--no-auth"]);
    assert_eq!(authed(&stack.json(&["destinations", "list"])), Value::Null);
    let log = std::fs::read_to_string(&stack.log).unwrap();
    for (what, text) in [("output", &printed), ("dev's log", &log)] {
        for secret in [client_secret, password] {
            assert!(!text.contains(secret), "{secret} in {what}:\n{text}");
        }
    }
}

on_both_targets!(auth_credentials_are_masked_and_round_trip_through_pull: auth_on_dev, auth_on_moto);

/// A forged webhook is refused and counted: `sources rejections` lists it
/// by reason, from memory (dev) or the events table (moto).
async fn refused_requests_are_listed_per_source_and_reason(target: Target) {
    let sink = Sink::start().await;
    let stack = Stack::start(target, &sink).await;
    let forged = stack
        .client
        .post(format!("http://127.0.0.1:{}/hooks/github", stack.receiver))
        .header("x-hub-signature-256", format!("sha256={}", "0".repeat(64)))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let listed = stack.json(&["sources", "rejections", "--source", "github"]);
    let rows = listed.as_array().expect("a list");
    assert_eq!(rows.len(), 1, "{listed}");
    assert_eq!(rows[0]["reason"], "bad_signature");
    assert_eq!(rows[0]["count"], 1);
    assert_eq!(rows[0]["source"], "github");
    let table = stack.ok(&["sources", "rejections"]);
    assert!(table.contains("bad_signature"), "{table}");
}

on_both_targets!(refused_requests_are_listed_per_source_and_reason: rejections_on_dev, rejections_on_moto);

/// `destinations add|update --aws` of an AWS destination warns, on stderr,
/// when the stack's GrantedDeliveryTargetArns output (exported) does not cover
/// its target, and is silent when it does; the destination is added
/// either way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aws_destination_outside_the_stacks_grant_is_warned_about() {
    let provisioned = moto::Provisioned::on_shared().await;
    let env = provisioned.environment(&moto::shared().endpoint);
    let add = |id: &str, url: &str, granted: &str| -> Output {
        Command::new(env!("CARGO_BIN_EXE_hookrelay"))
            .args([
                "destinations",
                "add",
                id,
                "--aws",
                "--kind",
                "sqs",
                "--url",
                url,
            ])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .env("HOOKRELAY_STATE_DIR", state_dir())
            .env("HOOKRELAY_DELIVERY_TARGET_ARNS", granted)
            .output()
            .unwrap()
    };
    let granted = "arn:aws:sqs:eu-west-1:123456789012:orders-*";
    let inside = add(
        "inside",
        "arn:aws:sqs:eu-west-1:123456789012:orders-eu",
        granted,
    );
    assert!(inside.status.success(), "{inside:?}");
    assert!(
        !String::from_utf8_lossy(&inside.stderr).contains("warning"),
        "{inside:?}"
    );
    let outside = add(
        "outside",
        "https://sqs.eu-west-1.amazonaws.com/123456789012/billing",
        granted,
    );
    assert!(outside.status.success(), "{outside:?}");
    let said = String::from_utf8_lossy(&outside.stderr);
    assert!(
        said.contains("warning: destination outside: sqs arn:*:sqs:eu-west-1:123456789012:billing is not in the stack's DeliveryTargetArns (arn:aws:sqs:eu-west-1:123456789012:orders-*)"),
        "{said}"
    );
    let listed = Command::new(env!("CARGO_BIN_EXE_hookrelay"))
        .args(["destinations", "list", "--aws", "--output", "json"])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("HOOKRELAY_STATE_DIR", state_dir())
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("\"outside\"") && listed.contains("\"inside\""),
        "{listed}"
    );
}

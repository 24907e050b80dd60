//! The local stack as a newcomer runs it: the real `hookrelay` binary as
//! `sink`, `dev` (with the shipped hookrelay.toml) and `send`.
use hookrelay_signing::SchemeKind;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn hookrelay() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hookrelay"))
}

fn repo_root() -> PathBuf {
    hookrelay_tests::repo_root()
}

/// The port in the line (from `lines`) that starts with `label`, followed
/// by `http://127.0.0.1:PORT`: the sink is started on port 0 and says where
/// it listens (dev too: `hookrelay_tests::dev_ports`), so no port is chosen
/// and then hoped to stay free.
fn bound_port(lines: &mpsc::Receiver<String>, label: &str) -> u16 {
    let mut seen = Vec::new();
    let line = wait_for_line(lines, label, &mut seen);
    let address = line
        .split(label)
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap();
    let digits: String = address
        .trim_start_matches("http://")
        .rsplit(':')
        .next()
        .unwrap()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

const SINK_SAYS: &str = "hookrelay sink: listening on ";

/// `hookrelay sink` on port 0 with `args`; its output lines and its port.
fn start_sink(args: &[&str]) -> (Running, mpsc::Receiver<String>, u16) {
    let mut sink = Running(
        hookrelay()
            .args(["sink", "--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let lines = lines_of(sink.0.stdout.take().unwrap());
    let port = bound_port(&lines, SINK_SAYS);
    (sink, lines, port)
}

/// Kills the child on drop, so a failing test leaves nothing behind.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Lines a child prints, gathered on a thread.
fn lines_of(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                return;
            }
        }
    });
    receiver
}

fn wait_for_line(lines: &mpsc::Receiver<String>, wanted: &str, seen: &mut Vec<String>) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(line) = lines.recv_timeout(Duration::from_millis(100)) {
            seen.push(line.clone());
            if line.contains(wanted) {
                return line;
            }
        }
    }
    panic!(
        "no line containing {wanted:?} within 30 s; saw:\n{}",
        seen.join("\n")
    );
}

fn wait_for_health(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let _ = stream
                .write_all(b"GET /health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n");
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("hookrelay dev did not answer /health on port {port}");
}

/// `hookrelay dev` on `config`, on ports the system picks (printed on
/// stdout, read by `dev_ports`).
fn dev_on_any_port(config: &std::path::Path) -> Command {
    let mut command = hookrelay();
    command
        .current_dir(repo_root())
        .args(["dev", "--config"])
        .arg(config)
        .args(["--listen", "127.0.0.1:0"])
        .args(["--admin-listen", "127.0.0.1:0"])
        .stdout(Stdio::piped());
    command
}

/// The shipped configuration with the sink's port in place of 9000.
fn shipped_config_with_sink_port(port: u16) -> PathBuf {
    let shipped = std::fs::read_to_string(repo_root().join("hookrelay.toml")).unwrap();
    assert!(shipped.contains("http://127.0.0.1:9000/hook"));
    let dir = std::env::temp_dir().join(format!("hookrelay-stack-{}-{port}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hookrelay.toml");
    std::fs::write(
        &path,
        shipped.replace("127.0.0.1:9000", &format!("127.0.0.1:{port}")),
    )
    .unwrap();
    path
}

#[test]
fn dev_accepts_signed_samples_and_delivers_them_signed_to_the_sink_then_stops_cleanly() {
    let (_sink, sink_lines, sink_port) =
        start_sink(&["--secret", "whsec_c2FtcGxlIGRlc3RpbmF0aW9uIGtleSAxMjM0"]);
    let config = shipped_config_with_sink_port(sink_port);
    let mut dev = Running(
        dev_on_any_port(&config)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let dev_lines = lines_of(dev.0.stderr.take().unwrap());
    let (dev_port, _) = hookrelay_tests::dev_ports(&mut dev.0);
    wait_for_health(dev_port);

    let mut seen = Vec::new();
    for (source, file, event) in [
        ("github", "events/payloads/github-push.json", "push"),
        (
            "stripe",
            "events/payloads/stripe-invoice-paid.json",
            "invoice.paid",
        ),
        (
            "acme",
            "events/payloads/standard-user-created.json",
            "user.created",
        ),
    ] {
        let sent = hookrelay()
            .current_dir(repo_root())
            .args(["send", "--source", source, "--file", file, "--config"])
            .arg(&config)
            .args(["--url", &format!("http://127.0.0.1:{dev_port}")])
            .output()
            .unwrap();
        assert!(sent.status.success(), "{sent:?}");
        let stdout = String::from_utf8(sent.stdout).unwrap();
        assert!(stdout.contains("-> 202"), "{stdout}");
        let message_id = sent_event_id(&stdout).replace("evt_", "msg_");

        let line = wait_for_line(&sink_lines, &message_id, &mut seen);
        assert!(line.contains("signature=valid"), "{line}");
        assert!(line.contains(&format!("event={event}")), "{line}");
        assert!(line.contains(&format!("source={source}")), "{line}");
    }

    let mut dev_seen = Vec::new();
    wait_for_line(&dev_lines, "result=\"delivered\"", &mut dev_seen);

    // Ctrl-C: finish what is in flight and exit 0.
    let status = Command::new("kill")
        .args(["-INT", &dev.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(exit) = dev.0.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "dev did not stop after Ctrl-C");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    wait_for_line(&dev_lines, "stopped", &mut dev_seen);
}

#[test]
fn send_to_a_source_that_does_not_exist_fails_with_exit_code_2() {
    let output = hookrelay()
        .current_dir(repo_root())
        .args([
            "send",
            "--source",
            "nope",
            "--file",
            "events/payloads/github-push.json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no source \"nope\""));
}

#[test]
fn dev_refuses_a_broken_config_with_file_and_line() {
    let dir = std::env::temp_dir().join(format!("hookrelay-broken-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("broken.toml");
    std::fs::write(
        &path,
        "[[sources]]\nid = \"x\"\nscheme = \"github\"\nsecrets = \"not a list\"\n",
    )
    .unwrap();
    let output = hookrelay()
        .args(["dev", "--config"])
        .arg(&path)
        .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken.toml: line 4"), "{stderr}");
}

/// Starts sink and dev (with `extra_dev_args`, `env`), returns them with
/// their output lines and the dev port, once dev answers /health.
fn start_stack(
    sink_args: &[&str],
    extra_dev_args: &[&str],
    env: &[(&str, String)],
) -> (Running, mpsc::Receiver<String>, Running, u16) {
    let (sink, sink_lines, sink_port) = start_sink(sink_args);
    let config = shipped_config_with_sink_port(sink_port);
    let mut command = hookrelay();
    command
        .current_dir(repo_root())
        .args(["dev", "--config"])
        .arg(&config)
        .args(["--listen", "127.0.0.1:0"])
        .args(["--admin-listen", "127.0.0.1:0"])
        .args(extra_dev_args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut dev = Running(command.spawn().unwrap());
    let (dev_port, admin_port) = hookrelay_tests::dev_ports(&mut dev.0);
    wait_for_health(dev_port);
    LAST_ADMIN_PORT.with(|port| port.set(admin_port));
    (sink, sink_lines, dev, dev_port)
}

thread_local! {
    /// The admin port of the stack this test thread started last.
    static LAST_ADMIN_PORT: std::cell::Cell<u16> = const { std::cell::Cell::new(0) };
}

/// The event id in `hookrelay send`'s printed answer.
fn sent_event_id(stdout: &str) -> String {
    stdout
        .split("\"id\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no event id in {stdout:?}"))
        .to_string()
}

fn send_github(dev_port: u16) -> String {
    let sent = hookrelay()
        .current_dir(repo_root())
        .args([
            "send",
            "--source",
            "github",
            "--file",
            "events/payloads/github-push.json",
        ])
        .args(["--url", &format!("http://127.0.0.1:{dev_port}")])
        .output()
        .unwrap();
    assert!(sent.status.success(), "{sent:?}");
    let stdout = String::from_utf8(sent.stdout).unwrap();
    sent_event_id(&stdout).replace("evt_", "msg_")
}

/// The ceiling, 5 MiB: accepted, stored whole (`events show --body-out`
/// writes the same bytes back) and delivered with a signature the sink
/// verifies over the bytes it received.
#[test]
fn dev_accepts_and_delivers_a_5_mib_body_intact() {
    let (_sink, sink_lines, _dev, dev_port) = start_stack(
        &["--secret", "whsec_c2FtcGxlIGRlc3RpbmF0aW9uIGtleSAxMjM0"],
        &[],
        &[],
    );
    let admin_port = LAST_ADMIN_PORT.with(|port| port.get());
    let dir = std::env::temp_dir().join(format!("hookrelay-large-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let body = hookrelay_tests::large_json_body(hookrelay_models::BODY_LIMIT_CEILING);
    let file = dir.join("push.json");
    std::fs::write(&file, &body).unwrap();

    let sent = hookrelay()
        .current_dir(repo_root())
        .args(["send", "--source", "github", "--file"])
        .arg(&file)
        .args(["--url", &format!("http://127.0.0.1:{dev_port}")])
        .output()
        .unwrap();
    assert!(sent.status.success(), "{sent:?}");
    let stdout = String::from_utf8(sent.stdout).unwrap();
    let event_id = sent_event_id(&stdout);
    let mut seen = Vec::new();
    let line = wait_for_line(&sink_lines, &event_id.replace("evt_", "msg_"), &mut seen);
    assert!(
        line.contains("signature=valid") && line.ends_with("-> 200"),
        "{line}"
    );

    let out = dir.join("stored.json");
    let shown = hookrelay()
        .args(["events", "show", &event_id, "--body-out"])
        .arg(&out)
        .args(["--admin-url", &format!("http://127.0.0.1:{admin_port}")])
        .output()
        .unwrap();
    assert!(shown.status.success(), "{shown:?}");
    let printed = String::from_utf8(shown.stdout).unwrap();
    assert!(printed.contains("more bytes"), "shown in part");
    assert!(printed.len() < 64 * 1024);
    assert!(std::fs::read(&out).unwrap() == body, "stored whole");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_failing_sink_gets_retries_with_the_same_webhook_id() {
    let (_sink, sink_lines, _dev, dev_port) =
        start_stack(&["--fail-rate", "1", "--status", "503"], &[], &[]);
    let message_id = send_github(dev_port);
    let mut seen = Vec::new();
    let first = wait_for_line(&sink_lines, &message_id, &mut seen);
    assert!(first.ends_with("-> 503"), "{first}");
    // The shipped schedule retries after 1 s.
    let second = wait_for_line(&sink_lines, &message_id, &mut seen);
    assert!(second.ends_with("-> 503"), "{second}");
}

#[test]
fn dev_runs_on_dynamodb_and_sqs_with_aws() {
    let moto = hookrelay_tests::moto::Moto::start();
    let env = vec![
        ("AWS_ENDPOINT_URL", moto.endpoint.clone()),
        ("AWS_ACCESS_KEY_ID", "test".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "test".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        (
            "HOOKRELAY_EVENTS_TABLE",
            hookrelay_tests::moto::unique_name("events"),
        ),
        (
            "HOOKRELAY_CONFIG_TABLE",
            hookrelay_tests::moto::unique_name("config"),
        ),
        (
            "HOOKRELAY_QUEUE_URL",
            hookrelay_tests::moto::unique_name("queue"),
        ),
        ("HOOKRELAY_RETENTION_DAYS", "2".to_string()),
    ];
    let (_sink, sink_lines, _dev, dev_port) = start_stack(
        &["--secret", "whsec_c2FtcGxlIGRlc3RpbmF0aW9uIGtleSAxMjM0"],
        &["--aws", "--create"],
        &env,
    );
    let message_id = send_github(dev_port);
    let mut seen = Vec::new();
    let line = wait_for_line(&sink_lines, &message_id, &mut seen);
    assert!(
        line.contains("signature=valid") && line.ends_with("-> 200"),
        "{line}"
    );

    // HOOKRELAY_RETENTION_DAYS reaches the stored items: the event and its
    // delivery, which holds its first-try attempt, expire in 2 days, not
    // the default 30.
    let table = env[4].1.clone();
    let items = tokio::runtime::Runtime::new().unwrap().block_on(async {
        aws_sdk_dynamodb::Client::new(&moto.sdk_config())
            .scan()
            .table_name(&table)
            .send()
            .await
            .unwrap()
            .items
            .unwrap_or_default()
    });
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut kinds = Vec::new();
    for item in &items {
        let sk = item["sk"].as_s().unwrap().clone();
        if !item["pk"].as_s().unwrap().starts_with("EVT#") {
            continue;
        }
        let expires: i64 = item["expires_at"].as_n().unwrap().parse().unwrap();
        let days = (expires - now) as f64 / 86_400.0;
        assert!(
            (1.9..=2.0).contains(&days),
            "{sk} expires in {days:.2} days"
        );
        if item.contains_key("done") || sk.starts_with("ATT#") {
            kinds.push("attempt".to_string());
        }
        kinds.push(sk);
    }
    kinds.sort();
    assert_eq!(
        kinds,
        ["DLV#orders", "EVENT", "attempt"],
        "event, delivery and attempt"
    );
}

/// A client that sends its request a byte a second (slowloris) is dropped
/// once the header timeout passes, and other clients are served meanwhile.
#[test]
fn a_client_sending_a_byte_a_second_is_dropped_while_others_are_served() {
    let (_sink, _lines, port) = start_sink(&[]);
    let mut slow = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let started = Instant::now();
    let drip = std::thread::spawn(move || {
        let request = format!(
            "POST /hook HTTP/1.1\r\nhost: x\r\nx-slow: {}",
            "a".repeat(60)
        );
        for byte in request.bytes() {
            if slow.write_all(&[byte]).is_err() {
                return Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_secs(1));
        }
        None
    });
    for _ in 0..3 {
        std::thread::sleep(Duration::from_secs(1));
        let mut other = TcpStream::connect(("127.0.0.1", port)).unwrap();
        other
            .write_all(b"POST /hook HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}")
            .unwrap();
        let mut answer = String::new();
        other.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }
    let dropped_after = drip
        .join()
        .unwrap()
        .expect("the slow client was never dropped");
    assert!(
        dropped_after < Duration::from_secs(20),
        "dropped only after {dropped_after:?}"
    );
}

fn resident_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// `hookrelay dev` keeps at most `--max-events` events in memory: past the
/// cap its memory stays flat while webhooks keep coming (without the cap,
/// 4 000 more events of about 3 KB would add some 12 MB).
#[test]
fn dev_memory_stays_flat_past_max_events() {
    let (_sink, sink_lines, dev, dev_port) = start_stack(&[], &["--max-events", "500"], &[]);
    drop(sink_lines);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let send = |from: usize, to: usize| {
        runtime.block_on(async {
            let client = reqwest::Client::builder().no_proxy().build().unwrap();
            let url = format!("http://127.0.0.1:{dev_port}/hooks/github");
            let mut tasks = tokio::task::JoinSet::new();
            for chunk in (from..to)
                .collect::<Vec<_>>()
                .chunks((to - from).div_ceil(8))
            {
                let (client, url, chunk) = (client.clone(), url.clone(), chunk.to_vec());
                tasks.spawn(async move {
                    for i in chunk {
                        let body = format!(
                            r#"{{"ref":"refs/heads/main","n":{i},"pad":"{}"}}"#,
                            "x".repeat(2000)
                        );
                        let message = hookrelay_signing::ProviderMessage {
                            body: body.as_bytes(),
                            timestamp: 0,
                            id: "",
                            url: None,
                        };
                        let headers = hookrelay_signing::sign_as_provider(
                            &hookrelay_signing::Scheme::Named(SchemeKind::Github),
                            &hookrelay_signing::Secret::new("It's a Secret to Everybody"),
                            &message,
                        )
                        .unwrap();
                        let mut request = client.post(&url).header("x-github-event", "push");
                        for (name, value) in headers {
                            request = request.header(name, value);
                        }
                        let status = request.body(body).send().await.unwrap().status();
                        assert_eq!(status, 202);
                    }
                });
            }
            while let Some(done) = tasks.join_next().await {
                done.unwrap();
            }
        })
    };
    // Past the cap and settled, then measured; then as many again, twice.
    send(0, 2_000);
    std::thread::sleep(Duration::from_secs(2));
    let after_2000 = resident_kib(dev.0.id());
    send(2_000, 4_000);
    send(4_000, 6_000);
    std::thread::sleep(Duration::from_secs(2));
    let after_6000 = resident_kib(dev.0.id());
    let growth = after_6000.saturating_sub(after_2000);
    assert!(
        growth < 6 * 1024,
        "memory grew by {growth} KiB from 2 000 to 6 000 events ({after_2000} -> {after_6000} KiB)"
    );
}

/// One raw HTTP/1.1 request to `hookrelay dev`; the whole answer.
fn raw_request(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn dev_answers_provider_checks_and_takes_body_and_token_signed_schemes_from_send() {
    let dir = std::env::temp_dir().join(format!("hookrelay-checks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("hookrelay.toml");
    std::fs::write(
        &config,
        "[[sources]]\nid = \"meta\"\nscheme = \"meta\"\nsecrets = [\"app-secret\"]\nverify_token = \"the-verify-token\"\n\
         [[sources]]\nid = \"dropbox\"\nscheme = \"dropbox\"\nsecrets = [\"app-secret\"]\n\
         [[sources]]\nid = \"okta\"\nscheme = \"okta\"\nsecrets = [\"okta-secret\"]\n\
         [[sources]]\nid = \"mailgun\"\nscheme = \"mailgun\"\nsecrets = [\"key-mailgun\"]\n\
         [[sources]]\nid = \"gitlab\"\nscheme = \"gitlab\"\nsecrets = [\"gitlab-token\"]\n\
         [[sources]]\nid = \"sns\"\nscheme = \"sns\"\nsecrets = [\"arn:aws:sns:us-east-1:123456789012:orders\"]\nauto_confirm = true\n",
    )
    .unwrap();
    let mut dev = Running(
        dev_on_any_port(&config)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let (port, _) = hookrelay_tests::dev_ports(&mut dev.0);
    wait_for_health(port);
    let get = |target: &str, extra: &str| {
        raw_request(
            port,
            &format!(
                "GET {target} HTTP/1.1\r\nhost: localhost\r\n{extra}connection: close\r\n\r\n"
            ),
        )
    };
    let meta = get(
        "/hooks/meta?hub.mode=subscribe&hub.verify_token=the-verify-token&hub.challenge=1158201444",
        "",
    );
    assert!(meta.starts_with("HTTP/1.1 200"), "{meta}");
    assert!(meta.ends_with("\r\n\r\n1158201444"), "{meta}");
    let wrong = get(
        "/hooks/meta?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1",
        "",
    );
    assert!(wrong.starts_with("HTTP/1.1 401"), "{wrong}");
    let dropbox = get("/hooks/dropbox?challenge=abcXYZ123", "");
    assert!(dropbox.ends_with("\r\n\r\nabcXYZ123"), "{dropbox}");
    // Okta's check carries the hook's Authorization value, as Okta sends it.
    let okta = get(
        "/hooks/okta",
        "x-okta-verification-challenge: chal-42\r\nauthorization: okta-secret\r\n",
    );
    assert!(okta.ends_with(r#"{"verification":"chal-42"}"#), "{okta}");
    let okta = get("/hooks/okta", "x-okta-verification-challenge: chal-42\r\n");
    assert!(okta.starts_with("HTTP/1.1 401"), "{okta}");
    let not_here = get("/hooks/gitlab", "");
    assert!(not_here.starts_with("HTTP/1.1 405"), "{not_here}");

    // SNS is verified in dev as deployed: a message naming a certificate
    // anywhere but SNS's own hosts (here, dev itself) is refused (401, not
    // the 500 of a receiver that cannot verify SNS), and nothing is fetched.
    let sample: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_root().join("events/providers/sns.json")).unwrap(),
    )
    .unwrap();
    let body = sample["body"].as_str().unwrap().replace(
        "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem",
        &format!("http://127.0.0.1:{port}/x.pem"),
    );
    let sns = raw_request(
        port,
        &format!(
            "POST /hooks/sns HTTP/1.1\r\nhost: localhost\r\nx-amz-sns-message-type: Notification\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(sns.starts_with("HTTP/1.1 401"), "{sns}");

    // hookrelay send signs Mailgun inside the body and sends GitLab's
    // token; both are accepted.
    let payload = dir.join("payload.json");
    std::fs::write(
        &payload,
        r#"{"event-data":{"event":"delivered","id":"m-1"}}"#,
    )
    .unwrap();
    for source in ["mailgun", "gitlab"] {
        let sent = hookrelay()
            .current_dir(repo_root())
            .args(["send", "--source", source, "--file"])
            .arg(&payload)
            .arg("--config")
            .arg(&config)
            .args(["--url", &format!("http://127.0.0.1:{port}")])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&sent.stdout);
        assert!(
            sent.status.success() && stdout.contains("-> 202"),
            "{source}: {sent:?}"
        );
    }
}

/// `hookrelay sink --public-key whpk_…` checks v1a signatures: one signed by
/// the key's secret half is valid, one by another key is not.
#[test]
fn the_sink_checks_v1a_signatures_with_a_public_key() {
    use hookrelay_signing::Ed25519SigningKey;
    let key = Ed25519SigningKey::parse(&Ed25519SigningKey::generate()).unwrap();
    let stranger = Ed25519SigningKey::parse(&Ed25519SigningKey::generate()).unwrap();
    let public = key.public_key().encode();
    let (_sink, lines, port) = start_sink(&["--public-key", &public]);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let body = br#"{"type":"user.created"}"#;
    let mut seen = Vec::new();
    for (id, signer, verdict) in [
        ("msg_good", &key, "signature=valid"),
        ("msg_bad", &stranger, "signature=INVALID (v1a)"),
    ] {
        let signature = signer.sign(id, now, body);
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            stream,
            "POST /hook HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\ncontent-length: {}\r\n\
             webhook-id: {id}\r\nwebhook-timestamp: {now}\r\nwebhook-signature: {signature}\r\n\r\n",
            body.len()
        )
        .unwrap();
        stream.write_all(body).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        let line = wait_for_line(&lines, &format!("webhook-id={id}"), &mut seen);
        assert!(line.contains(verdict), "{line}");
    }
}

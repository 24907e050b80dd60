//! The local stack as a newcomer runs it: the real `hookrelay` binary as
//! `sink`, `dev` (with the shipped hookrelay.toml) and `send`.
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn hookrelay() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hookrelay"))
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
    let sink_port = free_port();
    let dev_port = free_port();
    let config = shipped_config_with_sink_port(sink_port);

    let mut sink = Running(
        hookrelay()
            .args(["sink", "--listen", &format!("127.0.0.1:{sink_port}")])
            .args(["--secret", "whsec_c2FtcGxlIGRlc3RpbmF0aW9uIGtleSAxMjM0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let sink_lines = lines_of(sink.0.stdout.take().unwrap());
    let mut dev = Running(
        hookrelay()
            .current_dir(repo_root())
            .args(["dev", "--config"])
            .arg(&config)
            .args(["--listen", &format!("127.0.0.1:{dev_port}")])
            .args(["--admin-listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let dev_lines = lines_of(dev.0.stderr.take().unwrap());
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
        let event_id = stdout
            .split("\"id\":\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let message_id = event_id.replace("evt_", "msg_");

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
    let sink_port = free_port();
    let dev_port = free_port();
    let config = shipped_config_with_sink_port(sink_port);
    let mut sink = Running(
        hookrelay()
            .args(["sink", "--listen", &format!("127.0.0.1:{sink_port}")])
            .args(sink_args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let sink_lines = lines_of(sink.0.stdout.take().unwrap());
    let mut command = hookrelay();
    command
        .current_dir(repo_root())
        .args(["dev", "--config"])
        .arg(&config)
        .args(["--listen", &format!("127.0.0.1:{dev_port}")])
        .args(["--admin-listen", "127.0.0.1:0"])
        .args(extra_dev_args)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (name, value) in env {
        command.env(name, value);
    }
    let dev = Running(command.spawn().unwrap());
    wait_for_health(dev_port);
    (sink, sink_lines, dev, dev_port)
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
    stdout
        .split("\"id\":\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("evt_", "msg_")
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
}

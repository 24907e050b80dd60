//! A local Lambda Invoke API for the Lambda destination tests: `cargo
//! lambda watch` on 127.0.0.1, serving the test function
//! (`tests/function`, `hookrelay-test-function`), built with cargo into
//! the tests' own target directory. moto's Lambda would need Docker.
//!
//! One per test process, shared (tests keep apart by the `case` in their
//! bodies, see `tests/function`). A watchdog shell ends watch and every
//! process under it (cargo, the function) when the test process exits.
//!
//! How watch differs from AWS (docs/research/aws-destinations.md §5): it
//! ignores `X-Amz-Invocation-Type` (an `Event` invoke runs synchronously
//! and answers 200, not 202), and a function error comes back as a 500
//! whose body is the error object, not as 200 with
//! `X-Amz-Function-Error`.
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The function's name, as the invoke URL gives it: its binary's.
pub const FUNCTION: &str = "hookrelay-test-function";

/// Where `infra/build.sh` installs cargo-lambda, and `.ci/run` too.
fn venv() -> PathBuf {
    let cache = std::env::var_os("HOOKRELAY_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("hookrelay")))
        .or_else(|| std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/hookrelay")))
        .expect("HOME is set");
    cache.join("venv-lambda")
}

/// The `cargo-lambda` binary: the one `infra/build.sh` installs, else one
/// on PATH. Missing, the test fails and says how to install it.
pub fn cargo_lambda() -> PathBuf {
    let venv = venv();
    let installed = venv.join("bin/cargo-lambda");
    if installed.is_file() {
        return installed;
    }
    let on_path = Command::new("cargo-lambda")
        .args(["lambda", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        on_path,
        "cargo-lambda is needed for the Lambda destination tests and was not found in {} or on PATH. \
         Install it with: python3 -m venv {venv} && {venv}/bin/pip install cargo-lambda",
        installed.display(),
        venv = venv.display(),
    );
    PathBuf::from("cargo-lambda")
}

pub struct Watch {
    /// The Invoke API's endpoint, `http://127.0.0.1:PORT`.
    pub endpoint: String,
    /// Where the function records each case's events and looks for its
    /// cues (`{case}.jsonl`, `{case}.fail`, `{case}.status`).
    pub dir: PathBuf,
    _watchdog: Child,
}

/// A free loopback port, for `-P`. watch binds it itself (its runtime
/// API's address, which it hands to the function, is the same port, so
/// port 0 will not do); if another process takes it in between, watch
/// exits and [`Watch::start`] tries another.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A POST on a fresh connection, answered with (status, body); `None`
/// when nothing answers.
fn post(port: u16, path: &str, body: &str, wait: Duration) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(wait)).ok()?;
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).ok()?;
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer.split(' ').nth(1)?.parse().ok()?;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

impl Watch {
    /// Builds the function, starts watch on a free port and waits until
    /// an invocation of the function answers.
    pub fn start() -> Watch {
        let cargo_lambda = cargo_lambda();
        // The function built first, into the tests' target directory, with
        // the packages and features watch's own `cargo run` asks for: a
        // build failure shows here, and watch then finds it built.
        let binary = crate::lambda_runtime::lambda_binary(FUNCTION, FUNCTION);
        let target_dir = binary
            .parent()
            .and_then(Path::parent)
            .expect("the target directory")
            .to_path_buf();
        let dir = std::env::temp_dir().join(crate::moto::unique_name("lambda-function"));
        std::fs::create_dir_all(&dir).expect("the function's directory");
        let mut last_log = String::new();
        for _ in 0..3 {
            let port = free_port();
            let log = dir.join(format!("watch-{port}.log"));
            let mut watchdog = Command::new("sh")
                .args([
                    "-c",
                    r#"cd "$6" && "$1" lambda watch -A 127.0.0.1 -P "$2" -p "$5" --ignore-changes >"$4" 2>&1 & w=$!
                       tree() { for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$c"; done; echo "$1"; }
                       stop() { pids=$(tree $w); kill -TERM $pids 2>/dev/null; sleep 1; kill -KILL $pids 2>/dev/null; wait $w 2>/dev/null; }
                       trap 'stop; exit 0' TERM INT
                       while kill -0 "$3" 2>/dev/null && kill -0 $w 2>/dev/null; do sleep 0.3; done
                       stop"#,
                    "lambda-watch-watchdog",
                    &cargo_lambda.display().to_string(),
                    &port.to_string(),
                    &std::process::id().to_string(),
                    &log.display().to_string(),
                    FUNCTION,
                    &crate::repo_root().display().to_string(),
                ])
                .env("CARGO_TARGET_DIR", &target_dir)
                .env("HOOKRELAY_TEST_FUNCTION_DIR", &dir)
                .stdin(Stdio::null())
                .spawn()
                .expect("spawn sh for cargo lambda watch");
            if let Some(endpoint) = Self::wait_until_it_serves(&mut watchdog, port) {
                return Watch {
                    endpoint,
                    dir,
                    _watchdog: watchdog,
                };
            }
            // TERM, so the watchdog's trap stops watch and what it runs.
            let _ = Command::new("kill")
                .args(["-TERM", &watchdog.id().to_string()])
                .status();
            let _ = watchdog.wait();
            last_log = std::fs::read_to_string(&log).unwrap_or_default();
        }
        panic!("cargo lambda watch did not serve the test function; its log:\n{last_log}");
    }

    /// Waits for a warm-up invocation (`{"warmup": true}`) to answer from
    /// the function itself: watch is up and the function runs. The first
    /// one may wait for cargo. `None` if watch exits first.
    fn wait_until_it_serves(watchdog: &mut Child, port: u16) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(600);
        let path = format!("/2015-03-31/functions/{FUNCTION}/invocations");
        while Instant::now() < deadline {
            if watchdog.try_wait().ok().flatten().is_some() {
                return None;
            }
            match post(port, &path, r#"{"warmup": true}"#, Duration::from_secs(600)) {
                Some((200, body)) if body.contains(r#""warm":true"#) => {
                    return Some(format!("http://127.0.0.1:{port}"));
                }
                _ => std::thread::sleep(Duration::from_millis(200)),
            }
        }
        None
    }

    /// Makes the function fail (a function error) the next `times`
    /// invocations for `case`.
    pub fn fail_times(&self, case: &str, times: u32) {
        std::fs::write(self.dir.join(format!("{case}.fail")), times.to_string())
            .expect("write the cue");
    }

    /// Makes the function answer `{"statusCode": status}` for `case`.
    pub fn answer_status(&self, case: &str, status: u16) {
        std::fs::write(self.dir.join(format!("{case}.status")), status.to_string())
            .expect("write the cue");
    }

    /// Every event the function received for `case`, in order.
    pub fn received(&self, case: &str) -> Vec<Value> {
        std::fs::read_to_string(self.dir.join(format!("{case}.jsonl")))
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("a recorded event"))
            .collect()
    }
}

/// One watch for every test in this process.
pub fn shared() -> &'static Watch {
    static SHARED: OnceLock<Watch> = OnceLock::new();
    SHARED.get_or_init(Watch::start)
}

/// What aws-config makes of `AWS_ENDPOINT_URL_<SERVICE>` variables: a
/// service's own endpoint, which its client takes over the shared one.
/// An SDK configuration built by hand (as the tests' are) has no
/// environment, so this stands in for it with the given variables.
#[derive(Debug)]
pub struct ServiceEndpoints(pub Vec<(String, String)>);

impl aws_types::service_config::LoadServiceConfig for ServiceEndpoints {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        let wanted = format!(
            "{}_{}",
            key.env(),
            key.service_id().to_ascii_uppercase().replace(' ', "_")
        );
        self.0
            .iter()
            .find(|(name, _)| *name == wanted)
            .map(|(_, value)| value.clone())
    }
}

/// The SDK configuration a test relay delivers to AWS destinations with:
/// moto's, and for a configuration with a Lambda destination, the shared
/// watch as its Lambda endpoint (started then).
pub fn sdk_config_for(config: &hookrelay_models::Config) -> aws_config::SdkConfig {
    let lambda = hookrelay_models::DestinationKind::Lambda;
    if config.destinations.iter().any(|d| d.kind == lambda) {
        sdk_config_with_lambda_at(&shared().endpoint)
    } else {
        crate::moto::shared().sdk_config()
    }
}

/// moto's SDK configuration, with Lambda at `lambda_endpoint` as
/// `AWS_ENDPOINT_URL_LAMBDA` would put it.
pub fn sdk_config_with_lambda_at(lambda_endpoint: &str) -> aws_config::SdkConfig {
    crate::moto::shared()
        .sdk_config()
        .to_builder()
        .service_config(ServiceEndpoints(vec![(
            "AWS_ENDPOINT_URL_LAMBDA".into(),
            lambda_endpoint.into(),
        )]))
        .build()
}

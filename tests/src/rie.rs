//! The official Lambda Runtime Interface Emulator (`aws-lambda-rie`, the
//! one `sam local` runs in its containers), running a function binary as
//! a plain process: `aws-lambda-rie --runtime-interface-emulator-address
//! 127.0.0.1:P --runtime-api-address 127.0.0.1:Q ./bootstrap`, invoked at
//! `POST http://127.0.0.1:P/2015-03-31/functions/function/invocations`.
//!
//! It ships inside the aws-sam-cli wheel (`samcli/local/rapid/
//! aws-lambda-rie-<arch>`), which `.ci/run` installs into
//! `<cache>/venv-sam`; `HOOKRELAY_RIE` names another copy. Missing, a
//! test that needs it fails and says how to install it.
//!
//! What it does, as seen here with aws-sam-cli 1.170.0's copy (see
//! `lambda_runtime`'s module doc for why our own emulator stays where it
//! does):
//! - it starts the function at the first invoke, and again at the next
//!   invoke after the function process died (that one is answered 502
//!   `Runtime.ExitError`);
//! - a function error comes back as `200` with the error object as the
//!   body (no `X-Amz-Function-Error` header), told apart here by its
//!   `errorType`;
//! - one invoke at a time: a second invoke while one is in flight makes
//!   it panic and exit, leaving its function process running;
//! - SIGTERM ends it and SIGKILLs the function.
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The hookrelay cache folder `.ci/run` and `infra/` scripts use.
fn cache_dir() -> PathBuf {
    std::env::var_os("HOOKRELAY_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("hookrelay")))
        .or_else(|| std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/hookrelay")))
        .expect("HOME is set")
}

/// The `aws-lambda-rie` binary for this machine: `HOOKRELAY_RIE`, else
/// the one in `<cache>/venv-sam`'s aws-sam-cli. Missing, the test fails
/// and says how to install it.
pub fn rie_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("HOOKRELAY_RIE") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "HOOKRELAY_RIE={} is not a file",
            path.display()
        );
        return path;
    }
    let arch = match std::env::consts::ARCH {
        "aarch64" => "arm64",
        other => other,
    };
    let venv = cache_dir().join("venv-sam");
    let found = std::fs::read_dir(venv.join("lib"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|python| {
            python
                .path()
                .join("site-packages/samcli/local/rapid")
                .join(format!("aws-lambda-rie-{arch}"))
        })
        .find(|path| path.is_file());
    found.unwrap_or_else(|| {
        panic!(
            "the official Lambda Runtime Interface Emulator (aws-lambda-rie-{arch}, in the aws-sam-cli \
             wheel) was not found in {venv}. Run .ci/run, or install it with: \
             python3 -m venv {venv} && {venv}/bin/pip install aws-sam-cli==1.170.0 \
             (or set HOOKRELAY_RIE to an aws-lambda-rie binary)",
            venv = venv.display()
        )
    })
}

/// A free loopback port; the emulator binds it itself, and
/// [`OfficialRie::start`] tries again if another process took it first.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A function binary under the official emulator; both ended on drop.
pub struct OfficialRie {
    child: Child,
    url: String,
    client: reqwest::Client,
}

impl OfficialRie {
    /// Starts the emulator with `binary` as its bootstrap and `env` added
    /// to a clean environment (the emulator hands its own to the
    /// function), and waits until it accepts invocations.
    pub fn start<K: AsRef<str>>(binary: &PathBuf, name: &str, env: &[(K, String)]) -> OfficialRie {
        let rie = rie_binary();
        for _ in 0..5 {
            let (invoke_port, runtime_port) = (free_port(), free_port());
            let mut command = Command::new(&rie);
            command
                .arg("--runtime-interface-emulator-address")
                .arg(format!("127.0.0.1:{invoke_port}"))
                .arg("--runtime-api-address")
                .arg(format!("127.0.0.1:{runtime_port}"))
                .arg(binary)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("AWS_LAMBDA_FUNCTION_NAME", name)
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
                .env("AWS_LAMBDA_FUNCTION_TIMEOUT", "150")
                .stdin(Stdio::null());
            // The function's stdout (its logs and metric documents) and
            // the emulator's own lines go with it; shown only on request.
            if std::env::var_os("HOOKRELAY_SHOW_FUNCTION_LOGS").is_none() {
                command.stdout(Stdio::null()).stderr(Stdio::null());
            }
            for (key, value) in env {
                command.env(key.as_ref(), value);
            }
            let mut child = command.spawn().expect("start aws-lambda-rie");
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                if std::net::TcpStream::connect(("127.0.0.1", invoke_port)).is_ok() {
                    return OfficialRie {
                        child,
                        url: format!(
                            "http://127.0.0.1:{invoke_port}/2015-03-31/functions/function/invocations"
                        ),
                        client: reqwest::Client::builder().no_proxy().build().unwrap(),
                    };
                }
                if child.try_wait().ok().flatten().is_some() || Instant::now() > deadline {
                    break; // a port was taken: try others
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("aws-lambda-rie ({}) did not start", rie.display());
    }

    /// Invokes the function with `event` (one at a time: see the module
    /// doc) and answers its response, or the error it reported (a
    /// function error, or the function's exit).
    pub async fn invoke(&self, event: &Value, timeout: Duration) -> Result<Value, String> {
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(event).expect("an event serializes"))
            .timeout(timeout)
            .send()
            .await
            .map_err(|e| format!("invoke: {e}"))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&body).into_owned();
        if !status.is_success() {
            return Err(format!("{status}: {text}"));
        }
        let value: Value = serde_json::from_slice(&body)
            .map_err(|e| format!("response is not JSON: {e}: {text}"))?;
        if value.get("errorType").is_some() && value.get("statusCode").is_none() {
            return Err(text);
        }
        Ok(value)
    }

    /// The function process the emulator runs now, if one is running.
    pub fn function_pid(&self) -> Option<u32> {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.child.id())).ok()?;
        tasks
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
            .flat_map(|children| {
                children
                    .split_whitespace()
                    .filter_map(|pid| pid.parse().ok())
                    .collect::<Vec<u32>>()
            })
            .next()
    }

    /// The most memory the function process has held (`VmHWM`), in KiB.
    pub fn function_peak_rss_kib(&self) -> Option<u64> {
        crate::lambda_runtime::peak_rss_kib_of(self.function_pid()?)
    }
}

impl Drop for OfficialRie {
    fn drop(&mut self) {
        // SIGTERM: the emulator SIGKILLs its function and exits; a SIGKILL
        // to it would leave the function running.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

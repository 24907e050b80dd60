//! A webhook consumer in another language, for the `v1a` tests:
//! `tests/consumer/consumer.py` (an HTTP server that verifies each delivery
//! with PyPI's official `standardwebhooks` and `svix` for `v1` and with
//! `cryptography`'s Ed25519 for `v1a`, against keys it fetched from the
//! relay), and `tests/consumer/verify.cjs` (the same checks again in
//! Node.js: npm's `standardwebhooks` and `svix`, and Node's own crypto on
//! the published JWKS).
//!
//! Their packages live in the cache, as `.ci/run` installs them:
//! `$HOOKRELAY_CACHE/venv-webhooks` (a virtualenv) and
//! `$HOOKRELAY_CACHE/node-webhooks` (an npm folder). Missing, a test fails
//! and says how to install them; it is never skipped.
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// `HOOKRELAY_CACHE`, else `$XDG_CACHE_HOME/hookrelay`, else
/// `~/.cache/hookrelay`, as `.ci/run` picks it.
fn cache() -> PathBuf {
    std::env::var_os("HOOKRELAY_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("hookrelay")))
        .or_else(|| std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/hookrelay")))
        .expect("HOME is set")
}

/// The virtualenv's python, once it imports every package the consumer
/// needs.
pub fn python() -> PathBuf {
    let venv = cache().join("venv-webhooks");
    let python = venv.join("bin/python");
    let imports = Command::new(&python)
        .args(["-c", "import standardwebhooks, svix.webhooks, cryptography"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        imports,
        "the v1a tests need PyPI's standardwebhooks, svix and cryptography in {venv}. \
         Install them with: python3 -m venv {venv} && {venv}/bin/pip install standardwebhooks svix cryptography",
        venv = venv.display(),
    );
    python
}

/// The npm folder with `standardwebhooks` and `svix`, and `node` runs.
pub fn node_modules_dir() -> PathBuf {
    let dir = cache().join("node-webhooks");
    let installed = ["standardwebhooks", "svix"].iter().all(|package| {
        dir.join("node_modules")
            .join(package)
            .join("package.json")
            .is_file()
    });
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        installed && node,
        "the v1a tests need Node.js and npm's standardwebhooks and svix in {dir}. \
         Install them with: mkdir -p {dir} && cd {dir} && npm init -y && npm install standardwebhooks svix",
        dir = dir.display(),
    );
    dir
}

fn script(name: &str) -> PathBuf {
    crate::repo_root().join("tests/consumer").join(name)
}

/// One delivery as the consumer saw it (a line of its log).
pub type Record = serde_json::Value;

/// The Python consumer, listening on 127.0.0.1; killed when dropped.
pub struct Consumer {
    child: Child,
    pub port: u16,
    log: PathBuf,
}

impl Consumer {
    /// Started with `whsec` (its v1 checks) or without (v1a only).
    pub fn start(name: &str, whsec: Option<&str>) -> Consumer {
        let dir = std::env::temp_dir().join(format!("hookrelay-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("consumer.jsonl");
        let _ = std::fs::remove_file(&log);
        let mut command = Command::new(python());
        command.arg(script("consumer.py")).arg("--log").arg(&log);
        if let Some(whsec) = whsec {
            command.args(["--whsec", whsec]);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the Python consumer");
        let port = crate::line_starting(&mut child, "listening ")
            .parse()
            .expect("a port");
        Consumer { child, port, log }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Has the consumer fetch the keys at `keys_url`; returns its answer
    /// (the kids it loaded and the `Cache-Control` it was sent).
    pub async fn fetch_keys(&self, keys_url: &str) -> serde_json::Value {
        let response = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{}/configure", self.port))
            .body(serde_json::json!({ "keys_url": keys_url }).to_string())
            .send()
            .await
            .expect("configure the consumer");
        assert_eq!(
            response.status(),
            200,
            "the consumer could not load the keys"
        );
        serde_json::from_str(&response.text().await.expect("an answer")).expect("JSON")
    }

    /// Every delivery logged so far.
    pub fn records(&self) -> Vec<Record> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON line"))
            .collect()
    }

    /// Waits (up to 30 s) until `count` deliveries are logged.
    pub async fn wait_for(&self, count: usize) -> Vec<Record> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let records = self.records();
            if records.len() >= count {
                return records;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the consumer logged {} deliveries, not {count}",
                records.len()
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// Sends a logged delivery again, to the consumer itself, with its body
    /// changed by `tamper`: the status it answers.
    pub async fn replay(&self, record: &Record, tamper: impl FnOnce(&mut Vec<u8>)) -> u16 {
        use base64::Engine;
        let mut body = base64::engine::general_purpose::STANDARD
            .decode(record["body_b64"].as_str().unwrap())
            .unwrap();
        tamper(&mut body);
        let mut request = reqwest::Client::new().post(self.url()).body(body);
        for (name, value) in record["headers"].as_object().unwrap() {
            request = request.header(name, value.as_str().unwrap());
        }
        request.send().await.expect("replay").status().as_u16()
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `records` checked again in Node.js against `jwks` (the document as
/// published), and with `whsec` by npm's libraries: one verdict each.
pub fn node_verdicts(
    records: &[Record],
    jwks: &serde_json::Value,
    whsec: Option<&str>,
) -> Vec<Record> {
    use std::io::Write;
    let dir = node_modules_dir();
    let mut command = Command::new("node");
    command
        .arg(script("verify.cjs"))
        .arg(jwks.to_string())
        .env("NODE_PATH", dir.join("node_modules"));
    if let Some(whsec) = whsec {
        command.arg(whsec);
    }
    let mut node = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start node");
    let input: String = records.iter().map(|r| format!("{r}\n")).collect();
    node.stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let output = node.wait_with_output().expect("node ran");
    assert!(output.status.success(), "verify.cjs failed");
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect()
}

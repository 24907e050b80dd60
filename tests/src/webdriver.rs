//! Headless Chromium driven through ChromeDriver's W3C WebDriver protocol
//! (plain HTTP and JSON, so reqwest is the whole client): what the console
//! tests click, read and photograph is what a browser shows.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs
//! them); without them a test fails and says so.
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// WebDriver's code for the Tab key.
pub const TAB: &str = "\u{E004}";
/// WebDriver's code for the Enter key.
pub const ENTER: &str = "\u{E007}";

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub struct Browser {
    driver: Child,
    port: u16,
    base: String,
    session: String,
    client: reqwest::Client,
    profile: std::path::PathBuf,
}

/// Stops the browser with the test, passed or failed: ChromeDriver
/// quits the browser when its session is deleted, but killing ChromeDriver
/// alone leaves the browser running (re-parented to init, with its
/// profile folder). So: delete the session, stop ChromeDriver, kill
/// anything still running on this profile, then remove the profile.
impl Drop for Browser {
    fn drop(&mut self) {
        end_session(self.port, &self.session);
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let marker = format!("--user-data-dir={}", self.profile.display());
        for _ in 0..50 {
            let left = processes_naming(&marker);
            if left.is_empty() {
                break;
            }
            for pid in left {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// `DELETE /session/{id}`, blocking (a `Drop` cannot await), within a few
/// seconds; any failure is left to the kills that follow.
fn end_session(port: u16, session: &str) {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let request = format!(
        "DELETE /session/{session} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    if stream.write_all(request.as_bytes()).is_ok() {
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
    }
}

/// The ids of processes whose command line contains `marker`.
fn processes_naming(marker: &str) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != std::process::id())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
                String::from_utf8_lossy(&cmdline)
                    .split('\0')
                    .any(|arg| arg == marker)
            })
        })
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium with an empty profile.
    pub async fn start() -> Browser {
        for (path, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
            assert!(
                std::path::Path::new(path).exists(),
                "{path} is missing: the console's browser tests need Debian's {package} \
                 (apt-get install -y chromium chromium-driver; .ci/run does this)"
            );
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let ready = Instant::now();
        let mut driver = driver;
        while client.get(format!("{base}/status")).send().await.is_err() {
            if ready.elapsed() > Duration::from_secs(20) {
                let _ = driver.kill();
                let _ = driver.wait();
                panic!("chromedriver did not start");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile =
            std::env::temp_dir().join(format!("hookrelay-chromium-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&profile).unwrap();
        // The flags this machine kind's notes give for a closed network:
        // no background connections that would be refused by the dozen.
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,900",
            &format!("--user-data-dir={}", profile.display()),
        ];
        let capabilities = json!({
            "capabilities": { "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
                "goog:loggingPrefs": { "browser": "ALL" },
            }}
        });
        let created = client
            .post(format!("{base}/session"))
            .header("content-type", "application/json")
            .body(capabilities.to_string())
            .send()
            .await
            .expect("create a browser session")
            .bytes()
            .await
            .unwrap();
        let created: Value = serde_json::from_slice(&created).unwrap();
        let Some(session) = created["value"]["sessionId"].as_str().map(String::from) else {
            let mut driver = driver;
            let _ = driver.kill();
            let _ = driver.wait();
            let _ = std::fs::remove_dir_all(&profile);
            panic!("no browser session: {created}");
        };
        Browser {
            driver,
            port,
            base,
            session,
            client,
            profile,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.client.request(method, &url);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let answer = request.send().await.unwrap().bytes().await.unwrap();
        let answer: Value = serde_json::from_slice(&answer).unwrap_or_default();
        answer["value"].clone()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url })).await;
    }

    pub async fn current_url(&self) -> String {
        self.get("/url")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        match self.find("body").await {
            Some(body) => self.text_of(&body).await,
            None => String::new(),
        }
    }

    /// The first element matching a CSS selector.
    pub async fn find(&self, css: &str) -> Option<String> {
        let found = self
            .post("/element", json!({ "using": "css selector", "value": css }))
            .await;
        found
            .as_object()?
            .values()
            .next()?
            .as_str()
            .map(str::to_string)
    }

    pub async fn text_of(&self, element: &str) -> String {
        self.get(&format!("/element/{element}/text"))
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub async fn click(&self, css: &str) {
        let element = self
            .find(css)
            .await
            .unwrap_or_else(|| panic!("nothing matches {css}"));
        self.post(&format!("/element/{element}/click"), json!({}))
            .await;
    }

    /// Replaces what the input `css` holds with `text`, as typed.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self
            .find(css)
            .await
            .unwrap_or_else(|| panic!("nothing matches {css}"));
        self.post(&format!("/element/{element}/clear"), json!({}))
            .await;
        self.post(
            &format!("/element/{element}/value"),
            json!({ "text": text }),
        )
        .await;
    }

    /// Waits until the page's text contains `wanted` (the page is not
    /// reloaded: whatever changes it, changes it by itself).
    pub async fn wait_for_text(&self, wanted: &str, within: Duration) -> String {
        self.wait_for_element_text("body", wanted, within).await
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let encoded = self.get("/screenshot").await;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .expect("a base64 screenshot")
    }

    /// What the page logged to its console at warning level or above
    /// (ChromeDriver's log endpoint).
    pub async fn console_problems(&self) -> Vec<String> {
        let entries = self.post("/se/log", json!({ "type": "browser" })).await;
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| matches!(entry["level"].as_str(), Some("SEVERE") | Some("WARNING")))
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// Presses keys as a person would, one after another (WebDriver key
    /// codes: [`TAB`], [`ENTER`], or plain characters).
    pub async fn press(&self, keys: &[&str]) {
        let actions: Vec<Value> = keys
            .iter()
            .flat_map(|key| {
                [
                    json!({ "type": "keyDown", "value": key }),
                    json!({ "type": "keyUp", "value": key }),
                ]
            })
            .collect();
        self.post(
            "/actions",
            json!({ "actions": [{ "type": "key", "id": "keyboard", "actions": actions }] }),
        )
        .await;
    }

    /// The text of the element that has the focus.
    pub async fn focused_text(&self) -> String {
        let active = self.get("/element/active").await;
        match active
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
        {
            Some(element) => self.text_of(element).await,
            None => String::new(),
        }
    }

    /// Waits until the element's text contains `wanted`.
    pub async fn wait_for_element_text(&self, css: &str, wanted: &str, within: Duration) -> String {
        let started = Instant::now();
        loop {
            let text = match self.find(css).await {
                Some(element) => self.text_of(&element).await,
                None => String::new(),
            };
            if text.contains(wanted) {
                return text;
            }
            assert!(
                started.elapsed() < within,
                "{wanted:?} did not appear in {css} within {within:?}; it says:\n{text}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Saves a screenshot as `name` in `HOOKRELAY_SCREENSHOTS` (default: a
    /// `hookrelay-screenshots` folder in the temporary directory) and
    /// returns where.
    pub async fn save_screenshot(&self, name: &str) -> std::path::PathBuf {
        let dir = std::env::var_os("HOOKRELAY_SCREENSHOTS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| std::env::temp_dir().join("hookrelay-screenshots"));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        let png = self.screenshot().await;
        assert!(png.starts_with(b"\x89PNG"), "not a PNG");
        std::fs::write(&path, png).unwrap();
        eprintln!("screenshot: {}", path.display());
        path
    }

    /// A cookie the browser holds for the current page (HttpOnly ones too:
    /// WebDriver sees what scripts cannot).
    pub async fn cookie(&self, name: &str) -> Option<Cookie> {
        let cookie = self.get(&format!("/cookie/{name}")).await;
        Some(Cookie {
            value: cookie["value"].as_str()?.to_string(),
            http_only: cookie["httpOnly"].as_bool().unwrap_or(false),
            same_site_strict: cookie["sameSite"].as_str() == Some("Strict"),
        })
    }
}

#[derive(Debug, Clone)]
pub struct Cookie {
    pub value: String,
    pub http_only: bool,
    pub same_site_strict: bool,
}

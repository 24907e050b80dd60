//! The console's sessions over HTTP, against the real `hookrelay dev`
//! (issue 26): a lost session is replaced without a restart
//! (`hookrelay console --login-url`), the session cookie is named after
//! the console's port (so two consoles on one machine do not log each other
//! out), and a session can be ended.
use std::process::{Child, Command, Stdio};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Opens a login URL; returns the session cookie it set (`name=value`).
async fn log_in(url: &str) -> Option<String> {
    let response = client().get(url).send().await.unwrap();
    let cookie = response
        .headers()
        .get("set-cookie")?
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    Some(cookie)
}

async fn page(base: &str, cookie: &str) -> (u16, String) {
    let response = client()
        .get(format!("{base}/"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_session_gets_a_fresh_login_url_and_a_session_can_end() {
    let dir = std::env::temp_dir().join(format!("hookrelay-sessions-{}", std::process::id()));
    let state = dir.join("state");
    std::fs::create_dir_all(&state).unwrap();
    let config = dir.join("hookrelay.toml");
    std::fs::write(
        &config,
        "[[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [\"It's a Secret to Everybody\"]\n",
    )
    .unwrap();
    let mut dev = Running(
        Command::new(env!("CARGO_BIN_EXE_hookrelay"))
            .arg("dev")
            .arg("--config")
            .arg(&config)
            .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .env("HOOKRELAY_STATE_DIR", &state)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = hookrelay_tests::dev_started(&mut dev.0);
    let base = format!("http://127.0.0.1:{}", started.admin_port);

    // The printed URL logs in once; the cookie is named after the port.
    let first = log_in(&started.console_login).await.expect("a session");
    assert!(
        first.starts_with(&format!("hookrelay_console_{}=", started.admin_port)),
        "{first}"
    );
    assert_eq!(page(&base, &first).await.0, 200);
    assert!(log_in(&started.console_login).await.is_none(), "used once");

    // A second browser: a fresh URL from the CLI, with the admin token.
    let fresh = Command::new(env!("CARGO_BIN_EXE_hookrelay"))
        .args([
            "console",
            "--login-url",
            "--listen",
            &format!("127.0.0.1:{}", started.admin_port),
        ])
        .env("HOOKRELAY_STATE_DIR", &state)
        .output()
        .unwrap();
    assert!(fresh.status.success(), "{fresh:?}");
    let url = String::from_utf8(fresh.stdout).unwrap().trim().to_string();
    assert!(url.starts_with(&format!("{base}/login?token=")), "{url}");
    let second = log_in(&url).await.expect("a second session");
    assert_eq!(page(&base, &second).await.0, 200);
    assert_eq!(page(&base, &first).await.0, 200, "the first stays");
    // Without the admin token, no URL.
    let refused = client()
        .post(format!("{base}/login-url"))
        .header("authorization", "Bearer guess")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    // Logging out ends that session only.
    let (_, logout_page) = {
        let response = client()
            .get(format!("{base}/logout"))
            .header("cookie", &first)
            .send()
            .await
            .unwrap();
        (response.status(), response.text().await.unwrap())
    };
    let csrf = logout_page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF field")
        .to_string();
    let ended = client()
        .post(format!("{base}/logout"))
        .header("cookie", &first)
        .header("origin", &base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}"))
        .send()
        .await
        .unwrap();
    assert_eq!(ended.status(), 200);
    assert!(ended.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .contains("Max-Age=0"));
    assert_eq!(page(&base, &first).await.0, 401);
    assert_eq!(page(&base, &second).await.0, 200);
    let _ = std::fs::remove_dir_all(&dir);
}

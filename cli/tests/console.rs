//! The console in a real browser (headless Chromium through WebDriver),
//! served by the real `hookrelay dev`: log in through the one-time URL,
//! watch webhooks sent with `hookrelay send` appear without reloading, open
//! one, replay it and see the new attempt, disable and enable a destination
//! and see its parked delivery released. And what must be refused: no
//! session, a cross-origin POST, a foreign `Host`. The browser's console
//! log must stay free of errors.
use hookrelay_tests::moto;
use hookrelay_tests::sink::Sink;
use hookrelay_tests::webdriver::{Browser, ENTER, TAB};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const WAIT: Duration = Duration::from_secs(20);

fn write_config(dir: &std::path::Path, sink: &Sink) -> std::path::PathBuf {
    let config = dir.join("hookrelay.toml");
    std::fs::write(
        &config,
        format!(
            "allow_private_destinations = true\n\
             [[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [\"It's a Secret to Everybody\"]\n\
             [[destinations]]\nid = \"orders\"\nurl = \"{}\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
             [[routes]]\nsource = \"github\"\ndestination = \"orders\"\n\
             filter = '{{\"body\": {{\"ref\": [{{\"prefix\": \"refs/heads/\"}}]}}}}'\n",
            sink.url("/hook")
        ),
    )
    .unwrap();
    config
}

/// `hookrelay dev` on free ports; with `aws_env` (moto's), on `--aws`.
fn start_dev(
    config: &std::path::Path,
    state: &std::path::Path,
    aws_env: &[(String, String)],
) -> (Running, hookrelay_tests::DevStarted) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hookrelay"));
    command.arg("dev");
    if !aws_env.is_empty() {
        command.arg("--aws");
    }
    let mut dev = Running(
        command
            .arg("--config")
            .arg(config)
            .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .envs(aws_env.iter().map(|(k, v)| (k, v)))
            .env("HOOKRELAY_STATE_DIR", state)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let started = hookrelay_tests::dev_started(&mut dev.0);
    (dev, started)
}

fn send(config: &std::path::Path, payload: &std::path::Path, receiver: u16) {
    let sent = Command::new(env!("CARGO_BIN_EXE_hookrelay"))
        .args(["send", "--source", "github", "--event", "push", "--file"])
        .arg(payload)
        .arg("--config")
        .arg(config)
        .args(["--url", &format!("http://127.0.0.1:{receiver}")])
        .output()
        .unwrap();
    assert!(sent.status.success(), "{sent:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_shows_replays_and_releases_deliveries_in_a_browser() {
    let sink = Sink::start().await;
    let dir = std::env::temp_dir().join(format!("hookrelay-console-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = write_config(&dir, &sink);
    let payload = dir.join("push.json");
    std::fs::write(
        &payload,
        br#"{"ref":"refs/heads/main","pusher":{"name":"octo<cat>"}}"#,
    )
    .unwrap();
    let (_dev, started) = start_dev(&config, &dir, &[]);
    let console = format!("http://127.0.0.1:{}", started.admin_port);
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Without a session: nothing but the request to log in.
    let anonymous = http.get(format!("{console}/")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);

    let browser = Browser::start().await;
    browser.goto(&started.console_login).await;
    assert_eq!(browser.current_url().await, format!("{console}/"));
    browser.wait_for_text("No events yet.", WAIT).await;
    // The login URL was for once.
    let again = http.get(&started.console_login).send().await.unwrap();
    assert_eq!(again.status(), 401);

    // A webhook arrives and is delivered: the list shows it, unreloaded.
    send(&config, &payload, started.receiver_port);
    let rows = browser
        .wait_for_element_text("#event-rows", "succeeded", WAIT)
        .await;
    assert!(rows.contains("github") && rows.contains("push"), "{rows}");

    // The event: its route's verdict, its body (escaped), its attempt,
    // then a replay's.
    browser.click("#event-rows a").await;
    let page = browser.wait_for_text("Replay to orders", WAIT).await;
    let route = browser
        .wait_for_element_text("tr.route[data-destination='orders']", "matched", WAIT)
        .await;
    assert!(!route.contains("not matched"), "{route}");
    assert!(page.contains("octo<cat>"), "{page}");
    assert!(page.contains("HTTP 200"), "{page}");
    assert!(
        page.contains("x-hub-signature-256") && page.contains("•••• masked"),
        "{page}"
    );
    assert!(
        !page.contains("sha256="),
        "a signature reached the page: {page}"
    );
    browser.save_screenshot("console-event.png").await;
    browser.click("section.delivery form button").await;
    browser.wait_for_text("2.1", WAIT).await;
    sink.wait_for_requests(2).await;

    // Disabled, a new webhook is parked; enabled, it is released.
    browser.goto(&format!("{console}/destinations")).await;
    browser.click("button.disable").await;
    browser.wait_for_text("disabled", WAIT).await;
    // Another payload: the same one again would be a duplicate.
    let second = dir.join("push-2.json");
    std::fs::write(
        &second,
        br#"{"ref":"refs/heads/next","pusher":{"name":"octo<cat>"}}"#,
    )
    .unwrap();
    send(&config, &second, started.receiver_port);
    let parked = async {
        loop {
            browser.goto(&format!("{console}/destinations")).await;
            let parked = browser.find("dd.parked").await.unwrap();
            if browser.text_of(&parked).await == "1" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::time::timeout(WAIT, parked)
        .await
        .expect("the webhook was parked");
    assert_eq!(sink.received("/hook").len(), 2);
    browser.click("button.enable").await;
    sink.wait_for_requests(3).await;
    browser.goto(&format!("{console}/")).await;
    let rows = browser
        .wait_for_element_text("#event-rows", "succeeded", WAIT)
        .await;
    assert_eq!(rows.matches("orders").count(), 2, "{rows}");
    assert!(!rows.contains("parked"), "{rows}");
    browser.save_screenshot("console-events.png").await;

    // A forged webhook is refused, and the sources page says why.
    let forged = http
        .post(format!(
            "http://127.0.0.1:{}/hooks/github",
            started.receiver_port
        ))
        .header("x-hub-signature-256", format!("sha256={}", "0".repeat(64)))
        .header("x-github-event", "push")
        .body(r#"{"ref":"refs/heads/forged"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    browser.goto(&format!("{console}/sources")).await;
    let rejections = browser
        .wait_for_element_text("td.rejections", "bad_signature", WAIT)
        .await;
    assert_eq!(rejections, "bad_signature 1");
    let sources = browser.text().await;
    assert!(
        sources.contains(&format!(
            "http://127.0.0.1:{}/hooks/github",
            started.receiver_port
        )),
        "{sources}"
    );

    // A rotation shows the new secret once; afterwards only fingerprints.
    browser.goto(&format!("{console}/destinations")).await;
    browser.click("form[action$='/rotate'] button").await;
    // Waited for: the page may still be loading when the element is found.
    let secret = browser
        .wait_for_element_text("#new-secret", "whsec_", WAIT)
        .await;
    assert!(secret.starts_with("whsec_"), "{secret:?}");
    browser.goto(&format!("{console}/destinations")).await;
    let page = browser.wait_for_text("until", WAIT).await;
    assert!(!page.contains(&secret), "{page}");
    assert_eq!(page.matches("sha256:").count(), 2, "{page}");

    // With the browser's own session cookie: a POST from another origin,
    // one without the form's CSRF token, and a foreign Host are refused.
    // Named after the console's port, so another console on this machine
    // keeps its own.
    let cookie_name = format!("hookrelay_console_{}", started.admin_port);
    let cookie = browser
        .cookie(&cookie_name)
        .await
        .expect("a session cookie");
    assert!(cookie.http_only && cookie.same_site_strict, "{cookie:?}");
    let session = format!("{cookie_name}={}", cookie.value);
    let disable = format!("{console}/destinations/orders/enabled");
    let cases = [
        ("http://evil.example", "csrf=x&enabled=false", None, 403),
        (console.as_str(), "enabled=false", None, 403),
        (
            console.as_str(),
            "enabled=false",
            Some("rebound.evil.example"),
            403,
        ),
    ];
    for (origin, form, host, status) in cases {
        let mut request = http
            .post(&disable)
            .header("cookie", &session)
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form);
        if let Some(host) = host {
            request = request.header("host", host);
        }
        assert_eq!(
            request.send().await.unwrap().status(),
            status,
            "{origin} {form} {host:?}"
        );
    }
    let foreign = http
        .get(format!("{console}/"))
        .header("cookie", &session)
        .header("host", "rebound.evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    let still = http
        .get(format!("{console}/destinations"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert!(
        still.text().await.unwrap().contains("Disable"),
        "the refused POSTs changed nothing"
    );

    // With the keyboard alone: Tab to the navigation's second link and
    // follow it, then Tab to the destination's first button and press it.
    browser.goto(&format!("{console}/")).await;
    browser.press(&[TAB, TAB]).await;
    assert_eq!(browser.focused_text().await, "Destinations");
    browser.press(&[ENTER]).await;
    browser.wait_for_text("Recover failed since", WAIT).await;
    assert_eq!(
        browser.current_url().await,
        format!("{console}/destinations")
    );
    // Past the navigation's four links (Events, Destinations, Sources,
    // Log out) to the destination's first button.
    browser.press(&[TAB, TAB, TAB, TAB, TAB]).await;
    assert_eq!(browser.focused_text().await, "Disable");
    browser.press(&[ENTER]).await;
    browser.wait_for_text("Enable", WAIT).await;
    assert!(browser.find("button.enable").await.is_some());

    // A rate limit set from the destinations page is kept and shown.
    browser
        .fill("#destination-orders input[name=rate_limit]", "5/s")
        .await;
    browser
        .fill("#destination-orders input[name=burst]", "3")
        .await;
    browser.click("#destination-orders button.rate-limit").await;
    let shown = browser
        .wait_for_element_text("#destination-orders dd.rate-limit", "5/s", WAIT)
        .await;
    assert_eq!(shown.trim(), "5/s, burst 3");

    // A tag push the route's filter turns away: stored, not delivered, and
    // its page says which field failed.
    let tag = dir.join("tag.json");
    std::fs::write(&tag, br#"{"ref":"refs/tags/v1"}"#).unwrap();
    send(&config, &tag, started.receiver_port);
    browser.goto(&format!("{console}/")).await;
    browser
        .wait_for_element_text("#event-rows", "none yet", WAIT)
        .await;
    browser.click("#event-rows a").await;
    let route = browser
        .wait_for_element_text("tr.route[data-destination='orders']", "not matched", WAIT)
        .await;
    assert!(route.contains("filter failed at body.ref"), "{route}");
    browser.save_screenshot("console-event-filtered.png").await;

    let problems = browser.console_problems().await;
    assert!(problems.is_empty(), "the browser logged: {problems:?}");
}

/// `hookrelay console --aws` on a deployed stack's tables and queue (moto
/// here), beside a `hookrelay dev --aws` that receives and delivers into
/// them: the console shows what the stack received and replays it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_for_a_deployed_stack_reads_and_replays_through_aws() {
    let sink = Sink::start().await;
    let dir = std::env::temp_dir().join(format!("hookrelay-console-aws-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = write_config(&dir, &sink);
    let payload = dir.join("push.json");
    std::fs::write(&payload, br#"{"ref":"refs/heads/main"}"#).unwrap();
    let provisioned = moto::Provisioned::on_shared().await;
    let env = provisioned.environment(&moto::shared().endpoint);
    let (_dev, started) = start_dev(&config, &dir, &env);
    let mut console = Running(
        Command::new(env!("CARGO_BIN_EXE_hookrelay"))
            .args(["console", "--aws", "--listen", "127.0.0.1:0"])
            .args(["--receiver-url", "https://hooks.example.com/prod"])
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let login = hookrelay_tests::line_starting(&mut console.0, "hookrelay console: ");
    let base = login.split("/login").next().unwrap().to_string();

    send(&config, &payload, started.receiver_port);
    sink.wait_for_requests(1).await;
    let browser = Browser::start().await;
    browser.goto(&login).await;
    let rows = browser
        .wait_for_element_text("#event-rows", "succeeded", WAIT)
        .await;
    assert!(rows.contains("github"), "{rows}");
    browser.click("#event-rows a").await;
    browser.wait_for_text("HTTP 200", WAIT).await;
    browser.click("#replay-all").await;
    sink.wait_for_requests(2).await;
    browser.wait_for_text("2.1", WAIT).await;
    browser.goto(&format!("{base}/sources")).await;
    browser
        .wait_for_text("https://hooks.example.com/prod/hooks/github", WAIT)
        .await;
    // The destinations page reads the stack's attempts for its charts.
    browser.goto(&format!("{base}/destinations")).await;
    let page = browser
        .wait_for_text("last hour: 100% of 2 attempts succeeded", WAIT)
        .await;
    assert!(
        page.contains("orders") && page.contains("Disable"),
        "{page}"
    );
    let problems = browser.console_problems().await;
    assert!(problems.is_empty(), "the browser logged: {problems:?}");
}

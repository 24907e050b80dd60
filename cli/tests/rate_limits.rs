//! A destination's rate limit on `hookrelay dev`, the real binary: 1,000
//! webhooks sent at once to a destination limited to 10/s with a burst
//! of 20 all arrive, each once, and no 10-second window sees more than
//! 10.5/s plus the burst. (On DynamoDB and SQS with five dispatchers:
//! `tests/it/rate_limits.rs`.)
use hookrelay_signing::{sign_as_provider, ProviderMessage, Scheme, SchemeKind, Secret};
use hookrelay_tests::sink::{Reply, Sink};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SECRET: &str = "It's a Secret to Everybody";
const EVENTS: usize = 1_000;

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn ten_a_second_with_a_burst_of_twenty_holds_on_dev() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sink = runtime.block_on(Sink::start());
    sink.script("/paced", vec![Reply::Status(200)]);
    let dir = std::env::temp_dir().join(format!("hookrelay-rate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("hookrelay.toml");
    std::fs::write(
        &config,
        format!(
            "allow_private_destinations = true\n\
             [[sources]]\nid = \"github\"\nscheme = \"github\"\nsecrets = [{SECRET:?}]\n\
             [[destinations]]\nid = \"paced\"\nurl = \"{}\"\nsecret = \"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\"\n\
             rate_limit = \"10/s\"\nburst = 20\n\
             [[routes]]\nsource = \"github\"\ndestination = \"paced\"\n",
            sink.url("/paced")
        ),
    )
    .unwrap();
    let mut dev = Killed(
        Command::new(env!("CARGO_BIN_EXE_hookrelay"))
            .args(["dev", "--config"])
            .arg(&config)
            .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let (port, _) = hookrelay_tests::dev_ports(&mut dev.0);

    runtime.block_on(async {
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let url = format!("http://127.0.0.1:{port}/hooks/github");
        let mut tasks = tokio::task::JoinSet::new();
        for chunk in (0..EVENTS).collect::<Vec<_>>().chunks(EVENTS / 8) {
            let (client, url, chunk) = (client.clone(), url.clone(), chunk.to_vec());
            tasks.spawn(async move {
                for n in chunk {
                    let body = format!(r#"{{"ref":"refs/heads/main","n":{n}}}"#);
                    let message = ProviderMessage {
                        body: body.as_bytes(),
                        timestamp: 0,
                        id: "",
                        url: None,
                    };
                    let signed = sign_as_provider(
                        &Scheme::Named(SchemeKind::Github),
                        &Secret::new(SECRET),
                        &message,
                    )
                    .unwrap();
                    let mut request = client
                        .post(&url)
                        .header("x-github-event", "push")
                        .header("x-github-delivery", format!("delivery-{n}"));
                    for (name, value) in signed {
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
        let deadline = Instant::now() + Duration::from_secs(300);
        while sink.received("/paced").len() < EVENTS {
            assert!(
                Instant::now() < deadline,
                "only {} of {EVENTS} delivered",
                sink.received("/paced").len()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });

    hookrelay_tests::assert_ten_a_second_with_a_burst_of_twenty(
        &sink.received("/paced"),
        EVENTS,
        "dev",
    );
}

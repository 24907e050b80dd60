//! The real `hookrelay` binary, spawned as users run it.
use std::path::PathBuf;
use std::process::Command;

fn hookrelay() -> Command {
    Command::new(env!("CARGO_BIN_EXE_hookrelay"))
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hookrelay-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

#[test]
fn sign_prints_the_github_reference_signature() {
    let body = temp_file("hello.txt", "Hello, World!");
    let output = hookrelay()
        .args(["sign", "--scheme", "github", "--file"])
        .arg(&body)
        .env("HOOKRELAY_SIGN_SECRET", "It's a Secret to Everybody")
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17\n"
    );
}

#[test]
fn config_check_accepts_a_valid_file_and_summarises_it() {
    let path = temp_file(
        "ok.toml",
        "[[sources]]\nid = \"gh\"\nscheme = \"github\"\nsecrets = [\"s\"]\n",
    );
    let output = hookrelay()
        .args(["config", "check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(
        stdout.contains("ok (1 sources, 0 destinations, 0 routes)"),
        "{stdout}"
    );
}

#[test]
fn config_check_refuses_a_broken_file_with_line_and_exit_code_2() {
    let path = temp_file(
        "broken.toml",
        "[[sources]]\nid = \"gh\"\nscheme = \"gitlob\"\nsecrets = [\"s\"]\n",
    );
    let output = hookrelay()
        .args(["config", "check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("broken.toml: line 3"), "{stderr}");
    assert!(stderr.contains("gitlob"), "{stderr}");
}

#[test]
fn a_missing_file_exits_1_and_says_which() {
    let output = hookrelay()
        .args(["config", "check", "--config", "/nonexistent/hookrelay.toml"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .contains("/nonexistent/hookrelay.toml"));
}

#[test]
fn config_push_is_idempotent_and_pull_gives_the_same_configuration_back() {
    use hookrelay_tests::moto::{unique_name, Moto};
    let moto = Moto::start();
    let table = unique_name("config");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let client = aws_sdk_dynamodb::Client::new(&moto.sdk_config());
        hookrelay_aws::provision::create_config_table(&client, &table)
            .await
            .unwrap();
    });
    let env = [
        ("AWS_ENDPOINT_URL", moto.endpoint.as_str()),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("HOOKRELAY_CONFIG_TABLE", table.as_str()),
    ];
    // Read when the test runs, not compiled in: CI may reuse a build made
    // in another clone.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo test sets it");
    let shipped = std::path::Path::new(&manifest).join("../hookrelay.toml");
    for _ in 0..2 {
        let pushed = hookrelay()
            .args(["config", "push", "--aws", "--config"])
            .arg(&shipped)
            .envs(env)
            .output()
            .unwrap();
        assert!(pushed.status.success(), "{pushed:?}");
        assert!(String::from_utf8_lossy(&pushed.stdout)
            .contains("pushed 3 sources, 1 destinations, 3 routes"));
    }
    let pulled = hookrelay()
        .args(["config", "pull", "--aws"])
        .envs(env)
        .output()
        .unwrap();
    assert!(pulled.status.success(), "{pulled:?}");
    let pulled =
        hookrelay_models::Config::from_toml(&String::from_utf8(pulled.stdout).unwrap(), "pulled")
            .unwrap();
    let mut original =
        hookrelay_models::Config::from_toml(&std::fs::read_to_string(&shipped).unwrap(), "shipped")
            .unwrap();
    // The private-destination switch is a deployment setting, not stored.
    original.allow_private_destinations = false;
    let sorted = |mut c: hookrelay_models::Config| {
        c.sources.sort_by(|a, b| a.id.cmp(&b.id));
        c.destinations.sort_by(|a, b| a.id.cmp(&b.id));
        c.routes
            .sort_by(|a, b| (&a.source, &a.destination).cmp(&(&b.source, &b.destination)));
        c
    };
    assert_eq!(sorted(pulled), sorted(original));
}

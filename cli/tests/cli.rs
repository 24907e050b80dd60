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
        "[[sources]]\nid = \"gh\"\nscheme = \"gitlab\"\nsecrets = [\"s\"]\n",
    );
    let output = hookrelay()
        .args(["config", "check", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("broken.toml: line 3"), "{stderr}");
    assert!(stderr.contains("gitlab"), "{stderr}");
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

//! The token that guards `hookrelay dev`'s admin endpoint.
//!
//! Loopback and the browser checks keep web pages out, but not other
//! local processes or users: without a token any of them could read every
//! secret (`config pull`) or rewrite the configuration — with `dev --aws`,
//! in real tables with the developer's credentials. `hookrelay dev` makes a
//! random token at start and writes it to a file only its user can read,
//! named after the admin port; the admin commands read it from there
//! (`HOOKRELAY_ADMIN_TOKEN` overrides) and send it as a bearer token.
use std::io::Write;
use std::path::PathBuf;

use crate::error::CliError;

/// Where tokens are kept: `HOOKRELAY_STATE_DIR`, else
/// `$XDG_STATE_HOME/hookrelay`, else `~/.local/state/hookrelay`.
fn state_dir() -> PathBuf {
    let from_env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(dir) = from_env("HOOKRELAY_STATE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = from_env("XDG_STATE_HOME") {
        return PathBuf::from(dir).join("hookrelay");
    }
    match from_env("HOME") {
        Some(home) => PathBuf::from(home).join(".local/state/hookrelay"),
        None => std::env::temp_dir().join("hookrelay"),
    }
}

/// The token file of the admin endpoint on `port`.
pub fn token_path(port: u16) -> PathBuf {
    state_dir().join(format!("admin-token-{port}"))
}

/// A new token for the endpoint on `port`, written where the admin
/// commands look for it, readable by this user only. Returns the token and
/// the file.
pub fn issue(port: u16) -> Result<(String, PathBuf), CliError> {
    let token = random_token();
    let path = token_path(port);
    let fail = |what: &str, e: std::io::Error| {
        CliError::Usage(format!(
            "cannot {what} {} for the admin token: {e} (set HOOKRELAY_STATE_DIR to a writable folder)",
            path.display()
        ))
    };
    let dir = path.parent().expect("a token file has a folder");
    std::fs::create_dir_all(dir).map_err(|e| fail("create the folder of", e))?;
    // A file left by an earlier run is replaced, never written through
    // (it could be a link someone else planted).
    let _ = std::fs::remove_file(&path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let _ = std::fs::DirBuilder::new().mode(0o700).create(dir);
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    let mut file = options.open(&path).map_err(|e| fail("write", e))?;
    file.write_all(token.as_bytes())
        .map_err(|e| fail("write", e))?;
    Ok((token, path))
}

/// The token to send to the admin endpoint at `admin_url`:
/// `HOOKRELAY_ADMIN_TOKEN`, else, for a loopback address, the file
/// `hookrelay dev` wrote for its port.
pub fn for_url(admin_url: &str) -> Option<String> {
    if let Some(token) = std::env::var("HOOKRELAY_ADMIN_TOKEN")
        .ok()
        .filter(|t| !t.is_empty())
    {
        return Some(token);
    }
    let port = loopback_port(admin_url)?;
    let token = std::fs::read_to_string(token_path(port)).ok()?;
    Some(token.trim().to_string())
}

/// The port of `admin_url` if it names a loopback address. A token file is
/// `hookrelay dev`'s, which listens on loopback only: another host that
/// happens to use the same port must never be sent it.
fn loopback_port(admin_url: &str) -> Option<u16> {
    let url = reqwest::Url::parse(admin_url).ok()?;
    if !crate::server::loopback_host(url.host_str()?) {
        return None;
    }
    url.port_or_known_default()
}

/// Whether an `Authorization` header carries `token`, compared in
/// constant time.
pub fn authorizes(header: Option<&str>, token: &str) -> bool {
    let Some(given) = header.and_then(|h| h.strip_prefix("Bearer ")) else {
        return false;
    };
    same_token(given.trim(), token)
}

/// 32 random bytes as hex: the admin token, the console's login token,
/// session and CSRF tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("operating system random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether two tokens are equal, in time that depends only on their
/// lengths (which are public: every token is 64 hex digits).
pub fn same_token(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |diff, (a, b)| diff | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_token_authorizes() {
        let token = "a".repeat(64);
        assert!(authorizes(Some(&format!("Bearer {token}")), &token));
        assert!(!authorizes(
            Some(&format!("Bearer {}b", &token[1..])),
            &token
        ));
        assert!(!authorizes(Some(&format!("Bearer {token}x")), &token));
        assert!(!authorizes(Some(&token), &token));
        assert!(!authorizes(Some("Bearer "), &token));
        assert!(!authorizes(None, &token));
    }

    #[test]
    fn the_token_file_is_for_loopback_addresses_only() {
        for url in [
            "http://127.0.0.1:3001",
            "http://localhost:3001/admin",
            "http://[::1]:3001",
        ] {
            assert_eq!(loopback_port(url), Some(3001), "{url}");
        }
        for url in [
            "http://evil.example:3001",
            "http://127.0.0.1.evil.example:3001",
            "http://10.0.0.1:3001",
            "not a url",
        ] {
            assert_eq!(loopback_port(url), None, "{url}");
        }
    }
}

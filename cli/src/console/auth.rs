//! Who may use the console, and which requests count as theirs.
//!
//! The console prints a login URL with a one-time token when it starts
//! (as Jupyter does). Opening it swaps the token for a session cookie
//! (`HttpOnly`, `SameSite=Strict`); the token then no longer works. Every
//! request must name a loopback `Host` (so a DNS-rebound name cannot reach
//! it), and every state-changing one must come from the console's own page:
//! an `Origin` equal to its own, and the session's CSRF token in the form.
use std::sync::Mutex;

pub const COOKIE: &str = "hookrelay_console";

/// 32 random bytes as hex.
fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal, in time that depends only on the lengths (which are public:
/// every token is 64 hex digits).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

struct Session {
    id: String,
    csrf: String,
}

pub struct Auth {
    /// Until it is used.
    login_token: Mutex<Option<String>>,
    sessions: Mutex<Vec<Session>>,
}

impl Default for Auth {
    fn default() -> Self {
        Self::new()
    }
}

impl Auth {
    pub fn new() -> Self {
        Auth {
            login_token: Mutex::new(Some(random_token())),
            sessions: Mutex::new(Vec::new()),
        }
    }

    /// The one-time token, for the login URL printed at start.
    pub fn login_token(&self) -> Option<String> {
        self.login_token.lock().unwrap().clone()
    }

    /// Swaps the one-time token for a new session's id, once.
    pub fn log_in(&self, token: &str) -> Option<String> {
        let mut login = self.login_token.lock().unwrap();
        let valid = login
            .as_deref()
            .is_some_and(|expected| same(expected, token));
        if !valid {
            return None;
        }
        *login = None;
        let session = Session {
            id: random_token(),
            csrf: random_token(),
        };
        let id = session.id.clone();
        self.sessions.lock().unwrap().push(session);
        Some(id)
    }

    /// The CSRF token of the session the cookie header names, if any.
    pub fn session_csrf(&self, cookie_header: Option<&str>) -> Option<String> {
        let id = cookie_header?
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == COOKIE)
            .map(|(_, value)| value.trim())?;
        self.sessions
            .lock()
            .unwrap()
            .iter()
            .find(|session| same(&session.id, id))
            .map(|session| session.csrf.clone())
    }

    /// Whether a form's CSRF field is its session's.
    pub fn csrf_matches(expected: &str, given: Option<&str>) -> bool {
        given.is_some_and(|given| same(expected, given))
    }
}

/// Whether a `Host` header names a loopback address (any port).
pub fn loopback_host(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    };
    name == "localhost"
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_token_works_once_and_gives_a_session_with_its_own_csrf() {
        let auth = Auth::new();
        let token = auth.login_token().unwrap();
        assert_eq!(token.len(), 64);
        assert!(auth.log_in("wrong").is_none());
        let session = auth.log_in(&token).expect("first use");
        assert!(auth.log_in(&token).is_none(), "second use");
        assert!(auth.login_token().is_none());
        let cookie = format!("other=1; {COOKIE}={session}");
        let csrf = auth.session_csrf(Some(&cookie)).unwrap();
        assert_ne!(csrf, session);
        assert!(Auth::csrf_matches(&csrf, Some(&csrf)));
        assert!(!Auth::csrf_matches(&csrf, Some(&session)));
        assert!(!Auth::csrf_matches(&csrf, None));
        assert!(auth.session_csrf(Some(&format!("{COOKIE}=x"))).is_none());
        assert!(auth.session_csrf(None).is_none());
    }

    #[test]
    fn only_loopback_hosts_are_the_consoles() {
        for host in [
            "127.0.0.1:3001",
            "localhost:3001",
            "[::1]:3001",
            "127.0.0.1",
        ] {
            assert!(loopback_host(host), "{host}");
        }
        for host in [
            "evil.example:3001",
            "127.0.0.1.evil.example",
            "",
            "10.0.0.1:3001",
        ] {
            assert!(!loopback_host(host), "{host}");
        }
    }
}

//! Who may use the console, and which requests count as theirs.
//!
//! The console prints a login URL with a one-time token when it starts
//! (as Jupyter does). Opening it swaps the token for a session cookie
//! (`HttpOnly`, `SameSite=Strict`); the token then no longer works. Every
//! request must name a loopback `Host` (so a DNS-rebound name cannot reach
//! it), and every state-changing one must come from the console's own page:
//! an `Origin` equal to its own, and the session's CSRF token in the form.
use std::sync::Mutex;

use crate::admin_token::{random_token, same_token as same};

pub const COOKIE: &str = "hookrelay_console";

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
}

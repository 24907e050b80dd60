//! Who may use the console, and which requests count as theirs.
//!
//! The console prints a login URL with a one-time token when it starts
//! (as Jupyter does); whoever holds the admin token can ask for a fresh
//! one at any time (`hookrelay console --login-url`). Opening it swaps the
//! token for a session cookie (`HttpOnly`, `SameSite=Strict`, named after
//! the console's port); the token then no longer works. A session ends
//! after 12 idle hours, or when its user logs out. Every request must name
//! a loopback `Host` (so a DNS-rebound name cannot reach it), and every
//! state-changing one must come from the console's own page: an `Origin`
//! equal to its own, and the session's CSRF token in the form.
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::admin_token::{random_token, same_token as same};

const COOKIE: &str = "hookrelay_console";

/// The session cookie of the console on `port`. Browsers keep cookies per
/// host, not per port: `hookrelay dev` and `hookrelay console --aws` side
/// by side would otherwise replace each other's and log each other out.
pub fn cookie_name(port: u16) -> String {
    format!("{COOKIE}_{port}")
}

/// How long a session lasts unused.
pub const IDLE_EXPIRY: Duration = Duration::from_secs(12 * 3600);

struct Session {
    id: String,
    csrf: String,
    last_used: Instant,
}

pub struct Auth {
    /// Until it is used (or replaced by a fresh one).
    login_token: Mutex<Option<String>>,
    sessions: Mutex<Vec<Session>>,
    idle_expiry: Duration,
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
            idle_expiry: IDLE_EXPIRY,
        }
    }

    /// Sessions end after `idle` unused (tests shorten it).
    #[cfg(test)]
    pub fn with_idle_expiry(mut self, idle: Duration) -> Self {
        self.idle_expiry = idle;
        self
    }

    /// A fresh one-time login token, in place of any unused one.
    pub fn new_login_token(&self) -> String {
        let token = random_token();
        *self.login_token.lock().unwrap() = Some(token.clone());
        token
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
            last_used: Instant::now(),
        };
        let id = session.id.clone();
        self.sessions.lock().unwrap().push(session);
        Some(id)
    }

    /// The CSRF token of the live session the cookie header names in the
    /// cookie `name`, if any; using it keeps the session alive.
    pub fn session_csrf(&self, cookie_header: Option<&str>, name: &str) -> Option<String> {
        let id = session_id(cookie_header, name)?;
        let mut sessions = self.sessions.lock().unwrap();
        let now = Instant::now();
        sessions.retain(|session| now.duration_since(session.last_used) < self.idle_expiry);
        let session = sessions.iter_mut().find(|session| same(&session.id, id))?;
        session.last_used = now;
        Some(session.csrf.clone())
    }

    /// Ends the session the cookie header names.
    pub fn log_out(&self, cookie_header: Option<&str>, name: &str) {
        if let Some(id) = session_id(cookie_header, name) {
            self.sessions
                .lock()
                .unwrap()
                .retain(|session| !same(&session.id, id));
        }
    }

    /// Whether a form's CSRF field is its session's.
    pub fn csrf_matches(expected: &str, given: Option<&str>) -> bool {
        given.is_some_and(|given| same(expected, given))
    }
}

/// The value of cookie `name` in a `Cookie` header.
fn session_id<'a>(cookie_header: Option<&'a str>, name: &str) -> Option<&'a str> {
    cookie_header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value.trim())
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
        let name = cookie_name(3001);
        let cookie = format!("other=1; {name}={session}");
        let csrf = auth.session_csrf(Some(&cookie), &name).unwrap();
        assert_ne!(csrf, session);
        assert!(Auth::csrf_matches(&csrf, Some(&csrf)));
        assert!(!Auth::csrf_matches(&csrf, Some(&session)));
        assert!(!Auth::csrf_matches(&csrf, None));
        assert!(auth
            .session_csrf(Some(&format!("{name}=x")), &name)
            .is_none());
        assert!(auth.session_csrf(None, &name).is_none());
        // Another console's cookie (another port) is not this session.
        let other = cookie_name(3002);
        assert!(auth
            .session_csrf(Some(&format!("{other}={session}")), &other)
            .is_some_and(|c| c == csrf));
        assert!(auth
            .session_csrf(Some(&format!("{other}={session}")), &name)
            .is_none());
    }

    #[test]
    fn a_fresh_login_token_replaces_an_unused_one_and_logging_out_ends_a_session() {
        let auth = Auth::new();
        let first = auth.login_token().unwrap();
        let session = auth.log_in(&first).unwrap();
        let fresh = auth.new_login_token();
        assert!(auth.log_in(&first).is_none(), "the old token is spent");
        let second = auth.log_in(&fresh).expect("a second browser logs in");
        let name = cookie_name(3001);
        let cookie = |id: &str| format!("{name}={id}");
        assert!(auth.session_csrf(Some(&cookie(&session)), &name).is_some());
        auth.log_out(Some(&cookie(&session)), &name);
        assert!(auth.session_csrf(Some(&cookie(&session)), &name).is_none());
        assert!(auth.session_csrf(Some(&cookie(&second)), &name).is_some());
    }

    #[test]
    fn an_idle_session_expires() {
        let auth = Auth::new().with_idle_expiry(Duration::ZERO);
        let session = auth.log_in(&auth.login_token().unwrap()).unwrap();
        let name = cookie_name(3001);
        assert!(auth
            .session_csrf(Some(&format!("{name}={session}")), &name)
            .is_none());
    }
}

//! Helpers shared by the cross-crate tests in `it/`.
#![forbid(unsafe_code)]

use hookrelay_models::Config;

/// A configuration as a user would write it, parsed the way the relay does.
pub fn config_from(text: &str) -> Config {
    Config::from_toml(text, "test.toml").expect("test configuration is valid")
}

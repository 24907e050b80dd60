//! The `hookrelay` command as a library: the local stack (`dev`, `send`,
//! `sink`), the admin subcommands, configuration checks and provider-style
//! signing, each a function from arguments to the text it prints, so they
//! are tested without spawning a process. `main.rs` only parses and runs.
#![forbid(unsafe_code)]

pub mod admin;
pub mod admin_token;
pub mod commands;
pub mod console;
pub mod dev;
pub mod dev_bodies;
pub mod error;
pub mod logging;
pub mod send;
pub mod server;
pub mod sink;

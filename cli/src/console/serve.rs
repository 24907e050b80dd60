//! `hookrelay console --aws`: the console for a deployed stack, served on
//! the operator's machine with their AWS credentials (tables and queue as
//! for the admin commands). `hookrelay dev` serves the same console on its
//! admin address.
use clap::Args;
use std::net::SocketAddr;
use std::sync::Arc;

use super::Console;
use crate::admin::TargetArgs;
use crate::error::CliError;
use crate::server;

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// Where the console listens (loopback only).
    #[arg(long, default_value = "127.0.0.1:3002")]
    pub listen: SocketAddr,
    /// The API's URL, to show the URL each provider posts to.
    #[arg(long, env = "HOOKRELAY_RECEIVER_URL")]
    pub receiver_url: Option<String>,
    /// Print a fresh one-time login URL for the console running at
    /// `--listen` (for `hookrelay dev`, its admin address) and exit: a lost
    /// session needs no restart. Sends the admin token, read as the admin
    /// commands read it.
    #[arg(long)]
    pub login_url: bool,
    #[command(flatten)]
    pub target: TargetArgs,
}

pub async fn console(args: ConsoleArgs) -> Result<String, CliError> {
    if args.login_url {
        return fresh_login_url(args.listen).await;
    }
    if !args.target.aws {
        return Err(CliError::Usage(
            "`hookrelay dev` serves the console on its admin address (it prints the login URL when it starts); for a deployed stack, add --aws".into(),
        ));
    }
    if !args.listen.ip().is_loopback() {
        return Err(CliError::Usage(format!(
            "--listen {}: the console can change the configuration, so it listens on loopback only",
            args.listen
        )));
    }
    let admin = Arc::new(crate::admin::aws_admin(&args.target).await?);
    let (listener, address) = server::bind(args.listen).await?;
    // The admin token of this console's port: whoever can read it (this
    // user) can ask for a fresh login URL.
    let (token, _) = crate::admin_token::issue(address.port())?;
    let console = Arc::new(Console::new(admin, args.receiver_url).with_login_key(token));
    // On stdout, as `hookrelay dev` prints its addresses.
    println!("hookrelay console: {}", console.login_url(&address));
    let shutdown = server::shutdown_on_signal();
    server::serve(
        listener,
        1024 * 1024,
        move |request| {
            let console = console.clone();
            async move { console.handle(request).await }
        },
        shutdown,
    )
    .await;
    Ok(String::new())
}

/// Asks the console at `address` for a fresh login URL.
async fn fresh_login_url(address: SocketAddr) -> Result<String, CliError> {
    let base = format!("http://{address}");
    let token = crate::admin_token::for_url(&base).ok_or_else(|| {
        CliError::Usage(format!(
            "no admin token for {base}: is a console (or `hookrelay dev`, with --listen set to its admin address) running there as this user?"
        ))
    })?;
    let unreachable =
        |e: reqwest::Error| CliError::Usage(format!("cannot reach the console at {base}: {e}"));
    let response = reqwest::Client::new()
        .post(format!("{base}/login-url"))
        .bearer_auth(token)
        .send()
        .await
        .map_err(unreachable)?;
    if !response.status().is_success() {
        return Err(CliError::Usage(format!(
            "the console at {base} refused ({}): the admin token there is not this one",
            response.status()
        )));
    }
    let url = response.text().await.map_err(unreachable)?;
    Ok(format!("{url}\n"))
}

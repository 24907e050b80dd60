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
    #[command(flatten)]
    pub target: TargetArgs,
}

pub async fn console(args: ConsoleArgs) -> Result<String, CliError> {
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
    let console = Arc::new(Console::new(admin, args.receiver_url));
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

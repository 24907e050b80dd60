//! `hookrelay`: the command users run — the local stack (`dev`, `send`,
//! `sink`), configuration checks and provider-style signing.
use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod commands;
mod dev;
mod logging;
mod send;
mod server;
mod sink;

#[derive(Debug, Parser)]
#[command(name = "hookrelay", version, about = "A serverless webhook relay")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Work with the configuration file.
    #[command(subcommand)]
    Config(commands::ConfigCommand),
    /// Print the signature headers a provider would send with a payload.
    Sign(commands::SignArgs),
    /// Run the receiver and the dispatcher locally (in memory by default).
    Dev(dev::DevArgs),
    /// POST a payload to the receiver, signed as the source's provider would.
    Send(send::SendArgs),
    /// A destination that prints what it receives, for trying things out.
    Sink(sink::SinkArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Config(command) => runtime().block_on(commands::config(command)),
        Command::Sign(args) => commands::sign(args),
        Command::Dev(args) => runtime().block_on(dev::dev(args)),
        Command::Send(args) => runtime().block_on(send::send(args)),
        Command::Sink(args) => runtime().block_on(sink::sink(args)),
    };
    match result {
        Ok(output) => {
            print!("{output}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {err}");
            err.exit_code()
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("start the async runtime")
}

//! `hookrelay`: the command users run. For now it checks configuration
//! files and signs sample payloads as a provider would; the local stack
//! (`dev`, `send`, `sink`) and the admin commands build on these.
use clap::{Parser, Subcommand};
use std::process::ExitCode;

mod commands;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Config(command) => commands::config(command),
        Command::Sign(args) => commands::sign(args),
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

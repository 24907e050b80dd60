//! `hookrelay`: the command users run — the local stack (`dev`, `send`,
//! `sink`), configuration checks and provider-style signing.
use clap::{Parser, Subcommand};
use std::process::ExitCode;

use hookrelay_cli::{admin, commands, console, dev, send, sink};

#[derive(Debug, Parser)]
#[command(name = "hookrelay", version, about = "A serverless webhook relay")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the large variants (a destination's options) are
// not worth boxing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Work with the configuration file.
    #[command(subcommand)]
    Config(commands::ConfigCommand),
    /// Print the signature headers a provider would send with a payload.
    Sign(commands::SignArgs),
    /// List the verification schemes a source can use.
    Schemes(commands::SchemesArgs),
    /// Run the receiver and the dispatcher locally (in memory by default).
    Dev(dev::DevArgs),
    /// POST a payload to the receiver, signed as the source's provider would.
    Send(send::SendArgs),
    /// A destination that prints what it receives, for trying things out.
    Sink(sink::SinkArgs),
    /// The web console for a deployed stack (--aws); `hookrelay dev`
    /// serves it on its admin address.
    Console(console::ConsoleArgs),
    /// Where providers post: list, add, update, remove.
    Sources {
        #[command(subcommand)]
        command: admin::SourcesCommand,
        #[command(flatten)]
        target: admin::TargetArgs,
    },
    /// Where events are delivered: list, add, update, remove, enable, disable.
    Destinations {
        #[command(subcommand)]
        command: admin::DestinationsCommand,
        #[command(flatten)]
        target: admin::TargetArgs,
    },
    /// Which sources' events go to which destinations.
    Routes {
        #[command(subcommand)]
        command: admin::RoutesCommand,
        #[command(flatten)]
        target: admin::TargetArgs,
    },
    /// What arrived: list and show events.
    Events {
        #[command(subcommand)]
        command: admin::EventsCommand,
        #[command(flatten)]
        target: admin::TargetArgs,
    },
    /// What was sent: a destination's delivery attempts.
    Attempts {
        #[command(subcommand)]
        command: admin::AttemptsCommand,
        #[command(flatten)]
        target: admin::TargetArgs,
    },
    /// Send an event again, or every failed delivery to a destination.
    Replay {
        #[command(flatten)]
        args: admin::ReplayArgs,
        #[command(flatten)]
        target: admin::TargetArgs,
    },
    /// Rotate destination and source secrets.
    Secrets {
        #[command(subcommand)]
        command: admin::SecretsCommand,
        #[command(flatten)]
        target: admin::TargetArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Config(command) => runtime().block_on(commands::config(command)),
        Command::Sign(args) => commands::sign(args),
        Command::Schemes(args) => Ok(commands::schemes(&args)),
        Command::Dev(args) => runtime().block_on(dev::dev(args)),
        Command::Send(args) => runtime().block_on(send::send(args)),
        Command::Sink(args) => runtime().block_on(sink::sink(args)),
        Command::Console(args) => runtime().block_on(console::console(args)),
        Command::Sources { command, target } => runtime().block_on(admin::sources(command, target)),
        Command::Destinations { command, target } => {
            runtime().block_on(admin::destinations(command, target))
        }
        Command::Routes { command, target } => runtime().block_on(admin::routes(command, target)),
        Command::Events { command, target } => runtime().block_on(admin::events(command, target)),
        Command::Attempts { command, target } => {
            runtime().block_on(admin::attempts(command, target))
        }
        Command::Replay { args, target } => runtime().block_on(admin::replay(args, target)),
        Command::Secrets { command, target } => runtime().block_on(admin::secrets(command, target)),
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

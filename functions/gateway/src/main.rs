//! `pitchside`: the local gateway (`serve`) that hosts every handler in one process, and
//! the tools around it (`simulate`).

mod demo;
mod logging;
mod routes;
mod serve;
mod simulate;
mod state;
mod worker;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "pitchside",
    version,
    about = "The real-time layer of a cricket club platform"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the local gateway: every function's handler in one process.
    Serve {
        /// Supply development settings for whatever is unset, seed a demo organization
        /// and print a token and ready-to-run examples.
        #[arg(long)]
        demo: bool,
    },
    /// Send correctly signed sample webhooks to a running gateway.
    Simulate(simulate::Args),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result: Result<()> = match cli.command {
        Command::Serve { demo } => {
            logging::init();
            serve::run(demo).await
        }
        Command::Simulate(args) => simulate::run(args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pitchside: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

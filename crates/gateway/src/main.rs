//! `pitchside`: the local gateway (`serve`) that hosts every handler in one process, and
//! the tools around it (`simulate`).

// The command line's tools (demo tokens, simulated webhooks) sign with the wall clock.
#![allow(clippy::disallowed_methods)]

mod aws_push;
mod demo;
mod event_stream;
mod listen;
mod metrics;
mod serve;
mod simulate;
mod worker;

use pitchside_http::logging;

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
    Simulate(Box<simulate::Args>),
    /// Create the DynamoDB table and SQS queues of the AWS backend (for an emulator such
    /// as LocalStack or moto; on AWS the SAM template creates them). Idempotent; prints
    /// the settings to use.
    AwsBootstrap {
        /// The table's name.
        #[arg(long, default_value = "pitchside")]
        table: String,
        /// The queue's name (the dead-letter queue is `<name>-dlq`).
        #[arg(long, default_value = "pitchside-inbound")]
        queue: String,
        /// Also stores each secret in Secrets Manager under this prefix (its value from
        /// the environment, else the demo's) and prints the `_ARN` settings naming them.
        #[arg(long, value_name = "PREFIX")]
        secrets: Option<String>,
    },
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result: Result<()> = match cli.command {
        Command::Serve { demo } => {
            logging::init();
            serve::run(demo).await
        }
        Command::Simulate(args) => simulate::run(*args).await,
        Command::AwsBootstrap {
            table,
            queue,
            secrets,
        } => serve::aws_bootstrap(&table, &queue, secrets.as_deref()).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pitchside: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

//! `keycard`: the command line (and, from issue 4 on, the HTTP sidecar).
//!
//! This file only parses arguments and dispatches; the commands live in [`cli`].

#![forbid(unsafe_code)]

mod cli;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// AWS IAM policy evaluation, locally: answers "may this principal do this?" as AWS would.
#[derive(Parser)]
#[command(name = "keycard", version, about)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decide one request (from FILE or stdin), or a stream of JSON Lines with --jsonl.
    /// Exit 0 when allowed, 1 when denied, 2 on error.
    Authorize {
        /// The store: a directory of *.json files or one file. Default: the embedded example store.
        #[arg(long)]
        policies: Option<PathBuf>,
        /// Include the matched statements, missing context keys and notes in the answer.
        #[arg(long)]
        explain: bool,
        /// Read one request per line on stdin and print one answer per line.
        #[arg(long, conflicts_with = "file")]
        jsonl: bool,
        /// The request file (default: stdin).
        file: Option<PathBuf>,
    },
    /// Load and check a store; print every error and warning with file and JSON pointer.
    /// Exit 1 on any error.
    Validate {
        /// The store: a directory of *.json files or one file. Default: the embedded example store.
        #[arg(long)]
        policies: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Command::Authorize { policies, explain, jsonl, file } => {
            if jsonl {
                cli::authorize_jsonl(policies.as_deref(), explain)
            } else {
                cli::authorize_one(policies.as_deref(), explain, file.as_deref())
            }
        }
        Command::Validate { policies } => cli::validate(policies.as_deref()),
    }
}

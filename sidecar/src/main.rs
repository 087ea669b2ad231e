//! `keycard`: the HTTP sidecar (`serve`) and the command line (`authorize`, `validate`, the
//! analyses of [`analysis_cmd`] ...).
//!
//! This file only parses arguments and dispatches: the sidecar lives in [`serve`], the one-shot
//! commands in [`cli`], and both load the store through [`source`].

#![forbid(unsafe_code)]

mod analysis_cmd;
mod bundle_cmd;
mod cli;
mod lint_cmd;
mod serve;
mod source;

/// mimalloc: the sidecar allocates a request's strings and frees them microseconds later, on
/// several threads; glibc's malloc spent a quarter of a batch's time there (perf, BENCHMARKS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

// Parsed once at start: the size of the `Serve` variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Serve decisions over HTTP (docs/http-api.md), hot-reloading the store when its files change.
    Serve {
        /// The store: a directory of *.json files, one file, or a bundle (keycard bundle build).
        /// Default: the embedded example store.
        #[arg(long)]
        policies: Option<PathBuf>,
        /// Address to listen on: HOST:PORT (port 0 picks a free one), or unix:/path/to.sock.
        #[arg(long, default_value = "127.0.0.1:8181")]
        listen: String,
        /// Append one JSON line per decision to FILE, written off the request path.
        #[arg(long, value_name = "FILE")]
        decision_log: Option<PathBuf>,
        /// Decision log records buffered in memory; when full, records are dropped and counted.
        #[arg(long, default_value_t = 65_536, value_name = "RECORDS")]
        decision_log_buffer: usize,
        /// Seconds a client may take to send a request's headers, and then its body.
        #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
        client_timeout: f64,
        /// Log format on stderr: text or json.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        log_format: String,
        /// Keys that seal STS session tokens, one secret (32+ characters) per line: the first
        /// seals, all open. Without it, a random key lives as long as the process.
        #[arg(long, value_name = "FILE")]
        sts_key_file: Option<PathBuf>,
        /// A proxy whose X-Forwarded-For, X-Forwarded-Proto and principal header the gateway
        /// believes (CIDR or address; repeatable). Default: loopback (127.0.0.0/8, ::1/128).
        #[arg(long, value_name = "CIDR")]
        trusted_proxy: Vec<String>,
        /// Gateway: take the caller's principal ARN from header NAME, set by an authenticating
        /// proxy in front; honoured only from a trusted proxy.
        #[arg(long, value_name = "NAME")]
        trust_principal_header: Option<String>,
        #[command(flatten)]
        bundle: bundle_cmd::TrustArgs,
        #[command(flatten)]
        poll: serve::bundle::PollArgs,
        /// Also serve Envoy's gRPC ext_authz (envoy.service.auth.v3.Authorization/Check) and
        /// gRPC health on ADDR: HOST:PORT (port 0 picks a free one) or unix:/path/to.sock.
        #[arg(long, value_name = "ADDR")]
        grpc_listen: Option<String>,
    },
    /// Decide one request (from FILE or stdin), or a stream of JSON Lines with --jsonl.
    /// Exit 0 when allowed, 1 when denied, 2 on error.
    Authorize {
        /// The store: a directory of *.json files, one file, or a bundle (keycard bundle build).
        /// Default: the embedded example store.
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
        #[command(flatten)]
        bundle: bundle_cmd::TrustArgs,
    },
    /// Load and check a store; print every error and warning with file and JSON pointer.
    /// Exit 1 on any error.
    Validate {
        /// The store: a directory of *.json files, one file, or a bundle (keycard bundle build).
        /// Default: the embedded example store.
        #[arg(long)]
        policies: Option<PathBuf>,
        #[command(flatten)]
        bundle: bundle_cmd::TrustArgs,
    },
    /// Build, verify and sign bundles: one signed tar.gz of a store, for `--policies` or
    /// `serve --bundle-url`.
    Bundle {
        #[command(subcommand)]
        command: bundle_cmd::BundleCommand,
    },
    /// Check policies for errors, security risks and mistakes (IAM Access Analyzer's, Parliament's
    /// and Cloudsplaining's checks, offline). Exit 0 when no finding is at or above --fail-on,
    /// 1 otherwise, 2 on error.
    Lint {
        /// A store directory (or file). Default, with no FILE either: the embedded example store.
        #[arg(long)]
        policies: Option<PathBuf>,
        /// Output: text, json or sarif (SARIF 2.1.0, for code scanning).
        #[arg(long, default_value = "text", value_parser = ["text", "json", "sarif"])]
        format: String,
        /// The least severe finding that fails the run: error, security, warning or suggestion.
        #[arg(long, default_value = "security", value_parser = ["error", "security", "warning", "suggestion"])]
        fail_on: String,
        /// Store documents, bare policy documents or bundles to lint.
        files: Vec<PathBuf>,
        #[command(flatten)]
        bundle: bundle_cmd::TrustArgs,
    },
    /// The IAM best-practice checklist over the store and an IAM credential report (root keys
    /// and MFA, console MFA, key rotation and use, inline user policies, administrators, unused
    /// roles, public trust). Exit 0 when no finding is at or above --fail-on, 1 otherwise, 2 on
    /// error (a malformed report is an error, never a partial audit).
    Audit {
        /// The store: a directory of *.json files or one file. Default: the embedded example store.
        #[arg(long)]
        policies: Option<PathBuf>,
        /// The CSV `aws iam get-credential-report` returns, base64-decoded.
        #[arg(long, value_name = "FILE")]
        credential_report: Option<PathBuf>,
        /// Judge ages as of this date (ISO 8601) instead of now.
        #[arg(long, value_name = "DATE")]
        as_of: Option<String>,
        /// Output: text, json or sarif.
        #[arg(long, default_value = "text", value_parser = ["text", "json", "sarif"])]
        format: String,
        /// The least severe finding that fails the run: error, security, warning or suggestion.
        #[arg(long, default_value = "security", value_parser = ["error", "security", "warning", "suggestion"])]
        fail_on: String,
        #[command(flatten)]
        bundle: bundle_cmd::TrustArgs,
    },
    #[command(flatten)]
    Analysis(analysis_cmd::AnalysisCommand),
    /// Show what the embedded AWS service catalogue knows of actions: access level, resource
    /// types with ARN formats, condition keys. PATTERN is `svc:Action` and may hold `*` and `?`.
    Catalog {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Actions or wildcards (`s3:GetObject`, `'s3:Get*'`).
        #[arg(required = true)]
        patterns: Vec<String>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    match args.command {
        Command::Serve {
            policies,
            listen,
            decision_log,
            decision_log_buffer,
            client_timeout,
            log_format,
            sts_key_file,
            trusted_proxy,
            trust_principal_header,
            bundle,
            poll,
            grpc_listen,
        } => serve::run(serve::Options {
            policies,
            listen,
            decision_log,
            decision_log_buffer,
            log_json: log_format == "json",
            client_timeout: std::time::Duration::try_from_secs_f64(client_timeout)
                .unwrap_or(std::time::Duration::from_secs(10)),
            sts_key_file,
            trusted_proxies: trusted_proxy,
            trust_principal_header,
            bundle,
            poll,
            grpc_listen,
        }),
        Command::Authorize { policies, explain, jsonl, file, bundle } => {
            if jsonl {
                cli::authorize_jsonl(policies.as_deref(), &bundle, explain)
            } else {
                cli::authorize_one(policies.as_deref(), &bundle, explain, file.as_deref())
            }
        }
        Command::Validate { policies, bundle } => cli::validate(policies.as_deref(), &bundle),
        Command::Bundle { command } => bundle_cmd::run(command),
        Command::Lint { policies, format, fail_on, files, bundle } => {
            lint_cmd::lint(policies.as_deref(), &files, &bundle, &format, &fail_on)
        }
        Command::Audit { policies, credential_report, as_of, format, fail_on, bundle } => lint_cmd::audit(
            policies.as_deref(),
            &bundle,
            credential_report.as_deref(),
            as_of.as_deref(),
            &format,
            &fail_on,
        ),
        Command::Catalog { json, patterns } => lint_cmd::catalog_cmd(&patterns, json),
        Command::Analysis(command) => analysis_cmd::run(command),
    }
}

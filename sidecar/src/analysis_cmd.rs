//! The analysis commands (`docs/analysis.md`): `access`, `who-can`, `escalation`,
//! `generate-policy` and `unused`. Each loads the store, asks [`keycard::analysis`], and prints
//! text for people or JSON for scripts.

use crate::bundle_cmd::TrustArgs;
use crate::cli::load_or_report;
use keycard::analysis::access::{access, Access};
use keycard::analysis::escalation::{escalation, Escalation};
use keycard::analysis::generate::{generate_policy, read_log, unused, LogFilter, LogSummary, Unused};
use keycard::analysis::who_can::{who_can, Via, WhoCan};
use keycard::analysis::ConditionView;
use keycard::Matched;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Where the store comes from.
#[derive(clap::Args)]
pub(crate) struct StoreArgs {
    /// The store: a directory of *.json files, one file, or a bundle (keycard bundle build).
    /// Default: the embedded example store.
    #[arg(long)]
    policies: Option<PathBuf>,
    #[command(flatten)]
    bundle: TrustArgs,
}

/// The analysis subcommands.
#[derive(clap::Subcommand)]
pub(crate) enum AnalysisCommand {
    /// What a principal may do: per action the resources, the conditions that gate them, and
    /// what Deny statements, the boundary, SCPs and RCPs take away. Exit 2 for an unknown principal.
    Access {
        /// A user, role or role-session ARN.
        principal: String,
        /// Only this service's actions (`s3`).
        #[arg(long)]
        service: Option<String>,
        /// Output: text or json.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Every principal allowed ACTION on RESOURCE (users, roles, and those that reach it by
    /// assuming a role), each with the statements that grant it.
    WhoCan {
        /// The action (`s3:DeleteBucket`).
        action: String,
        /// The resource ARN.
        resource: String,
        /// The request context, a JSON object (`{"aws:SourceIp": "10.0.0.1"}`).
        #[arg(long, value_name = "JSON")]
        context: Option<String>,
        /// Output: text or json.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Privilege-escalation paths: every shortest path from a non-admin principal to an admin
    /// one. Exit 0 when there is none, 1 when there is, 2 on error.
    Escalation {
        /// The request context every decision of the graph is made in, a JSON object
        /// (`{"aws:MultiFactorAuthPresent": "true"}`). Default: none, so grants under conditions
        /// do not count.
        #[arg(long, value_name = "JSON")]
        context: Option<String>,
        /// Output: text, json, or dot (Graphviz).
        #[arg(long, default_value = "text", value_parser = ["text", "json", "dot"])]
        format: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// A least-privilege policy from what a principal was allowed in the decision log. Malformed
    /// lines are reported on stderr with their number and skipped. Exit 1 when the principal
    /// has no allowed request in the log, 2 on error.
    GeneratePolicy {
        /// The decision log (serve --decision-log).
        #[arg(long, value_name = "FILE")]
        decision_log: PathBuf,
        /// The principal (user, role or role-session ARN; a role includes its sessions).
        /// Without it: one policy per principal of the log, as {"ARN": policy}.
        #[arg(long, value_name = "ARN")]
        principal: Option<String>,
        /// Only events at or after this time (RFC 3339 UTC, or YYYY-MM-DD).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Resources sharing a parent (up to the last / or :) with at least N siblings become
        /// PARENT* (0: never generalise).
        #[arg(long, default_value_t = 5, value_name = "N")]
        generalize_threshold: usize,
    },
    /// Per principal of the store, the granted actions that the decision log never shows it using.
    Unused {
        /// The decision log (serve --decision-log).
        #[arg(long, value_name = "FILE")]
        decision_log: PathBuf,
        /// Only events at or after this time (RFC 3339 UTC, or YYYY-MM-DD).
        #[arg(long, value_name = "TIME")]
        since: Option<String>,
        /// Output: text or json.
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Runs one analysis command.
pub(crate) fn run(command: AnalysisCommand) -> ExitCode {
    match command {
        AnalysisCommand::Access { principal, service, format, store } => {
            let Some(snapshot) = load_or_report(store.policies.as_deref(), &store.bundle) else {
                return ExitCode::from(2);
            };
            match access(&snapshot, &principal, service.as_deref()) {
                Ok(a) => print(&a, &format, access_text),
                Err(e) => fail(&e.to_string()),
            }
        }
        AnalysisCommand::WhoCan { action, resource, context, format, store } => {
            let Some(snapshot) = load_or_report(store.policies.as_deref(), &store.bundle) else {
                return ExitCode::from(2);
            };
            match who_can(&snapshot, &action, &resource, context.as_deref()) {
                Ok(w) => print(&w, &format, who_can_text),
                Err(e) => fail(&e.to_string()),
            }
        }
        AnalysisCommand::Escalation { context, format, store } => {
            let Some(snapshot) = load_or_report(store.policies.as_deref(), &store.bundle) else {
                return ExitCode::from(2);
            };
            let e = match escalation(&snapshot, context.as_deref()) {
                Ok(e) => e,
                Err(e) => return fail(&e.to_string()),
            };
            if format == "dot" {
                print!("{}", e.to_dot());
            } else {
                print(&e, &format, escalation_text);
            }
            if e.paths.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        AnalysisCommand::GeneratePolicy { decision_log, principal, since, generalize_threshold } => {
            let filter = LogFilter { principal: principal.clone(), since };
            let Some(summary) = summarise(&decision_log, &filter) else { return ExitCode::from(2) };
            let policy = match &principal {
                Some(p) => generate_policy(&summary, p, generalize_threshold),
                None => {
                    let all: serde_json::Map<String, serde_json::Value> = summary
                        .principals()
                        .filter_map(|p| Some((p.to_owned(), generate_policy(&summary, p, generalize_threshold)?)))
                        .collect();
                    (!all.is_empty()).then_some(serde_json::Value::Object(all))
                }
            };
            match policy {
                Some(p) => {
                    println!("{}", serde_json::to_string_pretty(&p).unwrap_or_default());
                    ExitCode::SUCCESS
                }
                None => {
                    eprintln!("keycard: no allowed request in {} for that principal", decision_log.display());
                    ExitCode::from(1)
                }
            }
        }
        AnalysisCommand::Unused { decision_log, since, format, store } => {
            let Some(snapshot) = load_or_report(store.policies.as_deref(), &store.bundle) else {
                return ExitCode::from(2);
            };
            let Some(summary) = summarise(&decision_log, &LogFilter { principal: None, since }) else {
                return ExitCode::from(2);
            };
            let report = unused(&snapshot, &summary);
            if format == "json" {
                let v = serde_json::json!({ "principals": report, "malformedLines": summary.malformed });
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                print!("{}", unused_text(&report));
            }
            ExitCode::SUCCESS
        }
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("keycard: {message}");
    ExitCode::from(2)
}

/// Reads the log, reporting every malformed line (up to the kept ones) on stderr.
fn summarise(path: &Path, filter: &LogFilter) -> Option<LogSummary> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("keycard: cannot read {}: {e}", path.display());
            return None;
        }
    };
    match read_log(BufReader::with_capacity(256 * 1024, file), filter) {
        Ok(summary) => {
            for p in &summary.problems {
                eprintln!("keycard: {}: {p} (skipped)", path.display());
            }
            let hidden = summary.malformed.saturating_sub(summary.problems.len() as u64);
            if hidden > 0 {
                eprintln!("keycard: {}: {hidden} more malformed lines skipped", path.display());
            }
            Some(summary)
        }
        Err(e) => {
            eprintln!("keycard: cannot read {}: {e}", path.display());
            None
        }
    }
}

fn print<T: serde::Serialize>(value: &T, format: &str, text: fn(&T) -> String) -> ExitCode {
    if format == "json" {
        println!("{}", serde_json::to_string_pretty(value).unwrap_or_default());
    } else {
        print!("{}", text(value));
    }
    ExitCode::SUCCESS
}

fn conditions_text(conditions: &[ConditionView]) -> String {
    conditions
        .iter()
        .map(|c| format!("{} {} {}", c.operator, c.key, c.values.join("|")))
        .collect::<Vec<_>>()
        .join(" and ")
}

fn matched_text(matched: &[Matched]) -> String {
    matched
        .iter()
        .map(|m| match m.sid() {
            Some(sid) => format!("{} {}#{sid}", kind_name(m), m.policy()),
            None => format!("{} {}", kind_name(m), m.policy()),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn kind_name(m: &Matched) -> String {
    serde_json::to_value(m.kind()).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn access_text(a: &Access) -> String {
    let mut out = format!("{}: {} permission rows\n", a.principal, a.permissions.len());
    for p in &a.permissions {
        out.push_str(&format!("  {:<45} {}", p.action, p.resources.join(", ")));
        if !p.not_resources.is_empty() {
            out.push_str(&format!("  except {}", p.not_resources.join(", ")));
        }
        if !p.conditions.is_empty() {
            out.push_str(&format!("  when {}", conditions_text(&p.conditions)));
        }
        out.push('\n');
    }
    if !a.denied.is_empty() {
        out.push_str("taken away:\n");
        for t in &a.denied {
            let what = if t.conditions.is_empty() {
                "subtracted".to_owned()
            } else {
                format!("when {}", conditions_text(&t.conditions))
            };
            let sid = t.sid.as_deref().map(|s| format!("#{s}")).unwrap_or_default();
            let kind =
                serde_json::to_value(t.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
            let actions = match t.actions.len() {
                n if n > 8 => format!("{} and {} more actions", t.actions[..8].join(", "), n - 8),
                _ => t.actions.join(", "),
            };
            out.push_str(&format!("  {kind} {}{sid}: {actions} on {} ({what})\n", t.policy, t.resources.join(", ")));
        }
    }
    out
}

fn who_can_text(w: &WhoCan) -> String {
    let mut out = format!("{} on {}: {} principals\n", w.action, w.resource, w.principals.len());
    for g in &w.principals {
        let via = match g.via {
            Via::Identity => "identity".to_owned(),
            Via::Resource => "resource".to_owned(),
            Via::Trust => "trust".to_owned(),
            Via::Session => format!("session through {}", g.through.join(" -> ")),
        };
        out.push_str(&format!("  {}  via {via}  ({})\n", g.principal, matched_text(&g.matched)));
    }
    out
}

fn escalation_text(e: &Escalation) -> String {
    let mut out = format!("admins ({}):\n", e.admins.len());
    for a in &e.admins {
        out.push_str(&format!("  {a}\n"));
    }
    out.push_str(&format!("paths to admin ({}):\n", e.paths.len()));
    for p in &e.paths {
        out.push_str(&format!("  {} => {}\n", p.from, p.to));
        for edge in &p.edges {
            out.push_str(&format!(
                "    {} -[{}: {}]-> {}  ({})\n",
                edge.from,
                edge.kind,
                edge.actions.join(" + "),
                edge.to,
                matched_text(&edge.matched)
            ));
        }
    }
    out
}

fn unused_text(report: &[Unused]) -> String {
    let mut out = String::new();
    for u in report {
        out.push_str(&format!("{}: {} of {} granted actions unused\n", u.principal, u.unused.len(), u.granted));
        let mut by_service: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
        for a in &u.unused {
            let (svc, name) = a.split_once(':').unwrap_or(("", a));
            by_service.entry(svc).or_default().push(name);
        }
        for (svc, names) in by_service {
            out.push_str(&format!("  {svc}: {}\n", names.join(", ")));
        }
    }
    out
}

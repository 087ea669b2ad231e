//! The `authorize` and `validate` commands.
//!
//! `authorize --jsonl` streams: it reads, decides and writes one line at a time through buffered
//! I/O, so a run of any length holds one request in memory and answers in order.

use crate::bundle_cmd::TrustArgs;
use crate::source::source_of;
use keycard::{Decision, Request, Severity, Snapshot, Verifier};
use std::io::{BufRead, BufWriter, Read, Write};
use std::path::Path;
use std::process::ExitCode;

fn load_or_report(path: Option<&Path>, trust: &TrustArgs) -> Option<Snapshot> {
    let source = match source_of(path, trust) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("keycard: {e}");
            return None;
        }
    };
    match source.load() {
        Ok(store) => Some(Snapshot::new(store)),
        Err(e) => {
            eprintln!("keycard: cannot load the store");
            for p in e.problems() {
                eprintln!("{p}");
            }
            None
        }
    }
}

fn error_line(message: &str) -> String {
    serde_json::json!({ "error": message }).to_string()
}

/// Answers one request's JSON text, authenticating a `signedRequest` against the store's
/// long-term keys (`docs/http-api.md#signed-requests`): the answer line and the decision, or the
/// error line (`{"error", "field"}` or `{"error", "code"}`) and the message for stderr.
fn answer(snapshot: &Snapshot, text: &str, explain: bool) -> Result<(String, Decision), (String, String)> {
    let mut request = Request::from_json(text).map_err(|e| (e.to_json().to_string(), e.to_string()))?;
    if explain {
        request.set_explain(true);
    }
    let answer = snapshot
        .authorize_signed(&request, Verifier::StoreKeys, std::time::SystemTime::now())
        .map_err(|e| (e.to_json().to_string(), e.to_string()))?;
    let line = serde_json::to_string(&answer).unwrap_or_else(|_| error_line("cannot serialize the answer"));
    Ok((line, answer.decision()))
}

/// `keycard authorize [--explain] [FILE]`: exit 0 allowed, 1 denied, 2 error.
pub(crate) fn authorize_one(
    policies: Option<&Path>,
    trust: &TrustArgs,
    explain: bool,
    file: Option<&Path>,
) -> ExitCode {
    let Some(snapshot) = load_or_report(policies, trust) else { return ExitCode::from(2) };
    let text = match file {
        Some(f) => std::fs::read_to_string(f).map_err(|e| format!("cannot read {}: {e}", f.display())),
        None => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map(|_| s).map_err(|e| format!("cannot read stdin: {e}"))
        }
    };
    match text.map_err(|e| (error_line(&e), e)).and_then(|t| answer(&snapshot, &t, explain)) {
        Ok((line, decision)) => {
            println!("{line}");
            if decision.is_allowed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err((line, message)) => {
            println!("{line}");
            eprintln!("keycard: {message}");
            ExitCode::from(2)
        }
    }
}

/// `keycard authorize --jsonl`: one answer line per request line; bad lines answer `{"error"}`.
pub(crate) fn authorize_jsonl(policies: Option<&Path>, trust: &TrustArgs, explain: bool) -> ExitCode {
    let Some(snapshot) = load_or_report(policies, trust) else { return ExitCode::from(2) };
    let stdin = std::io::stdin().lock();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for line in stdin.lines() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                eprintln!("keycard: cannot read stdin: {e}");
                break;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let reply = answer(&snapshot, &line, explain).map_or_else(|(line, _)| line, |(line, _)| line);
        if writeln!(out, "{reply}").is_err() {
            return ExitCode::SUCCESS; // the reader went away (e.g. `| head`)
        }
    }
    let _ = out.flush();
    ExitCode::SUCCESS
}

/// `keycard validate`: every problem, then a summary; exit 1 on any error.
pub(crate) fn validate(policies: Option<&Path>, trust: &TrustArgs) -> ExitCode {
    let loaded = source_of(policies, trust).map_err(|e| {
        println!("error: {e}");
        println!("1 error");
    });
    let Ok(source) = loaded else { return ExitCode::from(1) };
    match source.load() {
        Ok(store) => {
            for w in store.warnings() {
                println!("{w}");
            }
            for w in crate::lint_cmd::catalogue_warnings(policies, trust) {
                println!("{w}");
            }
            let s = store.stats();
            println!(
                "ok: {} files, {} principals, {} policies, {} statements (snapshot {})",
                s.files,
                s.principals,
                s.policies,
                s.statements,
                store.id()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            for p in e.problems() {
                println!("{p}");
            }
            let n = e.problems().iter().filter(|p| p.severity() == Severity::Error).count();
            println!("{n} error{}", if n == 1 { "" } else { "s" });
            ExitCode::from(1)
        }
    }
}

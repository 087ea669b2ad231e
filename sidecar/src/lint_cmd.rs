//! The `catalog`, `lint` and `audit` commands: what the embedded AWS service catalogue knows,
//! policy findings, and the account best-practice checklist.

use crate::bundle_cmd::TrustArgs;
use crate::source::source;
use keycard::catalog::{catalog, Action, Service};
use keycard::lint::{render, LintSeverity};
use keycard::live::Source;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// `keycard catalog PATTERN...`: one action in detail, or one line per action a wildcard names.
/// Exit 0 when every pattern names something, 1 otherwise.
pub(crate) fn catalog_cmd(patterns: &[String], json: bool) -> ExitCode {
    let cat = catalog();
    let mut all_found = true;
    let mut out = Vec::new();
    for pattern in patterns {
        let found = cat.matching(pattern);
        if found.is_empty() {
            all_found = false;
            let hint = pattern
                .split_once(':')
                .and_then(|(svc, name)| match cat.service(svc) {
                    Some(s) => cat.suggest_action(s, name),
                    None => cat.suggest_service(svc).map(|s| format!("{s}:{name}")),
                })
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
            if !json {
                println!("{pattern}: no such action in the catalogue{hint}");
            }
            continue;
        }
        if json {
            out.extend(found.iter().map(|(s, a)| action_json(s, a)));
        } else if found.len() == 1 && !pattern.contains(['*', '?']) {
            for (s, a) in &found {
                print_detail(s, a);
            }
        } else {
            for (s, a) in &found {
                let types: Vec<&str> = s.resource_types(a).map(|(r, _)| r.name).collect();
                let types = if types.is_empty() { "*".to_owned() } else { types.join(", ") };
                println!("{}:{:<40} {:<24} {types}", s.prefix, a.name, a.level.as_str());
            }
            println!("{}: {} action{}", pattern, found.len(), if found.len() == 1 { "" } else { "s" });
        }
    }
    if json {
        println!("{}", serde_json::json!({ "source": cat.source, "actions": out }));
    }
    if all_found {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn print_detail(s: &Service, a: &Action) {
    let cat = catalog();
    println!("{}:{} ({})", s.prefix, a.name, s.name);
    println!("  access level: {}", a.level.as_str());
    let mut any = false;
    for (r, required) in s.resource_types(a) {
        any = true;
        println!("  resource: {}{} {}", r.name, if required { " (required)" } else { "" }, r.arn);
    }
    if !any {
        println!("  resource: * (no resource-level permissions)");
    }
    let mut keys: Vec<&str> = cat.action_keys(s, a).map(|k| k.name).collect();
    keys.sort_unstable();
    keys.dedup();
    if !keys.is_empty() {
        println!("  condition keys: {}", keys.join(", "));
    }
    println!("  (global aws: condition keys apply to every action; source: {})", cat.source);
}

fn action_json(s: &Service, a: &Action) -> serde_json::Value {
    let cat = catalog();
    let mut keys: Vec<&str> = cat.action_keys(s, a).map(|k| k.name).collect();
    keys.sort_unstable();
    keys.dedup();
    let resources: Vec<serde_json::Value> = s
        .resource_types(a)
        .map(|(r, req)| serde_json::json!({"type": r.name, "arn": r.arn, "required": req}))
        .collect();
    serde_json::json!({
        "action": format!("{}:{}", s.prefix, a.name),
        "service": s.name,
        "accessLevel": a.level.as_str(),
        "resourceTypes": resources,
        "conditionKeys": keys,
    })
}

/// The documents a lint or audit reads: `--policies` and FILEs (a bundle among them is opened and
/// verified as `trust` says, never read unverified), or the embedded default store.
fn documents(policies: Option<&Path>, files: &[PathBuf], trust: &TrustArgs) -> Result<Vec<(String, String)>, String> {
    let mut paths: Vec<PathBuf> = policies.map(Path::to_path_buf).into_iter().collect();
    paths.extend(files.iter().cloned());
    if paths.is_empty() {
        return match source(None) {
            Source::Documents(docs) => Ok(docs.to_vec()),
            _ => Err("no store to read".to_owned()),
        };
    }
    let (bundles, plain): (Vec<PathBuf>, Vec<PathBuf>) =
        paths.into_iter().partition(|p| keycard::bundle::is_bundle_file(p));
    let mut docs =
        if plain.is_empty() { Vec::new() } else { keycard::lint::read_paths(&plain).map_err(|e| e.to_string())? };
    for path in bundles {
        let trust = trust.require(&path)?;
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let opened = keycard::bundle::open(&bytes, &trust, &keycard::bundle::Limits::default())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        docs.extend(opened.documents);
    }
    Ok(docs)
}

/// `keycard lint`: findings in text, JSON or SARIF; exit 0 when none is at or above
/// `fail_on`, 1 otherwise, 2 on error.
pub(crate) fn lint(
    policies: Option<&Path>,
    files: &[PathBuf],
    trust: &TrustArgs,
    format: &str,
    fail_on: &str,
) -> ExitCode {
    let threshold = match fail_on_threshold(fail_on) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let docs = match documents(policies, files, trust) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("keycard: {e}");
            return ExitCode::from(2);
        }
    };
    let findings = match keycard::lint::lint_documents(&docs) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("keycard: {e}");
            return ExitCode::from(2);
        }
    };
    let out = match format {
        "json" => render::json(&findings).to_string() + "\n",
        "sarif" => serde_json::to_string_pretty(&render::sarif(&findings, &docs)).unwrap_or_default() + "\n",
        _ => render::text(&findings, &docs, std::io::stdout().is_terminal()),
    };
    print_and_exit(&out, findings.iter().map(|f| f.severity), threshold)
}

/// The catalogue's warnings for `keycard validate` (unknown actions, wildcards matching nothing,
/// resources and condition keys no action takes), printed as `validate` prints its warnings.
pub(crate) fn catalogue_warnings(policies: Option<&Path>, trust: &TrustArgs) -> Vec<String> {
    let Ok(docs) = documents(policies, &[], trust) else { return Vec::new() };
    let Ok(findings) = keycard::lint::lint_documents(&docs) else { return Vec::new() };
    findings
        .iter()
        .filter(|f| keycard::lint::CATALOGUE_CHECKS.contains(&f.check))
        .map(|f| format!("warning: {}: {}: {} ({})", f.file, f.pointer, f.message, f.check))
        .collect()
}

/// `keycard audit`: the best-practice checklist over the store and a credential report. Exit
/// 0 when no finding is at or above `fail_on`, 1 otherwise, 2 on error (an unusable store or a
/// malformed report: nothing partial is printed).
pub(crate) fn audit(
    policies: Option<&Path>,
    trust: &TrustArgs,
    report: Option<&Path>,
    as_of: Option<&str>,
    format: &str,
    fail_on: &str,
) -> ExitCode {
    use keycard::audit::{audit, to_json, Source as Origin};
    let threshold = match fail_on_threshold(fail_on) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let now = match as_of {
        Some(d) => match keycard::audit::parse_date(d) {
            Some(t) => t,
            None => {
                eprintln!("keycard: --as-of: expected an ISO 8601 date (2026-12-01), found {d:?}");
                return ExitCode::from(2);
            }
        },
        None => keycard::clock::unix_seconds(std::time::SystemTime::now()) as i64,
    };
    let docs = match documents(policies, &[], trust) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("keycard: {e}");
            return ExitCode::from(2);
        }
    };
    let report_text = match report.map(std::fs::read_to_string).transpose() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("keycard: cannot read the credential report: {e}");
            return ExitCode::from(2);
        }
    };
    let findings = match audit(&docs, report_text.as_deref(), now) {
        Ok(f) => f,
        Err(e) => {
            let shown = report.map(|p| p.display().to_string()).unwrap_or_default();
            match e {
                keycard::audit::AuditError::Report(r) => eprintln!("keycard: {shown}: {r}"),
                other => eprintln!("keycard: {other}"),
            }
            return ExitCode::from(2);
        }
    };
    let out = match format {
        "json" => to_json(&findings).to_string() + "\n",
        "sarif" => {
            // Reuse lint's SARIF writer: each finding located in its store file or report line.
            let mut docs = docs.clone();
            let report_name = report.map(|p| p.display().to_string()).unwrap_or_default();
            if let Some(t) = &report_text {
                docs.push((report_name.clone(), t.clone()));
            }
            let as_lint: Vec<keycard::lint::Finding> = findings
                .iter()
                .map(|f| {
                    let (file, pointer) = match &f.source {
                        Some(Origin::Store { file, pointer }) => (file.clone(), pointer.clone()),
                        Some(Origin::Report { line }) => (report_name.clone(), format!("line:{line}")),
                        None => (String::new(), String::new()),
                    };
                    keycard::lint::Finding {
                        check: f.check,
                        severity: f.severity,
                        file,
                        pointer,
                        message: format!("{}: {}", f.principal, f.message),
                        fix: f.fix.clone(),
                    }
                })
                .collect();
            let sarif = render::sarif_with_rules(&as_lint, &docs, keycard::audit::AUDIT_CHECKS);
            serde_json::to_string_pretty(&sarif).unwrap_or_default() + "\n"
        }
        _ => {
            let colour = std::io::stdout().is_terminal();
            let mut s = String::new();
            for f in &findings {
                let sev = if colour {
                    format!("\x1b[1m{}\x1b[0m", f.severity.as_str())
                } else {
                    f.severity.as_str().to_owned()
                };
                s.push_str(&format!("{sev} {} {}: {}\n    fix: {}\n", f.check, f.principal, f.message, f.fix));
            }
            let as_lint: Vec<keycard::lint::Finding> = findings
                .iter()
                .map(|f| keycard::lint::Finding {
                    check: f.check,
                    severity: f.severity,
                    file: String::new(),
                    pointer: String::new(),
                    message: String::new(),
                    fix: String::new(),
                })
                .collect();
            s + &render::summary(&as_lint)
        }
    };
    print_and_exit(&out, findings.iter().map(|f| f.severity), threshold)
}

/// `--fail-on`, parsed; exit 2 (with the message) when it names no severity.
fn fail_on_threshold(fail_on: &str) -> Result<LintSeverity, ExitCode> {
    LintSeverity::parse(fail_on).ok_or_else(|| {
        eprintln!("keycard: --fail-on must be error, security, warning or suggestion");
        ExitCode::from(2)
    })
}

/// Prints a lint's or an audit's output; exit 0 when no finding is at or above `threshold`, 1
/// otherwise, 2 when stdout cannot be written.
fn print_and_exit(out: &str, mut severities: impl Iterator<Item = LintSeverity>, threshold: LintSeverity) -> ExitCode {
    if std::io::stdout().lock().write_all(out.as_bytes()).is_err() {
        return ExitCode::from(2);
    }
    if severities.any(|s| s <= threshold) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

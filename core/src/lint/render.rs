//! Findings as text (for people), JSON (`{"findings": [...]}`) and SARIF 2.1.0 (for GitHub code
//! scanning and other CI tools), with JSON pointers resolved to lines and columns.

use super::locate::{locate, Position};
use super::{Finding, LintSeverity, CHECKS};
use serde_json::{json, Value};
use std::collections::HashMap;

/// Positions of every finding's pointer, per file: `(file, pointer) → position`.
pub fn positions(findings: &[Finding], documents: &[(String, String)]) -> HashMap<(String, String), Position> {
    let mut out = HashMap::new();
    for (name, text) in documents {
        let ptrs: Vec<&str> = findings.iter().filter(|f| &f.file == name).map(|f| f.pointer.as_str()).collect();
        if ptrs.is_empty() {
            continue;
        }
        for (p, pos) in locate(text, &ptrs) {
            out.insert((name.clone(), p), pos);
        }
    }
    out
}

/// `severity CHECK file:line:col pointer: message` lines, then a fix line each, then a summary.
/// `colour` adds ANSI colours to the severity.
pub fn text(findings: &[Finding], documents: &[(String, String)], colour: bool) -> String {
    let pos = positions(findings, documents);
    let mut out = String::new();
    for f in findings {
        let at = pos
            .get(&(f.file.clone(), f.pointer.clone()))
            .map_or(String::new(), |p| format!(":{}:{}", p.line, p.column));
        let sev = f.severity.as_str();
        let sev = if colour {
            let code = match f.severity {
                LintSeverity::Error => "31",
                LintSeverity::Security => "35",
                LintSeverity::Warning => "33",
                LintSeverity::Suggestion => "36",
            };
            format!("\x1b[1;{code}m{sev}\x1b[0m")
        } else {
            sev.to_owned()
        };
        out.push_str(&format!("{sev} {} {}{at} {}: {}\n    fix: {}\n", f.check, f.file, f.pointer, f.message, f.fix));
    }
    out.push_str(&summary(findings));
    out
}

/// `N findings (a error, b security, c warning, d suggestion)`.
pub fn summary(findings: &[Finding]) -> String {
    let count = |s: LintSeverity| findings.iter().filter(|f| f.severity == s).count();
    format!(
        "{} finding{} ({} error, {} security, {} warning, {} suggestion)\n",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        count(LintSeverity::Error),
        count(LintSeverity::Security),
        count(LintSeverity::Warning),
        count(LintSeverity::Suggestion)
    )
}

/// `{"findings": [{"check", "severity", "file", "pointer", "message", "fix"}]}`.
pub fn json(findings: &[Finding]) -> Value {
    let items: Vec<Value> = findings
        .iter()
        .map(|f| {
            json!({"check": f.check, "severity": f.severity.as_str(), "file": f.file, "pointer": f.pointer,
                   "message": f.message, "fix": f.fix})
        })
        .collect();
    json!({ "findings": items })
}

/// SARIF's level for a severity: errors and security findings fail a code-scanning check.
fn level(s: LintSeverity) -> &'static str {
    match s {
        LintSeverity::Error | LintSeverity::Security => "error",
        LintSeverity::Warning => "warning",
        LintSeverity::Suggestion => "note",
    }
}

/// A SARIF 2.1.0 log with one run; each result's location is the file (relative URI) and the
/// line and column its pointer resolves to, and the pointer itself as a logical location.
pub fn sarif(findings: &[Finding], documents: &[(String, String)]) -> Value {
    sarif_with_rules(findings, documents, CHECKS)
}

/// [`sarif`] with another rule table (`keycard audit`'s). A pointer `line:N` stands for line N
/// of a non-JSON file (the credential report); an empty file name gives no physical location.
pub fn sarif_with_rules(
    findings: &[Finding],
    documents: &[(String, String)],
    checks: &[(&str, LintSeverity, &str)],
) -> Value {
    let pos = positions(findings, documents);
    let rules: Vec<Value> = checks
        .iter()
        .map(|(id, sev, desc)| {
            json!({
                "id": id,
                "name": id,
                "shortDescription": {"text": desc},
                "defaultConfiguration": {"level": level(*sev)},
                "properties": {"severity": sev.as_str()},
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let p = match f.pointer.strip_prefix("line:").and_then(|l| l.parse::<usize>().ok()) {
                Some(line) => Position { line, column: 1 },
                None => {
                    pos.get(&(f.file.clone(), f.pointer.clone())).copied().unwrap_or(Position { line: 1, column: 1 })
                }
            };
            let rule_index = checks.iter().position(|c| c.0 == f.check).unwrap_or(0);
            let mut location = json!({"logicalLocations": [{"fullyQualifiedName": f.pointer, "kind": "member"}]});
            if !f.file.is_empty() {
                location["physicalLocation"] = json!({
                    "artifactLocation": {"uri": uri(&f.file)},
                    "region": {"startLine": p.line, "startColumn": p.column},
                });
            }
            json!({
                "ruleId": f.check,
                "ruleIndex": rule_index,
                "level": level(f.severity),
                "message": {"text": format!("{} Fix: {}", f.message, f.fix)},
                "locations": [location],
                "properties": {"severity": f.severity.as_str(), "pointer": f.pointer, "fix": f.fix},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "keycard",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "utf16CodeUnits",
            "results": results,
        }],
    })
}

/// A file name as a relative URI reference: `/` separators, spaces and `%` escaped.
fn uri(file: &str) -> String {
    let f = file.replace('\\', "/");
    let f = f.strip_prefix("./").unwrap_or(&f);
    percent_encoding::utf8_percent_encode(f, URI_ESCAPES).to_string()
}

const URI_ESCAPES: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'%')
    .add(b'"')
    .add(b'#')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

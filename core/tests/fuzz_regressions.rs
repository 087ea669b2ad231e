//! Replays the fuzz regressions in plain `cargo test` (fuzz/README.md).
//!
//! Every file under `tests/fuzz_regressions/<target>/` goes through the check its fuzz target
//! makes, so crashers and mismatches stay fixed without libFuzzer:
//! - `parse/`: raw bytes, split at NUL into store documents. Loading returns `Ok` or `Err` (never
//!   panics); a store that loads came from documents `serde_json` accepts too, and answers the
//!   fixed requests of `parse-fixed.json` alike through the snapshot and the reference evaluator;
//!   the bytes as a request, if they parse, are decided against the fixed store, again alike.
//! - `differential/`, `glob/`: `{"store": {"name.json": document, ...}, "request": {...}}` with an
//!   optional `"expect"` decision (the glob target's regex oracle); a document may be a JSON
//!   string, used as the text. The store loads, the request parses, the snapshot and the reference
//!   agree, and they give `expect` when present.
//!
//! A file whose name contains `.pending.` reproduces a bug not fixed yet: its check must still
//! fail (so the suite stays green and the bug stays documented); once it passes, the test asks
//! for the file to be renamed. Each directory must hold at least one file, so the replay cannot
//! silently test nothing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use keycard::{Decision, Request, Snapshot, Store};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions")
}

fn files(target: &str) -> Vec<PathBuf> {
    let dir = root().join(target);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    assert!(!out.is_empty(), "{} holds no regression inputs", dir.display());
    out
}

fn is_pending(path: &Path) -> bool {
    path.file_name().unwrap().to_string_lossy().contains(".pending.")
}

/// Runs `check` on every file of `target`; a failure names the file.
fn replay(target: &str, check: impl Fn(&[u8]) -> Result<(), String>) {
    let mut failures = Vec::new();
    for path in files(target) {
        let bytes = std::fs::read(&path).unwrap();
        // A panic inside keycard fails the test right here; this line names the input.
        eprintln!("replaying {}", path.display());
        match (check(&bytes), is_pending(&path)) {
            (Ok(()), false) | (Err(_), true) => {}
            (Err(e), false) => failures.push(format!("{}: {e}", path.display())),
            (Ok(()), true) => failures
                .push(format!("{}: passes now; the bug is fixed, drop `.pending` from the file name", path.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn agree(snapshot: &Snapshot, request: &Request) -> Result<Decision, String> {
    let compiled = snapshot.authorize(request).decision();
    let reference = keycard::reference::authorize(snapshot.store(), request).decision();
    if compiled == reference {
        Ok(compiled)
    } else {
        Err(format!("snapshot says {}, reference says {}", compiled.as_str(), reference.as_str()))
    }
}

/// The parse target's fixed store and requests.
fn fixed() -> (Snapshot, Vec<Request>) {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(root().join("parse-fixed.json")).unwrap()).unwrap();
    let store = Store::from_documents([("fixed.json", v["store"].to_string())]).unwrap();
    let requests = v["requests"].as_array().unwrap().iter().map(|r| Request::from_value(r).unwrap()).collect();
    (Snapshot::new(store), requests)
}

fn check_parse(fixed: &(Snapshot, Vec<Request>), bytes: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(bytes);
    let documents: Vec<(String, &str)> =
        text.splitn(4, '\0').enumerate().map(|(i, doc)| (format!("doc{i}.json"), doc)).collect();
    match Store::from_documents(documents.iter().map(|(n, d)| (n.clone(), *d))) {
        Ok(store) => {
            for (name, doc) in &documents {
                if let Err(e) = serde_json::from_str::<Value>(doc) {
                    return Err(format!("the store loaded, but serde_json rejects {name}: {e}"));
                }
            }
            let snapshot = Snapshot::new(store);
            for request in &fixed.1 {
                agree(&snapshot, request)?;
            }
        }
        Err(e) => {
            if e.errors().next().is_none() {
                return Err("a LoadError without errors".into());
            }
        }
    }
    if let Ok(request) = Request::from_json(&text) {
        agree(&fixed.0, &request)?;
    }
    Ok(())
}

fn check_case(bytes: &[u8]) -> Result<(), String> {
    let case: Value = serde_json::from_slice(bytes).map_err(|e| format!("not a case file: {e}"))?;
    let documents: Vec<(String, String)> = case["store"]
        .as_object()
        .ok_or("\"store\" must be an object of documents")?
        .iter()
        .map(|(name, doc)| (name.clone(), doc.as_str().map_or_else(|| doc.to_string(), str::to_owned)))
        .collect();
    let store = Store::from_documents(documents).map_err(|e| format!("the store does not load: {e}"))?;
    let request = Request::from_value(&case["request"]).map_err(|e| format!("the request does not parse: {e}"))?;
    let decision = agree(&Snapshot::new(store), &request)?;
    match case.get("expect").and_then(Value::as_str) {
        Some(expect) if expect != decision.as_str() => {
            Err(format!("expected {expect}, snapshot and reference say {}", decision.as_str()))
        }
        _ => Ok(()),
    }
}

#[test]
fn parse_regressions_never_panic() {
    let fixed = fixed();
    replay("parse", |bytes| check_parse(&fixed, bytes));
}

#[test]
fn differential_regressions_agree() {
    replay("differential", check_case);
}

#[test]
fn glob_regressions_match_the_regex_oracle() {
    replay("glob", check_case);
}

//! The data-driven decision corpus: the shared conformance cases (`tests/conformance/*`) and the
//! default store's cases (`tests/default_store/cases.jsonl` against `policies/`), each line run
//! through the snapshot and through the reference evaluator.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use keycard::{Decision, Request, Snapshot, Store};
use std::path::{Path, PathBuf};

struct Outcome {
    run: usize,
    failures: Vec<String>,
    uncertain: Vec<String>,
}

fn run_cases(store_dir: &Path, cases: &Path, out: &mut Outcome) {
    let store = Store::load(store_dir).unwrap_or_else(|e| panic!("{}: {e}", store_dir.display()));
    let snapshot = Snapshot::new(store);
    let text = std::fs::read_to_string(cases).unwrap();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let case: serde_json::Value = serde_json::from_str(line).unwrap();
        let request =
            Request::from_value(&case["request"]).unwrap_or_else(|e| panic!("{}:{}: {e}", cases.display(), n + 1));
        let expect = case["expect"].as_str().unwrap();
        let why = case["why"].as_str().unwrap_or("");
        let got = snapshot.authorize(&request).decision();
        let reference = keycard::reference::authorize(snapshot.store(), &request).decision();
        let ok = |d: Decision| match expect {
            "deny" => !d.is_allowed(),
            e => d.as_str() == e,
        };
        out.run += 1;
        let report = format!(
            "{}:{}: expected {expect}, got {} (reference {}): {why}",
            cases.display(),
            n + 1,
            got.as_str(),
            reference.as_str()
        );
        if got != reference {
            out.failures.push(format!("snapshot and reference disagree: {report}"));
        } else if !ok(got) {
            if why.starts_with("uncertain:") {
                out.uncertain.push(report);
            } else {
                out.failures.push(report);
            }
        }
    }
}

fn finish(out: Outcome) {
    for u in &out.uncertain {
        eprintln!("uncertain (not a failure): {u}");
    }
    assert!(out.run > 0, "no cases ran");
    assert!(
        out.failures.is_empty(),
        "{} of {} cases failed:\n{}",
        out.failures.len(),
        out.run,
        out.failures.join("\n")
    );
}

#[test]
fn shared_conformance_corpus() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    assert!(dirs.len() >= 10, "the corpus is missing cases");
    let mut out = Outcome { run: 0, failures: Vec::new(), uncertain: Vec::new() };
    for dir in dirs {
        run_cases(&dir.join("store"), &dir.join("cases.jsonl"), &mut out);
    }
    finish(out);
}

#[test]
fn default_store_answers_its_cases() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut out = Outcome { run: 0, failures: Vec::new(), uncertain: Vec::new() };
    run_cases(&manifest.join("../policies"), &manifest.join("tests/default_store/cases.jsonl"), &mut out);
    assert!(out.run >= 12, "the default store needs at least a dozen cases");
    finish(out);
}

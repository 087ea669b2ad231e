//! Parser robustness: arbitrary bytes as store documents and as a request never panic.
//!
//! The input (at most 64 KiB; larger is rejected) is split at NUL bytes into up to four store
//! documents, so references between documents get exercised too. `Store::from_documents` must
//! return `Ok` or `Err`; every document of a store that loads must be JSON that `serde_json`
//! accepts too; a store that loads answers a few fixed requests through both the snapshot
//! and the reference evaluator, which must agree. The whole input is also parsed as a request,
//! and a request that parses is decided against a small fixed store.
//!
//! Replayed by `core/tests/fuzz_regressions.rs` (files under `core/tests/fuzz_regressions/parse/`).

#![no_main]

use keycard::{Request, Snapshot, Store};
use keycard_fuzz::{check_agreement, check_loaded_documents_are_json, MAX_INPUT};
use libfuzzer_sys::{fuzz_target, Corpus};
use std::sync::OnceLock;

/// The fixed store and requests, shared with the replay test.
const FIXED: &str = include_str!("../../core/tests/fuzz_regressions/parse-fixed.json");

fn fixed() -> &'static (Snapshot, Vec<Request>) {
    static FIXED_CASE: OnceLock<(Snapshot, Vec<Request>)> = OnceLock::new();
    FIXED_CASE.get_or_init(|| {
        let v: serde_json::Value = serde_json::from_str(FIXED).expect("parse-fixed.json is JSON");
        let store = Store::from_documents([("fixed.json", v["store"].to_string())]).expect("the fixed store loads");
        let requests = v["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .map(|r| Request::from_value(r).expect("a fixed request parses"))
            .collect();
        (Snapshot::new(store), requests)
    })
}

fuzz_target!(|data: &[u8]| -> Corpus {
    if data.len() > MAX_INPUT {
        return Corpus::Reject;
    }
    let text = String::from_utf8_lossy(data);
    let documents: Vec<(String, &str)> =
        text.splitn(4, '\0').enumerate().map(|(i, doc)| (format!("doc{i}.json"), doc)).collect();
    match Store::from_documents(documents.iter().map(|(n, d)| (n.clone(), *d))) {
        Ok(store) => {
            check_loaded_documents_are_json(documents.iter().map(|(_, d)| *d));
            let snapshot = Snapshot::new(store);
            for request in &fixed().1 {
                check_agreement(&snapshot, request, &text);
            }
        }
        Err(e) => assert!(e.errors().next().is_some(), "a LoadError carries at least one error"),
    }
    if let Ok(request) = Request::from_json(&text) {
        check_agreement(&fixed().0, &request, &text);
    }
    Corpus::Keep
});

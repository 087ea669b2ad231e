//! Differential: the snapshot (compiled index) and `keycard::reference` decide alike.
//!
//! The stores and requests come from the differential test's generator
//! (`core/tests/store_gen/mod.rs`, included here by path, so that there is one generator); the
//! input seeds it (`store_gen::case_from_bytes`), so the fuzzer explores the generator seed by
//! seed and keeps the seeds whose cases reach new code. Each case is a store of one or two
//! accounts (users, groups, roles, managed and inline policies, boundaries, tags, resource
//! policies, an organization with SCPs and RCPs; documents as objects, JSON text or URL-encoded
//! text) and 4 to 10 requests drawn from the same vocabularies.
//!
//! The store must load and every request parse (otherwise the generator has a bug: a crash), and
//! for every request both evaluators must give the same decision. A mismatch prints the
//! reproducer `{"store": ..., "request": ...}` to save under
//! `core/tests/fuzz_regressions/differential/`, which `cargo test` replays.

#![no_main]

#[path = "../../core/tests/store_gen/mod.rs"]
mod store_gen;

use keycard::{Request, Snapshot, Store};
use keycard_fuzz::{check_agreement, Rendered, MAX_INPUT};
use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    if data.len() > MAX_INPUT {
        return Corpus::Reject;
    }
    let Some(case) = store_gen::case_from_bytes(data) else {
        return Corpus::Reject;
    };
    let documents: Vec<_> = case.docs.iter().enumerate().map(|(i, d)| (format!("doc{i}.json"), d.clone())).collect();
    let store = Store::from_documents(documents.iter().map(|(n, d)| (n.clone(), d.to_string())))
        .unwrap_or_else(|e| panic!("generator bug: the generated store does not load:\n{e}\n{case:?}"));
    let snapshot = Snapshot::new(store);
    for r in &case.requests {
        let request =
            Request::from_value(r).unwrap_or_else(|e| panic!("generator bug: request rejected: {e}\nrequest: {r}"));
        let reproducer = Rendered { documents: documents.clone(), request: r.clone(), expect: None };
        check_agreement(&snapshot, &request, &reproducer);
    }
    Corpus::Keep
});

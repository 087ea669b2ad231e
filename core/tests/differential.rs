#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
//! Differential test: the compiled decision index against the reference evaluator.
//!
//! proptest generates random but valid stores and several requests for each with the generator
//! in `store_gen/` (the differential fuzz target draws from the same one). For every request
//! `Snapshot::decide` and `Snapshot::authorize` (with and without `explain`) must give the
//! reference evaluator's decision.
//!
//! - A generated store that does not load, or a request that does not parse, is a generator bug:
//!   the test fails and prints the loader's errors.
//! - A failing case prints every store document and request as one-line JSON, ready to paste into
//!   `Store::from_documents` / `Request::from_json`; proptest records its seed in
//!   `tests/differential.proptest-regressions` and replays it first on later runs.
//! - `decisions_are_balanced` checks that the generator yields all three decisions in healthy
//!   proportions: a differential test whose answers are all `implicitDeny` proves nothing.
//! - Long runs: `KEYCARD_DIFF_CASES=100000 cargo test --release --test differential -- --ignored`
//!   (deterministic; `KEYCARD_DIFF_SEED` picks another seed).

mod store_gen;

use keycard::{Decision, Request, Snapshot, Store};
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, RngAlgorithm, RngSeed, TestCaseError, TestRunner};
use std::sync::atomic::{AtomicUsize, Ordering};
use store_gen::{case_strategy, Case};

/// Stores per `cargo test` run of the property (each with 4 to 10 requests).
const CASES: u32 = 300;
/// Stores sampled (fixed seed) to measure the decision distribution.
const DISTRIBUTION_CASES: u32 = 120;

// ---------------------------------------------------------------------------------------------
// The property
// ---------------------------------------------------------------------------------------------

/// Loads the case's store and answers every request with the snapshot (`decide`, `authorize`
/// without and with `explain`) and with the reference evaluator; returns the decisions.
fn check(case: &Case) -> Result<Vec<Decision>, TestCaseError> {
    let docs = case.docs.iter().enumerate().map(|(i, d)| (format!("doc{i}.json"), d.to_string()));
    let store = Store::from_documents(docs).map_err(|e| {
        TestCaseError::fail(format!("generator bug: the generated store does not load:\n{e}\n{case:?}"))
    })?;
    let snapshot = Snapshot::new(store);
    let mut decisions = Vec::with_capacity(case.requests.len());
    for (i, r) in case.requests.iter().enumerate() {
        let mut request = Request::from_value(r)
            .map_err(|e| TestCaseError::fail(format!("generator bug: request rejected: {e}\nrequest: {r}")))?;
        let decided = snapshot.decide(&request);
        let compiled = snapshot.authorize(&request).decision();
        let reference = keycard::reference::authorize(snapshot.store(), &request).decision();
        request.set_explain(true);
        let compiled_x = snapshot.authorize(&request);
        let reference_x = keycard::reference::authorize(snapshot.store(), &request);
        let why = || serde_json::to_string(&reference_x.to_json()).unwrap_or_default();
        prop_assert_eq!(
            decided,
            reference,
            "Snapshot::decide {:?} but reference {:?} for request #{} {}\nreference's explanation: {}",
            decided,
            reference,
            i,
            r,
            why()
        );
        prop_assert_eq!(
            compiled,
            reference,
            "Snapshot::authorize {:?} but reference {:?} for request #{} {}\nreference's explanation: {}",
            compiled,
            reference,
            i,
            r,
            why()
        );
        // `authorize` with `explain` answers through the reference: compare it with the index's
        // fast path, so asking for an explanation can never change the decision a caller gets.
        prop_assert_eq!(
            compiled_x.decision(),
            decided,
            "with explain: Snapshot::authorize {:?} but Snapshot::decide {:?} for request #{} {}\nreference's explanation: {}",
            compiled_x.decision(),
            decided,
            i,
            r,
            why()
        );
        prop_assert_eq!(
            reference_x.decision(),
            reference,
            "explain changes the reference's decision for request #{} {}\nexplanation: {}",
            i,
            r,
            why()
        );
        prop_assert!(compiled_x.explanation().is_some(), "no explanation with explain: true for request #{} {}", i, r);
        decisions.push(reference);
    }
    Ok(decisions)
}

/// The property's configuration: regressions go to `tests/differential.proptest-regressions`;
/// shrinking is capped (a failing case shrinks in well under a minute in a debug build).
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("proptest-regressions"))),
        max_shrink_iters: 4096,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config(CASES))]

    /// `Snapshot::decide` and `Snapshot::authorize` (with and without `explain`) give the
    /// reference evaluator's decision.
    #[test]
    fn compiled_decisions_equal_reference(case in case_strategy()) {
        check(&case)?;
    }
}

/// Stores checked and the reference's decisions, tallied.
#[derive(Debug, Default)]
struct Tally {
    stores: AtomicUsize,
    allowed: AtomicUsize,
    explicit: AtomicUsize,
    implicit: AtomicUsize,
}

impl Tally {
    fn add(&self, decisions: &[Decision]) {
        self.stores.fetch_add(1, Ordering::Relaxed);
        for d in decisions {
            let counter = match d {
                Decision::Allowed => &self.allowed,
                Decision::ExplicitDeny => &self.explicit,
                Decision::ImplicitDeny => &self.implicit,
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn counts(&self) -> [usize; 3] {
        [&self.allowed, &self.explicit, &self.implicit].map(|c| c.load(Ordering::Relaxed))
    }

    fn report(&self) -> String {
        let c = self.counts();
        let total = c.iter().sum::<usize>().max(1);
        let pct = |n: usize| n * 100 / total;
        format!(
            "{} stores, {total} requests: allowed {} ({}%), explicitDeny {} ({}%), implicitDeny {} ({}%)",
            self.stores.load(Ordering::Relaxed),
            c[0],
            pct(c[0]),
            c[1],
            pct(c[1]),
            c[2],
            pct(c[2])
        )
    }
}

/// A runner whose cases depend on `seed` only; failures are not persisted (rerun with the seed).
fn deterministic_runner(cases: u32, seed: u64, max_shrink_iters: u32) -> TestRunner {
    TestRunner::new(ProptestConfig {
        cases,
        failure_persistence: None,
        rng_algorithm: RngAlgorithm::ChaCha,
        rng_seed: RngSeed::Fixed(seed),
        max_shrink_iters,
        ..ProptestConfig::default()
    })
}

/// The generator yields every decision in healthy proportions (fixed seed, so deterministic).
#[test]
fn decisions_are_balanced() {
    let tally = Tally::default();
    let mut runner = deterministic_runner(DISTRIBUTION_CASES, 0x6b65_7963_6172_6421, 4096);
    let result = runner.run(&case_strategy(), |case| {
        tally.add(&check(&case)?);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    let report = tally.report();
    eprintln!("decision distribution: {report}");
    let c = tally.counts();
    let total: usize = c.iter().sum();
    for (name, n) in ["allowed", "explicitDeny", "implicitDeny"].iter().zip(c) {
        assert!(n * 20 >= total, "{name} is under 5% of the generated requests: {report}");
    }
}

/// The differential fuzz target seeds the same generator with its input bytes
/// (`store_gen::case_from_bytes`): such cases load and agree too, the empty input's included.
#[test]
fn byte_driven_cases_load_and_agree() {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut inputs: Vec<Vec<u8>> = vec![Vec::new(), vec![0; 4096], vec![0xff; 4096]];
    for len in (1..30).map(|i| i * i * 9) {
        inputs.push(
            (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state.to_le_bytes()[0]
                })
                .collect(),
        );
    }
    for data in &inputs {
        let case = store_gen::case_from_bytes(data).unwrap_or_else(|| panic!("no case from {} bytes", data.len()));
        if let Err(e) = check(&case) {
            panic!("from {} input bytes: {e}", data.len());
        }
    }
}

/// Long deterministic runs: `KEYCARD_DIFF_CASES=100000 cargo test --release --test differential
/// -- --ignored` (optionally `KEYCARD_DIFF_SEED=<u64>`).
#[test]
#[ignore = "long run: KEYCARD_DIFF_CASES=100000 cargo test --release --test differential -- --ignored"]
fn many_cases() {
    let cases: u32 = std::env::var("KEYCARD_DIFF_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let seed: u64 = std::env::var("KEYCARD_DIFF_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5eed);
    let tally = Tally::default();
    let started = std::time::Instant::now();
    let mut runner = deterministic_runner(cases, seed, 20_000);
    let result = runner.run(&case_strategy(), |case| {
        tally.add(&check(&case)?);
        Ok(())
    });
    eprintln!("seed {seed}, {:.1?}: {} (shrinking included)", started.elapsed(), tally.report());
    if let Err(e) = result {
        panic!("{e}");
    }
}

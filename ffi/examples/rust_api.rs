//! The Rust API's cost per decision, for `bench/overhead.c` to compare with: the same cases
//! (`tests/cases.tsv`), the same loop, the same timing. Each call builds the request from
//! `&str`s (`Request::new`, `Request::with_context_json`) and decides on a snapshot held
//! directly (`Snapshot::decide`): what a Rust program does per request (`direct`); and the same
//! through `keycard::live::Live::current()`, the hot-reload machinery the C engine runs on
//! (`live`). The two alternate round by round. Run by `ffi/bench.sh`.
//!
//! `cargo run --release -p keycard-ffi --example rust_api -- CASES_TSV POLICIES_DIR [ROUNDS] [CALLS]`

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use kc::live::{Live, Source};
use kc::{Decision, Request, Snapshot, Store};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert!(args.len() >= 3, "usage: rust_api CASES_TSV POLICIES_DIR [ROUNDS] [CALLS]");
    let rounds: usize = args.get(3).map_or(15, |s| s.parse().unwrap());
    let calls: usize = args.get(4).map_or(400_000, |s| s.parse().unwrap());
    let text = std::fs::read_to_string(&args[1]).unwrap();
    let cases: Vec<Vec<String>> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect();
    let snapshot = Snapshot::new(Store::load(&args[2]).unwrap());
    let live = Live::open(Source::Path(args[2].clone().into()), false, Box::new(|_| {})).unwrap();
    let decide = |snapshot: &Snapshot, c: &[String]| {
        let request = Request::new(&c[1], &c[2], &c[3]).unwrap();
        let request = if c[4] == "-" { request } else { request.with_context_json(&c[4]).unwrap() };
        match snapshot.decide(std::hint::black_box(&request)) {
            Decision::Allowed => 1,
            Decision::ImplicitDeny => 0,
            Decision::ExplicitDeny => 2,
        }
    };
    let mut checksum = 0i64;
    for round in 0..rounds {
        let start = Instant::now();
        for i in 0..calls {
            checksum += decide(&snapshot, &cases[i % cases.len()]);
        }
        let ns = start.elapsed().as_nanos() as f64 / calls as f64;
        println!("round {round}: {ns:.1} ns/call direct");
        let start = Instant::now();
        for i in 0..calls {
            let current = live.current();
            checksum += decide(&current.as_ref().unwrap().snapshot, &cases[i % cases.len()]);
        }
        let ns = start.elapsed().as_nanos() as f64 / calls as f64;
        println!("round {round}: {ns:.1} ns/call live");
    }
    println!("checksum {checksum}");
}

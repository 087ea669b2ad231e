//! The C ABI's cost over the Rust API on the stream benchmark's requests, in one process, on
//! the same requests: `keycard_authorize` (called in-process through this crate's rlib, the
//! same code `libkeycard.so` exports) against `Snapshot::decide` on a request built beforehand,
//! and against the Rust API given the same text (`Request::new`, `Request::with_context_json`,
//! `Snapshot::decide`), with the request's context and without it.
//!
//! The variants are interleaved request by request: in pass `k`, request `i` is timed with
//! variant `(i + k) mod V`, so every variant times every request, each time as the first touch
//! of that request in its pass (the stream's cache state), and machine noise falls on all
//! variants alike. Per request, the differences (C − Rust) are taken between the variants'
//! times on that request. A second, warm table times each variant right after an untimed
//! decision of the same request (the cost of the boundary itself, the decision's data in cache).
//!
//! `abi_stream DIR [ROUNDS]`: DIR is a directory `benches/target/release/stream prepare` wrote
//! (`DIR/stream.tsv`, `DIR/store/`); ROUNDS (default 2) times V passes. Run by
//! `ffi/bench/abi_stream.sh`. With `KEYCARD_ABI_PROFILE=V` it only runs variant `V` (0-5, in the
//! order of the tables), each request twice in a row, 20 × ROUNDS passes: a loop to profile.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use kc::{Decision, Request, Snapshot, Store};
use keycard::{keycard_authorize, keycard_engine, keycard_engine_free, keycard_engine_open};
use std::ffi::{c_int, CString};
use std::hint::black_box;
use std::time::Instant;

struct Row {
    text: [String; 3],
    context: Option<String>,
    c: [CString; 3],
    c_context: Option<CString>,
    expected: c_int,
    expected_bare: c_int,
    built: Request,
    built_bare: Request,
}

fn code(d: Decision) -> c_int {
    match d {
        Decision::Allowed => 1,
        Decision::ImplicitDeny => 0,
        Decision::ExplicitDeny => 2,
    }
}

fn read_rows(dir: &str) -> Vec<Row> {
    let text = std::fs::read_to_string(format!("{dir}/stream.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 6, "stream.tsv: {l}");
            let context = (f[3] != "-").then(|| f[3].to_owned());
            let built_bare = Request::new(f[0], f[1], f[2]).unwrap();
            let built = match &context {
                Some(c) => built_bare.clone().with_context_json(c).unwrap(),
                None => built_bare.clone(),
            };
            Row {
                text: [f[0].into(), f[1].into(), f[2].into()],
                c: [f[0], f[1], f[2]].map(|s| CString::new(s).unwrap()),
                c_context: context.as_deref().map(|c| CString::new(c).unwrap()),
                context,
                expected: f[4].parse().unwrap(),
                expected_bare: f[5].parse().unwrap(),
                built,
                built_bare,
            }
        })
        .collect()
}

/// The variants, in the order of the tables.
const NAMES: [&str; 6] = [
    "Rust, request built beforehand, with context",
    "Rust, from text (new + with_context_json)",
    "C ABI, with context JSON",
    "Rust, request built beforehand, no context",
    "Rust, from text (new), no context",
    "C ABI, context NULL",
];

/// Runs variant `v` on `row`: its decision code.
fn run(v: usize, row: &Row, snapshot: &Snapshot, engine: *const keycard_engine) -> c_int {
    let c_call = |context: *const std::ffi::c_char| {
        let [p, a, r] = &row.c;
        // SAFETY: a live engine and NUL-terminated strings (or a NULL context).
        unsafe { keycard_authorize(black_box(engine), p.as_ptr(), a.as_ptr(), r.as_ptr(), context) }
    };
    let from_text = |with_context: bool| {
        let [p, a, r] = &row.text;
        let request = Request::new(p, a, r).unwrap();
        let request = match (&row.context, with_context) {
            (Some(c), true) => request.with_context_json(c).unwrap(),
            _ => request,
        };
        code(snapshot.decide(black_box(&request)))
    };
    match v {
        0 => code(snapshot.decide(black_box(&row.built))),
        1 => from_text(true),
        2 => c_call(row.c_context.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())),
        3 => code(snapshot.decide(black_box(&row.built_bare))),
        4 => from_text(false),
        _ => c_call(std::ptr::null()),
    }
}

fn timer_overhead() -> f64 {
    let mut v: Vec<f64> = (0..200_000)
        .map(|_| {
            let t = Instant::now();
            black_box(());
            t.elapsed().as_nanos() as f64
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn stats(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (quantile(&v, 0.5), quantile(&v, 0.99))
}

/// `times[v][i]`: variant `v`'s times on request `i`, one per round.
type Times = Vec<Vec<Vec<f64>>>;

fn print_table(title: &str, times: &Times) {
    println!("{title}");
    println!("| variant | median ns | p99 ns |");
    println!("| --- | ---: | ---: |");
    for (v, name) in NAMES.iter().enumerate() {
        let (m, p) = stats(times[v].iter().flatten().copied().collect());
        println!("| {name} | {m:.0} | {p:.0} |");
    }
    let diff = |a: usize, b: usize| -> Vec<f64> {
        times[a].iter().zip(&times[b]).flat_map(|(x, y)| x.iter().zip(y).map(|(x, y)| x - y)).collect()
    };
    for (a, b, what) in [
        (2, 0, "C ABI − Rust built, with context"),
        (2, 1, "C ABI − Rust from text, with context"),
        (5, 3, "C ABI − Rust built, context NULL"),
        (5, 4, "C ABI − Rust from text, context NULL"),
        (2, 5, "C ABI with context − C ABI NULL"),
    ] {
        let (m, p) = stats(diff(a, b));
        println!("| Δ {what} (per request) | {m:.0} | {p:.0} |");
    }
    println!();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert!(args.len() >= 2, "usage: abi_stream DIR [ROUNDS]");
    let dir = &args[1];
    let rounds: usize = args.get(2).map_or(2, |s| s.parse().unwrap());
    let rows = read_rows(dir);
    let snapshot = Snapshot::new(Store::load(format!("{dir}/store")).unwrap());
    let path = CString::new(format!("{dir}/store")).unwrap();
    // SAFETY: a NUL-terminated path.
    let engine = unsafe { keycard_engine_open(path.as_ptr(), 0) };
    assert!(!engine.is_null(), "keycard_engine_open failed");
    let engine = engine.cast_const();
    for (i, row) in rows.iter().enumerate() {
        for (v, name) in NAMES.iter().enumerate() {
            let want = if v < 3 { row.expected } else { row.expected_bare };
            assert_eq!(run(v, row, &snapshot, engine), want, "request {i}, variant {name}");
        }
    }
    // `KEYCARD_ABI_PROFILE=V`: only variant V, each request twice in a row, for a profiler.
    if let Some(v) = std::env::var("KEYCARD_ABI_PROFILE").ok().and_then(|v| v.parse::<usize>().ok()) {
        let mut checksum = 0i64;
        for _ in 0..rounds * 20 {
            for row in &rows {
                checksum += i64::from(run(v, row, &snapshot, engine)) + i64::from(run(v, row, &snapshot, engine));
            }
        }
        println!("checksum {checksum}");
        return;
    }
    let overhead = timer_overhead();
    let n = NAMES.len();
    let mut stream: Times = vec![vec![Vec::new(); rows.len()]; n];
    let mut warm: Times = vec![vec![Vec::new(); rows.len()]; n];
    let mut checksum = 0i64;
    for pass in 0..rounds * n {
        for (i, row) in rows.iter().enumerate() {
            let v = (i + pass) % n;
            let t = Instant::now();
            checksum += i64::from(run(v, row, &snapshot, engine));
            stream[v][i].push((t.elapsed().as_nanos() as f64 - overhead).max(0.0));
        }
    }
    for pass in 0..rounds * n {
        for (i, row) in rows.iter().enumerate() {
            let v = (i + pass) % n;
            checksum += i64::from(run(v, row, &snapshot, engine));
            let t = Instant::now();
            checksum += i64::from(run(v, row, &snapshot, engine));
            warm[v][i].push((t.elapsed().as_nanos() as f64 - overhead).max(0.0));
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "{} requests, {} timed calls per variant, timer {overhead:.0} ns subtracted; load average {}",
        rows.len(),
        rows.len() * rounds,
        load.split(' ').take(3).collect::<Vec<_>>().join(" ")
    );
    print_table("stream (each call the first touch of its request in its pass):", &stream);
    print_table("warm (each call right after an untimed call of the same variant on the same request):", &warm);
    println!("checksum {checksum}");
    // SAFETY: the engine from keycard_engine_open, freed once.
    unsafe { keycard_engine_free(engine.cast_mut()) };
}

//! The C ABI's added cost per decision, measured in one process: the same cases
//! (`tests/cases.tsv`) and the same loop, round by round in turn,
//! - `direct`: the Rust API on a snapshot held directly: `Request::new` (+
//!   `Request::with_context_json`) and `Snapshot::decide`, what a Rust program does per request;
//! - `live`: the same through `keycard::live::Live::current()`, the machinery the engine runs on;
//! - `c-abi`: `keycard_authorize` from the release `libkeycard.so`, loaded with `dlopen` and
//!   called through a function pointer with NUL-terminated strings, as a C program calls it.
//!
//! Prints each round, then the medians and the median of the per-round differences. Run by
//! `ffi/bench.sh`:
//! `target/release/examples/rust_api CASES_TSV POLICIES_DIR LIBKEYCARD_SO [ROUNDS] [CALLS]`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use kc::live::{Live, Source};
use kc::{Decision, Request, Snapshot, Store};
use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};
use std::time::Instant;

#[link(name = "dl")]
extern "C" {
    fn dlopen(filename: *const c_char, flag: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlerror() -> *const c_char;
}
const RTLD_NOW: c_int = 2;

type OpenFn = unsafe extern "C" fn(*const c_char, c_uint) -> *mut c_void;
type AuthorizeFn =
    unsafe extern "C" fn(*const c_void, *const c_char, *const c_char, *const c_char, *const c_char) -> c_int;
type FreeFn = unsafe extern "C" fn(*mut c_void);

fn symbol(lib: *mut c_void, name: &str) -> *mut c_void {
    let c = CString::new(name).unwrap();
    // SAFETY: `lib` is a handle from dlopen; `c` is NUL-terminated.
    let p = unsafe { dlsym(lib, c.as_ptr()) };
    assert!(!p.is_null(), "{name} not found in libkeycard");
    p
}

fn decide(snapshot: &Snapshot, c: &[String]) -> i64 {
    let request = Request::new(&c[1], &c[2], &c[3]).unwrap();
    let request = if c[4] == "-" { request } else { request.with_context_json(&c[4]).unwrap() };
    match snapshot.decide(std::hint::black_box(&request)) {
        Decision::Allowed => 1,
        Decision::ImplicitDeny => 0,
        Decision::ExplicitDeny => 2,
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    assert!(args.len() >= 4, "usage: rust_api CASES_TSV POLICIES_DIR LIBKEYCARD_SO [ROUNDS] [CALLS]");
    let rounds: usize = args.get(4).map_or(15, |s| s.parse().unwrap());
    let calls: usize = args.get(5).map_or(400_000, |s| s.parse().unwrap());
    let text = std::fs::read_to_string(&args[1]).unwrap();
    let cases: Vec<Vec<String>> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_owned).collect())
        .collect();
    let c_cases: Vec<Vec<CString>> =
        cases.iter().map(|c| c.iter().map(|f| CString::new(f.as_str()).unwrap()).collect()).collect();

    let snapshot = Snapshot::new(Store::load(&args[2]).unwrap());
    let live = Live::open(Source::Path(args[2].clone().into()), kc::live::Config::new()).unwrap();

    let path = CString::new(args[3].as_str()).unwrap();
    // SAFETY: `path` is NUL-terminated; dlerror's message is read before any other dl call.
    let lib = unsafe { dlopen(path.as_ptr(), RTLD_NOW) };
    if lib.is_null() {
        // SAFETY: dlerror returns NULL or a NUL-terminated message.
        let why = unsafe { dlerror() };
        let why = if why.is_null() {
            "unknown".into()
        } else {
            // SAFETY: not NULL, NUL-terminated.
            unsafe { CStr::from_ptr(why) }.to_string_lossy()
        };
        panic!("dlopen {}: {why}", args[3]);
    }
    // SAFETY: the symbols have exactly these signatures (include/keycard.h).
    let (open, authorize, free) = unsafe {
        (
            std::mem::transmute::<*mut c_void, OpenFn>(symbol(lib, "keycard_engine_open")),
            std::mem::transmute::<*mut c_void, AuthorizeFn>(symbol(lib, "keycard_authorize")),
            std::mem::transmute::<*mut c_void, FreeFn>(symbol(lib, "keycard_engine_free")),
        )
    };
    let policies = CString::new(args[2].as_str()).unwrap();
    // SAFETY: a NUL-terminated path.
    let engine = unsafe { open(policies.as_ptr(), 0) };
    assert!(!engine.is_null(), "keycard_engine_open failed");

    let (mut direct, mut through_live, mut c_abi) = (Vec::new(), Vec::new(), Vec::new());
    let mut checksum = 0i64;
    let time = |f: &mut dyn FnMut(usize) -> i64, checksum: &mut i64| {
        let start = Instant::now();
        for i in 0..calls {
            *checksum += f(i);
        }
        start.elapsed().as_nanos() as f64 / calls as f64
    };
    for round in 0..rounds {
        let d = time(&mut |i| decide(&snapshot, &cases[i % cases.len()]), &mut checksum);
        let l = time(
            &mut |i| {
                let current = live.current();
                decide(current.as_ref().unwrap().snapshot(), &cases[i % cases.len()])
            },
            &mut checksum,
        );
        let c = time(
            &mut |i| {
                let f = &c_cases[i % c_cases.len()];
                let context = if f[4].as_bytes() == b"-" { std::ptr::null() } else { f[4].as_ptr() };
                // SAFETY: a live engine and NUL-terminated strings (or NULL context).
                i64::from(unsafe {
                    authorize(std::hint::black_box(engine), f[1].as_ptr(), f[2].as_ptr(), f[3].as_ptr(), context)
                })
            },
            &mut checksum,
        );
        println!("round {round}: {d:.1} ns/call direct, {l:.1} live, {c:.1} c-abi");
        direct.push(d);
        through_live.push(l);
        c_abi.push(c);
    }
    let mut vs_direct: Vec<f64> = c_abi.iter().zip(&direct).map(|(c, d)| c - d).collect();
    let mut vs_live: Vec<f64> = c_abi.iter().zip(&through_live).map(|(c, l)| c - l).collect();
    println!(
        "median ns/call: direct {:.1}, live {:.1}, c-abi {:.1}",
        median(&mut direct),
        median(&mut through_live),
        median(&mut c_abi)
    );
    println!(
        "added by the C ABI (median of per-round differences): {:.1} ns/call against a snapshot held directly, {:.1} ns/call against Live::current()",
        median(&mut vs_direct),
        median(&mut vs_live)
    );
    println!("checksum {checksum}");
    // SAFETY: the engine from keycard_engine_open, freed once.
    unsafe { free(engine) };
}

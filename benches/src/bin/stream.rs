//! The stream benchmark: per-decision latency over a shuffled stream of distinct requests by
//! every principal of a shape (see [`keycard_benches::stream`]), next to the one-request-repeated
//! figure; the process's memory after loading the store; load + compile time.
//!
//! ```text
//! stream prepare SHAPE DIR [LEN]   # writes DIR/store/account.json and DIR/stream.tsv
//! stream run SHAPE DIR             # a fresh process: load, compile, check, time; prints a table
//!                                  # and one JSON line (prefixed "json ")
//! ```
//!
//! `prepare` decides every request of the stream with the reference evaluator and with the
//! compiled snapshot, with and without the request's context, and stops on any disagreement;
//! the TSV carries the expected decisions (as `keycard_authorize` codes) so that `run` and the C
//! program (`ffi/bench/stream.c`) check every decision before timing. `run` measures the memory
//! in a process that has done nothing but load the store from its file.
//!
//! Environment: `KEYCARD_STREAM_PASSES` (timed passes over the stream, default 5),
//! `KEYCARD_STREAM_REFERENCE` (requests timed with the reference evaluator, default 2000),
//! `KEYCARD_STREAM_CEDAR` (requests timed with cedar on the principal's slice, default 300),
//! `KEYCARD_STREAM_ONLY_REPEATED` (N > 0: after the checks, time only the one-request-repeated
//! loop, N times over; for a profile of the fixed per-decision costs).

use keycard::{Decision, Request, Snapshot, Store};
use keycard_benches::cedar::{self, Translation};
use keycard_benches::stats::{quantile, timer_overhead};
use keycard_benches::stream::{self, context_json};
use keycard_benches::{Model, Shape};
use std::collections::HashMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// `keycard_authorize`'s code for a decision.
fn code(d: Decision) -> i32 {
    match d {
        Decision::Allowed => 1,
        Decision::ImplicitDeny => 0,
        Decision::ExplicitDeny => 2,
    }
}

/// `VmRSS` and `VmHWM` of this process, bytes.
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn shape(name: &str) -> Shape {
    Shape::by_name(name).unwrap_or_else(|| panic!("unknown shape {name:?} (small, medium, large)"))
}

struct Row {
    principal: String,
    action: String,
    resource: String,
    context: Option<String>,
    expected: i32,
    expected_bare: i32,
}

fn read_rows(dir: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(dir.join("stream.tsv")).unwrap_or_else(|e| panic!("stream.tsv: {e}"));
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 6, "stream.tsv: {l}");
            Row {
                principal: f[0].into(),
                action: f[1].into(),
                resource: f[2].into(),
                context: (f[3] != "-").then(|| f[3].to_owned()),
                expected: f[4].parse().unwrap_or(-99),
                expected_bare: f[5].parse().unwrap_or(-99),
            }
        })
        .collect()
}

fn request(r: &Row, with_context: bool) -> Request {
    let req = Request::new(&r.principal, &r.action, &r.resource).unwrap_or_else(|e| panic!("{}: {e}", r.resource));
    match (&r.context, with_context) {
        (Some(c), true) => req.with_context_json(c).unwrap_or_else(|e| panic!("{c}: {e}")),
        _ => req,
    }
}

fn prepare(shape: Shape, dir: &Path, len: usize) {
    let model = Model::generate(shape);
    let store_dir = dir.join("store");
    std::fs::create_dir_all(&store_dir).unwrap_or_else(|e| panic!("{}: {e}", store_dir.display()));
    let docs = model.documents_text();
    for (name, text) in &docs {
        std::fs::write(store_dir.join(name), text).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    let snapshot = Snapshot::new(Store::from_documents(docs).unwrap_or_else(|e| panic!("{e}")));
    let probes = stream::generate(&model, len, 0);
    let mut out = String::from("# principal\taction\tresource\tcontext\texpected\texpected_without_context\n");
    let mut tally: HashMap<Decision, usize> = HashMap::new();
    for p in &probes {
        let ctx = context_json(p);
        let row = Row {
            principal: format!("arn:aws:iam::{}:user/{}", keycard_benches::gen::ACCOUNT, p.user),
            action: p.action.clone(),
            resource: p.resource.clone(),
            context: (!ctx.is_empty()).then_some(ctx),
            expected: 0,
            expected_bare: 0,
        };
        let mut expected = [0; 2];
        for (k, with_context) in [true, false].into_iter().enumerate() {
            let req = request(&row, with_context);
            let reference = keycard::reference::authorize(snapshot.store(), &req).decision();
            let compiled = snapshot.decide(&req);
            assert_eq!(
                compiled,
                reference,
                "compiled and reference disagree (context: {with_context}) on {}",
                p.to_json()
            );
            expected[k] = code(reference);
            if with_context {
                *tally.entry(reference).or_default() += 1;
            }
        }
        out.push_str(&format!(
            "{}\t{}\t{}\t{}\t{}\t{}\n",
            row.principal,
            row.action,
            row.resource,
            row.context.as_deref().unwrap_or("-"),
            expected[0],
            expected[1]
        ));
    }
    std::fs::write(dir.join("stream.tsv"), out).unwrap_or_else(|e| panic!("stream.tsv: {e}"));
    println!(
        "{}: {} requests over {} users; compiled == reference on every one (with and without context); decisions {tally:?}",
        shape.name,
        probes.len(),
        shape.users
    );
}

/// Median and p99 of per-call times, ns.
fn percentiles(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    (quantile(&v, 0.5), quantile(&v, 0.99))
}

/// Times `f` on each item, call by call, `passes` times over the items.
fn time_each<T>(items: &[T], passes: usize, overhead: f64, mut f: impl FnMut(&T) -> Decision) -> Vec<f64> {
    let mut v = Vec::with_capacity(items.len() * passes);
    for _ in 0..passes {
        for it in items {
            let t = Instant::now();
            black_box(f(black_box(it)));
            v.push((t.elapsed().as_nanos() as f64 - overhead).max(0.0));
        }
    }
    v
}

/// As [`time_each`], on a copy of each item made (untimed) just before its call.
fn time_fresh<T: Clone>(items: &[T], passes: usize, overhead: f64, mut f: impl FnMut(&T) -> Decision) -> Vec<f64> {
    let mut v = Vec::with_capacity(items.len() * passes);
    for _ in 0..passes {
        for it in items {
            let copy = black_box(it.clone());
            let t = Instant::now();
            black_box(f(black_box(&copy)));
            v.push((t.elapsed().as_nanos() as f64 - overhead).max(0.0));
        }
    }
    v
}

fn run(shape: Shape, dir: &Path) {
    let (rss_start, _) = rss();
    let t = Instant::now();
    let store = Store::load(dir.join("store")).unwrap_or_else(|e| panic!("{e}"));
    let load = t.elapsed();
    let t = Instant::now();
    let snapshot = Snapshot::new(store);
    let compile = t.elapsed();
    let (rss_loaded, hwm_loaded) = rss();
    let statements = snapshot.store().stats().statements;

    let rows = read_rows(dir);
    let requests: Vec<Request> = rows.iter().map(|r| request(r, true)).collect();
    let bare: Vec<Request> = rows.iter().map(|r| request(r, false)).collect();
    for ((r, req), b) in rows.iter().zip(&requests).zip(&bare) {
        assert_eq!(code(snapshot.decide(req)), r.expected, "compiled on {} {} {}", r.principal, r.action, r.resource);
        assert_eq!(code(snapshot.decide(b)), r.expected_bare, "compiled (no context) on {}", r.resource);
    }
    let overhead = timer_overhead();
    let only_repeated = env_num("KEYCARD_STREAM_ONLY_REPEATED", 0);
    if only_repeated > 0 {
        let mut repeated = Vec::new();
        for _ in 0..only_repeated {
            for r in requests.iter().take(200) {
                repeated.extend(time_each(std::slice::from_ref(r), 200, overhead, |r| snapshot.decide(r)));
            }
        }
        let (p50, p99) = percentiles(repeated);
        println!(
            "{}: one request repeated, {only_repeated} times over: median {p50:.0} ns, p99 {p99:.0} ns",
            shape.name
        );
        return;
    }
    let passes = env_num("KEYCARD_STREAM_PASSES", 5);
    let (compiled_p50, compiled_p99) = percentiles(time_each(&requests, passes, overhead, |r| snapshot.decide(r)));
    let (bare_p50, bare_p99) = percentiles(time_each(&bare, passes, overhead, |r| snapshot.decide(r)));
    // The same stream, each request copied just before it is decided (untimed), as a server
    // decides a request it has just parsed: the request's own strings and context are then in
    // cache, and only the store's and the index's lines are cold.
    let (fresh_p50, fresh_p99) = percentiles(time_fresh(&requests, passes, overhead, |r| snapshot.decide(r)));
    // One request asked again and again: each of the first 200 requests 200 times in a row.
    let mut repeated = Vec::new();
    for r in requests.iter().take(200) {
        repeated.extend(time_each(std::slice::from_ref(r), 200, overhead, |r| snapshot.decide(r)));
    }
    let (repeated_p50, _) = percentiles(repeated);
    let n_ref = env_num("KEYCARD_STREAM_REFERENCE", 2000).min(requests.len());
    let (reference_p50, reference_p99) = percentiles(time_each(&requests[..n_ref], 1, overhead, |r| {
        keycard::reference::authorize(snapshot.store(), r).decision()
    }));

    // Cedar on the principal's slice, for a sample of the stream (one slice per distinct user).
    let n_cedar = env_num("KEYCARD_STREAM_CEDAR", 300).min(requests.len());
    let (cedar_p50, cedar_p99) = if n_cedar > 0 {
        let model = Model::generate(shape);
        let probes = stream::generate(&model, rows.len(), 0);
        let translation = Translation::new(&model);
        let resources: Vec<String> = probes.iter().take(n_cedar).map(|p| p.resource.clone()).collect();
        let entities = cedar::entities(&model, &resources);
        let authorizer = cedar_policy::Authorizer::new();
        let by_name: HashMap<&str, usize> = model.users.iter().enumerate().map(|(i, u)| (u.name.as_str(), i)).collect();
        let sample: Vec<(cedar_policy::Request, cedar_policy::PolicySet, i32)> = probes
            .iter()
            .zip(&rows)
            .take(n_cedar)
            .map(|(p, r)| {
                let user = by_name[p.user.as_str()];
                (p.to_cedar(), cedar::policy_set(&translation.slice_text(&model, user)), r.expected)
            })
            .collect();
        for (req, set, expected) in &sample {
            let (d, errors) = cedar::decide_checked(&authorizer, req, set, &entities);
            assert!(errors.is_empty(), "cedar errors {errors:?}");
            assert_eq!(code(d), *expected, "cedar_sliced disagrees on {req:?}");
        }
        percentiles(time_each(&sample, 3, overhead, |(req, set, _)| cedar::decide(&authorizer, req, set, &entities)))
    } else {
        (f64::NAN, f64::NAN)
    };

    let per_stmt = |b: u64| b as f64 / statements as f64;
    println!(
        "{}: {} statements, {} requests ({} passes), timer overhead {overhead:.0} ns subtracted",
        shape.name,
        statements,
        requests.len(),
        passes
    );
    println!("  load {:.0} ms + compile {:.0} ms = {:.0} ms", ms(load), ms(compile), ms(load) + ms(compile));
    println!(
        "  RSS after load {:.1} MB ({:.0} B/statement; {:.0} B/statement above the {:.1} MB before loading), peak {:.1} MB",
        rss_loaded as f64 / 1e6,
        per_stmt(rss_loaded),
        per_stmt(rss_loaded.saturating_sub(rss_start)),
        rss_start as f64 / 1e6,
        hwm_loaded as f64 / 1e6
    );
    println!("  {:<34} {:>10} {:>10}", "ns/decision", "median", "p99");
    println!("  {:<34} {:>10.0} {:>10.0}", "compiled, stream", compiled_p50, compiled_p99);
    println!("  {:<34} {:>10.0} {:>10.0}", "compiled, stream, no context", bare_p50, bare_p99);
    println!("  {:<34} {:>10.0} {:>10.0}", "compiled, stream, request just built", fresh_p50, fresh_p99);
    println!("  {:<34} {:>10.0} {:>10}", "compiled, one request repeated", repeated_p50, "");
    println!("  {:<34} {:>10.0} {:>10.0}", format!("reference, first {n_ref}"), reference_p50, reference_p99);
    println!("  {:<34} {:>10.0} {:>10.0}", format!("cedar_sliced, first {n_cedar}"), cedar_p50, cedar_p99);
    println!("  cedar_sliced / compiled (medians): {:.0}x", cedar_p50 / compiled_p50);
    println!(
        "json {}",
        serde_json::json!({
            "shape": shape.name, "statements": statements, "requests": requests.len(),
            "load_ms": ms(load), "compile_ms": ms(compile),
            "rss_start": rss_start, "rss_loaded": rss_loaded, "hwm_loaded": hwm_loaded,
            "compiled_p50": compiled_p50, "compiled_p99": compiled_p99,
            "bare_p50": bare_p50, "bare_p99": bare_p99, "repeated_p50": repeated_p50,
            "fresh_p50": fresh_p50, "fresh_p99": fresh_p99,
            "reference_p50": reference_p50, "reference_p99": reference_p99,
            "cedar_sliced_p50": cedar_p50, "cedar_sliced_p99": cedar_p99,
        })
    );
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: stream prepare SHAPE DIR [LEN] | stream run SHAPE DIR";
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [_, "prepare", s, dir, rest @ ..] => {
            let len = rest.first().and_then(|n| n.parse().ok()).unwrap_or(stream::DEFAULT_LEN);
            prepare(shape(s), &PathBuf::from(dir), len);
        }
        [_, "run", s, dir] => run(shape(s), &PathBuf::from(dir)),
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    }
}

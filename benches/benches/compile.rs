//! Compile time and memory of a store (the large one unless `KEYCARD_COMPILE_SHAPE` says):
//! - memory: bytes retained (allocated and not freed) by `Store::from_documents` and by
//!   `Snapshot::new`, counted by allocation-counter's counting global allocator, divided by the
//!   store's statements; written to `$CARGO_TARGET_DIR/keycard-bench/compile.json`;
//! - time (criterion): `Store::from_documents` + `Snapshot::new` from the JSON text, and
//!   `Snapshot::new` alone from a loaded store;
//! - for comparison, Cedar parsing the translated policy set and building its entities (median
//!   of three runs, timed once each: a criterion run of the Cedar parse alone takes minutes).
//!
//! Environment: `KEYCARD_COMPILE_SHAPE` (default `large`), `KEYCARD_BENCH_SECS` (default 10).

use criterion::{BatchSize, Criterion};
use keycard::{Snapshot, Store};
use keycard_benches::cedar::{self, Translation};
use keycard_benches::{out_dir, Model, Shape};
use std::hint::black_box;
use std::time::{Duration, Instant};

fn shape() -> Shape {
    let name = std::env::var("KEYCARD_COMPILE_SHAPE").unwrap_or_else(|_| "large".into());
    Shape::by_name(&name).unwrap_or_else(|| panic!("unknown shape {name:?}"))
}

fn load(docs: &[(String, String)]) -> Store {
    Store::from_documents(docs.iter().map(|(n, t)| (n.as_str(), t.as_str()))).unwrap_or_else(|e| panic!("{e}"))
}

fn median_of_3(mut f: impl FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..3)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e9
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[1]
}

/// Bytes retained by loading and by compiling, per statement; Cedar's setup times.
fn memory(shape: Shape, model: &Model, docs: &[(String, String)]) {
    let mut store = None;
    let loaded = allocation_counter::measure(|| store = Some(load(docs)));
    let store = store.unwrap_or_else(|| unreachable!());
    let statements = store.stats().statements;
    assert_eq!(statements, shape.statements());
    let mut snapshot = None;
    let compiled = allocation_counter::measure(|| snapshot = Some(Snapshot::new(store)));
    let per = |b: i64| b as f64 / statements as f64;
    println!(
        "memory ({}): {} statements; Store retains {} bytes ({:.0} B/statement, peak {} bytes during load); \
         Snapshot::new adds {} bytes ({:.0} B/statement, {} allocations); snapshot total {:.0} B/statement",
        shape.name,
        statements,
        loaded.bytes_current,
        per(loaded.bytes_current),
        loaded.bytes_max,
        compiled.bytes_current,
        per(compiled.bytes_current),
        compiled.count_total,
        per(loaded.bytes_current + compiled.bytes_current),
    );
    drop(snapshot);
    let text = Translation::new(model).full_text();
    let cedar_parse_ns = median_of_3(|| drop(black_box(cedar::policy_set(&text))));
    let cedar_entities_ns = median_of_3(|| drop(black_box(cedar::entities(model, &[]))));
    println!(
        "cedar ({}): parse the policy set {:.2} s, build the entities {:.3} s (median of 3)",
        shape.name,
        cedar_parse_ns / 1e9,
        cedar_entities_ns / 1e9
    );
    let json = serde_json::json!({
        "shape": shape.name,
        "statements": statements,
        "store_bytes": loaded.bytes_current,
        "store_peak_bytes": loaded.bytes_max,
        "index_bytes": compiled.bytes_current,
        "index_allocations": compiled.count_total,
        "store_bytes_per_statement": per(loaded.bytes_current),
        "index_bytes_per_statement": per(compiled.bytes_current),
        "snapshot_bytes_per_statement": per(loaded.bytes_current + compiled.bytes_current),
        "cedar_policy_set_ns": cedar_parse_ns,
        "cedar_entities_ns": cedar_entities_ns,
    });
    let dir = out_dir();
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    std::fs::write(dir.join("compile.json"), json.to_string()).unwrap_or_else(|e| panic!("{e}"));
}

fn main() {
    let shape = shape();
    let secs = std::env::var("KEYCARD_BENCH_SECS").ok().and_then(|v| v.parse().ok()).unwrap_or(10);
    let model = Model::generate(shape);
    let docs = model.documents_text();
    println!(
        "{}: {} bytes of JSON, {} statements",
        shape.name,
        docs.iter().map(|(_, t)| t.len()).sum::<usize>(),
        shape.statements()
    );
    memory(shape, &model, &docs);

    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group(format!("compile_{}", shape.name));
    g.sample_size(10).measurement_time(Duration::from_secs(secs)).warm_up_time(Duration::from_secs(1));
    // Dropping a snapshot is not compiling it: both functions keep the drop out of the timing.
    g.bench_function("load_and_compile", |b| b.iter_with_large_drop(|| Snapshot::new(load(black_box(&docs)))));
    let store = load(&docs);
    g.bench_function("snapshot_new", |b| {
        b.iter_batched(|| store.clone(), |s| Snapshot::new(black_box(s)), BatchSize::PerIteration)
    });
    g.finish();
    c.final_summary();
}

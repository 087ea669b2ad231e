//! Decision latency: for each shape and each request kind, ONE criterion group with keycard's
//! reference evaluator, keycard's compiled snapshot, Cedar on the account's full policy set, and
//! Cedar on the bench user's slice. Every engine's decision is asserted before timing; setup
//! (generation, loading, compiling, translating) is outside the timed closures.
//!
//! Environment: `KEYCARD_BENCH_SHAPES` (default all three), `KEYCARD_BENCH_SECS` (measurement
//! time per function, default 3), `KEYCARD_BENCH_SAMPLES` (default 30).

use criterion::{criterion_group, criterion_main, Criterion};
use keycard_benches::{Engine, Fixture, Kind, Shape};
use std::hint::black_box;
use std::time::Duration;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn authorize(c: &mut Criterion) {
    let secs = env_num("KEYCARD_BENCH_SECS", 3);
    let samples = usize::try_from(env_num("KEYCARD_BENCH_SAMPLES", 30)).unwrap_or(30).max(10);
    for shape in Shape::from_env() {
        let fx = Fixture::new(shape); // asserts every engine's decision on every request
        for kind in Kind::ALL {
            let r = fx.request(kind);
            for engine in Engine::ALL {
                assert_eq!(fx.decide(engine, r), r.expected, "{} / {} / {}", shape.name, kind.name(), engine.name());
            }
            let mut g = c.benchmark_group(format!("{}_{}", shape.name, kind.name()));
            g.measurement_time(Duration::from_secs(secs)).warm_up_time(Duration::from_secs(1)).sample_size(samples);
            g.bench_function("reference", |b| b.iter(|| fx.reference(black_box(&r.keycard))));
            g.bench_function("compiled", |b| b.iter(|| fx.compiled(black_box(&r.keycard))));
            g.bench_function("cedar", |b| b.iter(|| fx.cedar(black_box(&r.cedar))));
            g.bench_function("cedar_sliced", |b| b.iter(|| fx.cedar_sliced(black_box(&r.cedar))));
            g.finish();
        }
    }
}

criterion_group!(benches, authorize);
criterion_main!(benches);

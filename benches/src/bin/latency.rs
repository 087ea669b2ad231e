//! Per-call latency (median, p99, p99.9) of every engine on every benchmark request, timed call
//! by call, for the p99 column of BENCHMARKS.md (criterion gives medians of batch means only).
//!
//! Environment: `KEYCARD_BENCH_SHAPES` (default `small,medium,large`), `KEYCARD_LATENCY_MS`
//! (time budget per shape/kind/engine, default 1000), `KEYCARD_LATENCY_SAMPLES` (at most this many
//! calls per cell, default 200000). Writes `$CARGO_TARGET_DIR/keycard-bench/latency.json` and
//! `shapes.json`.

use keycard_benches::stats::{human, measure, timer_overhead};
use keycard_benches::{out_dir, Engine, Fixture, Kind, Shape};
use serde_json::json;
use std::time::Duration;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() {
    let budget = Duration::from_millis(env_num("KEYCARD_LATENCY_MS", 1000));
    let max_samples = usize::try_from(env_num("KEYCARD_LATENCY_SAMPLES", 200_000)).unwrap_or(200_000);
    let overhead = timer_overhead();
    println!("timer overhead (subtracted): {overhead:.0} ns; budget {budget:?} per cell, at most {max_samples} calls");
    let dir = out_dir();
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut cells = serde_json::Map::new();
    let mut shapes = serde_json::Map::new();
    for shape in Shape::from_env() {
        let fx = Fixture::new(shape);
        let m = fx.mix;
        println!(
            "\n{}: {} policies, {} statements ({} with conditions, {} wildcard actions, {} Deny, {} with variables, {} NotAction); \
             {} statements can apply to the bench user; cedar: {} policies ({} in the bench user's slice)",
            shape.name,
            m.policies,
            m.statements,
            m.with_conditions,
            m.wildcard_actions,
            m.deny,
            m.with_variables,
            m.not_action,
            m.per_user,
            fx.cedar_policies,
            fx.cedar_slice_policies
        );
        println!(
            "  setup: generate {:?}, load {:?}, Snapshot::new {:?}, cedar translate+parse {:?}",
            fx.times.generate, fx.times.load, fx.times.compile, fx.times.cedar
        );
        shapes.insert(
            shape.name.into(),
            json!({
                "users": shape.users,
                "groups": shape.groups,
                "managed": shape.managed,
                "groups_per_user": shape.groups_per_user,
                "managed_per_user": shape.managed_per_user,
                "policies": m.policies,
                "statements": m.statements,
                "with_conditions": m.with_conditions,
                "wildcard_actions": m.wildcard_actions,
                "deny": m.deny,
                "with_variables": m.with_variables,
                "not_action": m.not_action,
                "per_user": m.per_user,
                "cedar_policies": fx.cedar_policies,
                "cedar_slice_policies": fx.cedar_slice_policies,
                "load_ms": fx.times.load.as_secs_f64() * 1e3,
                "compile_ms": fx.times.compile.as_secs_f64() * 1e3,
                "cedar_setup_ms": fx.times.cedar.as_secs_f64() * 1e3,
            }),
        );
        println!("  {:<14} {:<13} {:>10} {:>10} {:>10} {:>9}", "kind", "engine", "p50", "p99", "p99.9", "calls");
        for kind in Kind::ALL {
            let r = fx.request(kind);
            for engine in Engine::ALL {
                let l = match engine {
                    Engine::Reference => measure(|| fx.reference(&r.keycard), budget, max_samples, overhead),
                    Engine::Compiled => measure(|| fx.compiled(&r.keycard), budget, max_samples, overhead),
                    Engine::Cedar => measure(|| fx.cedar(&r.cedar), budget, max_samples, overhead),
                    Engine::CedarSliced => measure(|| fx.cedar_sliced(&r.cedar), budget, max_samples, overhead),
                };
                println!(
                    "  {:<14} {:<13} {:>10} {:>10} {:>10} {:>9}",
                    kind.name(),
                    engine.name(),
                    human(l.p50_ns),
                    human(l.p99_ns),
                    human(l.p999_ns),
                    l.samples
                );
                cells.insert(
                    format!("{}/{}/{}", shape.name, kind.name(), engine.name()),
                    json!({"samples": l.samples, "p50_ns": l.p50_ns, "p99_ns": l.p99_ns, "p999_ns": l.p999_ns,
                           "mean_ns": l.mean_ns, "overhead_ns": l.overhead_ns}),
                );
            }
        }
    }
    merge(&dir.join("latency.json"), cells);
    merge(&dir.join("shapes.json"), shapes);
}

/// Writes `entries` into the JSON object in `path`, keeping entries of shapes not run this time.
fn merge(path: &std::path::Path, entries: serde_json::Map<String, serde_json::Value>) {
    let mut all: serde_json::Map<String, serde_json::Value> =
        std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default();
    all.extend(entries);
    let text = serde_json::to_string_pretty(&serde_json::Value::Object(all)).unwrap_or_default();
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

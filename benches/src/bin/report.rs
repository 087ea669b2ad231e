//! Prints the markdown tables of BENCHMARKS.md from the last run's outputs: criterion's medians
//! (`$CARGO_TARGET_DIR/criterion/<shape>_<kind>/<engine>/new/estimates.json`), the per-call
//! percentiles of the `latency` binary, the shapes' mix and the memory figures of the `compile`
//! bench (`$CARGO_TARGET_DIR/keycard-bench/*.json`). A missing figure prints as `–`.

use keycard_benches::stats::human;
use keycard_benches::{out_dir, Engine, Kind, Shape};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn read(path: &Path) -> Value {
    std::fs::read_to_string(path).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(Value::Null)
}

fn num(v: &Value, pointer: &str) -> f64 {
    v.pointer(pointer).and_then(|x| x.as_f64().or_else(|| x.as_str().and_then(|s| s.parse().ok()))).unwrap_or(f64::NAN)
}

fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return home.into();
    }
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| PathBuf::from("target"), Into::into);
    target.join("criterion")
}

/// Criterion's median for a group/function, ns.
fn median(group: &str, function: &str) -> f64 {
    num(&read(&criterion_dir().join(group).join(function).join("new/estimates.json")), "/median/point_estimate")
}

fn ratio(a: f64, b: f64) -> String {
    if a.is_finite() && b.is_finite() && b > 0.0 {
        let r = a / b;
        if r >= 10.0 {
            format!("{r:.0}×")
        } else {
            format!("{r:.1}×")
        }
    } else {
        "–".into()
    }
}

fn main() {
    let dir = out_dir();
    let latency = read(&dir.join("latency.json"));
    let shapes = read(&dir.join("shapes.json"));
    let memory = read(&dir.join("compile.json"));

    println!("### Shapes\n");
    println!("| shape | users | groups | managed policies | policies | statements | with conditions | wildcard actions | Deny | with `${{aws:username}}` | NotAction | statements per user | Cedar policies (full / user's slice) |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for shape in Shape::ALL {
        let s = &shapes[shape.name];
        if s.is_null() {
            continue;
        }
        let n = |k: &str| num(s, &format!("/{k}"));
        let pct = |k: &str| format!("{} ({:.0}%)", n(k), 100.0 * n(k) / n("statements"));
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} / {} |",
            shape.name,
            n("users"),
            n("groups"),
            n("managed"),
            n("policies"),
            n("statements"),
            pct("with_conditions"),
            pct("wildcard_actions"),
            pct("deny"),
            n("with_variables"),
            n("not_action"),
            n("per_user"),
            n("cedar_policies"),
            n("cedar_slice_policies"),
        );
    }

    let lat =
        |shape: &str, kind: &str, engine: &str, q: &str| num(&latency, &format!("/{shape}~1{kind}~1{engine}/{q}"));
    println!("\n### Decisions: per-call latency\n");
    println!("Each call timed on its own (`latency` binary, timer overhead subtracted); speed-ups are ratios of medians (other engine ÷ compiled).\n");
    println!("| shape | request | reference p50 / p99 | compiled p50 / p99 | cedar p50 / p99 | cedar sliced p50 / p99 | reference ÷ compiled | cedar ÷ compiled | cedar sliced ÷ compiled |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for shape in Shape::ALL {
        for kind in Kind::ALL {
            let p50: Vec<f64> = Engine::ALL.iter().map(|e| lat(shape.name, kind.name(), e.name(), "p50_ns")).collect();
            if p50.iter().all(|m| m.is_nan()) {
                continue;
            }
            let p99: Vec<f64> = Engine::ALL.iter().map(|e| lat(shape.name, kind.name(), e.name(), "p99_ns")).collect();
            let cell = |i: usize| format!("{} / {}", human(p50[i]), human(p99[i]));
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                shape.name,
                kind.name(),
                cell(0),
                cell(1),
                cell(2),
                cell(3),
                ratio(p50[0], p50[1]),
                ratio(p50[2], p50[1]),
                ratio(p50[3], p50[1]),
            );
        }
    }

    println!("\n### Decisions: criterion medians\n");
    println!("| shape | request | reference | compiled | cedar | cedar sliced | reference ÷ compiled | cedar ÷ compiled | cedar sliced ÷ compiled |");
    println!("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for shape in Shape::ALL {
        for kind in Kind::ALL {
            let group = format!("{}_{}", shape.name, kind.name());
            let med: Vec<f64> = Engine::ALL.iter().map(|e| median(&group, e.name())).collect();
            if med.iter().all(|m| m.is_nan()) {
                continue;
            }
            println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                shape.name,
                kind.name(),
                human(med[0]),
                human(med[1]),
                human(med[2]),
                human(med[3]),
                ratio(med[0], med[1]),
                ratio(med[2], med[1]),
                ratio(med[3], med[1]),
            );
        }
    }

    // Issue 3's targets, on the large store: the worst request kind for each.
    let worst = |f: &dyn Fn(Kind) -> f64, max: bool| {
        let v = Kind::ALL.iter().map(|&k| f(k)).filter(|x| x.is_finite());
        if max {
            v.fold(f64::NAN, f64::max)
        } else {
            v.fold(f64::NAN, f64::min)
        }
    };
    let crit = |k: Kind, e: Engine| median(&format!("large_{}", k.name()), e.name());
    let med_compiled = worst(&|k| crit(k, Engine::Compiled), true);
    let p99_compiled = worst(&|k| lat("large", k.name(), "compiled", "p99_ns"), true);
    let vs_ref = worst(&|k| crit(k, Engine::Reference) / crit(k, Engine::Compiled), false);
    let vs_cedar = worst(&|k| crit(k, Engine::Cedar) / crit(k, Engine::Compiled), false);
    let vs_sliced = worst(&|k| crit(k, Engine::CedarSliced) / crit(k, Engine::Compiled), false);
    let shape_c = memory["shape"].as_str().unwrap_or("large");
    let compile_ns = median(&format!("compile_{shape_c}"), "load_and_compile");
    let per_stmt = num(&memory, "/snapshot_bytes_per_statement");
    let met = |ok: bool| if ok { "met" } else { "**missed**" };
    println!("\n### Targets (issue 3, large store; worst request kind)\n");
    println!("| target | measured | |");
    println!("| --- | ---: | --- |");
    println!("| median decision ≤ 200 ns | {} | {} |", human(med_compiled), met(med_compiled <= 200.0));
    println!("| p99 decision ≤ 1 µs | {} | {} |", human(p99_compiled), met(p99_compiled <= 1_000.0));
    println!("| ≥ 50× faster than the reference evaluator | {} | {} |", ratio(vs_ref, 1.0), met(vs_ref >= 50.0));
    println!("| ≥ 10× faster than cedar (full policy set) | {} | {} |", ratio(vs_cedar, 1.0), met(vs_cedar >= 10.0));
    println!(
        "| ≥ 10× faster than cedar (principal's slice) | {} | {} |",
        ratio(vs_sliced, 1.0),
        met(vs_sliced >= 10.0)
    );
    println!("| compile the large store < 1 s (load + compile) | {} | {} |", human(compile_ns), met(compile_ns < 1e9));
    println!("| < 300 bytes per statement (whole snapshot) | {per_stmt:.0} | {} |", met(per_stmt < 300.0));

    let shape = memory["shape"].as_str().unwrap_or("large");
    let group = format!("compile_{shape}");
    println!("\n### Compile time and memory ({shape} store)\n");
    println!("| measure | value |");
    println!("| --- | ---: |");
    println!("| `Store::from_documents` + `Snapshot::new` (median) | {} |", human(median(&group, "load_and_compile")));
    println!("| `Snapshot::new` alone (median) | {} |", human(median(&group, "snapshot_new")));
    println!(
        "| Cedar: parse the translated policy set (median of 3) | {} |",
        human(num(&memory, "/cedar_policy_set_ns"))
    );
    println!("| Cedar: build the entities (median of 3) | {} |", human(num(&memory, "/cedar_entities_ns")));
    println!(
        "| bytes retained by the loaded `Store`, per statement | {:.0} |",
        num(&memory, "/store_bytes_per_statement")
    );
    println!(
        "| bytes added by `Snapshot::new` (the index), per statement | {:.0} |",
        num(&memory, "/index_bytes_per_statement")
    );
    println!(
        "| bytes retained by the `Snapshot` in all, per statement | {:.0} |",
        num(&memory, "/snapshot_bytes_per_statement")
    );
}

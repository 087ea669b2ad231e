//! The analyses of `keycard::analysis` on a generated store (default: the `large` shape, 10,000
//! users): `who-can` for a few questions, `access` for the bench user and sampled users, the
//! whole-store `escalation` graph, and `generate-policy` over a generated decision log of
//! 1,000,000 lines (written to a temporary file, read back streaming). Prints a markdown table.
//!
//!     cargo run --release --bin analysis [-- SHAPE [LOG_LINES [ONLY]]]
//!
//! `SHAPE` is `small`, `medium`, `large`, or `medium/N`: the medium shape scaled to N users (its
//! groups and managed policies scaled alike), for tools too slow for the larger stores.
//! `ONLY` (`who-can,access,escalation,generate`, comma-separated) runs only those analyses.
//! With `KEYCARD_ANALYSIS_DUMP=DIR` every answer is also written there as JSON, to compare two
//! builds' answers byte for byte.
//!
//! It also writes the store as one `get-account-authorization-details` JSON file
//! (`$KEYCARD_ANALYSIS_EXPORT`, when set), for other tools to load the same store.

use keycard::analysis::{access::access, escalation::escalation, generate, who_can::who_can};
use keycard::{Snapshot, Store};
use keycard_benches::gen::{Model, Rng, Shape, ACCOUNT};
use std::io::{BufWriter, Write};
use std::time::{Duration, Instant};

fn time<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t = Instant::now();
    let v = f();
    (v, t.elapsed())
}

/// Median and maximum of `runs` runs of `f`.
fn stats(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..runs).map(|_| time(&mut f).1).collect();
    times.sort();
    (times[times.len() / 2], times[times.len() - 1])
}

/// Writes the JSON that `json` makes as `$KEYCARD_ANALYSIS_DUMP/name.json` when that is set.
fn dump(name: &str, json: impl FnOnce() -> serde_json::Result<String>) {
    if let Some(dir) = std::env::var_os("KEYCARD_ANALYSIS_DUMP") {
        let path = std::path::Path::new(&dir).join(format!("{name}.json"));
        std::fs::write(path, json().expect("json")).expect("dump");
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Peak resident memory of this process (Linux `VmHWM`), MiB.
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<f64>().ok()))
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// A shape by name, or `medium/N`: the medium shape with N users and its groups and managed
/// policies scaled by N / 1,000 (at least as many as a user is in).
fn shape_by_name(name: &str) -> Option<Shape> {
    if let Some(n) = name.strip_prefix("medium/").and_then(|n| n.parse::<usize>().ok()) {
        let m = Shape::MEDIUM;
        let scale = |x: usize, min: usize| (x * n / m.users).max(min);
        return Some(Shape {
            name: Box::leak(name.to_owned().into_boxed_str()),
            users: n.max(1),
            groups: scale(m.groups, m.groups_per_user),
            managed: scale(m.managed, m.managed_per_user),
            ..m
        });
    }
    Shape::by_name(name)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let shape = args.next().and_then(|s| shape_by_name(&s)).unwrap_or(Shape::LARGE);
    let log_lines: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let only = args.next();
    let run = |name: &str| only.as_deref().is_none_or(|o| o.split(',').any(|x| x == name));
    let model = Model::generate(shape);
    if let Some(path) = std::env::var_os("KEYCARD_ANALYSIS_EXPORT") {
        std::fs::write(&path, model.to_json().to_string()).expect("export");
    }
    let (store, load) = time(|| Store::from_documents(model.documents_text()).expect("generated store loads"));
    let stats_line = store.stats();
    let (snapshot, compile) = time(|| Snapshot::new(store));
    println!(
        "store `{}`: {} principals, {} statements; load {}, compile {}\n",
        shape.name,
        stats_line.principals,
        stats_line.statements,
        ms(load),
        ms(compile)
    );
    println!("| analysis | input | median | max | result |\n|---|---|---|---|---|");

    let questions = [
        ("s3:GetObject", "arn:aws:s3:::bench-reports/2026/q1.csv".to_owned()),
        ("s3:GetObject", "arn:aws:s3:::data-17/report.csv".to_owned()),
        ("dynamodb:GetItem", format!("arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/data-3")),
        ("iam:PassRole", format!("arn:aws:iam::{ACCOUNT}:role/data-5")),
    ];
    for (q, (action, resource)) in questions.iter().enumerate().filter(|_| run("who-can")) {
        let answer = who_can(&snapshot, action, resource, None).expect("who-can");
        dump(&format!("who-can-{q}"), || serde_json::to_string_pretty(&answer));
        let n = answer.principals.len();
        let (median, max) = stats(21, || {
            who_can(&snapshot, action, resource, None).expect("who-can");
        });
        println!("| who-can | `{action}` on `{resource}` | {} | {} | {n} principals |", ms(median), ms(max));
    }

    let bench = model.bench().arn();
    let mut rng = Rng::new(7);
    let mut users: Vec<String> = vec![bench.clone()];
    users.extend((0..20).map(|_| model.users[rng.below(model.users.len())].arn()));
    let mut all = Vec::new();
    let mut rows = 0;
    for (i, u) in users.iter().enumerate().filter(|_| run("access")) {
        let answer = access(&snapshot, u, None).expect("access");
        dump(&format!("access-{i}"), || serde_json::to_string_pretty(&answer));
        rows = rows.max(answer.permissions.len());
        let (median, _) = stats(5, || {
            access(&snapshot, u, None).expect("access");
        });
        all.push(median);
    }
    all.sort();
    if run("access") {
        println!(
            "| access | bench user + 20 sampled users, every service | {} | {} | up to {rows} rows |",
            ms(all[all.len() / 2]),
            ms(all[all.len() - 1])
        );
        dump("access-s3", || serde_json::to_string_pretty(&access(&snapshot, &bench, Some("s3")).expect("access")));
        let (median, max) = stats(21, || {
            access(&snapshot, &bench, Some("s3")).expect("access");
        });
        println!("| access | bench user, `--service s3` | {} | {} | |", ms(median), ms(max));
    }

    if run("escalation") {
        let (e, took) = time(|| escalation(&snapshot, None).expect("escalation"));
        dump("escalation", || serde_json::to_string_pretty(&e));
        dump("escalation-dot", || serde_json::to_string_pretty(&e.to_dot()));
        println!(
            "| escalation | whole store | {} | | {} admins, {} edges, {} paths |",
            ms(took),
            e.admins.len(),
            e.edges.len(),
            e.paths.len()
        );
    }
    if !run("generate") {
        return;
    }

    // A decision log of `log_lines` lines: users, actions and resources drawn from the model.
    let path = std::env::temp_dir().join(format!("keycard-analysis-{}.jsonl", std::process::id()));
    {
        let mut out = BufWriter::new(std::fs::File::create(&path).expect("log file"));
        let actions = keycard_benches::gen::vocabulary_actions();
        for i in 0..log_lines {
            let user = if i % 10 == 0 { &bench } else { &users[rng.below(users.len())] };
            let action = &actions[rng.below(actions.len())];
            let service = action.split(':').next().unwrap_or("s3");
            let resource = match service {
                "s3" => format!("arn:aws:s3:::data-{}/obj-{}", rng.below(20), rng.below(200)),
                s => format!("arn:aws:{s}:us-east-1:{ACCOUNT}:data-{}", rng.below(200)),
            };
            let decision = ["allowed", "allowed", "implicitDeny", "explicitDeny"][rng.below(4)];
            writeln!(
                out,
                r#"{{"eventTime":"2026-03-01T10:{:02}:{:02}Z","principal":"{user}","action":"{action}","resource":"{resource}","decision":"{decision}","snapshot":"bench"}}"#,
                i / 60 % 60,
                i % 60
            )
            .expect("write");
        }
    }
    let before = peak_mib();
    let ((summary, policy), took) = time(|| {
        let file = std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(&path).expect("log"));
        let filter = generate::LogFilter { principal: Some(bench.clone()), since: None };
        let summary = generate::read_log(file, &filter).expect("read");
        let policy = generate::generate_policy(&summary, &bench, 5);
        (summary, policy)
    });
    dump("generate", || serde_json::to_string_pretty(&(&policy, summary.lines, summary.malformed, &summary.problems)));
    let statements = policy.as_ref().and_then(|p| p["Statement"].as_array().map(Vec::len)).unwrap_or(0);
    println!(
        "| generate-policy | {} log lines ({:.0} MB), bench user | {} | | {statements} statements; peak RSS {:.0} → {:.0} MiB |",
        summary.lines,
        std::fs::metadata(&path).map(|m| m.len() as f64 / 1e6).unwrap_or(f64::NAN),
        ms(took),
        before,
        peak_mib()
    );
    let (summary, took) = time(|| {
        let file = std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(&path).expect("log"));
        generate::read_log(file, &generate::LogFilter::default()).expect("read")
    });
    let every: Vec<_> =
        summary.principals().map(|p| (p.to_owned(), generate::generate_policy(&summary, p, 5))).collect();
    dump("generate-all", || serde_json::to_string_pretty(&every));
    println!(
        "| generate-policy | same log, every principal kept | {} | | {} principals |",
        ms(took),
        summary.principals().count()
    );
    let _ = std::fs::remove_file(&path);
}

//! Side by side for BENCHMARKS.md ("aho-corasick against the entry probes"): deciding which
//! literal resource prefixes of a candidate run a request's resource starts with, the way the
//! index does it (12-byte entries: the literal's length and its last 4 bytes, the text compared
//! only when those agree) against one `aho-corasick` automaton per run (all prefixes in one
//! overlapping pass over the resource; the crate does not support anchored overlapping searches,
//! so matches starting at 0 are kept).
//!
//! The runs are 10,000 (one per user of the `large` shape) of 15 literal prefixes each, drawn
//! from the shape's own resource patterns; the resources are the `large` stream's; each check
//! takes the next resource and a random run, so both structures are read cold, as on the stream.
//!
//! ```text
//! probes            # prints ns per run check for both, three rounds
//! ```

use aho_corasick::{AhoCorasick, MatchKind};
use keycard_benches::gen::Rng;
use keycard_benches::{stream, Model, Shape};
use std::hint::black_box;
use std::time::Instant;

/// A run as the index lays it out: (length, last 4 bytes, text) per entry.
struct Probes {
    entries: Vec<(u16, u32, u32)>,
    text: Vec<Box<str>>,
}

fn word(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn probe_hits(run: &Probes, resource: &str) -> usize {
    let r = resource.as_bytes();
    let mut hits = 0;
    for (i, &(len, w, _)) in run.entries.iter().enumerate() {
        let len = len as usize;
        if r.len() >= len && word(r, len - 4) == Some(w) && r.starts_with(run.text[i].as_bytes()) {
            hits += 1;
        }
    }
    hits
}

fn ac_hits(ac: &AhoCorasick, resource: &str) -> usize {
    // Anchored overlapping searches are not supported: an unanchored overlapping pass, keeping the
    // matches that start at 0 (the prefixes), is the same answer in one pass.
    ac.find_overlapping_iter(resource).filter(|m| m.start() == 0).count()
}

fn main() {
    let model = Model::generate(Shape::LARGE);
    let mut literals: Vec<String> = Vec::new();
    for s in model
        .managed
        .iter()
        .flat_map(|m| &m.doc.statements)
        .chain(model.users.iter().flat_map(|u| &u.inline.statements))
    {
        for r in &s.resources {
            let lit = r.split(['*', '?', '$']).next().unwrap_or_default();
            if lit.len() >= 4 {
                literals.push(lit.to_owned());
            }
        }
    }
    let mut rng = Rng::new(7);
    let runs: Vec<Vec<String>> = (0..10_000).map(|_| (0..15).map(|_| rng.pick(&literals).clone()).collect()).collect();
    let probes: Vec<Probes> = runs
        .iter()
        .map(|run| Probes {
            entries: run.iter().map(|l| (l.len() as u16, word(l.as_bytes(), l.len() - 4).unwrap_or(0), 0)).collect(),
            text: run.iter().map(|l| l.as_str().into()).collect(),
        })
        .collect();
    let t = Instant::now();
    let automata: Vec<AhoCorasick> = runs
        .iter()
        .map(|run| AhoCorasick::builder().match_kind(MatchKind::Standard).build(run).expect("automaton"))
        .collect();
    let build_ms = t.elapsed().as_secs_f64() * 1e3;
    let ac_bytes: usize = automata.iter().map(AhoCorasick::memory_usage).sum();
    let resources: Vec<String> = stream::generate(&model, 20_000, 0).into_iter().map(|p| p.resource).collect();
    let picks: Vec<usize> = (0..resources.len()).map(|_| rng.below(runs.len())).collect();
    for (r, &k) in resources.iter().zip(&picks) {
        assert_eq!(probe_hits(&probes[k], r), ac_hits(&automata[k], r), "{r}");
    }
    println!(
        "runs: 10,000 of 15 literal prefixes; automata {:.1} MB, built in {build_ms:.0} ms; probes {:.1} MB",
        ac_bytes as f64 / 1e6,
        (10_000 * 15 * 12) as f64 / 1e6
    );
    for round in 1..=3 {
        let t = Instant::now();
        let mut n = 0;
        for (r, &k) in resources.iter().zip(&picks) {
            n += probe_hits(black_box(&probes[k]), r);
        }
        let probe_ns = t.elapsed().as_nanos() as f64 / resources.len() as f64;
        let t = Instant::now();
        let mut m = 0;
        for (r, &k) in resources.iter().zip(&picks) {
            m += ac_hits(black_box(&automata[k]), r);
        }
        let ac_ns = t.elapsed().as_nanos() as f64 / resources.len() as f64;
        assert_eq!(n, m);
        println!("round {round}: probes {probe_ns:.0} ns per run check, aho-corasick {ac_ns:.0} ns ({n} hits)");
    }
}

//! Bundle timings on the large store: `keycard bundle build` (with and without the load check),
//! opening a bundle (gunzip, untar, signature, manifest hashes), and verify + load + compile
//! against loading and compiling the same store from its directory (the README's bundle numbers).
//! Times are the wall clock and this thread's CPU time (`/proc/thread-self/schedstat`), which a
//! busy machine disturbs less.
//!
//! `cargo run --release --bin bundle [DIR]`: the store is generated into `DIR/store/large.json`
//! (default `$TMPDIR/keycard-bundle-bench`) once and reused.

use keycard::bundle::{self, Limits, SigningKey, Trust};
use keycard::{Snapshot, Store};
use keycard_benches::gen::{Model, Shape};
use std::time::{Duration, Instant};

/// This thread's CPU time so far.
fn cpu() -> Duration {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|n| n.parse().ok()))
        .map_or(Duration::ZERO, Duration::from_nanos)
}

/// The minimum wall and CPU times of `runs` calls, and the last result.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let (mut wall, mut thread, mut last) = (Duration::MAX, Duration::MAX, None);
    for _ in 0..runs {
        let (t, c) = (Instant::now(), cpu());
        let v = f();
        thread = thread.min(cpu() - c);
        wall = wall.min(t.elapsed());
        last = Some(v);
    }
    (wall, thread, last.expect("runs > 0"))
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| std::env::temp_dir().join("keycard-bundle-bench"), std::path::PathBuf::from);
    let store = dir.join("store");
    if !store.join("large.json").exists() {
        std::fs::create_dir_all(&store).expect("a store directory");
        let model = Model::generate(Shape::by_name("large").expect("the large shape"));
        std::fs::write(store.join("large.json"), model.to_json().to_string()).expect("the store is written");
    }
    let (key, _) = SigningKey::generate().expect("a key");
    let trust = Trust::keys(vec![key.public().clone()]);
    let runs = 5;
    let (w, c, built) = time(runs, || bundle::build(&store, Some("r1"), Some(&key), true).expect("builds"));
    println!("build (load check, hash, sign, tar, gzip): wall {w:?}, CPU {c:?}; {} bytes", built.bytes.len());
    let (w, c, _) = time(runs, || bundle::build(&store, Some("r1"), Some(&key), false).expect("builds"));
    println!("build --no-check (read, hash, sign, tar, gzip): wall {w:?}, CPU {c:?}");
    let (w, c, _) = time(runs, || bundle::open(&built.bytes, &trust, &Limits::default()).expect("opens"));
    println!("open (gunzip, untar, signature, hashes): wall {w:?}, CPU {c:?}");
    // Interleaved, so that both see the same machine.
    let (mut directory, mut from_bundle) = (Vec::new(), Vec::new());
    for _ in 0..7 {
        let (_, c, s) = time(1, || Snapshot::new(Store::load(&store).expect("loads")));
        directory.push(c);
        drop(s);
        let (_, c, s) = time(1, || {
            let opened = bundle::open(&built.bytes, &trust, &Limits::default()).expect("opens");
            Snapshot::new(opened.into_store().expect("loads").0)
        });
        from_bundle.push(c);
        drop(s);
    }
    directory.sort();
    from_bundle.sort();
    println!(
        "CPU, 7 interleaved runs: directory load + compile min {:?} median {:?}; bundle verify + load + compile min {:?} median {:?}",
        directory[0], directory[3], from_bundle[0], from_bundle[3]
    );
}

//! Side by side for BENCHMARKS.md ("`regex-automata`, `aho-corasick`, `bumpalo`"): where the
//! decision index's statement records should live. `core/src/decide/index.rs` keeps every compiled
//! statement as a record of one flat byte array referenced by a `u32` offset; issue 12 names
//! `bumpalo` for this. This binary lays out the same records four ways and measures each:
//! - `flat`: one `Vec<u8>`, reserved exactly, records appended, referenced by `u32` offset (the index);
//! - `bump`: one `bumpalo::Bump` (sized up front), each record `alloc_slice_copy`'d, referenced by `&[u8]`;
//! - `bump+idx`: the same bump, referenced by a `u32` index into a `Vec<&[u8]>` (a 4-byte reference);
//! - `box`: one `Box<[u8]>` per record from the global allocator, referenced by `&[u8]`.
//!
//! The records are shaped like the `large` shape's statements (~100,000 of them, 7.6 MB in the
//! index): an 8-byte header, 1–4 `u32` ids, 1–3 resource pattern texts of 20–60 bytes, at most
//! 160 bytes in all. Every layout encodes each record into the same scratch buffer and copies it
//! in, so build times differ only by where the bytes go.
//!
//! The read cost is measured over a stream: 1,000,000 seeded random record references per pass,
//! each read decoding the header and comparing one pattern text (chosen by the header) with a
//! probe resource, as a candidate check does. Before each layout's pass the caches are evicted by
//! walking a 64 MB buffer; reads are timed in batches of 64 with `Instant` (ns per read = batch
//! time / 64; the timer's ~20–40 ns per batch is not subtracted); 5 passes, the layouts
//! interleaved pass by pass (order rotated each pass) after one uncounted warm-up pass, medians
//! and p99 over all batches. Builds are timed 8 times, order rotated (the allocator's state after
//! one layout's drop favours the next one otherwise), median.
//!
//! ```text
//! cargo run --release --bin arena    # from benches/; prints the tables and the load average
//! ```

use bumpalo::Bump;
use keycard_benches::gen::Rng;
use keycard_benches::stats::quantile;
use std::hint::black_box;
use std::time::Instant;

const RECORDS: usize = 100_000;
const READS: usize = 1_000_000;
const BATCH: usize = 64;
const PASSES: usize = 5;
const BUILD_ROUNDS: usize = 8;
const EVICT_BYTES: usize = 64 << 20;
const HEAD: usize = 8;
const MAX_RECORD: usize = 160;
/// Probe resources, a power of two (read `i & (PROBES - 1)`).
const PROBES: usize = 4096;
const PROBE_LEN: usize = 80;

// ---- Send / Sync, checked at compile time -------------------------------------------------------

/// Has one item only when exactly one impl applies: `<T as AmbiguousIfSync<_>>::item` compiles
/// iff `T` is not `Sync` (the trick of `static_assertions::assert_not_impl_any`).
trait AmbiguousIfSync<A> {
    fn item() {}
}
impl<T: ?Sized> AmbiguousIfSync<()> for T {}
impl<T: ?Sized + Sync> AmbiguousIfSync<u8> for T {}

/// As [`AmbiguousIfSync`], for `Send`.
trait AmbiguousIfSend<A> {
    fn item() {}
}
impl<T: ?Sized> AmbiguousIfSend<()> for T {}
impl<T: ?Sized + Send> AmbiguousIfSend<u8> for T {}

fn is_send<T: Send>() {}
fn is_send_sync<T: Send + Sync>() {}

/// Compiles only while: `Bump` is `Send` but not `Sync`; `Arc<Bump>` is neither (so it cannot
/// be shared across threads); the flat layout and a `&'static [u8]` are `Send + Sync`.
const _: fn() = || {
    is_send::<Bump>();
    let _ = <Bump as AmbiguousIfSync<_>>::item;
    let _ = <std::sync::Arc<Bump> as AmbiguousIfSend<_>>::item;
    is_send_sync::<std::sync::Arc<Flat>>();
    is_send_sync::<&'static [u8]>();
};

// ---- Records ------------------------------------------------------------------------------------

/// One statement record before encoding.
struct Spec {
    effect: u8,
    class: u8,
    ids: Vec<u32>,
    pats: Vec<String>,
}

const SEGMENTS: [&str; 8] = ["home", "logs", "data", "user-17", "2024", "reports", "tmp", "exports"];

/// A resource text of exactly `len` bytes (at least 17): a bucket, then path segments.
fn resource(rng: &mut Rng, len: usize) -> String {
    let mut s = format!("arn:aws:s3:::b{:03}", rng.below(512));
    while s.len() < len {
        s.push('/');
        let seg: &&str = rng.pick(&SEGMENTS);
        s.push_str(seg);
    }
    s.truncate(len);
    s
}

fn spec(rng: &mut Rng) -> Spec {
    let n_ids = 1 + rng.below(4);
    let n_pats = match rng.below(10) {
        0..=5 => 1,
        6..=8 => 2,
        _ => 3,
    };
    let mut budget = MAX_RECORD - HEAD - 4 * n_ids - 2 * n_pats;
    let mut pats = Vec::with_capacity(n_pats);
    for left in (0..n_pats).rev() {
        let len = (20 + rng.below(41)).min(budget - 20 * left);
        budget -= len;
        pats.push(resource(rng, len));
    }
    let ids = (0..n_ids).map(|_| rng.next_u64() as u32 & 0xf_ffff).collect();
    Spec { effect: rng.pct(20).into(), class: rng.below(4) as u8, ids, pats }
}

/// Header: effect, class, id count, pattern count, 2 spare, record length (u16 LE); then the
/// ids (u32 LE); then each pattern as its length (u16 LE) and text.
fn encode(s: &Spec, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(&[s.effect, s.class, s.ids.len() as u8, s.pats.len() as u8, 0, 0, 0, 0]);
    for id in &s.ids {
        out.extend_from_slice(&id.to_le_bytes());
    }
    for p in &s.pats {
        out.extend_from_slice(&(p.len() as u16).to_le_bytes());
        out.extend_from_slice(p.as_bytes());
    }
    let len = (out.len() as u16).to_le_bytes();
    out[6..8].copy_from_slice(&len);
}

fn u16_at(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?)))
}

/// A candidate check's read: the header, then the pattern it names, compared as a literal prefix
/// of `probe`. `None` for a malformed record (fail closed, as the index does).
fn read(rec: &[u8], probe: &[u8]) -> Option<u32> {
    let h = rec.get(..HEAD)?;
    let (n_ids, n_pats) = (usize::from(h[2]), usize::from(h[3]));
    let want = (n_ids + usize::from(h[1])).checked_rem(n_pats)?;
    let mut at = HEAD + 4 * n_ids;
    for _ in 0..want {
        at += 2 + u16_at(rec, at)?;
    }
    let n = u16_at(rec, at)?;
    let text = rec.get(at + 2..at + 2 + n)?;
    Some(u32::from(h[0]) + 2 * u32::from(probe.starts_with(text)))
}

// ---- Layouts ------------------------------------------------------------------------------------

/// What the index does: one byte array, records referenced by offset.
struct Flat {
    blob: Vec<u8>,
    offsets: Vec<u32>,
}

fn build_flat(specs: &[Spec], total: usize) -> Flat {
    let mut blob = Vec::new();
    blob.reserve_exact(total);
    let mut offsets = Vec::with_capacity(specs.len());
    let mut scratch = Vec::with_capacity(MAX_RECORD);
    for s in specs {
        encode(s, &mut scratch);
        offsets.push(u32::try_from(blob.len()).unwrap_or(u32::MAX));
        blob.extend_from_slice(&scratch);
    }
    Flat { blob, offsets }
}

fn build_bump<'b>(specs: &[Spec], bump: &'b Bump) -> Vec<&'b [u8]> {
    let mut slices = Vec::with_capacity(specs.len());
    let mut scratch = Vec::with_capacity(MAX_RECORD);
    for s in specs {
        encode(s, &mut scratch);
        slices.push(&*bump.alloc_slice_copy(&scratch));
    }
    slices
}

fn build_boxes(specs: &[Spec]) -> Vec<Box<[u8]>> {
    let mut boxes = Vec::with_capacity(specs.len());
    let mut scratch = Vec::with_capacity(MAX_RECORD);
    for s in specs {
        encode(s, &mut scratch);
        boxes.push(Box::from(&scratch[..]));
    }
    boxes
}

/// glibc's chunk for a `len`-byte request on 64-bit: 8 bytes of header, rounded up to 16, at least 32.
fn glibc_chunk(len: usize) -> usize {
    ((len + 8 + 15) & !15).max(32)
}

// ---- Timing -------------------------------------------------------------------------------------

const NAMES: [&str; 4] = ["flat Vec<u8> + u32 offset", "bump + &[u8]", "bump + u32 index", "Box<[u8]> per record"];

fn evict(buf: &mut [u8]) {
    let mut s = 0u64;
    for i in (0..buf.len()).step_by(64) {
        buf[i] = buf[i].wrapping_add(1);
        s += u64::from(buf[i]);
    }
    black_box(s);
}

/// Reads every reference of `refs` (batches of [`BATCH`]), pushing ns per read per batch to `out`.
fn stream<'a, R: Copy>(
    refs: &[R],
    probes: &[Box<[u8]>],
    get: impl Fn(R) -> Option<&'a [u8]>,
    out: &mut Vec<f64>,
) -> u64 {
    let mut sum = 0u64;
    for (b, chunk) in refs.chunks_exact(BATCH).enumerate() {
        let t = Instant::now();
        for (j, &r) in chunk.iter().enumerate() {
            let probe = &probes[(b * BATCH + j) & (PROBES - 1)];
            sum += u64::from(get(r).and_then(|rec| read(rec, probe)).unwrap_or(0));
        }
        black_box(sum);
        out.push(t.elapsed().as_nanos() as f64 / BATCH as f64);
    }
    sum
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    quantile(v, 0.5)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map_or_else(|_| "?".into(), |s| s.split(' ').take(3).collect::<Vec<_>>().join(" "))
}

fn mb(b: usize) -> f64 {
    b as f64 / 1e6
}

/// Builds each layout [`BUILD_ROUNDS`] times, interleaved; prints the medians of build and drop.
fn measure_builds(specs: &[Spec], total: usize) {
    let (mut build, mut drop_) = (vec![Vec::new(); 4], vec![Vec::new(); 4]);
    let mut time = |k: usize, f: &mut dyn FnMut() -> Box<dyn FnOnce()>| {
        let t = Instant::now();
        let dropper = f();
        build[k].push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        dropper();
        drop_[k].push(t.elapsed().as_secs_f64() * 1e6);
    };
    for round in 0..BUILD_ROUNDS {
        for k in (0..4).map(|i| (i + round) % 4) {
            time(k, &mut || match k {
                0 => {
                    let f = black_box(build_flat(specs, total));
                    Box::new(move || drop(f))
                }
                1 | 2 => {
                    let bump = if k == 1 { Bump::with_capacity(total) } else { Bump::new() };
                    black_box(build_bump(specs, &bump).len());
                    Box::new(move || drop(bump))
                }
                _ => {
                    let b = black_box(build_boxes(specs));
                    Box::new(move || drop(b))
                }
            });
        }
    }
    let labels =
        ["flat Vec<u8>, reserve_exact", "Bump::with_capacity(total)", "Bump::new() (grows)", "Box<[u8]> per record"];
    println!("\nbuild (encode + copy {RECORDS} records), median of {BUILD_ROUNDS} rounds, order rotated:");
    for (k, label) in labels.iter().enumerate() {
        println!("  {label:<28} build {:>6.2} ms   drop {:>8.1} us", median(&mut build[k]), median(&mut drop_[k]));
    }
}

fn main() {
    println!("load average at start: {}", loadavg());
    let mut rng = Rng::new(12);
    let specs: Vec<Spec> = (0..RECORDS).map(|_| spec(&mut rng)).collect();
    let mut scratch = Vec::new();
    let lens: Vec<usize> = specs.iter().map(|s| (encode(s, &mut scratch), scratch.len()).1).collect();
    let total: usize = lens.iter().sum();
    println!(
        "records: {RECORDS}, {:.2} MB, {}..={} bytes (mean {:.1})",
        mb(total),
        lens.iter().min().unwrap_or(&0),
        lens.iter().max().unwrap_or(&0),
        total as f64 / RECORDS as f64
    );
    let probes: Vec<Box<[u8]>> = (0..PROBES).map(|_| resource(&mut rng, PROBE_LEN).into_bytes().into()).collect();

    measure_builds(&specs, total);

    let flat = build_flat(&specs, total);
    let bump = Bump::with_capacity(total);
    let arena = build_bump(&specs, &bump);
    let grown = Bump::new();
    drop(build_bump(&specs, &grown));
    let boxes = build_boxes(&specs);
    println!("\nmemory for the records (bytes reserved), and per reference:");
    println!("  flat Vec::capacity                {:>7.2} MB   4 B (u32 offset)", mb(flat.blob.capacity()));
    println!(
        "  Bump::allocated_bytes (sized)     {:>7.2} MB   16 B (&[u8]) or 4 B + a 16 B table slot ({:.2} MB)",
        mb(bump.allocated_bytes()),
        mb(arena.capacity() * 16)
    );
    println!("  Bump::allocated_bytes (grown)     {:>7.2} MB", mb(grown.allocated_bytes()));
    drop(grown);
    println!(
        "  sum of box sizes                  {:>7.2} MB   16 B (&[u8]); glibc chunks ~{:.2} MB",
        mb(boxes.iter().map(|b| b.len()).sum()),
        mb(boxes.iter().map(|b| glibc_chunk(b.len())).sum())
    );

    let mut evict_buf = vec![0u8; EVICT_BYTES];
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); 4];
    let mut sums = [0u64; 4];
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); 4];
    println!("\nstream: {READS} random reads per pass, ns per read (batches of {BATCH}), per-pass medians:");
    for pass in 0..=PASSES {
        let picks: Vec<u32> = (0..READS).map(|_| rng.below(RECORDS) as u32).collect();
        let mut medians = [0f64; 4];
        let mut line = if pass == 0 { "  warm-up (not counted):".to_owned() } else { format!("  pass {pass}:") };
        for k in (0..4).map(|i| (i + pass) % 4) {
            let mut out = Vec::with_capacity(READS / BATCH);
            sums[k] = match k {
                0 => {
                    let refs: Vec<u32> = picks.iter().map(|&i| flat.offsets[i as usize]).collect();
                    evict(&mut evict_buf);
                    stream(&refs, &probes, |o| flat.blob.get(o as usize..), &mut out)
                }
                1 => {
                    let refs: Vec<&[u8]> = picks.iter().map(|&i| arena[i as usize]).collect();
                    evict(&mut evict_buf);
                    stream(&refs, &probes, Some, &mut out)
                }
                2 => {
                    evict(&mut evict_buf);
                    stream(&picks, &probes, |i| arena.get(i as usize).copied(), &mut out)
                }
                _ => {
                    let refs: Vec<&[u8]> = picks.iter().map(|&i| &*boxes[i as usize]).collect();
                    evict(&mut evict_buf);
                    stream(&refs, &probes, Some, &mut out)
                }
            };
            medians[k] = median(&mut out.clone());
            line += &format!("  {} {:.1}", ["flat", "bump", "bump+idx", "box"][k], medians[k]);
            if pass > 0 {
                samples[k].extend(out);
            }
        }
        if pass > 0 {
            (0..4).for_each(|k| ratios[k].push(medians[k] / medians[0]));
        }
        assert!(sums.iter().all(|&s| s == sums[0]), "layouts disagree: {sums:?}");
        println!("{line}");
    }
    println!("\nover all {PASSES} passes ({} batches each):", samples[0].len());
    for (k, name) in NAMES.iter().enumerate() {
        let v = &mut samples[k];
        v.sort_by(f64::total_cmp);
        let ratio = median(&mut ratios[k]);
        println!(
            "  {name:<28} median {:>5.1} ns   p99 {:>6.1} ns   per-pass median / flat's: {ratio:.2}",
            quantile(v, 0.5),
            quantile(v, 0.99)
        );
    }
    println!("load average at end: {}", loadavg());
}

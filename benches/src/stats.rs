//! Per-call latency: criterion reports the mean and median of batches, not a per-decision tail,
//! so the p99 in BENCHMARKS.md comes from this loop, which times every call on its own.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// The distribution of one operation's per-call time.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    /// Calls timed.
    pub samples: usize,
    /// Median, ns (timer overhead subtracted).
    pub p50_ns: f64,
    /// 99th percentile, ns (timer overhead subtracted).
    pub p99_ns: f64,
    /// 99.9th percentile, ns (timer overhead subtracted).
    pub p999_ns: f64,
    /// Mean, ns (timer overhead subtracted).
    pub mean_ns: f64,
    /// The timer overhead that was subtracted, ns.
    pub overhead_ns: f64,
}

/// The `q` quantile (0..=1) of sorted values, nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The median cost of an empty `Instant::now()` … `elapsed()` pair, ns.
pub fn timer_overhead() -> f64 {
    let mut v: Vec<f64> = (0..200_000)
        .map(|_| {
            let t = Instant::now();
            black_box(());
            t.elapsed().as_nanos() as f64
        })
        .collect();
    v.sort_by(f64::total_cmp);
    quantile(&v, 0.5)
}

/// Times `f` call by call: warms up for a tenth of `budget`, then times calls until `budget` is
/// spent or `max_samples` calls are timed (at least 20).
pub fn measure<T>(mut f: impl FnMut() -> T, budget: Duration, max_samples: usize, overhead_ns: f64) -> Latency {
    let warm = Instant::now();
    while warm.elapsed() < budget / 10 {
        black_box(f());
    }
    let mut v = Vec::with_capacity(max_samples.min(1 << 22));
    let start = Instant::now();
    while v.len() < 20 || (v.len() < max_samples && start.elapsed() < budget) {
        let t = Instant::now();
        black_box(f());
        v.push((t.elapsed().as_nanos() as f64 - overhead_ns).max(0.0));
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    v.sort_by(f64::total_cmp);
    Latency {
        samples: v.len(),
        p50_ns: quantile(&v, 0.5),
        p99_ns: quantile(&v, 0.99),
        p999_ns: quantile(&v, 0.999),
        mean_ns: mean,
        overhead_ns,
    }
}

/// `ns` as a short human figure: `183 ns`, `4.2 µs`, `12.3 ms`.
pub fn human(ns: f64) -> String {
    if !ns.is_finite() {
        "–".into()
    } else if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} µs", ns / 1_000.0)
    } else if ns < 1_000_000_000.0 {
        format!("{:.2} ms", ns / 1_000_000.0)
    } else {
        format!("{:.2} s", ns / 1_000_000_000.0)
    }
}

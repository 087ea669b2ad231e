//! Prometheus metrics, kept in atomics so that counting never takes a lock on the decision path,
//! and rendered as the Prometheus text format (0.0.4) by `GET /metrics`.
//!
//! The decision latency histogram has sub-microsecond to millisecond buckets: a decision takes
//! well under a microsecond, and a latency histogram whose first bucket is 5 ms says nothing.

use super::gate_types::GateDecision;
use keycard::Decision;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds, in nanoseconds, of the decision latency buckets.
const DECISION_BUCKETS_NS: [u64; 14] =
    [100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 10_000_000];

/// Upper bounds, in nanoseconds, of the HTTP request latency buckets (body read to answer written).
const HTTP_BUCKETS_NS: [u64; 12] = [
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    10_000_000,
    50_000_000,
    250_000_000,
    1_000_000_000,
];

/// A duration in nanoseconds and the first bucket whose bound holds it (`None`: `+Inf`).
fn bucket_of(bounds_ns: &[u64], d: Duration) -> (u64, Option<usize>) {
    let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
    (ns, bounds_ns.iter().position(|&b| ns <= b))
}

/// A fixed-bucket histogram of durations.
struct Histogram<const N: usize> {
    bounds_ns: [u64; N],
    /// Non-cumulative counts; the last slot is `+Inf`.
    counts: [AtomicU64; N],
    overflow: AtomicU64,
    sum_ns: AtomicU64,
}

impl<const N: usize> Histogram<N> {
    fn new(bounds_ns: [u64; N]) -> Self {
        Histogram {
            bounds_ns,
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            overflow: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
        }
    }

    fn observe(&self, d: Duration) {
        let (ns, bucket) = bucket_of(&self.bounds_ns, d);
        self.sum_ns.fetch_add(ns, Relaxed);
        match bucket {
            Some(i) => self.counts[i].fetch_add(1, Relaxed),
            None => self.overflow.fetch_add(1, Relaxed),
        };
    }

    /// Adds a batch's local tally in one go.
    fn merge(&self, counts: &[u64; N], overflow: u64, sum_ns: u64) {
        for (slot, &n) in self.counts.iter().zip(counts) {
            if n > 0 {
                slot.fetch_add(n, Relaxed);
            }
        }
        if overflow > 0 {
            self.overflow.fetch_add(overflow, Relaxed);
        }
        self.sum_ns.fetch_add(sum_ns, Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let sep = if labels.is_empty() { "" } else { "," };
        let mut cumulative = 0u64;
        for (bound, count) in self.bounds_ns.iter().zip(&self.counts) {
            cumulative += count.load(Relaxed);
            let le = *bound as f64 / 1e9;
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}");
        }
        cumulative += self.overflow.load(Relaxed);
        let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {cumulative}");
        let sum = self.sum_ns.load(Relaxed) as f64 / 1e9;
        let braces = if labels.is_empty() { String::new() } else { format!("{{{labels}}}") };
        let _ = writeln!(out, "{name}_sum{braces} {sum}");
        let _ = writeln!(out, "{name}_count{braces} {cumulative}");
    }
}

/// Decisions of one batch, counted locally and merged into [`Metrics`] once, so that a batch of
/// thousands does not bounce the shared counters' cache lines between cores thousands of times.
pub(crate) struct Tally {
    decisions: [u64; 3],
    counts: [u64; DECISION_BUCKETS_NS.len()],
    overflow: u64,
    sum_ns: u64,
}

impl Tally {
    pub(crate) fn new() -> Tally {
        Tally { decisions: [0; 3], counts: [0; DECISION_BUCKETS_NS.len()], overflow: 0, sum_ns: 0 }
    }

    /// One decision and how long the evaluator took.
    pub(crate) fn decision(&mut self, decision: Decision, took: Duration) {
        self.decisions[decision_slot(decision)] += 1;
        let (ns, bucket) = bucket_of(&DECISION_BUCKETS_NS, took);
        self.sum_ns = self.sum_ns.saturating_add(ns);
        match bucket {
            Some(i) => self.counts[i] += 1,
            None => self.overflow += 1,
        }
    }
}

/// The endpoints counted separately in `keycard_http_requests_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Authorize,
    Batch,
    Healthz,
    Readyz,
    Snapshot,
    Metrics,
    Sts,
    Gate,
    Envoy,
    /// gRPC `envoy.service.auth.v3.Authorization/Check` (counted by the HTTP status it decided).
    Check,
    /// `GET /v1/access` and `GET /v1/who-can` (docs/analysis.md).
    Access,
    WhoCan,
    Other,
}

impl Endpoint {
    const ALL: [Endpoint; 13] = [
        Endpoint::Authorize,
        Endpoint::Batch,
        Endpoint::Healthz,
        Endpoint::Readyz,
        Endpoint::Snapshot,
        Endpoint::Metrics,
        Endpoint::Sts,
        Endpoint::Gate,
        Endpoint::Envoy,
        Endpoint::Check,
        Endpoint::Access,
        Endpoint::WhoCan,
        Endpoint::Other,
    ];

    fn label(self) -> &'static str {
        match self {
            Endpoint::Authorize => "/v1/authorize",
            Endpoint::Batch => "/v1/authorize/batch",
            Endpoint::Healthz => "/healthz",
            Endpoint::Readyz => "/readyz",
            Endpoint::Snapshot => "/v1/snapshot",
            Endpoint::Metrics => "/metrics",
            Endpoint::Sts => "/ (sts)",
            Endpoint::Gate => "/v1/gate",
            Endpoint::Envoy => "/v1/envoy",
            Endpoint::Check => "/envoy.service.auth.v3.Authorization/Check",
            Endpoint::Access => "/v1/access",
            Endpoint::WhoCan => "/v1/who-can",
            Endpoint::Other => "other",
        }
    }
}

/// The status codes the server answers with; anything else is counted as `other`.
const CODES: [u16; 11] = [200, 400, 401, 403, 404, 405, 408, 413, 415, 500, 503];

/// Every metric the server exports.
pub(crate) struct Metrics {
    decisions: [AtomicU64; 3],
    gate: [AtomicU64; GateDecision::ALL.len()],
    request_errors: AtomicU64,
    decision_latency: Histogram<14>,
    http_latency: Histogram<12>,
    http_requests: [[AtomicU64; CODES.len() + 1]; Endpoint::ALL.len()],
    reloads: AtomicU64,
    reload_failures: AtomicU64,
    snapshot_loaded_unix: AtomicU64,
    log_written: AtomicU64,
    log_dropped: AtomicU64,
    log_write_errors: AtomicU64,
}

fn decision_slot(d: Decision) -> usize {
    match d {
        Decision::Allowed => 0,
        Decision::ExplicitDeny => 1,
        Decision::ImplicitDeny => 2,
    }
}

impl Metrics {
    pub(crate) fn new() -> Metrics {
        Metrics {
            decisions: std::array::from_fn(|_| AtomicU64::new(0)),
            gate: std::array::from_fn(|_| AtomicU64::new(0)),
            request_errors: AtomicU64::new(0),
            decision_latency: Histogram::new(DECISION_BUCKETS_NS),
            http_latency: Histogram::new(HTTP_BUCKETS_NS),
            http_requests: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            reloads: AtomicU64::new(0),
            reload_failures: AtomicU64::new(0),
            snapshot_loaded_unix: AtomicU64::new(0),
            log_written: AtomicU64::new(0),
            log_dropped: AtomicU64::new(0),
            log_write_errors: AtomicU64::new(0),
        }
    }

    /// One decision and how long the evaluator took.
    pub(crate) fn decision(&self, decision: Decision, took: Duration) {
        self.decisions[decision_slot(decision)].fetch_add(1, Relaxed);
        self.decision_latency.observe(took);
    }

    /// Adds a batch's tally.
    pub(crate) fn merge(&self, tally: &Tally) {
        for (slot, &n) in self.decisions.iter().zip(&tally.decisions) {
            if n > 0 {
                slot.fetch_add(n, Relaxed);
            }
        }
        self.decision_latency.merge(&tally.counts, tally.overflow, tally.sum_ns);
    }

    /// One gateway answer (`/v1/gate`, `/v1/envoy/...`), by its `x-keycard-decision`.
    pub(crate) fn gate(&self, decision: GateDecision) {
        let i = GateDecision::ALL.iter().position(|&d| d == decision).unwrap_or(0);
        if let Some(slot) = self.gate.get(i) {
            slot.fetch_add(1, Relaxed);
        }
    }

    /// A malformed request (whole or inside a batch): answered with an error, never decided.
    pub(crate) fn request_error(&self) {
        self.request_errors.fetch_add(1, Relaxed);
    }

    /// One HTTP exchange, its status and its duration.
    pub(crate) fn http(&self, endpoint: Endpoint, status: u16, took: Duration) {
        let e = Endpoint::ALL.iter().position(|&x| x == endpoint).unwrap_or(Endpoint::ALL.len() - 1);
        let c = CODES.iter().position(|&x| x == status).unwrap_or(CODES.len());
        self.http_requests[e][c].fetch_add(1, Relaxed);
        if matches!(
            endpoint,
            Endpoint::Authorize | Endpoint::Batch | Endpoint::Gate | Endpoint::Envoy | Endpoint::Check
        ) {
            self.http_latency.observe(took);
        }
    }

    /// A store loaded and published (at `unix_seconds`).
    pub(crate) fn reloaded(&self, unix_seconds: u64) {
        self.reloads.fetch_add(1, Relaxed);
        self.snapshot_loaded_unix.store(unix_seconds, Relaxed);
    }

    /// A store that failed to load (the last good snapshot keeps serving).
    pub(crate) fn reload_failed(&self) {
        self.reload_failures.fetch_add(1, Relaxed);
    }

    /// A decision log record written.
    pub(crate) fn log_written(&self) {
        self.log_written.fetch_add(1, Relaxed);
    }

    /// A decision log record dropped because the buffer was full.
    pub(crate) fn log_dropped(&self) {
        self.log_dropped.fetch_add(1, Relaxed);
    }

    /// A decision log record lost to a write error.
    pub(crate) fn log_write_error(&self) {
        self.log_write_errors.fetch_add(1, Relaxed);
    }

    /// Prometheus text exposition format 0.0.4.
    /// The text format; `auth_failures` are the STS's counts by reason (kept by the STS, which
    /// sees every authentication the sidecar makes).
    pub(crate) fn render(&self, ready: bool, auth_failures: &[(&str, u64)]) -> String {
        let mut out = String::with_capacity(8 * 1024);
        out.push_str(
            "# HELP keycard_auth_failures_total Failed authentications: wrong signatures, wrong MFA codes, attempts refused while throttled.\n",
        );
        out.push_str("# TYPE keycard_auth_failures_total counter\n");
        for (reason, n) in auth_failures {
            let _ = writeln!(out, "keycard_auth_failures_total{{reason=\"{reason}\"}} {n}");
        }
        out.push_str("# HELP keycard_decisions_total Decisions made, by result.\n");
        out.push_str("# TYPE keycard_decisions_total counter\n");
        for (d, label) in
            [Decision::Allowed, Decision::ExplicitDeny, Decision::ImplicitDeny].iter().map(|&d| (d, d.as_str()))
        {
            let n = self.decisions[decision_slot(d)].load(Relaxed);
            let _ = writeln!(out, "keycard_decisions_total{{decision=\"{label}\"}} {n}");
        }
        out.push_str(
            "# HELP keycard_gate_answers_total Gateway answers (/v1/gate, /v1/envoy, gRPC Check), by x-keycard-decision.\n",
        );
        out.push_str("# TYPE keycard_gate_answers_total counter\n");
        for (d, n) in GateDecision::ALL.iter().zip(&self.gate) {
            let _ = writeln!(out, "keycard_gate_answers_total{{decision=\"{}\"}} {}", d.as_str(), n.load(Relaxed));
        }
        counter(
            &mut out,
            "keycard_request_errors_total",
            "Malformed requests answered with an error (never decided).",
            &self.request_errors,
        );
        out.push_str("# HELP keycard_decision_duration_seconds Time to evaluate one decision.\n");
        out.push_str("# TYPE keycard_decision_duration_seconds histogram\n");
        self.decision_latency.render(&mut out, "keycard_decision_duration_seconds", "");
        out.push_str(
            "# HELP keycard_http_request_duration_seconds Time from request head to answer, decision endpoints.\n",
        );
        out.push_str("# TYPE keycard_http_request_duration_seconds histogram\n");
        self.http_latency.render(&mut out, "keycard_http_request_duration_seconds", "");
        out.push_str("# HELP keycard_http_requests_total HTTP requests answered, by endpoint and status code.\n");
        out.push_str("# TYPE keycard_http_requests_total counter\n");
        for (e, row) in Endpoint::ALL.iter().zip(&self.http_requests) {
            for (i, n) in row.iter().enumerate() {
                let n = n.load(Relaxed);
                if n == 0 {
                    continue;
                }
                let code = CODES.get(i).map_or_else(|| "other".to_owned(), u16::to_string);
                let _ = writeln!(out, "keycard_http_requests_total{{endpoint=\"{}\",code=\"{code}\"}} {n}", e.label());
            }
        }
        counter(
            &mut out,
            "keycard_reloads_total",
            "Stores loaded, compiled and published (the first load included).",
            &self.reloads,
        );
        counter(
            &mut out,
            "keycard_reload_failures_total",
            "Store loads that failed; the last good snapshot kept serving.",
            &self.reload_failures,
        );
        gauge(
            &mut out,
            "keycard_snapshot_loaded_timestamp_seconds",
            "When the serving snapshot was published (Unix time).",
            self.snapshot_loaded_unix.load(Relaxed),
        );
        gauge(&mut out, "keycard_ready", "1 once a snapshot is loaded.", u64::from(ready));
        counter(&mut out, "keycard_decision_log_written_total", "Decision log records written.", &self.log_written);
        counter(
            &mut out,
            "keycard_decision_log_dropped_total",
            "Decision log records dropped because the log buffer was full.",
            &self.log_dropped,
        );
        counter(
            &mut out,
            "keycard_decision_log_write_errors_total",
            "Decision log records lost to write errors.",
            &self.log_write_errors,
        );
        out
    }
}

fn counter(out: &mut String, name: &str, help: &str, value: &AtomicU64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}", value.load(Relaxed));
}

fn gauge(out: &mut String, name: &str, help: &str, value: u64) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative_and_count_everything() {
        let m = Metrics::new();
        m.decision(Decision::Allowed, Duration::from_nanos(80));
        m.decision(Decision::ImplicitDeny, Duration::from_nanos(300));
        m.decision(Decision::ImplicitDeny, Duration::from_secs(1));
        let text = m.render(true, &[]);
        assert!(text.contains("keycard_decision_duration_seconds_bucket{le=\"0.0000001\"} 1"), "{text}");
        assert!(text.contains("keycard_decision_duration_seconds_bucket{le=\"0.0000005\"} 2"), "{text}");
        assert!(text.contains("keycard_decision_duration_seconds_bucket{le=\"0.01\"} 2"), "{text}");
        assert!(text.contains("keycard_decision_duration_seconds_bucket{le=\"+Inf\"} 3"), "{text}");
        assert!(text.contains("keycard_decision_duration_seconds_count 3"), "{text}");
        assert!(text.contains("keycard_decisions_total{decision=\"implicitDeny\"} 2"), "{text}");
        assert!(text.contains("keycard_ready 1"), "{text}");
    }

    #[test]
    fn a_batch_tally_merges_like_single_observations() {
        let (single, merged) = (Metrics::new(), Metrics::new());
        let mut tally = Tally::new();
        for (d, ns) in [(Decision::Allowed, 80), (Decision::ExplicitDeny, 700), (Decision::Allowed, 20_000_000)] {
            single.decision(d, Duration::from_nanos(ns));
            tally.decision(d, Duration::from_nanos(ns));
        }
        merged.merge(&tally);
        assert_eq!(single.render(true, &[]), merged.render(true, &[]));
    }

    #[test]
    fn http_requests_are_counted_by_endpoint_and_code() {
        let m = Metrics::new();
        m.http(Endpoint::Authorize, 200, Duration::from_micros(30));
        m.http(Endpoint::Authorize, 413, Duration::from_micros(30));
        m.http(Endpoint::Other, 418, Duration::ZERO);
        let text = m.render(false, &[]);
        assert!(text.contains("keycard_http_requests_total{endpoint=\"/v1/authorize\",code=\"413\"} 1"), "{text}");
        assert!(text.contains("keycard_http_requests_total{endpoint=\"other\",code=\"other\"} 1"), "{text}");
        assert!(text.contains("keycard_http_request_duration_seconds_count 2"), "{text}");
        assert!(text.contains("keycard_ready 0"), "{text}");
    }

    #[test]
    fn gate_answers_are_counted_by_decision() {
        let m = Metrics::new();
        m.gate(GateDecision::NoRoute);
        m.gate(GateDecision::NoRoute);
        m.gate(GateDecision::Allowed);
        m.http(Endpoint::Gate, 403, Duration::from_micros(30));
        let text = m.render(true, &[]);
        assert!(text.contains("keycard_gate_answers_total{decision=\"noRoute\"} 2"), "{text}");
        assert!(text.contains("keycard_gate_answers_total{decision=\"allowed\"} 1"), "{text}");
        assert!(text.contains("keycard_gate_answers_total{decision=\"unauthenticated\"} 0"), "{text}");
        assert!(text.contains("keycard_http_requests_total{endpoint=\"/v1/gate\",code=\"403\"} 1"), "{text}");
    }
}

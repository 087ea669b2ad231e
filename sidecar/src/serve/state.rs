//! What every request handler shares: the live store (its current snapshot is swapped
//! atomically, so a request sees exactly one snapshot, old or new, never a mix), the metrics,
//! the decision log, the client timeout and the gateway's options.

use super::decision_log::DecisionLog;
use super::metrics::Metrics;
use arc_swap::Guard;
use keycard::live::{Live, LoadFailure, Loaded};
use std::sync::Arc;
use std::time::Duration;

/// The server's shared state.
pub(crate) struct State {
    pub(crate) live: Live,
    /// How the store is named in `/v1/snapshot` and logs.
    pub(crate) source: String,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) log: Option<DecisionLog>,
    /// How long a client may take to send a request body (`--client-timeout`).
    pub(crate) client_timeout: Duration,
    /// keycard's STS: its session-token keys and used MFA codes.
    pub(crate) sts: keycard::sts::Sts,
    /// Seconds added to the clock for credential checks: `KEYCARD_TEST_CLOCK_OFFSET_SECS`, read
    /// only by debug builds, so tests can present a session after its expiry. Always 0 in release.
    pub(crate) clock_offset_secs: i64,
    /// The gateway's trusted proxies and principal header.
    pub(crate) gate: super::gate_types::Config,
    /// The bounded pool that runs CPU-heavy requests off the async workers.
    pub(crate) offload: super::offload::Offload,
    /// The `--bundle-url` poller's counters and wake-up, when serving from a bundle server.
    pub(crate) bundle: Option<Arc<super::poller::Poller>>,
}

impl State {
    /// The snapshot serving now, if one has loaded. Hold the guard for one request (or one
    /// batch), so everything it answers comes from the same snapshot.
    pub(crate) fn current(&self) -> Guard<Option<Arc<Loaded>>> {
        self.live.current()
    }

    /// Now, in seconds since the epoch, for signatures, sessions and MFA codes.
    pub(crate) fn now_secs(&self) -> u64 {
        keycard::clock::unix_seconds(std::time::SystemTime::now()).saturating_add_signed(self.clock_offset_secs)
    }

    /// Whether a snapshot is loaded.
    pub(crate) fn ready(&self) -> bool {
        self.live.current().is_some()
    }

    /// `/metrics`: the server's metrics, then the bundle poller's.
    pub(crate) fn render_metrics(&self) -> String {
        let mut out = self.metrics.render(self.ready(), &self.sts.auth_failures());
        if let Some(poller) = &self.bundle {
            poller.render(&mut out);
        }
        out
    }

    /// The last load error, until a load succeeds.
    pub(crate) fn last_error(&self) -> Option<Arc<LoadFailure>> {
        self.live.last_error()
    }
}

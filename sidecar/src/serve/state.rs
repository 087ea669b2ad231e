//! What every request handler shares: the live store (its current snapshot is swapped
//! atomically, so a request sees exactly one snapshot, old or new, never a mix), the metrics,
//! the decision log, the client timeout and the gateway's options.

use super::decision_log::DecisionLog;
use super::metrics::Metrics;
use keycard::live::{Current, Live, LoadFailure};
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
    /// The snapshot serving now, if one has loaded. Hold it for one request (or one batch), so
    /// everything it answers comes from the same snapshot.
    pub(crate) fn current(&self) -> Current {
        self.live.current()
    }

    /// Now, for signatures, sessions, MFA codes and signed requests' decisions.
    pub(crate) fn now(&self) -> std::time::SystemTime {
        let offset = std::time::Duration::from_secs(self.clock_offset_secs.unsigned_abs());
        let now = std::time::SystemTime::now();
        if self.clock_offset_secs >= 0 {
            now + offset
        } else {
            now - offset
        }
    }

    /// [`State::now`] in seconds since the epoch.
    pub(crate) fn now_secs(&self) -> u64 {
        keycard::clock::unix_seconds(self.now())
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

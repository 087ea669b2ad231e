//! The `--bundle-url` poller's counters and wake-up, on their own so that `state` can hold them
//! without importing `bundle`, which polls with the `state`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use tokio::sync::Notify;

/// The poller's counters (`/metrics`), and the way to wake it (`SIGHUP`).
pub(crate) struct Poller {
    pub(crate) updated: AtomicU64,
    pub(crate) unchanged: AtomicU64,
    pub(crate) not_modified: AtomicU64,
    pub(crate) failed: AtomicU64,
    pub(crate) wake: Notify,
}

impl Poller {
    pub(crate) fn new() -> Poller {
        Poller {
            updated: AtomicU64::new(0),
            unchanged: AtomicU64::new(0),
            not_modified: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            wake: Notify::new(),
        }
    }

    /// Polls now instead of at the next tick.
    pub(crate) fn wake(&self) {
        self.wake.notify_one();
    }

    /// The poll counters in the Prometheus text format.
    pub(crate) fn render(&self, out: &mut String) {
        out.push_str(
            "# HELP keycard_bundle_polls_total Polls of --bundle-url, by result: updated (a new bundle \
             published), notModified (304), unchanged (200, the same bytes), failed (last good kept).\n",
        );
        out.push_str("# TYPE keycard_bundle_polls_total counter\n");
        for (label, n) in [
            ("updated", &self.updated),
            ("notModified", &self.not_modified),
            ("unchanged", &self.unchanged),
            ("failed", &self.failed),
        ] {
            let _ = writeln!(out, "keycard_bundle_polls_total{{result=\"{label}\"}} {}", n.load(Relaxed));
        }
    }
}

//! What every request handler shares: the snapshot being served (swapped atomically with
//! `arc-swap`, so a request sees exactly one snapshot, old or new, never a mix), the last load
//! error, the metrics and the decision log.

use super::decision_log::DecisionLog;
use super::metrics::Metrics;
use arc_swap::{ArcSwapOption, Guard};
use keycard::{Snapshot, StoreStats};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A snapshot and what `/v1/snapshot` says about it.
pub(crate) struct Loaded {
    pub(crate) snapshot: Snapshot,
    pub(crate) loaded_at: SystemTime,
    pub(crate) stats: StoreStats,
    pub(crate) files: Vec<String>,
}

/// A store that failed to load.
pub(crate) struct LoadFailure {
    pub(crate) message: String,
    pub(crate) at: SystemTime,
}

/// The server's shared state.
pub(crate) struct State {
    current: ArcSwapOption<Loaded>,
    last_error: ArcSwapOption<LoadFailure>,
    pub(crate) source: String,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) log: Option<DecisionLog>,
    /// How long a client may take to send a request body (`--client-timeout`).
    pub(crate) client_timeout: Duration,
}

impl State {
    pub(crate) fn new(
        source: String,
        metrics: Arc<Metrics>,
        log: Option<DecisionLog>,
        client_timeout: Duration,
    ) -> State {
        State {
            current: ArcSwapOption::empty(),
            last_error: ArcSwapOption::empty(),
            source,
            metrics,
            log,
            client_timeout,
        }
    }

    /// The snapshot serving now, if one has loaded. Hold the guard for one request (or one
    /// batch), so everything it answers comes from the same snapshot.
    pub(crate) fn current(&self) -> Guard<Option<Arc<Loaded>>> {
        self.current.load()
    }

    /// Whether a snapshot is loaded.
    pub(crate) fn ready(&self) -> bool {
        self.current.load().is_some()
    }

    /// Publishes a new snapshot and clears the last error.
    pub(crate) fn publish(&self, loaded: Loaded) {
        self.current.store(Some(Arc::new(loaded)));
        self.last_error.store(None);
    }

    /// Records a failed load; the current snapshot keeps serving.
    pub(crate) fn fail(&self, message: String) {
        self.last_error.store(Some(Arc::new(LoadFailure { message, at: SystemTime::now() })));
    }

    /// The last load error, until a load succeeds.
    pub(crate) fn last_error(&self) -> Option<Arc<LoadFailure>> {
        self.last_error.load_full()
    }
}

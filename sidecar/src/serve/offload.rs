//! CPU-heavy work off the async workers, so that no request can stall `/healthz` or the gate.
//!
//! The async workers answer every connection; a request whose parsing or decision can take real
//! CPU (a large body, a request-supplied `sessionPolicy` or `resourcePolicy`, a batch, an STS call
//! carrying a `Policy`) is handed to tokio's blocking pool instead, at most [`Offload::permits`]
//! at a time: one fewer than the machine's cores (at least one), so a core is always left for
//! the async workers. A heavy request waits for a permit at most [`QUEUE_WAIT`]; after that it is
//! answered `503 Service Unavailable` with `Retry-After: 1` (it has then cost nothing but its
//! body). Small requests (the gate, health checks, ordinary authorize calls) never queue here.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a heavy request may wait for a permit before it is refused with 503.
pub(crate) const QUEUE_WAIT: Duration = Duration::from_secs(1);

/// Bodies above this many bytes are heavy. Below it, a request's own policies and context are
/// too small to cost much, whatever they hold (the wildcard matcher is linear in its text).
pub(crate) const INLINE_BODY: usize = 2 * 1024;

/// Why offloaded work produced no answer.
#[derive(Debug)]
pub(crate) enum Refused {
    /// Every permit stayed taken for [`QUEUE_WAIT`].
    Busy,
    /// The work panicked (a bug): answered 500.
    Failed,
}

/// The bounded pool of heavy work.
pub(crate) struct Offload {
    semaphore: Arc<Semaphore>,
    permits: usize,
}

impl Offload {
    /// A pool with one permit fewer than the machine's cores, at least one.
    pub(crate) fn new() -> Offload {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        Offload::with_permits(cores.saturating_sub(1).max(1))
    }

    pub(crate) fn with_permits(permits: usize) -> Offload {
        Offload { semaphore: Arc::new(Semaphore::new(permits)), permits }
    }

    /// How many heavy requests run at once.
    pub(crate) fn permits(&self) -> usize {
        self.permits
    }

    /// Runs `work` on the blocking pool once a permit is free (waiting at most [`QUEUE_WAIT`]).
    pub(crate) async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Refused> {
        let permit = match tokio::time::timeout(QUEUE_WAIT, Arc::clone(&self.semaphore).acquire_owned()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) | Err(_) => return Err(Refused::Busy),
        };
        let task = tokio::task::spawn_blocking(move || {
            // The permit is held until the work is done, even if the client has gone.
            let _permit = permit;
            work()
        });
        task.await.map_err(|_| Refused::Failed)
    }
}

/// Whether a request is heavy: over [`INLINE_BODY`] bytes in all, or naming one of `fields`
/// (a request's `sessionPolicy` or `resourcePolicy`, STS's `Policy`). A name spelled with escapes
/// is missed, but then the request is small, and small requests are cheap whatever they hold.
pub(crate) fn is_heavy(parts: &[&[u8]], fields: &[&[u8]]) -> bool {
    parts.iter().map(|p| p.len()).sum::<usize>() > INLINE_BODY
        || parts.iter().any(|p| fields.iter().any(|f| !f.is_empty() && p.windows(f.len()).any(|w| w == *f)))
}

/// The fields that make an `/v1/authorize` request or batch heavy.
pub(crate) const REQUEST_POLICIES: [&[u8]; 2] = [b"\"sessionPolicy\"", b"\"resourcePolicy\""];
/// The parameter that makes an STS call heavy (`Policy`, `PolicyArns`).
pub(crate) const STS_POLICIES: [&[u8]; 1] = [b"Policy"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heavy_bodies() {
        let light = br#"{"principal": "*", "action": "iam:GetPolicy", "resource": "arn:aws:iam::1:policy/p"}"#;
        assert!(!is_heavy(&[light], &REQUEST_POLICIES));
        assert!(is_heavy(&[br#"{"sessionPolicy": {}}"#], &REQUEST_POLICIES));
        assert!(is_heavy(&[b"Action=AssumeRole", b"&Policy=%7B%7D"], &STS_POLICIES));
        assert!(!is_heavy(&[b"Action=GetCallerIdentity&Version=2011-06-15", b""], &STS_POLICIES));
        assert!(is_heavy(&[&[b' '; INLINE_BODY + 1]], &REQUEST_POLICIES));
    }
}

//! A snapshot: an immutable, loaded store and its compiled decision index, the unit that answers
//! decisions and that servers swap atomically. `Send + Sync`; share it as `Arc<Snapshot>`.
//!
//! [`Snapshot::decide`] answers through the index ([`crate::decide::index`], [`crate::decide::eval`]);
//! [`Snapshot::authorize`] does too, unless the request asks for an explanation, which the
//! reference evaluator gives (the differential tests prove both decide alike).
//! [`Snapshot::authorize_signed`] first authenticates a `signedRequest`: the one path the HTTP
//! routes, the C ABI and the CLI share.
//!
//! Time is an input: the `_at` forms take the moment of the decision (the default of
//! `aws:CurrentTime` and `aws:EpochTime`); the others read the clock, and only when a condition
//! needs it.

use crate::auth::{AuthError, Verifier};
use crate::decide::answer::{Answer, Decision};
use crate::decide::index::{compile, Index};
use crate::decide::request::Request;
use crate::policy::value::Instant;
use crate::store::Store;
use std::time::{SystemTime, UNIX_EPOCH};

/// An immutable store, compiled, ready to answer requests.
#[derive(Debug)]
pub struct Snapshot {
    store: Store,
    index: Index,
}

impl Snapshot {
    /// Compiles `store` into a decision index.
    pub fn new(store: Store) -> Snapshot {
        let index = compile(&store);
        Snapshot { store, index }
    }

    /// The snapshot id (a hash of the store's files), as answers carry it.
    pub fn id(&self) -> &str {
        self.store.id()
    }

    /// The store the snapshot was built from.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The gateway's routes (`docs/store.md#routes`): they map a proxied HTTP request to an action
    /// and a resource, and swap with the snapshot.
    pub fn gateway(&self) -> &crate::store::routes::Gateway {
        &self.store.gateway
    }

    /// Decides one request through the compiled index: the fast path, no explanation. Never
    /// fails: anything unknown is an implicit deny. Allocates nothing for a request whose
    /// decision substitutes no policy variable.
    pub fn decide(&self, request: &Request) -> Decision {
        crate::decide::eval::decide(&self.store, &self.index, request, None)
    }

    /// [`Snapshot::decide`] at `now`, which conditions on `aws:CurrentTime` and `aws:EpochTime`
    /// see unless the request's context gives them.
    pub fn decide_at(&self, request: &Request, now: SystemTime) -> Decision {
        crate::decide::eval::decide(&self.store, &self.index, request, Some(instant(now)))
    }

    /// Decides one request and answers it as `docs/http-api.md#a-request` describes; with
    /// `explain`, the matched statements, missing context keys and notes come from the reference
    /// evaluator.
    pub fn authorize(&self, request: &Request) -> Answer {
        self.answer(request, None)
    }

    /// [`Snapshot::authorize`] at `now` (as [`Snapshot::decide_at`]).
    pub fn authorize_at(&self, request: &Request, now: SystemTime) -> Answer {
        self.answer(request, Some(instant(now)))
    }

    /// Authenticates a request's `signedRequest` (`docs/http-api.md#signed-requests`) with
    /// `verifier` at `now`, then decides it as the signer, at `now`: the answer names the signer
    /// in [`Answer::principal`]. A request without `signedRequest` is decided as
    /// [`Snapshot::authorize_at`] decides it.
    ///
    /// # Errors
    /// An [`AuthError`] with AWS's code when the signature does not verify; nothing is decided.
    pub fn authorize_signed(
        &self,
        request: &Request,
        verifier: Verifier<'_>,
        now: SystemTime,
    ) -> Result<Answer, AuthError> {
        if request.signed_request().is_none() {
            return Ok(self.authorize_at(request, now));
        }
        let mut request = request.clone();
        let identity = request.authenticate(&self.store, verifier, crate::clock::unix_seconds(now))?;
        let mut answer = self.authorize_at(&request, now);
        answer.principal = Some(identity.principal_arn().to_owned());
        Ok(answer)
    }

    /// The compiled index (for the index's own tests).
    #[cfg(test)]
    pub(crate) fn index_for_tests(&self) -> &Index {
        &self.index
    }

    fn answer(&self, request: &Request, now: Option<Instant>) -> Answer {
        if request.explain {
            return crate::decide::reference::authorize_at(&self.store, request, now);
        }
        let decision = crate::decide::eval::decide(&self.store, &self.index, request, now);
        Answer::new(decision, self.store.id(), None)
    }
}

/// `t` as the evaluator's instant (a time before the epoch counts backwards from it).
fn instant(t: SystemTime) -> Instant {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => Instant { secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX), nanos: d.subsec_nanos() },
        Err(before) => {
            let d = before.duration();
            let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            match d.subsec_nanos() {
                0 => Instant { secs: -secs, nanos: 0 },
                n => Instant { secs: -secs - 1, nanos: 1_000_000_000 - n },
            }
        }
    }
}

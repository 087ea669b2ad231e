//! A snapshot: an immutable, loaded store and its compiled decision index, the unit that answers
//! decisions and that servers swap atomically. `Send + Sync`; share it as `Arc<Snapshot>`.
//!
//! [`Snapshot::decide`] answers through the index ([`crate::decide::index`], [`crate::decide::eval`]);
//! [`Snapshot::authorize`] does too, unless the request asks for an explanation, which the
//! reference evaluator gives (the differential tests prove both decide alike).

use crate::decide::answer::{Answer, Decision};
use crate::decide::index::{compile, Index};
use crate::decide::request::Request;
use crate::store::Store;

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
        crate::decide::eval::decide(&self.store, &self.index, request)
    }

    /// Decides one request and answers it as `docs/http-api.md#a-request` describes; with
    /// `explain`, the matched statements, missing context keys and notes come from the reference
    /// evaluator.
    pub fn authorize(&self, request: &Request) -> Answer {
        if request.explain {
            return crate::decide::reference::authorize(&self.store, request);
        }
        Answer { decision: self.decide(request), snapshot: self.store.id().to_owned(), explanation: None }
    }
}

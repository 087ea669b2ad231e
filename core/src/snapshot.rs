//! A snapshot: an immutable, loaded store with an id, the unit that answers decisions and that
//! servers swap atomically. `Send + Sync`; share it as `Arc<Snapshot>`.
//!
//! Today a snapshot decides through [`crate::reference`]; the compiled decision index (issue 3)
//! will be built here, and the reference evaluator stays as its oracle.

use crate::answer::Answer;
use crate::request::Request;
use crate::store::Store;

/// An immutable store ready to answer requests.
#[derive(Debug, Clone)]
pub struct Snapshot {
    store: Store,
}

impl Snapshot {
    /// Prepares `store` for decisions.
    pub fn new(store: Store) -> Snapshot {
        Snapshot { store }
    }

    /// The snapshot id (a hash of the store's files), as answers carry it.
    pub fn id(&self) -> &str {
        self.store.id()
    }

    /// The store the snapshot was built from.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Decides one request. Never fails: anything unknown is an implicit deny.
    pub fn authorize(&self, request: &Request) -> Answer {
        crate::reference::authorize(&self.store, request)
    }
}

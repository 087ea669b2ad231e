//! Deciding: a request against a snapshot of the store, and the answer.
//!
//! [`request`] reads what is asked, [`principal`] resolves who asks, [`index`] compiles the store
//! into the decision index that [`eval`] walks, [`reference`] is the step-by-step executable
//! specification both are checked against, [`rules`] holds what the two share, and
//! [`snapshot`] is the immutable unit that answers ([`answer`]).

pub(crate) mod answer;
pub(crate) mod eval;
pub(crate) mod index;
pub(crate) mod principal;
pub mod reference;
pub(crate) mod request;
pub(crate) mod rules;
pub(crate) mod snapshot;

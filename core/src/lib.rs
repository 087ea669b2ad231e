//! # keycard
//!
//! AWS IAM's policy language and evaluation logic, without calling AWS: load users, groups,
//! roles, managed and inline policies, boundaries, resource policies, SCPs and RCPs (a real
//! `aws iam get-account-authorization-details` dump loads unchanged), then ask "may this principal
//! do this action on this resource, in this context?" and get AWS's answer: `allowed`,
//! `explicitDeny` or `implicitDeny`.
//!
//! ```
//! use keycard::{Decision, Request, Snapshot, Store};
//!
//! let store = Store::from_documents([("account.json", r#"{
//!   "AccountId": "111122223333",
//!   "UserDetailList": [{"UserName": "alice", "Path": "/",
//!     "UserPolicyList": [{"PolicyName": "Read", "PolicyDocument": {"Version": "2012-10-17",
//!       "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}}}]}]
//! }"#)])?;
//! let snapshot = Snapshot::new(store);
//! let request = Request::from_json(r#"{"principal": "arn:aws:iam::111122223333:user/alice",
//!   "action": "s3:GetObject", "resource": "arn:aws:s3:::reports/q1.csv"}"#)?;
//! assert_eq!(snapshot.authorize(&request).decision(), Decision::Allowed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The facade is what this page lists: [`Store`] (loaded all or nothing, every problem in a
//! [`LoadError`]), [`Request`] (parsed strictly, a [`RequestError`] naming the field),
//! [`Snapshot`] (compiled, immutable, answers [`Decision`]s and [`Answer`]s; time is an input
//! through [`Snapshot::decide_at`]), [`Live`] (a snapshot kept current as files change, set up
//! by a [`live::Config`]) and [`Snapshot::authorize_signed`] for SigV4-signed requests (an
//! [`AuthError`] carrying AWS's [`AuthCode`]). Every error has a `kind()` (or `code()`) to match
//! on; every public struct is `#[non_exhaustive]` with private fields behind accessors, so that
//! keycard can grow without breaking callers.
//!
//! The other modules (`auth`, `sts`, `bundle`, `lint`, `audit`, `catalog`, `clock`,
//! `reference`) serve keycard's own sidecar, C ABI and tests; they are public only so that
//! those crates can reach them, are hidden from this documentation, and are not covered by
//! semantic versioning. `tests/public_api.rs` uses only the facade, and `tests/api_listing.rs`
//! pins it against the checked-in `tests/api.txt`.
//!
//! The pipeline, one module per stage: [`Store::load`] walks the store and reads AWS's dump
//! shapes (`store`), each policy document is parsed and validated with a JSON pointer on every
//! problem (`parse`, into the plain data of `ast`), and [`Snapshot::authorize`] decides. The
//! reference evaluator is the executable specification of `docs/semantics.md`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod arn;
#[doc(hidden)]
pub mod audit;
#[doc(hidden)]
pub mod auth;
#[doc(hidden)]
pub mod bundle;
#[doc(hidden)]
pub mod catalog;
#[doc(hidden)]
pub mod clock;
mod decide;
mod error;
mod id;
#[doc(hidden)]
pub mod lint;
pub mod live;
#[doc(hidden)]
pub mod net;
mod policy;
mod store;
#[doc(hidden)]
pub mod sts;

pub use auth::{AuthCode, AuthError, Verifier};
pub use decide::answer::{Answer, Decision, Explanation, Matched, StatementKind};
#[doc(hidden)]
pub use decide::reference;
pub use decide::request::{batch_from_json, Request};
pub use decide::snapshot::Snapshot;
pub use error::{LoadError, Problem, ProblemKind, RequestError, RequestErrorKind, Severity};
pub use live::Live;
pub use policy::ast::CONDITION_OPERATORS;
#[doc(hidden)]
pub use store::routes::{GateRefusal, GateTarget, Gateway, HeaderLookup};
pub use store::{Store, StoreStats};

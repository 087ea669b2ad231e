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
//! assert_eq!(snapshot.authorize(&request).decision, Decision::Allowed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The pipeline, one module per stage: [`Store::load`] walks the store and reads AWS's dump
//! shapes (`store`), each policy document is parsed and validated with a JSON pointer on every
//! problem (`parse`, into the plain data of `ast`), and [`Snapshot::authorize`] decides. The
//! [`mod@reference`] evaluator is the executable specification of `docs/semantics.md`.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod analysis;
pub mod audit;
pub mod auth;
pub mod bundle;
pub mod catalog;
pub mod clock;
mod decide;
mod error;
mod id;
pub mod lint;
pub mod live;
mod policy;
mod store;
pub mod sts;

pub use decide::answer::{Answer, Decision, Explanation, Matched, StatementKind};
pub use decide::reference;
pub use decide::request::{batch_from_json, Request};
pub use decide::snapshot::Snapshot;
pub use error::{LoadError, PolicyError, Problem, RequestError, Severity};
pub use policy::ast::CONDITION_OPERATORS;
pub use store::routes::{GateRefusal, GateTarget, Gateway, HeaderLookup};
pub use store::{Store, StoreStats};

//! Who can do what: the questions asked of IAM every week, answered offline from a snapshot.
//!
//! - [`access`]: what one principal may do, per action, with the resource patterns, the
//!   conditions that gate each, and what Deny statements, boundaries, SCPs and RCPs take away;
//! - [`who_can`]: every principal allowed one action on one resource, decided with the compiled
//!   index for each user and role, plus those that reach it by assuming a role;
//! - [`escalation`]: the graph of "A can act as B" edges (role assumption, `iam:PassRole` to a
//!   compute service, credentials for another user, policy edits on oneself) and every shortest
//!   path from a non-admin principal to an admin one;
//! - [`generate`]: a least-privilege policy from the decision log, and the granted actions a
//!   principal never used.
//!
//! Every answer that claims "allowed" is backed by [`crate::Snapshot::decide`] or is checked
//! against it by the tests (`core/tests/analysis*.rs`); the matched statements come from the
//! reference evaluator's explanation. `docs/analysis.md` describes the commands and JSON shapes.

pub mod access;
pub mod escalation;
pub mod generate;
mod patterns;
pub mod who_can;

use crate::decide::request::{PrincipalRef, Request};
use crate::decide::snapshot::Snapshot;
use crate::policy::ast::{CondValue, Condition};
use crate::{Matched, RequestError};
use serde::Serialize;

/// One condition of a statement, as written: `{"operator": "StringEquals", "key":
/// "aws:SourceVpc", "values": ["vpc-1"]}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ConditionView {
    /// The operator with its qualifier and `IfExists` (`ForAnyValue:StringLike`).
    pub operator: String,
    /// The context key.
    pub key: String,
    /// The values, as text.
    pub values: Vec<String>,
}

impl ConditionView {
    pub(crate) fn of(c: &Condition) -> ConditionView {
        use crate::policy::ast::{OpKind, Qualifier};
        let name = OpKind::ALL.iter().find(|(k, _)| *k == c.op.kind).map_or("?", |(_, n)| n);
        let qualifier = match c.op.qualifier {
            Qualifier::None => "",
            Qualifier::ForAllValues => "ForAllValues:",
            Qualifier::ForAnyValue => "ForAnyValue:",
        };
        let if_exists = if c.op.if_exists { "IfExists" } else { "" };
        let values = c
            .values
            .iter()
            .map(|v| match v {
                CondValue::Text(t) => t.raw.clone(),
                CondValue::Number(d) => d.text(),
                CondValue::Date(i) => i.to_iso(),
                CondValue::Binary(b) => {
                    use base64::Engine as _;
                    base64::engine::general_purpose::STANDARD.encode(b)
                }
                CondValue::Cidr(c) => c.text(),
                CondValue::Null(b) => b.to_string(),
            })
            .collect();
        ConditionView { operator: format!("{qualifier}{name}{if_exists}"), key: c.key.clone(), values }
    }
}

/// Why a principal or a request for an analysis is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnalysisError {
    /// The principal is not a user, role or role session of the store.
    UnknownPrincipal(String),
    /// The action, resource or context is malformed.
    Request(RequestError),
}

impl std::fmt::Display for AnalysisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnalysisError::UnknownPrincipal(p) => {
                write!(f, "principal {p:?} is not a user, role or role session of the store")
            }
            AnalysisError::Request(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for AnalysisError {}

impl From<RequestError> for AnalysisError {
    fn from(e: RequestError) -> Self {
        AnalysisError::Request(e)
    }
}

/// The users' and roles' ARNs, in store order (users first).
pub(crate) fn principal_arns(snapshot: &Snapshot) -> impl Iterator<Item = &str> {
    let store = snapshot.store();
    store.users.iter().map(|u| u.arn.as_str()).chain(store.roles.iter().map(|r| r.arn.as_str()))
}

/// A request for `action` on `resource` with `context` (a JSON object, or `None`), whose
/// principal the caller sets with [`with_principal`].
pub(crate) fn template_request(action: &str, resource: &str, context: Option<&str>) -> Result<Request, RequestError> {
    let request = Request::new("arn:aws:iam::000000000000:root", action, resource)?;
    // The context text goes through the strict reader of every request (duplicate keys refused).
    match context {
        Some(text) => request.with_context_json(text),
        None => Ok(request),
    }
}

/// Makes `request` ask for `principal`.
pub(crate) fn with_principal(request: &mut Request, principal: &str) {
    match &mut request.principal {
        PrincipalRef::Arn(arn) => {
            arn.clear();
            arn.push_str(principal);
        }
        slot => *slot = PrincipalRef::Arn(principal.to_owned()),
    }
}

/// The statements that matched `request` and allowed it (the reference evaluator's explanation,
/// Allow statements only).
pub(crate) fn granting(snapshot: &Snapshot, request: &Request) -> Vec<Matched> {
    let mut r = request.clone();
    r.explain = true;
    let answer = crate::decide::reference::authorize(snapshot.store(), &r);
    let mut out: Vec<Matched> = Vec::new();
    for m in answer.explanation.map(|e| e.matched).unwrap_or_default() {
        if m.effect == "Allow" && !out.contains(&m) {
            out.push(m);
        }
    }
    out
}

//! What a decision returns: the decision itself, the snapshot it came from, and (with
//! `explain`) the statements that decided it, the context keys conditions wanted but did not
//! get, and notes. Serializes to the JSON of `docs/http-api.md#a-request`.

use serde::Serialize;

/// The IAM policy simulator's three decisions.
///
/// Deliberately not `#[non_exhaustive]`: these are AWS's three outcomes, and a caller must be
/// able to match them exhaustively, so that a new variant could never fall into an `_ => allow`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Decision {
    /// An applicable `Allow` and no explicit deny.
    Allowed,
    /// A matching `Deny` in some applicable policy.
    ExplicitDeny,
    /// No explicit deny, but nothing (or not every required party) allows.
    ImplicitDeny,
}

impl Decision {
    /// `true` only for [`Decision::Allowed`].
    pub fn is_allowed(self) -> bool {
        self == Decision::Allowed
    }

    /// The wire spelling (`docs/http-api.md#a-request`): `allowed`, `explicitDeny`, `implicitDeny`.
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allowed => "allowed",
            Decision::ExplicitDeny => "explicitDeny",
            Decision::ImplicitDeny => "implicitDeny",
        }
    }
}

/// Which kind of policy a matched statement belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum StatementKind {
    /// A user, group or role policy (inline or managed).
    Identity,
    /// The principal's permissions boundary.
    Boundary,
    /// The request's session policy.
    Session,
    /// A resource-based policy.
    Resource,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
    /// A role's trust policy.
    Trust,
}

/// A statement whose Action, Resource, Principal and Condition all matched the request.
///
/// Fields are private (read them through the accessors) so that what a match records can grow
/// without breaking callers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Matched {
    pub(crate) kind: StatementKind,
    pub(crate) policy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sid: Option<String>,
    pub(crate) effect: &'static str,
}

impl Matched {
    /// The kind of policy.
    pub fn kind(&self) -> StatementKind {
        self.kind
    }

    /// The policy: a managed policy or resource ARN, `ENTITY_ARN#NAME` for an inline policy,
    /// `ROLE_ARN#trust`, the SCP/RCP name, or `request#sessionPolicy` / `request#resourcePolicy`.
    pub fn policy(&self) -> &str {
        &self.policy
    }

    /// The statement's `Sid`, when it has one.
    pub fn sid(&self) -> Option<&str> {
        self.sid.as_deref()
    }

    /// `Allow` or `Deny`.
    pub fn effect(&self) -> &'static str {
        self.effect
    }
}

/// The slow-path details of a decision, present when the request asked for `explain`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Explanation {
    pub(crate) matched: Vec<Matched>,
    #[serde(rename = "missingContextKeys")]
    pub(crate) missing_context_keys: Vec<String>,
    pub(crate) notes: Vec<String>,
}

impl Explanation {
    /// Every statement that matched, in evaluation order.
    pub fn matched(&self) -> &[Matched] {
        &self.matched
    }

    /// Context keys that a condition of an otherwise matching statement read but the request
    /// did not carry.
    pub fn missing_context_keys(&self) -> &[String] {
        &self.missing_context_keys
    }

    /// Why the decision came out as it did, in words, in the order the evaluator reached them.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }
}

/// The answer to one request: what `POST /v1/authorize`, `keycard authorize` and
/// `keycard_authorize_json` all return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Answer {
    pub(crate) decision: Decision,
    pub(crate) snapshot: String,
    /// The signer, for a request authenticated by [`crate::Snapshot::authorize_signed`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) principal: Option<String>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub(crate) explanation: Option<Explanation>,
}

impl Answer {
    /// An answer without a signer.
    pub(crate) fn new(decision: Decision, snapshot: &str, explanation: Option<Explanation>) -> Answer {
        Answer { decision, snapshot: snapshot.to_owned(), principal: None, explanation }
    }

    /// The decision.
    pub fn decision(&self) -> Decision {
        self.decision
    }

    /// The id of the snapshot that decided.
    pub fn snapshot(&self) -> &str {
        &self.snapshot
    }

    /// The ARN of the signer whose signature [`crate::Snapshot::authorize_signed`] verified: the
    /// principal the request was decided as. `None` for a request that named its principal.
    pub fn principal(&self) -> Option<&str> {
        self.principal.as_deref()
    }

    /// The matched statements, missing context keys and notes, when the request asked for
    /// `explain`.
    pub fn explanation(&self) -> Option<&Explanation> {
        self.explanation.as_ref()
    }

    /// The answer as a JSON value (`docs/http-api.md#a-request`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({"decision": "implicitDeny"}))
    }
}

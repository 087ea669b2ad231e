//! What a decision returns: the decision itself, the snapshot it came from, and (with
//! `explain`) the statements that decided it, the context keys conditions wanted but did not
//! get, and notes. Serializes to the JSON of `docs/http-api.md#a-request`.

use serde::Serialize;

/// The IAM policy simulator's three decisions.
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matched {
    /// The kind of policy.
    pub kind: StatementKind,
    /// The policy: a managed policy or resource ARN, `ENTITY_ARN#NAME` for an inline policy,
    /// `ROLE_ARN#trust`, the SCP/RCP name, or `request#sessionPolicy` / `request#resourcePolicy`.
    pub policy: String,
    /// The statement's `Sid`, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// `Allow` or `Deny`.
    pub effect: &'static str,
}

/// The slow-path details of a decision, present when the request asked for `explain`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// Every statement that matched.
    pub matched: Vec<Matched>,
    /// Context keys that a condition of an otherwise matching statement read but the request
    /// did not carry.
    #[serde(rename = "missingContextKeys")]
    pub missing_context_keys: Vec<String>,
    /// Why the decision came out as it did, in words.
    pub notes: Vec<String>,
}

/// The answer to one request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// The decision.
    pub decision: Decision,
    /// The id of the snapshot that decided.
    pub snapshot: String,
    /// Details, when `explain` was asked for.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

impl Answer {
    /// The answer as a JSON value.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_else(|_| serde_json::json!({"decision": "implicitDeny"}))
    }
}

//! Policy documents as plain data, after parsing and validation.
//!
//! Nothing here evaluates anything: the reference evaluator (and later the compiled index) read
//! these types. Every value that the evaluator would otherwise parse per request (CIDRs, numbers,
//! dates, base64, wildcard patterns, policy-variable templates) is parsed once, at load time.

use crate::net::Cidr;
use crate::policy::glob::Template;
use crate::policy::value::{Decimal, Instant};

/// The policy language version: only 2012-10-17 knows policy variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Version {
    V2008,
    V2012,
}

/// Which kind of policy a document is; the rules differ per kind
/// (`docs/semantics.md#elements-per-policy-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PolicyKind {
    /// User, group or role policy (inline or managed), also used as a permissions boundary.
    Identity,
    /// An AWS managed policy (`arn:aws:iam::aws:policy/...`): an identity policy written by AWS,
    /// which is not held to the customer-facing `Sid` rules (a dump must load unchanged).
    AwsManaged,
    /// A session policy passed with the request.
    Session,
    /// A resource-based policy (bucket, queue, key ...).
    Resource,
    /// A role's trust policy.
    Trust,
    /// A service control policy.
    Scp,
    /// A resource control policy.
    Rcp,
}

/// `Allow` or `Deny`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Effect {
    Allow,
    Deny,
}

impl Effect {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Effect::Allow => "Allow",
            Effect::Deny => "Deny",
        }
    }
}

/// A parsed, validated policy document.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub statements: Vec<Statement>,
}

/// One statement.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<PrincipalBlock>,
    pub action: ActionBlock,
    /// `None` only in trust policies, which have no Resource element.
    pub resource: Option<ResourceBlock>,
    pub conditions: Vec<Condition>,
}

/// `Action` or `NotAction`: lowercase glob patterns (`s3:get*`).
#[derive(Debug, Clone)]
pub(crate) struct ActionBlock {
    pub not: bool,
    pub patterns: Vec<Template>,
}

/// `Resource` or `NotResource`: case-sensitive glob templates, possibly with policy variables.
#[derive(Debug, Clone)]
pub(crate) struct ResourceBlock {
    pub not: bool,
    pub patterns: Vec<Template>,
}

/// `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, Default)]
pub(crate) struct PrincipalBlock {
    pub not: bool,
    /// `"*"` or `{"AWS": "*"}`: everyone, anonymous included.
    pub any: bool,
    /// ARNs and unique IDs; bare account IDs normalised to `arn:aws:iam::ID:root`.
    pub aws: Vec<String>,
    pub service: Vec<String>,
    pub federated: Vec<String>,
    pub canonical_user: Vec<String>,
}

/// The comparison an operator makes (`docs/semantics.md#condition-operators`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub(crate) enum OpKind {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

/// What an operator's values are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

/// The names of IAM's 27 condition operators (without `IfExists` or a `ForAllValues:` /
/// `ForAnyValue:` qualifier), in the order of the IAM User Guide.
pub const CONDITION_OPERATORS: [&str; 27] = {
    let mut names = [""; 27];
    let mut i = 0;
    while i < names.len() {
        names[i] = OpKind::ALL[i].1;
        i += 1;
    }
    names
};

impl OpKind {
    /// Every operator with its IAM name.
    pub(crate) const ALL: [(OpKind, &'static str); 27] = [
        (OpKind::StringEquals, "StringEquals"),
        (OpKind::StringNotEquals, "StringNotEquals"),
        (OpKind::StringEqualsIgnoreCase, "StringEqualsIgnoreCase"),
        (OpKind::StringNotEqualsIgnoreCase, "StringNotEqualsIgnoreCase"),
        (OpKind::StringLike, "StringLike"),
        (OpKind::StringNotLike, "StringNotLike"),
        (OpKind::NumericEquals, "NumericEquals"),
        (OpKind::NumericNotEquals, "NumericNotEquals"),
        (OpKind::NumericLessThan, "NumericLessThan"),
        (OpKind::NumericLessThanEquals, "NumericLessThanEquals"),
        (OpKind::NumericGreaterThan, "NumericGreaterThan"),
        (OpKind::NumericGreaterThanEquals, "NumericGreaterThanEquals"),
        (OpKind::DateEquals, "DateEquals"),
        (OpKind::DateNotEquals, "DateNotEquals"),
        (OpKind::DateLessThan, "DateLessThan"),
        (OpKind::DateLessThanEquals, "DateLessThanEquals"),
        (OpKind::DateGreaterThan, "DateGreaterThan"),
        (OpKind::DateGreaterThanEquals, "DateGreaterThanEquals"),
        (OpKind::Bool, "Bool"),
        (OpKind::BinaryEquals, "BinaryEquals"),
        (OpKind::IpAddress, "IpAddress"),
        (OpKind::NotIpAddress, "NotIpAddress"),
        (OpKind::ArnEquals, "ArnEquals"),
        (OpKind::ArnLike, "ArnLike"),
        (OpKind::ArnNotEquals, "ArnNotEquals"),
        (OpKind::ArnNotLike, "ArnNotLike"),
        (OpKind::Null, "Null"),
    ];

    pub(crate) fn family(self) -> Family {
        use OpKind::*;
        match self {
            StringEquals
            | StringNotEquals
            | StringEqualsIgnoreCase
            | StringNotEqualsIgnoreCase
            | StringLike
            | StringNotLike => Family::String,
            NumericEquals
            | NumericNotEquals
            | NumericLessThan
            | NumericLessThanEquals
            | NumericGreaterThan
            | NumericGreaterThanEquals => Family::Numeric,
            DateEquals
            | DateNotEquals
            | DateLessThan
            | DateLessThanEquals
            | DateGreaterThan
            | DateGreaterThanEquals => Family::Date,
            Bool => Family::Bool,
            BinaryEquals => Family::Binary,
            IpAddress | NotIpAddress => Family::Ip,
            ArnEquals | ArnLike | ArnNotEquals | ArnNotLike => Family::Arn,
            Null => Family::Null,
        }
    }

    /// Negated operators combine their values as "matches none" and are true on a missing key.
    pub(crate) fn negated(self) -> bool {
        use OpKind::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
                | ArnNotEquals
                | ArnNotLike
        )
    }

    /// Whether `*` and `?` in the policy value are wildcards.
    pub(crate) fn wildcards(self) -> bool {
        use OpKind::*;
        matches!(self, StringLike | StringNotLike | ArnEquals | ArnLike | ArnNotEquals | ArnNotLike)
    }
}

/// `ForAllValues:` / `ForAnyValue:` or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Qualifier {
    None,
    ForAllValues,
    ForAnyValue,
}

/// A full operator: qualifier, comparison, `IfExists`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Operator {
    pub kind: OpKind,
    pub if_exists: bool,
    pub qualifier: Qualifier,
}

/// A policy-side condition value, parsed for its family at load time.
#[derive(Debug, Clone)]
pub(crate) enum CondValue {
    /// String, Arn and Bool values: a template (variables resolved per request).
    Text(Template),
    Number(Decimal),
    Date(Instant),
    Binary(Vec<u8>),
    Cidr(Cidr),
    /// `Null`: `true` means "the key must be absent".
    Null(bool),
}

/// One `operator: { key: values }` entry.
#[derive(Debug, Clone)]
pub(crate) struct Condition {
    pub op: Operator,
    /// The key as written (for explanations).
    pub key: String,
    /// The key lowercased: context keys are case-insensitive.
    pub key_lc: String,
    pub values: Vec<CondValue>,
}

//! A temporary credential's session: what `AssumeRole*` and `GetSessionToken` issued, carried
//! inside the session token ([`super::token`]) and applied to every request signed with it: the
//! principal, session policies intersected with the role's, session tags as `aws:PrincipalTag`,
//! `aws:TokenIssueTime`, MFA keys and the source identity (`docs/semantics.md#roles-and-sts`,
//! `#global-context-keys`).

use serde::{Deserialize, Serialize};

/// What issued the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionKind {
    /// `AssumeRole` / `AssumeRoleWithWebIdentity`: a role session.
    Role,
    /// `GetSessionToken`: the user itself, with temporary keys.
    User,
}

/// A temporary credential's session. Sealed into its token; never logged. Crate-private, so
/// that nothing outside keycard can build or deserialize one and pass it off as authenticated.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Session {
    /// Role session or user session.
    pub kind: SessionKind,
    /// `ASIA…`.
    pub access_key_id: String,
    /// The secret the caller signs with.
    pub secret: String,
    /// `arn:aws:sts::A:assumed-role/ROLE/SESSION`, or the user's ARN.
    pub principal: String,
    /// The role's ARN (with its path), for role sessions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The role's unique id (`AROA…`), for `AssumedRoleId`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_id: Option<String>,
    /// The session policy passed inline (`Policy`), as JSON text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Managed session policies (`PolicyArns`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policy_arns: Vec<String>,
    /// Session tags (inherited transitive tags overridden by new ones); role tags are not here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// Keys of `tags` that pass down a role chain (lowercase).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transitive: Vec<String>,
    /// `SourceIdentity`, fixed for the rest of a chain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// When MFA was last proved (seconds since the epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa_at: Option<u64>,
    /// The OIDC provider of a web-identity session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub federated_provider: Option<String>,
    /// Issue time (seconds since the epoch): `aws:TokenIssueTime`.
    pub issued: u64,
    /// Expiry (seconds since the epoch).
    pub expires: u64,
    /// 0 for a session from long-term keys or a web identity, +1 per role-chaining step.
    #[serde(default)]
    pub chain: u8,
}

impl Session {
    /// A session of `principal` with no keys, policies, tags or MFA yet.
    pub(crate) fn new(kind: SessionKind, principal: String, issued: u64, expires: u64) -> Session {
        Session {
            kind,
            access_key_id: String::new(),
            secret: String::new(),
            principal,
            role_arn: None,
            role_id: None,
            policy: None,
            policy_arns: Vec::new(),
            tags: Vec::new(),
            transitive: Vec::new(),
            source_identity: None,
            mfa_at: None,
            federated_provider: None,
            issued,
            expires,
            chain: 0,
        }
    }
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("kind", &self.kind)
            .field("access_key_id", &self.access_key_id)
            .field("principal", &self.principal)
            .field("issued", &self.issued)
            .field("expires", &self.expires)
            .finish_non_exhaustive()
    }
}

/// What evaluation needs from a session besides the principal (kept on the request).
#[derive(Debug, Clone, Default)]
pub(crate) struct SessionFacts {
    /// The principal's tags for this session: role (or user) tags overridden by session tags.
    pub tags: Vec<(String, String)>,
    /// A `GetSessionToken` session (its credential restrictions apply).
    pub user_session: bool,
    /// MFA was used.
    pub mfa: bool,
}

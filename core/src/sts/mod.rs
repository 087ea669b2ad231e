//! keycard's STS: the operations of AWS's Security Token Service that issue and describe
//! temporary credentials ([`Sts`], in `service`), and the rules that are validation, not policy,
//! such as session durations (`docs/semantics.md#durations`): AWS rejects an out-of-range
//! `DurationSeconds` with a `ValidationError` before any policy is evaluated, and so does keycard.
//!
//! The wire protocol (AWS's Query protocol, XML) is the sidecar's; this module takes decoded
//! parameters and answers values or an [`StsError`] with AWS's code.

mod service;

pub use service::{CallFacts, CallerIdentity, Issued, Params, Sts, TemporaryCredentials};

use crate::auth::{AuthCode, AuthError};

/// An STS operation and what bounds its duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StsOperation {
    /// `AssumeRole*`: up to the role's `MaxSessionDuration`; 1 hour when chained from a role session.
    AssumeRole {
        /// The role's `MaxSessionDuration` (3,600 to 43,200 seconds).
        role_max_session: u32,
        /// The caller is itself a role session (role chaining).
        chained: bool,
    },
    /// `GetSessionToken`.
    GetSessionToken {
        /// Called by the root user (capped at one hour).
        root: bool,
    },
}

/// The AWS error code of a refused STS call: what [`StsError::code`] returns for callers to match,
/// and what decides the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StsCode {
    /// The caller's permissions, the role's trust policy or an MFA code refuse the call.
    AccessDenied,
    /// A parameter outside its constraints (length, pattern, range).
    ValidationError,
    /// A required parameter is missing.
    MissingParameter,
    /// A parameter that is well formed but refused (duplicate tags, an unknown policy ARN).
    InvalidParameterValue,
    /// A session policy that is not valid JSON or not a valid policy.
    MalformedPolicyDocument,
    /// Session policies and tags together exceed the packed size limit.
    PackedPolicyTooLarge,
    /// The request has no `Action` parameter.
    MissingAction,
    /// An operation keycard's STS does not have, or a wrong `Version`.
    InvalidAction,
    /// No snapshot is loaded yet.
    ServiceUnavailable,
    /// The call could not be authenticated (a signature, a session token or a web identity
    /// token), with the code [`crate::auth::authenticate`] or the token check gave.
    Auth(AuthCode),
}

impl StsCode {
    /// The code as AWS writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            StsCode::AccessDenied => "AccessDenied",
            StsCode::ValidationError => "ValidationError",
            StsCode::MissingParameter => "MissingParameter",
            StsCode::InvalidParameterValue => "InvalidParameterValue",
            StsCode::MalformedPolicyDocument => "MalformedPolicyDocument",
            StsCode::PackedPolicyTooLarge => "PackedPolicyTooLarge",
            StsCode::MissingAction => "MissingAction",
            StsCode::InvalidAction => "InvalidAction",
            StsCode::ServiceUnavailable => "ServiceUnavailable",
            StsCode::Auth(code) => code.as_str(),
        }
    }

    /// The HTTP status AWS answers the code with.
    pub fn http_status(self) -> u16 {
        match self {
            StsCode::AccessDenied => 403,
            StsCode::ServiceUnavailable => 503,
            StsCode::Auth(code) => code.http_status(),
            _ => 400,
        }
    }
}

impl std::fmt::Display for StsCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A refused STS call, with AWS's error code ([`StsCode`]) and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct StsError {
    code: StsCode,
    message: String,
}

impl StsError {
    /// An error with AWS code `code`: keycard's own refusals, and the protocol layer's
    /// (`MissingAction`, `InvalidAction`, ...).
    pub fn new(code: StsCode, message: impl Into<String>) -> StsError {
        StsError { code, message: message.into() }
    }

    pub(crate) fn validation(message: impl Into<String>) -> StsError {
        StsError::new(StsCode::ValidationError, message)
    }

    /// The AWS error code.
    pub fn code(&self) -> StsCode {
        self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status AWS answers the code with.
    pub fn http_status(&self) -> u16 {
        self.code.http_status()
    }
}

impl From<AuthError> for StsError {
    fn from(e: AuthError) -> StsError {
        StsError { code: StsCode::Auth(e.code()), message: e.message().to_owned() }
    }
}

/// The session duration for `op` given the requested `DurationSeconds` (or the default).
///
/// # Errors
/// [`StsError`] when the requested duration is outside the operation's range.
pub fn session_duration(op: StsOperation, requested: Option<u32>) -> Result<u32, StsError> {
    let (min, max, default) = match op {
        StsOperation::AssumeRole { chained: true, .. } => (900, 3600, 3600),
        StsOperation::AssumeRole { role_max_session, chained: false } => {
            (900, role_max_session.clamp(3600, 43_200), 3600)
        }
        StsOperation::GetSessionToken { root: true } => (900, 3600, 3600),
        StsOperation::GetSessionToken { root: false } => (900, 129_600, 43_200),
    };
    let d = requested.unwrap_or(default);
    if d < min || d > max {
        return Err(StsError::validation(format!(
            "The requested DurationSeconds {d} exceeds the allowed range {min} to {max} seconds for this operation"
        )));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_chaining_is_capped_at_one_hour() {
        let op = StsOperation::AssumeRole { role_max_session: 43_200, chained: true };
        assert!(session_duration(op, Some(7200)).is_err());
        assert_eq!(session_duration(op, None), Ok(3600));
    }

    #[test]
    fn assume_role_respects_max_session_duration() {
        let op = StsOperation::AssumeRole { role_max_session: 7200, chained: false };
        assert_eq!(session_duration(op, Some(7200)), Ok(7200));
        assert!(session_duration(op, Some(7201)).is_err());
        assert!(session_duration(op, Some(899)).is_err());
        assert_eq!(session_duration(op, Some(900)), Ok(900));
    }

    #[test]
    fn session_token_ranges() {
        assert_eq!(session_duration(StsOperation::GetSessionToken { root: false }, None), Ok(43_200));
        assert_eq!(session_duration(StsOperation::GetSessionToken { root: false }, Some(129_600)), Ok(129_600));
        assert!(session_duration(StsOperation::GetSessionToken { root: true }, Some(7200)).is_err());
        assert!(session_duration(StsOperation::GetSessionToken { root: false }, Some(129_601)).is_err());
        assert!(session_duration(StsOperation::GetSessionToken { root: false }, Some(899)).is_err());
    }
}

//! keycard's STS: the operations of AWS's Security Token Service that issue and describe
//! temporary credentials ([`Sts`], in `service`), and the rules that are validation, not policy,
//! such as session durations (`docs/semantics.md#durations`): AWS rejects an out-of-range
//! `DurationSeconds` with a `ValidationError` before any policy is evaluated, and so does keycard.
//!
//! The wire protocol (AWS's Query protocol, XML) is the sidecar's; this module takes decoded
//! parameters and answers values or an [`StsError`] with AWS's code.

mod service;

pub use service::{CallFacts, CallerIdentity, Issued, Params, Sts, TemporaryCredentials};

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

/// A refused STS call, with AWS's error code (`ValidationError`, `AccessDenied`, ...).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct StsError {
    code: &'static str,
    message: String,
}

impl StsError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> StsError {
        StsError { code, message: message.into() }
    }

    /// An error with AWS code `code` (`MissingAction`, `InvalidAction`, ...), for the protocol
    /// layer's own refusals.
    pub fn from_parts(code: &'static str, message: impl Into<String>) -> StsError {
        StsError::new(code, message)
    }

    pub(crate) fn validation(message: impl Into<String>) -> StsError {
        StsError::new("ValidationError", message)
    }

    /// The AWS error code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The HTTP status AWS answers the code with.
    pub fn http_status(&self) -> u16 {
        match self.code {
            "AccessDenied"
            | "InvalidClientTokenId"
            | "SignatureDoesNotMatch"
            | "MissingAuthenticationToken"
            | "IDPRejectedClaim" => 403,
            "InternalFailure" => 500,
            "ServiceUnavailable" => 503,
            _ => 400,
        }
    }
}

impl From<crate::auth::AuthError> for StsError {
    fn from(e: crate::auth::AuthError) -> StsError {
        StsError { code: e.code().as_str(), message: e.message().to_owned() }
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

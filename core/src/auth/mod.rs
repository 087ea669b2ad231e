//! Authentication: who signed a request. keycard verifies AWS Signature Version 4 for long-term
//! access keys held in the store (`Credentials`) and for the temporary credentials its STS issued
//! (sealed session tokens), checks TOTP MFA codes and OpenID Connect tokens, all without network.
//!
//! [`authenticate`] is the one entry point: a [`SignedRequest`] in, an [`Identity`] or an
//! [`AuthError`] carrying the AWS error code a real client expects out.

pub mod jwt;
pub(crate) mod session;
pub mod sigv4;
pub mod throttle;
pub mod token;
pub mod totp;

pub(crate) use session::Session;
pub use session::SessionKind;
pub use sigv4::{Signature, SignedRequest};
pub use token::{KeyFileError, SealKeys};

use crate::store::credentials::AccessKey;
use crate::store::Store;

/// An AWS authentication error code: what [`AuthError::code`] returns for callers to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthCode {
    /// No signature at all.
    MissingAuthenticationToken,
    /// A signature with a part missing or malformed.
    IncompleteSignature,
    /// An unknown or inactive access key, or a session token that is not valid.
    InvalidClientTokenId,
    /// The signature does not match.
    SignatureDoesNotMatch,
    /// The session token has expired.
    ExpiredToken,
    /// The request's date is outside the allowed window, or a presigned URL has expired.
    RequestExpired,
    /// A web identity token that does not verify.
    InvalidIdentityToken,
    /// A web identity token that has expired.
    ExpiredTokenException,
    /// The body received is not the one the signature covers (`x-amz-content-sha256` differs
    /// from its hash, or `UNSIGNED-PAYLOAD` outside S3).
    XAmzContentSHA256Mismatch,
    /// Something on keycard's side failed (fail closed).
    InternalFailure,
}

impl AuthCode {
    /// The code as AWS writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthCode::MissingAuthenticationToken => "MissingAuthenticationToken",
            AuthCode::IncompleteSignature => "IncompleteSignature",
            AuthCode::InvalidClientTokenId => "InvalidClientTokenId",
            AuthCode::SignatureDoesNotMatch => "SignatureDoesNotMatch",
            AuthCode::ExpiredToken => "ExpiredToken",
            AuthCode::RequestExpired => "RequestExpired",
            AuthCode::InvalidIdentityToken => "InvalidIdentityToken",
            AuthCode::ExpiredTokenException => "ExpiredTokenException",
            AuthCode::XAmzContentSHA256Mismatch => "XAmzContentSHA256Mismatch",
            AuthCode::InternalFailure => "InternalFailure",
        }
    }

    /// The HTTP status AWS answers it with.
    pub fn http_status(self) -> u16 {
        match self {
            AuthCode::IncompleteSignature
            | AuthCode::ExpiredToken
            | AuthCode::RequestExpired
            | AuthCode::InvalidIdentityToken
            | AuthCode::ExpiredTokenException
            | AuthCode::XAmzContentSHA256Mismatch => 400,
            AuthCode::InternalFailure => 500,
            _ => 403,
        }
    }
}

/// A request that could not be authenticated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", code.as_str())]
pub struct AuthError {
    code: AuthCode,
    message: String,
}

impl AuthError {
    pub(crate) fn new(code: AuthCode, message: impl Into<String>) -> AuthError {
        AuthError { code, message: message.into() }
    }

    pub(crate) fn internal(message: impl Into<String>) -> AuthError {
        AuthError::new(AuthCode::InternalFailure, message)
    }

    /// The AWS error code.
    pub fn code(&self) -> AuthCode {
        self.code
    }

    /// The message, as AWS would word it.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The error as the sidecar, the CLI and the C ABI answer a signed request that does not
    /// verify: `{"error": "...", "code": "SignatureDoesNotMatch"}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "error": self.message, "code": self.code.as_str() })
    }
}

/// Who vouches for the key that signed a request ([`crate::Snapshot::authorize_signed`]).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Verifier<'a> {
    /// Only the store's long-term access keys (`keycard authorize`).
    StoreKeys,
    /// The store's keys, and session tokens sealed with these keys (the C ABI with
    /// `keycard_options_set_sts_key_file`).
    Sessions(&'a SealKeys),
    /// Through keycard's STS (`keycard serve`): its keys open session tokens, and a long-term key
    /// whose signatures keep failing is throttled (`crate::auth::throttle`).
    Sts(&'a crate::sts::Sts),
}

impl Verifier<'_> {
    /// Verifies `request` at `now` (seconds since the epoch).
    pub(crate) fn verify(
        self,
        store: &Store,
        request: &SignedRequest,
        now: u64,
    ) -> Result<(Identity, Signature), AuthError> {
        match self {
            Verifier::StoreKeys => authenticate(store, None, request, now),
            Verifier::Sessions(keys) => authenticate(store, Some(keys), request, now),
            Verifier::Sts(sts) => sts.authenticate(store, request, now),
        }
    }
}

/// Who signed a request: the proof that a request was authenticated. Only keycard makes one
/// ([`authenticate`], the STS's token opener and gateway identities): it cannot be built,
/// deserialized or altered outside the crate, so holding one means the signature verified.
///
/// Neither an identity nor a session can be made up in code that uses keycard:
///
/// ```compile_fail
/// let forged = keycard::auth::Identity::User {
///     arn: "arn:aws:iam::111122223333:user/admin".into(),
///     user_id: String::new(),
///     access_key_id: "AKIAFORGED".into(),
/// };
/// ```
///
/// ```compile_fail
/// let session: keycard::auth::Session = serde_json::from_str("{}").unwrap();
/// ```
///
/// and a request becomes its signer's only with the proof:
///
/// ```compile_fail
/// # fn f(store: &keycard::Store, who: &keycard::auth::Identity) {
/// let mut request = keycard::Request::new("*", "s3:GetObject", "*").unwrap();
/// request.act_as(store, who, 0);
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct Identity(pub(crate) Who);

/// What an [`Identity`] proves.
#[derive(Debug, Clone)]
pub(crate) enum Who {
    /// An IAM user's long-term access key.
    User {
        /// The user's ARN.
        arn: String,
        /// The user's unique id (`AIDA…`), when the store has it.
        user_id: String,
        /// `AKIA…`.
        access_key_id: String,
    },
    /// Temporary credentials this STS issued.
    Session(Box<Session>),
}

impl Identity {
    /// The principal ARN requests are evaluated as.
    pub fn principal_arn(&self) -> &str {
        match &self.0 {
            Who::User { arn, .. } => arn,
            Who::Session(s) => &s.principal,
        }
    }

    /// The access key id used.
    pub fn access_key_id(&self) -> &str {
        match &self.0 {
            Who::User { access_key_id, .. } => access_key_id,
            Who::Session(s) => &s.access_key_id,
        }
    }

    /// Whether these are temporary credentials (a session token), not a long-term key.
    pub fn is_session(&self) -> bool {
        matches!(self.0, Who::Session(_))
    }

    /// When temporary credentials expire (seconds since the epoch); `None` for a long-term key.
    pub fn expires(&self) -> Option<u64> {
        self.session().map(|s| s.expires)
    }

    /// The session, for temporary credentials.
    pub(crate) fn session(&self) -> Option<&Session> {
        match &self.0 {
            Who::Session(s) => Some(s),
            Who::User { .. } => None,
        }
    }

    /// The account of the principal.
    pub fn account(&self) -> &str {
        crate::arn::arn_account(self.principal_arn()).unwrap_or_default()
    }
}

/// Verifies `request`'s SigV4 signature at `now` (seconds since the epoch): a long-term key of
/// `store`, or a session token that `keys` open.
///
/// # Errors
/// An [`AuthError`] with AWS's code: `MissingAuthenticationToken`, `IncompleteSignature`,
/// `InvalidClientTokenId` (unknown or inactive key, bad token), `SignatureDoesNotMatch`,
/// `ExpiredToken`, `RequestExpired`, `XAmzContentSHA256Mismatch`.
pub fn authenticate(
    store: &Store,
    keys: Option<&SealKeys>,
    request: &SignedRequest,
    now: u64,
) -> Result<(Identity, Signature), AuthError> {
    verify(store, keys, request, now).map_err(|(e, _)| e)
}

/// Which key a failed verification got to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyReached {
    /// None: the request did not name a key the store or the sealing keys vouch for.
    Unknown,
    /// A long-term key of the store.
    LongTerm,
    /// The key of a session token that opened.
    Session,
}

/// [`authenticate`], saying on failure whether the signature was checked against a real key
/// (so that failures are counted only against keys that exist).
pub(crate) fn verify(
    store: &Store,
    keys: Option<&SealKeys>,
    request: &SignedRequest,
    now: u64,
) -> Result<(Identity, Signature), (AuthError, KeyReached)> {
    let unknown = |e| (e, KeyReached::Unknown);
    let sig = request.signature().map_err(unknown)?;
    let invalid_key =
        || AuthError::new(AuthCode::InvalidClientTokenId, "The security token included in the request is invalid.");
    if sig.access_key_id.starts_with("ASIA") || sig.security_token.is_some() {
        let (Some(token), Some(keys)) = (sig.security_token.as_deref(), keys) else {
            return Err(unknown(invalid_key()));
        };
        let session = keys.open(token).map_err(unknown)?;
        if session.access_key_id != sig.access_key_id {
            return Err(unknown(invalid_key()));
        }
        // The token is authentic (sealed by us), so its expiry can be told before the signature
        // is checked: a request replayed after expiry is `ExpiredToken`, as clients expect.
        if now >= session.expires {
            return Err((
                AuthError::new(AuthCode::ExpiredToken, "The security token included in the request is expired"),
                KeyReached::Session,
            ));
        }
        request.verify(&sig, &session.secret, now).map_err(|e| (e, KeyReached::Session))?;
        return Ok((Identity(Who::Session(Box::new(session))), sig));
    }
    let key: &AccessKey =
        store.auth.keys.get(&sig.access_key_id).filter(|k| k.active).ok_or_else(|| unknown(invalid_key()))?;
    request.verify(&sig, &key.secret, now).map_err(|e| (e, KeyReached::LongTerm))?;
    let user_id = store
        .user_by_arn
        .get(&key.user_arn)
        .and_then(|&i| store.users.get(i))
        .map(|u| u.id.clone())
        .unwrap_or_default();
    Ok((Identity(Who::User { arn: key.user_arn.clone(), user_id, access_key_id: key.id.clone() }), sig))
}

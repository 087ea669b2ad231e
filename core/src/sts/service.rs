//! The STS operations (`docs/semantics.md#roles-and-sts`, `docs/sts.md`): `GetCallerIdentity`,
//! `AssumeRole`, `GetSessionToken` and `AssumeRoleWithWebIdentity`, decided against a snapshot and
//! answered with temporary credentials sealed by [`SealKeys`].
//!
//! Every call is validated first (durations, session names, tags, MFA codes), as AWS does, then
//! decided by the same evaluator as any request: `sts:AssumeRole` on the role ARN, which checks
//! the trust policy and, where AWS requires it, the caller's identity policies, plus
//! `sts:TagSession` / `sts:SetSourceIdentity` when tags or a source identity are passed.

use super::{session_duration, StsCode, StsError, StsOperation};
use crate::auth::throttle::{Blocked, FailureCounts, FailureReason, Throttle};
use crate::auth::totp::{matching_step, UsedCodes};
use crate::auth::{
    jwt, AuthCode, AuthError, Identity, KeyReached, SealKeys, Session, SessionKind, Signature, SignedRequest, Who,
};
use crate::decide::answer::Decision;
use crate::decide::request::{PrincipalRef, Request};
use crate::decide::snapshot::Snapshot;
use crate::policy::ast::PolicyKind;
use crate::policy::context::Scalar;
use crate::policy::json::Json;
use crate::policy::parse::parse_policy;
use crate::store::{Role, Store};

/// Most session tags per session.
const MAX_TAGS: usize = 50;
/// Most managed session policies.
const MAX_POLICY_ARNS: usize = 10;
/// The packed size limit of session policies and tags, in characters (AWS reports a percentage).
const PACKED_LIMIT: usize = 2048;
/// The longest `Policy` parameter, in characters, whitespace included (AWS's API constraint).
const MAX_POLICY_CHARS: usize = 2048;
/// The longest ARN parameter (`RoleArn`, `PolicyArns.member.N.arn`, `SerialNumber`).
const MAX_ARN_CHARS: usize = 2048;
/// The longest `WebIdentityToken` (AWS: 4 to 20,000 characters).
const MAX_WEB_IDENTITY_TOKEN: usize = 20_000;

/// Refuses a parameter longer than `max` characters, before anything reads it.
fn check_length(name: &str, value: &str, max: usize) -> Result<(), StsError> {
    // Bytes bound characters from above: only a long value needs counting.
    if value.len() > max && value.chars().count() > max {
        return Err(StsError::validation(format!(
            "1 validation error detected: Value at '{name}' failed to satisfy constraint: Member must have length less than or equal to {max}"
        )));
    }
    Ok(())
}

/// The decoded parameters of a Query-protocol call, in order.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Parameters from decoded `(name, value)` pairs.
    pub fn new(pairs: Vec<(String, String)>) -> Params {
        Params { pairs }
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn required(&self, name: &str) -> Result<&str, StsError> {
        self.get(name).filter(|v| !v.is_empty()).ok_or_else(|| {
            StsError::new(StsCode::MissingParameter, format!("The request must contain the parameter {name}"))
        })
    }

    /// `Prefix.member.N[.suffix]` values in N order (AWS's list encoding).
    fn members(&self, prefix: &str, suffix: &str) -> Vec<(u32, &str)> {
        let mut out: Vec<(u32, &str)> = self
            .pairs
            .iter()
            .filter_map(|(k, v)| {
                let rest = k.strip_prefix(prefix)?.strip_prefix(".member.")?;
                let (n, tail) = match rest.split_once('.') {
                    Some((n, tail)) => (n, tail),
                    None => (rest, ""),
                };
                (tail == suffix).then(|| n.parse().ok().map(|n: u32| (n, v.as_str())))?
            })
            .collect();
        out.sort_by_key(|&(n, _)| n);
        out
    }

    fn duration(&self) -> Result<Option<u32>, StsError> {
        match self.get("DurationSeconds") {
            None => Ok(None),
            Some(d) => d.parse().map(Some).map_err(|_| {
                StsError::validation(format!(
                    "Value '{d}' at 'durationSeconds' failed to satisfy constraint: Member must be a number"
                ))
            }),
        }
    }
}

/// Temporary credentials, as STS returns them.
#[derive(Clone)]
pub struct TemporaryCredentials {
    /// `ASIA…`.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
    /// The sealed session token.
    pub session_token: String,
    /// Expiry, seconds since the epoch.
    pub expiration: u64,
}

impl std::fmt::Debug for TemporaryCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemporaryCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

/// What a credential-issuing call answers.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The credentials.
    pub credentials: TemporaryCredentials,
    /// `AssumedRoleUser`: (assumed-role id `AROA…:session`, session ARN), for role sessions.
    pub assumed_role_user: Option<(String, String)>,
    /// `PackedPolicySize`, a percentage of the limit, when session policies or tags were passed.
    pub packed_policy_size: Option<u32>,
    /// The source identity set on the session.
    pub source_identity: Option<String>,
    /// For web identities: (`SubjectFromWebIdentityToken`, `Audience`, `Provider`).
    pub web_identity: Option<(String, String, String)>,
}

/// `GetCallerIdentity`'s answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    /// The account.
    pub account: String,
    /// The principal's ARN (a role session's `assumed-role` ARN).
    pub arn: String,
    /// `AIDA…` for a user, `AROA…:SESSION` for a role session.
    pub user_id: String,
}

/// Facts of the HTTP call that STS condition keys read.
#[derive(Debug, Clone, Default)]
pub struct CallFacts {
    /// `aws:SourceIp`.
    pub source_ip: Option<String>,
    /// `aws:RequestedRegion` (the signature's region).
    pub region: Option<String>,
}

/// Session tags passed to a call, validated.
struct NewTags {
    tags: Vec<(String, String)>,
    /// Lowercase keys of `TransitiveTagKeys`.
    transitive: Vec<String>,
    /// Characters they take in the packed policy size.
    packed: usize,
}

/// keycard's STS: the sealing keys, the record of used MFA codes, and the failure throttles of MFA
/// devices and long-term access keys (`crate::auth::throttle`). All three are per process: see
/// the README on replicas.
#[derive(Debug)]
pub struct Sts {
    keys: SealKeys,
    used_codes: UsedCodes,
    devices: Throttle,
    access_keys: Throttle,
    failures: FailureCounts,
}

fn is_session_name(s: &str) -> bool {
    (2..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

/// `RoleSessionName`: 2 to 64 characters of `[\w+=,.@-]`.
fn check_session_name(session_name: &str) -> Result<(), StsError> {
    if is_session_name(session_name) {
        return Ok(());
    }
    Err(StsError::validation(format!(
        "Value '{session_name}' at 'roleSessionName' failed to satisfy constraint: Member must have length 2 to 64 and satisfy regular expression pattern: [\\w+=,.@-]*"
    )))
}

fn not_authorized(caller: &str, action: &str, resource: &str) -> StsError {
    StsError::new(
        StsCode::AccessDenied,
        format!("User: {caller} is not authorized to perform: {action} on resource: {resource}"),
    )
}

/// A wrong MFA code, and also a code refused unexamined during back-off or lockout: the two
/// answers are the same, so that a guesser cannot tell a right code refused from a wrong one.
fn mfa_failed() -> StsError {
    StsError::new(StsCode::AccessDenied, "MultiFactorAuthentication failed with invalid MFA one time pass code.")
}

/// A long-term key in back-off or lockout after failed signatures.
fn key_throttled() -> AuthError {
    AuthError::new(
        AuthCode::InvalidClientTokenId,
        "The security token included in the request is invalid: too many failed signatures with this access key, try again later.",
    )
}

impl Sts {
    /// An STS sealing with `keys`.
    pub fn new(keys: SealKeys) -> Sts {
        Sts {
            keys,
            used_codes: UsedCodes::default(),
            devices: Throttle::default(),
            access_keys: Throttle::default(),
            failures: FailureCounts::default(),
        }
    }

    /// Authentication failures counted so far, by reason (`signature`, `mfa`, `throttled`).
    pub fn auth_failures(&self) -> [(&'static str, u64); 3] {
        self.failures.snapshot()
    }

    /// [`crate::auth::authenticate`] with this STS's keys and failure throttle: a long-term key
    /// whose signatures keep failing is refused for a back-off, then locked out
    /// (`crate::auth::throttle`), even with a right signature, as `InvalidClientTokenId`. Session
    /// keys are counted but not throttled: their secrets are random 256-bit values, and an
    /// attacker can mint session keys to fill the table.
    ///
    /// # Errors
    /// As [`crate::auth::authenticate`].
    pub fn authenticate(
        &self,
        store: &Store,
        request: &SignedRequest,
        now: u64,
    ) -> Result<(Identity, Signature), AuthError> {
        let claimed = request.signature().ok().map(|s| s.access_key_id);
        if let Some(id) = claimed.as_deref() {
            if let Err(blocked) = self.access_keys.check(id, now) {
                self.failures.count(FailureReason::Throttled);
                tracing::warn!(access_key_id = id, ?blocked, "signature refused unexamined: access key throttled");
                return Err(key_throttled());
            }
        }
        match crate::auth::verify(store, Some(&self.keys), request, now) {
            Ok((identity, sig)) => {
                if !identity.is_session() {
                    self.access_keys.succeeded(&sig.access_key_id);
                }
                Ok((identity, sig))
            }
            Err((e, reached)) if e.code() == AuthCode::SignatureDoesNotMatch && reached != KeyReached::Unknown => {
                let id = claimed.unwrap_or_default();
                self.failures.count(FailureReason::Signature);
                if reached == KeyReached::LongTerm {
                    let failures = self.access_keys.failed(&id, now);
                    tracing::warn!(access_key_id = id, ?failures, "signature does not match");
                    if failures == Err(Blocked::Full) {
                        return Err(key_throttled());
                    }
                } else {
                    tracing::warn!(access_key_id = id, "signature does not match (session key)");
                }
                Err(e)
            }
            Err((e, _)) => Err(e),
        }
    }

    /// The keys, to open session tokens when authenticating.
    pub fn keys(&self) -> &SealKeys {
        &self.keys
    }

    /// `GetCallerIdentity`: no policy controls it.
    pub fn get_caller_identity(&self, store: &Store, identity: &Identity) -> CallerIdentity {
        let arn = identity.principal_arn().to_owned();
        let account = identity.account().to_owned();
        let user_id = match &identity.0 {
            Who::User { user_id, access_key_id, .. } => {
                if user_id.is_empty() {
                    access_key_id.clone()
                } else {
                    user_id.clone()
                }
            }
            Who::Session(s) => match s.kind {
                SessionKind::Role => {
                    let session_name = arn.rsplit('/').next().unwrap_or_default();
                    format!(
                        "{}:{session_name}",
                        s.role_id.clone().unwrap_or_else(|| role_id(store, s.role_arn.as_deref()))
                    )
                }
                SessionKind::User => store
                    .user_by_arn
                    .get(&s.principal)
                    .and_then(|&i| store.users.get(i))
                    .map(|u| u.id.clone())
                    .filter(|id| !id.is_empty())
                    .unwrap_or_else(|| s.access_key_id.clone()),
            },
        };
        CallerIdentity { account, arn, user_id }
    }

    /// Checks `SerialNumber` + `TokenCode` for `user_arn`'s device: the MFA time, or `None` when
    /// neither is given.
    fn check_mfa(
        &self,
        store: &Store,
        params: &Params,
        user_arn: Option<&str>,
        now: u64,
    ) -> Result<Option<u64>, StsError> {
        let (serial, code) = (params.get("SerialNumber"), params.get("TokenCode"));
        let (serial, code) = match (serial, code) {
            (None, None) => return Ok(None),
            (Some(s), Some(c)) => (s, c),
            (Some(_), None) => return Err(StsError::validation("SerialNumber is given without TokenCode")),
            (None, Some(_)) => return Err(StsError::validation("TokenCode is given without SerialNumber")),
        };
        check_length("serialNumber", serial, 256)?;
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(StsError::validation(format!(
                "Value '{code}' at 'tokenCode' failed to satisfy constraint: Member must have length 6 and contain only digits"
            )));
        }
        let device =
            store.auth.mfa.get(serial).filter(|d| Some(d.user_arn.as_str()) == user_arn).ok_or_else(mfa_failed)?;
        // Throttled first: during back-off or lockout even the right code is refused.
        if let Err(blocked) = self.devices.check(&device.serial, now) {
            self.failures.count(FailureReason::Throttled);
            tracing::warn!(serial = device.serial, ?blocked, "MFA code refused unexamined: device throttled");
            return Err(mfa_failed());
        }
        let fresh =
            matching_step(&device.seed, code, now).filter(|&step| self.used_codes.claim(&device.serial, step, now));
        if fresh.is_none() {
            self.failures.count(FailureReason::Mfa);
            let failures = self.devices.failed(&device.serial, now);
            tracing::warn!(serial = device.serial, user = device.user_arn, ?failures, "wrong or reused MFA code");
            return Err(mfa_failed());
        }
        self.devices.succeeded(&device.serial);
        Ok(Some(now))
    }

    /// Validates `Policy` and `PolicyArns.member.N.arn`: (inline text, ARNs, packed characters).
    fn session_policies(store: &Store, params: &Params) -> Result<(Option<String>, Vec<String>, usize), StsError> {
        let inline = params.get("Policy").filter(|p| !p.is_empty());
        let mut packed = 0;
        if let Some(text) = inline {
            // Measured as sent, whitespace included, before it is parsed.
            check_length("policy", text, MAX_POLICY_CHARS)?;
            let json = Json::parse(text).map_err(|e| {
                StsError::new(StsCode::MalformedPolicyDocument, format!("The policy is not valid JSON: {e}"))
            })?;
            let mut errors = Vec::new();
            if parse_policy(&json, PolicyKind::Session, "", &mut errors).is_none() {
                let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
                return Err(StsError::new(
                    StsCode::MalformedPolicyDocument,
                    format!("Syntax errors in policy: {}", all.join("; ")),
                ));
            }
            packed += text.chars().filter(|c| !c.is_whitespace()).count();
        }
        let arns: Vec<String> = params.members("PolicyArns", "arn").into_iter().map(|(_, a)| a.to_owned()).collect();
        if arns.len() > MAX_POLICY_ARNS {
            return Err(StsError::validation(format!(
                "At most {MAX_POLICY_ARNS} managed session policies may be passed"
            )));
        }
        for arn in &arns {
            check_length("policyArns.member.arn", arn, MAX_ARN_CHARS)?;
        }
        for arn in &arns {
            if !store.managed_by_arn.contains_key(arn) {
                return Err(StsError::new(
                    StsCode::InvalidParameterValue,
                    format!("Policy {arn} does not exist or is not attachable."),
                ));
            }
            packed += arn.len();
        }
        Ok((inline.map(str::to_owned), arns, packed))
    }

    /// Validates `Tags.member.N.Key/Value` and `TransitiveTagKeys.member.N` against the caller's
    /// inherited transitive tags: (new tags, new transitive keys, packed characters).
    fn session_tags(params: &Params, inherited: Option<&Session>) -> Result<NewTags, StsError> {
        let keys = params.members("Tags", "Key");
        // The cap first: nothing below runs for a request over it.
        if keys.len() > MAX_TAGS {
            return Err(StsError::validation(format!("At most {MAX_TAGS} session tags may be passed")));
        }
        let values: std::collections::HashMap<u32, &str> = params.members("Tags", "Value").into_iter().collect();
        let inherited: std::collections::HashSet<String> =
            inherited.map(|s| s.transitive.iter().map(|t| t.to_ascii_lowercase()).collect()).unwrap_or_default();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::with_capacity(keys.len());
        let mut tags: Vec<(String, String)> = Vec::with_capacity(keys.len());
        let mut packed = 0;
        for (n, key) in keys {
            let value = values.get(&n).copied().unwrap_or("");
            if key.is_empty() || key.chars().count() > 128 || value.chars().count() > 256 {
                return Err(StsError::validation(format!(
                    "Tag {key:?}: keys must have 1 to 128 characters and values at most 256"
                )));
            }
            let lower = key.to_ascii_lowercase();
            if !seen.insert(lower.clone()) {
                return Err(StsError::new(
                    StsCode::InvalidParameterValue,
                    format!("Duplicate tag keys found. Please note that Tag keys are case insensitive: {key}"),
                ));
            }
            if inherited.contains(&lower) {
                return Err(StsError::new(
                    StsCode::InvalidParameterValue,
                    format!(
                        "One or more tags cannot be set because they conflict with inherited transitive tags: {key}"
                    ),
                ));
            }
            packed += key.len() + value.len();
            tags.push((key.to_owned(), value.to_owned()));
        }
        let transitive_keys = params.members("TransitiveTagKeys", "");
        if transitive_keys.len() > MAX_TAGS {
            return Err(StsError::validation(format!("At most {MAX_TAGS} transitive tag keys may be passed")));
        }
        let mut transitive = Vec::with_capacity(transitive_keys.len());
        for (_, key) in transitive_keys {
            let lower = key.to_ascii_lowercase();
            if !seen.contains(&lower) {
                return Err(StsError::new(
                    StsCode::InvalidParameterValue,
                    format!("The transitive tag key {key} is not one of the session tags passed"),
                ));
            }
            transitive.push(lower);
        }
        Ok(NewTags { tags, transitive, packed })
    }

    fn new_credentials(&self, mut session: Session) -> Result<(TemporaryCredentials, Session), StsError> {
        const KEY_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut bytes = [0u8; 56];
        self.keys.random_bytes(&mut bytes)?;
        let (id_bytes, secret_bytes) = bytes.split_at(16);
        let mut id = String::from("ASIA");
        id.extend(id_bytes.iter().map(|b| char::from(KEY_ALPHABET[usize::from(b % 32)])));
        let secret: String = secret_bytes.iter().map(|b| char::from(SECRET_ALPHABET[usize::from(b % 64)])).collect();
        session.access_key_id = id.clone();
        session.secret = secret.clone();
        let token = self.keys.seal(&session)?;
        let creds = TemporaryCredentials {
            access_key_id: id,
            secret_access_key: secret,
            session_token: token,
            expiration: session.expires,
        };
        Ok((creds, session))
    }

    /// `AssumeRole` by `identity` at `now`: the call is validated (as AWS does, before any
    /// policy), then decided (`sts:AssumeRole` on the role), then the session is issued.
    ///
    /// # Errors
    /// `ValidationError`, `MissingParameter`, `InvalidParameterValue`, `MalformedPolicyDocument`,
    /// `PackedPolicyTooLarge`, or `AccessDenied` (the trust policy or the caller's permissions,
    /// a wrong MFA code).
    pub fn assume_role(
        &self,
        snapshot: &Snapshot,
        identity: &Identity,
        params: &Params,
        facts: &CallFacts,
        now: u64,
    ) -> Result<Issued, StsError> {
        let store = snapshot.store();
        let call = self.validate_assume_role(store, identity, params, now)?;
        let request = assume_role_request(store, identity, &call, facts, now)?;
        let role = store.role_by_arn.get(call.role_arn).and_then(|&i| store.roles.get(i));
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(now);
        let Some(role) = role.filter(|_| snapshot.decide_at(&request, at) == Decision::Allowed) else {
            return Err(not_authorized(identity.principal_arn(), "sts:AssumeRole", call.role_arn));
        };
        self.issue_role_session(role, identity.session(), call, now)
    }

    /// Every check AWS makes on an `AssumeRole` call before it evaluates a policy: parameters,
    /// duration, tags, session policies, source identity, external id and the MFA code.
    fn validate_assume_role<'p>(
        &self,
        store: &Store,
        identity: &Identity,
        params: &'p Params,
        now: u64,
    ) -> Result<AssumeRoleCall<'p>, StsError> {
        let role_arn = params.required("RoleArn")?;
        let session_name = params.required("RoleSessionName")?;
        check_session_name(session_name)?;
        check_length("roleArn", role_arn, MAX_ARN_CHARS)?;
        if role_arn.len() < 20 || !role_arn.starts_with("arn:") {
            return Err(StsError::validation(format!(
                "Value '{role_arn}' at 'roleArn' failed to satisfy constraint: Member must be a role ARN"
            )));
        }
        let caller_session = identity.session();
        let inherited = caller_session.filter(|s| s.kind == SessionKind::Role);
        let role = store.role_by_arn.get(role_arn).and_then(|&i| store.roles.get(i));
        let duration = session_duration(
            StsOperation::AssumeRole {
                role_max_session: role.map_or(3600, |r| r.max_session_duration),
                chained: inherited.is_some(),
            },
            params.duration()?,
        )?;
        let tags = Self::session_tags(params, inherited)?;
        let (policy, policy_arns, policy_packed) = Self::session_policies(store, params)?;
        let packed = tags.packed + policy_packed;
        if packed > PACKED_LIMIT {
            return Err(StsError::new(
                StsCode::PackedPolicyTooLarge,
                format!("Packed size of session policies and tags is {}% of the limit", packed * 100 / PACKED_LIMIT),
            ));
        }
        let source_identity =
            source_identity(params.get("SourceIdentity"), caller_session.and_then(|s| s.source_identity.as_deref()))?;
        let external_id = params.get("ExternalId");
        if external_id.is_some_and(|e| !(2..=1224).contains(&e.len())) {
            return Err(StsError::validation(
                "Value at 'externalId' failed to satisfy constraint: Member must have length 2 to 1224",
            ));
        }
        let mfa_user = match &identity.0 {
            Who::User { arn, .. } => Some(arn.as_str()),
            Who::Session(s) if s.kind == SessionKind::User => Some(s.principal.as_str()),
            Who::Session(_) => None,
        };
        let mfa_now = self.check_mfa(store, params, mfa_user, now)?;
        let passed = params.get("Policy").is_some() || !policy_arns.is_empty() || tags.packed > 0;
        Ok(AssumeRoleCall {
            role_arn,
            session_name,
            duration,
            tags,
            policy,
            policy_arns,
            packed: passed.then_some(packed),
            source_identity,
            new_source_identity: params.get("SourceIdentity"),
            external_id,
            mfa_now,
        })
    }

    /// The session of an allowed `AssumeRole` call: the caller's transitive tags overridden by
    /// the new tags, sealed into new credentials.
    fn issue_role_session(
        &self,
        role: &Role,
        caller_session: Option<&Session>,
        call: AssumeRoleCall<'_>,
        now: u64,
    ) -> Result<Issued, StsError> {
        let inherited = caller_session.filter(|s| s.kind == SessionKind::Role);
        let new_tags = call.tags.tags;
        let mut tags: Vec<(String, String)> = inherited
            .map(|s| {
                s.tags
                    .iter()
                    .filter(|(k, _)| s.transitive.iter().any(|t| t.eq_ignore_ascii_case(k)))
                    .filter(|(k, _)| !new_tags.iter().any(|(n, _)| n.eq_ignore_ascii_case(k)))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        tags.extend(new_tags);
        let mut transitive: Vec<String> = inherited.map(|s| s.transitive.clone()).unwrap_or_default();
        transitive.extend(call.tags.transitive);
        let session = Session {
            policy: call.policy,
            policy_arns: call.policy_arns,
            tags,
            transitive,
            source_identity: call.source_identity.clone(),
            mfa_at: call.mfa_now.or_else(|| caller_session.and_then(|s| s.mfa_at)),
            chain: inherited.map_or(0, |s| s.chain.saturating_add(1)),
            ..role_session(role, call.session_name, now, now + u64::from(call.duration))
        };
        let (credentials, session) = self.new_credentials(session)?;
        let session_name_id = format!("{}:{}", session.role_id.clone().unwrap_or_default(), call.session_name);
        Ok(Issued {
            credentials,
            assumed_role_user: Some((session_name_id, session.principal)),
            packed_policy_size: call.packed.map(|p| u32::try_from(p * 100 / PACKED_LIMIT).unwrap_or(100)),
            source_identity: call.source_identity,
            web_identity: None,
        })
    }

    /// `GetSessionToken` by a long-term key at `now`: the user itself, with temporary keys and,
    /// with `SerialNumber` + `TokenCode`, MFA.
    ///
    /// # Errors
    /// `AccessDenied` for session credentials or a wrong MFA code, `ValidationError`.
    pub fn get_session_token(
        &self,
        store: &Store,
        identity: &Identity,
        params: &Params,
        now: u64,
    ) -> Result<Issued, StsError> {
        let Who::User { arn, .. } = &identity.0 else {
            return Err(StsError::new(StsCode::AccessDenied, "Cannot call GetSessionToken with session credentials"));
        };
        let duration = session_duration(StsOperation::GetSessionToken { root: false }, params.duration()?)?;
        let mfa_at = self.check_mfa(store, params, Some(arn), now)?;
        let session =
            Session { mfa_at, ..Session::new(SessionKind::User, arn.clone(), now, now + u64::from(duration)) };
        let (credentials, _) = self.new_credentials(session)?;
        Ok(Issued {
            credentials,
            assumed_role_user: None,
            packed_policy_size: None,
            source_identity: None,
            web_identity: None,
        })
    }

    /// Verifies a web identity token and decides `sts:AssumeRoleWithWebIdentity` into
    /// `role_arn`: the session it would create (without keys), and (subject, audience, provider).
    ///
    /// # Errors
    /// `InvalidIdentityToken`, `ExpiredTokenException`, `AccessDenied`.
    pub(crate) fn web_identity_session(
        &self,
        snapshot: &Snapshot,
        token: &str,
        role_arn: &str,
        session_name: &str,
        facts: &CallFacts,
        now: u64,
    ) -> Result<(Session, (String, String, String)), StsError> {
        let store = snapshot.store();
        let iss = jwt::unverified_claim(token, "iss")?;
        let provider = store.auth.provider_by_issuer(&iss).ok_or_else(|| {
            StsError::new(
                StsCode::Auth(AuthCode::InvalidIdentityToken),
                format!("No OpenIDConnect provider found in your account for {iss}"),
            )
        })?;
        let claims = jwt::verify(token, &provider.jwks, &provider.issuer, &provider.client_ids, now)?;
        let mut request = Request::new("*", "sts:AssumeRoleWithWebIdentity", role_arn)
            .map_err(|e| StsError::validation(e.to_string()))?;
        request.principal = PrincipalRef::Federated(provider.arn.clone());
        let prefix = &provider.key_prefix;
        request.context.insert(&format!("{prefix}:sub"), vec![Scalar::Str(claims.subject.clone())]);
        request.context.insert(&format!("{prefix}:aud"), vec![Scalar::Str(claims.audience.clone())]);
        if let Some(azp) = claims.all.get("azp").and_then(serde_json::Value::as_str) {
            request.context.insert(&format!("{prefix}:azp"), vec![Scalar::Str(azp.to_owned())]);
        }
        request.context.insert("aws:FederatedProvider", vec![Scalar::Str(provider.arn.clone())]);
        request.context.insert("sts:RoleSessionName", vec![Scalar::Str(session_name.to_owned())]);
        add_call_facts(&mut request, facts);
        let role = store.role_by_arn.get(role_arn).and_then(|&i| store.roles.get(i));
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(now);
        let Some(role) = role.filter(|_| snapshot.decide_at(&request, at) == Decision::Allowed) else {
            return Err(StsError::new(
                StsCode::AccessDenied,
                "Not authorized to perform sts:AssumeRoleWithWebIdentity",
            ));
        };
        let duration = session_duration(
            StsOperation::AssumeRole { role_max_session: role.max_session_duration, chained: false },
            None,
        )?;
        let expires = now.saturating_add(u64::from(duration)).min(claims.expires.max(now + 900));
        let session = Session {
            federated_provider: Some(provider.arn.clone()),
            ..role_session(role, session_name, now, expires)
        };
        Ok((session, (claims.subject, claims.audience, provider.key_prefix.clone())))
    }

    /// A bearer token at the gateway (`docs/gateway.md#identity`): evaluated as
    /// `AssumeRoleWithWebIdentity` into the `GatewayRoleArn` of the provider that issued it, giving
    /// that role session.
    ///
    /// # Errors
    /// `InvalidIdentityToken` (no provider, no `GatewayRoleArn`, a bad token),
    /// `ExpiredTokenException`, `AccessDenied` (the role's trust policy refuses it).
    pub fn gateway_identity(
        &self,
        snapshot: &Snapshot,
        token: &str,
        facts: &CallFacts,
        now: u64,
    ) -> Result<Identity, StsError> {
        let iss = jwt::unverified_claim(token, "iss")?;
        let role_arn =
            snapshot.store().auth.provider_by_issuer(&iss).and_then(|p| p.gateway_role_arn.clone()).ok_or_else(
                || {
                    StsError::new(
                        StsCode::Auth(AuthCode::InvalidIdentityToken),
                        format!("no OIDC provider with a GatewayRoleArn for {iss}"),
                    )
                },
            )?;
        // The session is named after the token's subject, in the characters session names allow.
        let subject = jwt::unverified_claim(token, "sub").unwrap_or_default();
        let mut name: String = subject
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) { c } else { '-' })
            .take(64)
            .collect();
        if name.len() < 2 {
            name = "gateway".to_owned();
        }
        let (mut session, _) = self.web_identity_session(snapshot, token, &role_arn, &name, facts, now)?;
        session.expires = session.expires.max(now + 1);
        Ok(Identity(Who::Session(Box::new(session))))
    }

    /// `AssumeRoleWithWebIdentity` (unsigned): a token from an OIDC provider in the store.
    ///
    /// # Errors
    /// As `Sts::web_identity_session`, plus parameter validation.
    pub fn assume_role_with_web_identity(
        &self,
        snapshot: &Snapshot,
        params: &Params,
        facts: &CallFacts,
        now: u64,
    ) -> Result<Issued, StsError> {
        let store = snapshot.store();
        let role_arn = params.required("RoleArn")?;
        let session_name = params.required("RoleSessionName")?;
        let token = params.required("WebIdentityToken")?;
        check_session_name(session_name)?;
        check_length("roleArn", role_arn, MAX_ARN_CHARS)?;
        check_length("webIdentityToken", token, MAX_WEB_IDENTITY_TOKEN)?;
        let requested = params.duration()?;
        // The token first, as AWS does: an unauthenticated caller's `Policy` is never parsed.
        let (mut session, web) = self.web_identity_session(snapshot, token, role_arn, session_name, facts, now)?;
        let (policy, policy_arns, packed) = Self::session_policies(store, params)?;
        if packed > PACKED_LIMIT {
            return Err(StsError::new(
                StsCode::PackedPolicyTooLarge,
                "Packed size of session policies exceeds the limit",
            ));
        }
        let role_max =
            store.role_by_arn.get(role_arn).and_then(|&i| store.roles.get(i)).map_or(3600, |r| r.max_session_duration);
        let duration =
            session_duration(StsOperation::AssumeRole { role_max_session: role_max, chained: false }, requested)?;
        session.expires = now + u64::from(duration);
        session.policy = policy;
        session.policy_arns = policy_arns;
        let passed = session.policy.is_some() || !session.policy_arns.is_empty();
        let (credentials, session) = self.new_credentials(session)?;
        let id = format!("{}:{session_name}", session.role_id.clone().unwrap_or_default());
        Ok(Issued {
            credentials,
            assumed_role_user: Some((id, session.principal)),
            packed_policy_size: passed.then(|| u32::try_from(packed * 100 / PACKED_LIMIT).unwrap_or(100)),
            source_identity: None,
            web_identity: Some(web),
        })
    }
}

/// A validated `AssumeRole` call: what the decision and the session are made from.
struct AssumeRoleCall<'p> {
    role_arn: &'p str,
    session_name: &'p str,
    duration: u32,
    tags: NewTags,
    policy: Option<String>,
    policy_arns: Vec<String>,
    /// The packed size of session policies and tags, when any were passed.
    packed: Option<usize>,
    /// The session's source identity: the new one, or the caller's.
    source_identity: Option<String>,
    /// The `SourceIdentity` parameter, which `sts:SetSourceIdentity` is decided on.
    new_source_identity: Option<&'p str>,
    external_id: Option<&'p str>,
    /// When the call's MFA code was checked (`now`), if it carried one.
    mfa_now: Option<u64>,
}

/// `SourceIdentity`: a valid name, never changed once a caller's session carries one.
fn source_identity(new: Option<&str>, old: Option<&str>) -> Result<Option<String>, StsError> {
    match (new, old) {
        (Some(new), _) if !is_session_name(new) || new.to_ascii_lowercase().starts_with("aws:") => {
            Err(StsError::validation(format!(
                "Value '{new}' at 'sourceIdentity' failed to satisfy constraint: Member must have length 2 to 64 and satisfy regular expression pattern: [\\w+=,.@-]*"
            )))
        }
        (Some(new), Some(old)) if new != old => Err(StsError::new(
            StsCode::InvalidParameterValue,
            "The source identity cannot be changed once set: pass the one the caller's session carries",
        )),
        (new, old) => Ok(new.or(old).map(str::to_owned)),
    }
}

/// The decision request of an `AssumeRole` call: `sts:AssumeRole` on the role, as the caller,
/// with the keys the call sets (MFA, session name, external id, source identity, tags).
fn assume_role_request(
    store: &Store,
    identity: &Identity,
    call: &AssumeRoleCall<'_>,
    facts: &CallFacts,
    now: u64,
) -> Result<Request, StsError> {
    let mut request =
        Request::new("*", "sts:AssumeRole", call.role_arn).map_err(|e| StsError::validation(e.to_string()))?;
    request.act_as(store, identity, now);
    let ctx = &mut request.context;
    if let Some(at) = call.mfa_now {
        ctx.insert("aws:MultiFactorAuthPresent", vec![Scalar::Bool(true)]);
        ctx.insert("aws:MultiFactorAuthAge", vec![Scalar::Num(now.saturating_sub(at).to_string())]);
    }
    ctx.insert("sts:RoleSessionName", vec![Scalar::Str(call.session_name.to_owned())]);
    if let Some(e) = call.external_id {
        ctx.insert("sts:ExternalId", vec![Scalar::Str(e.to_owned())]);
    }
    if let Some(new) = call.new_source_identity {
        ctx.insert("sts:SourceIdentity", vec![Scalar::Str(new.to_owned())]);
    }
    let new_tags = &call.tags.tags;
    if !new_tags.is_empty() {
        for (k, v) in new_tags {
            ctx.insert(&format!("aws:RequestTag/{k}"), vec![Scalar::Str(v.clone())]);
        }
        ctx.insert("aws:TagKeys", new_tags.iter().map(|(k, _)| Scalar::Str(k.clone())).collect());
    }
    if !call.tags.transitive.is_empty() {
        let keys = new_tags.iter().filter(|(k, _)| call.tags.transitive.contains(&k.to_ascii_lowercase()));
        ctx.insert("sts:TransitiveTagKeys", keys.map(|(k, _)| Scalar::Str(k.clone())).collect());
    }
    add_call_facts(&mut request, facts);
    Ok(request)
}

fn add_call_facts(request: &mut Request, facts: &CallFacts) {
    if let Some(ip) = &facts.source_ip {
        request.context.insert("aws:SourceIp", vec![Scalar::Str(ip.clone())]);
    }
    if let Some(region) = &facts.region {
        request.context.insert("aws:RequestedRegion", vec![Scalar::Str(region.clone())]);
    }
}

/// A session of `role` named `session_name`, with nothing passed yet.
fn role_session(role: &Role, session_name: &str, issued: u64, expires: u64) -> Session {
    Session {
        role_arn: Some(role.arn.clone()),
        role_id: Some(role_id_of(role)),
        ..Session::new(SessionKind::Role, session_arn(role, session_name), issued, expires)
    }
}

/// `arn:PARTITION:sts::ACCOUNT:assumed-role/NAME/SESSION` (no role path).
fn session_arn(role: &Role, session_name: &str) -> String {
    let partition = role.arn.split(':').nth(1).unwrap_or("aws");
    let name = role.arn.rsplit('/').next().unwrap_or_default();
    format!("arn:{partition}:sts::{}:assumed-role/{name}/{session_name}", role.account)
}

/// The role's unique id, or a stable stand-in when the store has none.
fn role_id_of(role: &Role) -> String {
    if role.id.is_empty() {
        let hash = crate::auth::sigv4::sha256_hex(role.arn.as_bytes()).to_ascii_uppercase();
        format!("AROA{}", hash.get(..17).unwrap_or_default())
    } else {
        role.id.clone()
    }
}

fn role_id(store: &Store, role_arn: Option<&str>) -> String {
    role_arn
        .and_then(|a| store.role_by_arn.get(a))
        .and_then(|&i| store.roles.get(i))
        .map(role_id_of)
        .unwrap_or_default()
}

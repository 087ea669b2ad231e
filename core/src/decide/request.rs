//! A request: who, what action, on which resource, in what context (`docs/http-api.md#a-request`).
//!
//! Parsing is strict, because a malformed request must never be answered `allowed`: unknown
//! fields, wrong types, malformed actions and resources, and context keys that describe the
//! principal (those come from the store) are errors that name the field by JSON pointer.

use crate::arn::is_account_id;
use crate::auth::session::SessionFacts;
use crate::auth::{AuthCode, AuthError, Identity, Session, SessionKind, SignedRequest, Verifier};
use crate::error::{RequestError, RequestErrorKind};
use crate::policy::ast::{Policy, PolicyKind};
use crate::policy::context::{Context, Scalar};
use crate::policy::json::{pointer_token, Json};
use crate::policy::parse::parse_policy;
use crate::store::Store;
use serde_json::Value;

const FIELDS: [&str; 10] = [
    "principal",
    "signedRequest",
    "action",
    "resource",
    "resourceAccount",
    "context",
    "sessionPolicy",
    "resourcePolicy",
    "explain",
    "federatingUser",
];

/// The longest principal or resource ARN accepted, in characters (IAM's ARN limit).
pub const MAX_ARN_CHARS: usize = 2048;
/// The longest `sessionPolicy`, in characters including whitespace (STS's `Policy` limit).
pub const MAX_SESSION_POLICY_CHARS: usize = 2048;
/// The most condition keys a request's `context` may hold.
pub const MAX_CONTEXT_KEYS: usize = 256;
/// The most values one multivalued context key may hold.
pub const MAX_CONTEXT_VALUES: usize = 256;
/// The most characters of context (keys and values together) one request may carry.
pub const MAX_CONTEXT_CHARS: usize = 64 * 1024;

/// The longest `resourcePolicy` for a resource of `service`, in characters including
/// whitespace: the service's own limit for its resource policies (S3 bucket policies 20 KB,
/// KMS key policies 32 KB), 20,480 for the others.
pub fn max_resource_policy_chars(service: &str) -> usize {
    match service {
        "kms" => 32 * 1024,
        _ => 20 * 1024,
    }
}

/// Context keys that only authenticated credentials supply: a signed request may not set them.
const CREDENTIAL_KEYS: [&str; 5] = [
    "aws:tokenissuetime",
    "aws:multifactorauthpresent",
    "aws:multifactorauthage",
    "aws:sourceidentity",
    "aws:federatedprovider",
];

/// Who is asking, as the request names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PrincipalRef {
    /// `"*"`: an anonymous caller.
    Anonymous,
    /// An ARN (an account ID is normalised to `arn:aws:iam::ID:root`).
    Arn(String),
    /// `{"Service": "ec2.amazonaws.com"}`.
    Service(String),
    /// `{"Federated": "..."}`: a web-identity or SAML caller.
    Federated(String),
    /// `{"CanonicalUser": "..."}`.
    CanonicalUser(String),
}

/// A validated request.
#[derive(Debug, Clone)]
pub struct Request {
    pub(crate) principal: PrincipalRef,
    pub(crate) action: String,
    /// Lowercased action: actions match case-insensitively.
    pub(crate) action_lc: String,
    pub(crate) resource: String,
    pub(crate) resource_account: Option<String>,
    pub(crate) context: Context,
    pub(crate) session_policy: Option<Policy>,
    pub(crate) resource_policy: Option<Policy>,
    pub(crate) explain: bool,
    pub(crate) federating_user: Option<String>,
    /// A `signedRequest` not yet authenticated: until [`Request::authenticate`] succeeds, every
    /// decision is an implicit deny (fail closed).
    pub(crate) unverified: Option<Box<SignedRequest>>,
    /// The facts of the temporary credentials the request was signed with.
    pub(crate) session: Option<Box<SessionFacts>>,
}

impl Request {
    /// A request for `principal` (ARN, account ID, or `"*"`), `action` and `resource`, with an
    /// empty context.
    ///
    /// # Errors
    /// A [`RequestError`] naming the malformed field.
    pub fn new(principal: &str, action: &str, resource: &str) -> Result<Request, RequestError> {
        Ok(Request {
            principal: principal_from_str(principal, "/principal")?,
            action: check_action(action)?.to_owned(),
            action_lc: action.to_ascii_lowercase(),
            resource: check_resource(resource)?.to_owned(),
            resource_account: None,
            context: Context::default(),
            session_policy: None,
            resource_policy: None,
            explain: false,
            federating_user: None,
            unverified: None,
            session: None,
        })
    }

    /// Makes this request what [`Request::new`] builds for `principal`, `action` and `resource`
    /// (empty context, nothing else set), reusing its buffers: a caller that decides one request
    /// after another (the C ABI) allocates nothing once the buffers are large enough.
    ///
    /// # Errors
    /// As [`Request::new`]; the request is then left as it was.
    pub fn refill(&mut self, principal: &str, action: &str, resource: &str) -> Result<(), RequestError> {
        // An ARN as `principal_from_str` accepts it is copied into the old one's buffer; any
        // other principal is built (checked in the order `Request::new` checks the fields).
        let built = if has_arn_fields(principal) && matches!(self.principal, PrincipalRef::Arn(_)) {
            check_arn_length(principal, "/principal")?;
            None
        } else {
            Some(principal_from_str(principal, "/principal")?)
        };
        check_action(action)?;
        check_resource(resource)?;
        match (built, &mut self.principal) {
            (Some(built), slot) => *slot = built,
            (None, PrincipalRef::Arn(arn)) => {
                arn.clear();
                arn.push_str(principal);
            }
            (None, slot) => *slot = principal_from_str(principal, "/principal")?,
        }
        for (buf, text) in [(&mut self.action, action), (&mut self.action_lc, action), (&mut self.resource, resource)] {
            buf.clear();
            buf.push_str(text);
        }
        self.action_lc.make_ascii_lowercase();
        self.resource_account = None;
        self.context.clear();
        self.session_policy = None;
        self.resource_policy = None;
        self.explain = false;
        self.federating_user = None;
        self.unverified = None;
        self.session = None;
        Ok(())
    }

    /// Parses a request from JSON text (`docs/http-api.md#a-request`).
    ///
    /// # Errors
    /// A [`RequestError`] for invalid JSON or a malformed field.
    pub fn from_json(text: &str) -> Result<Request, RequestError> {
        let value = read_json(text, "")?;
        Request::from_tree(&value)
    }

    /// Reads a request from a parsed JSON value (`docs/http-api.md#a-request`). A
    /// `serde_json::Value` has already lost any repeated key and the literal text of its numbers:
    /// prefer [`Request::from_json`].
    ///
    /// # Errors
    /// A [`RequestError`] naming the malformed field.
    pub fn from_value(value: &Value) -> Result<Request, RequestError> {
        Request::from_tree(&Json::from_value(value))
    }

    /// Reads a request from keycard's JSON tree (duplicate keys already refused).
    pub(crate) fn from_tree(value: &Json) -> Result<Request, RequestError> {
        let Json::Object(pairs) = value else {
            return Err(RequestError::new("", "expected a request object"));
        };
        let map = Fields(pairs);
        for (key, _) in pairs {
            if !FIELDS.contains(&key.as_str()) {
                return Err(RequestError::new(
                    format!("/{}", pointer_token(key)),
                    format!("unknown field (expected one of {})", FIELDS.join(", ")),
                )
                .with_kind(RequestErrorKind::UnknownField));
            }
        }
        let (principal, unverified) = caller(&map)?;
        let action = required_str(&map, "action")?;
        check_action(action)?;
        let resource = required_str(&map, "resource")?;
        check_resource(resource)?;
        let resource_account = match map.get("resourceAccount") {
            None | Some(Json::Null) => None,
            Some(Json::String(a)) if is_account_id(a) => Some(a.clone()),
            Some(_) => return Err(RequestError::new("/resourceAccount", "expected a 12-digit account ID string")),
        };
        let mut context = match map.get("context") {
            None | Some(Json::Null) => Context::default(),
            Some(c) => Context::from_json(c, "/context")?,
        };
        reject_principal_keys(&mut context)?;
        if unverified.is_some() {
            reject_credential_keys(&context)?;
        }
        let session_policy =
            optional_policy(map.get("sessionPolicy"), "/sessionPolicy", PolicyKind::Session, MAX_SESSION_POLICY_CHARS)?;
        let service = resource.split(':').nth(2).unwrap_or_default();
        let resource_policy = optional_policy(
            map.get("resourcePolicy"),
            "/resourcePolicy",
            PolicyKind::Resource,
            max_resource_policy_chars(service),
        )?;
        let explain = match map.get("explain") {
            None | Some(Json::Null) => false,
            Some(Json::Bool(b)) => *b,
            Some(_) => return Err(RequestError::new("/explain", "expected true or false")),
        };
        let federating_user = match map.get("federatingUser") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) if is_user_arn(s) => Some(s.clone()),
            Some(_) => return Err(RequestError::new("/federatingUser", "expected an IAM user ARN")),
        };
        Ok(Request {
            principal,
            action: action.to_owned(),
            action_lc: action.to_ascii_lowercase(),
            resource: resource.to_owned(),
            resource_account,
            context,
            session_policy,
            resource_policy,
            explain,
            federating_user,
            unverified,
            session: None,
        })
    }

    /// The `signedRequest` still to authenticate, if any.
    pub fn signed_request(&self) -> Option<&SignedRequest> {
        self.unverified.as_deref()
    }

    /// Authenticates the request's `signedRequest` at `now` (seconds since the epoch) with
    /// `verifier`, and makes its signer the principal (`docs/http-api.md#signed-requests`).
    ///
    /// # Errors
    /// The [`AuthError`] of [`crate::auth::authenticate`] (a `MissingAuthenticationToken` when
    /// the request has no `signedRequest`); the request then stays unauthenticated and every
    /// decision on it is an implicit deny.
    pub fn authenticate(&mut self, store: &Store, verifier: Verifier<'_>, now: u64) -> Result<Identity, AuthError> {
        let Some(signed) = self.unverified.as_deref() else {
            return Err(AuthError::new(AuthCode::MissingAuthenticationToken, "the request has no signedRequest"));
        };
        let (identity, _) = verifier.verify(store, signed, now)?;
        self.act_as(store, &identity, now);
        Ok(identity)
    }

    /// Makes the authenticated `identity` the principal (what a gateway does once it has
    /// verified the caller): its ARN, and for temporary credentials the session's tags, session
    /// policies, `aws:TokenIssueTime`, MFA keys and source identity. Credential keys the request
    /// supplied itself are replaced. An [`Identity`] exists only once a signature or token has
    /// verified, so this cannot make an unauthenticated principal look authenticated.
    pub fn authenticated_as(&mut self, store: &Store, identity: &Identity, now: u64) {
        self.act_as(store, identity, now);
    }

    /// [`Request::authenticated_as`], for the crate.
    pub(crate) fn act_as(&mut self, store: &Store, identity: &Identity, now: u64) {
        self.unverified = None;
        self.principal = PrincipalRef::Arn(identity.principal_arn().to_owned());
        for key in CREDENTIAL_KEYS {
            self.context.remove(key);
        }
        let Some(session) = identity.session() else {
            self.session = None;
            return;
        };
        let base_tags: &[(String, String)] = match session.kind {
            SessionKind::Role => session
                .role_arn
                .as_ref()
                .and_then(|r| store.role_by_arn.get(r))
                .and_then(|&i| store.roles.get(i))
                .map_or(&[], |r| r.tags.as_slice()),
            SessionKind::User => store
                .user_by_arn
                .get(&session.principal)
                .and_then(|&i| store.users.get(i))
                .map_or(&[], |u| u.tags.as_slice()),
        };
        let mut tags: Vec<(String, String)> = base_tags
            .iter()
            .filter(|(k, _)| !session.tags.iter().any(|(s, _)| s.eq_ignore_ascii_case(k)))
            .cloned()
            .collect();
        tags.extend(session.tags.iter().cloned());
        self.session = Some(Box::new(SessionFacts {
            tags,
            user_session: session.kind == SessionKind::User,
            mfa: session.mfa_at.is_some(),
        }));
        self.context.insert("aws:TokenIssueTime", vec![Scalar::Str(crate::clock::iso_seconds(session.issued))]);
        self.context.insert("aws:MultiFactorAuthPresent", vec![Scalar::Bool(session.mfa_at.is_some())]);
        if let Some(at) = session.mfa_at {
            self.context.insert("aws:MultiFactorAuthAge", vec![Scalar::Num(now.saturating_sub(at).to_string())]);
        }
        if let Some(source) = &session.source_identity {
            self.context.insert("aws:SourceIdentity", vec![Scalar::Str(source.clone())]);
        }
        if let Some(provider) = &session.federated_provider {
            self.context.insert("aws:FederatedProvider", vec![Scalar::Str(provider.clone())]);
        }
        if session.policy.is_some() || !session.policy_arns.is_empty() {
            // Both the session's policies and a request's own `sessionPolicy` would have to
            // allow; one slot cannot hold that intersection, so that rare pair allows nothing.
            self.session_policy = Some(match self.session_policy {
                None => session_policies(store, session),
                Some(_) => Policy { statements: Vec::new() },
            });
        }
    }

    /// Sets the context from a JSON object of condition keys.
    ///
    /// # Errors
    /// A [`RequestError`] for a value of the wrong type or a principal-derived key.
    pub fn with_context(self, context: &Value) -> Result<Request, RequestError> {
        self.with_context_tree(&Json::from_value(context))
    }

    fn with_context_tree(mut self, context: &Json) -> Result<Request, RequestError> {
        let mut ctx = Context::from_json(context, "/context")?;
        reject_principal_keys(&mut ctx)?;
        self.context = ctx;
        Ok(self)
    }

    /// Sets the context from JSON text: an object of condition keys (parsed as
    /// [`Request::from_json`] parses a request's `"context"`).
    ///
    /// # Errors
    /// A [`RequestError`] for invalid JSON, a value of the wrong type or a principal-derived key.
    pub fn with_context_json(self, text: &str) -> Result<Request, RequestError> {
        let mut request = self;
        request.set_context_json(text)?;
        Ok(request)
    }

    /// Sets the context from JSON text in place, as [`Request::with_context_json`] does, reading
    /// it straight from `text` into the context's own buffers: no intermediate tree, and no
    /// allocation once those buffers have grown to the contexts' sizes (a caller that refills
    /// one request after another, as the C ABI does with [`Request::refill`]).
    ///
    /// # Errors
    /// As [`Request::with_context_json`], with the same messages; the context is then empty.
    pub fn set_context_json(&mut self, text: &str) -> Result<(), RequestError> {
        let read = if self.context.fill_from_text(text) {
            reject_principal_keys(&mut self.context)
        } else {
            // Not a context the direct reader accepts: the tree reader says why, with the
            // message and pointer it always gave (core/src/policy/context.rs, `fill_from_text`).
            context_from_tree(text).map(|ctx| self.context = ctx)
        };
        if read.is_err() {
            self.context.clear();
        }
        read
    }

    /// Asks for (or stops asking for) the explanation.
    pub fn set_explain(&mut self, explain: bool) {
        self.explain = explain;
    }

    /// Whether the answer should carry an explanation.
    pub fn explain(&self) -> bool {
        self.explain
    }

    /// The action as given.
    pub fn action(&self) -> &str {
        &self.action
    }

    /// The resource as given.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The principal as the request named it, in wire form (`docs/http-api.md#a-request`): an ARN
    /// (an account ID becomes its `:root` ARN), `"*"`, or `{"Service": ...}` / `{"Federated": ...}`
    /// / `{"CanonicalUser": ...}`.
    pub fn principal_json(&self) -> Value {
        match &self.principal {
            PrincipalRef::Anonymous => Value::from("*"),
            PrincipalRef::Arn(arn) => Value::from(arn.as_str()),
            PrincipalRef::Service(s) => serde_json::json!({ "Service": s }),
            PrincipalRef::Federated(s) => serde_json::json!({ "Federated": s }),
            PrincipalRef::CanonicalUser(s) => serde_json::json!({ "CanonicalUser": s }),
        }
    }
}

/// Parses a batch, `{"requests": [...]}` (`docs/http-api.md#post-v1authorizebatch`), into one
/// result per request, in order: one malformed request does not spoil the others, and its error's
/// field points into the batch (`/requests/3/action`).
///
/// # Errors
/// A [`RequestError`] when the body is not JSON, not an object, has other fields, or `requests`
/// is not an array.
pub fn batch_from_json(text: &str) -> Result<Vec<Result<Request, RequestError>>, RequestError> {
    let value = read_json(text, "")?;
    let Json::Object(pairs) = value else {
        return Err(RequestError::new("", "expected {\"requests\": [...]}"));
    };
    if let Some((key, _)) = pairs.iter().find(|(k, _)| k.as_str() != "requests") {
        return Err(RequestError::new(
            format!("/{}", pointer_token(key)),
            "unknown field (expected only \"requests\")",
        )
        .with_kind(RequestErrorKind::UnknownField));
    }
    let Some((_, Json::Array(items))) = pairs.into_iter().next() else {
        return Err(RequestError::new("/requests", "expected an array of requests"));
    };
    Ok(items
        .iter()
        .enumerate()
        .map(|(i, item)| Request::from_tree(item).map_err(|e| e.under(&format!("/requests/{i}"))))
        .collect())
}

/// A signed request's credential keys come from its credentials; it may not supply them.
fn reject_credential_keys(context: &Context) -> Result<(), RequestError> {
    for (key, _) in context.iter() {
        if CREDENTIAL_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            return Err(RequestError::new(
                format!("/context/{}", pointer_token(key)),
                format!("{key} comes from the signer's credentials; a signed request may not supply it"),
            )
            .with_kind(RequestErrorKind::Reserved));
        }
    }
    Ok(())
}

/// The session's policies as one policy: the inline `Policy` and each `PolicyArns` policy, any
/// of which may allow. A policy that no longer parses or exists allows nothing (fail closed).
fn session_policies(store: &Store, session: &Session) -> Policy {
    let mut statements = Vec::new();
    if let Some(text) = &session.policy {
        if let Ok(json) = Json::parse(text) {
            let mut errors = Vec::new();
            if let Some(p) = parse_policy(&json, PolicyKind::Session, "", &mut errors) {
                statements.extend(p.statements);
            }
        }
    }
    for arn in &session.policy_arns {
        if let Some(p) = store.managed_by_arn.get(arn).and_then(|&id| store.policy(id)) {
            statements.extend(p.policy.statements.iter().cloned());
        }
    }
    Policy { statements }
}

/// Reads `signedRequest`: `{"method", "path", "query", "headers", "bodySha256"}`. `query` is the
/// raw query string; `headers` an object whose values are strings or arrays of strings (a header
/// sent several times), or an array of `[name, value]` pairs.
fn signed_request_from_json(v: &Json) -> Result<SignedRequest, RequestError> {
    const P: &str = "/signedRequest";
    let Json::Object(pairs) = v else {
        return Err(RequestError::new(P, "expected {\"method\", \"path\", \"query\", \"headers\", \"bodySha256\"}"));
    };
    let map = Fields(pairs);
    const KEYS: [&str; 5] = ["method", "path", "query", "headers", "bodySha256"];
    if let Some((key, _)) = pairs.iter().find(|(k, _)| !KEYS.contains(&k.as_str())) {
        return Err(RequestError::new(
            format!("{P}/{}", pointer_token(key)),
            format!("unknown field (expected one of {})", KEYS.join(", ")),
        )
        .with_kind(RequestErrorKind::UnknownField));
    }
    let string = |name: &str, required: bool| -> Result<Option<String>, RequestError> {
        match map.get(name) {
            Some(Json::String(s)) => Ok(Some(s.clone())),
            None | Some(Json::Null) if !required => Ok(None),
            None | Some(Json::Null) => {
                Err(RequestError::new(format!("{P}/{name}"), "missing (required)").with_kind(RequestErrorKind::Missing))
            }
            Some(_) => Err(RequestError::new(format!("{P}/{name}"), "expected a string")),
        }
    };
    let method = string("method", true)?.unwrap_or_default();
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(RequestError::new(format!("{P}/method"), format!("expected an HTTP method, found {method:?}")));
    }
    let raw_path = string("path", true)?.unwrap_or_default();
    let (path, inline_query) = match raw_path.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (raw_path, None),
    };
    if !path.starts_with('/') {
        return Err(RequestError::new(format!("{P}/path"), format!("expected a path starting with /, found {path:?}")));
    }
    let query = match (string("query", false)?, inline_query) {
        (Some(_), Some(_)) => {
            return Err(RequestError::new(format!("{P}/query"), "the query is given twice (in path and in query)"))
        }
        (Some(q), None) | (None, Some(q)) => q.strip_prefix('?').map(str::to_owned).unwrap_or(q),
        (None, None) => String::new(),
    };
    let headers = signed_headers(map.get("headers"))?;
    // The hash of the body the caller received (absent: the empty body). The signature must be
    // over it, and an `x-amz-content-sha256` header must equal it: the caller vouches for the
    // body, keycard for the rest (fail closed: there is no "unknown body").
    let body_sha256 = string("bodySha256", false)?.unwrap_or_else(|| crate::auth::sigv4::EMPTY_SHA256.to_owned());
    if body_sha256.len() != 64 || !body_sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(RequestError::new(
            format!("{P}/bodySha256"),
            "expected the SHA-256 of the body received, as 64 hex digits",
        ));
    }
    Ok(SignedRequest { method, path, query, headers, body_sha256: Some(body_sha256.to_ascii_lowercase()) })
}

/// `signedRequest.headers`: an object whose values are strings or arrays of strings, or an
/// array of `[name, value]` pairs; `(name, value)` in order.
fn signed_headers(headers_json: Option<&Json>) -> Result<Vec<(String, String)>, RequestError> {
    const P: &str = "/signedRequest";
    let mut headers = Vec::new();
    let bad_header = |name: &str| {
        RequestError::new(format!("{P}/headers/{}", pointer_token(name)), "expected a string or an array of strings")
    };
    match headers_json {
        None | Some(Json::Null) => {}
        Some(Json::Object(h)) => {
            for (name, value) in h {
                match value {
                    Json::String(s) => headers.push((name.clone(), s.clone())),
                    Json::Array(items) => {
                        for item in items {
                            let Json::String(s) = item else { return Err(bad_header(name)) };
                            headers.push((name.clone(), s.clone()));
                        }
                    }
                    _ => return Err(bad_header(name)),
                }
            }
        }
        Some(Json::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let pair = match item {
                    Json::Array(pair) => pair.as_slice(),
                    _ => &[],
                };
                match pair {
                    [Json::String(n), Json::String(v)] => headers.push((n.clone(), v.clone())),
                    _ => {
                        return Err(RequestError::new(
                            format!("{P}/headers/{i}"),
                            "expected a [name, value] pair of strings",
                        ))
                    }
                }
            }
        }
        Some(_) => return Err(RequestError::new(format!("{P}/headers"), "expected an object of header values")),
    }
    Ok(headers)
}

/// Context keys that describe the principal come from the store: a request naming the identity
/// or its tags is refused; any other principal key it states is dropped, so that the decision
/// reads the caller's value or none (an IAM user has no `aws:PrincipalServiceName`).
fn reject_principal_keys(context: &mut Context) -> Result<(), RequestError> {
    use crate::decide::principal::{is_principal_key, is_refused_principal_key};
    if let Some((key, _)) = context.iter().find(|(key, _)| is_refused_principal_key(key)) {
        return Err(RequestError::new(
            format!("/context/{}", pointer_token(key)),
            format!("{key} describes the principal and comes from the store; a request may not supply it"),
        )
        .with_kind(RequestErrorKind::Reserved));
    }
    context.retain(|key| !is_principal_key(key));
    Ok(())
}

/// Reads context text with the tree reader: [`read_json`], [`Context::from_json`] and the
/// principal key rules, what `with_context_json` always did.
pub(crate) fn context_from_tree(text: &str) -> Result<Context, RequestError> {
    let value = read_json(text, "/context")?;
    let mut ctx = Context::from_json(&value, "/context")?;
    reject_principal_keys(&mut ctx)?;
    Ok(ctx)
}

/// An object's pairs read by field name (duplicates were refused when the text was read).
/// Who a request names: its `principal`, or its `signedRequest` to authenticate (never both).
fn caller(map: &Fields<'_>) -> Result<(PrincipalRef, Option<Box<SignedRequest>>), RequestError> {
    let unverified = match map.get("signedRequest") {
        None | Some(Json::Null) => None,
        Some(v) => {
            if !matches!(map.get("principal"), None | Some(Json::Null)) {
                return Err(RequestError::new(
                    "/signedRequest",
                    "give either principal or signedRequest, not both (a signed request names its own principal)",
                ));
            }
            Some(Box::new(signed_request_from_json(v)?))
        }
    };
    let principal = match map.get("principal") {
        None | Some(Json::Null) if unverified.is_some() => PrincipalRef::Anonymous,
        None | Some(Json::Null) => {
            return Err(RequestError::new("/principal", "missing (required: principal or signedRequest)")
                .with_kind(RequestErrorKind::Missing))
        }
        Some(Json::String(s)) => principal_from_str(s, "/principal")?,
        Some(Json::Object(obj)) => principal_from_object(obj)?,
        Some(_) => {
            return Err(RequestError::new(
                "/principal",
                "expected a string (ARN, account ID or \"*\") or {\"Service\": ...}",
            ))
        }
    };
    Ok((principal, unverified))
}

/// An IAM user's ARN, within the ARN length limit (`federatingUser`).
fn is_user_arn(s: &str) -> bool {
    s.starts_with("arn:") && s.contains(":user/") && s.chars().count() <= MAX_ARN_CHARS
}

struct Fields<'a>(&'a [(String, Json)]);

impl<'a> Fields<'a> {
    fn get(&self, name: &str) -> Option<&'a Json> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// Reads request text with keycard's JSON reader, refusing a repeated key by its JSON pointer
/// (under `base`): `serde_json::Value` would keep the last one and decide on it.
fn read_json(text: &str, base: &str) -> Result<Json, RequestError> {
    let value = Json::parse(text)
        .map_err(|e| RequestError::new(base, format!("invalid JSON: {e}")).with_kind(RequestErrorKind::Json))?;
    if let Some(pointer) = value.first_duplicate(base) {
        return Err(
            RequestError::new(pointer, "duplicate key: each field may be given once").with_kind(RequestErrorKind::Json)
        );
    }
    Ok(value)
}

fn required_str<'a>(map: &Fields<'a>, field: &str) -> Result<&'a str, RequestError> {
    match map.get(field) {
        None | Some(Json::Null) => {
            Err(RequestError::new(format!("/{field}"), "missing (required)").with_kind(RequestErrorKind::Missing))
        }
        Some(Json::String(s)) => Ok(s),
        Some(_) => Err(RequestError::new(format!("/{field}"), "expected a string")),
    }
}

fn check_action(action: &str) -> Result<&str, RequestError> {
    // `service:Action`: a non-empty service before the first colon, something after it.
    match action.bytes().position(|b| b == b':') {
        Some(colon) if colon > 0 && colon + 1 < action.len() && !has_whitespace(action) => Ok(action),
        _ => Err(RequestError::new("/action", format!("expected \"service:Action\", found {action:?}"))),
    }
}

/// Whether `s` holds a whitespace character (`char::is_whitespace`), read byte by byte while it
/// is ASCII (U+0009 to U+000D and the space are ASCII's whitespace characters).
fn has_whitespace(s: &str) -> bool {
    for &b in s.as_bytes() {
        if !b.is_ascii() {
            return s.contains(char::is_whitespace);
        }
        if b == b' ' || (b'\t'..=b'\r').contains(&b) {
            return true;
        }
    }
    false
}

fn check_resource(resource: &str) -> Result<&str, RequestError> {
    check_arn_length(resource, "/resource")?;
    if resource == "*" || has_arn_fields(resource) {
        Ok(resource)
    } else {
        Err(RequestError::new(
            "/resource",
            format!("expected an ARN (arn:partition:service:region:account:resource) or \"*\", found {resource:?}"),
        ))
    }
}

/// `arn:` and at least six `:`-separated fields (`arn:partition:service:region:account:resource`);
/// stops reading at the fifth colon.
fn has_arn_fields(s: &str) -> bool {
    s.starts_with("arn:") && s.bytes().filter(|&b| b == b':').nth(4).is_some()
}

fn check_arn_length(arn: &str, pointer: &str) -> Result<(), RequestError> {
    // Bytes bound characters from above: count only when the bytes alone exceed the limit.
    if arn.len() > MAX_ARN_CHARS && arn.chars().count() > MAX_ARN_CHARS {
        return Err(RequestError::new(pointer, format!("ARN longer than {MAX_ARN_CHARS} characters"))
            .with_kind(RequestErrorKind::TooLarge));
    }
    Ok(())
}

fn principal_from_str(s: &str, pointer: &str) -> Result<PrincipalRef, RequestError> {
    check_arn_length(s, pointer)?;
    if s == "*" {
        Ok(PrincipalRef::Anonymous)
    } else if is_account_id(s) {
        Ok(PrincipalRef::Arn(format!("arn:aws:iam::{s}:root")))
    } else if has_arn_fields(s) {
        Ok(PrincipalRef::Arn(s.to_owned()))
    } else {
        Err(RequestError::new(pointer, format!("expected an ARN, a 12-digit account ID or \"*\", found {s:?}")))
    }
}

fn principal_from_object(obj: &[(String, Json)]) -> Result<PrincipalRef, RequestError> {
    let mut entries = obj.iter();
    let (Some((key, Json::String(v))), None) = (entries.next(), entries.next()) else {
        return Err(RequestError::new(
            "/principal",
            "expected exactly one of {\"Service\"|\"Federated\"|\"CanonicalUser\": \"...\"}",
        ));
    };
    check_arn_length(v, &format!("/principal/{}", pointer_token(key)))?;
    match key.as_str() {
        "Service" => Ok(PrincipalRef::Service(v.clone())),
        "Federated" => Ok(PrincipalRef::Federated(v.clone())),
        "CanonicalUser" => Ok(PrincipalRef::CanonicalUser(v.clone())),
        "AWS" => principal_from_str(v, "/principal/AWS"),
        other => Err(RequestError::new(
            format!("/principal/{}", pointer_token(other)),
            "expected Service, Federated, CanonicalUser or AWS",
        )),
    }
}

/// Reads a request's `sessionPolicy` or `resourcePolicy`: JSON text or a JSON object, at most
/// `limit` characters (text as given, whitespace included; an object as compact JSON), measured
/// before the policy is parsed.
fn optional_policy(
    value: Option<&Json>,
    pointer: &str,
    kind: PolicyKind,
    limit: usize,
) -> Result<Option<Policy>, RequestError> {
    let too_long = || {
        RequestError::new(pointer, format!("policy longer than {limit} characters"))
            .with_kind(RequestErrorKind::TooLarge)
    };
    let parsed;
    let value = match value {
        None | Some(Json::Null) => return Ok(None),
        Some(Json::String(text)) => {
            if text.len() > limit && text.chars().count() > limit {
                return Err(too_long());
            }
            parsed = Json::parse(text).map_err(|e| {
                RequestError::new(pointer, format!("policy text is not JSON: {e}")).with_kind(RequestErrorKind::Policy)
            })?;
            &parsed
        }
        Some(v) => {
            if crate::policy::parse::compact_len(v) > limit {
                return Err(too_long());
            }
            v
        }
    };
    let mut errors = Vec::new();
    match parse_policy(value, kind, pointer, &mut errors) {
        Some(p) => Ok(Some(p)),
        None => {
            let first = errors.first().map_or(pointer.to_owned(), |e| e.pointer().to_owned());
            let all: Vec<String> = errors.iter().map(ToString::to_string).collect();
            Err(RequestError::new(first, format!("invalid policy: {}", all.join("; ")))
                .with_kind(RequestErrorKind::Policy))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-wise action check accepts exactly what `split_once(':')` with two non-empty
    /// sides and no `char::is_whitespace` accepted.
    #[test]
    fn action_check_is_the_split_and_whitespace_rule() {
        let by_split = |a: &str| matches!(a.split_once(':'), Some((s, o)) if !s.is_empty() && !o.is_empty() && !a.contains(char::is_whitespace));
        let mut actions: Vec<String> =
            ["s3:GetObject", ":x", "x:", ":", "", "a::b", "a:b:c", "nocolon", "s3:Get\u{a0}Object", "é:ü"]
                .iter()
                .map(|s| (*s).to_owned())
                .collect();
        for c in (0..0x3000u32).filter_map(char::from_u32) {
            actions.push(format!("s3:Get{c}"));
            actions.push(format!("{c}:x"));
        }
        let mut refused = 0;
        for a in &actions {
            assert_eq!(check_action(a).is_ok(), by_split(a), "{a:?}");
            refused += usize::from(!by_split(a));
        }
        assert!(refused > 25, "only {refused} refused: the whitespace cases were not reached");
    }
}

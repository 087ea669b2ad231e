//! The gateway endpoints (`docs/gateway.md`): keycard as the decision point of a proxy.
//!
//! `/v1/gate` speaks nginx `auth_request` (the original method and URI arrive in
//! `X-Original-Method` / `X-Original-URI`, because nginx sends every subrequest as `GET`) and the
//! forward-auth protocol of Caddy's `forward_auth` and Traefik's `ForwardAuth`
//! (`X-Forwarded-Method` / `X-Forwarded-Uri`, with `X-Forwarded-Host` and `X-Forwarded-Proto`,
//! read when no `X-Original-*` header is present); `/v1/envoy/<original path>` speaks Envoy's
//! HTTP `ext_authz` (`path_prefix: /v1/envoy`, the original method kept); `super::grpc` speaks
//! Envoy's gRPC `ext_authz`. All of them end in [`decide`], one decision path. The HTTP endpoints
//! answer 200 (allow), 401 (no identity) or 403 (deny) with `x-keycard-decision` and, when known,
//! `x-keycard-principal`, and never anything else: nginx turns any other status into a 500 for
//! the client.
//!
//! The order of the checks (`docs/gateway.md#answers`): the proxy protocol (`X-Original-*` or
//! `X-Forwarded-*`; any `X-Forwarded-*` header from a peer that is not a trusted proxy is
//! refused), a loaded snapshot (none yet: 403, fail closed), **identity before routes** (no
//! identity is 401 even on an unknown path), then the route (`keycard::Gateway`), then the
//! decision. Every error on this path is a deny. Request facts (`aws:SourceIp`,
//! `aws:SecureTransport`) come from the peer, and from `X-Forwarded-*` only when the peer is a
//! trusted proxy (`--trusted-proxy`); `aws:SourceIp` is never absent
//! from a decision (a request with no determinable address is refused).

use super::gate_types::{Config, GateDecision, Peer};
use super::metrics::Endpoint;
use super::state::State;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use hyper::{Request, Response};
use keycard::auth::Identity;
use keycard::{GateRefusal, HeaderLookup};
use serde_json::{Map, Value};
use std::net::IpAddr;
use std::time::Instant;

type Reply = Response<Full<Bytes>>;

/// Where the envoy endpoint lives; the rest of the path is the original path.
pub(crate) const ENVOY_PREFIX: &str = "/v1/envoy";

const DECISION_HEADER: HeaderName = HeaderName::from_static("x-keycard-decision");
const PRINCIPAL_HEADER: HeaderName = HeaderName::from_static("x-keycard-principal");

/// One gateway answer before it becomes HTTP or gRPC.
pub(crate) struct Outcome {
    pub(crate) decision: GateDecision,
    pub(crate) principal: Option<String>,
    /// Why, for refusals (in the debug log).
    reason: Option<String>,
}

impl Outcome {
    pub(crate) fn refuse(decision: GateDecision, principal: Option<String>, reason: impl Into<String>) -> Outcome {
        Outcome { decision, principal, reason: Some(reason.into()) }
    }
}

/// The request a proxy asks about, however the proxy named it (HTTP headers or gRPC attributes).
pub(crate) struct Asked<'a> {
    /// The original method.
    pub(crate) method: &'a str,
    /// The original request target: the raw path and query.
    pub(crate) uri: &'a str,
    /// The original request's headers (identity, `header:` context, `X-Forwarded-*`).
    pub(crate) headers: &'a HeaderMap,
    /// The original `Host` when the proxy names it apart from `headers` (`X-Forwarded-Host`):
    /// what a SigV4 signature covers.
    pub(crate) host: Option<&'a str>,
}

/// Answers a gateway request (`endpoint` is [`Endpoint::Gate`] or [`Endpoint::Envoy`]). The body
/// is never read: the decision depends on the method, the URI and the headers alone.
pub(crate) fn answer<B>(req: &Request<B>, endpoint: Endpoint, peer: Peer, state: &State) -> Reply {
    let outcome = decide_http(req, endpoint, peer, state);
    record(&outcome, state);
    reply(&outcome)
}

/// Counts an answer in `/metrics` and logs why a refusal refused (at debug level).
pub(crate) fn record(outcome: &Outcome, state: &State) {
    state.metrics.gate(outcome.decision);
    if outcome.decision != GateDecision::Allowed {
        tracing::debug!(
            decision = outcome.decision.as_str(),
            principal = outcome.principal.as_deref().unwrap_or(""),
            reason = outcome.reason.as_deref().unwrap_or(""),
            "gate refused"
        );
    }
}

/// Step 1 for the HTTP endpoints, the proxy protocol; then [`decide`].
fn decide_http<B>(req: &Request<B>, endpoint: Endpoint, peer: Peer, state: &State) -> Outcome {
    let headers = req.headers();
    if let Some(reason) = untrusted_forwarding(headers, state.gate.trusts_peer(peer), false) {
        return Outcome::refuse(GateDecision::InvalidRequest, None, reason);
    }
    let named = match original_request(req, endpoint) {
        Ok(named) => named,
        Err(reason) => return Outcome::refuse(GateDecision::InvalidRequest, None, reason),
    };
    let asked = Asked { method: &named.method, uri: &named.uri, headers, host: named.host.as_deref() };
    decide(&asked, peer, state)
}

/// Why a request must be refused when its peer is not a trusted proxy and it carries an
/// `X-Forwarded-*` header that would name the request or its facts: from such a peer these are
/// the client's own word, which must choose neither the request that gets decided
/// (`X-Forwarded-Uri`) nor its facts (`X-Forwarded-Proto`); a proxy that sends them belongs in
/// `--trusted-proxy`. Over HTTP, `X-Forwarded-For` from such a peer is not refused but ignored:
/// `aws:SourceIp` is then the peer's own address (docs/gateway.md#request-facts), which the
/// client cannot choose. `with_for` refuses it too (gRPC, where Envoy is always the peer).
pub(crate) fn untrusted_forwarding(headers: &HeaderMap, trusted_peer: bool, with_for: bool) -> Option<String> {
    if trusted_peer {
        return None;
    }
    let name = headers
        .keys()
        .find(|n| n.as_str().starts_with("x-forwarded-") && (with_for || n.as_str() != "x-forwarded-for"))?;
    Some(format!("{name} from a peer that is not a trusted proxy (--trusted-proxy)"))
}

/// Steps 2 to 6, the same for every protocol: a snapshot, identity, the route, the decision.
/// `peer` is who connected to keycard: the proxy.
pub(crate) fn decide(asked: &Asked<'_>, peer: Peer, state: &State) -> Outcome {
    let (method, uri, headers) = (asked.method, asked.uri, asked.headers);
    // 2. A snapshot, or nothing is allowed (fail closed: 403, which nginx passes on as such).
    let current = state.current();
    let Some(loaded) = current.as_ref() else {
        return Outcome::refuse(GateDecision::ImplicitDeny, None, "no policy snapshot is loaded yet");
    };
    let trusted_peer = state.gate.trusts_peer(peer);
    // aws:SourceIp, for the decision and for a bearer token's trust policy alike. Never absent: a
    // Deny on `IpAddress aws:SourceIp` would not apply to a request without it.
    let Some(source) = source_ip(peer, trusted_peer, headers, &state.gate) else {
        return Outcome::refuse(GateDecision::InvalidRequest, None, UNKNOWN_SOURCE);
    };
    // 3. Identity, before routes.
    let now = state.now_secs();
    let original = Original { method, uri, host: asked.host, snapshot: loaded.snapshot(), state, source, now };
    let (principal, identity) = match identify(headers, trusted_peer, &state.gate, &original) {
        Found::Principal(p) => (p, None),
        Found::Identity(id) => (id.principal_arn().to_owned(), Some(id)),
        Found::Absent => return Outcome::refuse(GateDecision::Unauthenticated, None, "no identity in the request"),
        Found::Refused(decision, reason) => return Outcome::refuse(decision, None, reason),
    };
    // 4. The route.
    let target = match loaded.snapshot().gateway().resolve(method, uri, |name| header_lookup(headers, name)) {
        Ok(t) => t,
        Err(GateRefusal::NoRoute) => {
            return Outcome::refuse(GateDecision::NoRoute, Some(principal), format!("no route for {method} {uri}"))
        }
        Err(GateRefusal::InvalidRequest(reason)) => {
            return Outcome::refuse(GateDecision::InvalidRequest, Some(principal), reason)
        }
    };
    // 5. The request, with the facts AWS would fill.
    let mut context = Map::new();
    context.insert("aws:SourceIp".to_owned(), Value::from(source.to_string()));
    context.insert("aws:SecureTransport".to_owned(), Value::from(trusted_peer && forwarded_https(headers)));
    for (key, value) in target.context {
        context.insert(key, Value::from(value));
    }
    let mut request = match keycard::Request::new(&principal, &target.action, &target.resource)
        .and_then(|r| r.with_context(&Value::Object(context)))
    {
        Ok(r) => r,
        Err(e) => return Outcome::refuse(GateDecision::InvalidRequest, Some(principal), e.to_string()),
    };
    if let Some(identity) = &identity {
        // Signed or bearer callers: the session's tags, session policies, MFA and issue time.
        request.authenticated_as(loaded.snapshot().store(), identity, now);
    }
    // 6. The decision: one snapshot, counted and logged like any other.
    let started = Instant::now();
    let answer = loaded.snapshot().authorize(&request);
    state.metrics.decision(answer.decision(), started.elapsed());
    if let Some(log) = &state.log {
        log.record(&request, &answer);
    }
    Outcome { decision: answer.decision().into(), principal: Some(principal), reason: None }
}

/// The request a proxy protocol names.
struct Named {
    method: String,
    uri: String,
    host: Option<String>,
}

/// The method and URI being asked about: for Envoy, the request itself minus [`ENVOY_PREFIX`];
/// for nginx, `X-Original-Method` / `X-Original-URI`; when neither of those is present, the
/// forward-auth headers of Caddy and Traefik, `X-Forwarded-Method` / `X-Forwarded-Uri` (an
/// absolute path) and `X-Forwarded-Host` (reached only from trusted proxies: see
/// [`untrusted_forwarding`]). Each header at most once.
///
/// hyper has already dropped a `#` fragment from Envoy's path; Envoy strips or rejects
/// fragments before it asks, so the path asked about is the path it forwards.
fn original_request<B>(req: &Request<B>, endpoint: Endpoint) -> Result<Named, String> {
    if endpoint == Endpoint::Envoy {
        let target = req.uri().path_and_query().map_or("", |pq| pq.as_str());
        let rest = target.strip_prefix(ENVOY_PREFIX).unwrap_or("");
        let uri = if rest.is_empty() || rest.starts_with('?') { format!("/{rest}") } else { rest.to_owned() };
        return Ok(Named { method: req.method().as_str().to_owned(), uri, host: None });
    }
    let headers = req.headers();
    let one = |name: &str| match single(headers, name) {
        Ok(Some(v)) if !v.is_empty() => Ok(v.to_owned()),
        Ok(_) => Err(format!("missing {name}")),
        Err(e) => Err(e),
    };
    let nginx = headers.contains_key("x-original-method") || headers.contains_key("x-original-uri");
    let forward_auth = headers.contains_key("x-forwarded-method") || headers.contains_key("x-forwarded-uri");
    if nginx || !forward_auth {
        return Ok(Named { method: one("x-original-method")?, uri: one("x-original-uri")?, host: None });
    }
    let (method, uri) = (one("x-forwarded-method")?, one("x-forwarded-uri")?);
    if !uri.starts_with('/') {
        return Err(format!("x-forwarded-uri {uri:?} is not an absolute path"));
    }
    let host = single(headers, "x-forwarded-host")?.filter(|h| !h.is_empty()).map(str::to_owned);
    Ok(Named { method, uri, host })
}

/// A header that must appear at most once, as text.
fn single<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, String> {
    let mut values = headers.get_all(name).iter();
    let Some(first) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(format!("{name} appears more than once"));
    }
    first.to_str().map(|v| Some(v.trim())).map_err(|_| format!("{name} is not visible ASCII"))
}

fn header_lookup(headers: &HeaderMap, name: &str) -> HeaderLookup {
    match single(headers, name) {
        Ok(None) => HeaderLookup::Absent,
        Ok(Some(v)) => HeaderLookup::One(v.to_owned()),
        Err(_) => HeaderLookup::Unusable,
    }
}

/// The request being asked about, for the identity sources that verify signatures and tokens.
struct Original<'a> {
    method: &'a str,
    uri: &'a str,
    /// The original `Host`, when not among the headers (`X-Forwarded-Host`).
    host: Option<&'a str>,
    snapshot: &'a keycard::Snapshot,
    state: &'a State,
    /// `aws:SourceIp` as the gateway computes it (trusted proxies, `X-Forwarded-For`).
    source: IpAddr,
    now: u64,
}

/// What one identity source found.
enum Found {
    /// The caller's principal (an ARN), named by a trusted proxy.
    Principal(String),
    /// The caller's verified credentials (SigV4) or web identity (bearer token).
    Identity(Identity),
    /// Nothing from this source; the next one is asked.
    Absent,
    /// The source found credentials and refuses them: the answer, and why.
    Refused(GateDecision, String),
}

/// Where an identity can come from, in order of trust (`docs/gateway.md#identity`).
#[derive(Debug, Clone, Copy)]
enum IdentitySource {
    /// A SigV4 `Authorization` header (`docs/http-api.md#signed-requests`).
    SigV4,
    /// `Authorization: Bearer <JWT>` from an OIDC provider with a `GatewayRoleArn`.
    Bearer,
    /// `--trust-principal-header NAME`, from a trusted proxy only.
    TrustedHeader,
}

const IDENTITY_SOURCES: [IdentitySource; 3] =
    [IdentitySource::SigV4, IdentitySource::Bearer, IdentitySource::TrustedHeader];

/// Who is calling: the first source that finds (or refuses) an identity decides.
fn identify(headers: &HeaderMap, trusted_peer: bool, config: &Config, original: &Original<'_>) -> Found {
    for source in IDENTITY_SOURCES {
        let found = match source {
            IdentitySource::SigV4 => sigv4(headers, original),
            IdentitySource::Bearer => bearer(headers, original),
            IdentitySource::TrustedHeader => trusted_header(headers, trusted_peer, config),
        };
        if !matches!(found, Found::Absent) {
            return found;
        }
    }
    Found::Absent
}

/// A SigV4-signed original request (`Authorization: AWS4-HMAC-SHA256 ...` or a presigned URL):
/// its signer, checked against the store's keys and the STS's session tokens. The body is not
/// available to a proxy's auth check, so the payload hash is `x-amz-content-sha256` or the empty
/// body's. A signature that does not verify establishes no identity: 401.
fn sigv4(headers: &HeaderMap, original: &Original<'_>) -> Found {
    let (path, query) = original.uri.split_once('?').unwrap_or((original.uri, ""));
    let Ok(method) = hyper::Method::from_bytes(original.method.as_bytes()) else {
        return Found::Refused(GateDecision::InvalidRequest, format!("invalid method {:?}", original.method));
    };
    let mut signed = super::sts::signed_request(&method, path, query, headers, None);
    if let Some(host) = original.host {
        // Forward auth: the proxy's own Host reached keycard; the signature covers the original.
        signed.headers.retain(|(name, _)| !name.eq_ignore_ascii_case("host"));
        signed.headers.push(("host".to_owned(), host.to_owned()));
    }
    if !signed.is_signed() {
        return Found::Absent;
    }
    match original.state.sts.authenticate(original.snapshot.store(), &signed, original.now) {
        Ok((identity, _)) => Found::Identity(identity),
        Err(e) => Found::Refused(GateDecision::Unauthenticated, e.to_string()),
    }
}

/// `Authorization: Bearer <JWT>` from an OIDC provider with a `GatewayRoleArn`: the role session
/// `AssumeRoleWithWebIdentity` would give. A token that does not verify is 401; a verified token
/// whose role's trust policy refuses it is 403 (`implicitDeny`). An `Authorization` header that
/// is repeated or not text is 401 too: credentials keycard cannot read are not "no credentials",
/// and must not fall through to a weaker source.
fn bearer(headers: &HeaderMap, original: &Original<'_>) -> Found {
    let token = match single(headers, hyper::header::AUTHORIZATION.as_str()) {
        Ok(None) => return Found::Absent,
        Ok(Some(v)) => match v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")) {
            Some(token) => token,
            None => return Found::Absent,
        },
        Err(e) => return Found::Refused(GateDecision::Unauthenticated, e),
    };
    let facts = keycard::sts::CallFacts { source_ip: Some(original.source.to_string()), region: None };
    match original.state.sts.gateway_identity(original.snapshot, token.trim(), &facts, original.now) {
        Ok(identity) => Found::Identity(identity),
        Err(e) if e.code() == keycard::sts::StsCode::AccessDenied => {
            Found::Refused(GateDecision::ImplicitDeny, e.to_string())
        }
        Err(e) => Found::Refused(GateDecision::Unauthenticated, e.to_string()),
    }
}

/// `--trust-principal-header NAME`: honoured only when the peer is a trusted proxy.
fn trusted_header(headers: &HeaderMap, trusted_peer: bool, config: &Config) -> Found {
    let Some(name) = &config.principal_header else { return Found::Absent };
    if !trusted_peer {
        return Found::Absent;
    }
    match single(headers, name.as_str()) {
        Ok(None) => Found::Absent,
        Ok(Some("")) => Found::Absent,
        Ok(Some("*")) => Found::Refused(GateDecision::InvalidRequest, format!("{name}: \"*\" names no one")),
        Ok(Some(v)) => match keycard::Request::new(v, "keycard:Identify", "*") {
            Ok(r) => match r.principal_json() {
                Value::String(arn) => Found::Principal(arn),
                _ => Found::Refused(GateDecision::InvalidRequest, format!("{name}: not a principal ARN")),
            },
            Err(e) => Found::Refused(GateDecision::InvalidRequest, format!("{name}: {}", e.message())),
        },
        Err(e) => Found::Refused(GateDecision::InvalidRequest, e),
    }
}

/// Why a request without a determinable `aws:SourceIp` is refused.
const UNKNOWN_SOURCE: &str =
    "aws:SourceIp cannot be determined (a Unix-socket peer must name the client in X-Forwarded-For)";

/// `aws:SourceIp`: the peer's address, or for a trusted peer the `X-Forwarded-For` walk: all
/// lines joined in order, read byte by byte from the right, skipping trusted proxies; the first
/// entry that is not a trusted proxy is the source. Only entries that trusted proxies appended
/// are facts, so the walk must not stop with "no address" where the client wrote garbage: an
/// entry that is not an address (empty, not ASCII, a port or a name) ends the walk with the
/// nearest address to its right, i.e. the hop that passed the garbage on (the peer when it is
/// the rightmost entry). All entries trusted: the leftmost. `Forwarded` (RFC 7239) is ignored.
/// `None` only when no address is known at all: a Unix-socket peer, with no `X-Forwarded-For`
/// address to the right of the walk's end (the caller refuses the request).
fn source_ip(peer: Peer, trusted_peer: bool, headers: &HeaderMap, config: &Config) -> Option<IpAddr> {
    let own = peer.ip().map(|ip| ip.to_canonical());
    if !trusted_peer {
        return own;
    }
    // The nearest address known so far: the peer's, then each trusted entry walked past.
    let mut nearest = own;
    for line in headers.get_all("x-forwarded-for").iter().rev() {
        for entry in line.as_bytes().rsplit(|&b| b == b',') {
            match forwarded_address(entry) {
                Some(ip) if !config.trusts(ip) => return Some(ip),
                Some(ip) => nearest = Some(ip),
                None => return nearest,
            }
        }
    }
    nearest
}

/// One `X-Forwarded-For` entry as an address (IPv4-mapped IPv6 as IPv4); `None` when it is not one.
fn forwarded_address(entry: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(entry.trim_ascii()).ok()?;
    text.parse::<IpAddr>().ok().map(|ip| ip.to_canonical())
}

/// `X-Forwarded-Proto: https` (one line), which counts only from a trusted peer.
fn forwarded_https(headers: &HeaderMap) -> bool {
    matches!(single(headers, "x-forwarded-proto"), Ok(Some(v)) if v.eq_ignore_ascii_case("https"))
}

/// The answer: status and headers, and **no body**. nginx reads no body of an `auth_request`
/// answer (the subrequest is header-only), and an unread body makes it close the keep-alive
/// connection to keycard: with a body, every decision paid a new TCP connection (measured:
/// BENCHMARKS.md). The reason of a refusal goes to the debug log instead.
fn reply(outcome: &Outcome) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::new()));
    *reply.status_mut() = outcome.decision.status();
    let headers = reply.headers_mut();
    headers.insert(DECISION_HEADER, HeaderValue::from_static(outcome.decision.as_str()));
    if let Some(p) = outcome.principal.as_deref().and_then(|p| HeaderValue::from_str(p).ok()) {
        headers.insert(PRINCIPAL_HEADER, p);
    }
    reply
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn walk_from(peer: Peer, xff: &[&[u8]]) -> Option<String> {
        let config = Config::new(&["127.0.0.0/8".into(), "10.0.0.0/8".into()], None).unwrap();
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_bytes(v).unwrap());
        }
        source_ip(peer, config.trusts_peer(peer), &h, &config).map(|i| i.to_string())
    }

    fn walk(peer: &str, xff: &[&str]) -> Option<String> {
        walk_from(Peer::Ip(ip(peer)), &xff.iter().map(|v| v.as_bytes()).collect::<Vec<_>>())
    }

    #[test]
    fn x_forwarded_for_walks() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(walk("203.0.113.9", &["198.51.100.1"]), some("203.0.113.9"), "untrusted peer: its own address");
        assert_eq!(walk("127.0.0.1", &[]), some("127.0.0.1"));
        assert_eq!(walk("127.0.0.1", &["198.51.100.1, 203.0.113.7, 10.0.0.2"]), some("203.0.113.7"));
        assert_eq!(walk("127.0.0.1", &["198.51.100.1", "203.0.113.7", "10.0.0.2"]), some("203.0.113.7"));
        assert_eq!(walk("127.0.0.1", &["10.1.1.1, 10.0.0.2", "127.0.0.5"]), some("10.1.1.1"), "all trusted");
        assert_eq!(walk("127.0.0.1", &["203.0.113.7, junk, 10.0.0.2"]), some("10.0.0.2"), "the hop right of junk");
        assert_eq!(walk("127.0.0.1", &["junk, 203.0.113.7"]), some("203.0.113.7"), "not reached");
        assert_eq!(walk("127.0.0.1", &["203.0.113.7,"]), some("127.0.0.1"), "an empty entry: the peer");
        assert_eq!(walk("127.0.0.1", &[""]), some("127.0.0.1"), "an empty line: the peer");
        assert_eq!(walk("127.0.0.1", &["203.0.113.7:443"]), some("127.0.0.1"), "a port: not an address");
        assert_eq!(walk("127.0.0.1", &["203.0.113.7", "junk"]), some("127.0.0.1"), "the last line first");
        assert_eq!(walk("127.0.0.1", &["2001:db8::1"]), some("2001:db8::1"));
        assert_eq!(walk("::ffff:127.0.0.1", &["203.0.113.7"]), some("203.0.113.7"));
        assert_eq!(walk("127.0.0.1", &[" \t203.0.113.7 \t"]), some("203.0.113.7"), "optional whitespace");
    }

    #[test]
    fn x_forwarded_for_bytes_that_are_not_text_never_erase_the_source() {
        let some = |s: &str| Some(s.to_owned());
        let peer = Peer::Ip(ip("127.0.0.1"));
        assert_eq!(walk_from(peer, &[b"\xff"]), some("127.0.0.1"));
        assert_eq!(walk_from(peer, &[b"\xff, 203.0.113.7"]), some("203.0.113.7"), "nginx appended the client");
        assert_eq!(walk_from(peer, &[b"203.0.113.7\xff, 10.0.0.2"]), some("10.0.0.2"));
        assert_eq!(walk_from(peer, &[b"\xc3\xa9", b"203.0.113.7"]), some("203.0.113.7"));
        assert_eq!(walk_from(peer, &[b"198.51.100.1", b"\x80,10.0.0.2"]), some("10.0.0.2"));
        // A Unix-socket peer has no address: the walk must find one, or there is none.
        assert_eq!(walk_from(Peer::Local, &[b"203.0.113.7"]), some("203.0.113.7"));
        assert_eq!(walk_from(Peer::Local, &[b"203.0.113.7, \xff"]), None);
        assert_eq!(walk_from(Peer::Local, &[b"\xff, 10.0.0.2"]), some("10.0.0.2"));
        assert_eq!(walk_from(Peer::Local, &[]), None);
    }

    #[test]
    fn unix_socket_peers_are_trusted_like_loopback_with_no_address() {
        let config = Config::new(&[], None).unwrap();
        assert!(config.trusts_peer(Peer::Local));
        assert_eq!(source_ip(Peer::Local, true, &HeaderMap::new(), &config), None);
        let only_lan = Config::new(&["10.0.0.0/8".into()], None).unwrap();
        assert!(!only_lan.trusts_peer(Peer::Local));
    }

    #[test]
    fn the_principal_header_needs_a_trusted_peer() {
        let config = Config::new(&[], Some("X-User")).unwrap();
        let h = headers(&[("x-user", "arn:aws:iam::111122223333:user/alice")]);
        assert!(
            matches!(trusted_header(&h, true, &config), Found::Principal(p) if p == "arn:aws:iam::111122223333:user/alice")
        );
        assert!(matches!(trusted_header(&h, false, &config), Found::Absent));
        let account = headers(&[("x-user", "111122223333")]);
        assert!(
            matches!(trusted_header(&account, true, &config), Found::Principal(p) if p == "arn:aws:iam::111122223333:root")
        );
        for bad in [&[("x-user", "*")][..], &[("x-user", "alice")], &[("x-user", "a"), ("x-user", "b")]] {
            assert!(matches!(
                trusted_header(&headers(bad), true, &config),
                Found::Refused(GateDecision::InvalidRequest, _)
            ));
        }
        let without = Config::new(&[], None).unwrap();
        assert!(matches!(trusted_header(&h, true, &without), Found::Absent));
    }
}

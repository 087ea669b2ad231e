//! AWS STS's Query protocol at `POST /` (`docs/sts.md`): form-encoded parameters in, XML out, AWS's
//! error XML and codes, so the AWS CLI and SDKs work against `keycard serve` with
//! `--endpoint-url` and no patches. Calls are authenticated with SigV4 (`keycard::auth`) except
//! `AssumeRoleWithWebIdentity`, whose token is the credential; the operations themselves are
//! `keycard::sts::Sts`'s.
//!
//! Nothing secret is logged: secrets and tokens appear only in the XML answer.

use super::state::State;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{HeaderMap, Method, Response, StatusCode};
use keycard::auth::sigv4::sha256_hex;
use keycard::auth::{Identity, SignedRequest};
use keycard::clock::iso_seconds;
use keycard::sts::{CallFacts, Issued, Params, StsCode, StsError};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

type Reply = Response<Full<Bytes>>;

const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
const VERSION: &str = "2011-06-15";

/// The parts of an HTTP request the STS endpoint reads.
pub(crate) struct Call<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
    pub peer: Option<IpAddr>,
}

/// The request as SigV4 sees it.
pub(crate) fn signed_request(
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body_sha256: Option<String>,
) -> SignedRequest {
    SignedRequest {
        method: method.as_str().to_owned(),
        path: path.to_owned(),
        query: query.to_owned(),
        headers: headers
            .iter()
            .map(|(n, v)| (n.as_str().to_owned(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
            .collect(),
        body_sha256,
    }
}

/// Answers one STS call.
pub(crate) fn handle(call: &Call<'_>, state: &State) -> Reply {
    let request_id = request_id();
    match answer(call, state) {
        Ok(xml) => xml_reply(StatusCode::OK, xml, &request_id),
        Err(e) => error_reply(&e, &request_id),
    }
}

fn answer(call: &Call<'_>, state: &State) -> Result<String, StsError> {
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(call.query.as_bytes()).into_owned().collect();
    let form = call
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"));
    if form || (call.method == Method::POST && !call.body.is_empty()) {
        pairs.extend(form_urlencoded::parse(call.body).into_owned());
    }
    let params = Params::new(pairs);
    let Some(action) = params.get("Action") else {
        return Err(StsError::new(StsCode::MissingAction, "The request must contain the parameter Action"));
    };
    match params.get("Version") {
        Some(VERSION) => {}
        Some(v) => {
            return Err(StsError::new(
                StsCode::InvalidAction,
                format!("Could not find operation {action} for version {v}"),
            ))
        }
        None => return Err(StsError::new(StsCode::MissingParameter, "The request must contain the parameter Version")),
    }
    let current = state.current();
    let Some(loaded) = current.as_ref() else {
        return Err(StsError::new(StsCode::ServiceUnavailable, "no policy snapshot is loaded yet"));
    };
    let snapshot = loaded.snapshot();
    let now = state.now_secs();
    let mut facts = CallFacts { source_ip: call.peer.map(|ip| ip.to_string()), region: None };
    let sts = &state.sts;
    if action == "AssumeRoleWithWebIdentity" {
        let issued = sts.assume_role_with_web_identity(snapshot, &params, &facts, now)?;
        tracing::info!(action, principal = issued.assumed_role_user.as_ref().map(|(_, arn)| arn.as_str()), "sts");
        return Ok(close(issued_xml(action, &issued), action));
    }
    let signed = signed_request(call.method, call.path, call.query, call.headers, Some(sha256_hex(call.body)));
    let (identity, sig) = sts.authenticate(snapshot.store(), &signed, now).map_err(|e| {
        tracing::info!(action, code = e.code().as_str(), "sts call refused");
        StsError::from(e)
    })?;
    facts.region = Some(sig.region.clone());
    let result = match action {
        "GetCallerIdentity" => {
            let who = sts.get_caller_identity(snapshot.store(), &identity);
            let mut xml = open("GetCallerIdentity");
            element(&mut xml, "Arn", &who.arn);
            element(&mut xml, "UserId", &who.user_id);
            element(&mut xml, "Account", &who.account);
            Ok(xml)
        }
        "AssumeRole" => sts.assume_role(snapshot, &identity, &params, &facts, now).map(|i| issued_xml(action, &i)),
        "GetSessionToken" => {
            sts.get_session_token(snapshot.store(), &identity, &params, now).map(|i| issued_xml(action, &i))
        }
        other => Err(StsError::new(
            StsCode::InvalidAction,
            format!("Could not find operation {other} for version {VERSION}"),
        )),
    };
    log_call(action, &identity, &result);
    result.map(|xml| close(xml, action))
}

fn log_call(action: &str, identity: &Identity, result: &Result<String, StsError>) {
    match result {
        Ok(_) => tracing::info!(action, caller = identity.principal_arn(), "sts"),
        Err(e) => {
            tracing::info!(action, caller = identity.principal_arn(), code = e.code().as_str(), "sts call refused")
        }
    }
}

fn open(action: &str) -> String {
    format!("<{action}Response xmlns=\"{XMLNS}\">\n  <{action}Result>\n")
}

fn close(mut xml: String, action: &str) -> String {
    let _ = write!(xml, "  </{action}Result>\n  <ResponseMetadata>\n    <RequestId>{}</RequestId>\n  </ResponseMetadata>\n</{action}Response>\n", request_id());
    xml
}

fn element(xml: &mut String, name: &str, value: &str) {
    let _ = writeln!(xml, "    <{name}>{}</{name}>", escape(value));
}

fn issued_xml(action: &str, issued: &Issued) -> String {
    let mut xml = open(action);
    let c = &issued.credentials;
    let _ = write!(
        xml,
        "    <Credentials>\n      <AccessKeyId>{}</AccessKeyId>\n      <SecretAccessKey>{}</SecretAccessKey>\n      <SessionToken>{}</SessionToken>\n      <Expiration>{}</Expiration>\n    </Credentials>\n",
        escape(&c.access_key_id),
        escape(&c.secret_access_key),
        escape(&c.session_token),
        iso_seconds(c.expiration)
    );
    if let Some((id, arn)) = &issued.assumed_role_user {
        let _ = write!(xml, "    <AssumedRoleUser>\n      <AssumedRoleId>{}</AssumedRoleId>\n      <Arn>{}</Arn>\n    </AssumedRoleUser>\n", escape(id), escape(arn));
    }
    if let Some(size) = issued.packed_policy_size {
        element(&mut xml, "PackedPolicySize", &size.to_string());
    }
    if let Some(source) = &issued.source_identity {
        element(&mut xml, "SourceIdentity", source);
    }
    if let Some((subject, audience, provider)) = &issued.web_identity {
        element(&mut xml, "SubjectFromWebIdentityToken", subject);
        element(&mut xml, "Audience", audience);
        element(&mut xml, "Provider", provider);
    }
    xml
}

fn error_reply(e: &StsError, request_id: &str) -> Reply {
    let kind = if e.http_status() >= 500 { "Receiver" } else { "Sender" };
    let xml = format!(
        "<ErrorResponse xmlns=\"{XMLNS}\">\n  <Error>\n    <Type>{kind}</Type>\n    <Code>{}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>{request_id}</RequestId>\n</ErrorResponse>\n",
        e.code(),
        escape(e.message())
    );
    xml_reply(StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST), xml, request_id)
}

fn xml_reply(status: StatusCode, xml: String, request_id: &str) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(xml)));
    *reply.status_mut() = status;
    reply.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        reply.headers_mut().insert("x-amzn-requestid", v);
    }
    reply
}

/// XML text escaping.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// A request id shaped like AWS's (a UUID): the clock and a counter.
fn request_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default().as_nanos() as u64;
    format!(
        "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
        t >> 32,
        (t >> 16) & 0xffff,
        t & 0xfff,
        (n >> 48) & 0xfff,
        n & 0xffff_ffff_ffff
    )
}

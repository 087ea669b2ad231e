//! The HTTP endpoints of `docs/http-api.md`: routing, body limits, and the JSON in and out.
//!
//! Every error is an answer, never a crash, and every error is an [`ApiError`], whose one
//! [`ApiError::status`] says the HTTP status: a malformed request is 400 with `{"error"}` naming
//! the field, a signature that does not verify 401 with AWS's code, an oversized body or batch
//! 413, a body that trickles in too slowly 408, a request before the first snapshot has loaded
//! 503. A decision is only ever made from one
//! snapshot, held for the whole request (or batch). Heavy requests (large bodies, request-supplied
//! policies, STS calls with a `Policy`) are parsed and decided on the bounded pool of
//! [`super::offload`], never on an async worker; when that pool stays full they are 503.

use super::gate;
use super::gate_types::Peer;
use super::metrics::{Endpoint, Tally};
use super::offload::{is_heavy, Refused, REQUEST_POLICIES, STS_POLICIES};
use super::state::State;
use super::sts;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use keycard::clock::rfc3339;
use keycard::{Answer, AuthError, RequestError, Verifier};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The largest request body accepted (1 MiB, `docs/http-api.md#errors-and-limits`).
pub(crate) const MAX_BODY: usize = 1024 * 1024;
/// The most requests in one batch.
pub(crate) const MAX_BATCH: usize = 10_000;

type Reply = Response<Full<Bytes>>;

/// Why an HTTP request is not answered with a decision.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// A malformed request (or batch): `{"error", "field"}`.
    Request(RequestError),
    /// A signed request whose signature does not verify: `{"error", "code"}`.
    Auth(AuthError),
    /// A body that cannot be read or is not UTF-8.
    Body(String),
    /// A path the API does not have.
    NotFound(String),
    /// A method the endpoint does not take; the `Allow` header lists those it does.
    Method { path: String, allowed: &'static str },
    /// The body did not arrive within `--client-timeout`.
    Timeout,
    /// A body or batch over its limit.
    TooLarge(String),
    /// No snapshot is loaded yet.
    NotReady,
    /// The pool of heavy work stayed full.
    Busy,
    /// keycard failed (fail closed).
    Internal(&'static str),
}

impl ApiError {
    /// The HTTP status of each error: the one place that decides it.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::Request(_) | ApiError::Body(_) => StatusCode::BAD_REQUEST,
            ApiError::Auth(_) => StatusCode::UNAUTHORIZED,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Method { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Timeout => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotReady | ApiError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The JSON body (`docs/http-api.md#errors-and-limits`), also a batch slot's answer.
    fn body(&self) -> Value {
        let error = |message: &str| json!({ "error": message });
        match self {
            ApiError::Request(e) => e.to_json(),
            ApiError::Auth(e) => e.to_json(),
            ApiError::Body(m) | ApiError::TooLarge(m) => error(m),
            ApiError::NotFound(path) => error(&format!("no such endpoint: {path}")),
            ApiError::Method { path, allowed } => error(&format!("{path} takes {allowed}")),
            ApiError::Timeout => error("the request body did not arrive in time"),
            ApiError::NotReady => error("no policy snapshot is loaded yet"),
            ApiError::Busy => error("busy with other large requests; retry"),
            ApiError::Internal(m) => error(m),
        }
    }

    /// The reply: status, body, and the headers some errors carry (`Allow`, `Retry-After`).
    pub(crate) fn reply(&self) -> Reply {
        let mut reply = json_reply(self.status(), &self.body());
        match self {
            ApiError::Method { allowed, .. } => {
                let allow = if *allowed == "POST" { "POST" } else { "GET, HEAD" };
                reply.headers_mut().insert(ALLOW, HeaderValue::from_static(allow));
            }
            ApiError::Busy => {
                reply.headers_mut().insert(hyper::header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        reply
    }
}

/// Answers one HTTP request from `peer`.
pub(crate) async fn handle(req: Request<Incoming>, state: Arc<State>, peer: Peer) -> Result<Reply, Infallible> {
    let started = Instant::now();
    let (endpoint, reply) = route(req, &state, peer).await;
    state.metrics.http(endpoint, reply.status().as_u16(), started.elapsed());
    Ok(reply)
}

async fn route(req: Request<Incoming>, state: &Arc<State>, peer: Peer) -> (Endpoint, Reply) {
    let endpoint = match req.uri().path() {
        "/v1/gate" => Endpoint::Gate,
        p if p == gate::ENVOY_PREFIX || p.strip_prefix(gate::ENVOY_PREFIX).is_some_and(|r| r.starts_with('/')) => {
            Endpoint::Envoy
        }
        "/" => Endpoint::Sts,
        "/v1/authorize" => Endpoint::Authorize,
        "/v1/authorize/batch" => Endpoint::Batch,
        "/healthz" => Endpoint::Healthz,
        "/readyz" => Endpoint::Readyz,
        "/v1/snapshot" => Endpoint::Snapshot,
        "/metrics" => Endpoint::Metrics,
        _ => Endpoint::Other,
    };
    let (allowed, allowed_name) = match endpoint {
        Endpoint::Authorize | Endpoint::Batch | Endpoint::Sts => (Method::POST, "POST"),
        _ => (Method::GET, "GET"),
    };
    if matches!(endpoint, Endpoint::Gate | Endpoint::Envoy) {
        // Any method: nginx asks with GET (the original method is a header), Envoy with the
        // original method. The body is never read.
        return (endpoint, gate::answer(&req, endpoint, peer, state));
    }
    let method_ok = req.method() == allowed || (allowed == Method::GET && req.method() == Method::HEAD);
    if endpoint != Endpoint::Other && !method_ok {
        return (endpoint, ApiError::Method { path: req.uri().path().to_owned(), allowed: allowed_name }.reply());
    }
    let reply = match endpoint {
        Endpoint::Authorize => match read_body(req, state.client_timeout).await {
            Ok(body) => {
                offload_if(state, is_heavy(&[&body], &REQUEST_POLICIES), move |s| reply(authorize(&body, s))).await
            }
            Err(e) => e.reply(),
        },
        Endpoint::Batch => match read_body(req, state.client_timeout).await {
            Ok(body) => offload_if(state, is_heavy(&[&body], &REQUEST_POLICIES), move |s| reply(batch(&body, s))).await,
            Err(e) => e.reply(),
        },
        Endpoint::Sts => {
            let (method, headers) = (req.method().clone(), req.headers().clone());
            let (path, query) = (req.uri().path().to_owned(), req.uri().query().unwrap_or("").to_owned());
            match read_body(req, state.client_timeout).await {
                Ok(body) => {
                    let heavy = is_heavy(&[query.as_bytes(), &body], &STS_POLICIES);
                    offload_if(state, heavy, move |s| {
                        let call = sts::Call {
                            method: &method,
                            path: &path,
                            query: &query,
                            headers: &headers,
                            body: &body,
                            peer: peer.ip(),
                        };
                        sts::handle(&call, s)
                    })
                    .await
                }
                Err(e) => e.reply(),
            }
        }
        Endpoint::Healthz => json_reply(StatusCode::OK, &json!({"status": "ok"})),
        Endpoint::Readyz => readyz(state),
        Endpoint::Snapshot => snapshot(state),
        Endpoint::Metrics => text_reply(state.render_metrics()),
        Endpoint::Gate | Endpoint::Envoy | Endpoint::Check | Endpoint::Other => {
            ApiError::NotFound(req.uri().path().to_owned()).reply()
        }
    };
    (endpoint, reply)
}

/// Runs `work` here when it is light, or on the bounded pool of heavy work ([`super::offload`]):
/// 503 with `Retry-After` when that pool stays full.
async fn offload_if(state: &Arc<State>, heavy: bool, work: impl FnOnce(&State) -> Reply + Send + 'static) -> Reply {
    if !heavy {
        return work(state);
    }
    let shared = Arc::clone(state);
    match state.offload.run(move || work(&shared)).await {
        Ok(reply) => reply,
        Err(Refused::Busy) => {
            tracing::warn!("heavy request refused: every permit of the heavy-work pool stayed taken");
            ApiError::Busy.reply()
        }
        Err(Refused::Failed) => ApiError::Internal("the request could not be answered").reply(),
    }
}

/// Reads the whole body, at most [`MAX_BODY`] bytes, within `timeout` (`--client-timeout`).
async fn read_body(req: Request<Incoming>, timeout: Duration) -> Result<Bytes, ApiError> {
    let declared = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    let body = Limited::new(req.into_body(), MAX_BODY);
    match tokio::time::timeout(timeout, body.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(too_large()),
        Ok(Err(e)) => Err(ApiError::Body(format!("cannot read the request body: {e}"))),
        Err(_) => Err(ApiError::Timeout),
    }
}

fn too_large() -> ApiError {
    ApiError::TooLarge(format!("request body over {MAX_BODY} bytes"))
}

fn body_text(body: &[u8]) -> Result<&str, ApiError> {
    std::str::from_utf8(body).map_err(|e| ApiError::Body(format!("request body is not UTF-8: {e}")))
}

/// The reply of an answer (200) or of an error.
fn reply(result: Result<Vec<u8>, ApiError>) -> Reply {
    match result {
        Ok(bytes) => bytes_reply(StatusCode::OK, bytes),
        Err(e) => e.reply(),
    }
}

/// `POST /v1/authorize`: the answer's JSON.
fn authorize(body: &[u8], state: &State) -> Result<Vec<u8>, ApiError> {
    let request = keycard::Request::from_json(body_text(body)?).map_err(|e| {
        state.metrics.request_error();
        ApiError::Request(e)
    })?;
    let current = state.current();
    let loaded = current.as_ref().ok_or(ApiError::NotReady)?;
    let started = Instant::now();
    let answer = decide(loaded.snapshot(), &request, state)?;
    state.metrics.decision(answer.decision(), started.elapsed());
    serde_json::to_vec(&answer).map_err(|_| ApiError::Internal("cannot serialize the answer"))
}

/// Decides one request, authenticating a `signedRequest` first (through the STS, which
/// throttles failing keys), and logs it.
fn decide(snapshot: &keycard::Snapshot, request: &keycard::Request, state: &State) -> Result<Answer, ApiError> {
    let answer = snapshot.authorize_signed(request, Verifier::Sts(&state.sts), state.now()).map_err(ApiError::Auth)?;
    if let Some(log) = &state.log {
        log.record(request, &answer);
    }
    Ok(answer)
}

/// `POST /v1/authorize/batch`: `{"requests": [...]}` → `{"responses": [...]}`, in order, all
/// from one snapshot. A malformed or unauthenticated request answers its error's body in its
/// slot; the others go on.
fn batch(body: &[u8], state: &State) -> Result<Vec<u8>, ApiError> {
    let requests = keycard::batch_from_json(body_text(body)?).map_err(|e| {
        state.metrics.request_error();
        ApiError::Request(e)
    })?;
    if requests.len() > MAX_BATCH {
        return Err(ApiError::TooLarge(format!("batch of {} requests; at most {MAX_BATCH}", requests.len())));
    }
    let current = state.current();
    let loaded = current.as_ref().ok_or(ApiError::NotReady)?;
    let mut out = Vec::with_capacity(64 + requests.len() * 64);
    let mut tally = Tally::new();
    out.extend_from_slice(b"{\"responses\":[");
    for (i, request) in requests.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let started = Instant::now();
        let answer = request.map_err(ApiError::Request).and_then(|r| decide(loaded.snapshot(), &r, state));
        let written = match answer {
            Ok(answer) => {
                tally.decision(answer.decision(), started.elapsed());
                serde_json::to_writer(&mut out, &answer)
            }
            Err(e) => {
                if matches!(e, ApiError::Request(_)) {
                    state.metrics.request_error();
                }
                serde_json::to_writer(&mut out, &e.body())
            }
        };
        written.map_err(|_| ApiError::Internal("cannot serialize the answers"))?;
    }
    state.metrics.merge(&tally);
    out.extend_from_slice(b"]}");
    Ok(out)
}

/// `GET /readyz`: 200 once a snapshot is loaded, 503 before.
fn readyz(state: &State) -> Reply {
    let current = state.current();
    match current.as_ref() {
        Some(loaded) => json_reply(StatusCode::OK, &json!({"status": "ready", "snapshot": loaded.snapshot().id()})),
        None => json_reply(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"status": "loading", "lastError": state.last_error().map(|e| e.message())}),
        ),
    }
}

/// `GET /v1/snapshot`.
fn snapshot(state: &State) -> Reply {
    let current = state.current();
    let last_error = state.last_error();
    let mut v = json!({
        "snapshot": null, "loadedAt": null, "files": 0, "principals": 0, "policies": 0, "statements": 0,
        "lastError": last_error.as_ref().map(|e| e.message()),
        "lastErrorAt": last_error.as_ref().map(|e| rfc3339(e.at())),
        "source": state.source,
        "fileNames": [],
        "bundle": null,
    });
    if let (Some(loaded), Value::Object(map)) = (current.as_ref(), &mut v) {
        let stats = loaded.stats();
        map.insert("snapshot".into(), loaded.snapshot().id().into());
        map.insert("loadedAt".into(), rfc3339(loaded.loaded_at()).into());
        map.insert("files".into(), stats.files.into());
        map.insert("principals".into(), stats.principals.into());
        map.insert("policies".into(), stats.policies.into());
        map.insert("statements".into(), stats.statements.into());
        map.insert("fileNames".into(), loaded.files().to_vec().into());
        let bundle = loaded
            .bundle()
            .map(|b| json!({"revision": b.revision, "etag": b.etag, "url": b.url, "verifiedBy": b.verified_by}));
        map.insert("bundle".into(), bundle.into());
    }
    json_reply(StatusCode::OK, &v)
}

fn json_reply(status: StatusCode, value: &Value) -> Reply {
    bytes_reply(status, value.to_string().into_bytes())
}

fn bytes_reply(status: StatusCode, bytes: Vec<u8>) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(bytes)));
    *reply.status_mut() = status;
    reply.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    reply
}

fn text_reply(text: String) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from(text)));
    reply.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    reply
}

//! The HTTP endpoints of `docs/http-api.md`: routing, body limits, and the JSON in and out.
//!
//! Every error is an answer, never a crash: a malformed request is 400 with `{"error"}` naming
//! the field, an oversized body or batch is 413, a body that trickles in too slowly is 408,
//! a request before the first snapshot has loaded is 503. A decision is only ever made from one
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
use keycard::auth::AuthError;
use keycard::clock::rfc3339;
use keycard::{Answer, RequestError};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The largest request body accepted (1 MiB, `docs/http-api.md#errors-and-limits`).
pub(crate) const MAX_BODY: usize = 1024 * 1024;
/// The most requests in one batch.
pub(crate) const MAX_BATCH: usize = 10_000;

type Reply = Response<Full<Bytes>>;

/// A request refused before it reaches the evaluator: its status and why.
struct Refusal {
    status: StatusCode,
    message: String,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Refusal {
        Refusal { status, message: message.into() }
    }

    fn reply(&self) -> Reply {
        error(self.status, &self.message)
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
        "/v1/access" => Endpoint::Access,
        "/v1/who-can" => Endpoint::WhoCan,
        _ => Endpoint::Other,
    };
    let (allowed, allow_header) = match endpoint {
        Endpoint::Authorize | Endpoint::Batch | Endpoint::Sts => (Method::POST, "POST"),
        _ => (Method::GET, "GET, HEAD"),
    };
    if matches!(endpoint, Endpoint::Gate | Endpoint::Envoy) {
        // Any method: nginx asks with GET (the original method is a header), Envoy with the
        // original method. The body is never read.
        return (endpoint, gate::answer(&req, endpoint, peer, state));
    }
    let method_ok = req.method() == allowed || (allowed == Method::GET && req.method() == Method::HEAD);
    if endpoint != Endpoint::Other && !method_ok {
        let mut reply = error(StatusCode::METHOD_NOT_ALLOWED, &format!("{} takes {allowed}", req.uri().path()));
        reply.headers_mut().insert(ALLOW, HeaderValue::from_static(allow_header));
        return (endpoint, reply);
    }
    let reply = match endpoint {
        Endpoint::Authorize => match read_body(req, state.client_timeout).await {
            Ok(body) => offload_if(state, is_heavy(&[&body], &REQUEST_POLICIES), move |s| authorize(&body, s)).await,
            Err(refusal) => refusal.reply(),
        },
        Endpoint::Batch => match read_body(req, state.client_timeout).await {
            Ok(body) => offload_if(state, is_heavy(&[&body], &REQUEST_POLICIES), move |s| batch(&body, s)).await,
            Err(refusal) => refusal.reply(),
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
                Err(refusal) => refusal.reply(),
            }
        }
        Endpoint::Healthz => json_reply(StatusCode::OK, &json!({"status": "ok"})),
        Endpoint::Readyz => readyz(state),
        Endpoint::Snapshot => snapshot(state),
        Endpoint::Metrics => text_reply(state.render_metrics()),
        Endpoint::Access | Endpoint::WhoCan => {
            // A who-can decides every principal: always on the pool of heavy work.
            let query = req.uri().query().unwrap_or("").to_owned();
            offload_if(state, true, move |s| analysis(endpoint, &query, s)).await
        }
        Endpoint::Gate | Endpoint::Envoy | Endpoint::Check | Endpoint::Other => {
            error(StatusCode::NOT_FOUND, &format!("no such endpoint: {}", req.uri().path()))
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
            let mut reply = error(StatusCode::SERVICE_UNAVAILABLE, "busy with other large requests; retry");
            reply.headers_mut().insert(hyper::header::RETRY_AFTER, HeaderValue::from_static("1"));
            reply
        }
        Err(Refused::Failed) => error(StatusCode::INTERNAL_SERVER_ERROR, "the request could not be answered"),
    }
}

/// Reads the whole body, at most [`MAX_BODY`] bytes, within `timeout` (`--client-timeout`).
async fn read_body(req: Request<Incoming>, timeout: Duration) -> Result<Bytes, Refusal> {
    let declared = req.headers().get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(too_large());
    }
    let body = Limited::new(req.into_body(), MAX_BODY);
    match tokio::time::timeout(timeout, body.collect()).await {
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
        Ok(Err(e)) if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() => Err(too_large()),
        Ok(Err(e)) => Err(Refusal::new(StatusCode::BAD_REQUEST, format!("cannot read the request body: {e}"))),
        Err(_) => Err(Refusal::new(StatusCode::REQUEST_TIMEOUT, "the request body did not arrive in time")),
    }
}

fn too_large() -> Refusal {
    Refusal::new(StatusCode::PAYLOAD_TOO_LARGE, format!("request body over {MAX_BODY} bytes"))
}

fn body_text(body: &[u8]) -> Result<&str, Refusal> {
    std::str::from_utf8(body)
        .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, format!("request body is not UTF-8: {e}")))
}

fn not_ready() -> Reply {
    error(StatusCode::SERVICE_UNAVAILABLE, "no policy snapshot is loaded yet")
}

/// `POST /v1/authorize`.
fn authorize(body: &[u8], state: &State) -> Reply {
    let text = match body_text(body) {
        Ok(t) => t,
        Err(refusal) => return refusal.reply(),
    };
    let mut request = match keycard::Request::from_json(text) {
        Ok(r) => r,
        Err(e) => {
            state.metrics.request_error();
            return request_error(&e);
        }
    };
    let current = state.current();
    let Some(loaded) = current.as_ref() else { return not_ready() };
    if request.signed_request().is_some() {
        return match authenticate(&mut request, &loaded.snapshot, state) {
            Ok(principal) => {
                let answer = decide(&loaded.snapshot, &request, state);
                match serde_json::to_value(&answer) {
                    Ok(Value::Object(mut map)) => {
                        map.insert("principal".into(), principal.into());
                        json_reply(StatusCode::OK, &Value::Object(map))
                    }
                    _ => error(StatusCode::INTERNAL_SERVER_ERROR, "cannot serialize the answer"),
                }
            }
            Err(e) => auth_error(&e),
        };
    }
    let answer = decide(&loaded.snapshot, &request, state);
    match serde_json::to_vec(&answer) {
        Ok(bytes) => bytes_reply(StatusCode::OK, bytes),
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "cannot serialize the answer"),
    }
}

/// Authenticates a request's `signedRequest` (`docs/http-api.md#signed-requests`): the signer's
/// ARN.
fn authenticate(
    request: &mut keycard::Request,
    snapshot: &keycard::Snapshot,
    state: &State,
) -> Result<String, AuthError> {
    let identity = request.authenticate_throttled(snapshot.store(), &state.sts, state.now_secs())?;
    Ok(identity.principal_arn().to_owned())
}

/// 401 with the AWS error code of a signature that did not verify.
fn auth_error(e: &AuthError) -> Reply {
    json_reply(StatusCode::UNAUTHORIZED, &json!({"error": e.message(), "code": e.code().as_str()}))
}

/// Decides one request, counts it, logs it.
fn decide(snapshot: &keycard::Snapshot, request: &keycard::Request, state: &State) -> Answer {
    let started = Instant::now();
    let answer = snapshot.authorize(request);
    state.metrics.decision(answer.decision, started.elapsed());
    log(request, &answer, state);
    answer
}

fn log(request: &keycard::Request, answer: &Answer, state: &State) {
    if let Some(log) = &state.log {
        log.record(request, answer);
    }
}

/// `POST /v1/authorize/batch`: `{"requests": [...]}` → `{"responses": [...]}`, in order, all
/// from one snapshot. A malformed request answers `{"error"}` in its slot; the others go on.
fn batch(body: &[u8], state: &State) -> Reply {
    let text = match body_text(body) {
        Ok(t) => t,
        Err(refusal) => return refusal.reply(),
    };
    let requests = match keycard::batch_from_json(text) {
        Ok(r) => r,
        Err(e) => {
            state.metrics.request_error();
            return request_error(&e);
        }
    };
    if requests.len() > MAX_BATCH {
        return error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("batch of {} requests; at most {MAX_BATCH}", requests.len()),
        );
    }
    let current = state.current();
    let Some(loaded) = current.as_ref() else { return not_ready() };
    let run = || {
        let mut out = Vec::with_capacity(64 + requests.len() * 64);
        let mut tally = Tally::new();
        out.extend_from_slice(b"{\"responses\":[");
        for (i, request) in requests.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let written = match request {
                Ok(r) if r.signed_request().is_some() => {
                    let mut r = r.clone();
                    match authenticate(&mut r, &loaded.snapshot, state) {
                        Ok(principal) => {
                            let started = Instant::now();
                            let answer = loaded.snapshot.authorize(&r);
                            tally.decision(answer.decision, started.elapsed());
                            log(&r, &answer, state);
                            match serde_json::to_value(&answer) {
                                Ok(Value::Object(mut map)) => {
                                    map.insert("principal".into(), principal.into());
                                    serde_json::to_writer(&mut out, &map)
                                }
                                _ => return Err(()),
                            }
                        }
                        Err(e) => {
                            serde_json::to_writer(&mut out, &json!({"error": e.message(), "code": e.code().as_str()}))
                        }
                    }
                }
                Ok(r) => {
                    let started = Instant::now();
                    let answer = loaded.snapshot.authorize(r);
                    tally.decision(answer.decision, started.elapsed());
                    log(r, &answer, state);
                    serde_json::to_writer(&mut out, &answer)
                }
                Err(e) => {
                    state.metrics.request_error();
                    serde_json::to_writer(&mut out, &e.to_json())
                }
            };
            if written.is_err() {
                return Err(());
            }
        }
        state.metrics.merge(&tally);
        out.extend_from_slice(b"]}");
        Ok(out)
    };
    match run() {
        Ok(bytes) => bytes_reply(StatusCode::OK, bytes),
        Err(()) => error(StatusCode::INTERNAL_SERVER_ERROR, "cannot serialize the answers"),
    }
}

/// `GET /readyz`: 200 once a snapshot is loaded, 503 before.
fn readyz(state: &State) -> Reply {
    let current = state.current();
    match current.as_ref() {
        Some(loaded) => json_reply(StatusCode::OK, &json!({"status": "ready", "snapshot": loaded.snapshot.id()})),
        None => json_reply(
            StatusCode::SERVICE_UNAVAILABLE,
            &json!({"status": "loading", "lastError": state.last_error().map(|e| e.message.clone())}),
        ),
    }
}

/// `GET /v1/snapshot`.
fn snapshot(state: &State) -> Reply {
    let current = state.current();
    let last_error = state.last_error();
    let mut v = json!({
        "snapshot": null, "loadedAt": null, "files": 0, "principals": 0, "policies": 0, "statements": 0,
        "lastError": last_error.as_ref().map(|e| e.message.clone()),
        "lastErrorAt": last_error.as_ref().map(|e| rfc3339(e.at)),
        "source": state.source,
        "fileNames": [],
        "bundle": null,
    });
    if let (Some(loaded), Value::Object(map)) = (current.as_ref(), &mut v) {
        map.insert("snapshot".into(), loaded.snapshot.id().into());
        map.insert("loadedAt".into(), rfc3339(loaded.loaded_at).into());
        map.insert("files".into(), loaded.stats.files.into());
        map.insert("principals".into(), loaded.stats.principals.into());
        map.insert("policies".into(), loaded.stats.policies.into());
        map.insert("statements".into(), loaded.stats.statements.into());
        map.insert("fileNames".into(), loaded.files.clone().into());
        let bundle = loaded
            .bundle
            .as_ref()
            .map(|b| json!({"revision": b.revision, "etag": b.etag, "url": b.url, "verifiedBy": b.verified_by}));
        map.insert("bundle".into(), bundle.into());
    }
    json_reply(StatusCode::OK, &v)
}

/// `GET /v1/access?principal=ARN[&service=S]` and `GET /v1/who-can?action=A&resource=R[&context=JSON]`
/// (docs/analysis.md): the JSON of `keycard access` / `keycard who-can --format json`.
fn analysis(endpoint: Endpoint, query: &str, state: &State) -> Reply {
    use keycard::analysis::AnalysisError;
    let Some(loaded) = state.current().as_ref().map(Arc::clone) else { return not_ready() };
    let known: &[&str] =
        if endpoint == Endpoint::Access { &["principal", "service"] } else { &["action", "resource", "context"] };
    let mut params: Vec<(String, String)> = Vec::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()) {
        if !known.contains(&k.as_ref()) {
            return error(StatusCode::BAD_REQUEST, &format!("unknown parameter {k:?} (expected {})", known.join(", ")));
        }
        if params.iter().any(|(p, _)| *p == k) {
            return error(StatusCode::BAD_REQUEST, &format!("parameter {k:?} is given twice"));
        }
        params.push((k.into_owned(), v.into_owned()));
    }
    let get = |k: &str| params.iter().find(|(p, _)| p == k).map(|(_, v)| v.as_str());
    let missing = |k: &str| error(StatusCode::BAD_REQUEST, &format!("missing parameter {k:?}"));
    let answer = if endpoint == Endpoint::Access {
        let Some(principal) = get("principal") else { return missing("principal") };
        keycard::analysis::access::access(&loaded.snapshot, principal, get("service")).map(|a| json!(a))
    } else {
        let (Some(action), Some(resource)) = (get("action"), get("resource")) else {
            return missing(if get("action").is_none() { "action" } else { "resource" });
        };
        let context = match get("context").map(serde_json::from_str::<Value>).transpose() {
            Ok(c) => c,
            Err(e) => return error(StatusCode::BAD_REQUEST, &format!("context: invalid JSON: {e}")),
        };
        keycard::analysis::who_can::who_can(&loaded.snapshot, action, resource, context.as_ref()).map(|w| json!(w))
    };
    match answer {
        Ok(v) => json_reply(StatusCode::OK, &v),
        Err(AnalysisError::UnknownPrincipal(p)) => {
            error(StatusCode::NOT_FOUND, &AnalysisError::UnknownPrincipal(p).to_string())
        }
        Err(AnalysisError::Request(e)) => request_error(&e),
    }
}

fn request_error(e: &RequestError) -> Reply {
    json_reply(StatusCode::BAD_REQUEST, &e.to_json())
}

pub(crate) fn error(status: StatusCode, message: &str) -> Reply {
    json_reply(status, &json!({"error": message}))
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

//! The gateway over gRPC: Envoy's external authorization service,
//! `envoy.service.auth.v3.Authorization/Check`, which Envoy's `ext_authz` filter with a
//! `grpc_service` and Istio's `CUSTOM` action (`envoyExtAuthzGrpc`) call; and gRPC health
//! checking (`grpc.health.v1.Health`), `SERVING` once a snapshot has loaded.
//!
//! A `CheckRequest` is only another way of naming the request a proxy asks about: method and path
//! (with query) from `attributes.request.http`, its headers, its host. It is read into a
//! [`gate::Asked`] and decided by [`gate::decide`], the decision path of `/v1/gate`: routes,
//! identity sources in the same order, the decoded-path rules, hot swap, the same `/metrics`
//! counters. A request that cannot be read (no `http` attribute, a path that is not absolute,
//! too many or too large headers, `x-forwarded-*` from an untrusted peer) is a denial with
//! `invalidRequest`, never an allow and never a gRPC error.
//!
//! **Who is trusted.** The gRPC peer (the connection to keycard) is Envoy, the proxy: it alone
//! decides, as the TCP peer of `/v1/gate` does, whether `x-forwarded-*`, the principal header and
//! `attributes.source.address` are believed (`--trusted-proxy`). `source.address` is the
//! downstream peer Envoy saw, the client or a proxy in front of Envoy. From a trusted Envoy it is
//! walked as the rightmost `X-Forwarded-For` entry, exactly as nginx's
//! `$proxy_add_x_forwarded_for` appends it: when it is not itself a trusted proxy it is
//! `aws:SourceIp`; when it is, the walk goes on leftwards through the header. (Envoy with
//! `use_remote_address: true` has already appended the same address to `x-forwarded-for`: the
//! walk meets it twice, which changes nothing.) From an untrusted peer, `source.address` is
//! ignored and `aws:SourceIp` is the peer's own address.

use super::gate::{self, Asked, Outcome};
use super::gate_types::{GateDecision, Peer};
use super::metrics::Endpoint;
use super::routes::MAX_BODY;
use super::start_error::StartError;
use super::state::State;
use envoy_types::ext_authz::v3::pb::{
    Address, Authorization, AuthorizationServer, CheckRequest, CheckResponse, DeniedHttpResponse, HeaderAppendAction,
    HeaderValue as EnvoyHeader, HeaderValueOption, HttpResponse, HttpStatus, HttpStatusCode, OkHttpResponse,
};
use envoy_types::pb::envoy::service::auth::v3::attribute_context::HttpRequest;
use envoy_types::pb::google::rpc;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, HOST};
use std::convert::Infallible;
use std::future::Future;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::net::UnixListener;
use tokio::sync::Notify;
use tonic::codegen::{http, Service};
use tonic::server::NamedService;
use tonic::transport::server::{TcpConnectInfo, TcpIncoming, UdsConnectInfo};
use tonic::{Request, Response, Status};
use tonic_health::ServingStatus;

/// The most header lines a `CheckRequest` may carry (pseudo-headers included). Envoy's own
/// default is 100 request headers (`max_request_headers_count`), to which it adds its
/// pseudo-headers and `x-forwarded-*`, `x-request-id`, `x-envoy-*`.
pub(crate) const MAX_HEADERS: usize = 128;
/// The most bytes of header names and values a `CheckRequest` may carry: Envoy's default
/// `max_request_headers_kb` is 60 KiB.
pub(crate) const MAX_HEADER_BYTES: usize = 64 * 1024;

/// The service name of `Authorization`, for health checks.
const AUTHORIZATION: &str = <AuthorizationServer<Authorizer> as NamedService>::NAME;
/// The paths of `grpc.health.v1.Health`'s methods.
const HEALTH_PREFIX: &str = "/grpc.health.v1.Health/";

/// A bound gRPC listener, TCP or Unix.
pub(crate) enum Listener {
    Tcp(TcpIncoming),
    Unix(UnixListener, PathBuf),
}

/// Binds `--grpc-listen` (`HOST:PORT` or `unix:/path`); returns the listener and how to show it.
pub(crate) async fn bind(listen: &str) -> Result<(Listener, String), StartError> {
    if let Some(path) = listen.strip_prefix("unix:") {
        let path = PathBuf::from(path);
        // A socket left behind by an earlier run would make bind fail; anything else is kept.
        if std::fs::symlink_metadata(&path).is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_socket(&m.file_type())) {
            let _ = std::fs::remove_file(&path);
        }
        let listener = UnixListener::bind(&path)
            .map_err(|e| StartError::setup(format!("cannot listen on --grpc-listen {listen}"), e))?;
        let shown = format!("unix:{}", path.display());
        return Ok((Listener::Unix(listener, path), shown));
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| StartError::setup(format!("cannot listen on --grpc-listen {listen}"), e))?;
    let addr = listener.local_addr().map_err(|e| StartError::setup("cannot read the bound gRPC address", e))?;
    Ok((Listener::Tcp(TcpIncoming::from(listener).with_nodelay(Some(true))), addr.to_string()))
}

/// Serves `Authorization` and `Health` on `listener` until `stop` completes, then drains
/// in-flight calls. Health says `NOT_SERVING` until the first snapshot is published (`published`
/// is notified on every publication) and again once stopping.
pub(crate) async fn serve(
    listener: Listener,
    state: Arc<State>,
    published: Arc<Notify>,
    stop: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    let (reporter, health) = tonic_health::server::health_reporter();
    reporter.set_service_status("", ServingStatus::NotServing).await;
    reporter.set_service_status(AUTHORIZATION, ServingStatus::NotServing).await;
    let watcher = {
        let (reporter, state) = (reporter.clone(), Arc::clone(&state));
        tokio::spawn(async move {
            // A notification that comes between the check and the wait is kept (notify_one).
            while !state.ready() {
                published.notified().await;
            }
            reporter.set_service_status("", ServingStatus::Serving).await;
            reporter.set_service_status(AUTHORIZATION, ServingStatus::Serving).await;
        })
    };
    let stop = async {
        stop.await;
        watcher.abort();
        reporter.set_service_status("", ServingStatus::NotServing).await;
        reporter.set_service_status(AUTHORIZATION, ServingStatus::NotServing).await;
    };
    let services = Services {
        authorization: AuthorizationServer::new(Authorizer { state }).max_decoding_message_size(MAX_BODY),
        health,
    };
    let server = tonic::transport::Server::builder();
    let served = match listener {
        Listener::Tcp(incoming) => server.serve_with_incoming_shutdown(services, incoming, stop).await,
        Listener::Unix(listener, path) => {
            let incoming = tokio_stream::wrappers::UnixListenerStream::new(listener);
            let served = server.serve_with_incoming_shutdown(services, incoming, stop).await;
            let _ = std::fs::remove_file(path);
            served
        }
    };
    served
}

/// The two gRPC services on one listener, told apart by path (`/grpc.health.v1.Health/...`),
/// which is all tonic's router (and the axum it brings) would do here.
#[derive(Clone)]
struct Services<H> {
    authorization: AuthorizationServer<Authorizer>,
    health: H,
}

/// What tonic's generated servers answer: a boxed future that never fails.
type Answering = tonic::codegen::BoxFuture<http::Response<tonic::body::Body>, Infallible>;

impl<H> Service<http::Request<tonic::body::Body>> for Services<H>
where
    H: Service<
        http::Request<tonic::body::Body>,
        Response = http::Response<tonic::body::Body>,
        Error = Infallible,
        Future = Answering,
    >,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = Answering;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Both generated servers are always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tonic::body::Body>) -> Answering {
        if request.uri().path().starts_with(HEALTH_PREFIX) {
            self.health.call(request)
        } else {
            self.authorization.call(request)
        }
    }
}

/// `envoy.service.auth.v3.Authorization`.
pub(crate) struct Authorizer {
    state: Arc<State>,
}

#[tonic::async_trait]
impl Authorization for Authorizer {
    async fn check(&self, request: Request<CheckRequest>) -> Result<Response<CheckResponse>, Status> {
        let started = Instant::now();
        let outcome = match peer(&request) {
            Some(peer) => check(request.get_ref(), peer, &self.state),
            None => Outcome::refuse(GateDecision::InvalidRequest, None, "the gRPC connection has no peer address"),
        };
        gate::record(&outcome, &self.state);
        let answer = response(&outcome);
        self.state.metrics.http(Endpoint::Check, outcome.decision.status().as_u16(), started.elapsed());
        Ok(Response::new(answer))
    }
}

/// Who connected: Envoy, over TCP or a Unix socket.
fn peer<T>(request: &Request<T>) -> Option<Peer> {
    let extensions = request.extensions();
    if let Some(tcp) = extensions.get::<TcpConnectInfo>() {
        return tcp.remote_addr().map(|a| Peer::Ip(a.ip()));
    }
    extensions.get::<UdsConnectInfo>().map(|_| Peer::Local)
}

/// Reads the request a `CheckRequest` names and decides it ([`gate::decide`]).
fn check(request: &CheckRequest, peer: Peer, state: &State) -> Outcome {
    let invalid = |reason: String| Outcome::refuse(GateDecision::InvalidRequest, None, reason);
    let Some(attributes) = request.attributes.as_ref() else {
        return invalid("CheckRequest.attributes is missing".to_owned());
    };
    let Some(http) = attributes.request.as_ref().and_then(|r| r.http.as_ref()) else {
        return invalid("attributes.request.http is missing".to_owned());
    };
    if http.method.is_empty() {
        return invalid("attributes.request.http.method is empty".to_owned());
    }
    if !http.path.starts_with('/') {
        return invalid(format!("attributes.request.http.path {:?} is not an absolute path", http.path));
    }
    let mut headers = match headers(http) {
        Ok(h) => h,
        Err(reason) => return invalid(reason),
    };
    let trusted_peer = state.gate.trusts_peer(peer);
    if let Some(reason) = gate::untrusted_forwarding(&headers, trusted_peer, true) {
        return invalid(reason);
    }
    let source = match source_address(request) {
        Ok(s) => s,
        Err(reason) => return invalid(reason),
    };
    if let (true, Some(ip)) = (trusted_peer, source) {
        // Envoy's downstream peer, walked as the rightmost X-Forwarded-For entry (module doc).
        if let Ok(value) = HeaderValue::from_str(&ip.to_string()) {
            headers.append(HeaderName::from_static("x-forwarded-for"), value);
        }
    }
    let asked = Asked { method: &http.method, uri: &http.path, headers: &headers, host: None };
    gate::decide(&asked, peer, state)
}

/// The original request's headers: `header_map` (Envoy's `encode_raw_headers: true`, repeated
/// headers kept apart, so a repeated header the decision reads is refused as over HTTP) or
/// `headers` (repeated headers already joined with `,` by Envoy), never both; pseudo-headers
/// dropped (method and path have their own fields) and `host` set from `http.host`.
fn headers(http: &HttpRequest) -> Result<HeaderMap, String> {
    let raw = http.header_map.as_ref().map_or(&[][..], |m| &m.headers[..]);
    if !raw.is_empty() && !http.headers.is_empty() {
        return Err("attributes.request.http has both headers and header_map".to_owned());
    }
    let count = raw.len() + http.headers.len();
    if count > MAX_HEADERS {
        return Err(format!("attributes.request.http has {count} headers, more than {MAX_HEADERS}"));
    }
    let mut map = HeaderMap::with_capacity(count + 2);
    let mut bytes = 0usize;
    let mut add = |name: &str, value: &[u8]| -> Result<(), String> {
        bytes += name.len() + value.len();
        if bytes > MAX_HEADER_BYTES {
            return Err(format!("attributes.request.http headers exceed {MAX_HEADER_BYTES} bytes"));
        }
        if name.starts_with(':') {
            return Ok(());
        }
        let header =
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| format!("header {name:?}: not a header name"))?;
        let value = HeaderValue::from_bytes(value).map_err(|_| format!("header {name}: not a header value"))?;
        map.append(header, value);
        Ok(())
    };
    for h in raw {
        add(&h.key, if h.raw_value.is_empty() { h.value.as_bytes() } else { &h.raw_value })?;
    }
    for (name, value) in &http.headers {
        add(name, value.as_bytes())?;
    }
    if !http.host.is_empty() {
        let host = HeaderValue::from_str(&http.host).map_err(|_| "attributes.request.http.host: not a header value")?;
        map.insert(HOST, host);
    }
    Ok(map)
}

/// `attributes.source.address` when it is an IP socket address (a Unix-socket or internal
/// downstream has none); an address that does not parse is refused.
fn source_address(request: &CheckRequest) -> Result<Option<IpAddr>, String> {
    let address = request
        .attributes
        .as_ref()
        .and_then(|a| a.source.as_ref())
        .and_then(|s| s.address.as_ref())
        .and_then(|a| a.address.as_ref());
    match address {
        Some(Address::SocketAddress(socket)) => socket
            .address
            .parse::<IpAddr>()
            .map(|ip| Some(ip.to_canonical()))
            .map_err(|_| format!("attributes.source.address {:?} is not an IP address", socket.address)),
        _ => Ok(None),
    }
}

/// An allow is `OkHttpResponse` whose headers (`x-keycard-principal`, `x-keycard-decision`)
/// replace any the client sent before Envoy forwards the request; a denial is
/// `DeniedHttpResponse`, 401 or 403 with `x-keycard-decision` and no body.
fn response(outcome: &Outcome) -> CheckResponse {
    let decision = header("x-keycard-decision", outcome.decision.as_str());
    if outcome.decision == GateDecision::Allowed {
        let mut headers = Vec::with_capacity(2);
        if let Some(p) = outcome.principal.as_deref().filter(|p| HeaderValue::from_str(p).is_ok()) {
            headers.push(header("x-keycard-principal", p));
        }
        headers.push(decision.clone());
        let ok = OkHttpResponse { headers, response_headers_to_add: vec![decision], ..Default::default() };
        return CheckResponse {
            status: Some(rpc::Status { code: tonic::Code::Ok as i32, ..Default::default() }),
            http_response: Some(HttpResponse::OkResponse(ok)),
            ..Default::default()
        };
    }
    let (code, http) = match outcome.decision {
        GateDecision::Unauthenticated => (tonic::Code::Unauthenticated, HttpStatusCode::Unauthorized),
        _ => (tonic::Code::PermissionDenied, HttpStatusCode::Forbidden),
    };
    let denied = DeniedHttpResponse {
        status: Some(HttpStatus { code: http as i32 }),
        headers: vec![decision],
        body: String::new(),
    };
    CheckResponse {
        status: Some(rpc::Status { code: code as i32, message: outcome.decision.as_str().to_owned(), details: vec![] }),
        http_response: Some(HttpResponse::DeniedResponse(denied)),
        ..Default::default()
    }
}

/// A header that replaces the request's own of that name (`append` unset: older Envoys read
/// that as "replace" in `ext_authz` answers too).
fn header(name: &str, value: &str) -> HeaderValueOption {
    HeaderValueOption {
        header: Some(EnvoyHeader { key: name.to_owned(), value: value.to_owned(), ..Default::default() }),
        append_action: HeaderAppendAction::OverwriteIfExistsOrAdd as i32,
        ..Default::default()
    }
}

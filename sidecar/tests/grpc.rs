//! The gateway over real gRPC (HTTP/2): `envoy.service.auth.v3.Authorization/Check` as Envoy's
//! `ext_authz` filter and Istio's `CUSTOM` action call it, against the real binary started with
//! `--grpc-listen`, through a tonic client built from the same `envoy-types`. Every hard rule
//! `gate.rs` checks over HTTP is checked here too (the store and routes are the same): allow and
//! deny with their headers, identity before routes, path attacks, `HEAD`, repeated query keys and
//! headers, the `X-Forwarded-For` walk (with Envoy's `source.address` as its rightmost entry), the
//! trusted principal header, nothing before the first snapshot; and what is gRPC's own: bad
//! `CheckRequest`s are counted `invalidRequest` denials, gRPC health, a Unix socket, and routes
//! hot-swapped under gRPC load with no failed call.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
mod gate_store;

use common::{temp_dir, Server, KEYCARD};
use envoy_types::pb::envoy::config::core::v3::{address, Address, HeaderMap, HeaderValue, SocketAddress};
use envoy_types::pb::envoy::service::auth::v3::attribute_context::{HttpRequest, Peer, Request};
use envoy_types::pb::envoy::service::auth::v3::authorization_client::AuthorizationClient;
use envoy_types::pb::envoy::service::auth::v3::check_response::HttpResponse;
use envoy_types::pb::envoy::service::auth::v3::{AttributeContext, CheckRequest, CheckResponse};
use gate_store::{account, PATH_ATTACKS, ROUTES};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

/// [`ROUTES`] with `/new` first.
fn routes_with_new() -> String {
    ROUTES.replacen(
        r#"{"Routes": ["#,
        r#"{"Routes": [{"Method": "GET", "Path": "/new", "Action": "new:Call", "Resource": "*"},"#,
        1,
    )
}

fn store(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    std::fs::write(dir.join("account.json"), account()).unwrap();
    std::fs::write(dir.join("routes.json"), ROUTES).unwrap();
    dir
}

/// `keycard serve --listen 127.0.0.1:0 --grpc-listen GRPC ARGS...`: the server and the gRPC
/// address it printed on its second line.
fn start(name: &str, grpc: &str, args: &[&str]) -> (Server, String) {
    let stderr_path = std::env::temp_dir().join(format!("keycard-grpc-{name}-{}.log", std::process::id()));
    let stderr = std::fs::File::create(&stderr_path).unwrap();
    let mut child = Command::new(KEYCARD)
        .arg("serve")
        .args(["--listen", "127.0.0.1:0", "--grpc-listen", grpc])
        .args(args)
        .env("KEYCARD_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let (mut first, mut second) = (String::new(), String::new());
    out.read_line(&mut first).unwrap();
    out.read_line(&mut second).unwrap();
    let log = || std::fs::read_to_string(&stderr_path).unwrap_or_default();
    let addr =
        first.trim().strip_prefix("keycard: listening on http://").unwrap_or_else(|| panic!("{first:?}: {}", log()));
    let grpc =
        second.trim().strip_prefix("keycard: grpc listening on ").unwrap_or_else(|| panic!("{second:?}: {}", log()));
    let (addr, grpc) = (addr.to_owned(), grpc.to_owned());
    (Server { child, addr, stderr_path }, grpc)
}

/// A started, ready server with alice's store on a TCP gRPC port, `x-user` as principal header.
fn serve(name: &str, extra: &[&str]) -> (Server, Grpc, PathBuf) {
    let dir = store(name);
    let mut args = vec!["--policies", dir.to_str().unwrap(), "--trust-principal-header", "x-user"];
    args.extend_from_slice(extra);
    let (server, grpc) = start(name, "127.0.0.1:0", &args);
    server.wait_ready();
    (server, Grpc::connect(&grpc), dir)
}

/// A blocking gRPC client: its own runtime, one HTTP/2 connection.
struct Grpc {
    runtime: tokio::runtime::Runtime,
    channel: Channel,
    /// `HOST:PORT`, or the socket path.
    addr: String,
}

impl Grpc {
    fn connect(addr: &str) -> Grpc {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let channel = runtime.block_on(Endpoint::from_shared(format!("http://{addr}")).unwrap().connect()).unwrap();
        Grpc { runtime, channel, addr: addr.to_owned() }
    }

    fn check(&self, request: CheckRequest) -> Answer {
        let mut client = AuthorizationClient::new(self.channel.clone());
        let response = self.runtime.block_on(client.check(request)).unwrap().into_inner();
        Answer::of(&response)
    }

    fn health(&self, service: &str) -> ServingStatus {
        let mut client = HealthClient::new(self.channel.clone());
        let request = HealthCheckRequest { service: service.to_owned() };
        let status = self.runtime.block_on(client.check(request)).unwrap().into_inner().status;
        ServingStatus::try_from(status).unwrap()
    }
}

/// What a `CheckResponse` says, checked for consistency between its gRPC and HTTP parts.
#[derive(Debug)]
struct Answer {
    status: u16,
    decision: String,
    principal: Option<String>,
}

impl Answer {
    fn of(r: &CheckResponse) -> Answer {
        let code = r.status.as_ref().unwrap().code;
        let find = |headers: &[envoy_types::pb::envoy::config::core::v3::HeaderValueOption], name: &str| {
            headers.iter().filter_map(|h| h.header.as_ref()).find(|h| h.key == name).map(|h| h.value.clone())
        };
        match r.http_response.as_ref().unwrap() {
            HttpResponse::OkResponse(ok) => {
                assert_eq!(code, 0, "an OkHttpResponse goes with status OK");
                // The principal replaces whatever the client sent (OVERWRITE_IF_EXISTS_OR_ADD).
                #[allow(deprecated)]
                let replaces = ok.headers.iter().all(|h| h.append_action == 2 && h.append.is_none());
                assert!(replaces, "{ok:?}");
                let decision = find(&ok.headers, "x-keycard-decision").unwrap();
                assert_eq!(find(&ok.response_headers_to_add, "x-keycard-decision").as_ref(), Some(&decision));
                Answer { status: 200, decision, principal: find(&ok.headers, "x-keycard-principal") }
            }
            HttpResponse::DeniedResponse(denied) => {
                let status = u16::try_from(denied.status.as_ref().unwrap().code).unwrap();
                assert_eq!(code, if status == 401 { 16 } else { 7 }, "UNAUTHENTICATED or PERMISSION_DENIED");
                assert!(denied.body.is_empty());
                assert_eq!(find(&denied.headers, "x-keycard-principal"), None, "no principal to the client");
                Answer { status, decision: find(&denied.headers, "x-keycard-decision").unwrap(), principal: None }
            }
            other => panic!("not an ok or denied response: {other:?}"),
        }
    }
}

#[track_caller]
fn expect(a: &Answer, status: u16, decision: &str, principal: Option<&str>) {
    assert_eq!((a.status, a.decision.as_str()), (status, decision), "{a:?}");
    if status == 200 {
        assert_eq!(a.principal.as_deref(), principal, "{a:?}");
    }
}

/// A `CheckRequest` as Envoy sends it: method, path, host and (joined) headers, and `source`
/// the downstream address when given.
fn ask(method: &str, path: &str, headers: &[(&str, &str)], source: Option<&str>) -> CheckRequest {
    let mut map: HashMap<String, String> = HashMap::new();
    for (k, v) in headers {
        // Envoy joins repeated headers with ",".
        map.entry(k.to_ascii_lowercase()).and_modify(|old| *old = format!("{old},{v}")).or_insert((*v).to_owned());
    }
    map.insert(":method".into(), method.into());
    map.insert(":path".into(), path.into());
    map.insert(":authority".into(), "app.example".into());
    let http = HttpRequest {
        method: method.into(),
        path: path.into(),
        host: "app.example".into(),
        scheme: "http".into(),
        headers: map,
        ..Default::default()
    };
    let source = source.map(|ip| Peer {
        address: Some(Address {
            address: Some(address::Address::SocketAddress(SocketAddress {
                address: ip.into(),
                port_specifier: Some(
                    envoy_types::pb::envoy::config::core::v3::socket_address::PortSpecifier::PortValue(40000),
                ),
                ..Default::default()
            })),
        }),
        ..Default::default()
    });
    CheckRequest {
        attributes: Some(AttributeContext {
            source,
            request: Some(Request { http: Some(http), ..Default::default() }),
            ..Default::default()
        }),
    }
}

/// The same, with `encode_raw_headers: true`: repeated headers stay apart in `header_map`.
fn ask_raw(method: &str, path: &str, headers: &[(&str, &str)]) -> CheckRequest {
    let mut request = ask(method, path, &[], None);
    let http = request.attributes.as_mut().unwrap().request.as_mut().unwrap().http.as_mut().unwrap();
    let mut raw: Vec<HeaderValue> = std::mem::take(&mut http.headers)
        .into_iter()
        .map(|(key, v)| HeaderValue { key, raw_value: v.into_bytes(), ..Default::default() })
        .collect();
    raw.extend(headers.iter().map(|(k, v)| HeaderValue {
        key: k.to_ascii_lowercase(),
        raw_value: v.as_bytes().to_vec(),
        ..Default::default()
    }));
    http.header_map = Some(HeaderMap { headers: raw });
    request
}

fn as_alice<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut h = vec![("x-user", ALICE)];
    h.extend_from_slice(extra);
    h
}

fn get(g: &Grpc, path: &str, headers: &[(&str, &str)]) -> Answer {
    g.check(ask("GET", path, headers, None))
}

#[test]
fn allow_and_deny_carry_the_decision_and_the_principal() {
    let (s, g, _dir) = serve("grpc-allow", &[]);
    expect(&get(&g, "/reports/2026/q1.csv", &as_alice(&[])), 200, "allowed", Some(ALICE));
    expect(&get(&g, "/reports/secret/plans", &as_alice(&[])), 403, "explicitDeny", None);
    expect(&g.check(ask("DELETE", "/admin/users/bob", &as_alice(&[]), None)), 200, "allowed", Some(ALICE));
    let root = get(&g, "/reports/2026/q1.csv", &[("x-user", "111122223333")]);
    expect(&root, 200, "allowed", Some("arn:aws:iam::111122223333:root"));
    // A client's own x-keycard-principal is replaced (append_action checked in Answer::of).
    let forged = get(&g, "/reports/2026/q1.csv", &as_alice(&[("x-keycard-principal", "arn:aws:iam::1:root")]));
    expect(&forged, 200, "allowed", Some(ALICE));
    let metrics = s.get("/metrics").text();
    assert!(metrics.contains("keycard_gate_answers_total{decision=\"allowed\"} 4"), "{metrics}");
    assert!(metrics.contains("keycard_gate_answers_total{decision=\"explicitDeny\"} 1"), "{metrics}");
    assert!(metrics.contains("keycard_decisions_total{decision=\"allowed\"} 4"), "{metrics}");
    let check = "keycard_http_requests_total{endpoint=\"/envoy.service.auth.v3.Authorization/Check\"";
    assert!(metrics.contains(&format!("{check},code=\"200\"}} 4")), "{metrics}");
    assert!(metrics.contains(&format!("{check},code=\"403\"}} 1")), "{metrics}");
}

#[test]
fn bad_check_requests_are_counted_invalid_request_denials() {
    let (s, g, _dir) = serve("grpc-bad", &[]);
    let with_http = |f: &dyn Fn(&mut HttpRequest)| {
        let mut r = ask("GET", "/reports/2026/q1", &as_alice(&[]), None);
        f(r.attributes.as_mut().unwrap().request.as_mut().unwrap().http.as_mut().unwrap());
        r
    };
    let mut bad = vec![
        CheckRequest { attributes: None },
        CheckRequest { attributes: Some(AttributeContext::default()) },
        CheckRequest { attributes: Some(AttributeContext { request: Some(Request::default()), ..Default::default() }) },
        with_http(&|h| h.method.clear()),
        with_http(&|h| h.path = "reports/2026/q1".into()),
        with_http(&|h| h.path = "*".into()),
        with_http(&|h| h.path = "http://app.example/reports/2026/q1".into()),
        with_http(&|h| h.path.clear()),
        with_http(&|h| h.host = "bad\nhost".into()),
        with_http(&|h| {
            h.headers.insert("x-bad".into(), "a\r\nb".into());
        }),
        with_http(&|h| {
            h.headers.insert("bad name".into(), "x".into());
        }),
        // Too many headers, and too many bytes of them.
        with_http(&|h| h.headers.extend((0..130).map(|i| (format!("x-h{i}"), "v".to_owned())))),
        with_http(&|h| {
            h.headers.insert("x-big".into(), "v".repeat(70 * 1024));
        }),
        // Both header encodings at once.
        with_http(&|h| {
            h.header_map = Some(HeaderMap { headers: vec![HeaderValue { key: "a".into(), ..Default::default() }] })
        }),
        ask("GET", "/reports/2026/q1", &as_alice(&[]), Some("not-an-ip")),
    ];
    let n = bad.len();
    for (i, request) in bad.drain(..).enumerate() {
        let a = g.check(request);
        assert_eq!((a.status, a.decision.as_str()), (403, "invalidRequest"), "bad request #{i}: {a:?}");
    }
    // Just under the limits is fine.
    let fine = with_http(&|h| h.headers.extend((0..100).map(|i| (format!("x-h{i}"), "v".repeat(500)))));
    expect(&g.check(fine), 200, "allowed", Some(ALICE));
    assert_eq!(s.metric("keycard_gate_answers_total{decision=\"invalidRequest\"}") as usize, n);
}

#[test]
fn identity_comes_before_routes() {
    let (_s, g, _dir) = serve("grpc-identity", &[]);
    expect(&get(&g, "/reports/2026/q1", &[]), 401, "unauthenticated", None);
    expect(&get(&g, "/no/such/route", &[]), 401, "unauthenticated", None);
    expect(&get(&g, "/reports/../x", &[]), 401, "unauthenticated", None);
    let bearer = get(&g, "/reports/2026/q1", &[("authorization", "Bearer eyJhbGciOi.x.y")]);
    expect(&bearer, 401, "unauthenticated", None);
    let stranger = "arn:aws:iam::111122223333:user/mallory";
    expect(&get(&g, "/reports/2026/q1", &[("x-user", stranger)]), 403, "implicitDeny", None);
    expect(&get(&g, "/reports/2026/q1", &[("x-user", "alice")]), 403, "invalidRequest", None);
    expect(&get(&g, "/reports/2026/q1", &[("x-user", "*")]), 403, "invalidRequest", None);
    expect(&get(&g, "/no/such/route", &as_alice(&[])), 403, "noRoute", None);
}

#[test]
fn an_untrusted_envoy_is_believed_nothing() {
    // Loopback (the gRPC peer) is not trusted here.
    let (s, g, _dir) = serve("grpc-untrusted", &["--trusted-proxy", "10.0.0.0/8"]);
    // The principal header is ignored, and so is source.address.
    expect(&get(&g, "/reports/2026/q1", &as_alice(&[])), 401, "unauthenticated", None);
    // Any x-forwarded-* from it is refused, so that no client can pick facts or the request.
    for header in ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-uri"] {
        let a = get(&g, "/reports/2026/q1", &as_alice(&[(header, "203.0.113.7")]));
        expect(&a, 403, "invalidRequest", None);
    }
    assert_eq!(s.metric("keycard_gate_answers_total{decision=\"invalidRequest\"}"), 4.0);
    // Without --trust-principal-header there is no header identity at all.
    let dir = store("grpc-no-header");
    let (plain, grpc) = start("grpc-no-header", "127.0.0.1:0", &["--policies", dir.to_str().unwrap()]);
    plain.wait_ready();
    expect(&get(&Grpc::connect(&grpc), "/reports/2026/q1", &as_alice(&[])), 401, "unauthenticated", None);
}

#[test]
fn path_attacks_are_invalid_requests() {
    let (_s, g, _dir) = serve("grpc-paths", &[]);
    for uri in PATH_ATTACKS {
        let a = get(&g, uri, &as_alice(&[]));
        assert_eq!((a.status, a.decision.as_str()), (403, "invalidRequest"), "{uri}");
    }
    expect(&get(&g, "/%72eports/2026/q%31", &as_alice(&[])), 200, "allowed", Some(ALICE));
    expect(&get(&g, "/reports/%73ecret/plans", &as_alice(&[])), 403, "explicitDeny", None);
}

#[test]
fn head_matches_get_routes() {
    let (_s, g, _dir) = serve("grpc-head", &[]);
    expect(&g.check(ask("HEAD", "/reports/2026/q1", &as_alice(&[]), None)), 200, "allowed", Some(ALICE));
    expect(&g.check(ask("POST", "/reports/2026/q1", &as_alice(&[]), None)), 403, "noRoute", None);
    expect(&g.check(ask("PATCH", "/admin/x", &as_alice(&[]), None)), 200, "allowed", Some(ALICE));
}

#[test]
fn query_and_header_context() {
    let (_s, g, _dir) = serve("grpc-query", &[]);
    expect(&get(&g, "/downloads/f?format=csv", &as_alice(&[])), 200, "allowed", Some(ALICE));
    expect(&get(&g, "/downloads/f?format=pdf", &as_alice(&[])), 403, "implicitDeny", None);
    expect(&get(&g, "/downloads/f", &as_alice(&[])), 403, "implicitDeny", None);
    expect(&get(&g, "/downloads/f?format=csv&format=pdf", &as_alice(&[])), 403, "invalidRequest", None);
    expect(&get(&g, "/downloads/f?format=pdf&%66ormat=csv", &as_alice(&[])), 403, "invalidRequest", None);
    expect(&get(&g, "/downloads/f?x=1&x=2&format=csv", &as_alice(&[])), 200, "allowed", Some(ALICE));
    expect(&get(&g, "/hdr", &as_alice(&[("x-client", "cli")])), 200, "allowed", Some(ALICE));
    expect(&get(&g, "/hdr", &as_alice(&[("x-client", "web")])), 403, "implicitDeny", None);
    // Envoy's `headers` joins a repeated header into one value, which is then not "cli".
    expect(&get(&g, "/hdr", &as_alice(&[("x-client", "cli"), ("x-client", "web")])), 403, "implicitDeny", None);
    // With encode_raw_headers, a repeated header is seen as such: refused, as over HTTP.
    expect(&g.check(ask_raw("GET", "/hdr", &as_alice(&[("x-client", "cli")]))), 200, "allowed", Some(ALICE));
    let twice = ask_raw("GET", "/hdr", &as_alice(&[("x-client", "cli"), ("x-client", "web")]));
    expect(&g.check(twice), 403, "invalidRequest", None);
    let user_twice = ask_raw("GET", "/reports/2026/q1", &as_alice(&[("x-user", ALICE)]));
    expect(&g.check(user_twice), 403, "invalidRequest", None);
}

#[test]
fn source_address_and_x_forwarded_for_from_a_trusted_envoy() {
    let (_s, g, _dir) = serve("grpc-xff", &[]);
    let net = |source: Option<&str>, xff: &[&'static str]| {
        let extra: Vec<(&str, &str)> = xff.iter().map(|v| ("x-forwarded-for", *v)).collect();
        g.check(ask("GET", "/net", &as_alice(&extra), source)).decision
    };
    assert_eq!(net(None, &[]), "implicitDeny", "no source: the peer, 127.0.0.1");
    assert_eq!(net(Some("203.0.113.7"), &[]), "allowed", "Envoy's downstream peer");
    assert_eq!(net(Some("::ffff:203.0.113.7"), &[]), "allowed", "IPv4-mapped");
    assert_eq!(net(Some("198.51.100.1"), &[]), "implicitDeny");
    assert_eq!(net(Some("198.51.100.1"), &["203.0.113.7"]), "implicitDeny", "an untrusted source ends the walk");
    assert_eq!(net(Some("127.0.0.1"), &["203.0.113.7"]), "allowed", "a trusted proxy in front of Envoy");
    assert_eq!(net(Some("203.0.113.7"), &["203.0.113.7"]), "allowed", "use_remote_address: the source twice");
    assert_eq!(net(None, &["203.0.113.7, 127.0.0.1"]), "allowed", "trusted proxies are skipped");
    assert_eq!(net(Some("127.0.0.1"), &["203.0.113.7", "198.51.100.1"]), "implicitDeny", "the last untrusted");
    assert_eq!(net(Some("127.0.0.1"), &["198.51.100.1, 203.0.113.7"]), "allowed", "left of it: the client's word");
    assert_eq!(net(Some("127.0.0.1"), &["203.0.113.7, junk"]), "implicitDeny", "unparsable: no address");
    assert_eq!(net(Some("127.0.0.1"), &["junk, 203.0.113.7"]), "allowed", "not reached");
    let tls = |headers: &[(&'static str, &'static str)]| get(&g, "/tls", &as_alice(headers)).decision;
    assert_eq!(tls(&[("x-forwarded-proto", "https")]), "allowed");
    assert_eq!(tls(&[("x-forwarded-proto", "http")]), "implicitDeny");
    assert_eq!(tls(&[]), "implicitDeny");
}

#[test]
fn nothing_is_allowed_before_the_first_snapshot_and_health_says_so() {
    let dir = temp_dir("grpc-unloaded");
    let missing = dir.join("not-yet");
    let (s, grpc) = start(
        "grpc-unloaded",
        "127.0.0.1:0",
        &["--policies", missing.to_str().unwrap(), "--trust-principal-header", "x-user"],
    );
    let g = Grpc::connect(&grpc);
    expect(&get(&g, "/reports/2026/q1", &as_alice(&[])), 403, "implicitDeny", None);
    assert_eq!(g.health(""), ServingStatus::NotServing);
    assert_eq!(g.health("envoy.service.auth.v3.Authorization"), ServingStatus::NotServing);
    // The store appears: health turns SERVING once the snapshot is published.
    let staged = dir.join("staged");
    std::fs::create_dir_all(&staged).unwrap();
    std::fs::write(staged.join("account.json"), account()).unwrap();
    std::fs::write(staged.join("routes.json"), ROUTES).unwrap();
    std::fs::rename(&staged, &missing).unwrap();
    s.signal("HUP");
    s.wait_for("SERVING", |_| g.health("envoy.service.auth.v3.Authorization") == ServingStatus::Serving);
    assert_eq!(g.health(""), ServingStatus::Serving);
    expect(&get(&g, "/reports/2026/q1", &as_alice(&[])), 200, "allowed", Some(ALICE));
}

#[test]
fn a_unix_socket_peer_is_trusted_like_loopback() {
    let dir = store("grpc-unix");
    let socket = dir.join("grpc.sock");
    let listen = format!("unix:{}", socket.display());
    let args = ["--policies", dir.to_str().unwrap(), "--trust-principal-header", "x-user"];
    let (s, shown) = start("grpc-unix", &listen, &args);
    assert_eq!(shown, listen);
    let shown = socket.display().to_string();
    s.wait_ready();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let path = socket.clone();
    let channel = runtime
        .block_on(Endpoint::from_static("http://keycard").connect_with_connector(tower::service_fn(move |_| {
            let path = path.clone();
            async move { tokio::net::UnixStream::connect(path).await.map(hyper_util::rt::TokioIo::new) }
        })))
        .unwrap();
    let g = Grpc { runtime, channel, addr: shown };
    // Trusted like loopback: the principal header and `source.address` are believed.
    let answer = g.check(ask("GET", "/reports/2026/q1", &as_alice(&[]), Some("203.0.113.7")));
    expect(&answer, 200, "allowed", Some(ALICE));
    assert_eq!(g.check(ask("GET", "/net", &as_alice(&[]), Some("203.0.113.7"))).decision, "allowed");
    // No address of its own and no source either: aws:SourceIp cannot be determined, so the
    // request is refused, never decided without it (docs/gateway.md#request-facts).
    expect(&get(&g, "/reports/2026/q1", &as_alice(&[])), 403, "invalidRequest", None);
    expect(&get(&g, "/net", &as_alice(&[])), 403, "invalidRequest", None);
    // SIGTERM drains (the client goes away: h2's graceful shutdown waits for its PING ack) and
    // removes the socket.
    drop(g);
    s.signal("TERM");
    let deadline = Instant::now() + Duration::from_secs(20);
    while socket.exists() {
        assert!(Instant::now() < deadline, "the socket is still there");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How long a test waits for a changed routes file to be served: generous, so that a loaded
/// machine cannot fail the test (the swap itself takes milliseconds; tests assert no timings).
const SWAP_WAIT: Duration = Duration::from_secs(30);

fn write_atomically(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn a_changed_route_answers_without_a_restart() {
    let (s, g, dir) = serve("grpc-swap", &[]);
    expect(&get(&g, "/new", &as_alice(&[])), 403, "noRoute", None);
    let written = Instant::now();
    write_atomically(&dir.join("routes.json"), &routes_with_new());
    loop {
        let a = get(&g, "/new", &as_alice(&[]));
        if a.status == 200 {
            expect(&a, 200, "allowed", Some(ALICE));
            break;
        }
        assert!(written.elapsed() < SWAP_WAIT, "the new route did not answer within {SWAP_WAIT:?}: {a:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A broken routes file keeps the last good routes.
    std::fs::write(dir.join("routes.json"), r#"{"Routes": [{"Method": "GET"}]}"#).unwrap();
    s.wait_for("the reload failure", |s| s.get("/v1/snapshot").json()["lastError"].is_string());
    expect(&get(&g, "/new", &as_alice(&[])), 200, "allowed", Some(ALICE));
}

#[test]
fn routes_hot_swap_under_grpc_load_without_a_failed_call() {
    let (s, g, dir) = serve("grpc-load", &[]);
    let stop = Arc::new(AtomicBool::new(false));
    let (calls, failures, seen_new, seen_gone) = (
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
        Arc::new(AtomicUsize::new(0)),
    );
    // Eight clients: four share one HTTP/2 connection, four have their own.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let mut tasks = Vec::new();
    // A channel's worker runs on the runtime that connected it: this one, driven all along.
    let url = format!("http://{}", g.addr);
    let shared = runtime.block_on(Endpoint::from_shared(url.clone()).unwrap().connect()).unwrap();
    for i in 0..8 {
        let (shared, url) = (shared.clone(), url.clone());
        let (stop, calls, failures, seen_new, seen_gone) = (
            Arc::clone(&stop),
            Arc::clone(&calls),
            Arc::clone(&failures),
            Arc::clone(&seen_new),
            Arc::clone(&seen_gone),
        );
        tasks.push(runtime.spawn(async move {
            let channel =
                if i % 2 == 0 { shared } else { Endpoint::from_shared(url).unwrap().connect().await.unwrap() };
            let mut client = AuthorizationClient::new(channel);
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                // Half the calls ask about a route the swaps never touch, half about /new.
                let stable = (n + i).is_multiple_of(2);
                let path = if stable { "/reports/2026/q1" } else { "/new" };
                let ok = match client.check(ask("GET", path, &as_alice(&[]), None)).await {
                    Ok(r) => {
                        let a = Answer::of(r.get_ref());
                        match (stable, a.status, a.decision.as_str()) {
                            (true, 200, "allowed") => true,
                            (false, 200, "allowed") => {
                                seen_new.fetch_add(1, Ordering::Relaxed);
                                true
                            }
                            (false, 403, "noRoute") => {
                                seen_gone.fetch_add(1, Ordering::Relaxed);
                                true
                            }
                            _ => false,
                        }
                    }
                    Err(_) => false,
                };
                calls.fetch_add(1, Ordering::Relaxed);
                if !ok {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    // Swap /new in and out, each time waiting (on the answers) until the new routes serve.
    for round in 0..6 {
        let with_new = round % 2 == 0;
        let text = if with_new { routes_with_new() } else { ROUTES.to_owned() };
        let before = calls.load(Ordering::Relaxed);
        write_atomically(&dir.join("routes.json"), &text);
        let want = if with_new { 200 } else { 403 };
        s.wait_for("the swapped routes", |_| get(&g, "/new", &as_alice(&[])).status == want);
        // And some load on the new routes before the next swap.
        s.wait_for("calls after the swap", |_| calls.load(Ordering::Relaxed) > before + 200);
    }
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        runtime.block_on(t).unwrap();
    }
    let (calls, failures) = (calls.load(Ordering::Relaxed), failures.load(Ordering::Relaxed));
    assert_eq!(failures, 0, "{failures} of {calls} calls failed");
    assert!(seen_new.load(Ordering::Relaxed) > 0 && seen_gone.load(Ordering::Relaxed) > 0);
    assert!(s.metric("keycard_reloads_total") >= 7.0);
}

/// alice's access key, for SigV4-signed original requests.
const KEY: (&str, &str) = ("AKIAALICEEXAMPLE0001", "alice-gateway-secret-0123456789abcdef");

/// `Authorization` and `X-Amz-Date` of `GET path` to `host`, signed by `secret` as the SDKs sign.
fn sigv4(path: &str, host: &str, secret: &str) -> Vec<(&'static str, String)> {
    use keycard::auth::sigv4::{sign, SignedRequest, EMPTY_SHA256};
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let amz = keycard::clock::amz_date(now);
    let scope = format!("{}/us-east-1/execute-api/aws4_request", &amz[..8]);
    let auth = |sig: &str| {
        format!("AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=host;x-amz-date, Signature={sig}", KEY.0)
    };
    let request = SignedRequest {
        method: "GET".into(),
        path: path.into(),
        query: String::new(),
        headers: vec![
            ("host".into(), host.into()),
            ("x-amz-date".into(), amz.clone()),
            ("authorization".into(), auth(&"0".repeat(64))),
        ],
        body_sha256: Some(EMPTY_SHA256.into()),
    };
    let claims = request.signature().unwrap();
    let signature = sign(secret, &scope, &request.string_to_sign(&claims).unwrap());
    vec![("x-amz-date", amz), ("authorization", auth(&signature))]
}

#[test]
fn a_sigv4_signature_covers_the_host_envoy_names() {
    let dir = store("grpc-sigv4");
    let credentials = format!(
        r#"{{"AccountId": "111122223333", "Credentials": [{{"AccessKeyId": "{}", "SecretAccessKey": "{}", "UserName": "alice"}}],"#,
        KEY.0, KEY.1
    );
    let account = account().replacen(r#"{"AccountId": "111122223333","#, &credentials, 1);
    std::fs::write(dir.join("account.json"), account).unwrap();
    let (s, grpc) = start("grpc-sigv4", "127.0.0.1:0", &["--policies", dir.to_str().unwrap()]);
    s.wait_ready();
    let g = Grpc::connect(&grpc);
    let path = "/reports/2026/q1.csv";
    let signed = |host: &str, secret: &str| {
        let headers = sigv4(path, host, secret);
        let pairs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        g.check(ask("GET", path, &pairs, None))
    };
    // `http.host` (Envoy's :authority) is the host the client signed: app.example in `ask`.
    expect(&signed("app.example", KEY.1), 200, "allowed", Some(ALICE));
    expect(&signed("other.example", KEY.1), 401, "unauthenticated", None);
    expect(&signed("app.example", "wrong-secret"), 401, "unauthenticated", None);
}

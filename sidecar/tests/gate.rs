//! The gateway over real HTTP (`docs/gateway.md`): `/v1/gate` as nginx `auth_request` and Caddy's
//! and Traefik's forward auth call it and `/v1/envoy/...` as Envoy's `ext_authz` does, against the
//! real binary. Every hard rule of `docs/gateway.md` has a test here: the `X-Original-*` and
//! `X-Forwarded-*` protocols (the latter from trusted proxies only), identity before routes, path
//! attacks, `HEAD`, repeated query keys, the `X-Forwarded-For` walk, the trusted principal header,
//! unknown principals, unmatched routes, allow and deny with their headers, and a hot swap of
//! routes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;
mod gate_store;

use common::{temp_dir, Response, Server};
use gate_store::{account, PATH_ATTACKS, ROUTES};
use std::path::Path;
use std::time::{Duration, Instant};

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

fn store(name: &str) -> std::path::PathBuf {
    let dir = temp_dir(name);
    std::fs::write(dir.join("account.json"), account()).unwrap();
    std::fs::write(dir.join("routes.json"), ROUTES).unwrap();
    dir
}

fn serve(name: &str, extra: &[&str]) -> (Server, std::path::PathBuf) {
    let dir = store(name);
    let mut args = vec!["--policies", dir.to_str().unwrap(), "--trust-principal-header", "x-user"];
    args.extend_from_slice(extra);
    let server = Server::start(name, &args);
    server.wait_ready();
    (server, dir)
}

/// nginx's subrequest: always GET, the original request in headers.
fn gate(server: &Server, method: &str, uri: &str, headers: &[(&str, &str)]) -> Response {
    let mut all = vec![("X-Original-Method", method), ("X-Original-URI", uri)];
    all.extend_from_slice(headers);
    server.connect().request_with("GET", "/v1/gate", &all)
}

fn as_alice<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut h = vec![("x-user", ALICE)];
    h.extend_from_slice(extra);
    h
}

#[track_caller]
fn expect(r: &Response, status: u16, decision: &str, principal: Option<&str>) {
    assert_eq!((r.status, r.header("x-keycard-decision")), (status, Some(decision)), "{}", r.text());
    assert_eq!(r.header("x-keycard-principal"), principal, "{}", r.text());
}

#[test]
fn allow_and_deny_carry_the_decision_and_the_principal() {
    let (s, _dir) = serve("gate-allow", &[]);
    expect(&gate(&s, "GET", "/reports/2026/q1.csv", &as_alice(&[])), 200, "allowed", Some(ALICE));
    expect(&gate(&s, "GET", "/reports/secret/plans", &as_alice(&[])), 403, "explicitDeny", Some(ALICE));
    expect(&gate(&s, "DELETE", "/admin/users/bob", &as_alice(&[])), 200, "allowed", Some(ALICE));
    // An account ID as the principal is its root ARN (which IAM lets do anything in its account).
    let root = gate(&s, "GET", "/reports/2026/q1.csv", &[("x-user", "111122223333")]);
    expect(&root, 200, "allowed", Some("arn:aws:iam::111122223333:root"));
    let metrics = s.get("/metrics").text();
    assert!(metrics.contains("keycard_gate_answers_total{decision=\"allowed\"} 3"), "{metrics}");
    assert!(metrics.contains("keycard_gate_answers_total{decision=\"explicitDeny\"} 1"), "{metrics}");
    assert!(metrics.contains("keycard_http_requests_total{endpoint=\"/v1/gate\",code=\"200\"} 3"), "{metrics}");
}

#[test]
fn the_original_request_must_be_named() {
    let (s, _dir) = serve("gate-original", &[]);
    let mut c = s.connect();
    let only_uri = c.request_with("GET", "/v1/gate", &[("X-Original-URI", "/reports/2026/q1"), ("x-user", ALICE)]);
    expect(&only_uri, 403, "invalidRequest", None);
    let only_method = c.request_with("GET", "/v1/gate", &[("X-Original-Method", "GET"), ("x-user", ALICE)]);
    expect(&only_method, 403, "invalidRequest", None);
    expect(&c.request_with("GET", "/v1/gate", &[]), 403, "invalidRequest", None);
    // Any method reaches the gate; the method asked about is X-Original-Method's alone.
    let post = c.request_with(
        "POST",
        "/v1/gate",
        &[("X-Original-Method", "GET"), ("X-Original-URI", "/reports/2026/q1"), ("x-user", ALICE)],
    );
    expect(&post, 200, "allowed", Some(ALICE));
    let head_put = c.request_with(
        "GET",
        "/v1/gate",
        &[("X-Original-Method", "PUT"), ("X-Original-URI", "/reports/2026/q1"), ("x-user", ALICE)],
    );
    expect(&head_put, 403, "noRoute", Some(ALICE));
}

#[test]
fn identity_comes_before_routes() {
    let (s, _dir) = serve("gate-identity", &[]);
    expect(&gate(&s, "GET", "/reports/2026/q1", &[]), 401, "unauthenticated", None);
    expect(&gate(&s, "GET", "/no/such/route", &[]), 401, "unauthenticated", None);
    expect(&gate(&s, "GET", "/reports/../x", &[]), 401, "unauthenticated", None);
    // Credentials keycard cannot verify are no identity.
    let bearer = gate(&s, "GET", "/reports/2026/q1", &[("Authorization", "Bearer eyJhbGciOi.x.y")]);
    expect(&bearer, 401, "unauthenticated", None);
    // An unknown principal is an implicit deny, with its ARN.
    let stranger = "arn:aws:iam::111122223333:user/mallory";
    expect(&gate(&s, "GET", "/reports/2026/q1", &[("x-user", stranger)]), 403, "implicitDeny", Some(stranger));
    // A principal that is not an ARN is refused.
    expect(&gate(&s, "GET", "/reports/2026/q1", &[("x-user", "alice")]), 403, "invalidRequest", None);
    expect(&gate(&s, "GET", "/reports/2026/q1", &[("x-user", "*")]), 403, "invalidRequest", None);
    // No route, once the caller is known.
    expect(&gate(&s, "GET", "/no/such/route", &as_alice(&[])), 403, "noRoute", Some(ALICE));
}

#[test]
fn the_principal_header_counts_only_from_trusted_proxies() {
    // Loopback is not trusted here: the header (and X-Forwarded-*) are ignored.
    let (s, _dir) = serve("gate-untrusted", &["--trusted-proxy", "10.0.0.0/8"]);
    expect(&gate(&s, "GET", "/reports/2026/q1", &as_alice(&[])), 401, "unauthenticated", None);
    // Without --trust-principal-header there is no header identity at all.
    let dir = store("gate-no-header");
    let plain = Server::start("gate-no-header", &["--policies", dir.to_str().unwrap()]);
    plain.wait_ready();
    expect(&gate(&plain, "GET", "/reports/2026/q1", &as_alice(&[])), 401, "unauthenticated", None);
}

#[test]
fn path_attacks_are_invalid_requests() {
    let (s, _dir) = serve("gate-paths", &[]);
    for uri in PATH_ATTACKS {
        expect(&gate(&s, "GET", uri, &as_alice(&[])), 403, "invalidRequest", Some(ALICE));
    }
    // Percent-decoding happens before matching.
    expect(&gate(&s, "GET", "/%72eports/2026/q%31", &as_alice(&[])), 200, "allowed", Some(ALICE));
    expect(&gate(&s, "GET", "/reports/%73ecret/plans", &as_alice(&[])), 403, "explicitDeny", Some(ALICE));
}

#[test]
fn head_matches_get_routes() {
    let (s, _dir) = serve("gate-head", &[]);
    expect(&gate(&s, "HEAD", "/reports/2026/q1", &as_alice(&[])), 200, "allowed", Some(ALICE));
    expect(&gate(&s, "POST", "/reports/2026/q1", &as_alice(&[])), 403, "noRoute", Some(ALICE));
    let envoy = s.connect().request_with("HEAD", "/v1/envoy/reports/2026/q1", &as_alice(&[]));
    expect(&envoy, 200, "allowed", Some(ALICE));
}

#[test]
fn query_and_header_context() {
    let (s, _dir) = serve("gate-query", &[]);
    expect(&gate(&s, "GET", "/downloads/f?format=csv", &as_alice(&[])), 200, "allowed", Some(ALICE));
    expect(&gate(&s, "GET", "/downloads/f?format=pdf", &as_alice(&[])), 403, "implicitDeny", Some(ALICE));
    expect(&gate(&s, "GET", "/downloads/f", &as_alice(&[])), 403, "implicitDeny", Some(ALICE));
    expect(&gate(&s, "GET", "/downloads/f?format=csv&format=pdf", &as_alice(&[])), 403, "invalidRequest", Some(ALICE));
    expect(
        &gate(&s, "GET", "/downloads/f?format=pdf&%66ormat=csv", &as_alice(&[])),
        403,
        "invalidRequest",
        Some(ALICE),
    );
    // A key the route does not read may repeat.
    expect(&gate(&s, "GET", "/downloads/f?x=1&x=2&format=csv", &as_alice(&[])), 200, "allowed", Some(ALICE));
    expect(&gate(&s, "GET", "/hdr", &as_alice(&[("X-Client", "cli")])), 200, "allowed", Some(ALICE));
    expect(&gate(&s, "GET", "/hdr", &as_alice(&[("X-Client", "web")])), 403, "implicitDeny", Some(ALICE));
    let twice = gate(&s, "GET", "/hdr", &as_alice(&[("X-Client", "cli"), ("X-Client", "web")]));
    expect(&twice, 403, "invalidRequest", Some(ALICE));
}

#[test]
fn x_forwarded_for_and_proto_from_trusted_proxies() {
    let (s, _dir) = serve("gate-xff", &[]);
    let net = |xff: &[&'static str]| {
        let extra: Vec<(&str, &str)> = xff.iter().map(|v| ("X-Forwarded-For", *v)).collect();
        gate(&s, "GET", "/net", &as_alice(&extra)).header("x-keycard-decision").unwrap().to_owned()
    };
    assert_eq!(net(&[]), "implicitDeny", "the peer, 127.0.0.1");
    assert_eq!(net(&["203.0.113.7"]), "allowed");
    assert_eq!(net(&["203.0.113.7, 127.0.0.1"]), "allowed", "trusted proxies are skipped");
    assert_eq!(net(&["203.0.113.7", "127.0.0.1"]), "allowed", "several lines join in order");
    assert_eq!(net(&["203.0.113.7", "198.51.100.1"]), "implicitDeny", "the last untrusted entry");
    assert_eq!(net(&["198.51.100.1, 203.0.113.7"]), "allowed", "entries left of it are the client's word");
    assert_eq!(net(&["203.0.113.7, junk"]), "implicitDeny", "an unparsable entry leaves no address");
    assert_eq!(net(&["junk, 203.0.113.7"]), "allowed", "not reached");
    let tls = |headers: &[(&'static str, &'static str)]| {
        gate(&s, "GET", "/tls", &as_alice(headers)).header("x-keycard-decision").unwrap().to_owned()
    };
    assert_eq!(tls(&[("X-Forwarded-Proto", "https")]), "allowed");
    assert_eq!(tls(&[("X-Forwarded-Proto", "http")]), "implicitDeny");
    assert_eq!(tls(&[]), "implicitDeny");

    // With 203.0.113.0/24 trusted too, every entry is trusted: the leftmost is the source.
    let (t, _dir) = serve("gate-xff-all", &["--trusted-proxy", "127.0.0.0/8", "--trusted-proxy", "203.0.113.0/24"]);
    let all = gate(&t, "GET", "/net", &as_alice(&[("X-Forwarded-For", "203.0.113.9, 203.0.113.7, 127.0.0.1")]));
    expect(&all, 200, "allowed", Some(ALICE));
    let left = gate(&t, "GET", "/net", &as_alice(&[("X-Forwarded-For", "198.51.100.1, 203.0.113.7")]));
    expect(&left, 403, "implicitDeny", Some(ALICE));
}

#[test]
fn envoy_ext_authz_keeps_the_method_and_the_query() {
    let (s, _dir) = serve("gate-envoy", &[]);
    let mut c = s.connect();
    expect(&c.request_with("GET", "/v1/envoy/reports/2026/q1", &as_alice(&[])), 200, "allowed", Some(ALICE));
    expect(&c.request_with("GET", "/v1/envoy/downloads/f?format=csv", &as_alice(&[])), 200, "allowed", Some(ALICE));
    expect(
        &c.request_with("GET", "/v1/envoy/downloads/f?format=pdf", &as_alice(&[])),
        403,
        "implicitDeny",
        Some(ALICE),
    );
    expect(&c.request_with("POST", "/v1/envoy/reports/2026/q1", &as_alice(&[])), 403, "noRoute", Some(ALICE));
    expect(&c.request_with("PATCH", "/v1/envoy/admin/x", &as_alice(&[])), 200, "allowed", Some(ALICE));
    expect(&c.request_with("GET", "/v1/envoy//reports/2026/q1", &as_alice(&[])), 403, "invalidRequest", Some(ALICE));
    expect(&c.request_with("GET", "/v1/envoy/reports/%2e%2e/q1", &as_alice(&[])), 403, "invalidRequest", Some(ALICE));
    expect(&c.request_with("GET", "/v1/envoy/reports/2026", &[]), 401, "unauthenticated", None);
    expect(&c.request_with("GET", "/v1/envoy", &as_alice(&[])), 403, "noRoute", Some(ALICE));
    // Not the envoy endpoint: a neighbour path is a plain 404.
    assert_eq!(c.request_with("GET", "/v1/envoyx/reports/2026/q1", &as_alice(&[])).status, 404);
}

#[test]
fn nothing_is_allowed_before_the_first_snapshot() {
    let dir = temp_dir("gate-unloaded");
    let missing = dir.join("not-yet");
    let s = Server::start(
        "gate-unloaded",
        &["--policies", missing.to_str().unwrap(), "--trust-principal-header", "x-user"],
    );
    let r = gate(&s, "GET", "/reports/2026/q1", &as_alice(&[]));
    assert_eq!(r.status, 403, "{}", r.text());
    assert_eq!(r.header("x-keycard-decision"), Some("implicitDeny"));
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
    let (s, dir) = serve("gate-swap", &[]);
    expect(&gate(&s, "GET", "/new", &as_alice(&[])), 403, "noRoute", Some(ALICE));
    let routes = ROUTES.replacen(
        r#"{"Routes": ["#,
        r#"{"Routes": [{"Method": "GET", "Path": "/new", "Action": "new:Call", "Resource": "*"},"#,
        1,
    );
    let written = Instant::now();
    write_atomically(&dir.join("routes.json"), &routes);
    loop {
        let r = gate(&s, "GET", "/new", &as_alice(&[]));
        if r.status == 200 {
            expect(&r, 200, "allowed", Some(ALICE));
            break;
        }
        assert!(written.elapsed() < SWAP_WAIT, "the new route did not answer within {SWAP_WAIT:?}: {}", r.text());
        std::thread::sleep(Duration::from_millis(20));
    }
    // And away again, in place.
    let written = Instant::now();
    std::fs::write(dir.join("routes.json"), ROUTES).unwrap();
    while gate(&s, "GET", "/new", &as_alice(&[])).status != 403 {
        assert!(written.elapsed() < SWAP_WAIT, "the removed route still answers after {SWAP_WAIT:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    // A broken routes file keeps the last good routes.
    std::fs::write(dir.join("routes.json"), r#"{"Routes": [{"Method": "GET"}]}"#).unwrap();
    s.wait_for("the reload failure", |s| s.get("/v1/snapshot").json()["lastError"].is_string());
    expect(&gate(&s, "GET", "/reports/2026/q1", &as_alice(&[])), 200, "allowed", Some(ALICE));
}

/// Caddy's `forward_auth` and Traefik's `ForwardAuth`: the original request in `X-Forwarded-*`.
fn forward(server: &Server, method: &str, uri: &str, headers: &[(&str, &str)]) -> Response {
    let mut all = vec![("X-Forwarded-Method", method), ("X-Forwarded-Uri", uri)];
    all.extend_from_slice(headers);
    server.connect().request_with("GET", "/v1/gate", &all)
}

#[test]
fn forward_auth_names_the_request_in_x_forwarded_headers() {
    let (s, _dir) = serve("gate-forward", &[]);
    expect(&forward(&s, "GET", "/reports/2026/q1.csv", &as_alice(&[])), 200, "allowed", Some(ALICE));
    expect(&forward(&s, "GET", "/reports/secret/plans", &as_alice(&[])), 403, "explicitDeny", Some(ALICE));
    expect(&forward(&s, "DELETE", "/admin/users/bob", &as_alice(&[])), 200, "allowed", Some(ALICE));
    expect(&forward(&s, "HEAD", "/reports/2026/q1", &as_alice(&[])), 200, "allowed", Some(ALICE));
    expect(&forward(&s, "PUT", "/reports/2026/q1", &as_alice(&[])), 403, "noRoute", Some(ALICE));
    expect(&forward(&s, "GET", "/reports/2026/q1", &[]), 401, "unauthenticated", None);
    expect(&forward(&s, "GET", "/downloads/f?format=csv", &as_alice(&[])), 200, "allowed", Some(ALICE));
    expect(&forward(&s, "GET", "/downloads/f?format=pdf", &as_alice(&[])), 403, "implicitDeny", Some(ALICE));
    expect(&forward(&s, "GET", "/reports/2026%2Fq1/x", &as_alice(&[])), 403, "invalidRequest", Some(ALICE));
    expect(&forward(&s, "GET", "/reports/../admin/x", &as_alice(&[])), 403, "invalidRequest", Some(ALICE));
    // The facts come with it: X-Forwarded-For and X-Forwarded-Proto, as from nginx.
    let net = forward(&s, "GET", "/net", &as_alice(&[("X-Forwarded-For", "203.0.113.7")]));
    expect(&net, 200, "allowed", Some(ALICE));
    let tls = forward(&s, "GET", "/tls", &as_alice(&[("X-Forwarded-Proto", "https"), ("X-Forwarded-Host", "app")]));
    expect(&tls, 200, "allowed", Some(ALICE));
    // Both named, each once; the URI an absolute path.
    let mut c = s.connect();
    let only_uri = c.request_with("GET", "/v1/gate", &as_alice(&[("X-Forwarded-Uri", "/reports/2026/q1")]));
    expect(&only_uri, 403, "invalidRequest", None);
    let only_method = c.request_with("GET", "/v1/gate", &as_alice(&[("X-Forwarded-Method", "GET")]));
    expect(&only_method, 403, "invalidRequest", None);
    let twice = forward(&s, "GET", "/reports/2026/q1", &as_alice(&[("X-Forwarded-Uri", "/admin/x")]));
    expect(&twice, 403, "invalidRequest", None);
    for relative in ["reports/2026/q1", "*", "http://app/reports/2026/q1"] {
        expect(&forward(&s, "GET", relative, &as_alice(&[])), 403, "invalidRequest", None);
    }
    // nginx's X-Original-* win when present: a client's X-Forwarded-Uri passed on by nginx is not read.
    let both = gate(&s, "GET", "/reports/2026/q1", &as_alice(&[("X-Forwarded-Uri", "/admin/x")]));
    expect(&both, 200, "allowed", Some(ALICE));
    let both = gate(&s, "POST", "/admin/x", &as_alice(&[("X-Forwarded-Method", "GET"), ("X-Forwarded-Uri", "/net")]));
    expect(&both, 200, "allowed", Some(ALICE));
}

#[test]
fn x_forwarded_headers_from_an_untrusted_peer_are_refused() {
    // Loopback is not trusted here: whoever sends X-Forwarded-* is a client choosing what gets
    // decided (or a proxy missing from --trusted-proxy). Refused, never decided.
    let (s, _dir) = serve("gate-forward-untrusted", &["--trusted-proxy", "10.0.0.0/8"]);
    let signed_like = [("Authorization", "Bearer eyJhbGciOi.x.y")];
    expect(&forward(&s, "GET", "/reports/2026/q1", &signed_like), 403, "invalidRequest", None);
    expect(&forward(&s, "GET", "/reports/2026/q1", &[]), 403, "invalidRequest", None);
    for header in ["X-Forwarded-Proto", "X-Forwarded-Host"] {
        expect(&gate(&s, "GET", "/reports/2026/q1", &[(header, "203.0.113.7")]), 403, "invalidRequest", None);
    }
    let envoy = s.connect().request_with("GET", "/v1/envoy/reports/2026/q1", &[("X-Forwarded-Proto", "https")]);
    expect(&envoy, 403, "invalidRequest", None);
    // X-Forwarded-For from such a peer is ignored, not refused: aws:SourceIp is the peer's own
    // address, which the client cannot choose (here no identity either: the header needs trust).
    expect(&gate(&s, "GET", "/reports/2026/q1", &[("X-Forwarded-For", "203.0.113.7")]), 401, "unauthenticated", None);
    // Without them, the request is decided (no identity here: the principal header needs trust).
    expect(&gate(&s, "GET", "/reports/2026/q1", &as_alice(&[])), 401, "unauthenticated", None);
    assert_eq!(s.metric("keycard_gate_answers_total{decision=\"invalidRequest\"}"), 5.0);
}

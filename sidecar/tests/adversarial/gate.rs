//! The gateway (`/v1/gate`, `/v1/envoy/...`) under attack, over real HTTP: a fragment or a path
//! parameter in the original URI, and `X-Forwarded-For` bytes that are not an address, must never
//! turn a denied request into `allowed`; `aws:SourceIp` is never absent from a gateway decision.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::{temp_dir, Client, Response, Server, KEYCARD};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

/// alice reads 2026's reports (not 2025's), may call anything on the site but not `admin:`, and is
/// denied everything from the blocked networks 203.0.113.0/24 and 127.0.0.0/8 (the address the
/// tests connect from).
const ACCOUNT: &str = r#"{"AccountId": "111122223333", "UserDetailList": [{"UserName": "alice", "Path": "/",
  "UserPolicyList": [{"PolicyName": "P", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "reports:GetReport", "Resource": "arn:aws:reports:::report/2026/*"},
    {"Effect": "Allow", "Action": "site:*", "Resource": "*"},
    {"Effect": "Deny", "Action": "admin:*", "Resource": "*"},
    {"Effect": "Deny", "Action": "net:*", "Resource": "*",
     "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "127.0.0.0/8"]}}},
    {"Effect": "Allow", "Action": "net:*", "Resource": "*"}]}}]}]}"#;

const ROUTES: &str = r#"{"Routes": [
  {"Method": "GET", "Path": "/reports/{year}/{file}", "Action": "reports:GetReport",
   "Resource": "arn:aws:reports:::report/{year}/{file}"},
  {"Method": "GET", "Path": "/blocked", "Action": "net:Call", "Resource": "*"},
  {"Method": "*", "Path": "/admin/{rest+}", "Action": "admin:Call", "Resource": "arn:aws:admin:::{rest}"},
  {"Method": "*", "Path": "/{any+}", "Action": "site:Get", "Resource": "arn:aws:site:::{any}"}
]}"#;

fn store(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    std::fs::write(dir.join("account.json"), ACCOUNT).unwrap();
    std::fs::write(dir.join("routes.json"), ROUTES).unwrap();
    dir
}

fn serve(name: &str) -> (Server, PathBuf) {
    let dir = store(name);
    let server = Server::start(name, &["--policies", dir.to_str().unwrap(), "--trust-principal-header", "x-user"]);
    server.wait_ready();
    (server, dir)
}

/// nginx's `auth_request` subrequest, with header lines given as raw bytes (a value need not be
/// text: nginx passes on whatever the client sent).
fn gate_raw(client: &mut Client, uri: &str, headers: &[(&str, &[u8])]) -> Response {
    let mut req =
        format!("GET /v1/gate HTTP/1.1\r\nHost: keycard\r\nX-Original-Method: GET\r\nX-Original-URI: {uri}\r\n")
            .into_bytes();
    for (name, value) in headers {
        req.extend_from_slice(name.as_bytes());
        req.extend_from_slice(b": ");
        req.extend_from_slice(value);
        req.extend_from_slice(b"\r\n");
    }
    req.extend_from_slice(b"\r\n");
    client.send_raw(&req).unwrap();
    client.read_response().unwrap()
}

fn decision(r: &Response) -> (u16, String) {
    (r.status, r.header("x-keycard-decision").unwrap_or("").to_owned())
}

fn denied(decision: &str) -> (u16, String) {
    (403, decision.to_owned())
}

/// The reproduced attack: `X-Original-URI: /reports/2026/q1.csv#/../../2025/old.csv` was decided
/// as `/reports/2026/q1.csv` (allowed) while a file server behind nginx served `/2025/old.csv`.
#[test]
fn a_fragment_in_the_original_uri_is_an_invalid_request() {
    let (s, _dir) = serve("adv-gate-fragment");
    let mut c = s.connect();
    let alice: &[(&str, &[u8])] = &[("x-user", ALICE.as_bytes())];
    assert_eq!(decision(&gate_raw(&mut c, "/reports/2026/q1.csv", alice)), (200, "allowed".to_owned()));
    assert_eq!(decision(&gate_raw(&mut c, "/reports/2025/old.csv", alice)), denied("implicitDeny"));
    for uri in ["/reports/2026/q1.csv#/../../2025/old.csv", "/reports/2026/q1.csv?a=b#/../x", "/reports/2026/q1.csv#"] {
        assert_eq!(decision(&gate_raw(&mut c, uri, alice)), denied("invalidRequest"), "{uri}");
    }
    // Other targets two parsers read differently: absolute form, raw bytes RFC 3986 forbids.
    for uri in ["http://h.example/reports/2026/q1.csv", "/public/a\\b", "/public/a\"b", "/public/%252e%252e/admin"] {
        assert_eq!(decision(&gate_raw(&mut c, uri, alice)), denied("invalidRequest"), "{uri}");
    }
}

/// `/admin;x/secret`: servers that strip path parameters serve `/admin/secret`, which alice may
/// not call; keycard decided on the catch-all route's `site:Get` on `admin;x/secret` (allowed).
#[test]
fn path_parameters_are_invalid_requests() {
    let (s, _dir) = serve("adv-gate-semicolon");
    let mut c = s.connect();
    let alice: &[(&str, &[u8])] = &[("x-user", ALICE.as_bytes())];
    assert_eq!(decision(&gate_raw(&mut c, "/admin/secret", alice)), denied("explicitDeny"));
    assert_eq!(decision(&gate_raw(&mut c, "/public/page", alice)), (200, "allowed".to_owned()));
    for uri in ["/admin;x/secret", "/admin;/secret", "/admin/secret;.css", "/admin%3Bx/secret"] {
        assert_eq!(decision(&gate_raw(&mut c, uri, alice)), denied("invalidRequest"), "{uri}");
    }
    // Envoy's ext_authz path: the same rule.
    let envoy = c.request_with("GET", "/v1/envoy/admin;x/secret", &[("x-user", ALICE)]);
    assert_eq!(decision(&envoy), denied("invalidRequest"));
}

/// The reproduced attack: the same client is `explicitDeny` with no `X-Forwarded-For`, and was
/// `allowed` with `X-Forwarded-For: \xff` (one byte that is not text erased `aws:SourceIp`, so
/// the Deny on the blocked networks no longer applied). Here the test client plays nginx on
/// loopback (a trusted proxy): nginx appends the client's true address to what it sent.
#[test]
fn x_forwarded_for_bytes_never_erase_the_source_ip() {
    let (s, _dir) = serve("adv-gate-xff");
    let mut c = s.connect();
    let blocked = |c: &mut Client, xff: &[&[u8]]| {
        let mut headers: Vec<(&str, &[u8])> = vec![("x-user", ALICE.as_bytes())];
        headers.extend(xff.iter().map(|v| ("X-Forwarded-For", *v)));
        decision(&gate_raw(c, "/blocked", &headers))
    };
    let deny = denied("explicitDeny");
    // The client on loopback itself, and a client from 203.0.113.0/24 behind nginx.
    assert_eq!(blocked(&mut c, &[]), deny, "the peer, 127.0.0.1");
    assert_eq!(blocked(&mut c, &[b"203.0.113.7"]), deny);
    assert_eq!(blocked(&mut c, &[b"198.51.100.1"]), (200, "allowed".to_owned()), "not blocked");
    let long_garbage = vec![b'x'; 16 * 1024];
    let many_commas = b",".repeat(8 * 1024);
    let long_trusted: Vec<u8> = std::iter::repeat_n(&b"127.0.0.1, "[..], 1000).flatten().copied().collect();
    let hostile: Vec<Vec<&[u8]>> = vec![
        vec![b"\xff"],
        vec![b"\xff, 127.0.0.1"],
        vec![b"\xff, 203.0.113.7"],
        vec![b"203.0.113.7\xff"],
        vec![b"\xc3\xa9, 203.0.113.7"],
        vec![b"198.51.100.1\x80, 127.0.0.1"],
        vec![b""],
        vec![b","],
        vec![b" , ,"],
        vec![b"198.51.100.1,"],
        vec![b"198.51.100.1, , 127.0.0.1"],
        vec![b"198.51.100.1:80"],
        vec![b"unknown"],
        vec![b"unix:"],
        vec![b"[198.51.100.1]"],
        vec![b"198.51.100.1\t\xff"],
        vec![&long_garbage],
        vec![&many_commas],
        vec![&long_trusted, b"\xff"],
        vec![b"198.51.100.1", b"\xff"],
        std::iter::repeat_n(&b"\xff"[..], 60).collect(),
        std::iter::repeat_n(&b"127.0.0.1"[..], 60).chain([&b"\xfe"[..]]).collect(),
    ];
    for xff in &hostile {
        let shown: Vec<String> =
            xff.iter().map(|v| String::from_utf8_lossy(&v[..v.len().min(40)]).into_owned()).collect();
        assert_eq!(blocked(&mut c, xff), deny, "X-Forwarded-For {shown:?}");
    }
}

/// A Unix-socket peer (a proxy on this machine) has no address of its own: without an address in
/// `X-Forwarded-For` there is no `aws:SourceIp`, and the Deny on the blocked networks would not
/// apply. Such a request is refused instead of decided.
#[test]
fn a_unix_socket_peer_without_a_client_address_is_refused() {
    let dir = store("adv-gate-unix");
    let sock = dir.join("keycard.sock");
    /// Kills the server even when an assertion fails.
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut child = Kill(
        std::process::Command::new(KEYCARD)
            .args(["serve", "--listen", &format!("unix:{}", sock.display()), "--trust-principal-header", "x-user"])
            .args(["--policies", dir.to_str().unwrap()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
    assert!(line.contains("unix:"), "{line}");
    let ask = |xff: Option<&[u8]>| -> String {
        let mut req = format!(
            "GET /v1/gate HTTP/1.1\r\nHost: k\r\nConnection: close\r\nX-Original-Method: GET\r\n\
             X-Original-URI: /blocked\r\nx-user: {ALICE}\r\n"
        )
        .into_bytes();
        if let Some(v) = xff {
            req.extend_from_slice(b"X-Forwarded-For: ");
            req.extend_from_slice(v);
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"\r\n");
        let mut s = std::os::unix::net::UnixStream::connect(&sock).unwrap();
        s.write_all(&req).unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer
    };
    // Wait until the snapshot is loaded (before that, every gate answer is 403 implicitDeny).
    let mut answer = String::new();
    for _ in 0..500 {
        answer = ask(Some(b"198.51.100.1"));
        if answer.starts_with("HTTP/1.1 200") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(answer.to_ascii_lowercase().contains("x-keycard-decision: allowed"), "{answer}");
    let verdict = |answer: &str| {
        let lower = answer.to_ascii_lowercase();
        let status = answer.split_whitespace().nth(1).unwrap_or("").to_owned();
        let decision =
            lower.lines().find_map(|l| l.strip_prefix("x-keycard-decision: ")).unwrap_or("").trim().to_owned();
        (status, decision)
    };
    let refused = ("403".to_owned(), "invalidrequest".to_owned());
    assert_eq!(verdict(&ask(Some(b"203.0.113.7"))), ("403".to_owned(), "explicitdeny".to_owned()));
    assert_eq!(verdict(&ask(None)), refused, "no address at all");
    assert_eq!(verdict(&ask(Some(b"\xff"))), refused, "no address the walk can use");
    assert_eq!(verdict(&ask(Some(b""))), refused);
    assert_eq!(verdict(&ask(Some(b"203.0.113.7, junk"))), refused);
    drop(child);
    let _ = std::fs::remove_dir_all(&dir);
}

/// An `Authorization` header keycard cannot read (not text, or given twice) is refused (401), not
/// taken for "no credentials": that fell through to the weaker trusted principal header.
#[test]
fn unreadable_credentials_do_not_fall_through_to_the_principal_header() {
    let (s, _dir) = serve("adv-gate-authorization");
    let mut c = s.connect();
    let unauthenticated = (401, "unauthenticated".to_owned());
    let with = |c: &mut Client, auth: &[&[u8]]| {
        let mut headers: Vec<(&str, &[u8])> = vec![("x-user", ALICE.as_bytes())];
        headers.extend(auth.iter().map(|v| ("Authorization", *v)));
        decision(&gate_raw(c, "/public/page", &headers))
    };
    assert_eq!(with(&mut c, &[]), (200, "allowed".to_owned()));
    assert_eq!(with(&mut c, &[b"Bearer \xff.\xff.\xff"]), unauthenticated);
    assert_eq!(with(&mut c, &[b"Bearer a.b.c", b"Bearer d.e.f"]), unauthenticated);
    assert_eq!(with(&mut c, &[b"Basic YWxpY2U6eA==", b"Bearer d.e.f"]), unauthenticated);
}

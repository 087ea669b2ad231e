//! `keycard serve` over real HTTP: every endpoint of `docs/http-api.md`, every refusal, signals,
//! the decision log and the Unix socket listener.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{alice_reads, temp_dir, Server};
use std::io::{Read, Write};
use std::time::Duration;

#[test]
fn health_readiness_and_snapshot_on_the_embedded_store() {
    let server = Server::start("endpoints", &[]);
    assert_eq!(server.get("/healthz").status, 200);
    server.wait_ready();
    let ready = server.get("/readyz").json();
    let snap = server.get("/v1/snapshot").json();
    assert_eq!(ready["snapshot"], snap["snapshot"]);
    for key in ["snapshot", "loadedAt", "files", "principals", "policies", "statements", "lastError"] {
        assert!(snap.get(key).is_some(), "/v1/snapshot lacks {key}: {snap}");
    }
    assert!(snap["lastError"].is_null());
    assert!(snap["files"].as_u64().unwrap() >= 1);
    assert!(snap["principals"].as_u64().unwrap() >= 1);
    assert!(snap["statements"].as_u64().unwrap() >= snap["policies"].as_u64().unwrap());
    assert!(snap["loadedAt"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn authorize_answers_allow_explicit_and_implicit_deny_with_the_snapshot_id() {
    let server = Server::start("authorize", &[]);
    server.wait_ready();
    let id = server.snapshot_id().unwrap();
    let mut client = server.connect(); // one keep-alive connection for all of them
    let allowed = client.request("POST", "/v1/authorize", Some(alice_reads("203.0.113.7").as_bytes()));
    assert_eq!(allowed.status, 200);
    assert_eq!(allowed.header("content-type"), Some("application/json"));
    assert_eq!(allowed.json(), serde_json::json!({"decision": "allowed", "snapshot": id}));
    let denied = client.request("POST", "/v1/authorize", Some(alice_reads("198.51.100.9").as_bytes()));
    assert_eq!(denied.json()["decision"], "explicitDeny");
    let unknown =
        r#"{"principal": "arn:aws:iam::111122223333:user/nobody", "action": "s3:GetObject", "resource": "*"}"#;
    let r = client.request("POST", "/v1/authorize", Some(unknown.as_bytes()));
    assert_eq!((r.status, r.json()["decision"].as_str()), (200, Some("implicitDeny")));

    let explained = alice_reads("198.51.100.9").replacen('{', r#"{"explain": true, "#, 1);
    let r = client.request("POST", "/v1/authorize", Some(explained.as_bytes())).json();
    assert_eq!(r["decision"], "explicitDeny");
    let matched = r["matched"].as_array().unwrap();
    assert!(matched.iter().any(|m| m["effect"] == "Deny"), "{r}");
    assert!(r.get("notes").is_some() && r.get("missingContextKeys").is_some(), "{r}");

    let metrics = server.get("/metrics").text();
    assert!(metrics.contains("keycard_decisions_total{decision=\"allowed\"} 1"), "{metrics}");
    assert!(metrics.contains("keycard_decisions_total{decision=\"explicitDeny\"} 2"), "{metrics}");
    assert!(metrics.contains("keycard_decisions_total{decision=\"implicitDeny\"} 1"), "{metrics}");
    assert!(metrics.contains("keycard_decision_duration_seconds_count 4"), "{metrics}");
    assert!(metrics.contains("keycard_decision_duration_seconds_bucket{le=\"0.000001\"}"), "{metrics}");
    assert!(metrics.contains("keycard_reloads_total 1"), "{metrics}");
    assert!(metrics.contains("keycard_reload_failures_total 0"), "{metrics}");
}

#[test]
fn malformed_requests_get_400_naming_the_field() {
    let server = Server::start("malformed", &[]);
    server.wait_ready();
    let cases = [
        ("{not json", ""),
        (r#"{"principal": "arn:aws:iam::111122223333:user/dev/alice", "action": "s3:GetObject"}"#, "/resource"),
        (r#"{"principal": 7, "action": "s3:GetObject", "resource": "*"}"#, "/principal"),
        (r#"{"principal": "*", "action": "GetObject", "resource": "*"}"#, "/action"),
        (r#"{"principal": "*", "action": "s3:GetObject", "resource": "*", "colour": "red"}"#, "/colour"),
        (
            r#"{"principal": "*", "action": "s3:GetObject", "resource": "*", "context": {"aws:username": "root"}}"#,
            "/context/aws:username",
        ),
        (r#"{"principal": "*", "action": "s3:GetObject", "resource": "*", "context": {"k": {"x": 1}}}"#, "/context/k"),
        (r#"[1, 2]"#, ""),
    ];
    let mut client = server.connect();
    for (body, field) in cases {
        let r = client.request("POST", "/v1/authorize", Some(body.as_bytes()));
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        let j = r.json();
        assert!(j["error"].as_str().is_some_and(|e| !e.is_empty()), "{body}: {j}");
        if !field.is_empty() {
            assert_eq!(j["field"], field, "{body}: {j}");
            assert!(j["error"].as_str().unwrap().contains(field), "{j}");
        }
        assert!(j.get("decision").is_none(), "a malformed request is never decided: {j}");
    }
    let r = client.request("POST", "/v1/authorize", Some(&[0xff, 0xfe, b'{']));
    assert_eq!(r.status, 400, "{}", r.text());
    assert_eq!(server.metric("keycard_request_errors_total"), cases.len() as f64);
}

#[test]
fn batch_answers_in_order_from_one_snapshot() {
    let server = Server::start("batch", &[]);
    server.wait_ready();
    let id = server.snapshot_id().unwrap();
    let body = format!(
        r#"{{"requests": [{}, {{"principal": "*"}}, {}, {{"principal": "*", "action": "s3:GetObject", "resource": "*"}}]}}"#,
        alice_reads("203.0.113.7"),
        alice_reads("198.51.100.9")
    );
    let r = server.post("/v1/authorize/batch", &body);
    assert_eq!(r.status, 200, "{}", r.text());
    let responses = r.json()["responses"].as_array().unwrap().clone();
    assert_eq!(responses.len(), 4);
    assert_eq!(responses[0], serde_json::json!({"decision": "allowed", "snapshot": id}));
    assert_eq!(responses[1]["field"], "/requests/1/action", "{}", responses[1]);
    assert_eq!(responses[2]["decision"], "explicitDeny");
    assert_eq!(responses[3]["decision"], "implicitDeny");

    let empty = server.post("/v1/authorize/batch", r#"{"requests": []}"#);
    assert_eq!((empty.status, empty.json()), (200, serde_json::json!({"responses": []})));
    for bad in [r#"{"requests": {}}"#, r#"{"request": []}"#, "[]", "nope"] {
        let r = server.post("/v1/authorize/batch", bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert!(r.json()["error"].is_string());
    }
}

#[test]
fn oversized_bodies_and_batches_get_413() {
    let server = Server::start("limits", &[]);
    server.wait_ready();
    // Declared too large: refused without reading it.
    let mut client = server.connect();
    client.send_raw(b"POST /v1/authorize HTTP/1.1\r\nHost: k\r\nContent-Length: 1048577\r\n\r\n").unwrap();
    let r = client.read_response().unwrap();
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.json()["error"].is_string());

    // Sent too large.
    let pad = " ".repeat(1024 * 1024);
    let r = server.post("/v1/authorize", &format!("{{{pad}}}"));
    assert_eq!(r.status, 413);

    // Chunked, no Content-Length, over the limit.
    let mut client = server.connect();
    client.send_raw(b"POST /v1/authorize/batch HTTP/1.1\r\nHost: k\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
    let chunk = vec![b' '; 256 * 1024];
    let mut status = None;
    for _ in 0..5 {
        let mut c = format!("{:x}\r\n", chunk.len()).into_bytes();
        c.extend_from_slice(&chunk);
        c.extend_from_slice(b"\r\n");
        if client.send_raw(&c).is_err() {
            break; // the server answered and closed while we were still sending
        }
    }
    let _ = client.send_raw(b"0\r\n\r\n");
    if let Ok(r) = client.read_response() {
        status = Some(r.status);
    }
    assert_eq!(status, Some(413));

    // Too many requests in a batch, though the body is under 1 MiB.
    let one = r#"{"principal":"*","action":"s3:A","resource":"*"}"#;
    let body = format!(r#"{{"requests":[{}]}}"#, vec![one; 10_001].join(","));
    assert!(body.len() < 1024 * 1024);
    let r = server.post("/v1/authorize/batch", &body);
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.json()["error"].as_str().unwrap().contains("10000"));
    // Exactly the limit is fine.
    let body = format!(r#"{{"requests":[{}]}}"#, vec![one; 10_000].join(","));
    let r = server.post("/v1/authorize/batch", &body);
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["responses"].as_array().unwrap().len(), 10_000);
}

#[test]
fn unknown_paths_and_wrong_methods() {
    let server = Server::start("routing", &[]);
    server.wait_ready();
    let r = server.get("/v2/authorize");
    assert_eq!(r.status, 404);
    assert!(r.json()["error"].is_string());
    let r = server.get("/v1/authorize");
    assert_eq!((r.status, r.header("allow")), (405, Some("POST")));
    let r = server.post("/healthz", "{}");
    assert_eq!(r.status, 405);
    let r = server.get("/metrics");
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    assert!(r.text().contains("# TYPE keycard_decision_duration_seconds histogram"));
}

#[test]
fn not_ready_until_a_store_loads_then_recovers_without_restart() {
    let dir = temp_dir("late");
    let store = dir.join("store");
    let server = Server::start("late", &["--policies", store.to_str().unwrap()]);
    assert_eq!(server.get("/healthz").status, 200);
    server.wait_for("the first load to fail", |s| !s.get("/v1/snapshot").json()["lastError"].is_null());
    let r = server.get("/readyz");
    assert_eq!(r.status, 503);
    assert!(r.json()["lastError"].is_string());
    let r = server.post("/v1/authorize", &alice_reads("203.0.113.7"));
    assert_eq!(r.status, 503, "no snapshot: never decided");
    assert!(server.get("/v1/snapshot").json()["snapshot"].is_null());

    // The store appears (as a ConfigMap volume would, late): the server becomes ready.
    std::fs::create_dir_all(&store).unwrap();
    std::fs::write(store.join("account.json"), common_store("Allow")).unwrap();
    server.wait_ready();
    assert!(server.get("/v1/snapshot").json()["lastError"].is_null());
    let r = server.post("/v1/authorize", BOB_REQUEST).json();
    assert_eq!(r["decision"], "allowed");
    let _ = std::fs::remove_dir_all(&dir);
}

const BOB_REQUEST: &str =
    r#"{"principal": "arn:aws:iam::111122223333:user/bob", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}"#;

fn common_store(effect: &str) -> String {
    format!(
        r#"{{"AccountId": "111122223333", "UserDetailList": [{{"UserName": "bob", "Path": "/",
          "UserPolicyList": [{{"PolicyName": "P", "PolicyDocument": {{"Version": "2012-10-17", "Statement": [
            {{"Effect": "{effect}", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}]}}}}]}}]}}"#
    )
}

#[test]
fn sighup_reloads_and_sigterm_drains_in_flight_requests_then_exits_0() {
    let dir = temp_dir("signals");
    std::fs::write(dir.join("account.json"), common_store("Allow")).unwrap();
    let mut server = Server::start("signals", &["--policies", dir.to_str().unwrap()]);
    server.wait_ready();
    server.signal("HUP");
    server.wait_for("the forced reload", |s| s.metric("keycard_reloads_total") >= 2.0);

    // A request in flight: headers and half the body sent.
    let mut client = server.connect();
    let body = BOB_REQUEST.as_bytes();
    let head = format!("POST /v1/authorize HTTP/1.1\r\nHost: k\r\nContent-Length: {}\r\n\r\n", body.len());
    client.send_raw(head.as_bytes()).unwrap();
    client.send_raw(&body[..10]).unwrap();
    server.wait_for("the server to read the request's head", |_| client.server_has_read_everything());
    server.signal("TERM");
    // New connections are refused once draining has begun...
    server.wait_for("new connections to be refused after SIGTERM", |s| std::net::TcpStream::connect(&s.addr).is_err());
    // ...but the request in flight completes.
    client.send_raw(&body[10..]).unwrap();
    let r = client.read_response().unwrap();
    assert_eq!((r.status, r.json()["decision"].as_str()), (200, Some("allowed")));
    let status = wait_exit(&mut server.child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(0), "{}", server.log());
    let _ = std::fs::remove_dir_all(&dir);
}

fn wait_exit(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(std::time::Instant::now() < deadline, "keycard did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_slow_client_times_out_with_408() {
    let server = Server::start("slow", &["--client-timeout", "0.5"]);
    server.wait_ready();
    let mut client = server.connect();
    client.send_raw(b"POST /v1/authorize HTTP/1.1\r\nHost: k\r\nContent-Length: 100\r\n\r\n{\"princ").unwrap();
    let r = client.read_response().unwrap();
    assert_eq!(r.status, 408, "{}", r.text());
    // A client that never finishes its headers is disconnected.
    let mut stream = std::net::TcpStream::connect(&server.addr).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(b"POST /v1/authorize HTTP/1.1\r\nHost").unwrap();
    let mut buf = Vec::new();
    // Ok once the server closes; an error here is the 10 s read timeout: never disconnected.
    let closed = stream.read_to_end(&mut buf);
    assert!(closed.is_ok(), "the server kept a client that never finished its headers: {closed:?}");
    assert!(buf.is_empty() || String::from_utf8_lossy(&buf).contains("408"), "{}", String::from_utf8_lossy(&buf));
    // And the server still serves.
    assert_eq!(server.post("/v1/authorize", &alice_reads("203.0.113.7")).json()["decision"], "allowed");
}

#[test]
fn decision_log_writes_one_cloudtrail_like_line_per_decision() {
    let dir = temp_dir("dlog");
    let log = dir.join("decisions.jsonl");
    let server = Server::start("dlog", &["--decision-log", log.to_str().unwrap()]);
    server.wait_ready();
    let id = server.snapshot_id().unwrap();
    server.post("/v1/authorize", &alice_reads("203.0.113.7"));
    let explained = alice_reads("198.51.100.9").replacen('{', r#"{"explain": true, "#, 1);
    server.post("/v1/authorize", &explained);
    let batch = format!(
        r#"{{"requests": [{}, {{"principal": {{"Service": "ec2.amazonaws.com"}}, "action": "sts:AssumeRole", "resource": "*"}}]}}"#,
        alice_reads("203.0.113.7")
    );
    server.post("/v1/authorize/batch", &batch);
    server.wait_for("4 records", |s| s.metric("keycard_decision_log_written_total") >= 4.0);
    server.wait_for("the flush", |_| std::fs::read_to_string(&log).unwrap_or_default().lines().count() == 4);
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&log).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines[0]["principal"], "arn:aws:iam::111122223333:user/dev/alice");
    assert_eq!(lines[0]["action"], "s3:GetObject");
    assert_eq!(lines[0]["resource"], "arn:aws:s3:::example-reports/2026/q1.csv");
    assert_eq!(lines[0]["decision"], "allowed");
    assert_eq!(lines[0]["snapshot"], id.as_str());
    assert!(lines[0]["eventTime"].as_str().unwrap().ends_with('Z'));
    assert!(lines[0].get("matched").is_none());
    assert_eq!(lines[1]["decision"], "explicitDeny");
    assert!(lines[1]["matched"].as_array().unwrap().iter().any(|m| m["effect"] == "Deny"), "{}", lines[1]);
    assert_eq!(lines[3]["principal"], serde_json::json!({"Service": "ec2.amazonaws.com"}));
    assert_eq!(server.metric("keycard_decision_log_dropped_total"), 0.0);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_stuck_decision_log_drops_records_instead_of_slowing_decisions() {
    let dir = temp_dir("fifo");
    let fifo = dir.join("decisions.fifo");
    // A FIFO nobody reads: the writer blocks opening it, the buffer fills, records are dropped.
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let server = Server::start("fifo", &["--decision-log", fifo.to_str().unwrap(), "--decision-log-buffer", "8"]);
    server.wait_ready();
    let one = alice_reads("203.0.113.7");
    let body = format!(r#"{{"requests":[{}]}}"#, vec![one.as_str(); 500].join(","));
    let r = server.post("/v1/authorize/batch", &body);
    assert_eq!(r.status, 200);
    assert_eq!(server.metric("keycard_decisions_total{decision=\"allowed\"}"), 500.0);
    assert!(server.metric("keycard_decision_log_dropped_total") >= 492.0);
    // Unblock the writer so that the server can shut down cleanly. The reader is not joined: if
    // the server is gone before it opens the FIFO, its open would wait for a writer forever.
    let (opened, reader_open) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        let file = std::fs::File::open(&fifo);
        let _ = opened.send(());
        let _ = file.and_then(|mut f| f.read_to_string(&mut s));
    });
    // The reader has the FIFO open (so the writer is unblocked), or it never will: shut down.
    let _ = reader_open.recv_timeout(Duration::from_secs(20));
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn listens_on_a_unix_socket() {
    let dir = temp_dir("unix");
    let sock = dir.join("keycard.sock");
    let mut child = std::process::Command::new(common::KEYCARD)
        .args(["serve", "--listen", &format!("unix:{}", sock.display())])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    assert!(line.contains("unix:"), "{line}");
    let mut answer = String::new();
    for _ in 0..200 {
        let mut s = std::os::unix::net::UnixStream::connect(&sock).unwrap();
        let body = alice_reads("203.0.113.7");
        write!(
            s,
            "POST /v1/authorize HTTP/1.1\r\nHost: k\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        answer.clear();
        s.read_to_string(&mut answer).unwrap();
        if !answer.contains(" 503 ") {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains(r#""decision":"allowed""#), "{answer}");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

//! CPU exhaustion: while hostile requests (1 MB policies with a hundred thousand condition keys,
//! crafted wildcards, unauthenticated STS calls) keep the server busy, `/healthz` and the gate
//! still answer at once, and every hostile request is itself answered.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use crate::common::{temp_dir, Client, Server};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const A: &str = "111122223333";
const ALICE: &str = "arn:aws:iam::111122223333:user/alice";

fn serve(name: &str) -> (Server, std::path::PathBuf) {
    let dir = temp_dir(name);
    let account = json!({"AccountId": A, "UserDetailList": [{"UserName": "alice", "Path": "/",
        "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["reports:GetReport", "s3:*"], "Resource": "*"}]}}]}]});
    std::fs::write(dir.join("account.json"), account.to_string()).unwrap();
    let routes = r#"{"Routes": [{"Method": "GET", "Path": "/reports/{year}/{file}", "Action": "reports:GetReport",
        "Resource": "arn:aws:reports:::report/{year}/{file}"}]}"#;
    std::fs::write(dir.join("routes.json"), routes).unwrap();
    let server = Server::start(name, &["--policies", dir.to_str().unwrap(), "--trust-principal-header", "x-user"]);
    server.wait_ready();
    (server, dir)
}

/// A policy with `n` condition keys: about 10 bytes each, so 1 MB holds about 100,000.
fn policy_with_keys(n: usize, extra: &str) -> String {
    let mut keys = String::with_capacity(n * 12);
    for i in 0..n {
        keys.push_str(&format!("\"k{i}\":\"v\","));
    }
    keys.pop();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"*"{extra},"Condition":{{"StringEquals":{{{keys}}}}}}}]}}"#
    )
}

/// The worst requests found, as (method, path, body).
fn hostile() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    // 1. /v1/authorize with a 1 MB sessionPolicy of 75,000 condition keys: a quadratic duplicate
    //    check took seconds per request.
    let session = format!(
        r#"{{"principal": "{ALICE}", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k", "sessionPolicy": {}}}"#,
        policy_with_keys(75_000, "")
    );
    // 2. The same as the STS `Policy` of an unsigned AssumeRoleWithWebIdentity with a bogus token
    //    (form bodies take JSON unescaped as long as it holds no `&`, `=`, `+` or `%`).
    let sts = format!(
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn:aws:iam::{A}:role/r&RoleSessionName=s1&WebIdentityToken=a.b.c&Policy={}",
        policy_with_keys(75_000, "")
    );
    // 3. A request-supplied bucket policy whose wildcards make a backtracking matcher walk
    //    pattern × text against a long context value.
    let bucket = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
        "Condition": {"StringLike": {"aws:UserAgent": [format!("*{}b*", "a".repeat(9_000)), format!("*{}b*", "a?".repeat(4_500))]}}}]});
    let glob = json!({"principal": ALICE, "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
        "resourcePolicy": bucket, "context": {"aws:UserAgent": "a".repeat(60_000)}});
    // 4. A batch of such requests.
    let one = json!({"principal": ALICE, "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
        "sessionPolicy": policy_with_keys(180, "")});
    let batch = json!({"requests": vec![one; 300]});
    // 5. A bucket policy repeating a variable that holds a long request value: substituting every
    //    value built hundreds of megabytes.
    let repeated: Vec<&str> = vec!["${aws:UserAgent}"; 1_000];
    let bucket = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
        "Condition": {"StringNotLike": {"aws:UserAgent": repeated}}}]});
    let variables = json!({"principal": ALICE, "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
        "resourcePolicy": bucket, "context": {"aws:UserAgent": "a".repeat(60_000)}});
    vec![
        ("POST", "/v1/authorize", variables.to_string().into_bytes()),
        ("POST", "/v1/authorize", session.into_bytes()),
        ("POST", "/", sts.into_bytes()),
        ("POST", "/v1/authorize", glob.to_string().into_bytes()),
        ("POST", "/v1/authorize/batch", batch.to_string().into_bytes()),
    ]
}

/// The 99th percentile of `samples`.
fn p99(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    let i = (samples.len() * 99).div_ceil(100).saturating_sub(1);
    samples[i]
}

/// One test, so that its two parts do not load the machine at the same time.
#[test]
fn hostile_requests_are_answered_and_do_not_stall_health_checks_or_the_gate() {
    let (server, _dir) = serve("adv-cpu");
    each_hostile_request_is_answered_as_it_should_be(&server);
    hostile_requests_do_not_stall_health_checks_or_the_gate(&server);
}

fn hostile_requests_do_not_stall_health_checks_or_the_gate(server: &Server) {
    let bodies = Arc::new(hostile());
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    // A hostile client per kind, each sending its request again and again.
    let clients: Vec<_> = (0..bodies.len())
        .map(|i| {
            let (bodies, stop, sent, addr) =
                (Arc::clone(&bodies), Arc::clone(&stop), Arc::clone(&sent), server.addr.clone());
            std::thread::spawn(move || {
                let (method, path, body) = &bodies[i % bodies.len()];
                let mut answers = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    let mut c = Client::connect(&addr);
                    let started = Instant::now();
                    sent.fetch_add(1, Ordering::SeqCst);
                    let r = c.request(method, path, Some(body));
                    answers.push((r.status, started.elapsed(), r.text().chars().take(200).collect::<String>()));
                }
                (*path, answers)
            })
        })
        .collect();
    // Probe once every client has a hostile request in flight.
    let deadline = Instant::now() + Duration::from_secs(20);
    while sent.load(Ordering::SeqCst) < bodies.len() {
        assert!(Instant::now() < deadline, "hostile clients did not start");
        std::thread::sleep(Duration::from_millis(5));
    }
    let (mut health, mut gate) = (Vec::new(), Vec::new());
    let (mut hc, mut gc) = (server.connect(), server.connect());
    for _ in 0..100 {
        let started = Instant::now();
        let r = hc.request("GET", "/healthz", None);
        health.push(started.elapsed());
        assert_eq!(r.status, 200);
        let started = Instant::now();
        let r = gc.request_with(
            "GET",
            "/v1/gate",
            &[("X-Original-Method", "GET"), ("X-Original-URI", "/reports/2026/q1.csv"), ("x-user", ALICE)],
        );
        gate.push(started.elapsed());
        assert_eq!(r.status, 200, "{}", r.text());
        std::thread::sleep(Duration::from_millis(10));
    }
    stop.store(true, Ordering::SeqCst);
    let mut answered = 0;
    for client in clients {
        let (path, answers) = client.join().unwrap();
        assert!(!answers.is_empty(), "{path}: no answer");
        for (status, took, text) in answers {
            // Each is refused (400, 403 for STS's bad token, 503 when the heavy pool stays full)
            // or decided; none hangs: the client gives up after 30 s.
            assert!([200, 400, 403, 503].contains(&status), "{path}: {status} {text}");
            assert!(took < Duration::from_secs(30), "{path}: {took:?}");
            answered += 1;
        }
    }
    let (health, gate) = (p99(health), p99(gate));
    eprintln!("p99 /healthz {health:?}, /v1/gate {gate:?}, {answered} hostile requests answered meanwhile");
    // The issue's bound: 100 ms at the 99th percentile, under this load.
    assert!(health < Duration::from_millis(100), "/healthz p99 {health:?}");
    assert!(gate < Duration::from_millis(100), "/v1/gate p99 {gate:?}");
}

/// Each hostile request alone: answered in bounded time (the client gives up after 30 s), and
/// answered right.
fn each_hostile_request_is_answered_as_it_should_be(server: &Server) {
    for (method, path, body) in hostile() {
        assert!(body.len() <= 1024 * 1024, "{path}: {} bytes", body.len());
        let started = Instant::now();
        let r = server.connect().request(method, path, Some(&body));
        eprintln!("{path}: {} in {:?}", r.status, started.elapsed());
        let text = r.text();
        match path {
            "/" => {
                // The token is checked before the Policy is read.
                assert_eq!(r.status, 400, "{text}");
                assert!(text.contains("InvalidIdentityToken"), "{text}");
            }
            "/v1/authorize/batch" => {
                // 300 session policies of 180 conditions each, all within the limits: decided.
                assert_eq!(r.status, 200, "{}", &text[..text.len().min(300)]);
                let answers = r.json()["responses"].as_array().unwrap().clone();
                assert_eq!(answers.len(), 300);
                assert!(answers.iter().all(|a| a["decision"] == "implicitDeny"), "{}", &text[..300]);
            }
            _ if text.contains("sessionPolicy") => {
                assert_eq!(r.status, 400, "{text}");
                assert_eq!(r.json()["field"], "/sessionPolicy", "{text}");
            }
            _ => {
                assert_eq!(r.status, 200, "{text}");
                assert_eq!(r.json()["decision"], "allowed", "{text}");
            }
        }
    }
}

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
//! `generate-policy` and `unused` from the decision log: malformed lines are reported with their
//! line number and never counted; the generated policy passes the store loader (what `keycard
//! validate` runs), allows every logged allowed request of its principal when it replaces the
//! principal's policies, and allows no logged denied request that the principal was not itself
//! allowed.

use keycard::analysis::generate::{generate_policy, principal_key, read_log, unused, LogFilter};
use keycard::{Request, Snapshot, Store};
use serde_json::{json, Value};

const A: &str = "111122223333";

fn line(principal: &str, action: &str, resource: &str, decision: &str, time: &str) -> String {
    json!({"eventTime": time, "principal": principal, "action": action, "resource": resource, "decision": decision, "snapshot": "0"})
        .to_string()
}

fn alice() -> String {
    format!("arn:aws:iam::{A}:user/alice")
}

fn bob() -> String {
    format!("arn:aws:iam::{A}:user/bob")
}

/// A log: alice reads seven reports of 2026 and writes a log object; bob is denied a secret
/// report of 2025 and a bucket deletion; a role session sends messages.
fn log(extra: &[String]) -> String {
    let mut lines: Vec<String> = (1..=7)
        .map(|q| {
            line(
                &alice(),
                "s3:GetObject",
                &format!("arn:aws:s3:::reports/2026/q{q}.csv"),
                "allowed",
                "2026-03-01T10:00:00Z",
            )
        })
        .collect();
    lines.push(line(&alice(), "s3:PutObject", "arn:aws:s3:::logs/app.log", "allowed", "2026-03-02T10:00:00Z"));
    lines.push(line(&alice(), "ec2:DescribeInstances", "*", "allowed", "2026-03-02T10:00:00Z"));
    lines.push(line(&alice(), "s3:DeleteObject", "arn:aws:s3:::logs/app.log", "explicitDeny", "2026-03-02T10:00:00Z"));
    lines.push(line(
        &bob(),
        "s3:GetObject",
        "arn:aws:s3:::reports/2025/secret.csv",
        "implicitDeny",
        "2026-03-02T11:00:00Z",
    ));
    lines.push(line(&bob(), "s3:DeleteBucket", "arn:aws:s3:::reports", "explicitDeny", "2026-03-02T11:00:00Z"));
    lines.push(line(
        &format!("arn:aws:sts::{A}:assumed-role/worker/build-7"),
        "sqs:SendMessage",
        &format!("arn:aws:sqs:us-east-1:{A}:jobs"),
        "allowed",
        "2026-03-03T00:00:00Z",
    ));
    lines.push(json!({"principal": {"Service": "ec2.amazonaws.com"}, "action": "sts:AssumeRole", "resource": "*", "decision": "allowed"}).to_string());
    lines.extend(extra.iter().cloned());
    lines.join("\n") + "\n"
}

/// A store where `principal` holds only `policy`.
fn store_with(policy: &Value) -> Snapshot {
    let doc = json!({"AccountId": A, "UserDetailList": [
        {"UserName": "alice", "Path": "/", "Arn": alice(), "UserPolicyList": [{"PolicyName": "generated", "PolicyDocument": policy}]},
        {"UserName": "bob", "Path": "/", "Arn": bob()}
    ]});
    Snapshot::new(Store::from_documents([("generated.json", doc.to_string())]).unwrap())
}

fn allowed(snapshot: &Snapshot, principal: &str, action: &str, resource: &str) -> bool {
    snapshot.decide(&Request::new(principal, action, resource).unwrap()).is_allowed()
}

/// Every logged request as (principal, action, resource, decision).
fn requests(text: &str) -> Vec<(String, String, String, String)> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter_map(|v| {
            Some((
                v["principal"].as_str()?.to_owned(),
                v["action"].as_str()?.to_owned(),
                v["resource"].as_str()?.to_owned(),
                v["decision"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

fn check(text: &str, threshold: usize) -> Value {
    let summary = read_log(text.as_bytes(), &LogFilter { principal: Some(alice()), since: None }).unwrap();
    let policy = generate_policy(&summary, &alice(), threshold).unwrap();
    let snapshot = store_with(&policy); // loads: the policy is valid
    let all = requests(text);
    let mine: Vec<_> = all.iter().filter(|r| r.0 == alice() && r.3 == "allowed").collect();
    assert!(!mine.is_empty());
    for (_, action, resource, _) in &mine {
        assert!(allowed(&snapshot, &alice(), action, resource), "{action} {resource} not allowed by {policy}");
    }
    for (_, action, resource, _) in all.iter().filter(|r| r.3 != "allowed") {
        if mine.iter().any(|m| &m.1 == action && &m.2 == resource) {
            continue;
        }
        assert!(
            !allowed(&snapshot, &alice(), action, resource),
            "{action} {resource} was denied but {policy} allows it"
        );
    }
    policy
}

#[test]
fn the_generated_policy_allows_what_was_allowed_and_nothing_that_was_denied() {
    let text = log(&[]);
    let policy = check(&text, 5);
    // Seven siblings under reports/2026/: generalised; nothing denied lies under it.
    let s = policy.to_string();
    assert!(s.contains("arn:aws:s3:::reports/2026/*"), "{s}");
    assert!(s.contains("\"s3:GetObject\"") && s.contains("\"ec2:DescribeInstances\""), "{s}");
    assert!(!s.contains("DeleteObject"), "denied requests are left out: {s}");
    // Grouped by service: a statement per service and resource list.
    let sids: Vec<&str> = policy["Statement"].as_array().unwrap().iter().map(|x| x["Sid"].as_str().unwrap()).collect();
    assert_eq!(sids, ["Ec2", "S31", "S32"]);
    // Without generalisation: the seven objects.
    let exact = check(&text, 0).to_string();
    assert!(exact.contains("q7.csv") && !exact.contains("2026/*"), "{exact}");
}

#[test]
fn a_denied_sibling_stops_generalisation() {
    let denied =
        line(&bob(), "s3:GetObject", "arn:aws:s3:::reports/2026/board.csv", "implicitDeny", "2026-03-02T12:00:00Z");
    let policy = check(&log(&[denied]), 5).to_string();
    assert!(!policy.contains("reports/2026/*"), "{policy}");
    assert!(policy.contains("q1.csv"), "{policy}");
}

#[test]
fn malformed_lines_are_reported_with_their_number_and_never_counted() {
    let good = line(&alice(), "s3:GetObject", "arn:aws:s3:::reports/2026/q1.csv", "allowed", "2026-03-01T00:00:00Z");
    let text = [
        good.clone(),
        "{not json".to_owned(),
        json!({"principal": alice(), "action": "s3:DeleteBucket", "decision": "allowed"}).to_string(),
        json!({"principal": alice(), "action": "s3:DeleteBucket", "resource": "arn:aws:s3:::reports", "decision": "maybe"}).to_string(),
        String::new(),
        json!({"principal": alice(), "action": "DeleteBucket", "resource": "arn:aws:s3:::reports", "decision": "allowed"}).to_string(),
        good,
    ]
    .join("\n");
    let summary = read_log(text.as_bytes(), &LogFilter::default()).unwrap();
    let lines: Vec<u64> = summary.problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [2, 3, 4, 6]);
    assert_eq!(summary.malformed, 4);
    assert!(summary.problems[1].message.contains("resource"), "{}", summary.problems[1]);
    assert!(summary.problems[2].message.contains("maybe"));
    let policy = generate_policy(&summary, &alice(), 5).unwrap().to_string();
    assert!(!policy.contains("DeleteBucket"), "{policy}");
}

#[test]
fn a_line_that_is_not_utf8_is_reported_and_skipped() {
    let good = line(&alice(), "s3:GetObject", "arn:aws:s3:::reports/2026/q1.csv", "allowed", "2026-03-01T00:00:00Z");
    let bad = line(&alice(), "s3:DeleteBucket", "arn:aws:s3:::reports", "allowed", "2026-03-01T00:00:00Z");
    let mut text: Vec<u8> = Vec::new();
    text.extend_from_slice(good.as_bytes());
    text.push(b'\n');
    // The resource of the second line holds a byte that is not UTF-8.
    text.extend_from_slice(bad.replace("reports", "rep\u{fffd}orts").as_bytes());
    let at = text.iter().rposition(|&b| b == 0xef).unwrap();
    text.splice(at..at + 3, [0xff]);
    text.push(b'\n');
    text.extend_from_slice(good.as_bytes());
    let summary = read_log(text.as_slice(), &LogFilter::default()).unwrap();
    assert_eq!(summary.lines, 3);
    assert_eq!(summary.malformed, 1);
    assert_eq!(summary.problems[0].line, 2, "{:?}", summary.problems);
    let policy = generate_policy(&summary, &alice(), 5).unwrap().to_string();
    assert!(!policy.contains("DeleteBucket"), "{policy}");
}

#[test]
fn since_and_principal_filter_and_sessions_count_as_their_role() {
    let text = log(&[]);
    let later =
        read_log(text.as_bytes(), &LogFilter { principal: Some(alice()), since: Some("2026-03-02".into()) }).unwrap();
    let p = generate_policy(&later, &alice(), 5).unwrap().to_string();
    assert!(p.contains("PutObject") && !p.contains("GetObject"), "{p}");
    let role = format!("arn:aws:iam::{A}:role/ops/worker");
    assert_eq!(principal_key(&role), format!("arn:aws:sts::{A}:assumed-role/worker"));
    let all = read_log(text.as_bytes(), &LogFilter::default()).unwrap();
    let p = generate_policy(&all, &role, 5).unwrap().to_string();
    assert!(p.contains("sqs:SendMessage"), "{p}");
    assert!(generate_policy(&all, &format!("arn:aws:iam::{A}:user/nobody"), 5).is_none());
    assert!(all.principals().any(|k| k == alice()));
}

#[test]
fn a_long_log_streams() {
    // 200,000 lines through a reader: what is kept is the distinct pairs, not the lines.
    struct Lines(u64);
    impl std::io::Read for Lines {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0 == 0 {
                return Ok(0);
            }
            self.0 -= 1;
            let l = line(
                &alice(),
                "s3:GetObject",
                &format!("arn:aws:s3:::big/{}", self.0 % 50),
                "allowed",
                "2026-01-01T00:00:00Z",
            ) + "\n";
            let n = l.len().min(buf.len());
            buf[..n].copy_from_slice(&l.as_bytes()[..n]);
            Ok(n)
        }
    }
    let reader = std::io::BufReader::new(Lines(200_000));
    let summary = read_log(std::io::BufReader::new(reader), &LogFilter::default()).unwrap();
    assert_eq!(summary.lines, 200_000);
    assert_eq!(summary.malformed, 0);
    let p = generate_policy(&summary, &alice(), 5).unwrap();
    assert_eq!(p["Statement"][0]["Resource"], json!(["arn:aws:s3:::big/*"]));
}

#[test]
fn unused_lists_granted_actions_never_used() {
    let store = Store::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies")).unwrap();
    let snapshot = Snapshot::new(store);
    let alice = format!("arn:aws:iam::{A}:user/dev/alice");
    let text = line(&alice, "s3:GetObject", "arn:aws:s3:::example-reports/q1.csv", "allowed", "2026-03-01T00:00:00Z");
    let summary = read_log(text.as_bytes(), &LogFilter::default()).unwrap();
    let report = unused(&snapshot, &summary);
    let a = report.iter().find(|u| u.principal == alice).unwrap();
    assert_eq!(a.used, ["s3:GetObject"]);
    assert!(a.unused.contains(&"s3:ListBucket".to_owned()), "{a:?}");
    assert_eq!(a.granted, a.used.len() + a.unused.len());
}

//! The analysis commands run as a user runs them, on the embedded default store: `access`,
//! `who-can`, `escalation` (text, json, dot; exit 1 when a path exists), `generate-policy`
//! (malformed log lines on stderr with their number; the policy passes `keycard validate`) and
//! `unused`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use serde_json::{json, Value};
use std::process::{Command, Output};

mod common;

use common::{temp_dir, KEYCARD};

const ALICE: &str = "arn:aws:iam::111122223333:user/dev/alice";

fn run(args: &[&str]) -> Output {
    Command::new(KEYCARD).args(args).output().unwrap()
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn access_in_text_and_json() {
    let out = run(&["access", ALICE]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("s3:GetObject") && text.contains("taken away:"), "{text}");
    let v = stdout_json(&run(&["access", ALICE, "--service", "s3", "--format", "json"]));
    assert_eq!(v["principal"], ALICE);
    assert!(v["permissions"].as_array().unwrap().iter().all(|p| p["action"].as_str().unwrap().starts_with("s3:")));
    assert!(!v["denied"].as_array().unwrap().is_empty(), "alice's office-network Deny is listed");
    let out = run(&["access", "arn:aws:iam::111122223333:user/nobody"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a user, role or role session"));
}

#[test]
fn who_can_in_text_and_json() {
    let args = ["who-can", "s3:GetObject", "arn:aws:s3:::example-reports/2026/q1.csv"];
    let ctx = r#"{"aws:SourceIp": "203.0.113.7"}"#;
    let v = stdout_json(&run(&[&args[..], &["--context", ctx, "--format", "json"]].concat()));
    assert_eq!(v["action"], "s3:GetObject");
    let alice = v["principals"].as_array().unwrap().iter().find(|p| p["principal"] == ALICE).unwrap();
    assert_eq!(alice["via"], "identity");
    assert!(!alice["matched"].as_array().unwrap().is_empty());
    // Outside the office network alice's Deny applies.
    let v = stdout_json(&run(
        &[&args[..], &["--context", r#"{"aws:SourceIp": "198.51.100.9"}"#, "--format", "json"]].concat()
    ));
    assert!(!v["principals"].as_array().unwrap().iter().any(|p| p["principal"] == ALICE), "{v}");
    let out = run(&args);
    assert!(String::from_utf8_lossy(&out.stdout).contains("principals"));
    assert_eq!(run(&[&args[..], &["--context", "{bad"]].concat()).status.code(), Some(2));
}

#[test]
fn escalation_formats_and_exit_codes() {
    let out = run(&["escalation", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "the default store has no path to admin");
    let v = stdout_json(&out);
    assert!(v["admins"].is_array() && v["paths"].as_array().unwrap().is_empty());
    let out = run(&["escalation", "--format", "dot", "--context", r#"{"aws:MultiFactorAuthPresent": "true"}"#]);
    let dot = String::from_utf8_lossy(&out.stdout);
    assert!(dot.starts_with("digraph escalation") && dot.contains("fillcolor"), "{dot}");

    // A store with a path: exit 1.
    let dir = temp_dir("escalation-cli");
    let doc = |s: Value| json!({"Version": "2012-10-17", "Statement": s});
    let store = json!({"AccountId": "111122223333", "UserDetailList": [
        {"UserName": "admin", "Path": "/", "UserPolicyList": [{"PolicyName": "all", "PolicyDocument": doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]))}]},
        {"UserName": "mallory", "Path": "/", "UserPolicyList": [{"PolicyName": "keys", "PolicyDocument": doc(json!([{"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "arn:aws:iam::111122223333:user/admin"}]))}]}
    ]});
    std::fs::write(dir.join("account.json"), store.to_string()).unwrap();
    let out = run(&["escalation", "--policies", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("user/mallory => arn:aws:iam::111122223333:user/admin") && text.contains("create-access-key"),
        "{text}"
    );
}

#[test]
fn generate_policy_reports_bad_lines_and_passes_validate() {
    let dir = temp_dir("generate-cli");
    let log = dir.join("decisions.jsonl");
    let line = |action: &str, resource: &str, decision: &str| {
        json!({"eventTime": "2026-03-01T10:00:00Z", "principal": ALICE, "action": action, "resource": resource, "decision": decision, "snapshot": "x"})
            .to_string()
    };
    let lines = [
        line("s3:GetObject", "arn:aws:s3:::example-reports/2026/q1.csv", "allowed"),
        "garbage".to_owned(),
        line("s3:ListBucket", "arn:aws:s3:::example-reports", "allowed"),
        line("s3:DeleteBucket", "arn:aws:s3:::example-reports", "explicitDeny"),
    ];
    std::fs::write(&log, lines.join("\n")).unwrap();
    let out = run(&["generate-policy", "--decision-log", log.to_str().unwrap(), "--principal", ALICE]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 2:"), "{}", String::from_utf8_lossy(&out.stderr));
    let policy = stdout_json(&out);
    assert!(!policy.to_string().contains("DeleteBucket"));
    // The policy, as a user's only policy, passes `keycard validate`.
    let store = dir.join("store");
    std::fs::create_dir_all(&store).unwrap();
    let account = json!({"AccountId": "111122223333", "UserDetailList": [
        {"UserName": "alice", "Path": "/dev/", "UserPolicyList": [{"PolicyName": "generated", "PolicyDocument": policy}]}]});
    std::fs::write(store.join("account.json"), account.to_string()).unwrap();
    let out = run(&["validate", "--policies", store.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    // A principal without activity: exit 1.
    let out = run(&[
        "generate-policy",
        "--decision-log",
        log.to_str().unwrap(),
        "--principal",
        "arn:aws:iam::111122223333:user/bob",
    ]);
    assert_eq!(out.status.code(), Some(1));
    // Without --principal: one policy per principal.
    let all = stdout_json(&run(&["generate-policy", "--decision-log", log.to_str().unwrap()]));
    assert!(all[ALICE]["Statement"].is_array(), "{all}");
    // unused: alice used GetObject and ListBucket.
    let v = stdout_json(&run(&["unused", "--decision-log", log.to_str().unwrap(), "--format", "json"]));
    assert_eq!(v["malformedLines"], 1);
    let a = v["principals"].as_array().unwrap().iter().find(|p| p["principal"] == ALICE).unwrap();
    assert_eq!(a["used"], json!(["s3:GetObject", "s3:ListBucket"]));
    assert!(a["unused"].as_array().unwrap().iter().any(|x| x == "s3:GetBucketLocation"), "{a}");
    assert_eq!(run(&["unused", "--decision-log", "/nonexistent/log"]).status.code(), Some(2));
}

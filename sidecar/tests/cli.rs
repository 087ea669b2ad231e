//! The `keycard` command line, run as a user runs it: exit codes, output, errors.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

mod common;

use common::{temp_dir, KEYCARD};

fn policies() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies")
}

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(KEYCARD)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // keycard may exit before reading stdin (a broken store): ignore a broken pipe.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

const STORE: &str = r#"{"AccountId": "111122223333", "UserDetailList": [{"UserName": "alice", "Path": "/",
  "UserPolicyList": [{"PolicyName": "P", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
    {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/secret/*"}]}}]}]}"#;

fn small_store(name: &str) -> PathBuf {
    let dir = temp_dir(name);
    std::fs::write(dir.join("account.json"), STORE).unwrap();
    dir
}

fn req(resource: &str) -> String {
    format!(
        r#"{{"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject", "resource": "{resource}"}}"#
    )
}

#[test]
fn validate_accepts_the_default_store() {
    let out = run(&["validate", "--policies", policies().to_str().unwrap()], "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("ok: "), "{stdout}");
    assert!(!stdout.contains("error"), "{stdout}");
}

#[test]
fn validate_reports_three_broken_files_with_pointers() {
    let dir = temp_dir("broken");
    std::fs::write(dir.join("good.json"), STORE).unwrap();
    std::fs::write(
        dir.join("a.json"),
        r#"{"AccountId": "111122223333", "UserDetailList": [{"UserName": "u1", "UserPolicyList": [{"PolicyName": "P",
          "PolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
          {"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": {"StringLik": {"s3:prefix": "a"}}}]}}]}]}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("b.json"),
        r#"{"AccountId": "111122223333", "GroupDetailList": [{"GroupName": "g", "GroupPolicyList": [{"PolicyName": "P",
          "PolicyDocument": {"Version": "2012-10-17", "Statement": {"effect": "Allow", "Action": "s3:*", "Resource": "*"}}}]}]}"#,
    )
    .unwrap();
    std::fs::write(dir.join("c.json"), r#"{"AccountId": "111122223333", "UserDetailList": [ "#).unwrap();
    let out = run(&["validate", "--policies", dir.to_str().unwrap()], "");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let errors: Vec<&str> = stdout.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 3, "{stdout}");
    assert!(errors.iter().any(|l| l.contains("a.json: /UserDetailList/0/UserPolicyList/0/PolicyDocument/Statement/1/Condition/StringLik: unknown condition operator") && l.contains("did you mean StringLike")), "{stdout}");
    assert!(
        errors.iter().any(|l| l
            .contains("b.json: /GroupDetailList/0/GroupPolicyList/0/PolicyDocument/Statement/effect: unknown element")),
        "{stdout}"
    );
    assert!(errors.iter().any(|l| l.contains("c.json") && l.contains("invalid JSON")), "{stdout}");
}

#[test]
fn authorize_exit_codes_follow_the_decision() {
    let dir = small_store("exit");
    let p = dir.to_str().unwrap();
    let allowed = run(&["authorize", "--policies", p], &req("arn:aws:s3:::b/k"));
    assert_eq!(allowed.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&allowed.stdout).unwrap();
    assert_eq!(v["decision"], "allowed");
    assert_eq!(v["snapshot"].as_str().unwrap().len(), 8);
    assert!(v.get("matched").is_none(), "no explanation unless asked");

    let denied = run(&["authorize", "--policies", p, "--explain"], &req("arn:aws:s3:::b/secret/k"));
    assert_eq!(denied.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&denied.stdout).unwrap();
    assert_eq!(v["decision"], "explicitDeny");
    assert!(v["matched"].as_array().unwrap().iter().any(|m| m["effect"] == "Deny" && m["kind"] == "identity"));

    let implicit = run(&["authorize", "--policies", p], &req("arn:aws:s3:::other/k"));
    assert_eq!(implicit.status.code(), Some(1));

    let file = temp_dir("exit-request").join("request.json");
    std::fs::write(&file, req("arn:aws:s3:::b/k")).unwrap();
    let from_file = run(&["authorize", "--policies", p, file.to_str().unwrap()], "");
    assert_eq!(from_file.status.code(), Some(0));
}

#[test]
fn malformed_requests_are_errors_never_allowed() {
    let dir = small_store("malformed");
    let p = dir.to_str().unwrap();
    let cases = [
        (r#"{"action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}"#, "/principal"),
        (
            r#"{"principal": "arn:aws:iam::111122223333:user/alice", "action": 7, "resource": "arn:aws:s3:::b/k"}"#,
            "/action",
        ),
        (r#"{"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject"}"#, "/resource"),
        (
            r#"{"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k", "context": {"aws:username": "root"}}"#,
            "/context/aws:username",
        ),
        (
            r#"{"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k", "context": {"aws:PrincipalTag/team": "x"}}"#,
            "aws:PrincipalTag/team",
        ),
        (
            r#"{"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject", "resource": "#,
            "invalid JSON",
        ),
        (
            r#"{"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k", "contxt": {}}"#,
            "/contxt",
        ),
    ];
    for (body, field) in cases {
        let out = run(&["authorize", "--policies", p], body);
        assert_eq!(out.status.code(), Some(2), "{body}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v.get("decision").is_none(), "{body}");
        assert!(v["error"].as_str().unwrap().contains(field), "{body}: {v}");
    }
}

#[test]
fn broken_store_exits_2() {
    let dir = temp_dir("nostore");
    std::fs::write(dir.join("x.json"), "[]").unwrap();
    let out = run(&["authorize", "--policies", dir.to_str().unwrap()], &req("arn:aws:s3:::b/k"));
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["authorize", "--policies", dir.to_str().unwrap(), "--jsonl"], &req("arn:aws:s3:::b/k"));
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn embedded_default_store_answers_without_policies_flag() {
    let out = run(&["validate"], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    // No statement of the default store lets an unknown user do anything.
    let body = r#"{"principal": "arn:aws:iam::111122223333:user/nobody", "action": "s3:GetObject", "resource": "arn:aws:s3:::x/y", "explain": true}"#;
    let out = run(&["authorize"], body);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["decision"], "implicitDeny");
    assert_eq!(
        v["notes"],
        serde_json::json!(["unknown principal: no user arn:aws:iam::111122223333:user/nobody in the store"])
    );
}

/// 100,000 lines stream through in order, bad lines answered with an error, while the writer
/// is still producing input (so keycard cannot be reading everything before answering).
#[test]
fn jsonl_streams_100k_lines_in_order() {
    let dir = small_store("jsonl");
    let mut child = Command::new(KEYCARD)
        .args(["authorize", "--policies", dir.to_str().unwrap(), "--jsonl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut buf = std::io::BufWriter::new(&mut stdin);
        for i in 0..100_000u32 {
            let line = match i % 3 {
                0 => req("arn:aws:s3:::b/k"),
                1 => req("arn:aws:s3:::b/secret/k"),
                _ => "{not json".to_owned(),
            };
            writeln!(buf, "{line}").unwrap();
        }
    });
    let reader = BufReader::new(child.stdout.take().unwrap());
    let mut n = 0u32;
    for line in reader.lines() {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        match n % 3 {
            0 => assert_eq!(v["decision"], "allowed", "line {n}"),
            1 => assert_eq!(v["decision"], "explicitDeny", "line {n}"),
            _ => assert!(v["error"].as_str().unwrap().contains("invalid JSON"), "line {n}"),
        }
        n += 1;
    }
    writer.join().unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(n, 100_000);
}

//! `keycard lint`, `keycard catalog` and `keycard validate`'s catalogue warnings, run as a user
//! runs them: exit codes 0/1/2, formats.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::process::{Command, Output};

mod common;

use common::{temp_dir, KEYCARD};

fn run(args: &[&str]) -> Output {
    Command::new(KEYCARD).args(args).output().unwrap()
}

const RISKY: &str = r#"{"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": ["s3:GetObjekt", "s3:*"], "Resource": "arn:aws:s3:::b/*"}]}"#;

#[test]
fn lint_exit_codes_follow_fail_on() {
    let dir = temp_dir("lint-exit");
    let file = dir.join("p.json");
    std::fs::write(&file, RISKY).unwrap();
    let f = file.to_str().unwrap();
    // Warnings only: below the default threshold (security), at or above "warning".
    let out = run(&["lint", f]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    assert_eq!(run(&["lint", "--fail-on", "warning", f]).status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&run(&["lint", "--format", "json", f]).stdout).unwrap();
    let checks: Vec<&str> = json["findings"].as_array().unwrap().iter().map(|f| f["check"].as_str().unwrap()).collect();
    assert!(checks.contains(&"UNKNOWN_ACTION") && checks.contains(&"SERVICE_WILDCARD"), "{checks:?}");
    let sarif: serde_json::Value = serde_json::from_slice(&run(&["lint", "--format", "sarif", f]).stdout).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    std::fs::write(dir.join("bad.json"), "{").unwrap();
    assert_eq!(run(&["lint", dir.join("bad.json").to_str().unwrap()]).status.code(), Some(2));
    assert_eq!(run(&["lint", dir.join("missing.json").to_str().unwrap()]).status.code(), Some(2));
}

#[test]
fn validate_warns_about_unknown_actions_but_stays_valid() {
    let dir = temp_dir("lint-validate");
    std::fs::write(
        dir.join("account.json"),
        r#"{"AccountId": "111122223333", "UserDetailList": [{"UserName": "u", "Path": "/",
  "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement":
    {"Effect": "Allow", "Action": "s3:GetObjekt", "Resource": "arn:aws:s3:::bucket"}}}]}]}"#,
    )
    .unwrap();
    let out = run(&["validate", "--policies", dir.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("warning:") && text.contains("did you mean s3:GetObject?"), "{text}");
}

#[test]
fn catalog_shows_actions_and_wildcards() {
    let out = run(&["catalog", "s3:GetObject"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text.contains("access level: Read") && text.contains("arn:${Partition}:s3:::${BucketName}/${ObjectName}"),
        "{text}"
    );
    let out = run(&["catalog", "s3:Get*"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("s3:GetBucketPolicy"));
    assert_eq!(run(&["catalog", "s3:GetObjekt"]).status.code(), Some(1));
}

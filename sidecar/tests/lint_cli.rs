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

#[test]
fn audit_reports_and_refuses_a_malformed_report() {
    let dir = temp_dir("audit-cli");
    let header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
    let root = "<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00,not_supported,N/A,not_supported,not_supported,false,true,2021-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";
    let report = dir.join("report.csv");
    std::fs::write(&report, format!("{header}\n{root}\n")).unwrap();
    let out =
        run(&["audit", "--credential-report", report.to_str().unwrap(), "--as-of", "2026-12-01", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let found: Vec<(&str, &str)> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["check"].as_str().unwrap(), f["principal"].as_str().unwrap()))
        .collect();
    assert!(found.contains(&("ROOT_ACCESS_KEY", "arn:aws:iam::111122223333:root")), "{found:?}");
    assert!(found.contains(&("ROOT_NO_MFA", "arn:aws:iam::111122223333:root")), "{found:?}");
    std::fs::write(&report, format!("{header}\n{root}\n{}\n", root.replace("false,true", "false,maybe"))).unwrap();
    let out = run(&["audit", "--credential-report", report.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no partial audit on stdout");
    assert!(String::from_utf8_lossy(&out.stderr).contains("line 3"), "{}", String::from_utf8_lossy(&out.stderr));
}

//! `keycard audit`: each check triggers on an account that breaks the practice and not on one
//! that follows it; ADMIN_PRINCIPAL asks the decision index, so a `*` cut by a Deny, a boundary
//! or an SCP is no finding; a malformed credential report is an error naming its line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use keycard::audit::{audit, parse_date, to_json, AuditError, AUDIT_CHECKS};
use serde_json::{json, Value};

const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

fn now() -> i64 {
    parse_date("2026-12-01T00:00:00Z").unwrap()
}

/// A report row: (user, password_enabled, password_last_used, mfa, key1 (active, rotated, used),
/// key2 (active, rotated, used)).
#[allow(clippy::type_complexity)]
fn row(user: &str, pw: &str, pw_used: &str, mfa: bool, k1: (bool, &str, &str), k2: (bool, &str, &str)) -> String {
    let arn = if user == "<root_account>" {
        "arn:aws:iam::111122223333:root".to_owned()
    } else {
        format!("arn:aws:iam::111122223333:user/{user}")
    };
    format!(
        "{user},{arn},2024-01-01T00:00:00+00:00,{pw},{pw_used},N/A,N/A,{mfa},{},{},{},us-east-1,s3,{},{},{},N/A,N/A,false,N/A,false,N/A",
        k1.0, k1.1, k1.2, k2.0, k2.1, k2.2
    )
}

const NO_KEY: (bool, &str, &str) = (false, "N/A", "N/A");
const RECENT: &str = "2026-11-20T00:00:00+00:00";
const OLD: &str = "2025-06-01T00:00:00+00:00";

fn checks_of(store: &Value, report: Option<&str>) -> Vec<(String, String)> {
    let docs = vec![("account.json".to_owned(), store.to_string())];
    audit(&docs, report, now()).unwrap().into_iter().map(|f| (f.check.to_owned(), f.principal)).collect()
}

fn has(found: &[(String, String)], check: &str) -> bool {
    found.iter().any(|(c, _)| c == check)
}

fn empty_store() -> Value {
    json!({"AccountId": "111122223333"})
}

#[test]
fn report_checks_trigger_on_bad_rows_and_not_on_good_ones() {
    // (check, offending rows, healthy rows)
    let good_root = row("<root_account>", "not_supported", OLD, true, NO_KEY, NO_KEY);
    let good_user = row("alice", "true", RECENT, true, (true, RECENT, RECENT), NO_KEY);
    let cases = [
        (
            "ROOT_ACCESS_KEY",
            row("<root_account>", "not_supported", OLD, true, (true, OLD, OLD), NO_KEY),
            good_root.clone(),
        ),
        ("ROOT_NO_MFA", row("<root_account>", "not_supported", OLD, false, NO_KEY, NO_KEY), good_root.clone()),
        ("ROOT_USED_RECENTLY", row("<root_account>", "not_supported", RECENT, true, NO_KEY, NO_KEY), good_root.clone()),
        ("CONSOLE_USER_NO_MFA", row("alice", "true", RECENT, false, NO_KEY, NO_KEY), good_user.clone()),
        ("ACCESS_KEY_NOT_ROTATED", row("alice", "true", RECENT, true, (true, OLD, RECENT), NO_KEY), good_user.clone()),
        ("ACCESS_KEY_UNUSED", row("alice", "true", RECENT, true, (true, RECENT, "N/A"), NO_KEY), good_user.clone()),
        (
            "TWO_ACTIVE_KEYS",
            row("alice", "true", RECENT, true, (true, RECENT, RECENT), (true, RECENT, RECENT)),
            good_user.clone(),
        ),
        ("INACTIVE_USER", row("alice", "true", OLD, true, (true, RECENT, OLD), NO_KEY), good_user.clone()),
    ];
    for (check, bad, good) in cases {
        let found = checks_of(&empty_store(), Some(&format!("{HEADER}\n{bad}\n")));
        assert!(has(&found, check), "{check} not found for {bad}: {found:?}");
        let found = checks_of(&empty_store(), Some(&format!("{HEADER}\n{good}\n")));
        assert!(!has(&found, check), "{check} found for {good}: {found:?}");
    }
    let found = checks_of(
        &empty_store(),
        Some(&format!("{HEADER}\n{}\n", row("<root_account>", "not_supported", OLD, false, NO_KEY, NO_KEY))),
    );
    assert_eq!(found[0].1, "arn:aws:iam::111122223333:root", "the root user's principal is the account root ARN");
}

fn user(name: &str, extra: Value) -> Value {
    let mut u = json!({"UserName": name, "Path": "/", "CreateDate": "2024-01-01T00:00:00Z"});
    if let (Some(obj), Some(more)) = (u.as_object_mut(), extra.as_object()) {
        obj.extend(more.clone());
    }
    u
}

fn inline(statements: Value) -> Value {
    json!([{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}])
}

fn admin_group(extra_statements: Value) -> Value {
    let mut statements = vec![json!({"Effect": "Allow", "Action": "*", "Resource": "*"})];
    statements.extend(extra_statements.as_array().cloned().unwrap_or_default());
    json!({"GroupName": "admins", "Path": "/", "GroupPolicyList": inline(Value::Array(statements))})
}

#[test]
fn store_checks_trigger_and_do_not() {
    let store = json!({"AccountId": "111122223333",
        "UserDetailList": [
            user("inline", json!({"UserPolicyList": inline(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]))})),
            user("attached", json!({"AttachedManagedPolicies": [{"PolicyName": "M", "PolicyArn": "arn:aws:iam::111122223333:policy/M"}]})),
            user("grouped", json!({"GroupList": ["readers"]})),
        ],
        "GroupDetailList": [{"GroupName": "readers", "Path": "/"}, {"GroupName": "nobody", "Path": "/"}],
        "Policies": [{"PolicyName": "M", "Arn": "arn:aws:iam::111122223333:policy/M", "DefaultVersionId": "v1",
            "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}}]}],
        "RoleDetailList": [
            {"RoleName": "stale", "Path": "/", "CreateDate": "2024-01-01T00:00:00Z", "RoleLastUsed": {"LastUsedDate": OLD},
             "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}},
            {"RoleName": "busy", "Path": "/", "CreateDate": "2024-01-01T00:00:00Z", "RoleLastUsed": {"LastUsedDate": RECENT},
             "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}},
            {"RoleName": "guarded", "Path": "/", "CreateDate": "2026-11-01T00:00:00Z",
             "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}]}}],
        "Credentials": [
            {"AccessKeyId": "AKIAOLDKEY0000000001", "SecretAccessKey": "x".repeat(40), "UserName": "grouped",
             "Status": "Active", "CreateDate": OLD},
            {"AccessKeyId": "AKIANEWKEY0000000002", "SecretAccessKey": "y".repeat(40), "UserName": "grouped",
             "Status": "Active", "CreateDate": RECENT, "LastUsedDate": RECENT}]});
    let found = checks_of(&store, None);
    let arn = |kind: &str, name: &str| format!("arn:aws:iam::111122223333:{kind}/{name}");
    let expect = |check: &str, who: String, yes: bool| {
        assert_eq!(found.contains(&(check.to_owned(), who.clone())), yes, "{check} {who}: {found:?}");
    };
    expect("USER_INLINE_POLICY", arn("user", "inline"), true);
    expect("USER_INLINE_POLICY", arn("user", "grouped"), false);
    expect("USER_ATTACHED_POLICY", arn("user", "attached"), true);
    expect("USER_ATTACHED_POLICY", arn("user", "grouped"), false);
    expect("EMPTY_GROUP", arn("group", "nobody"), true);
    expect("EMPTY_GROUP", arn("group", "readers"), false);
    expect("UNUSED_ROLE", arn("role", "stale"), true);
    expect("UNUSED_ROLE", arn("role", "busy"), false);
    expect("UNUSED_ROLE", arn("role", "guarded"), false);
    expect("ROLE_TRUST_PUBLIC", arn("role", "busy"), true);
    expect("ROLE_TRUST_PUBLIC", arn("role", "guarded"), false);
    expect("ACCESS_KEY_NOT_ROTATED", arn("user", "grouped"), true);
    expect("TWO_ACTIVE_KEYS", arn("user", "grouped"), true);
    expect("TWO_ACTIVE_KEYS", arn("user", "inline"), false);
}

fn admin_store(group_extra: Value, user_extra: Value, org: Option<Value>) -> Value {
    let mut store = json!({"AccountId": "111122223333",
        "UserDetailList": [user("root-ish", user_extra), user("reader", json!({}))],
        "GroupDetailList": [admin_group(group_extra)],
        "Policies": [{"PolicyName": "B", "Arn": "arn:aws:iam::111122223333:policy/B", "DefaultVersionId": "v1",
            "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": ["s3:*", "ec2:*"], "Resource": "*"}]}}]}]});
    store["UserDetailList"][0]["GroupList"] = json!(["admins"]);
    if let Some(org) = org {
        store["Organization"] = org;
    }
    store
}

fn admins(store: &Value) -> Vec<String> {
    checks_of(store, None).into_iter().filter(|(c, _)| c == "ADMIN_PRINCIPAL").map(|(_, p)| p).collect()
}

#[test]
fn admin_principal_comes_from_decisions_not_strings() {
    let who = "arn:aws:iam::111122223333:user/root-ish".to_owned();
    assert_eq!(admins(&admin_store(json!([]), json!({}), None)), vec![who.clone()]);
    // An admin who must use MFA is still an admin.
    let mfa = json!([{"Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]);
    assert_eq!(admins(&admin_store(mfa, json!({}), None)), vec![who]);
    // A Deny of a whole service cuts `*`.
    let deny_iam = json!([{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]);
    assert!(admins(&admin_store(deny_iam, json!({}), None)).is_empty());
    // So does a permissions boundary.
    let boundary = json!({"PermissionsBoundary": {"PermissionsBoundaryType": "Policy",
        "PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/B"}});
    assert!(admins(&admin_store(json!([]), boundary, None)).is_empty());
    // And an SCP that allows only some services.
    let org = json!({"ManagementAccount": "999999999999",
        "Accounts": [{"Id": "111122223333", "Parents": ["r-root"]}],
        "ServiceControlPolicies": [{"Name": "OnlyS3", "Targets": ["r-root"],
            "Policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}}]});
    assert!(admins(&admin_store(json!([]), json!({}), Some(org))).is_empty());
    // "Everything but IAM" by NotAction is not `*` on `*`.
    let store = json!({"AccountId": "111122223333", "UserDetailList": [user("almost",
        json!({"UserPolicyList": inline(json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]))}))]});
    assert!(admins(&store).is_empty());
}

#[test]
fn a_malformed_report_is_an_error_naming_its_line_not_a_partial_audit() {
    let good = row("alice", "true", RECENT, false, NO_KEY, NO_KEY);
    let bad = row("bob", "true", RECENT, false, NO_KEY, NO_KEY).replace(",true,", ",yes,");
    let docs = vec![("account.json".to_owned(), empty_store().to_string())];
    let err = audit(&docs, Some(&format!("{HEADER}\n{good}\n{bad}\n")), now()).unwrap_err();
    match err {
        AuditError::Report(e) => assert_eq!(e.line, 3, "{e}"),
        other => panic!("expected a report error, got {other}"),
    }
}

#[test]
fn json_has_the_documented_shape_and_every_check_is_listed() {
    let docs = vec![("account.json".to_owned(), empty_store().to_string())];
    let report = format!("{HEADER}\n{}\n", row("<root_account>", "not_supported", OLD, false, NO_KEY, NO_KEY));
    let findings = audit(&docs, Some(&report), now()).unwrap();
    let j = to_json(&findings);
    let f = &j["findings"][0];
    for key in ["check", "severity", "principal", "message", "fix"] {
        assert!(f.get(key).is_some(), "{key} missing in {f}");
    }
    assert_eq!(AUDIT_CHECKS.len(), 14);
}

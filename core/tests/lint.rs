//! `keycard lint`: every check ID has a policy that triggers it and one that does not; the
//! SARIF output validates against the SARIF 2.1.0 schema; pointers resolve to the right line.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use keycard::lint::{lint_documents, render, Finding, CHECKS};
use serde_json::json;

fn lint(text: &str) -> Vec<Finding> {
    lint_documents(&[("p.json".to_owned(), text.to_owned())]).unwrap()
}

fn checks(text: &str) -> Vec<&'static str> {
    lint(text).into_iter().map(|f| f.check).collect()
}

/// An identity policy with these statements.
fn identity(statements: serde_json::Value) -> String {
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

/// A store with user `u` (account 111122223333) holding these inline statements.
fn user(statements: serde_json::Value) -> String {
    json!({"AccountId": "111122223333", "UserDetailList": [{"UserName": "u", "Path": "/",
        "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}]}]})
    .to_string()
}

/// (check, a document that triggers it, a document that does not).
fn cases() -> Vec<(&'static str, String, String)> {
    let stmt = |action: &str, resource: &str| json!({"Effect": "Allow", "Action": action, "Resource": resource});
    vec![
        (
            "POLICY_SYNTAX",
            identity(json!([{"Effect": "Alow", "Action": "s3:GetObject", "Resource": "*"}])),
            identity(json!([stmt("s3:GetObject", "arn:aws:s3:::b/*")])),
        ),
        ("ADMIN_ACCESS", identity(json!([stmt("*", "*")])), identity(json!([stmt("*", "arn:aws:s3:::b/*")]))),
        (
            "SERVICE_WILDCARD",
            identity(json!([stmt("s3:*", "arn:aws:s3:::b/*")])),
            identity(json!([stmt("s3:Get*", "arn:aws:s3:::b/*")])),
        ),
        (
            "PASS_ROLE_WILDCARD",
            identity(json!([stmt("iam:PassRole", "*")])),
            identity(json!([{"Effect": "Allow", "Action": "iam:PassRole",
                "Resource": "arn:aws:iam::111122223333:role/app",
                "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}}])),
        ),
        (
            "PRIVILEGE_ESCALATION",
            identity(json!([stmt("iam:CreatePolicyVersion", "*")])),
            identity(json!([stmt("iam:GetPolicyVersion", "*")])),
        ),
        (
            "CREDENTIALS_EXPOSURE",
            identity(json!([stmt("ecr:GetAuthorizationToken", "*")])),
            identity(json!([{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}])),
        ),
        (
            "DATA_EXFILTRATION",
            identity(json!([stmt("s3:GetObject", "*")])),
            identity(json!([stmt("s3:GetObject", "arn:aws:s3:::b/*")])),
        ),
        (
            "RESOURCE_EXPOSURE",
            identity(json!([stmt("s3:PutBucketPolicy", "*")])),
            identity(json!([stmt("s3:PutBucketPolicy", "arn:aws:s3:::b")])),
        ),
        (
            "PUBLIC_RESOURCE_POLICY",
            identity(
                json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]),
            ),
            identity(json!([{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::b/*", "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}])),
        ),
        (
            "TRUST_ANY_ACCOUNT_ROOT",
            identity(json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                "Action": "sts:AssumeRole"}])),
            identity(json!([{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"sts:ExternalId": "x-123"}}}])),
        ),
        (
            "ALLOW_WITH_NOT_ACTION",
            identity(json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}])),
            identity(json!([{"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}])),
        ),
        (
            "ALLOW_WITH_NOT_RESOURCE",
            identity(json!([{"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"}])),
            identity(json!([{"Effect": "Deny", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::public/*"}])),
        ),
        (
            "ALLOW_WITH_NOT_PRINCIPAL",
            identity(json!([{"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}])),
            identity(json!([{"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"},
                "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}])),
        ),
        (
            "FORALLVALUES_WITH_ALLOW",
            identity(json!([{"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
                "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}}])),
            identity(json!([{"Effect": "Allow", "Action": "ec2:CreateTags", "Resource": "*",
                "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}, "Null": {"aws:TagKeys": "false"}}}])),
        ),
        (
            "FORANYVALUE_ON_SINGLE_VALUED_KEY",
            identity(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
                "Condition": {"ForAnyValue:StringEquals": {"aws:PrincipalAccount": "111122223333"}}}])),
            identity(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
                "Condition": {"StringEquals": {"aws:PrincipalAccount": "111122223333"}}}])),
        ),
        (
            "SINGLE_VALUED_OPERATOR_ON_MULTIVALUED_KEY",
            identity(json!([{"Effect": "Deny", "Action": "ec2:CreateTags", "Resource": "*",
                "Condition": {"StringEquals": {"aws:TagKeys": "secret"}}}])),
            identity(json!([{"Effect": "Deny", "Action": "ec2:CreateTags", "Resource": "*",
                "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": "secret"}}}])),
        ),
        (
            "VARIABLES_IN_2008_VERSION",
            json!({"Statement": [stmt("s3:GetObject", "arn:aws:s3:::b/${aws:username}/*")]}).to_string(),
            identity(json!([stmt("s3:GetObject", "arn:aws:s3:::b/${aws:username}/*")])),
        ),
        (
            "UNKNOWN_ACTION",
            identity(json!([stmt("s3:GetObjekt", "arn:aws:s3:::b/*")])),
            identity(json!([stmt("s3:GetObject", "arn:aws:s3:::b/*")])),
        ),
        (
            "ACTION_MATCHES_NOTHING",
            identity(json!([stmt("s3:Gett*", "arn:aws:s3:::b/*")])),
            identity(json!([stmt("s3:Get*", "arn:aws:s3:::b/*")])),
        ),
        (
            "RESOURCE_TYPE_MISMATCH",
            identity(json!([stmt("s3:GetObject", "arn:aws:s3:::bucket")])),
            identity(json!([stmt("s3:GetObject", "arn:aws:s3:::bucket/*")])),
        ),
        (
            "CONDITION_KEY_NOT_APPLICABLE",
            identity(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
                "Condition": {"StringEquals": {"ec2:InstanceType": "t3.micro"}}}])),
            identity(json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
                "Condition": {"StringEquals": {"s3:ExistingObjectTag/team": "x"}}}])),
        ),
        (
            "REDUNDANT_STATEMENT",
            identity(json!([stmt("s3:GetObject", "arn:aws:s3:::b/reports/*"), stmt("s3:Get*", "arn:aws:s3:::b/*")])),
            identity(json!([stmt("s3:GetObject", "arn:aws:s3:::c/*"), stmt("s3:Get*", "arn:aws:s3:::b/*")])),
        ),
        (
            "DENY_NEVER_MATCHES",
            identity(json!([{"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                "Condition": {"Null": {"aws:SourceVpc": "true"}, "StringEquals": {"aws:SourceVpc": "vpc-1"}}}])),
            identity(json!([{"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}])),
        ),
    ]
}

#[test]
fn every_check_triggers_on_its_policy_and_not_on_the_fixed_one() {
    let cases = cases();
    for (check, bad, good) in &cases {
        let found = checks(bad);
        assert!(found.contains(check), "{check} not found in {bad}\nfound: {found:?}");
        let found = checks(good);
        assert!(!found.contains(check), "{check} found in {good}\nfound: {found:?}");
    }
    for (id, _, _) in CHECKS {
        assert!(cases.iter().any(|(c, _, _)| c == id), "check {id} has no test case");
    }
}

#[test]
fn findings_carry_file_pointer_message_and_fix() {
    let f = lint(&user(
        json!([{"Effect": "Allow", "Action": ["s3:GetObject", "s3:GetObjekt"], "Resource": "arn:aws:s3:::b/*"}]),
    ));
    let unknown = f.iter().find(|f| f.check == "UNKNOWN_ACTION").unwrap();
    assert_eq!(unknown.file, "p.json");
    assert_eq!(unknown.pointer, "/UserDetailList/0/UserPolicyList/0/PolicyDocument/Statement/0/Action/1");
    assert!(unknown.message.contains("did you mean s3:GetObject?"), "{}", unknown.message);
    assert!(!unknown.fix.is_empty());
    let j = render::json(&f);
    let first = &j["findings"][0];
    for key in ["check", "severity", "file", "pointer", "message", "fix"] {
        assert!(first.get(key).is_some(), "{key} missing in {first}");
    }
}

#[test]
fn bool_against_a_non_boolean_value_never_matches() {
    let found = checks(&identity(json!([{"Effect": "Deny", "Action": "s3:*", "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "no"}}}])));
    assert!(found.contains(&"DENY_NEVER_MATCHES"), "{found:?}");
}

#[test]
fn escalation_combines_a_principals_policies_and_respects_deny_and_boundary() {
    let store = |extra_user: serde_json::Value, boundary: bool| {
        let mut u = json!({"UserName": "u", "Path": "/", "GroupList": ["g"],
            "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}}]});
        if let Some(extra) = extra_user.as_array() {
            u["UserPolicyList"].as_array_mut().unwrap().push(json!({"PolicyName": "d",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": extra}}));
        }
        if boundary {
            u["PermissionsBoundary"] = json!({"PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/B", "PermissionsBoundaryType": "Policy"});
        }
        json!({"AccountId": "111122223333", "UserDetailList": [u],
            "GroupDetailList": [{"GroupName": "g", "Path": "/", "GroupPolicyList": [{"PolicyName": "r",
                "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*"}]}}]}],
            "Policies": [{"PolicyName": "B", "Arn": "arn:aws:iam::111122223333:policy/B", "DefaultVersionId": "v1",
                "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": {"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": ["iam:PassRole", "s3:*"], "Resource": "*"}]}}]}]})
        .to_string()
    };
    let escalations =
        |text: &str| lint(text).into_iter().filter(|f| f.check == "PRIVILEGE_ESCALATION").collect::<Vec<_>>();
    let found = escalations(&store(json!(null), false));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].message.contains("iam:PassRole + ec2:RunInstances"), "{}", found[0].message);
    assert!(found[0].message.contains("user/u"), "{}", found[0].message);
    let denied = store(json!([{"Effect": "Deny", "Action": "ec2:Run*", "Resource": "*"}]), false);
    assert!(escalations(&denied).is_empty());
    assert!(escalations(&store(json!(null), true)).is_empty(), "the boundary allows no ec2 action");
    // A user managing only their own access keys does not escalate.
    let own = user(json!([{"Effect": "Allow", "Action": "iam:CreateAccessKey",
        "Resource": "arn:aws:iam::111122223333:user/${aws:username}"}]));
    assert!(escalations(&own).is_empty());
}

#[test]
fn trusting_the_own_account_root_is_not_another_account() {
    let store = json!({"AccountId": "111122223333", "RoleDetailList": [{"RoleName": "r", "Path": "/",
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "444455556666"]}, "Action": "sts:AssumeRole"}]}}]})
    .to_string();
    let found: Vec<Finding> = lint(&store).into_iter().filter(|f| f.check == "TRUST_ANY_ACCOUNT_ROOT").collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].message.contains("444455556666"));
    assert_eq!(found[0].pointer, "/RoleDetailList/0/AssumeRolePolicyDocument/Statement/0/Principal/AWS/1");
}

#[test]
fn sarif_output_is_valid_sarif_2_1_0_with_lines_and_columns() {
    let text = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\n      \"Effect\": \"Allow\",\n      \"Action\": [\"s3:GetObject\", \"s3:GetObjekt\"],\n      \"Resource\": \"*\"\n    }\n  ]\n}\n";
    let docs = vec![("dir name/p.json".to_owned(), text.to_owned())];
    let findings = lint_documents(&docs).unwrap();
    assert!(!findings.is_empty());
    let sarif = render::sarif(&findings, &docs);
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("data/sarif/sarif-schema-2.1.0.json")).expect("schema parses");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> =
        validator.iter_errors(&sarif).map(|e| format!("{} at {}", e, e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}\n{sarif:#}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let unknown = results.iter().find(|r| r["ruleId"] == "UNKNOWN_ACTION").unwrap();
    let loc = &unknown["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "dir%20name/p.json");
    assert_eq!(loc["region"]["startLine"], 6);
    assert_eq!(loc["region"]["startColumn"], 34);
    // A broken document must fail the schema check (the test can fail).
    let mut broken = sarif.clone();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = json!(0);
    assert!(!validator.is_valid(&broken));
}

#[test]
fn invalid_json_is_an_error_not_a_finding() {
    let err = lint_documents(&[("bad.json".to_owned(), "{\"Statement\": [".to_owned())]).unwrap_err();
    assert_eq!(err.file, "bad.json");
}

#[test]
fn many_documents_are_checked_in_parallel_with_the_same_findings() {
    let docs: Vec<(String, String)> = (0..300)
        .map(|i| {
            let action = if i == 299 { "iam:CreatePolicyVersion" } else { "s3:GetObjekt" };
            (format!("p{i:03}.json"), identity(json!([{"Effect": "Allow", "Action": action, "Resource": "*"}])))
        })
        .collect();
    let findings = lint_documents(&docs).unwrap();
    assert_eq!(findings.iter().filter(|f| f.check == "UNKNOWN_ACTION").count(), 299);
    let esc: Vec<&Finding> = findings.iter().filter(|f| f.check == "PRIVILEGE_ESCALATION").collect();
    assert_eq!(esc.len(), 1);
    assert_eq!(esc[0].file, "p299.json");
}

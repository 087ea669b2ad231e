#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
//! Escalation paths planted in a store are all found, each edge with the statements behind it,
//! and none is reported where a Deny, a permissions boundary or an SCP blocks it.

use keycard::analysis::escalation::escalation;
use keycard::{Snapshot, Store};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const A: &str = "111111111111";

fn arn(kind: &str, name: &str) -> String {
    format!("arn:aws:iam::{A}:{kind}/{name}")
}

fn doc(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

fn allow(action: &str, resource: &str) -> Value {
    let sid: String = action.chars().filter(char::is_ascii_alphanumeric).collect();
    json!({"Sid": if sid.is_empty() { "All".to_owned() } else { sid }, "Effect": "Allow", "Action": action, "Resource": resource})
}

fn user(name: &str, statements: Value) -> Value {
    json!({"UserName": name, "Path": "/", "Arn": arn("user", name),
           "UserPolicyList": [{"PolicyName": "own", "PolicyDocument": doc(statements)}]})
}

fn role(name: &str, trusted: Value, statements: Value) -> Value {
    json!({"RoleName": name, "Path": "/", "Arn": arn("role", name),
           "AssumeRolePolicyDocument": doc(json!([{"Sid": "Trust", "Effect": "Allow", "Principal": trusted, "Action": "sts:AssumeRole"}])),
           "RolePolicyList": [{"PolicyName": "own", "PolicyDocument": doc(statements)}]})
}

fn managed(name: &str, statements: Value) -> Value {
    json!({"PolicyName": name, "Arn": format!("arn:aws:iam::{A}:policy/{name}"), "Path": "/", "DefaultVersionId": "v1",
           "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": doc(statements)}]})
}

fn with(mut v: Value, key: &str, value: Value) -> Value {
    v[key] = value;
    v
}

fn planted() -> Snapshot {
    let everything = json!([allow("*", "*")]);
    let root_admin = arn("user", "root-admin");
    let boundary = |name: &str| json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": format!("arn:aws:iam::{A}:policy/{name}")});
    let users = json!([
        user("root-admin", everything.clone()),
        user("dev", json!([allow("sts:AssumeRole", &arn("role", "Admin"))])),
        user("keymaker", json!([allow("iam:CreateAccessKey", &root_admin)])),
        user("passer", json!([allow("iam:PassRole", &arn("role", "ec2-admin")), allow("ec2:RunInstances", "*")])),
        user("selfish", json!([allow("iam:PutUserPolicy", &arn("user", "selfish"))])),
        user("trustee", json!([allow("iam:UpdateAssumeRolePolicy", &arn("role", "Admin"))])),
        user("chain", json!([allow("sts:AssumeRole", &arn("role", "middle"))])),
        user("grouper", json!([allow("iam:AddUserToGroup", &arn("group", "Admins"))])),
        with(
            user("versioner", json!([allow("s3:GetObject", "*")])),
            "AttachedManagedPolicies",
            json!([{"PolicyName": "VersionMe", "PolicyArn": format!("arn:aws:iam::{A}:policy/VersionMe")}])
        ),
        // Blocked: an explicit Deny, a boundary, a boundary that caps a self edit, an SCP.
        user(
            "denied-dev",
            json!([allow("sts:AssumeRole", &arn("role", "Admin")),
                                  {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "*"}])
        ),
        with(
            user("bounded-keymaker", json!([allow("iam:CreateAccessKey", &root_admin)])),
            "PermissionsBoundary",
            boundary("S3Only")
        ),
        with(
            user("bounded-selfish", json!([allow("iam:PutUserPolicy", &arn("user", "bounded-selfish"))])),
            "PermissionsBoundary",
            boundary("IamOnly")
        ),
        user("scp-blocked", json!([allow("iam:UpdateLoginProfile", &root_admin)])),
        user("nobody", json!([allow("s3:GetObject", "*")])),
    ]);
    let roles = json!([
        role("Admin", json!({"AWS": [arn("user", "dev"), arn("user", "denied-dev")]}), everything.clone()),
        role("ec2-admin", json!({"Service": "ec2.amazonaws.com"}), everything.clone()),
        role("middle", json!({"AWS": arn("user", "chain")}), json!([allow("iam:CreateLoginProfile", &root_admin)])),
    ]);
    let groups = json!([{"GroupName": "Admins", "Path": "/", "Arn": arn("group", "Admins"),
                         "GroupPolicyList": [{"PolicyName": "all", "PolicyDocument": doc(everything)}]}]);
    let policies = json!([
        managed("VersionMe", json!([allow("iam:CreatePolicyVersion", &format!("arn:aws:iam::{A}:policy/VersionMe"))])),
        managed("S3Only", json!([allow("s3:*", "*")])),
        managed("IamOnly", json!([allow("iam:*", "*")])),
    ]);
    let store = json!({
        "AccountId": A, "UserDetailList": users, "RoleDetailList": roles, "GroupDetailList": groups, "Policies": policies,
        "Organization": {"Id": "o-escalation1", "ManagementAccount": "999999999999",
            "Accounts": [{"Id": A, "Parents": ["r-root"]}],
            "ServiceControlPolicies": [
                {"Name": "FullAWSAccess", "Targets": ["r-root", A], "Policy": doc(json!([{"Effect": "Allow", "Action": "*", "Resource": "*"}]))},
                {"Name": "NoLoginProfileUpdates", "Targets": [A], "Policy": doc(json!([{"Effect": "Deny", "Action": "iam:UpdateLoginProfile", "Resource": "*"}]))}
            ]}
    });
    Snapshot::new(Store::from_documents([("store.json", store.to_string())]).unwrap())
}

#[test]
fn planted_paths_are_found_with_their_statements_and_blocked_ones_are_not() {
    let snapshot = planted();
    let e = escalation(&snapshot, None).unwrap();
    let admins: BTreeSet<&str> = e.admins.iter().map(String::as_str).collect();
    assert_eq!(
        admins,
        [arn("user", "root-admin"), arn("role", "Admin"), arn("role", "ec2-admin")]
            .iter()
            .map(String::as_str)
            .collect()
    );
    let found: BTreeSet<(String, String, Vec<&str>)> =
        e.paths.iter().map(|p| (p.from.clone(), p.to.clone(), p.edges.iter().map(|x| x.kind).collect())).collect();
    let expected: BTreeSet<(String, String, Vec<&str>)> = [
        (arn("user", "dev"), arn("role", "Admin"), vec!["assume-role"]),
        (arn("user", "keymaker"), arn("user", "root-admin"), vec!["create-access-key"]),
        (arn("user", "passer"), arn("role", "ec2-admin"), vec!["pass-role"]),
        (arn("user", "selfish"), arn("user", "selfish"), vec!["put-user-policy"]),
        (arn("user", "trustee"), arn("role", "Admin"), vec!["update-assume-role-policy"]),
        (arn("user", "chain"), arn("user", "root-admin"), vec!["assume-role", "create-login-profile"]),
        (arn("role", "middle"), arn("user", "root-admin"), vec!["create-login-profile"]),
        (arn("user", "grouper"), arn("user", "grouper"), vec!["add-user-to-group"]),
        (arn("user", "versioner"), arn("user", "versioner"), vec!["create-policy-version"]),
    ]
    .into_iter()
    .collect();
    assert_eq!(found, expected, "{:#?}", e.paths);
    for p in &e.paths {
        for edge in &p.edges {
            assert!(!edge.matched.is_empty(), "edge {edge:?} without statements");
            assert!(edge.matched.iter().all(|m| m.effect() == "Allow"));
        }
    }
    // The edges rest on the statements that allow them.
    let pass = e.paths.iter().find(|p| p.from == arn("user", "passer")).unwrap();
    assert_eq!(pass.edges[0].actions, ["iam:PassRole", "ec2:RunInstances"]);
    assert!(pass.edges[0].matched.iter().any(|m| m.policy() == format!("{}#own", arn("user", "passer"))));
    let dev = e.paths.iter().find(|p| p.from == arn("user", "dev")).unwrap();
    let kinds: BTreeSet<String> = dev.edges[0]
        .matched
        .iter()
        .map(|m| serde_json::to_value(m.kind()).unwrap().as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.contains("trust") && kinds.contains("identity"), "{kinds:?}");
    // Nothing from the blocked ones.
    for blocked in ["denied-dev", "bounded-keymaker", "bounded-selfish", "scp-blocked", "nobody"] {
        assert!(!e.edges.iter().any(|x| x.from == arn("user", blocked)), "{blocked} has an edge");
    }
}

#[test]
fn json_and_dot_shapes() {
    let e = escalation(&planted(), None).unwrap();
    let v = serde_json::to_value(&e).unwrap();
    assert!(v["admins"].is_array());
    let path = &v["paths"][0];
    for k in ["from", "to", "edges"] {
        assert!(!path[k].is_null(), "{k}");
    }
    for k in ["from", "to", "kind", "actions", "matched"] {
        assert!(!path["edges"][0][k].is_null(), "{k}");
    }
    let dot = e.to_dot();
    assert!(dot.starts_with("digraph escalation {"));
    assert!(
        dot.contains(&format!("\"{}\" [label=\"role/Admin\\n{A}\", style=\"rounded,filled\"", arn("role", "Admin"))),
        "{dot}"
    );
    assert!(dot.contains(&format!(
        "\"{}\" -> \"{}\" [label=\"assume-role\"]",
        arn("user", "dev"),
        arn("role", "Admin")
    )));
}

#[test]
fn a_context_can_satisfy_conditions_and_a_bad_one_is_an_error() {
    let store = json!({"AccountId": A, "UserDetailList": [
        user("mfa-admin", json!([{"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]))
    ]});
    let snapshot = Snapshot::new(Store::from_documents([("s.json", store.to_string())]).unwrap());
    assert!(escalation(&snapshot, None).unwrap().admins.is_empty());
    let with_mfa = escalation(&snapshot, Some(&json!({"aws:MultiFactorAuthPresent": "true"}).to_string())).unwrap();
    assert_eq!(with_mfa.admins, [arn("user", "mfa-admin")]);
    assert!(escalation(&snapshot, Some(&json!({"aws:username": "x"}).to_string())).is_err());
}

#[test]
fn a_resource_with_a_policy_variable_still_reaches_its_targets() {
    // `user/${aws:username}-*` for `ops` is `user/ops-*`: it covers `ops-admin` (an admin), not
    // `other-admin`. The targets of a variable pattern are those under its literal head
    // (`user/`), each decided exactly.
    let store = json!({"AccountId": A, "UserDetailList": [
        user("ops", json!([allow("iam:CreateAccessKey", &format!("arn:aws:iam::{A}:user/${{aws:username}}-*"))])),
        user("ops-admin", json!([allow("*", "*")])),
        user("other-admin", json!([allow("*", "*")])),
    ]});
    let snapshot = Snapshot::new(Store::from_documents([("s.json", store.to_string())]).unwrap());
    let e = escalation(&snapshot, None).unwrap();
    let found: Vec<(&str, &str)> = e.paths.iter().map(|p| (p.from.as_str(), p.to.as_str())).collect();
    assert_eq!(found, [(arn("user", "ops").as_str(), arn("user", "ops-admin").as_str())], "{:#?}", e.paths);
}

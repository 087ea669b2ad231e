#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
//! `access` rows are promises: on generated stores (`analysis_gen`: denies, conditional denies,
//! boundaries, SCP levels, a foreign bucket policy), a request drawn inside a row (its action, a
//! resource its pattern matches and no `notResources` matches, its `StringEquals` conditions
//! met) is allowed by the compiled decision and by the reference evaluator, unless a conditional
//! entry of `denied` applies to it (those are listed, not subtracted).

mod analysis_gen;

use analysis_gen::principals;
use keycard::analysis::access::{access, Access, Permission};
use keycard::{reference, Request, Snapshot};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::{json, Map, Value};

/// Anchored glob (`*` any run, `?` one character), written independently of keycard's.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let mut dp = vec![vec![false; t.len() + 1]; p.len() + 1];
    dp[0][0] = true;
    for i in 1..=p.len() {
        dp[i][0] = dp[i - 1][0] && p[i - 1] == '*';
        for j in 1..=t.len() {
            dp[i][j] = match p[i - 1] {
                '*' => dp[i - 1][j] || dp[i][j - 1],
                '?' => dp[i - 1][j - 1],
                c => dp[i - 1][j - 1] && c == t[j - 1],
            };
        }
    }
    dp[p.len()][t.len()]
}

/// A request inside the row, when one can be drawn: its resource and context.
fn draw(row: &Permission, which: usize) -> Option<(String, Map<String, Value>)> {
    let pattern = &row.resources[which % row.resources.len()];
    let resource: String = if pattern == "*" {
        let service = row.action.split(':').next().unwrap();
        format!("arn:aws:{service}:us-east-1:{}:x7", analysis_gen::ACCOUNT)
    } else {
        pattern.replace('*', "x7").replace('?', "q")
    };
    if row.not_resources.iter().any(|n| glob(n, &resource)) {
        return None;
    }
    let mut ctx = Map::new();
    for c in row.conditions.iter() {
        if c.operator != "StringEquals" {
            return None;
        }
        let v = Value::from(c.values[0].clone());
        match ctx.get(&c.key) {
            Some(old) if *old != v => return None, // contradictory: the row is empty
            _ => {
                ctx.insert(c.key.clone(), v);
            }
        }
    }
    Some((resource, ctx))
}

/// Whether a conditional entry of `denied` might apply to the drawn request.
fn conditional_deny_applies(a: &Access, action: &str, resource: &str, ctx: &Map<String, Value>) -> bool {
    a.denied.iter().filter(|t| !t.conditions.is_empty()).any(|t| {
        t.actions.iter().any(|x| x == action)
            && t.resources.iter().any(|r| glob(r, resource))
            && !t.not_resources.iter().any(|r| glob(r, resource))
            && t.conditions.iter().all(|c| {
                c.operator != "StringEquals" || ctx.get(&c.key).is_some_and(|v| c.values.iter().any(|x| v == x))
            })
    })
}

/// Checks up to `budget` rows of every principal; the number of requests checked.
fn check_rows(snapshot: &Snapshot, doc: &Value, budget: usize) -> Result<usize, TestCaseError> {
    let mut checked = 0;
    for principal in principals() {
        let a = access(snapshot, &principal, None).unwrap();
        let step = (a.permissions.len() / budget).max(1);
        for (i, row) in a.permissions.iter().enumerate().step_by(step) {
            let Some((resource, ctx)) = draw(row, i) else { continue };
            if conditional_deny_applies(&a, &row.action, &resource, &ctx) {
                continue;
            }
            let v = json!({"principal": principal, "action": row.action, "resource": resource, "context": ctx});
            let request = Request::from_value(&v).unwrap();
            let fast = snapshot.decide(&request);
            let slow = reference::authorize(snapshot.store(), &request).decision();
            prop_assert!(
                fast.is_allowed() && slow.is_allowed(),
                "row {:?} of {} drew {} -> {:?}/{:?}\nstore {}",
                row,
                principal,
                v,
                fast,
                slow,
                doc
            );
            checked += 1;
        }
    }
    Ok(checked)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn a_request_inside_a_row_is_allowed(doc in analysis_gen::store()) {
        let snapshot = analysis_gen::load(&doc);
        check_rows(&snapshot, &doc, 40)?;
    }
}

#[test]
fn the_property_checks_many_requests() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let mut checked = 0;
    for _ in 0..10 {
        let doc = analysis_gen::store().new_tree(&mut runner).unwrap().current();
        checked += check_rows(&analysis_gen::load(&doc), &doc, 40).unwrap();
    }
    assert!(checked > 150, "only {checked} requests checked over 10 stores");
}

fn store(doc: Value) -> Snapshot {
    Snapshot::new(keycard::Store::from_documents([("s.json", doc.to_string())]).unwrap())
}

#[test]
fn denies_boundaries_and_scps_take_away() {
    let a = "111111111111";
    let doc = json!({
        "AccountId": a,
        "UserDetailList": [{"UserName": "u", "Path": "/", "Arn": format!("arn:aws:iam::{a}:user/u"),
            "PermissionsBoundary": {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": format!("arn:aws:iam::{a}:policy/B")},
            "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:*", "sqs:SendMessage", "ec2:RunInstances"], "Resource": "*"},
                {"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"},
                {"Sid": "NoSecret", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::secret/*"},
                {"Sid": "VpcOnly", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
                 "Condition": {"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}}
            ]}}]}],
        "Policies": [{"PolicyName": "B", "Arn": format!("arn:aws:iam::{a}:policy/B"), "Path": "/", "DefaultVersionId": "v1",
            "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["s3:*", "ec2:*"], "Resource": "arn:aws:s3:::data/*"},
                {"Effect": "Allow", "Action": "ec2:RunInstances", "Resource": "*", "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}
            ]}}]}],
        "Organization": {"Id": "o-abcdefghij", "ManagementAccount": "999999999999",
            "Accounts": [{"Id": a, "Parents": ["r-root"]}],
            "ServiceControlPolicies": [
                {"Name": "FullAWSAccess", "Targets": ["r-root"], "Policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}},
                {"Name": "NoTagging", "Targets": ["r-root"], "Policy": {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:PutObjectTagging", "Resource": "*"}]}}
            ]}
    });
    let snapshot = store(doc);
    let a = access(&snapshot, "arn:aws:iam::111111111111:user/u", None).unwrap();
    let rows = |action: &str| a.permissions.iter().filter(|p| p.action == action).collect::<Vec<_>>();
    assert!(rows("s3:DeleteBucket").is_empty(), "an unconditional Deny on * removes the action");
    assert!(rows("sqs:SendMessage").is_empty(), "the boundary does not allow sqs");
    assert!(rows("s3:PutObjectTagging").is_empty(), "the SCP denies it");
    let get = rows("s3:GetObject");
    assert_eq!(get.len(), 1);
    assert_eq!(*get[0].resources, ["arn:aws:s3:::data/*"], "narrowed by the boundary");
    assert!(get[0].not_resources.contains(&"arn:aws:s3:::secret/*".to_owned()));
    let run = rows("ec2:RunInstances");
    assert_eq!(run.len(), 2, "{run:?}");
    assert!(run.iter().any(|r| *r.resources == ["*"] && r.conditions.len() == 1), "the boundary's condition gates it");
    // The conditional Deny is listed, not subtracted.
    assert!(!rows("s3:PutObject").is_empty());
    assert!(a.denied.iter().any(|t| t.sid.as_deref() == Some("VpcOnly") && !t.conditions.is_empty()));
    assert!(a.denied.iter().any(|t| t.sid.as_deref() == Some("NoDelete") && t.conditions.is_empty()));
    assert!(a.denied.iter().any(|t| t.policy.contains("policy/B") && t.actions.iter().any(|a| a == "sqs:SendMessage")));
    let json = serde_json::to_value(&a).unwrap();
    assert!(json["principal"].is_string() && json["permissions"][0]["action"].is_string() && json["denied"].is_array());
    // --service.
    let s3 = access(&snapshot, "arn:aws:iam::111111111111:user/u", Some("ec2")).unwrap();
    assert!(s3.permissions.iter().all(|p| p.action.starts_with("ec2:")) && !s3.permissions.is_empty());
    assert!(access(&snapshot, "arn:aws:iam::111111111111:user/nobody", None).is_err());
}

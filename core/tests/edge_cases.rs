#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
//! One test per numbered edge case of `docs/semantics.md#edge-cases`.
//!
//! Every test builds a minimal store (`docs/store.md`) with the builder of `common`, sends the
//! requests the case describes (`docs/http-api.md#a-request`) and asserts the exact decision. Each
//! request is answered by the compiled snapshot and by the reference evaluator, which must agree.
//! Where a case names one outcome only, a control request with the opposite outcome shows that the
//! policy under test is really in force.

use keycard::Decision;
use serde_json::{json, Value};

mod common;
use common::*;

use Decision::{Allowed, ExplicitDeny, ImplicitDeny};

/// Alice, an IAM user of account A with the given inline policies.
fn alice_with(policies: &[Value]) -> World {
    Acct::new(A).user("alice", policies).world()
}

// ---------------------------------------------------------------------------------------------
// 1–10: actions, resources, Not-elements
// ---------------------------------------------------------------------------------------------

#[test]
fn edge_01_action_case_insensitive() {
    let w = alice_with(&[allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"))]);
    w.expect(req(&alice(), "S3:getobject", "arn:aws:s3:::b/k"), Allowed);
    w.expect(req(&alice(), "s3:GETOBJECT", "arn:aws:s3:::b/k"), Allowed);
    w.expect(req(&alice(), "s3:PutObject", "arn:aws:s3:::b/k"), ImplicitDeny);

    // the same from raw JSON text
    let store = Acct::new(A).user("alice", &[allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"))]).build();
    let request = r#"{"principal": "arn:aws:iam::111122223333:user/alice", "action": "S3:getobject",
                      "resource": "arn:aws:s3:::b/k"}"#;
    assert_eq!(World::from_docs(&[store]).answer_text(request).decision(), Allowed);
}

#[test]
fn edge_02_resource_case_sensitive() {
    let w = alice_with(&[allow(json!("s3:GetObject"), json!("arn:aws:s3:::b/*"))]);
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::B/k"), ImplicitDeny);
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
}

#[test]
fn edge_03_action_wildcard_in_the_middle() {
    let w = alice_with(&[allow(json!("s3:Get*Acl"), json!("*"))]);
    w.expect(req(&alice(), "s3:GetObjectAcl", "arn:aws:s3:::b/k"), Allowed);
    w.expect(req(&alice(), "s3:GetBucketAcl", "arn:aws:s3:::b"), Allowed);
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), ImplicitDeny);
}

#[test]
fn edge_04_object_wildcard_does_not_cover_bucket() {
    let w = alice_with(&[allow(json!("s3:*"), json!("arn:aws:s3:::b/*"))]);
    w.expect(req(&alice(), "s3:ListBucket", "arn:aws:s3:::b"), ImplicitDeny);
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
}

#[test]
fn edge_05_allow_not_action() {
    let w = alice_with(&[doc(json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]))]);
    w.expect(req(&alice(), "ec2:RunInstances", "*"), Allowed);
    w.expect(req(&alice(), "iam:CreateUser", &user_arn(A, "x")), ImplicitDeny);
}

#[test]
fn edge_06_deny_not_action() {
    let w = alice_with(&[doc(json!([
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "Resource": "*"}
    ]))]);
    w.expect(req(&alice(), "ec2:StopInstances", "*"), ExplicitDeny);
    w.expect(req(&alice(), "iam:ListUsers", "*"), Allowed);
}

#[test]
fn edge_07_deny_not_resource() {
    let w = alice_with(&[doc(json!([
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::b/*"}
    ]))]);
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::c/k"), ExplicitDeny);
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
}

#[test]
fn edge_08_deny_beats_allow_and_default_deny() {
    let w = Acct::new(A)
        .user(
            "alice",
            &[doc(json!([
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
            ]))],
        )
        .user("bob", &[])
        .world();
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), ExplicitDeny);
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::c/k"), Allowed);
    // no applicable policy
    w.expect(req(&alice(), "s3:PutObject", "arn:aws:s3:::c/k"), ImplicitDeny);
    w.expect(req(&user_arn(A, "bob"), "s3:GetObject", "arn:aws:s3:::c/k"), ImplicitDeny);
}

#[test]
fn edge_09_bucket_wildcard_does_not_match_star_resource() {
    let w = Acct::new(A)
        .user("alice", &[allow(json!("s3:ListAllMyBuckets"), json!("arn:aws:s3:::*"))])
        .user("bob", &[allow(json!("s3:ListAllMyBuckets"), json!("*"))])
        .world();
    w.expect(req(&alice(), "s3:ListAllMyBuckets", "*"), ImplicitDeny);
    w.expect(req(&user_arn(A, "bob"), "s3:ListAllMyBuckets", "*"), Allowed);
    // alice's statement is in force for ARN resources
    w.expect(req(&alice(), "s3:ListAllMyBuckets", "arn:aws:s3:::x"), Allowed);
}

#[test]
fn edge_10_resource_wildcard_inside_a_name() {
    let w = alice_with(&[doc(json!([
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"}
    ]))]);
    w.expect(req(&alice(), "s3:PutObject", "arn:aws:s3:::carlos-logs/x"), ExplicitDeny);
    w.expect(req(&alice(), "s3:PutObject", "arn:aws:s3:::carlos-data/x"), Allowed);
}

// ---------------------------------------------------------------------------------------------
// 11–28: condition operators
// ---------------------------------------------------------------------------------------------

#[test]
fn edge_11_negated_operator_true_when_key_missing() {
    let policy = doc(json!([{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:PrincipalTag/team": "red"}}
    }]));
    let w = Acct::new(A)
        .user("alice", std::slice::from_ref(&policy))
        .user_full("/", "bob", std::slice::from_ref(&policy), None, &[("team", "red")])
        .user_full("/", "carol", std::slice::from_ref(&policy), None, &[("team", "blue")])
        .world();
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
    w.expect(req(&user_arn(A, "bob"), "s3:GetObject", "arn:aws:s3:::b/k"), ImplicitDeny);
    w.expect(req(&user_arn(A, "carol"), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
}

#[test]
fn edge_12_string_equals_vs_if_exists_on_missing_key() {
    let w = alice_with(&[doc(json!([
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
         "Condition": {"StringEqualsIfExists": {"aws:RequestedRegion": "eu-west-1"}}}
    ]))]);
    let obj = "arn:aws:s3:::b/k";
    w.expect(req(&alice(), "s3:GetObject", obj), ImplicitDeny);
    w.expect(req(&alice(), "s3:PutObject", obj), Allowed);
    w.expect(req_ctx(&alice(), "s3:GetObject", obj, json!({"aws:RequestedRegion": "eu-west-1"})), Allowed);
    w.expect(req_ctx(&alice(), "s3:PutObject", obj, json!({"aws:RequestedRegion": "us-east-1"})), ImplicitDeny);
}

#[test]
fn edge_13_deny_string_not_equals_if_exists_on_missing_key() {
    let w = alice_with(&[doc(json!([
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringNotEqualsIfExists": {"aws:RequestedRegion": "eu-west-1"}}}
    ]))]);
    let obj = "arn:aws:s3:::b/k";
    w.expect(req(&alice(), "s3:GetObject", obj), ExplicitDeny);
    w.expect(req_ctx(&alice(), "s3:GetObject", obj, json!({"aws:RequestedRegion": "eu-west-1"})), Allowed);
    w.expect(req_ctx(&alice(), "s3:GetObject", obj, json!({"aws:RequestedRegion": "us-east-1"})), ExplicitDeny);
}

#[test]
fn edge_14_string_not_equals_is_nor_over_values() {
    let w = alice_with(&[doc(json!([{
        "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b",
        "Condition": {"StringNotEquals": {"s3:prefix": ["a", "b"]}}
    }]))]);
    let list = |prefix: &str| req_ctx(&alice(), "s3:ListBucket", "arn:aws:s3:::b", json!({"s3:prefix": prefix}));
    w.expect(list("a"), ImplicitDeny);
    w.expect(list("b"), ImplicitDeny);
    w.expect(list("c"), Allowed);
}

#[test]
fn edge_15_string_equals_star_is_literal() {
    let w = alice_with(&[doc(json!([
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"StringEquals": {"aws:username": "*"}}},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
         "Condition": {"StringLike": {"aws:username": "*"}}}
    ]))]);
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), ImplicitDeny);
    w.expect(req(&alice(), "s3:PutObject", "arn:aws:s3:::b/k"), Allowed);
}

#[test]
fn edge_16_string_like_empty_value() {
    let w = alice_with(&[doc(json!([{
        "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b",
        "Condition": {"StringLike": {"s3:prefix": ""}}
    }]))]);
    let bucket = "arn:aws:s3:::b";
    w.expect(req_ctx(&alice(), "s3:ListBucket", bucket, json!({"s3:prefix": ""})), Allowed);
    w.expect(req_ctx(&alice(), "s3:ListBucket", bucket, json!({"s3:prefix": "x"})), ImplicitDeny);
    w.expect(req(&alice(), "s3:ListBucket", bucket), ImplicitDeny);
}

#[test]
fn edge_17_for_all_values() {
    let w = alice_with(&[doc(json!([{
        "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
        "Condition": {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}
    }]))]);
    let put = |ctx: Value| req_ctx(&alice(), "s3:PutObject", "arn:aws:s3:::b/k", ctx);
    w.expect(put(json!({})), Allowed);
    w.expect(put(json!({"aws:TagKeys": []})), Allowed);
    w.expect(put(json!({"aws:TagKeys": ["a", "c"]})), ImplicitDeny);
    w.expect(put(json!({"aws:TagKeys": ["b", "a"]})), Allowed);
}

#[test]
fn edge_18_for_any_value_on_missing_key() {
    let w = alice_with(&[doc(json!([{
        "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
        "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "b"]}}
    }]))]);
    let put = |ctx: Value| req_ctx(&alice(), "s3:PutObject", "arn:aws:s3:::b/k", ctx);
    w.expect(put(json!({})), ImplicitDeny);
    w.expect(put(json!({"aws:TagKeys": []})), ImplicitDeny);
    w.expect(put(json!({"aws:TagKeys": ["c", "b"]})), Allowed);
}

#[test]
fn edge_19_for_any_value_string_not_equals() {
    let w = alice_with(&[doc(json!([{
        "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
        "Condition": {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a"]}}
    }]))]);
    let put = |ctx: Value| req_ctx(&alice(), "s3:PutObject", "arn:aws:s3:::b/k", ctx);
    w.expect(put(json!({"aws:TagKeys": ["a"]})), ImplicitDeny);
    w.expect(put(json!({"aws:TagKeys": ["a", "z"]})), Allowed);
}

#[test]
fn edge_20_for_all_values_on_missing_principal_tag() {
    let policy = doc(json!([{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"ForAllValues:StringEquals": {"aws:PrincipalTag/x": "v"}}
    }]));
    let w = Acct::new(A)
        .user("alice", std::slice::from_ref(&policy))
        .user_full("/", "bob", std::slice::from_ref(&policy), None, &[("x", "w")])
        .user_full("/", "carol", std::slice::from_ref(&policy), None, &[("x", "v")])
        .world();
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
    w.expect(req(&user_arn(A, "bob"), "s3:GetObject", "arn:aws:s3:::b/k"), ImplicitDeny);
    w.expect(req(&user_arn(A, "carol"), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
}

#[test]
fn edge_21_unqualified_operator_on_multivalued_key() {
    let w = alice_with(&[doc(json!([{
        "Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*",
        "Condition": {"StringEquals": {"aws:CalledVia": "athena.amazonaws.com"}}
    }]))]);
    let table = "arn:aws:dynamodb:us-east-1:111122223333:table/t";
    let get = |via: Value| req_ctx(&alice(), "dynamodb:GetItem", table, json!({"aws:CalledVia": via}));
    // UNCERTAIN in AWS; keycard adopts "no match" for a key carrying two or more values
    w.expect(get(json!(["athena.amazonaws.com", "dynamodb.amazonaws.com"])), ImplicitDeny);
    w.expect(get(json!(["athena.amazonaws.com"])), Allowed);
}

#[test]
fn edge_22_bool_value_case_insensitive() {
    let w = alice_with(&[doc(json!([{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "True"}}
    }]))]);
    let get = |ctx: Value| req_ctx(&alice(), "s3:GetObject", "arn:aws:s3:::b/k", ctx);
    w.expect(get(json!({"aws:SecureTransport": true})), Allowed);
    w.expect(get(json!({"aws:SecureTransport": "true"})), Allowed);
    w.expect(get(json!({"aws:SecureTransport": false})), ImplicitDeny);
}

#[test]
fn edge_23_mfa_bool_vs_bool_if_exists_for_long_term_keys() {
    let w = alice_with(&[doc(json!([
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}},
        {"Effect": "Deny", "Action": "ec2:*", "Resource": "*",
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}
    ]))]);
    let obj = "arn:aws:s3:::b/k";
    // long-term keys: the MFA key is absent
    w.expect(req(&alice(), "s3:GetObject", obj), Allowed);
    w.expect(req(&alice(), "ec2:RunInstances", "*"), ExplicitDeny);
    // temporary credentials without MFA: both deny
    w.expect(req_ctx(&alice(), "s3:GetObject", obj, json!({"aws:MultiFactorAuthPresent": false})), ExplicitDeny);
    w.expect(req_ctx(&alice(), "ec2:RunInstances", "*", json!({"aws:MultiFactorAuthPresent": false})), ExplicitDeny);
    // with MFA: neither denies
    w.expect(req_ctx(&alice(), "ec2:RunInstances", "*", json!({"aws:MultiFactorAuthPresent": true})), Allowed);
}

#[test]
fn edge_24_null_token_issue_time_with_long_term_keys() {
    let w = alice_with(&[doc(json!([{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"Null": {"aws:TokenIssueTime": "true"}}
    }]))]);
    let obj = "arn:aws:s3:::b/k";
    w.expect(req(&alice(), "s3:GetObject", obj), Allowed);
    w.expect(
        req_ctx(&alice(), "s3:GetObject", obj, json!({"aws:TokenIssueTime": "2026-01-01T00:00:00Z"})),
        ImplicitDeny,
    );
}

#[test]
fn edge_25_not_ip_address_through_vpc_endpoint() {
    let w = alice_with(&[doc(json!([
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "*",
         "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}
    ]))]);
    let obj = "arn:aws:s3:::b/k";
    // through a VPC endpoint there is no aws:SourceIp
    let via_vpce =
        json!({"aws:SourceVpce": "vpce-1a2b3c4d", "aws:SourceVpc": "vpc-111bbb22", "aws:VpcSourceIp": "192.0.2.10"});
    w.expect(req_ctx(&alice(), "s3:GetObject", obj, via_vpce), ExplicitDeny);
    w.expect(req_ctx(&alice(), "s3:GetObject", obj, json!({"aws:SourceIp": "192.0.2.10"})), Allowed);
    w.expect(req_ctx(&alice(), "s3:GetObject", obj, json!({"aws:SourceIp": "198.51.100.1"})), ExplicitDeny);
}

#[test]
fn edge_26_ip_address_matching() {
    let w = alice_with(&[doc(json!([
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"IpAddress": {"aws:SourceIp": "203.0.113.5"}}},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
         "Condition": {"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}}
    ]))]);
    let from = |action: &str, ip: &str| req_ctx(&alice(), action, "arn:aws:s3:::b/k", json!({"aws:SourceIp": ip}));
    w.expect(from("s3:GetObject", "203.0.113.6"), ImplicitDeny);
    w.expect(from("s3:GetObject", "203.0.113.5"), Allowed);
    w.expect(from("s3:PutObject", "2001:DB8::1"), Allowed);
    w.expect(from("s3:PutObject", "2001:db9::1"), ImplicitDeny);
}

#[test]
fn edge_27_numeric_values() {
    let w = alice_with(&[doc(json!([{
        "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b",
        "Condition": {"NumericLessThanEquals": {"s3:max-keys": "10"}}
    }]))]);
    let list = |keys: Value| req_ctx(&alice(), "s3:ListBucket", "arn:aws:s3:::b", json!({"s3:max-keys": keys}));
    w.expect(list(json!("10.0")), Allowed);
    w.expect(list(json!("abc")), ImplicitDeny);
    w.expect(list(json!("11")), ImplicitDeny);
    w.expect(list(json!(9)), Allowed);
}

#[test]
fn edge_28_date_epoch_equals_iso() {
    let w = alice_with(&[doc(json!([
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"DateGreaterThan": {"aws:CurrentTime": "1577836800"}}},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
         "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}}
    ]))]);
    for (now, want) in [
        ("2019-12-31T23:59:59Z", ImplicitDeny),
        ("2020-01-01T00:00:00Z", ImplicitDeny),
        ("2020-01-01T00:00:01Z", Allowed),
        ("2026-11-23T10:00:00Z", Allowed),
    ] {
        for action in ["s3:GetObject", "s3:PutObject"] {
            w.expect(req_ctx(&alice(), action, "arn:aws:s3:::b/k", json!({"aws:CurrentTime": now})), want);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 29–32: policy variables
// ---------------------------------------------------------------------------------------------

fn home_policy(version: Option<&str>, resource: &str) -> Value {
    let mut d = json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": resource}]});
    if let Some(v) = version {
        d["Version"] = json!(v);
    }
    d
}

#[test]
fn edge_29_username_variable_in_resource() {
    let policy = home_policy(Some("2012-10-17"), "arn:aws:s3:::home/${aws:username}/*");
    let w = Acct::new(A)
        .user("alice", std::slice::from_ref(&policy))
        .role("app", trust(json!(root_arn(A))), std::slice::from_ref(&policy))
        .world();
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::home/alice/x"), Allowed);
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::home/bob/x"), ImplicitDeny);
    // a role session has no aws:username, whatever its session name
    let session = session_arn(A, "app", "alice");
    w.expect(req(&session, "s3:GetObject", "arn:aws:s3:::home/alice/x"), ImplicitDeny);
    w.expect(req(&session, "s3:GetObject", "arn:aws:s3:::home/app/x"), ImplicitDeny);
}

#[test]
fn edge_30_variable_default_value() {
    let policy = home_policy(Some("2012-10-17"), "arn:aws:s3:::home/${aws:username, 'nobody'}/*");
    let w = Acct::new(A)
        .user("alice", std::slice::from_ref(&policy))
        .role("app", trust(json!(root_arn(A))), std::slice::from_ref(&policy))
        .world();
    let session = session_arn(A, "app", "s1");
    w.expect(req(&session, "s3:GetObject", "arn:aws:s3:::home/nobody/x"), Allowed);
    w.expect(req(&session, "s3:GetObject", "arn:aws:s3:::home/app/x"), ImplicitDeny);
    w.expect(req(&session, "s3:GetObject", "arn:aws:s3:::home/s1/x"), ImplicitDeny);
    // a user with a name gets its name, not the default
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::home/alice/x"), Allowed);
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::home/nobody/x"), ImplicitDeny);
}

#[test]
fn edge_31_variables_are_literal_before_2012_10_17() {
    for version in [Some("2008-10-17"), None] {
        let w = alice_with(&[home_policy(version, "arn:aws:s3:::home/${aws:username}/*")]);
        w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::home/alice/x"), ImplicitDeny);
        // the text is matched literally
        w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::home/${aws:username}/x"), Allowed);
    }
}

#[test]
fn edge_32_escaped_wildcard_is_literal() {
    let w = alice_with(&[doc(json!([{
        "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b",
        "Condition": {"StringLike": {"s3:prefix": "a${*}"}}
    }]))]);
    let list = |prefix: &str| req_ctx(&alice(), "s3:ListBucket", "arn:aws:s3:::b", json!({"s3:prefix": prefix}));
    w.expect(list("a*"), Allowed);
    w.expect(list("ab"), ImplicitDeny);
    w.expect(list("a"), ImplicitDeny);
}

// ---------------------------------------------------------------------------------------------
// 33–45: resource policies, boundaries, cross-account
// ---------------------------------------------------------------------------------------------

/// A bucket policy allowing `s3:GetObject` on `arn:aws:s3:::b/*` to `principal` (an `AWS` value).
fn bucket_allow(principal: Value) -> Value {
    doc(json!([{
        "Effect": "Allow", "Principal": {"AWS": principal},
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"
    }]))
}

/// A boundary that allows DynamoDB only.
fn ddb_only() -> Value {
    allow(json!("dynamodb:*"), json!("*"))
}

#[test]
fn edge_33_same_account_bucket_policy_names_user() {
    let w = Acct::new(A)
        .user("alice", &[])
        .user("bob", &[])
        .resource_policy("arn:aws:s3:::b", bucket_allow(json!(alice())))
        .world();
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
    w.expect(req(&user_arn(A, "bob"), "s3:GetObject", "arn:aws:s3:::b/k"), ImplicitDeny);
    w.expect(req(&alice(), "s3:PutObject", "arn:aws:s3:::b/k"), ImplicitDeny);
}

#[test]
fn edge_34_same_account_bucket_policy_names_account_only() {
    let w = Acct::new(A)
        .user("alice", &[])
        .user("carol", &[allow(json!("s3:GetObject"), json!("*"))])
        .resource_policy("arn:aws:s3:::b", bucket_allow(json!(A)))
        .world();
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), ImplicitDeny);
    w.expect(req(&user_arn(A, "carol"), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
}

#[test]
fn edge_35_same_account_policy_names_role() {
    let w = Acct::new(A)
        .role("app", trust(json!(root_arn(A))), &[])
        .role("other", trust(json!(root_arn(A))), &[])
        .resource_policy("arn:aws:s3:::b", bucket_allow(json!(role_arn(A, "app"))))
        .world();
    w.expect(req(&session_arn(A, "app", "s1"), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
    w.expect(req(&session_arn(A, "other", "s1"), "s3:GetObject", "arn:aws:s3:::b/k"), ImplicitDeny);
}

#[test]
fn edge_36_policy_names_role_but_role_boundary_blocks() {
    let w = Acct::new(A)
        .managed("DdbOnly", ddb_only())
        .managed("GetOnly", allow(json!("s3:GetObject"), json!("*")))
        .role_full("/", "app", trust(json!(root_arn(A))), &[], Some("DdbOnly"), &[])
        .role_full("/", "app2", trust(json!(root_arn(A))), &[], Some("GetOnly"), &[])
        .resource_policy("arn:aws:s3:::b", bucket_allow(json!([role_arn(A, "app"), role_arn(A, "app2")])))
        .world();
    w.expect(req(&session_arn(A, "app", "s1"), "s3:GetObject", "arn:aws:s3:::b/k"), ImplicitDeny);
    w.expect(req(&session_arn(A, "app2", "s1"), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
}

#[test]
fn edge_37_policy_names_session_despite_boundary() {
    let w = Acct::new(A)
        .managed("DdbOnly", ddb_only())
        .role_full("/", "app", trust(json!(root_arn(A))), &[], Some("DdbOnly"), &[])
        .resource_policy("arn:aws:s3:::b", bucket_allow(json!(session_arn(A, "app", "s1"))))
        .world();
    w.expect(req(&session_arn(A, "app", "s1"), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
    w.expect(req(&session_arn(A, "app", "s2"), "s3:GetObject", "arn:aws:s3:::b/k"), ImplicitDeny);
}

#[test]
fn edge_38_policy_names_user_despite_boundary() {
    let w = Acct::new(A)
        .managed("DdbOnly", ddb_only())
        .user_full("/", "alice", &[], Some("DdbOnly"), &[])
        .user_full("/", "bob", &[allow(json!("s3:*"), json!("*"))], Some("DdbOnly"), &[])
        .resource_policy("arn:aws:s3:::b", bucket_allow(json!(alice())))
        .world();
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
    // bob is not named: his identity allow is capped by his boundary
    w.expect(req(&user_arn(A, "bob"), "s3:GetObject", "arn:aws:s3:::b/k"), ImplicitDeny);
}

#[test]
fn edge_39_deny_in_boundary() {
    let w = Acct::new(A)
        .managed(
            "S3NoGet",
            doc(json!([
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}
            ])),
        )
        .user_full("/", "alice", &[allow(json!("s3:*"), json!("*"))], Some("S3NoGet"), &[])
        .resource_policy(
            "arn:aws:s3:::b",
            doc(json!([{"Effect": "Allow", "Principal": {"AWS": alice()}, "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}])),
        )
        .world();
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), ExplicitDeny);
    w.expect(req(&alice(), "s3:PutObject", "arn:aws:s3:::b/k"), Allowed);
}

#[test]
fn edge_40_boundary_caps_identity() {
    let w = Acct::new(A)
        .managed("S3Only", allow(json!("s3:*"), json!("*")))
        .user_full("/", "alice", &[allow(json!(["ec2:*", "s3:GetObject"]), json!("*"))], Some("S3Only"), &[])
        .world();
    w.expect(req(&alice(), "ec2:RunInstances", "*"), ImplicitDeny);
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
}

#[test]
fn edge_41_cross_account_named_caller_still_needs_identity_allow() {
    let a = Acct::new(A).user("alice", &[]).user("carol", &[allow(json!("s3:GetObject"), json!("*"))]);
    let b = Acct::new(B).resource_policy("arn:aws:s3:::b", bucket_allow(json!([alice(), user_arn(A, "carol")])));
    let w = World::of(&[&a, &b]);
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), ImplicitDeny);
    w.expect(req(&user_arn(A, "carol"), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
}

#[test]
fn edge_42_cross_account_needs_resource_policy() {
    let a = Acct::new(A).user("alice", &[allow(json!("*"), json!("*"))]);
    let b = Acct::new(B).user("owner", &[]);
    let w = World::of(&[&a, &b]);
    w.expect(with(req(&alice(), "s3:GetObject", "arn:aws:s3:::theirs/k"), "resourceAccount", json!(B)), ImplicitDeny);
    w.expect(req(&alice(), "sqs:SendMessage", &format!("arn:aws:sqs:us-east-1:{B}:queue")), ImplicitDeny);
    // the same calls inside alice's own account
    w.expect(with(req(&alice(), "s3:GetObject", "arn:aws:s3:::mine/k"), "resourceAccount", json!(A)), Allowed);
    w.expect(req(&alice(), "sqs:SendMessage", &format!("arn:aws:sqs:us-east-1:{A}:queue")), Allowed);
}

#[test]
fn edge_43_cross_account_policy_names_caller_account() {
    let a = Acct::new(A)
        .managed("Ec2Only", allow(json!("ec2:*"), json!("*")))
        .user("alice", &[allow(json!("s3:*"), json!("*"))])
        .user_full("/", "bob", &[allow(json!("s3:*"), json!("*"))], Some("Ec2Only"), &[])
        .user("carol", &[]);
    let b = Acct::new(B).resource_policy("arn:aws:s3:::b", bucket_allow(json!(A)));
    let w = World::of(&[&a, &b]);
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
    w.expect(req(&user_arn(A, "bob"), "s3:GetObject", "arn:aws:s3:::b/k"), ImplicitDeny);
    w.expect(req(&user_arn(A, "carol"), "s3:GetObject", "arn:aws:s3:::b/k"), ImplicitDeny);
}

#[test]
fn edge_44_resource_deny_naming_account_root_covers_sessions() {
    let a = Acct::new(A)
        .role("app", trust(json!(root_arn(A))), &[allow(json!("s3:*"), json!("*"))])
        .user("alice", &[allow(json!("s3:*"), json!("*"))])
        .resource_policy(
            "arn:aws:s3:::b",
            doc(json!([
                {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"},
                {"Sid": "NotAccountA", "Effect": "Deny", "Principal": {"AWS": root_arn(A)},
                 "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
            ])),
        );
    let b = Acct::new(B).role("reader", trust(json!(root_arn(B))), &[allow(json!("s3:GetObject"), json!("*"))]);
    let w = World::of(&[&a, &b]);
    w.expect(req(&session_arn(A, "app", "s1"), "s3:GetObject", "arn:aws:s3:::b/k"), ExplicitDeny);
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), ExplicitDeny);
    // the Deny does not reach other accounts' principals
    w.expect(req(&session_arn(B, "reader", "s1"), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
    // and covers only what it names
    w.expect(req(&session_arn(A, "app", "s1"), "s3:PutObject", "arn:aws:s3:::b/k"), Allowed);
}

#[test]
fn edge_45_not_principal_deny_applies_to_users_with_boundary() {
    let w = Acct::new(A)
        .managed("S3Boundary", allow(json!("s3:*"), json!("*")))
        .user_full("/", "u", &[allow(json!("s3:*"), json!("*"))], Some("S3Boundary"), &[])
        .user("v", &[allow(json!("s3:*"), json!("*"))])
        .user("w", &[allow(json!("s3:*"), json!("*"))])
        .resource_policy(
            "arn:aws:s3:::b",
            doc(json!([{
                "Effect": "Deny",
                "NotPrincipal": {"AWS": [user_arn(A, "u"), user_arn(A, "v"), root_arn(A)]},
                "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"]
            }])),
        )
        .world();
    w.expect(req(&user_arn(A, "u"), "s3:GetObject", "arn:aws:s3:::b/k"), ExplicitDeny);
    // v is listed with its account and has no boundary: it escapes the Deny
    w.expect(req(&user_arn(A, "v"), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
    // w is not listed
    w.expect(req(&user_arn(A, "w"), "s3:GetObject", "arn:aws:s3:::b/k"), ExplicitDeny);
}

// ---------------------------------------------------------------------------------------------
// 46–48: organizations
// ---------------------------------------------------------------------------------------------

#[test]
fn edge_46_scp_allow_list_caps_administrator() {
    let w = Acct::new(A)
        .user("admin", &[allow(json!("*"), json!("*"))])
        .organization(json!({
            "ManagementAccount": MGMT,
            "Accounts": [{"Id": A, "Parents": ["r-root", "ou-prod"]}],
            "ServiceControlPolicies": [
                {"Name": "S3Only", "Targets": ["ou-prod"], "Policy": allow(json!("s3:*"), json!("*"))}
            ]
        }))
        .world();
    let admin = user_arn(A, "admin");
    w.expect(req(&admin, "ec2:RunInstances", "*"), ImplicitDeny);
    w.expect(req(&admin, "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
}

#[test]
fn edge_47_scp_deny_binds_member_root_not_management_account() {
    let member = Acct::new(A).user("admin", &[allow(json!("*"), json!("*"))]).organization(json!({
        "ManagementAccount": MGMT,
        "Accounts": [
            {"Id": MGMT, "Parents": ["r-root"]},
            {"Id": A, "Parents": ["r-root", "ou-prod"]}
        ],
        "ServiceControlPolicies": [
            // AWS keeps FullAWSAccess attached beside a deny-list SCP
            {"Name": "FullAWSAccess", "Targets": ["r-root"], "Policy": allow(json!("*"), json!("*"))},
            {"Name": "NoIam", "Targets": ["r-root"],
             "Policy": doc(json!([{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]))}
        ]
    }));
    let mgmt = Acct::new(MGMT).user("boss", &[allow(json!("*"), json!("*"))]);
    let w = World::of(&[&member, &mgmt]);
    w.expect(req(&root_arn(A), "iam:CreateUser", &user_arn(A, "x")), ExplicitDeny);
    w.expect(req(&user_arn(A, "admin"), "iam:CreateUser", &user_arn(A, "x")), ExplicitDeny);
    // the member root is otherwise unrestricted in its own account
    w.expect(req(&root_arn(A), "sqs:SendMessage", &format!("arn:aws:sqs:us-east-1:{A}:q")), Allowed);
    // the management account is exempt
    w.expect(req(&user_arn(MGMT, "boss"), "iam:CreateUser", &user_arn(MGMT, "x")), Allowed);
    w.expect(req(&root_arn(MGMT), "iam:CreateUser", &user_arn(MGMT, "x")), Allowed);
}

#[test]
fn edge_48_rcp_requires_principal_org_id() {
    let org = json!({
        "Id": "o-x",
        "ManagementAccount": MGMT,
        "Accounts": [{"Id": A, "Parents": ["r-root", "ou-prod"]}],
        "ResourceControlPolicies": [{
            "Name": "OrgOnly", "Targets": ["r-root"],
            "Policy": doc(json!([{
                "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-x"}}
            }]))
        }]
    });
    let a = Acct::new(A)
        .user("alice", &[allow(json!("s3:*"), json!("*"))])
        .resource_policy("arn:aws:s3:::b", bucket_allow(json!([user_arn(B, "eve"), alice()])))
        .organization(org);
    let outsider = Acct::new(B).user("eve", &[allow(json!("s3:*"), json!("*"))]);
    let w = World::of(&[&a, &outsider]);
    w.expect(req(&user_arn(B, "eve"), "s3:GetObject", "arn:aws:s3:::b/k"), ExplicitDeny);
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
}

// ---------------------------------------------------------------------------------------------
// 49–62: roles, STS, special principals
// ---------------------------------------------------------------------------------------------

#[test]
fn edge_49_trust_names_account_needs_identity_permission() {
    let w = Acct::new(A)
        .user("ben", &[])
        .user("cat", &[allow(json!("sts:AssumeRole"), json!(role_arn(A, "*")))])
        .role("shared", trust(json!(root_arn(A))), &[])
        .role("shared2", trust(json!(A)), &[])
        .world();
    for role in ["shared", "shared2"] {
        w.expect(req(&user_arn(A, "ben"), "sts:AssumeRole", &role_arn(A, role)), ImplicitDeny);
        w.expect(req(&user_arn(A, "cat"), "sts:AssumeRole", &role_arn(A, role)), Allowed);
    }
}

#[test]
fn edge_50_trust_names_user_no_identity_policy_needed() {
    let w =
        Acct::new(A).user("amy", &[]).user("ben", &[]).role("deploy", trust(json!(user_arn(A, "amy"))), &[]).world();
    w.expect(req(&user_arn(A, "amy"), "sts:AssumeRole", &role_arn(A, "deploy")), Allowed);
    w.expect(req(&user_arn(A, "ben"), "sts:AssumeRole", &role_arn(A, "deploy")), ImplicitDeny);
}

#[test]
fn edge_51_trust_names_user_of_another_account() {
    let a =
        Acct::new(A).user("alice", &[]).user("carol", &[allow(json!("sts:AssumeRole"), json!(role_arn(B, "xacct")))]);
    let b = Acct::new(B).role("xacct", trust(json!([alice(), user_arn(A, "carol")])), &[]);
    let w = World::of(&[&a, &b]);
    w.expect(req(&alice(), "sts:AssumeRole", &role_arn(B, "xacct")), ImplicitDeny);
    w.expect(req(&user_arn(A, "carol"), "sts:AssumeRole", &role_arn(B, "xacct")), Allowed);
}

#[test]
fn edge_52_session_tags_need_tag_session_in_trust() {
    let amy = user_arn(A, "amy");
    let w = Acct::new(A)
        .user("amy", &[])
        .role("plain", trust(json!(amy)), &[])
        .role(
            "tagging",
            doc(
                json!([{"Effect": "Allow", "Principal": {"AWS": amy}, "Action": ["sts:AssumeRole", "sts:TagSession"]}]),
            ),
            &[],
        )
        .world();
    let tagged = json!({"aws:TagKeys": ["project"], "aws:RequestTag/project": "blue"});
    w.expect(req_ctx(&amy, "sts:AssumeRole", &role_arn(A, "plain"), tagged.clone()), ImplicitDeny);
    w.expect(req_ctx(&amy, "sts:AssumeRole", &role_arn(A, "tagging"), tagged), Allowed);
    // without tags the plain trust policy suffices
    w.expect(req(&amy, "sts:AssumeRole", &role_arn(A, "plain")), Allowed);
}

#[test]
fn edge_53_role_chaining_duration_limit() {
    use keycard::sts::{session_duration, StsOperation};
    let chained = || StsOperation::AssumeRole { role_max_session: 3600, chained: true };
    assert!(session_duration(chained(), Some(7200)).is_err(), "role chaining allows at most 3600 s");
    assert_eq!(session_duration(chained(), Some(3600)).ok(), Some(3600));
    assert_eq!(session_duration(chained(), None).ok(), Some(3600));
    let long_role = StsOperation::AssumeRole { role_max_session: 43200, chained: false };
    assert_eq!(session_duration(long_role, Some(7200)).ok(), Some(7200));
}

#[test]
fn edge_54_session_policy_caps_role() {
    let w = Acct::new(A).role("app", trust(json!(root_arn(A))), &[allow(json!("s3:*"), json!("*"))]).world();
    let session = session_arn(A, "app", "s1");
    let narrowed = |action: &str| {
        with(req(&session, action, "arn:aws:s3:::b/k"), "sessionPolicy", allow(json!("s3:GetObject"), json!("*")))
    };
    w.expect(narrowed("s3:PutObject"), ImplicitDeny);
    w.expect(narrowed("s3:GetObject"), Allowed);
    w.expect(req(&session, "s3:PutObject", "arn:aws:s3:::b/k"), Allowed);
}

#[test]
fn edge_55_federation_token_without_session_policy() {
    let fed = format!("arn:aws:sts::{A}:federated-user/fed1");
    let w = Acct::new(A)
        .user("admin", &[allow(json!("*"), json!("*"))])
        .resource_policy(
            "arn:aws:s3:::c",
            doc(json!([{"Effect": "Allow", "Principal": {"AWS": fed}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::c/*"}])),
        )
        .world();
    let call =
        |action: &str, resource: &str| with(req(&fed, action, resource), "federatingUser", json!(user_arn(A, "admin")));
    w.expect(call("s3:GetObject", "arn:aws:s3:::b/k"), ImplicitDeny);
    w.expect(call("ec2:RunInstances", "*"), ImplicitDeny);
    w.expect(call("s3:GetObject", "arn:aws:s3:::c/k"), Allowed);
    // with a session policy the admin's permissions come back, intersected with it
    let with_policy =
        |action: &str, resource: &str| with(call(action, resource), "sessionPolicy", allow(json!("s3:*"), json!("*")));
    w.expect(with_policy("s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
    w.expect(with_policy("ec2:RunInstances", "*"), ImplicitDeny);
}

#[test]
fn edge_56_role_session_does_not_inherit_caller_denies() {
    let w = Acct::new(A)
        .user(
            "bob",
            &[doc(json!([
                {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}
            ]))],
        )
        .role("app", trust(json!(root_arn(A))), &[allow(json!("s3:*"), json!("*"))])
        .world();
    let bob = user_arn(A, "bob");
    w.expect(req(&bob, "sts:AssumeRole", &role_arn(A, "app")), Allowed);
    w.expect(req(&session_arn(A, "app", "bob"), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
    w.expect(req(&bob, "s3:GetObject", "arn:aws:s3:::b/k"), ExplicitDeny);
}

#[test]
fn edge_57_get_caller_identity_ignores_deny() {
    let deny_all = doc(json!([
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "sts:GetCallerIdentity", "Resource": "*"}
    ]));
    let w = Acct::new(A)
        .user("alice", std::slice::from_ref(&deny_all))
        .role("app", trust(json!(root_arn(A))), std::slice::from_ref(&deny_all))
        .world();
    w.expect(req(&alice(), "sts:GetCallerIdentity", "*"), Allowed);
    w.expect(req(&session_arn(A, "app", "s1"), "sts:GetCallerIdentity", "*"), Allowed);
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), ExplicitDeny);
}

#[test]
fn edge_58_session_revocation() {
    let policies = [
        allow(json!("s3:*"), json!("*")),
        doc(json!([{
            "Effect": "Deny", "Action": "*", "Resource": "*",
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-03-01T12:00:00Z"}}
        }])),
    ];
    let w = Acct::new(A).role("app", trust(json!(root_arn(A))), &policies).user("alice", &policies).world();
    let session = session_arn(A, "app", "s1");
    let issued = |t: &str| req_ctx(&session, "s3:GetObject", "arn:aws:s3:::b/k", json!({"aws:TokenIssueTime": t}));
    w.expect(issued("2026-03-01T11:00:00Z"), ExplicitDeny);
    w.expect(issued("2026-03-01T13:00:00Z"), Allowed);
    // long-term keys carry no aws:TokenIssueTime
    w.expect(req(&alice(), "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
}

#[test]
fn edge_59_principal_arn_of_session_includes_role_path() {
    let w = Acct::new(A)
        .role_full(
            "/svc/",
            "app",
            trust(json!(root_arn(A))),
            &[doc(json!([
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                 "Condition": {"ArnEquals": {"aws:PrincipalArn": role_arn(A, "svc/app")}}},
                {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
                 "Condition": {"ArnEquals": {"aws:PrincipalArn": session_arn(A, "app", "s1")}}},
                {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "*",
                 "Condition": {"ArnEquals": {"aws:PrincipalArn": role_arn(A, "app")}}}
            ]))],
            None,
            &[],
        )
        .world();
    let session = session_arn(A, "app", "s1");
    w.expect(req(&session, "s3:GetObject", "arn:aws:s3:::b/k"), Allowed);
    w.expect(req(&session, "s3:PutObject", "arn:aws:s3:::b/k"), ImplicitDeny);
    w.expect(req(&session, "s3:DeleteObject", "arn:aws:s3:::b/k"), ImplicitDeny);
}

#[test]
fn edge_60_root_user() {
    let w = Acct::new(A)
        .user("alice", &[])
        .role(
            "admin",
            doc(json!([{"Effect": "Allow", "Principal": {"AWS": [root_arn(A), A]}, "Action": "sts:AssumeRole"}])),
            &[],
        )
        .world();
    let sqs = format!("arn:aws:sqs:us-east-1:{A}:queue");
    w.expect(req(&root_arn(A), "sqs:SendMessage", &sqs), Allowed);
    w.expect(req(A, "sqs:SendMessage", &sqs), Allowed);
    w.expect(with(req(&root_arn(A), "s3:GetObject", "arn:aws:s3:::b/k"), "resourceAccount", json!(A)), Allowed);
    // root cannot assume a role, even one whose trust policy names the account
    w.expect(req(&root_arn(A), "sts:AssumeRole", &role_arn(A, "admin")), ImplicitDeny);
    w.expect(req(A, "sts:AssumeRole", &role_arn(A, "admin")), ImplicitDeny);
}

#[test]
fn edge_61_anonymous_caller() {
    let w = Acct::new(A)
        .resource_policy(
            "arn:aws:s3:::pub",
            doc(json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::pub/*"}])),
        )
        .resource_policy(
            "arn:aws:s3:::priv",
            doc(json!([{"Effect": "Allow", "Principal": {"AWS": A}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::priv/*"}])),
        )
        .world();
    w.expect(req("*", "s3:GetObject", "arn:aws:s3:::pub/k"), Allowed);
    w.expect(req("*", "s3:GetObject", "arn:aws:s3:::priv/k"), ImplicitDeny);
    w.expect(req("*", "s3:PutObject", "arn:aws:s3:::pub/k"), ImplicitDeny);
}

#[test]
fn edge_62_kms_key_policy_must_grant() {
    let key = |id: &str| format!("arn:aws:kms:us-east-1:{A}:key/{id}");
    let w = Acct::new(A)
        .user("alice", &[allow(json!("kms:*"), json!("*"))])
        .role("keyadmin", trust(json!(root_arn(A))), &[])
        .resource_policy(
            &key("k-admins-only"),
            doc(json!([{"Effect": "Allow", "Principal": {"AWS": role_arn(A, "keyadmin")}, "Action": "kms:*", "Resource": "*"}])),
        )
        .resource_policy(
            &key("k-delegated"),
            doc(json!([{"Effect": "Allow", "Principal": {"AWS": root_arn(A)}, "Action": "kms:*", "Resource": "*"}])),
        )
        .world();
    w.expect(req(&alice(), "kms:Decrypt", &key("k-admins-only")), ImplicitDeny);
    // control: a key policy delegating to the account lets the identity policy decide
    w.expect(req(&alice(), "kms:Decrypt", &key("k-delegated")), Allowed);
}

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
//! Evaluation behaviour beyond the numbered edge cases: the context keys the store supplies,
//! the defaults the engine fills in, credential restrictions, special principals, SCP and RCP
//! subtleties, `NotPrincipal` with role sessions, resource policies covering children and
//! cross-account role chaining (`docs/store.md`, `docs/http-api.md`,
//! and `docs/semantics.md`: principals, not-elements, evaluation, roles and STS, global keys).
//!
//! Every test builds minimal store documents with the builder of `common`, sends requests and asserts
//! the exact decision. Each request is answered by the snapshot and by the reference evaluator,
//! which must agree. Each behaviour is shown with a control request whose outcome differs, so
//! that no test passes merely because nothing is allowed (or nothing denied).

use keycard::{Decision, StatementKind, Store};
use serde_json::{json, Value};

mod common;
use common::*;

use Decision::{Allowed, ExplicitDeny, ImplicitDeny};

/// An account outside every organization used here.
const C: &str = "777788889999";
/// The organization id.
const ORG: &str = "o-abc123def4";

/// Whether an explanation records a matched statement of this kind, policy and effect.
fn has_match(ex: &keycard::Explanation, kind: StatementKind, policy: &str, effect: &str) -> bool {
    ex.matched().iter().any(|m| m.kind() == kind && m.policy() == policy && m.effect() == effect)
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// A request whose principal is a JSON object (`{"Service": ...}`, `{"Federated": ...}`).
fn req_obj(principal: Value, action: &str, resource: &str) -> Value {
    json!({"principal": principal, "action": action, "resource": resource})
}

fn federated_arn(account: &str, name: &str) -> String {
    format!("arn:aws:sts::{account}:federated-user/{name}")
}

fn s3(path: &str) -> String {
    format!("arn:aws:s3:::{path}")
}

fn queue(account: &str, name: &str) -> String {
    format!("arn:aws:sqs:us-east-1:{account}:{name}")
}

// ---------------------------------------------------------------------------------------------
// Store documents
// ---------------------------------------------------------------------------------------------

/// A document with one `Allow` statement under a condition.
fn allow_if(action: Value, resource: Value, condition: Value) -> Value {
    doc(json!([{"Effect": "Allow", "Action": action, "Resource": resource, "Condition": condition}]))
}

fn allow_all() -> Value {
    allow(json!("*"), json!("*"))
}

/// A resource policy with one `Allow` statement for `principal` (a `Principal` value).
fn grant(principal: Value, action: Value, resource: Value) -> Value {
    doc(json!([{"Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource}]))
}

/// An SCP or RCP entry of the `Organization` extension.
fn org_policy(name: &str, target: &str, policy: Value) -> Value {
    json!({"Name": name, "Targets": [target], "Policy": policy})
}

/// AWS's `FullAWSAccess` SCP.
fn full_aws_access(target: &str) -> Value {
    org_policy("FullAWSAccess", target, allow_all())
}

/// AWS's `RCPFullAWSAccess` RCP.
fn rcp_full_aws_access(target: &str) -> Value {
    org_policy(
        "RCPFullAWSAccess",
        target,
        doc(json!([{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}])),
    )
}

// ---------------------------------------------------------------------------------------------
// 1. Context keys the store supplies
// ---------------------------------------------------------------------------------------------

#[test]
fn context_username_is_the_users_name_and_absent_for_sessions() {
    let policy = allow_if(json!("s3:GetObject"), json!("*"), json!({"StringEquals": {"aws:username": "alice"}}));
    let only_without_username = allow_if(json!("s3:PutObject"), json!("*"), json!({"Null": {"aws:username": "true"}}));
    let w = Acct::new(A)
        .user("alice", &[policy.clone(), only_without_username.clone()])
        .user("bob", std::slice::from_ref(&policy))
        .role("alice", trust(json!(root_arn(A))), &[policy, only_without_username])
        .world();
    w.expect(req(&alice(), "s3:GetObject", &s3("b/k")), Allowed);
    w.expect(req(&user_arn(A, "bob"), "s3:GetObject", &s3("b/k")), ImplicitDeny);
    // a role session has no aws:username, even when the role and session share the name
    let session = session_arn(A, "alice", "alice");
    w.expect(req(&session, "s3:GetObject", &s3("b/k")), ImplicitDeny);
    w.expect(req(&session, "s3:PutObject", &s3("b/k")), Allowed);
    w.expect(req(&alice(), "s3:PutObject", &s3("b/k")), ImplicitDeny);
}

#[test]
fn context_userid_for_users_and_role_sessions() {
    let alice_id = user_id(A, "alice");
    let app_id = role_id(A, "app");
    let policy = doc(json!([
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"StringEquals": {"aws:userid": [alice_id, format!("{app_id}:s1")]}}},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
         "Condition": {"StringLike": {"aws:userid": "AROA*:worker-*"}}}
    ]));
    let w = Acct::new(A)
        .user("alice", std::slice::from_ref(&policy))
        .user("bob", std::slice::from_ref(&policy))
        .role("app", trust(json!(root_arn(A))), std::slice::from_ref(&policy))
        .world();
    w.expect(req(&alice(), "s3:GetObject", &s3("b/k")), Allowed);
    w.expect(req(&user_arn(A, "bob"), "s3:GetObject", &s3("b/k")), ImplicitDeny);
    // a session's aws:userid is ROLE_ID:SESSION_NAME
    w.expect(req(&session_arn(A, "app", "s1"), "s3:GetObject", &s3("b/k")), Allowed);
    w.expect(req(&session_arn(A, "app", "s2"), "s3:GetObject", &s3("b/k")), ImplicitDeny);
    w.expect(req(&session_arn(A, "app", "worker-7"), "s3:PutObject", &s3("b/k")), Allowed);
    w.expect(req(&session_arn(A, "app", "s1"), "s3:PutObject", &s3("b/k")), ImplicitDeny);
    // a user's ID starts with AIDA, not AROA
    w.expect(req(&alice(), "s3:PutObject", &s3("b/k")), ImplicitDeny);
}

#[test]
fn context_principal_arn_of_users_and_sessions_includes_the_path() {
    // a bucket policy open to "*" but narrowed by aws:PrincipalArn
    let w = Acct::new(A)
        .user_full("/dev/", "alice", &[], None, &[])
        .role_full("/svc/", "app", trust(json!(root_arn(A))), &[], None, &[])
        .role("other", trust(json!(root_arn(A))), &[])
        .resource_policy(
            &s3("b"),
            doc(json!([
                {"Sid": "SvcRoles", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": s3("b/*"), "Condition": {"ArnLike": {"aws:PrincipalArn": role_arn(A, "svc/*")}}},
                {"Sid": "DevUser", "Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
                 "Resource": s3("b/*"), "Condition": {"StringEquals": {"aws:PrincipalArn": user_arn(A, "dev/alice")}}}
            ])),
        )
        .world();
    let session = session_arn(A, "app", "s1");
    let ex = w.explain(req(&session, "s3:GetObject", &s3("b/k")), Allowed);
    assert!(has_match(&ex, StatementKind::Resource, &s3("b"), "Allow"), "{ex:?}");
    w.expect(req(&session_arn(A, "other", "s1"), "s3:GetObject", &s3("b/k")), ImplicitDeny);
    w.expect(req(&user_arn(A, "dev/alice"), "s3:PutObject", &s3("b/k")), Allowed);
    w.expect(req(&user_arn(A, "dev/alice"), "s3:GetObject", &s3("b/k")), ImplicitDeny);
    w.expect(req(&session, "s3:PutObject", &s3("b/k")), ImplicitDeny);
}

#[test]
fn context_principal_account_in_a_resource_policy() {
    let reader = allow(json!("s3:GetObject"), json!("*"));
    let a = Acct::new(A).resource_policy(
        &s3("shared"),
        doc(json!([{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": s3("shared/*"),
            "Condition": {"StringEquals": {"aws:PrincipalAccount": B}}
        }])),
    );
    let b = Acct::new(B).user("bob", std::slice::from_ref(&reader)).role(
        "app",
        trust(json!(root_arn(B))),
        std::slice::from_ref(&reader),
    );
    let c = Acct::new(C).user("carol", std::slice::from_ref(&reader));
    let w = World::of(&[&a, &b, &c]);
    w.expect(req(&user_arn(B, "bob"), "s3:GetObject", &s3("shared/k")), Allowed);
    w.expect(req(&session_arn(B, "app", "s1"), "s3:GetObject", &s3("shared/k")), Allowed);
    w.expect(req(&user_arn(C, "carol"), "s3:GetObject", &s3("shared/k")), ImplicitDeny);
}

#[test]
fn context_principal_type_per_kind_of_caller() {
    let types = ["User", "AssumedRole", "Account", "FederatedUser", "Anonymous"];
    // every caller but the anonymous one is also allowed by its own policies, so that only the
    // Deny statements (and the anonymous caller's "*" grant) decide
    let read = allow(json!("s3:GetObject"), json!("*"));
    let mut a = Acct::new(A).user("alice", std::slice::from_ref(&read)).role(
        "app",
        trust(json!(root_arn(A))),
        std::slice::from_ref(&read),
    );
    for t in types {
        let bucket = format!("only-{}", t.to_ascii_lowercase());
        a = a.resource_policy(
            &s3(&bucket),
            doc(json!([
                {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": s3(&format!("{bucket}/*"))},
                {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": s3(&format!("{bucket}/*")),
                 "Condition": {"StringNotEquals": {"aws:PrincipalType": t}}}
            ])),
        );
    }
    let w = a.world();
    let fed = json!({"federatingUser": alice(), "sessionPolicy": read});
    let callers: [(&str, Value); 5] = [
        ("User", json!({"principal": alice()})),
        ("AssumedRole", json!({"principal": session_arn(A, "app", "s1")})),
        ("Account", json!({"principal": root_arn(A)})),
        ("FederatedUser", with(fed, "principal", json!(federated_arn(A, "fed1")))),
        ("Anonymous", json!({"principal": "*"})),
    ];
    for (caller_type, base) in &callers {
        for t in types {
            let mut request = base.clone();
            request["action"] = json!("s3:GetObject");
            request["resource"] = json!(s3(&format!("only-{}/k", t.to_ascii_lowercase())));
            let want = if *caller_type == t { Allowed } else { ExplicitDeny };
            w.expect(request, want);
        }
    }
}

#[test]
fn context_principal_tags_from_user_and_role_tags_case_insensitive_keys() {
    // the policy spells the key `Team`; the tags are `team` and `TEAM`
    let policy = doc(json!([
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalTag/Team": "blue"}}},
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::${aws:PrincipalTag/Team}/*"}
    ]));
    let w = Acct::new(A)
        .user_full("/", "alice", std::slice::from_ref(&policy), None, &[("team", "blue")])
        .user_full("/", "bob", std::slice::from_ref(&policy), None, &[("team", "Blue")])
        .user("carol", std::slice::from_ref(&policy))
        .role_full("/", "app", trust(json!(root_arn(A))), std::slice::from_ref(&policy), None, &[("TEAM", "blue")])
        .role_full("/", "ops", trust(json!(root_arn(A))), std::slice::from_ref(&policy), None, &[("team", "red")])
        .world();
    w.expect(req(&alice(), "s3:GetObject", &s3("x/k")), Allowed);
    w.expect(req(&alice(), "s3:PutObject", &s3("blue/k")), Allowed);
    w.expect(req(&alice(), "s3:PutObject", &s3("red/k")), ImplicitDeny);
    // tag values compare case-sensitively under StringEquals
    w.expect(req(&user_arn(A, "bob"), "s3:GetObject", &s3("x/k")), ImplicitDeny);
    // no tag at all
    w.expect(req(&user_arn(A, "carol"), "s3:GetObject", &s3("x/k")), ImplicitDeny);
    w.expect(req(&user_arn(A, "carol"), "s3:PutObject", &s3("blue/k")), ImplicitDeny);
    // a session carries its role's tags
    w.expect(req(&session_arn(A, "app", "s1"), "s3:GetObject", &s3("x/k")), Allowed);
    w.expect(req(&session_arn(A, "app", "s1"), "s3:PutObject", &s3("blue/k")), Allowed);
    w.expect(req(&session_arn(A, "ops", "s1"), "s3:GetObject", &s3("x/k")), ImplicitDeny);
    w.expect(req(&session_arn(A, "ops", "s1"), "s3:PutObject", &s3("red/k")), Allowed);
}

#[test]
fn context_principal_org_id_and_paths_need_an_organization_id() {
    let bucket_policies = |acct: Acct| {
        acct.resource_policy(
            &s3("org-only"),
            doc(json!([{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": s3("org-only/*"),
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}
            }])),
        )
        .resource_policy(
            &s3("prod-only"),
            doc(json!([{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": s3("prod-only/*"),
                "Condition": {"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": format!("{ORG}/r-root/ou-prod/*")}}
            }])),
        )
        .resource_policy(
            &s3("dev-exact"),
            doc(json!([{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": s3("dev-exact/*"),
                "Condition": {"ForAnyValue:StringEquals": {"aws:PrincipalOrgPaths": format!("{ORG}/r-root/ou-dev/")}}
            }])),
        )
    };
    let org = |with_id: bool| {
        let mut o = json!({
            "ManagementAccount": MGMT,
            "Accounts": [
                {"Id": A, "Parents": ["r-root", "ou-prod"]},
                {"Id": B, "Parents": ["r-root", "ou-dev"]}
            ]
        });
        if with_id {
            o["Id"] = json!(ORG);
        }
        o
    };
    let reader = allow(json!("s3:GetObject"), json!("*"));
    let build = |with_id: bool| {
        let a = bucket_policies(Acct::new(A).user("alice", &[])).organization(org(with_id));
        let b = Acct::new(B).user("bob", std::slice::from_ref(&reader));
        let c = Acct::new(C).user("carol", std::slice::from_ref(&reader));
        World::of(&[&a, &b, &c])
    };
    let w = build(true);
    w.expect(req(&alice(), "s3:GetObject", &s3("org-only/k")), Allowed);
    w.expect(req(&user_arn(B, "bob"), "s3:GetObject", &s3("org-only/k")), Allowed);
    w.expect(req(&user_arn(C, "carol"), "s3:GetObject", &s3("org-only/k")), ImplicitDeny);
    w.expect(req(&alice(), "s3:GetObject", &s3("prod-only/k")), Allowed);
    w.expect(req(&user_arn(B, "bob"), "s3:GetObject", &s3("prod-only/k")), ImplicitDeny);
    w.expect(req(&user_arn(B, "bob"), "s3:GetObject", &s3("dev-exact/k")), Allowed);
    w.expect(req(&alice(), "s3:GetObject", &s3("dev-exact/k")), ImplicitDeny);
    // an Organization without an Id supplies neither key
    let w = build(false);
    w.expect(req(&alice(), "s3:GetObject", &s3("org-only/k")), ImplicitDeny);
    w.expect(req(&user_arn(B, "bob"), "s3:GetObject", &s3("org-only/k")), ImplicitDeny);
    w.expect(req(&alice(), "s3:GetObject", &s3("prod-only/k")), ImplicitDeny);
}

#[test]
fn context_resource_tags_from_resource_policy_entries_exact_arn_only() {
    let owner_only = |arn: &str| grant(json!({"AWS": root_arn(A)}), json!("*"), json!(arn));
    let w = Acct::new(A)
        .user(
            "alice",
            &[allow_if(
                json!(["sqs:SendMessage", "s3:ListBucket", "s3:GetObject"]),
                json!("*"),
                json!({"StringEquals": {"aws:ResourceTag/team": "blue"}}),
            )],
        )
        .resource_policy_tagged(&queue(A, "blue-q"), owner_only(&queue(A, "blue-q")), &[("team", "blue")])
        .resource_policy_tagged(&queue(A, "red-q"), owner_only(&queue(A, "red-q")), &[("team", "red")])
        .resource_policy_tagged(&s3("blue-bucket"), owner_only("*"), &[("team", "blue")])
        .world();
    w.expect(req(&alice(), "sqs:SendMessage", &queue(A, "blue-q")), Allowed);
    w.expect(req(&alice(), "sqs:SendMessage", &queue(A, "red-q")), ImplicitDeny);
    w.expect(req(&alice(), "sqs:SendMessage", &queue(A, "untagged-q")), ImplicitDeny);
    w.expect(req(&alice(), "s3:ListBucket", &s3("blue-bucket")), Allowed);
    // an object below the bucket does not carry the bucket's tags
    let ex = w.explain(req(&alice(), "s3:GetObject", &s3("blue-bucket/k")), ImplicitDeny);
    assert!(ex.missing_context_keys().iter().any(|k| k.eq_ignore_ascii_case("aws:ResourceTag/team")), "{ex:?}");
    // the object's own tags come with the request
    let tagged = json!({"aws:ResourceTag/team": "blue"});
    w.expect(req_ctx(&alice(), "s3:GetObject", &s3("blue-bucket/k"), tagged), Allowed);
}

#[test]
fn context_resource_tags_of_a_role_resource() {
    let abac = allow_if(
        json!(["sts:AssumeRole", "iam:GetRole"]),
        json!("*"),
        json!({"StringEquals": {"aws:ResourceTag/env": "prod"}}),
    );
    let w = Acct::new(A)
        .user("alice", &[abac])
        .role_full("/", "prod-deployer", trust(json!(root_arn(A))), &[], None, &[("env", "prod")])
        .role_full("/", "dev-deployer", trust(json!(root_arn(A))), &[], None, &[("env", "dev")])
        .role("untagged", trust(json!(root_arn(A))), &[])
        .world();
    w.expect(req(&alice(), "sts:AssumeRole", &role_arn(A, "prod-deployer")), Allowed);
    w.expect(req(&alice(), "sts:AssumeRole", &role_arn(A, "dev-deployer")), ImplicitDeny);
    w.expect(req(&alice(), "sts:AssumeRole", &role_arn(A, "untagged")), ImplicitDeny);
    w.expect(req(&alice(), "iam:GetRole", &role_arn(A, "prod-deployer")), Allowed);
    w.expect(req(&alice(), "iam:GetRole", &role_arn(A, "dev-deployer")), ImplicitDeny);
}

#[test]
fn context_resource_account_from_bucket_policy_owner() {
    let perimeter = doc(json!([
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Sid": "OwnAccountOnly", "Effect": "Deny", "Action": "s3:*", "Resource": "*",
         "Condition": {"StringNotEquals": {"aws:ResourceAccount": A}}}
    ]));
    let a = Acct::new(A)
        .user("alice", &[perimeter])
        .user("ann", &[allow(json!("s3:*"), json!("*"))])
        .resource_policy(&s3("mine"), grant(json!({"AWS": root_arn(A)}), json!("s3:*"), json!("*")));
    let b = Acct::new(B).resource_policy(
        &s3("theirs"),
        grant(json!({"AWS": [alice(), user_arn(A, "ann")]}), json!("s3:GetObject"), json!(s3("theirs/*"))),
    );
    let w = World::of(&[&a, &b]);
    w.expect(req(&alice(), "s3:GetObject", &s3("mine/k")), Allowed);
    let ex = w.explain(req(&alice(), "s3:GetObject", &s3("theirs/k")), ExplicitDeny);
    assert!(ex.matched().iter().any(|m| m.kind() == StatementKind::Identity && m.effect() == "Deny"), "{ex:?}");
    // control: the cross-account grant itself works
    w.expect(req(&user_arn(A, "ann"), "s3:GetObject", &s3("theirs/k")), Allowed);
    // a request may name the owner of a bucket the store does not know
    w.expect(with(req(&alice(), "s3:GetObject", &s3("unknown/k")), "resourceAccount", json!(B)), ExplicitDeny);
}

#[test]
fn context_principal_is_aws_service() {
    let w = Acct::new(A)
        .user("alice", &[allow(json!("s3:*"), json!("*"))])
        .resource_policy(
            &s3("logs"),
            doc(json!([
                {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                 "Action": "s3:PutObject", "Resource": s3("logs/*")},
                {"Sid": "OnlyServicesWrite", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                 "Resource": s3("logs/*"), "Condition": {"Bool": {"aws:PrincipalIsAWSService": "false"}}}
            ])),
        )
        .resource_policy(
            &s3("svc-read"),
            doc(json!([{
                "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": s3("svc-read/*"),
                "Condition": {"Bool": {"aws:PrincipalIsAWSService": "true"}}
            }])),
        )
        .world();
    let trail = json!({"Service": "cloudtrail.amazonaws.com"});
    w.expect(req(&alice(), "s3:PutObject", &s3("logs/k")), ExplicitDeny);
    w.expect(req(&alice(), "s3:GetObject", &s3("logs/k")), Allowed);
    w.expect(req_obj(trail.clone(), "s3:PutObject", &s3("logs/k")), Allowed);
    w.expect(req_obj(trail, "s3:GetObject", &s3("svc-read/k")), Allowed);
    w.expect(req_obj(json!({"Service": "config.amazonaws.com"}), "s3:GetObject", &s3("svc-read/k")), Allowed);
    // alice reads svc-read through her own policy, not through the service-only statement
    let ex = w.explain(req(&alice(), "s3:GetObject", &s3("svc-read/k")), Allowed);
    assert!(!ex.matched().iter().any(|m| m.kind() == StatementKind::Resource), "{ex:?}");
    w.expect(req("*", "s3:GetObject", &s3("svc-read/k")), ImplicitDeny);
}

// ---------------------------------------------------------------------------------------------
// 2. Defaults
// ---------------------------------------------------------------------------------------------

#[test]
fn default_current_time_from_the_clock() {
    let w = Acct::new(A)
        .user(
            "alice",
            &[doc(json!([
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                 "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}},
                {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
                 "Condition": {"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}},
                {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "*",
                 "Condition": {"NumericGreaterThan": {"aws:EpochTime": "1577836800"}}}
            ]))],
        )
        .world();
    let ex = w.explain(req(&alice(), "s3:GetObject", &s3("b/k")), Allowed);
    assert!(ex.missing_context_keys().is_empty(), "the clock supplies aws:CurrentTime: {ex:?}");
    w.expect(req(&alice(), "s3:PutObject", &s3("b/k")), ImplicitDeny);
    w.expect(req(&alice(), "s3:DeleteObject", &s3("b/k")), Allowed);
    // a given time replaces the clock
    let in_2019 = json!({"aws:CurrentTime": "2019-06-01T00:00:00Z"});
    w.expect(req_ctx(&alice(), "s3:PutObject", &s3("b/k"), in_2019.clone()), Allowed);
    w.expect(req_ctx(&alice(), "s3:GetObject", &s3("b/k"), in_2019.clone()), ImplicitDeny);
    w.expect(req_ctx(&alice(), "s3:DeleteObject", &s3("b/k"), in_2019), ImplicitDeny);
}

#[test]
fn given_current_time_sets_epoch_time() {
    // 2019-06-01T00:00:00Z is 1559347200 seconds after the epoch
    let w = Acct::new(A)
        .user(
            "alice",
            &[doc(json!([
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                 "Condition": {"NumericLessThan": {"aws:EpochTime": "1577836800"}}},
                {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*",
                 "Condition": {"NumericEquals": {"aws:EpochTime": "1559347200"}}},
                {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "*",
                 "Condition": {"DateEquals": {"aws:CurrentTime": "2019-06-01T00:00:00Z"}}}
            ]))],
        )
        .world();
    let in_2019 = json!({"aws:CurrentTime": "2019-06-01T00:00:00Z"});
    w.expect(req_ctx(&alice(), "s3:GetObject", &s3("b/k"), in_2019.clone()), Allowed);
    w.expect(req_ctx(&alice(), "s3:PutObject", &s3("b/k"), in_2019), Allowed);
    // without it the clock (after 2020) decides
    w.expect(req(&alice(), "s3:GetObject", &s3("b/k")), ImplicitDeny);
    w.expect(req(&alice(), "s3:PutObject", &s3("b/k")), ImplicitDeny);
    // and a given aws:EpochTime sets aws:CurrentTime
    let epoch = json!({"aws:EpochTime": 1_559_347_200});
    w.expect(req_ctx(&alice(), "s3:DeleteObject", &s3("b/k"), epoch), Allowed);
    w.expect(req(&alice(), "s3:DeleteObject", &s3("b/k")), ImplicitDeny);
}

#[test]
fn default_via_aws_service_is_false() {
    let w = Acct::new(A)
        .user(
            "alice",
            &[doc(json!([
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Sid": "OnlyThroughServices", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*",
                 "Condition": {"Bool": {"aws:ViaAWSService": "false"}}}
            ]))],
        )
        .world();
    let ex = w.explain(req(&alice(), "s3:GetObject", &s3("b/k")), ExplicitDeny);
    assert!(ex.matched().iter().any(|m| m.sid() == Some("OnlyThroughServices")), "{ex:?}");
    w.expect(req_ctx(&alice(), "s3:GetObject", &s3("b/k"), json!({"aws:ViaAWSService": true})), Allowed);
    w.expect(req_ctx(&alice(), "s3:GetObject", &s3("b/k"), json!({"aws:ViaAWSService": false})), ExplicitDeny);
    w.expect(req(&alice(), "s3:PutObject", &s3("b/k")), Allowed);
}

// ---------------------------------------------------------------------------------------------
// 3. Credential restrictions
// ---------------------------------------------------------------------------------------------

#[test]
fn federated_user_cannot_call_iam_or_sts_but_get_caller_identity() {
    let w = Acct::new(A)
        .user("admin", &[allow_all()])
        .role("target", trust(json!([root_arn(A), federated_arn(A, "fed1")])), &[])
        .world();
    let fed = federated_arn(A, "fed1");
    let call = |action: &str, resource: &str| {
        let r = with(req(&fed, action, resource), "federatingUser", json!(user_arn(A, "admin")));
        with(r, "sessionPolicy", allow_all())
    };
    let ex = w.explain(call("iam:ListUsers", "*"), ImplicitDeny);
    assert_eq!(ex.notes(), ["a federated user (GetFederationToken) cannot call IAM"], "{ex:?}");
    w.expect(call("iam:GetUser", &user_arn(A, "admin")), ImplicitDeny);
    w.expect(call("sts:AssumeRole", &role_arn(A, "target")), ImplicitDeny);
    w.expect(call("sts:GetSessionToken", "*"), ImplicitDeny);
    w.expect(call("s3:GetObject", &s3("b/k")), Allowed);
    w.expect(call("ec2:DescribeInstances", "*"), Allowed);
    w.expect(call("sts:GetCallerIdentity", "*"), Allowed);
    // control: the federating user itself may do all of it
    let admin = user_arn(A, "admin");
    w.expect(req(&admin, "iam:ListUsers", "*"), Allowed);
    w.expect(req(&admin, "sts:AssumeRole", &role_arn(A, "target")), Allowed);
}

#[test]
fn federated_user_without_session_policy_has_no_identity_permissions() {
    let w = Acct::new(A).user("admin", &[allow_all()]).world();
    let fed = federated_arn(A, "fed1");
    let call =
        |action: &str, resource: &str| with(req(&fed, action, resource), "federatingUser", json!(user_arn(A, "admin")));
    let ex = w.explain(call("s3:GetObject", &s3("b/k")), ImplicitDeny);
    assert_eq!(ex.notes(), ["the session policy does not allow the action"], "{ex:?}");
    w.expect(call("ec2:DescribeInstances", "*"), ImplicitDeny);
    w.expect(with(call("s3:GetObject", &s3("b/k")), "sessionPolicy", allow(json!("s3:*"), json!("*"))), Allowed);
}

#[test]
fn role_session_cannot_get_session_or_federation_token() {
    let w = Acct::new(A).user("admin", &[allow_all()]).role("app", trust(json!(root_arn(A))), &[allow_all()]).world();
    let session = session_arn(A, "app", "s1");
    let ex = w.explain(req(&session, "sts:GetSessionToken", "*"), ImplicitDeny);
    assert_eq!(ex.notes(), ["only long-term credentials (IAM users, root) can call sts:GetSessionToken"], "{ex:?}");
    w.expect(req(&session, "sts:GetFederationToken", &federated_arn(A, "x")), ImplicitDeny);
    // a role ARN used as the principal stands for a session of it
    w.expect(req(&role_arn(A, "app"), "sts:GetSessionToken", "*"), ImplicitDeny);
    // control: the session's Allow * is in force for other actions; a user may call both
    w.expect(req(&session, "s3:GetObject", &s3("b/k")), Allowed);
    w.expect(req(&user_arn(A, "admin"), "sts:GetFederationToken", &federated_arn(A, "x")), Allowed);
    w.expect(req(&user_arn(A, "admin"), "sts:GetSessionToken", "*"), Allowed);
}

#[test]
fn get_session_token_is_outside_policy_control_for_users() {
    // IAM User Guide, "Permissions for GetSessionToken": no permission is required and "you cannot
    // use policies to control authentication operations": a Deny naming it has no effect.
    let w = Acct::new(A)
        .user("plain", &[])
        .user(
            "denied",
            &[doc(json!([
                {"Effect": "Deny", "Action": "sts:GetSessionToken", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}
            ]))],
        )
        .user(
            "office",
            &[doc(json!([
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "*", "Resource": "*",
                 "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}
            ]))],
        )
        .world();
    let ex = w.explain(req(&user_arn(A, "plain"), "sts:GetSessionToken", "*"), Allowed);
    assert_eq!(ex.notes(), ["sts:GetSessionToken is an authentication operation: no policy controls it"], "{ex:?}");
    w.expect(req(&user_arn(A, "denied"), "sts:GetSessionToken", "*"), Allowed);
    w.expect(req(&root_arn(A), "sts:GetSessionToken", "*"), Allowed);
    let from = |action: &str, resource: &str, ip: &str| {
        req_ctx(&user_arn(A, "office"), action, resource, json!({"aws:SourceIp": ip}))
    };
    w.expect(from("sts:GetSessionToken", "*", "198.51.100.1"), Allowed);
    w.expect(from("sts:GetSessionToken", "*", "203.0.113.9"), Allowed);
    // control: the same Deny statements are in force for other actions
    w.expect(from("s3:GetObject", &s3("b/k"), "198.51.100.1"), ExplicitDeny);
    w.expect(from("s3:GetObject", &s3("b/k"), "203.0.113.9"), Allowed);
    w.expect(req(&user_arn(A, "denied"), "s3:GetObject", &s3("b/k")), ExplicitDeny);
    w.expect(req(&user_arn(A, "plain"), "s3:GetObject", &s3("b/k")), ImplicitDeny);
}

// ---------------------------------------------------------------------------------------------
// 4. Special principals
// ---------------------------------------------------------------------------------------------

#[test]
fn service_principal_assumes_role_only_when_trust_names_it() {
    let w = Acct::new(A)
        .user("alice", &[allow(json!("sts:AssumeRole"), json!("*"))])
        .role(
            "instance",
            doc(
                json!([{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]),
            ),
            &[],
        )
        .world();
    let ex = w
        .explain(req_obj(json!({"Service": "ec2.amazonaws.com"}), "sts:AssumeRole", &role_arn(A, "instance")), Allowed);
    assert!(ex.matched().iter().any(|m| m.kind() == StatementKind::Trust && m.effect() == "Allow"), "{ex:?}");
    w.expect(
        req_obj(json!({"Service": "lambda.amazonaws.com"}), "sts:AssumeRole", &role_arn(A, "instance")),
        ImplicitDeny,
    );
    // a user's identity permission does not replace the trust policy
    w.expect(req(&alice(), "sts:AssumeRole", &role_arn(A, "instance")), ImplicitDeny);
}

#[test]
fn service_principal_writes_through_bucket_policy() {
    let w = Acct::new(A)
        .resource_policy(
            &s3("trail"),
            doc(json!([
                {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                 "Action": "s3:GetBucketAcl", "Resource": s3("trail")},
                {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
                 "Action": "s3:PutObject", "Resource": s3(&format!("trail/AWSLogs/{A}/*"))}
            ])),
        )
        .world();
    let trail = || json!({"Service": "cloudtrail.amazonaws.com"});
    w.expect(req_obj(trail(), "s3:PutObject", &s3(&format!("trail/AWSLogs/{A}/x.json.gz"))), Allowed);
    w.expect(req_obj(trail(), "s3:GetBucketAcl", &s3("trail")), Allowed);
    w.expect(req_obj(trail(), "s3:PutObject", &s3("trail/elsewhere/x")), ImplicitDeny);
    w.expect(req_obj(trail(), "s3:DeleteObject", &s3(&format!("trail/AWSLogs/{A}/x.json.gz"))), ImplicitDeny);
    w.expect(req_obj(trail(), "s3:PutObject", &s3(&format!("other/AWSLogs/{A}/x"))), ImplicitDeny);
    w.expect(
        req_obj(json!({"Service": "config.amazonaws.com"}), "s3:PutObject", &s3(&format!("trail/AWSLogs/{A}/x"))),
        ImplicitDeny,
    );
}

#[test]
fn web_identity_assumes_role_with_audience_condition() {
    let provider = format!("arn:aws:iam::{A}:oidc-provider/oidc.example.com");
    let w = Acct::new(A)
        .role(
            "web",
            doc(json!([{
                "Effect": "Allow", "Principal": {"Federated": provider},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {"oidc.example.com:aud": "sts.amazonaws.com"}}
            }])),
            &[],
        )
        .world();
    let call = |idp: &str, action: &str, context: Value| json!({"principal": {"Federated": idp}, "action": action, "resource": role_arn(A, "web"), "context": context});
    let aud = json!({"oidc.example.com:aud": "sts.amazonaws.com"});
    w.expect(call(&provider, "sts:AssumeRoleWithWebIdentity", aud.clone()), Allowed);
    let ex = w.explain(call(&provider, "sts:AssumeRoleWithWebIdentity", json!({})), ImplicitDeny);
    assert!(ex.missing_context_keys().iter().any(|k| k == "oidc.example.com:aud"), "{ex:?}");
    w.expect(
        call(&provider, "sts:AssumeRoleWithWebIdentity", json!({"oidc.example.com:aud": "someone-else"})),
        ImplicitDeny,
    );
    let other = format!("arn:aws:iam::{A}:oidc-provider/other.example.com");
    w.expect(call(&other, "sts:AssumeRoleWithWebIdentity", aud.clone()), ImplicitDeny);
    // the trust allows only the web-identity action
    w.expect(call(&provider, "sts:AssumeRole", aud), ImplicitDeny);
}

#[test]
fn anonymous_caller_only_through_star_resource_policies() {
    let w = Acct::new(A)
        .user("admin", &[allow_all()])
        .resource_policy(&s3("pub"), grant(json!("*"), json!("s3:GetObject"), json!(s3("pub/*"))))
        .resource_policy(&s3("pub2"), grant(json!({"AWS": "*"}), json!("s3:GetObject"), json!(s3("pub2/*"))))
        .resource_policy(&s3("named"), grant(json!({"AWS": user_arn(A, "admin")}), json!("s3:*"), json!("*")))
        .world();
    w.expect(req("*", "s3:GetObject", &s3("pub/k")), Allowed);
    w.expect(req("*", "s3:GetObject", &s3("pub2/k")), Allowed);
    // identity policies in the store never reach an anonymous caller
    let ex = w.explain(req("*", "s3:GetObject", &s3("private/k")), ImplicitDeny);
    assert_eq!(ex.notes(), ["this principal is allowed only by a resource policy that names it"], "{ex:?}");
    w.expect(req("*", "ec2:DescribeInstances", "*"), ImplicitDeny);
    w.expect(req("*", "s3:GetObject", &s3("named/k")), ImplicitDeny);
    w.expect(req("*", "s3:PutObject", &s3("pub/k")), ImplicitDeny);
    // control: the admin reads everything
    w.expect(req(&user_arn(A, "admin"), "s3:GetObject", &s3("private/k")), Allowed);
}

// ---------------------------------------------------------------------------------------------
// 5. SCP subtleties
// ---------------------------------------------------------------------------------------------

#[test]
fn scp_allow_list_at_ou_with_no_scp_at_account_level() {
    let org = json!({
        "Id": ORG,
        "ManagementAccount": MGMT,
        "Accounts": [
            {"Id": A, "Parents": ["r-root", "ou-prod"]},
            {"Id": B, "Parents": ["r-root", "ou-dev"]}
        ],
        "ServiceControlPolicies": [
            full_aws_access("r-root"),
            org_policy("ProdAllowList", "ou-prod", allow(json!(["s3:*", "ec2:Describe*"]), json!("*")))
        ]
    });
    let a = Acct::new(A).user("admin", &[allow_all()]).organization(org);
    let b = Acct::new(B).user("admin", &[allow_all()]);
    let w = World::of(&[&a, &b]);
    let admin = user_arn(A, "admin");
    w.expect(req(&admin, "s3:GetObject", &s3("b/k")), Allowed);
    w.expect(req(&admin, "ec2:DescribeInstances", "*"), Allowed);
    let ex = w.explain(req(&admin, "ec2:RunInstances", "*"), ImplicitDeny);
    assert_eq!(
        ex.notes(),
        ["no SCP attached at level 2 of the account's path allows the action"],
        "the OU (level 2) lacks the Allow: {ex:?}"
    );
    // the account in the other OU is bound by the root's FullAWSAccess only
    w.expect(req(&user_arn(B, "admin"), "ec2:RunInstances", "*"), Allowed);
}

#[test]
fn scp_does_not_bind_service_linked_roles() {
    let slr_path = "/aws-service-role/elasticloadbalancing.amazonaws.com/";
    let slr_name = "AWSServiceRoleForElasticLoadBalancing";
    let org = json!({
        "ManagementAccount": MGMT,
        "Accounts": [{"Id": A, "Parents": ["r-root", "ou-prod"]}],
        "ServiceControlPolicies": [
            full_aws_access("r-root"),
            org_policy("S3Only", "ou-prod", allow(json!("s3:*"), json!("*"))),
            org_policy("DenyEc2", "r-root", doc(json!([{"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}])))
        ]
    });
    let ec2 = allow(json!("ec2:*"), json!("*"));
    let w = Acct::new(A)
        .role_full(
            slr_path,
            slr_name,
            doc(json!([{"Effect": "Allow", "Principal": {"Service": "elasticloadbalancing.amazonaws.com"},
                        "Action": "sts:AssumeRole"}])),
            std::slice::from_ref(&ec2),
            None,
            &[],
        )
        .role("app", trust(json!(root_arn(A))), std::slice::from_ref(&ec2))
        .organization(org)
        .world();
    w.expect(req(&session_arn(A, slr_name, "ElasticLoadBalancing"), "ec2:CreateNetworkInterface", "*"), Allowed);
    let ex = w.explain(req(&session_arn(A, "app", "s1"), "ec2:CreateNetworkInterface", "*"), ExplicitDeny);
    assert!(has_match(&ex, StatementKind::Scp, "DenyEc2", "Deny"), "{ex:?}");
}

#[test]
fn scp_caps_same_account_resource_policy_grants() {
    let bucket = |acct: Acct| {
        acct.user("alice", &[]).resource_policy(
            &s3("b"),
            grant(json!({"AWS": alice()}), json!(["s3:GetObject", "s3:ListBucket"]), json!([s3("b"), s3("b/*")])),
        )
    };
    let deny = json!({
        "ManagementAccount": MGMT,
        "Accounts": [{"Id": A, "Parents": ["r-root"]}],
        "ServiceControlPolicies": [
            full_aws_access("r-root"),
            org_policy("NoGetObject", "r-root", doc(json!([{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}])))
        ]
    });
    let w = bucket(Acct::new(A)).organization(deny).world();
    let ex = w.explain(req(&alice(), "s3:GetObject", &s3("b/k")), ExplicitDeny);
    assert!(has_match(&ex, StatementKind::Scp, "NoGetObject", "Deny"), "{ex:?}");
    // control: the grant naming alice is in force
    w.expect(req(&alice(), "s3:ListBucket", &s3("b")), Allowed);

    let allow_list = json!({
        "ManagementAccount": MGMT,
        "Accounts": [{"Id": A, "Parents": ["r-root", "ou-prod"]}],
        "ServiceControlPolicies": [
            full_aws_access("r-root"),
            org_policy("Ec2Only", "ou-prod", allow(json!("ec2:*"), json!("*")))
        ]
    });
    let w = bucket(Acct::new(A)).organization(allow_list).world();
    w.expect(req(&alice(), "s3:GetObject", &s3("b/k")), ImplicitDeny);
    w.expect(req(&alice(), "s3:ListBucket", &s3("b")), ImplicitDeny);
}

#[test]
fn scp_of_resource_owner_does_not_bind_outside_callers() {
    let org = json!({
        "ManagementAccount": MGMT,
        "Accounts": [{"Id": A, "Parents": ["r-root"]}],
        "ServiceControlPolicies": [
            full_aws_access("r-root"),
            org_policy("NoS3", "r-root", doc(json!([{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}])))
        ]
    });
    let a = Acct::new(A)
        .user("alice", &[allow(json!("s3:*"), json!("*"))])
        .resource_policy(
            &s3("b"),
            grant(json!({"AWS": [user_arn(C, "carol"), alice()]}), json!("s3:GetObject"), json!(s3("b/*"))),
        )
        .organization(org);
    let c = Acct::new(C).user("carol", &[allow(json!("s3:GetObject"), json!("*"))]);
    let w = World::of(&[&a, &c]);
    w.expect(req(&user_arn(C, "carol"), "s3:GetObject", &s3("b/k")), Allowed);
    w.expect(req(&alice(), "s3:GetObject", &s3("b/k")), ExplicitDeny);
}

// ---------------------------------------------------------------------------------------------
// 6. RCP subtleties
// ---------------------------------------------------------------------------------------------

#[test]
fn rcp_deny_applies_only_to_supported_services() {
    let org = json!({
        "Id": ORG,
        "ManagementAccount": MGMT,
        "Accounts": [{"Id": A, "Parents": ["r-root", "ou-prod"]}],
        "ResourceControlPolicies": [
            rcp_full_aws_access("r-root"),
            org_policy("DenyEverything", "ou-prod",
                doc(json!([{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}])))
        ]
    });
    let w = Acct::new(A)
        .user("alice", &[allow_all()])
        .resource_policy(&s3("b"), grant(json!({"AWS": alice()}), json!("s3:*"), json!("*")))
        .organization(org)
        .world();
    let ex = w.explain(req(&alice(), "s3:GetObject", &s3("b/k")), ExplicitDeny);
    assert!(has_match(&ex, StatementKind::Rcp, "DenyEverything", "Deny"), "{ex:?}");
    w.expect(req(&alice(), "sqs:SendMessage", &queue(A, "q")), ExplicitDeny);
    w.expect(req(&alice(), "kms:Decrypt", &format!("arn:aws:kms:us-east-1:{A}:key/k1")), ExplicitDeny);
    // EC2 and IAM are outside RCPs
    w.expect(req(&alice(), "ec2:DescribeInstances", "*"), Allowed);
    w.expect(req(&alice(), "iam:ListUsers", "*"), Allowed);
}

#[test]
fn rcp_does_not_apply_to_management_account_resources() {
    let org = json!({
        "Id": ORG,
        "ManagementAccount": MGMT,
        "Accounts": [
            {"Id": MGMT, "Parents": ["r-root"]},
            {"Id": A, "Parents": ["r-root", "ou-prod"]}
        ],
        "ResourceControlPolicies": [
            rcp_full_aws_access("r-root"),
            org_policy("NoS3", "r-root",
                doc(json!([{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}])))
        ]
    });
    let s3_all = allow(json!("s3:*"), json!("*"));
    let mgmt = Acct::new(MGMT)
        .user("boss", std::slice::from_ref(&s3_all))
        .resource_policy(&s3("mgmt-bucket"), grant(json!({"AWS": alice()}), json!("s3:GetObject"), json!("*")))
        .organization(org);
    let a = Acct::new(A).user("alice", std::slice::from_ref(&s3_all)).resource_policy(
        &s3("member-bucket"),
        grant(json!({"AWS": user_arn(MGMT, "boss")}), json!("s3:GetObject"), json!("*")),
    );
    let w = World::of(&[&mgmt, &a]);
    w.expect(req(&user_arn(MGMT, "boss"), "s3:GetObject", &s3("mgmt-bucket/k")), Allowed);
    w.expect(req(&alice(), "s3:GetObject", &s3("mgmt-bucket/k")), Allowed);
    // a member account's resources are bound, whoever calls
    w.expect(req(&alice(), "s3:GetObject", &s3("member-bucket/k")), ExplicitDeny);
    w.expect(req(&user_arn(MGMT, "boss"), "s3:GetObject", &s3("member-bucket/k")), ExplicitDeny);
}

#[test]
fn rcp_allow_must_be_rcp_full_aws_access() {
    let load = |rcp: Value| {
        let doc = json!({
            "AccountId": A,
            "Organization": {
                "ManagementAccount": MGMT,
                "Accounts": [{"Id": A, "Parents": ["r-root"]}],
                "ResourceControlPolicies": [org_policy("Custom", "r-root", rcp)]
            }
        });
        Store::from_documents([("org.json", doc.to_string())])
    };
    let full = doc(json!([{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]));
    assert!(load(full).is_ok(), "RCPFullAWSAccess loads");
    let narrow_allow = doc(json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]));
    let conditional_allow = doc(json!([{
        "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}}
    }]));
    for bad in [narrow_allow, conditional_allow] {
        let err = load(bad.clone()).err().unwrap_or_else(|| panic!("a custom RCP Allow loaded: {bad}"));
        assert!(
            err.problems().iter().any(|p| p.pointer().starts_with("/Organization/ResourceControlPolicies/0/Policy")
                && p.message().contains("RCPFullAWSAccess")),
            "{:?}",
            err.problems()
        );
    }
    // a custom Deny is fine
    let deny = doc(json!([{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]));
    assert!(load(deny).is_ok(), "a custom RCP Deny loads");
}

#[test]
fn rcp_applies_to_aws_service_principals() {
    let org = json!({
        "Id": ORG,
        "ManagementAccount": MGMT,
        "Accounts": [{"Id": A, "Parents": ["r-root"]}],
        "ResourceControlPolicies": [
            rcp_full_aws_access("r-root"),
            org_policy("ConfusedDeputy", "r-root", doc(json!([{
                "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
                "Condition": {
                    "StringNotEqualsIfExists": {"aws:SourceAccount": A},
                    "Null": {"aws:SourceAccount": "false"},
                    "Bool": {"aws:PrincipalIsAWSService": "true"}
                }
            }])))
        ]
    });
    let w = Acct::new(A)
        .resource_policy(
            &s3("trail"),
            grant(json!({"Service": "cloudtrail.amazonaws.com"}), json!("s3:PutObject"), json!(s3("trail/*"))),
        )
        .organization(org)
        .world();
    let put = |source: &str| {
        json!({"principal": {"Service": "cloudtrail.amazonaws.com"}, "action": "s3:PutObject",
               "resource": s3("trail/x"), "context": {"aws:SourceAccount": source}})
    };
    w.expect(put(A), Allowed);
    w.expect(put(C), ExplicitDeny);
}

// ---------------------------------------------------------------------------------------------
// 7. NotPrincipal and role sessions
// ---------------------------------------------------------------------------------------------

#[test]
fn not_principal_role_session_escapes_only_when_session_role_and_account_are_listed() {
    let session = session_arn(A, "auditor", "audit-app");
    let role = role_arn(A, "auditor");
    let deny_all_but = |bucket: &str, listed: Value| {
        doc(json!([{
            "Effect": "Deny", "NotPrincipal": {"AWS": listed}, "Action": "s3:GetObject", "Resource": s3(&format!("{bucket}/*"))
        }]))
    };
    let w = Acct::new(A)
        .role("auditor", trust(json!(root_arn(A))), &[allow(json!("s3:GetObject"), json!("*"))])
        .resource_policy(&s3("all-three"), deny_all_but("all-three", json!([session, role, root_arn(A)])))
        .resource_policy(&s3("role-and-account"), deny_all_but("role-and-account", json!([role, A])))
        .resource_policy(&s3("session-and-role"), deny_all_but("session-and-role", json!([session, role])))
        .world();
    w.expect(req(&session, "s3:GetObject", &s3("all-three/k")), Allowed);
    w.expect(req(&session_arn(A, "auditor", "other"), "s3:GetObject", &s3("all-three/k")), ExplicitDeny);
    let ex = w.explain(req(&session, "s3:GetObject", &s3("role-and-account/k")), ExplicitDeny);
    assert!(has_match(&ex, StatementKind::Resource, &s3("role-and-account"), "Deny"), "{ex:?}");
    w.expect(req(&session, "s3:GetObject", &s3("session-and-role/k")), ExplicitDeny);
    // control: without a Deny the role's own policy allows
    w.expect(req(&session, "s3:GetObject", &s3("open/k")), Allowed);
}

// ---------------------------------------------------------------------------------------------
// 8. Resource policies cover their resource and what lies below it
// ---------------------------------------------------------------------------------------------

#[test]
fn resource_policy_covers_arn_and_children_only() {
    let w = Acct::new(A)
        .user("alice", &[])
        .user("bob", &[allow(json!("s3:*"), json!("*"))])
        // statements with Resource "*": only the policy's own ResourceArn limits their reach
        .resource_policy(&s3("b"), grant(json!({"AWS": alice()}), json!(["s3:GetObject", "s3:ListBucket"]), json!("*")))
        .resource_policy(
            &s3("c"),
            doc(json!([{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}])),
        )
        .world();
    w.expect(req(&alice(), "s3:GetObject", &s3("b/k")), Allowed);
    w.expect(req(&alice(), "s3:GetObject", &s3("b/deep/er/k")), Allowed);
    w.expect(req(&alice(), "s3:ListBucket", &s3("b")), Allowed);
    w.expect(req(&alice(), "s3:GetObject", &s3("bb/k")), ImplicitDeny);
    w.expect(req(&alice(), "s3:ListBucket", &s3("bb")), ImplicitDeny);
    w.expect(req(&user_arn(A, "bob"), "s3:GetObject", &s3("c/k")), ExplicitDeny);
    w.expect(req(&user_arn(A, "bob"), "s3:ListBucket", &s3("c")), ExplicitDeny);
    w.expect(req(&user_arn(A, "bob"), "s3:GetObject", &s3("cc/k")), Allowed);
    w.expect(req(&user_arn(A, "bob"), "s3:GetObject", &s3("c-logs/k")), Allowed);
}

// ---------------------------------------------------------------------------------------------
// 9. Cross-account role chaining
// ---------------------------------------------------------------------------------------------

#[test]
fn cross_account_role_chaining_needs_identity_permission() {
    let target = role_arn(A, "target");
    let a = Acct::new(A)
        .role("target", trust(json!([role_arn(B, "hop"), role_arn(B, "hop2"), role_arn(B, "hop3")])), &[])
        .role("other", trust(json!(root_arn(A))), &[]);
    let b = Acct::new(B)
        .role("hop", trust(json!(root_arn(B))), &[])
        .role("hop2", trust(json!(root_arn(B))), &[allow(json!("sts:AssumeRole"), json!(target))])
        .role("hop3", trust(json!(root_arn(B))), &[allow(json!("sts:AssumeRole"), json!(role_arn(A, "other")))]);
    let w = World::of(&[&a, &b]);
    let ex = w.explain(req(&session_arn(B, "hop", "s1"), "sts:AssumeRole", &target), ImplicitDeny);
    assert_eq!(ex.notes(), ["cross-account access needs an identity-policy allow in the caller's account"], "{ex:?}");
    let ex = w.explain(req(&session_arn(B, "hop2", "s1"), "sts:AssumeRole", &target), Allowed);
    assert!(has_match(&ex, StatementKind::Trust, &format!("{target}#trust"), "Allow"), "{ex:?}");
    w.expect(req(&session_arn(B, "hop3", "s1"), "sts:AssumeRole", &target), ImplicitDeny);
    // the identity permission alone does not replace the trust policy
    w.expect(req(&session_arn(B, "hop3", "s1"), "sts:AssumeRole", &role_arn(A, "other")), ImplicitDeny);
}

// ---------------------------------------------------------------------------------------------
// Regressions found by the differential suite's review of the reference evaluator
// ---------------------------------------------------------------------------------------------

/// AssumeRole needs signed credentials: an anonymous caller never assumes a role, even one whose
/// trust policy names `"*"`.
#[test]
fn anonymous_callers_cannot_assume_roles() {
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]});
    let w = World::of(&[&Acct::new("111122223333").role("open", trust, &[])]);
    let role = "arn:aws:iam::111122223333:role/open";
    w.expect(req("*", "sts:AssumeRole", role), Decision::ImplicitDeny);
    let ex = w.explain(req("*", "sts:AssumeRole", role), Decision::ImplicitDeny);
    assert_eq!(ex.notes(), ["an anonymous caller cannot call STS: it needs signed credentials"], "{ex:?}");
    // A signed caller named by "*" in the same account is allowed.
    let w = World::of(&[&Acct::new("111122223333")
        .role("open", json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole"}]}), &[])
        .user("u", &[])]);
    w.expect(req("arn:aws:iam::111122223333:user/u", "sts:AssumeRole", role), Decision::Allowed);
}

/// When the store knows the organization, a request cannot claim membership for an outsider.
#[test]
fn organization_keys_cannot_be_spoofed_from_the_request() {
    let org = json!({"Id": "o-x", "ManagementAccount": "999999999999",
        "Accounts": [{"Id": "111122223333", "Parents": ["r-root"]}],
        "ResourceControlPolicies": [{"Name": "OnlyOrg", "Targets": ["r-root"], "Policy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
             "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-x"}}}]}}]});
    let bucket = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "444455556666"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]});
    let w = World::of(&[
        &Acct::new("111122223333").resource_policy("arn:aws:s3:::b", bucket).organization(org),
        &Acct::new("444455556666").user("out", &[allow(json!("s3:GetObject"), json!("*"))]),
    ]);
    let outsider = "arn:aws:iam::444455556666:user/out";
    w.expect(req(outsider, "s3:GetObject", "arn:aws:s3:::b/k"), Decision::ExplicitDeny);
    w.expect(
        req_ctx(
            outsider,
            "s3:GetObject",
            "arn:aws:s3:::b/k",
            json!({"aws:PrincipalOrgID": "o-x", "aws:PrincipalOrgPaths": ["o-x/r-root/"]}),
        ),
        Decision::ExplicitDeny,
    );
}

/// `aws:ResourceAccount` is the resource's owner, not whatever the request's context says.
#[test]
fn resource_account_comes_from_the_owner() {
    let w = World::of(&[&Acct::new("111122223333").user(
        "u",
        &[doc(json!([{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*",
            "Condition": {"StringEquals": {"aws:ResourceAccount": "111122223333"}}}]))],
    )]);
    let u = "arn:aws:iam::111122223333:user/u";
    let queue = "arn:aws:sqs:us-east-1:111122223333:q";
    w.expect(req(u, "sqs:SendMessage", queue), Decision::Allowed);
    w.expect(req_ctx(u, "sqs:SendMessage", queue, json!({"aws:ResourceAccount": "999999999999"})), Decision::Allowed);
}

/// A role ARN used directly is its own identity: a NotPrincipal Deny listing the role and its
/// account lets it through, as it lets the role's sessions through when they are listed too.
#[test]
fn role_used_directly_escapes_not_principal_listing_it() {
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    let role = "arn:aws:iam::111122223333:role/app";
    let bucket = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Deny", "NotPrincipal": {"AWS": [role, "arn:aws:iam::111122223333:root"]}, "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}]});
    let w = World::of(&[&Acct::new("111122223333")
        .role("app", trust, &[allow(json!("s3:GetObject"), json!("*"))])
        .user("u", &[allow(json!("s3:GetObject"), json!("*"))])
        .resource_policy("arn:aws:s3:::b", bucket)]);
    w.expect(req(role, "s3:GetObject", "arn:aws:s3:::b/k"), Decision::Allowed);
    w.expect(req("arn:aws:iam::111122223333:user/u", "s3:GetObject", "arn:aws:s3:::b/k"), Decision::ExplicitDeny);
    // The session is not listed itself, so it does not escape (`docs/semantics.md#not-elements`).
    w.expect(
        req("arn:aws:sts::111122223333:assumed-role/app/s1", "s3:GetObject", "arn:aws:s3:::b/k"),
        Decision::ExplicitDeny,
    );
}

/// RCPs govern resources: an action on `*` (no resource) is outside them.
#[test]
fn rcps_do_not_apply_to_actions_without_a_resource() {
    let org = json!({"ManagementAccount": "999999999999",
        "Accounts": [{"Id": "111122223333", "Parents": ["r-root"]}],
        "ResourceControlPolicies": [{"Name": "NoS3", "Targets": ["r-root"], "Policy": {"Version": "2012-10-17", "Statement": [
            {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}}]});
    let w = World::of(&[&Acct::new("111122223333").user("u", &[allow(json!("s3:*"), json!("*"))]).organization(org)]);
    let u = "arn:aws:iam::111122223333:user/u";
    w.expect(req(u, "s3:ListAllMyBuckets", "*"), Decision::Allowed);
    w.expect(req(u, "s3:GetObject", "arn:aws:s3:::b/k"), Decision::ExplicitDeny);
}

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
//! The `explain` answer, exactly: every note in order, every matched statement in order, and the
//! missing context keys, for one case of each way a decision comes about
//! (`docs/http-api.md#post-v1authorize`, `docs/semantics.md#evaluation-algorithm`).
//!
//! A note said twice, a note left out or a note out of order fails here; the other tests check
//! decisions, these check the words that explain them.

use keycard::{Decision, Explanation};
use serde_json::{json, Value};

mod common;
use common::*;

use Decision::{Allowed, ExplicitDeny, ImplicitDeny};

/// The policy name an explanation gives the first inline policy of `entity_arn`.
fn inline0(entity_arn: &str) -> String {
    format!("{entity_arn}#Inline0")
}

/// A matched statement as `"KIND POLICY EFFECT"` (the statements here have no `Sid`).
fn matched(ex: &Explanation) -> Vec<String> {
    ex.matched()
        .iter()
        .map(|m| {
            assert_eq!(m.sid(), None, "{m:?}");
            format!("{:?} {} {}", m.kind(), m.policy(), m.effect())
        })
        .collect()
}

/// Asks `request` with `explain` and checks the decision and the whole explanation.
#[track_caller]
fn check(w: &World, request: Value, decision: Decision, want_matched: &[String], want_notes: &[&str]) {
    let ex = w.explain(request, decision);
    assert_eq!(matched(&ex), want_matched, "matched statements of {ex:#?}");
    assert_eq!(ex.notes(), want_notes, "notes of {ex:#?}");
    assert_eq!(ex.missing_context_keys(), Vec::<String>::new(), "{ex:#?}");
}

fn s3_all() -> Value {
    allow(json!("s3:*"), json!("*"))
}

fn ec2_only() -> Value {
    allow(json!("ec2:*"), json!("*"))
}

const OBJECT: &str = "arn:aws:s3:::b/k";

#[test]
fn boundary_that_does_not_allow_is_noted_once() {
    let s3_and_ec2 = allow(json!(["s3:*", "ec2:*"]), json!("*"));
    let w = Acct::new(A)
        .managed("Ec2Only", ec2_only())
        .user_full("/", "alice", &[s3_and_ec2], Some("Ec2Only"), &[])
        .world();
    check(
        &w,
        req(&alice(), "s3:GetObject", OBJECT),
        ImplicitDeny,
        &[format!("Identity {} Allow", inline0(&alice()))],
        &["the permissions boundary does not allow the action"],
    );
    // Control: the boundary allows EC2, so EC2 passes with both statements matched.
    check(
        &w,
        req(&alice(), "ec2:RunInstances", "*"),
        Allowed,
        &[format!("Identity {} Allow", inline0(&alice())), format!("Boundary {} Allow", policy_arn(A, "Ec2Only"))],
        &["allowed: an identity-based policy allows and nothing denies"],
    );
}

#[test]
fn boundary_and_session_policy_that_do_not_allow_are_noted_once_each_in_order() {
    let w = Acct::new(A)
        .managed("Ec2Only", ec2_only())
        .role_full("/", "app", trust(json!(root_arn(A))), &[s3_all()], Some("Ec2Only"), &[])
        .world();
    let session = session_arn(A, "app", "s1");
    let ec2_session =
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}});
    let s3_session =
        json!({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}});
    let role_inline = format!("Identity {} Allow", inline0(&role_arn(A, "app")));
    check(
        &w,
        with(req(&session, "s3:GetObject", OBJECT), "sessionPolicy", ec2_session.clone()),
        ImplicitDeny,
        std::slice::from_ref(&role_inline),
        &["the permissions boundary does not allow the action", "the session policy does not allow the action"],
    );
    // The session policy allows S3: only the boundary is missing.
    check(
        &w,
        with(req(&session, "s3:GetObject", OBJECT), "sessionPolicy", s3_session),
        ImplicitDeny,
        &[role_inline.clone(), "Session request#sessionPolicy Allow".to_owned()],
        &["the permissions boundary does not allow the action"],
    );
    // EC2: the boundary and the session policy allow, the role's own policies do not.
    check(
        &w,
        with(req(&session, "ec2:RunInstances", "*"), "sessionPolicy", ec2_session),
        ImplicitDeny,
        &[format!("Boundary {} Allow", policy_arn(A, "Ec2Only")), "Session request#sessionPolicy Allow".to_owned()],
        &["no identity-based policy allows the action"],
    );
}

#[test]
fn a_deny_in_the_boundary_is_an_explicit_deny() {
    let boundary = doc(json!([
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
    ]));
    let w =
        Acct::new(A).managed("NoDelete", boundary).user_full("/", "alice", &[s3_all()], Some("NoDelete"), &[]).world();
    check(
        &w,
        req(&alice(), "s3:DeleteObject", OBJECT),
        ExplicitDeny,
        &[format!("Boundary {} Deny", policy_arn(A, "NoDelete"))],
        &["explicitDeny: a Deny statement matches (see matched); an explicit deny always wins"],
    );
}

#[test]
fn cross_account_needs_both_sides() {
    let bucket = "arn:aws:s3:::theirs";
    let grant = doc(
        json!([{"Effect": "Allow", "Principal": {"AWS": alice()}, "Action": "s3:GetObject", "Resource": format!("{bucket}/*")}]),
    );
    let a = Acct::new(A).user("alice", &[]).user("bob", &[s3_all()]);
    let b = Acct::new(B).resource_policy(bucket, grant);
    let w = World::of(&[&a, &b]);
    check(
        &w,
        req(&alice(), "s3:GetObject", "arn:aws:s3:::theirs/k"),
        ImplicitDeny,
        &[format!("Resource {bucket} Allow")],
        &["cross-account access needs an identity-policy allow in the caller's account"],
    );
    check(
        &w,
        req(&user_arn(A, "bob"), "s3:GetObject", "arn:aws:s3:::theirs/k"),
        ImplicitDeny,
        &[format!("Identity {} Allow", inline0(&user_arn(A, "bob")))],
        &["cross-account access needs a resource policy in the resource's account that names the caller"],
    );
}

#[test]
fn assume_role_with_session_tags_explains_each_action() {
    let amy = user_arn(A, "amy");
    let w = Acct::new(A).user("amy", &[]).role("plain", trust(json!(amy)), &[]).world();
    let tagged = json!({"aws:TagKeys": ["project"], "aws:RequestTag/project": "blue"});
    let trust_policy = format!("Trust {}#trust Allow", role_arn(A, "plain"));
    check(
        &w,
        req_ctx(&amy, "sts:AssumeRole", &role_arn(A, "plain"), tagged),
        ImplicitDeny,
        std::slice::from_ref(&trust_policy),
        &[
            "allowed: the trust policy allows the caller",
            "session tags are passed: sts:TagSession must be allowed too",
            "this resource is accessible only through its resource (trust or key) policy, and it does not allow the caller",
        ],
    );
}

#[test]
fn operations_no_policy_controls() {
    let w = Acct::new(A).user("alice", &[]).world();
    check(
        &w,
        req(&alice(), "sts:GetCallerIdentity", "*"),
        Allowed,
        &[],
        &["sts:GetCallerIdentity is always allowed: no policy controls it"],
    );
    check(
        &w,
        req(&user_arn(A, "nobody"), "s3:GetObject", OBJECT),
        ImplicitDeny,
        &[],
        &["unknown principal: no user arn:aws:iam::111122223333:user/nobody in the store"],
    );
}

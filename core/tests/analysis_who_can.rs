#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
//! `who_can` against the reference evaluator, on generated stores (`analysis_gen`): the
//! principals it lists as allowed themselves are exactly those the reference allows, among every
//! user and role; each one listed `via: "session"` is not allowed itself, can assume every role
//! of its chain (reference) and the last role is allowed; and every principal that can assume an
//! allowed role in one hop is listed.

mod analysis_gen;

use analysis_gen::{principals, role_arn, ACCOUNT};
use keycard::analysis::who_can::{who_can, Via};
use keycard::{reference, Request, Snapshot};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn queries() -> Vec<(&'static str, String, Option<Value>)> {
    vec![
        ("s3:GetObject", "arn:aws:s3:::reports/2026/q1.csv".into(), None),
        ("s3:GetObject", "arn:aws:s3:::reports/2026/q1.csv".into(), Some(json!({"aws:SourceVpc": "v1"}))),
        ("s3:PutObject", "arn:aws:s3:::logs-shared/x".into(), None),
        ("s3:PutObject", "arn:aws:s3:::home/alice/notes".into(), None),
        ("iam:CreateAccessKey", format!("arn:aws:iam::{ACCOUNT}:user/bob"), None),
        ("sts:AssumeRole", role_arn("admin"), None),
        (
            "ec2:RunInstances",
            format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-1"),
            Some(json!({"aws:RequestedRegion": "v2"})),
        ),
        ("sqs:SendMessage", format!("arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"), None),
    ]
}

fn reference_allows(snapshot: &Snapshot, principal: &str, action: &str, resource: &str, ctx: Option<&Value>) -> bool {
    let mut v = json!({"principal": principal, "action": action, "resource": resource});
    if let Some(c) = ctx {
        v["context"] = c.clone();
    }
    let r = Request::from_value(&v).unwrap();
    reference::authorize(snapshot.store(), &r).decision().is_allowed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 120, ..ProptestConfig::default() })]

    #[test]
    fn who_can_equals_authorize_for_every_principal(doc in analysis_gen::store()) {
        let snapshot = analysis_gen::load(&doc);
        for (action, resource, ctx) in queries() {
            let answer = who_can(&snapshot, action, &resource, ctx.as_ref().map(|c| c.to_string()).as_deref()).unwrap();
            let direct: BTreeSet<String> = answer.principals.iter().filter(|g| g.via != Via::Session).map(|g| g.principal.clone()).collect();
            let expected: BTreeSet<String> = principals()
                .into_iter()
                .filter(|p| reference_allows(&snapshot, p, action, &resource, ctx.as_ref()))
                .collect();
            prop_assert_eq!(&direct, &expected, "{} on {} ctx {:?}\nstore {}", action, resource, ctx, doc);
            for g in answer.principals.iter().filter(|g| g.via != Via::Session) {
                prop_assert!(!g.matched.is_empty(), "{} has no granting statement", g.principal);
            }
            // Sessions: sound.
            let mut listed = BTreeSet::new();
            for g in answer.principals.iter().filter(|g| g.via == Via::Session) {
                prop_assert!(!expected.contains(&g.principal));
                let mut at = g.principal.clone();
                for role in &g.through {
                    prop_assert!(reference_allows(&snapshot, &at, "sts:AssumeRole", role, None), "{} cannot assume {}", at, role);
                    at = role.clone();
                }
                prop_assert!(expected.contains(&at), "the last role {} is not allowed", at);
                listed.insert(g.principal.clone());
            }
            // Sessions: complete for one hop.
            for p in principals().iter().filter(|p| !expected.contains(*p)) {
                let reaches = expected.iter().filter(|r| r.contains(":role/")).any(|r| r != p && reference_allows(&snapshot, p, "sts:AssumeRole", r, None));
                if reaches {
                    prop_assert!(listed.contains(p), "{} can assume an allowed role but is not listed\nstore {}", p, doc);
                }
            }
        }
    }
}

#[test]
fn the_generator_yields_allowed_principals_and_sessions() {
    // Runs after (or alongside) the property: checks it was not vacuous.
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let (mut allowed, mut sessions) = (0, 0);
    for _ in 0..60 {
        let doc = analysis_gen::store().new_tree(&mut runner).unwrap().current();
        let snapshot = analysis_gen::load(&doc);
        for (action, resource, ctx) in queries() {
            let answer = who_can(&snapshot, action, &resource, ctx.as_ref().map(|c| c.to_string()).as_deref()).unwrap();
            allowed += answer.principals.iter().filter(|g| g.via != Via::Session).count();
            sessions += answer.principals.iter().filter(|g| g.via == Via::Session).count();
        }
    }
    assert!(allowed > 100, "only {allowed} allowed principals in 480 questions");
    assert!(sessions > 5, "only {sessions} session principals in 480 questions");
}

#[test]
fn default_store_session_through_trust() {
    let store = keycard::Store::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies")).unwrap();
    let snapshot = Snapshot::new(store);
    let answer = who_can(&snapshot, "s3:GetObject", "arn:aws:s3:::example-reports/q1.csv", None).unwrap();
    let json = serde_json::to_value(&answer).unwrap();
    assert_eq!(json["action"], "s3:GetObject");
    for g in json["principals"].as_array().unwrap() {
        assert!(g["principal"].is_string() && g["matched"].is_array());
        assert!(["identity", "resource", "trust", "session"].contains(&g["via"].as_str().unwrap()));
    }
    // The trust policy of a role makes its assumers appear: asking about AssumeRole says "trust".
    let roles = who_can(&snapshot, "sts:AssumeRole", "arn:aws:iam::111122223333:role/report-reader", None).unwrap();
    assert!(roles.principals.iter().any(|g| g.via == Via::Trust), "{roles:?}");
}

#[test]
fn malformed_questions_are_errors() {
    let snapshot = Snapshot::new(keycard::Store::load(concat!(env!("CARGO_MANIFEST_DIR"), "/../policies")).unwrap());
    assert!(who_can(&snapshot, "not-an-action", "*", None).is_err());
    assert!(who_can(&snapshot, "s3:GetObject", "*", Some(&json!(["not", "an", "object"]).to_string())).is_err());
    assert!(who_can(&snapshot, "s3:GetObject", "*", Some(&json!({"aws:username": "alice"}).to_string())).is_err());
    // The context is read by the strict reader of every request: a duplicate key is refused.
    assert!(who_can(
        &snapshot,
        "s3:GetObject",
        "*",
        Some(r#"{"aws:SourceIp": "10.0.0.1", "aws:SourceIp": "1.2.3.4"}"#)
    )
    .is_err());
}

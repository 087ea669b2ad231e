//! The public API as a user sees it: auto traits, the answer's JSON shape, explanations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use keycard::{Answer, Decision, LoadError, Request, RequestError, Snapshot, StatementKind, Store};

fn assert_send_sync<T: Send + Sync + 'static>() {}

#[test]
fn public_types_are_send_and_sync() {
    assert_send_sync::<Snapshot>();
    assert_send_sync::<Store>();
    assert_send_sync::<Request>();
    assert_send_sync::<Answer>();
    assert_send_sync::<LoadError>();
    assert_send_sync::<RequestError>();
}

const STORE: &str = r#"{"AccountId": "111122223333", "UserDetailList": [{"UserName": "alice", "Path": "/",
  "UserPolicyList": [{"PolicyName": "P", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
    {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
     "Condition": {"StringEquals": {"s3:ExistingObjectTag/class": "public"}}},
    {"Sid": "NoSecrets", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::b/secret/*"}]}}]}]}"#;

fn snapshot() -> Snapshot {
    Snapshot::new(Store::from_documents([("a.json", STORE)]).unwrap())
}

#[test]
fn answer_json_without_explain_has_decision_and_snapshot_only() {
    let s = snapshot();
    let req = Request::from_json(
        r#"{"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
            "context": {"s3:ExistingObjectTag/class": "public"}}"#,
    )
    .unwrap();
    let v = s.authorize(&req).to_json();
    assert_eq!(v, serde_json::json!({"decision": "allowed", "snapshot": s.id()}));
}

#[test]
fn explain_names_matched_statements_and_missing_keys() {
    let s = snapshot();
    let req = Request::from_json(
        r#"{"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k", "explain": true}"#,
    )
    .unwrap();
    let a = s.authorize(&req);
    assert_eq!(a.decision(), Decision::ImplicitDeny);
    let e = a.explanation().unwrap();
    assert!(e.matched().is_empty());
    assert_eq!(e.missing_context_keys(), ["s3:ExistingObjectTag/class"]);
    let v = a.to_json();
    assert_eq!(v["missingContextKeys"], serde_json::json!(["s3:ExistingObjectTag/class"]));
    assert!(v["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("no identity-based policy")));

    let req = Request::from_json(
        r#"{"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/secret/k", "explain": true,
            "context": {"s3:ExistingObjectTag/class": "public"}}"#,
    )
    .unwrap();
    let a = s.authorize(&req);
    assert_eq!(a.decision(), Decision::ExplicitDeny);
    let m = &a.explanation().unwrap().matched();
    assert!(m.iter().any(|m| m.sid() == Some("NoSecrets")
        && m.effect() == "Deny"
        && m.kind() == StatementKind::Identity
        && m.policy() == "arn:aws:iam::111122223333:user/alice#P"));
}

#[test]
fn unknown_principal_action_or_resource_is_an_implicit_deny_not_an_error() {
    let s = snapshot();
    for (p, a, r) in [
        ("arn:aws:iam::111122223333:user/nobody", "s3:GetObject", "arn:aws:s3:::b/k"),
        ("arn:aws:iam::111122223333:user/alice", "madeup:DoThing", "arn:aws:s3:::b/k"),
        ("arn:aws:iam::111122223333:user/alice", "s3:GetObject", "arn:aws:madeup:::thing"),
        ("arn:aws:iam::111122223333:group/devs", "s3:GetObject", "arn:aws:s3:::b/k"),
    ] {
        let req = Request::new(p, a, r).unwrap();
        assert_eq!(s.authorize(&req).decision(), Decision::ImplicitDeny, "{p} {a} {r}");
    }
}

#[test]
fn request_errors_name_the_field() {
    let cases = [
        (r#"{"principal": 5, "action": "s3:GetObject", "resource": "*"}"#, "/principal"),
        (r#"{"principal": "alice", "action": "s3:GetObject", "resource": "*"}"#, "/principal"),
        (r#"{"principal": "*", "action": "GetObject", "resource": "*"}"#, "/action"),
        (r#"{"principal": "*", "action": "s3:GetObject", "resource": "bucket"}"#, "/resource"),
        (r#"{"principal": "*", "action": "s3:GetObject", "resource": "*", "context": {"k": {"a": 1}}}"#, "/context/k"),
        (r#"{"principal": "*", "action": "s3:GetObject", "resource": "*", "context": {"k": [null]}}"#, "/context/k/0"),
        (r#"{"principal": "*", "action": "s3:GetObject", "resource": "*", "context": {"a": 1, "A": 2}}"#, "/context/"),
        (
            r#"{"principal": "*", "action": "s3:GetObject", "resource": "*", "context": {"AWS:UserName": "x"}}"#,
            "/context/AWS:UserName",
        ),
        (r#"{"principal": "*", "action": "s3:GetObject", "resource": "*", "explain": "yes"}"#, "/explain"),
        (
            r#"{"principal": "*", "action": "s3:GetObject", "resource": "*", "resourceAccount": "12"}"#,
            "/resourceAccount",
        ),
        (
            r#"{"principal": "*", "action": "s3:GetObject", "resource": "*", "sessionPolicy": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*"}}}"#,
            "/sessionPolicy/Statement",
        ),
        (
            r#"{"principal": "*", "action": "s3:GetObject", "resource": "*", "resourcePolicy": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}}"#,
            "/resourcePolicy/Statement",
        ),
        ("[]", ""),
    ];
    for (body, field) in cases {
        let e = Request::from_json(body).unwrap_err();
        assert!(e.field().starts_with(field), "{body}: field {:?}, want {field:?} ({e})", e.field());
    }
}

#[test]
fn session_and_resource_policies_from_the_request_apply() {
    let s = snapshot();
    let body = |extra: &str| {
        format!(
            r#"{{"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:PutObject", "resource": "arn:aws:s3:::b/k"{extra}}}"#
        )
    };
    let plain = Request::from_json(&body("")).unwrap();
    assert_eq!(s.authorize(&plain).decision(), Decision::ImplicitDeny);
    let with_rp = Request::from_json(&body(
        r#", "resourcePolicy": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:user/alice"}, "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"}}"#,
    ))
    .unwrap();
    assert_eq!(s.authorize(&with_rp).decision(), Decision::Allowed);
}

#[test]
fn a_batch_parses_each_request_on_its_own_and_points_into_the_batch() {
    let text = r#"{"requests": [
        {"principal": "arn:aws:iam::111122223333:user/alice", "action": "s3:GetObject", "resource": "*"},
        {"principal": "*", "action": "nope", "resource": "*"},
        {"principal": "*", "action": "s3:GetObject", "resource": "*", "context": {"AWS:PrincipalTag/team": "x"}}
    ]}"#;
    let parsed = keycard::batch_from_json(text).unwrap();
    assert_eq!(parsed.len(), 3);
    assert_eq!(parsed[0].as_ref().unwrap().action(), "s3:GetObject");
    assert_eq!(parsed[1].as_ref().unwrap_err().field(), "/requests/1/action");
    assert_eq!(parsed[2].as_ref().unwrap_err().field(), "/requests/2/context/AWS:PrincipalTag~1team");
    for bad in ["[]", r#"{"requests": 1}"#, r#"{"requests": [], "x": 1}"#, "{", "{}"] {
        assert!(keycard::batch_from_json(bad).is_err(), "{bad}");
    }
}

#[test]
fn principal_keys_are_refused_in_any_case() {
    for key in ["aws:username", "AWS:UserName", "aws:PRINCIPALARN", "aws:principaltag/Team", "Aws:PrincipalTag/x"] {
        let req =
            format!(r#"{{"principal": "*", "action": "s3:GetObject", "resource": "*", "context": {{"{key}": "v"}}}}"#);
        let err = Request::from_json(&req).unwrap_err();
        assert!(err.field().starts_with("/context/"), "{key}: {err}");
    }
    let ok = r#"{"principal": "*", "action": "s3:GetObject", "resource": "*", "context": {"aws:principaltagx": "v", "aws:user": "v"}}"#;
    assert!(Request::from_json(ok).is_ok());
}

#[test]
fn the_principal_is_reported_in_contract_form() {
    let r = Request::from_json(r#"{"principal": "111122223333", "action": "s3:GetObject", "resource": "*"}"#).unwrap();
    assert_eq!(r.principal_json(), serde_json::json!("arn:aws:iam::111122223333:root"));
    let r = Request::from_json(r#"{"principal": {"Service": "ec2.amazonaws.com"}, "action": "s3:A", "resource": "*"}"#)
        .unwrap();
    assert_eq!(r.principal_json(), serde_json::json!({"Service": "ec2.amazonaws.com"}));
}

#[test]
fn request_errors_answer_one_json_shape() {
    let whole = Request::from_json("{not json").unwrap_err();
    assert_eq!(whole.field(), "");
    assert_eq!(whole.to_string(), whole.message(), "no dangling \": \" before a whole-body error");
    assert_eq!(whole.to_json(), serde_json::json!({"error": whole.message()}));
    let field = Request::from_json(r#"{"principal": "*", "action": "nope", "resource": "*"}"#).unwrap_err();
    assert_eq!(field.to_string(), format!("/action: {}", field.message()));
    assert_eq!(field.to_json(), serde_json::json!({"error": field.to_string(), "field": "/action"}));
}

#[test]
fn every_listed_condition_operator_is_accepted_by_the_parser() {
    let mut seen = std::collections::HashSet::new();
    for op in keycard::CONDITION_OPERATORS {
        assert!(seen.insert(op), "{op} listed twice");
        let value = match op {
            "Bool" | "Null" => "true",
            "IpAddress" | "NotIpAddress" => "10.0.0.0/8",
            "BinaryEquals" => "QmluYXJ5",
            op if op.starts_with("Numeric") => "1",
            op if op.starts_with("Date") => "2026-01-01T00:00:00Z",
            op if op.starts_with("Arn") => "arn:aws:s3:::b",
            _ => "v",
        };
        let store = format!(
            r#"{{"AccountId": "111122223333", "UserDetailList": [{{"UserName": "u", "Path": "/",
              "UserPolicyList": [{{"PolicyName": "P", "PolicyDocument": {{"Version": "2012-10-17", "Statement": [
                {{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                  "Condition": {{"{op}": {{"aws:SourceArn": "{value}"}}}}}}]}}}}]}}]}}"#
        );
        Store::from_documents([("a.json", store.as_str())]).unwrap_or_else(|e| panic!("{op}: {e}"));
    }
    assert_eq!(seen.len(), 27);
}

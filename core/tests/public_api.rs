//! The public API as a user sees it: auto traits, the answer's JSON shape, explanations, time as
//! an input, signed requests, error kinds and the live store. Uses only the facade (nothing from
//! the hidden modules).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use keycard::{
    Answer, AuthCode, Decision, Live, LoadError, ProblemKind, Request, RequestError, RequestErrorKind, Severity,
    Snapshot, StatementKind, Store, Verifier,
};

fn assert_send_sync<T: Send + Sync + 'static>() {}

#[test]
fn public_types_are_send_and_sync() {
    assert_send_sync::<Snapshot>();
    assert_send_sync::<Store>();
    assert_send_sync::<Request>();
    assert_send_sync::<Answer>();
    assert_send_sync::<LoadError>();
    assert_send_sync::<RequestError>();
    assert_send_sync::<Live>();
    assert_send_sync::<keycard::live::Config>();
    assert_send_sync::<keycard::AuthError>();
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
    assert_eq!(v["notes"], serde_json::json!(["no identity-based policy allows the action"]));

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

#[test]
fn time_is_an_input() {
    use std::time::{Duration, UNIX_EPOCH};
    let store = r#"{"AccountId": "111122223333", "UserDetailList": [{"UserName": "alice", "Path": "/",
      "UserPolicyList": [{"PolicyName": "P", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
         "Condition": {"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}}]}}]}]}"#;
    let s = Snapshot::new(Store::from_documents([("a.json", store)]).unwrap());
    let req = Request::new("arn:aws:iam::111122223333:user/alice", "s3:GetObject", "arn:aws:s3:::b/k").unwrap();
    let before = UNIX_EPOCH + Duration::from_secs(1_893_455_999); // 2029-12-31T23:59:59Z
    let after = UNIX_EPOCH + Duration::from_secs(1_893_456_000); // 2030-01-01T00:00:00Z
    assert_eq!(s.decide_at(&req, before), Decision::Allowed);
    assert_eq!(s.decide_at(&req, after), Decision::ImplicitDeny);
    assert_eq!(s.authorize_at(&req, after).decision(), Decision::ImplicitDeny);
    let mut explained = req.clone();
    explained.set_explain(true);
    assert_eq!(s.authorize_at(&explained, before).decision(), Decision::Allowed, "the reference takes the time too");
    assert_eq!(s.authorize_at(&explained, after).decision(), Decision::ImplicitDeny);
    // A time the request gives wins over the one passed in.
    let given = req.with_context_json(r#"{"aws:CurrentTime": "2029-06-01T00:00:00Z"}"#).unwrap();
    assert_eq!(s.decide_at(&given, after), Decision::Allowed);
}

#[test]
fn a_request_without_a_signature_is_decided_as_named_and_names_no_signer() {
    let s = snapshot();
    let req = Request::new("arn:aws:iam::111122223333:user/alice", "s3:GetObject", "arn:aws:s3:::b/secret/k").unwrap();
    let answer = s.authorize_signed(&req, Verifier::StoreKeys, std::time::SystemTime::now()).unwrap();
    assert_eq!(answer.decision(), Decision::ExplicitDeny);
    assert_eq!(answer.principal(), None);
    assert_eq!(answer.to_json().get("principal"), None);
}

#[test]
fn a_signature_that_does_not_verify_is_an_auth_error_with_a_code() {
    let s = snapshot();
    let req = Request::from_json(
        r#"{"signedRequest": {"method": "GET", "path": "/", "headers": {"host": "s3.amazonaws.com",
            "authorization": "AWS4-HMAC-SHA256 Credential=AKIANOSUCHKEY0000000/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000",
            "x-amz-date": "20260101T000000Z"}},
            "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}"#,
    )
    .unwrap();
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600);
    let e = s.authorize_signed(&req, Verifier::StoreKeys, at).unwrap_err();
    assert_eq!(e.code(), AuthCode::InvalidClientTokenId);
    assert_eq!(e.to_json(), serde_json::json!({"error": e.message(), "code": "InvalidClientTokenId"}));
    assert_eq!(s.decide(&req), Decision::ImplicitDeny, "unauthenticated: a deny, never the signer's rights");
}

#[test]
fn errors_have_kinds_to_match() {
    let kind = |body: &str| Request::from_json(body).unwrap_err().kind();
    assert_eq!(kind("{not json"), RequestErrorKind::Json);
    assert_eq!(
        kind(r#"{"principal": "*", "action": "s3:GetObject", "resource": "*", "nope": 1}"#),
        RequestErrorKind::UnknownField
    );
    assert_eq!(kind(r#"{"action": "s3:GetObject", "resource": "*"}"#), RequestErrorKind::Missing);
    assert_eq!(kind(r#"{"principal": "*", "action": "GetObject", "resource": "*"}"#), RequestErrorKind::Invalid);
    assert_eq!(
        kind(r#"{"principal": "*", "action": "s3:GetObject", "resource": "*", "context": {"aws:username": "x"}}"#),
        RequestErrorKind::Reserved
    );
    let long =
        format!(r#"{{"principal": "*", "action": "s3:GetObject", "resource": "arn:aws:s3:::{}"}}"#, "a".repeat(3000));
    assert_eq!(kind(&long), RequestErrorKind::TooLarge);
    let batch = keycard::batch_from_json(r#"{"requests": [{"principal": "*", "action": "s3:GetObject"}]}"#).unwrap();
    let e = batch[0].as_ref().unwrap_err();
    assert_eq!(
        (e.kind(), e.field()),
        (RequestErrorKind::Missing, "/requests/0/resource"),
        "the kind survives the batch"
    );

    let load = |text: &str| Store::from_documents([("a.json", text)]).unwrap_err();
    assert_eq!(load("{ broken").kind(), ProblemKind::Json);
    let e = load(
        r#"{"AccountId": "111122223333", "Policies": [{"PolicyName": "P", "Arn": "arn:aws:iam::111122223333:policy/P",
        "PolicyVersionList": [{"IsDefaultVersion": true, "Document": {"Version": "2012-10-17", "Statement": {"Effect": "Allow"}}}]}]}"#,
    );
    assert_eq!(e.kind(), ProblemKind::Policy, "{e}");
    assert!(e.problems().iter().all(|p| p.severity() == Severity::Error && p.file() == "a.json"));
}

#[test]
fn a_live_store_is_configured_by_value_and_hands_out_its_snapshot() {
    use keycard::live::{Config, Source};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let published = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&published);
    let config = Config::new().debounce(std::time::Duration::from_millis(10)).observer(move |event| {
        if let keycard::live::Event::Published { .. } = event {
            seen.fetch_add(1, Ordering::SeqCst);
        }
    });
    assert!(!config.get_watch());
    assert_eq!(config.get_debounce(), std::time::Duration::from_millis(10));
    let docs: Arc<[(String, String)]> = vec![("a.json".to_owned(), STORE.to_owned())].into();
    let live = Live::open(Source::Documents(docs), config).unwrap();
    assert_eq!(published.load(Ordering::SeqCst), 1, "open publishes before it returns");
    let current = live.current();
    let loaded = current.as_ref().unwrap();
    assert_eq!(loaded.snapshot().id(), snapshot().id());
    assert_eq!(loaded.files(), ["a.json"]);
    assert_eq!(loaded.stats().principals, 1);
    assert!(loaded.bundle().is_none());
    assert!(live.last_error().is_none());
}

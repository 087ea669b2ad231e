//! Hostile input: duplicate keys, principal keys supplied by the caller, oversized documents, and
//! inputs crafted to make parsing or wildcard matching super-linear.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use keycard::sts::{CallFacts, Params, Sts};
use keycard::{batch_from_json, Decision, Request, Snapshot, Store};
use serde_json::{json, Value};
use std::sync::mpsc;
use std::time::Duration;

const A: &str = "111122223333";

fn alice() -> String {
    format!("arn:aws:iam::{A}:user/alice")
}

/// alice (allowed everything on `arn:aws:s3:::b/*`, unless her principal is not a service),
/// and an OIDC provider with a role it may assume.
fn store() -> Store {
    let account = json!({
        "AccountId": A,
        "UserDetailList": [{"UserName": "alice", "UserId": "AIDAALICE", "Path": "/",
            "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
                {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*",
                 "Condition": {"StringNotEquals": {"aws:PrincipalServiceName": "x.amazonaws.com"}}}]}}]},
            {"UserName": "bob", "UserId": "AIDABOB", "Path": "/"}],
        "RoleDetailList": [{"RoleName": "irsa", "RoleId": "AROAIRSA", "Path": "/",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Federated": format!("arn:aws:iam::{A}:oidc-provider/oidc.example.com/c1")},
                "Action": "sts:AssumeRoleWithWebIdentity"}]}}],
        "OpenIdConnectProviders": [{"Arn": format!("arn:aws:iam::{A}:oidc-provider/oidc.example.com/c1"),
            "Url": "https://oidc.example.com/c1", "ClientIDList": ["sts.amazonaws.com"], "Jwks": {"keys": []}}]
    });
    Store::from_documents([("account.json", account.to_string())]).unwrap()
}

/// Runs `f` on its own thread and fails when it has not finished after `limit`: a guard against
/// work that grows super-linearly with hostile input (the old code took minutes here), not a
/// performance target.
fn finishes_within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(limit).unwrap_or_else(|_| panic!("still running after {limit:?}"))
}

const GENEROUS: Duration = Duration::from_secs(60);

// ---- duplicate keys (one reader for every input) ----

#[test]
fn a_request_that_names_two_principals_is_refused() {
    let text = format!(
        r#"{{"principal": "arn:aws:iam::{A}:user/bob", "action": "s3:GetObject",
            "resource": "arn:aws:s3:::b/k", "principal": "{}"}}"#,
        alice()
    );
    let e = Request::from_json(&text).unwrap_err();
    assert_eq!((e.field(), e.kind()), ("/principal", keycard::RequestErrorKind::Json), "{e}");
}

#[test]
fn duplicate_keys_deep_in_a_batch_are_refused_with_their_pointer() {
    let ok = format!(r#"{{"principal": "{}", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}}"#, alice());
    let bad = format!(
        r#"{{"principal": "{}", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
            "context": {{"aws:SourceIp": "10.0.0.1", "aws:SourceIp": "203.0.113.9"}}}}"#,
        alice()
    );
    let text = format!(r#"{{"requests": [{ok}, {ok}, {ok}, {bad}]}}"#);
    let e = batch_from_json(&text).unwrap_err();
    assert_eq!(e.field(), "/requests/3/context/aws:SourceIp", "{e}");
}

#[test]
fn a_session_policy_with_two_effects_is_refused_as_a_store_would() {
    // As an object, the request's sessionPolicy was read by serde_json, which kept the last
    // "Effect"; the same document in a store is refused.
    let text = format!(
        r#"{{"principal": "{}", "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
            "sessionPolicy": {{"Version": "2012-10-17", "Statement": [
                {{"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Effect": "Allow"}}]}}}}"#,
        alice()
    );
    let e = Request::from_json(&text).unwrap_err();
    assert_eq!(e.field(), "/sessionPolicy/Statement/0/Effect", "{e}");
    // As text, the policy reader reports it too.
    let inner = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Effect": "Allow"}]}"#;
    let text = json!({"principal": alice(), "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
        "sessionPolicy": inner})
    .to_string();
    let e = Request::from_json(&text).unwrap_err();
    assert!(e.message().contains("duplicate key \"Effect\""), "{e}");
}

#[test]
fn duplicate_signed_request_headers_in_object_form_are_refused() {
    let text = r#"{"signedRequest": {"method": "GET", "path": "/", "headers":
        {"Authorization": "AWS4-HMAC-SHA256 a", "Authorization": "AWS4-HMAC-SHA256 b"}},
        "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"}"#;
    let e = Request::from_json(text).unwrap_err();
    assert_eq!(e.field(), "/signedRequest/headers/Authorization", "{e}");
}

#[test]
fn keycard_does_not_turn_on_serde_jsons_arbitrary_precision() {
    // Cargo unifies features: with `arbitrary_precision` anywhere in keycard's dependency
    // specification, every program embedding keycard would read numbers differently.
    let v: Value = serde_json::from_str("1.50").unwrap();
    assert_eq!(v.to_string(), "1.5");
    // keycard's own reader still keeps a number's literal text, which string operators compare.
    let store = Store::from_documents([(
        "a.json",
        json!({"AccountId": A, "UserDetailList": [{"UserName": "alice", "Path": "/", "UserPolicyList": [
            {"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
                 "Condition": {"StringEquals": {"s3:max-keys": "1.50"}}}]}}]}]})
        .to_string(),
    )])
    .unwrap();
    let snap = Snapshot::new(store);
    let ask = |n: &str| {
        let text = format!(
            r#"{{"principal": "{}", "action": "s3:ListBucket", "resource": "arn:aws:s3:::b", "context": {{"s3:max-keys": {n}}}}}"#,
            alice()
        );
        snap.decide(&Request::from_json(&text).unwrap())
    };
    assert_eq!(ask("1.50"), Decision::Allowed);
    assert_eq!(ask("1.5"), Decision::ImplicitDeny);
}

// ---- keys that describe the principal ----

#[test]
fn a_request_cannot_claim_to_be_a_service() {
    let snap = Snapshot::new(store());
    let request = |context: Value| {
        json!({"principal": alice(), "action": "s3:DeleteObject", "resource": "arn:aws:s3:::b/k", "context": context})
            .to_string()
    };
    // For an IAM user the store says aws:PrincipalServiceName is absent: the Deny applies.
    assert_eq!(snap.decide(&Request::from_json(&request(json!({}))).unwrap()), Decision::ExplicitDeny);
    // Claiming the key in the request was `allowed`; the request's value is now dropped, so the
    // store's answer (absent, for an IAM user) decides and the Deny applies, in any case of the key.
    for context in
        [json!({"aws:PrincipalServiceName": "x.amazonaws.com"}), json!({"AWS:principalservicename": "x.amazonaws.com"})]
    {
        let r = Request::from_json(&request(context.clone())).unwrap();
        assert_eq!(snap.decide(&r), Decision::ExplicitDeny, "{context}");
        assert_eq!(snap.authorize(&r).decision(), Decision::ExplicitDeny, "{context}");
        assert_eq!(keycard::reference::authorize(snap.store(), &r).decision(), Decision::ExplicitDeny, "{context}");
    }
    let r = Request::new(&alice(), "s3:DeleteObject", "arn:aws:s3:::b/k")
        .unwrap()
        .with_context_json(r#"{"AWS:principalservicename": "x.amazonaws.com", "aws:PrincipalIsAWSService": true}"#)
        .unwrap();
    assert_eq!(snap.decide(&r), Decision::ExplicitDeny);
}

#[test]
fn every_key_that_names_the_principal_is_refused() {
    for key in [
        "aws:username",
        "aws:userid",
        "aws:PrincipalArn",
        "aws:PrincipalAccount",
        "aws:PrincipalType",
        "aws:PrincipalTag/team",
    ] {
        let text = json!({"principal": alice(), "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
            "context": {key: "x"}})
        .to_string();
        let e = Request::from_json(&text).expect_err(key);
        assert_eq!(e.field(), format!("/context/{}", key.replace('/', "~1")), "{key}: {e}");
    }
    // What callers describe about the request itself is still theirs to say.
    let text = json!({"principal": alice(), "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k",
        "context": {"aws:SourceIp": "203.0.113.7", "aws:MultiFactorAuthPresent": true, "aws:TagKeys": ["a"]}})
    .to_string();
    Request::from_json(&text).unwrap();
}

// ---- limits, before any parsing ----

fn field_of(request: &Value) -> String {
    Request::from_json(&request.to_string()).unwrap_err().field().to_owned()
}

#[test]
fn oversized_documents_and_contexts_are_refused_by_field() {
    let base = || json!({"principal": alice(), "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k"});
    let with = |field: &str, value: Value| {
        let mut r = base();
        r[field] = value;
        r
    };
    // A session policy counts whitespace, as STS does: 2,048 characters.
    let padded = format!(
        r#"{{"Version": "2012-10-17",{}"Statement": [{{"Effect": "Allow", "Action": "*", "Resource": "*"}}]}}"#,
        " ".repeat(2048)
    );
    assert_eq!(field_of(&with("sessionPolicy", json!(padded))), "/sessionPolicy");
    let statements: Vec<Value> =
        (0..200).map(|i| json!({"Sid": format!("S{i}"), "Effect": "Allow", "Action": "*", "Resource": "*"})).collect();
    let big = json!({"Version": "2012-10-17", "Statement": statements});
    assert_eq!(field_of(&with("sessionPolicy", big.clone())), "/sessionPolicy");
    // An S3 bucket policy: 20 KB.
    let statements: Vec<Value> = (0..400)
        .map(|i| json!({"Sid": format!("S{i}"), "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}))
        .collect();
    let bucket = json!({"Version": "2012-10-17", "Statement": statements});
    assert!(bucket.to_string().len() > 20 * 1024);
    assert_eq!(field_of(&with("resourcePolicy", bucket)), "/resourcePolicy");
    // ARNs: 2,048 characters.
    let long = format!("arn:aws:s3:::b/{}", "k".repeat(2048));
    assert_eq!(field_of(&with("resource", json!(long))), "/resource");
    let long_user = format!("arn:aws:iam::{A}:user/{}", "u".repeat(2048));
    assert_eq!(field_of(&with("principal", json!(long_user))), "/principal");
    assert_eq!(field_of(&with("principal", json!({"Service": "s".repeat(2049)}))), "/principal/Service");
    // Context: keys, values per key, characters.
    let keys: serde_json::Map<String, Value> = (0..257).map(|i| (format!("k{i}"), json!("v"))).collect();
    assert_eq!(field_of(&with("context", Value::Object(keys))), "/context");
    assert_eq!(field_of(&with("context", json!({"aws:TagKeys": vec!["t"; 257]}))), "/context/aws:TagKeys");
    let chars = json!({"a": "x".repeat(40_000), "b": "y".repeat(40_000)});
    assert_eq!(field_of(&with("context", chars)), "/context/b");
    // At the limits, accepted.
    let keys: serde_json::Map<String, Value> = (0..256).map(|i| (format!("k{i}"), json!("v"))).collect();
    Request::from_json(&with("context", Value::Object(keys)).to_string()).unwrap();
    Request::from_json(&with("resource", json!(format!("arn:aws:s3:::b/{}", "k".repeat(2048 - 15)))).to_string())
        .unwrap();
}

// ---- CPU exhaustion ----

/// A policy with `n` condition keys, as 1 MB of `Policy` needs about 104,000.
fn policy_with_keys(n: usize, duplicate: bool) -> String {
    let mut keys = String::new();
    for i in 0..n {
        keys.push_str(&format!("\"k{i}\":\"v\","));
    }
    if duplicate {
        keys.push_str("\"k7\":\"v\",");
    }
    keys.pop();
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"s3:*","Resource":"*","Condition":{{"StringEquals":{{{keys}}}}}}}]}}"#
    )
}

#[test]
fn an_unauthenticated_policy_is_not_parsed_before_the_token_is_verified() {
    let policy = policy_with_keys(104_000, true);
    assert!(policy.len() > 1_000_000);
    let snap = Snapshot::new(store());
    let sts = Sts::new(keycard::auth::SealKeys::parse("k".repeat(40).as_str(), "keys").unwrap());
    let params = Params::new(vec![
        ("RoleArn".into(), format!("arn:aws:iam::{A}:role/irsa")),
        ("RoleSessionName".into(), "pod-1".into()),
        ("WebIdentityToken".into(), "not.a.token".into()),
        ("Policy".into(), policy),
    ]);
    let code = finishes_within(GENEROUS, move || {
        sts.assume_role_with_web_identity(&snap, &params, &CallFacts::default(), 1_795_428_000)
            .map(|_| ())
            .unwrap_err()
            .code()
    });
    // A bad token is refused as such, whatever the Policy holds (it used to be parsed first).
    assert_eq!(code, keycard::sts::StsCode::Auth(keycard::AuthCode::InvalidIdentityToken));
}

#[test]
fn duplicate_detection_is_linear_in_the_number_of_keys() {
    // 208,000 condition keys in one policy of a store: a quadratic duplicate check did not finish.
    let policy = policy_with_keys(208_000, true);
    let doc = format!(
        r#"{{"AccountId": "{A}", "UserDetailList": [{{"UserName": "alice", "Path": "/",
            "UserPolicyList": [{{"PolicyName": "p", "PolicyDocument": {policy}}}]}}]}}"#
    );
    let err = finishes_within(GENEROUS, move || Store::from_documents([("a.json", doc)]).unwrap_err().to_string());
    assert!(err.contains("duplicate key \"k7\""), "{}", &err[..err.len().min(500)]);
}

/// bob's request for `s3:GetObject` on `b/k` carrying `bucket` as its resource policy and a
/// 60,000-character `aws:UserAgent`, decided `times` times (a hostile client repeats it), within
/// [`GENEROUS`].
fn decide_hostile_bucket_request(bucket: Value, times: usize) -> Vec<Decision> {
    let text = json!({"principal": format!("arn:aws:iam::{A}:user/bob"), "action": "s3:GetObject",
        "resource": "arn:aws:s3:::b/k", "resourcePolicy": bucket,
        "context": {"aws:UserAgent": "a".repeat(60_000)}})
    .to_string();
    let snap = Snapshot::new(store());
    finishes_within(GENEROUS, move || {
        let request = Request::from_json(&text).unwrap();
        (0..times).map(|_| snap.decide(&request)).collect::<Vec<_>>()
    })
}

#[test]
fn crafted_wildcards_in_a_request_finish() {
    // A bucket policy of a request whose StringLike patterns make a backtracking matcher walk
    // pattern × text: 9,000-character segments against a 60,000-character context value.
    let star = format!("*{}b*", "a".repeat(9_000));
    let question = format!("*{}b*", "a?".repeat(4_500));
    let bucket = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
        "Condition": {"StringLike": {"aws:UserAgent": [star, question]}}}]});
    let decisions = decide_hostile_bucket_request(bucket, 3);
    assert!(decisions.iter().all(|d| *d == Decision::ImplicitDeny), "{decisions:?}");
}

#[test]
fn a_store_document_that_repeats_a_key_is_refused() {
    // Two "Routes" keys: the first used to win silently.
    let doc = r#"{"Routes": [{"Method": "GET", "Path": "/a", "Action": "x:Get", "Resource": "*"}],
                  "Routes": [{"Method": "GET", "Path": "/b", "Action": "x:Get", "Resource": "*"}]}"#;
    let e = Store::from_documents([("routes.json", doc)]).unwrap_err();
    assert_eq!(e.kind(), keycard::ProblemKind::Json, "{e}");
    assert!(e.errors().any(|p| p.pointer() == "/Routes"), "{e}");
    let route = r#"{"Routes": [{"Method": "GET", "Path": "/a", "Action": "x:Get", "Resource": "*", "Path": "/b"}]}"#;
    let e = Store::from_documents([("routes.json", route)]).unwrap_err();
    assert_eq!(e.kind(), keycard::ProblemKind::Json, "{e}");
    assert!(e.errors().any(|p| p.pointer() == "/Routes/0/Path"), "{e}");
}

#[test]
fn a_variable_repeated_over_a_long_request_value_is_not_expanded() {
    // 1,000 condition values, each `${aws:UserAgent}`, against a 60,000-character user agent:
    // substituting them all would build 60 million characters (about 500 MB of tokens).
    let values: Vec<String> = (0..1_000).map(|_| "${aws:UserAgent}".to_owned()).collect();
    let bucket = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*",
        "Condition": {"StringNotLike": {"aws:UserAgent": values}}}]});
    let decisions = decide_hostile_bucket_request(bucket, 10);
    // Each value is the user agent itself: StringNotLike is false, nothing allows.
    assert!(decisions.iter().all(|d| *d == Decision::ImplicitDeny), "{decisions:?}");
}

/// A value too long to match is decided without being built, exactly as if it had been.
#[test]
fn values_too_long_to_match_decide_as_built_ones() {
    let decide = |op: &str, policy_value: &str, context: &Value| {
        let store = Store::from_documents([(
            "a.json",
            json!({"AccountId": A, "UserDetailList": [{"UserName": "alice", "Path": "/", "UserPolicyList": [
                {"PolicyName": "p", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
                    {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*",
                     "Condition": {op: {"aws:UserAgent": policy_value}}}]}}]}]})
            .to_string(),
        )])
        .unwrap();
        let request = json!({"principal": alice(), "action": "s3:ListBucket", "resource": "arn:aws:s3:::b",
            "context": context});
        Snapshot::new(store).decide(&Request::from_json(&request.to_string()).unwrap())
    };
    let ops = [
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "ArnLike",
        "ArnNotLike",
        "ArnEquals",
        "ArnNotEquals",
        "Bool",
        "ForAnyValue:StringNotLike",
        "ForAllValues:StringLike",
    ];
    // The variable is s3:prefix (single-valued); the compared key, aws:UserAgent, holds values
    // much shorter than the 40 substitutions, or several, or none.
    for prefix in ["ab:c", "arn:aws:s3:::x", "true", "a:b:c:d:e:f", "no-colons-at-all"] {
        let repeated = "${s3:prefix}".repeat(40);
        let built = prefix.repeat(40);
        for op in ops {
            for agent in [json!(prefix), json!([prefix, "x"]), json!("a:b:c:d:e:f"), json!(true), json!(null)] {
                let mut context = json!({"s3:prefix": prefix});
                if !agent.is_null() {
                    context["aws:UserAgent"] = agent;
                }
                // A Bool value must spell true or false when written out: compare with a short
                // substitution that spells neither.
                let built = if op == "Bool" { "${s3:prefix}x" } else { built.as_str() };
                assert_eq!(decide(op, &repeated, &context), decide(op, built, &context), "{op} in {context}");
            }
        }
    }
}

#[test]
fn a_web_identity_token_that_repeats_a_claim_is_refused() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    // Two `sub` claims: which one a reader keeps decides who the caller is.
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg": "RS256", "kid": "k1"}"#);
    let payload = URL_SAFE_NO_PAD.encode(
        r#"{"iss": "https://oidc.example.com/c1", "sub": "system:serviceaccount:ns:app", "aud": "sts.amazonaws.com",
            "exp": 1795429000, "sub": "system:serviceaccount:kube-system:admin"}"#,
    );
    let token = format!("{header}.{payload}.{}", URL_SAFE_NO_PAD.encode("sig"));
    let snap = Snapshot::new(store());
    let sts = Sts::new(keycard::auth::SealKeys::parse("k".repeat(40).as_str(), "keys").unwrap());
    let params = Params::new(vec![
        ("RoleArn".into(), format!("arn:aws:iam::{A}:role/irsa")),
        ("RoleSessionName".into(), "pod-1".into()),
        ("WebIdentityToken".into(), token),
    ]);
    let e = sts
        .assume_role_with_web_identity(&snap, &params, &CallFacts::default(), 1_795_428_000)
        .map(|_| ())
        .unwrap_err();
    assert_eq!(e.code(), keycard::sts::StsCode::Auth(keycard::AuthCode::InvalidIdentityToken));
    assert!(e.message().contains("repeats the key at /sub"), "{}", e.message());
}

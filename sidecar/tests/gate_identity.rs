//! The gateway's verified identities (`docs/gateway.md#identity`, first two sources): a
//! SigV4-signed original request is its signer; `Authorization: Bearer <JWT>` from an OIDC provider
//! naming a `GatewayRoleArn` is that role's web-identity session. Signatures and tokens that do not
//! verify establish no identity (401); a verified token whose role's trust refuses it is 403.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::{temp_dir, Response, Server};
use keycard::auth::sigv4::{sign, SignedRequest, EMPTY_SHA256};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::json;

const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const KEY: (&str, &str) = ("AKIAALICEEXAMPLE0001", "alice-gateway-secret-0123456789abcdef");
const ISSUER: &str = "https://oidc.example.com/cluster1";

fn store(name: &str, jwk_x: &str, jwk_y: &str) -> std::path::PathBuf {
    let dir = temp_dir(name);
    let doc = |statements: serde_json::Value| json!({"Version": "2012-10-17", "Statement": statements});
    let read =
        doc(json!([{"Effect": "Allow", "Action": "reports:GetReport", "Resource": "arn:aws:reports:::report/*"}]));
    let account = json!({
        "AccountId": "111122223333",
        "UserDetailList": [{"UserName": "alice", "Path": "/", "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": read}]}],
        "RoleDetailList": [
            {"RoleName": "web", "Path": "/", "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": read}],
             "AssumeRolePolicyDocument": doc(json!([{"Effect": "Allow",
                "Principal": {"Federated": "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/cluster1"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringLike": {"oidc.example.com/cluster1:sub": "system:serviceaccount:web:*"}}}]))}],
        "Credentials": [{"AccessKeyId": KEY.0, "SecretAccessKey": KEY.1, "UserName": "alice"}],
        "OpenIdConnectProviders": [{"Arn": "arn:aws:iam::111122223333:oidc-provider/oidc.example.com/cluster1",
            "Url": ISSUER, "ClientIDList": ["gateway"], "GatewayRoleArn": "arn:aws:iam::111122223333:role/web",
            "Jwks": {"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "x": jwk_x, "y": jwk_y}]}}],
        "Routes": [{"Method": "GET", "Path": "/reports/{year}/{file}", "Action": "reports:GetReport",
                    "Resource": "arn:aws:reports:::report/{year}/{file}"}]
    });
    std::fs::write(dir.join("account.json"), account.to_string()).unwrap();
    dir
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// The headers of `GET uri` signed by `secret` the way the SDKs sign (host and x-amz-date).
fn sigv4_headers(uri: &str, secret: &str) -> Vec<(String, String)> {
    sigv4_headers_to("keycard", uri, secret)
}

/// The same, for a request sent to `host`.
fn sigv4_headers_to(host: &str, uri: &str, secret: &str) -> Vec<(String, String)> {
    let amz = keycard::clock::amz_date(now());
    let scope = format!("{}/us-east-1/execute-api/aws4_request", &amz[..8]);
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let placeholder = "0".repeat(64);
    let auth = |sig: &str| {
        format!("AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=host;x-amz-date, Signature={sig}", KEY.0)
    };
    let request = SignedRequest {
        method: "GET".into(),
        path: path.into(),
        query: query.into(),
        headers: vec![
            ("host".into(), host.into()),
            ("x-amz-date".into(), amz.clone()),
            ("authorization".into(), auth(&placeholder)),
        ],
        body_sha256: Some(EMPTY_SHA256.into()),
    };
    let claims = request.signature().unwrap();
    let signature = sign(secret, &scope, &request.string_to_sign(&claims).unwrap());
    vec![("X-Amz-Date".into(), amz), ("Authorization".into(), auth(&signature))]
}

fn gate(server: &Server, uri: &str, headers: &[(String, String)]) -> Response {
    let mut all: Vec<(&str, &str)> = vec![("X-Original-Method", "GET"), ("X-Original-URI", uri)];
    all.extend(headers.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    server.connect().request_with("GET", "/v1/gate", &all)
}

fn expect(r: &Response, status: u16, decision: &str, principal: Option<&str>) {
    assert_eq!((r.status, r.header("x-keycard-decision")), (status, Some(decision)), "{}", r.text());
    assert_eq!(r.header("x-keycard-principal"), principal, "{}", r.text());
}

#[test]
fn sigv4_signed_requests_and_bearer_tokens_identify_the_caller() {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = key.public_key().as_ref();
    let dir = store("gate-identity", &URL_SAFE_NO_PAD.encode(&point[1..33]), &URL_SAFE_NO_PAD.encode(&point[33..]));
    let server = Server::start("gate-identity", &["--policies", dir.to_str().unwrap()]);
    server.wait_ready();

    // SigV4: the signer, over the original method, path and query.
    let uri = "/reports/2026/q1.csv";
    expect(&gate(&server, uri, &sigv4_headers(uri, KEY.1)), 200, "allowed", Some(ALICE));
    expect(&gate(&server, "/reports/2026/q1.csv?x=1", &sigv4_headers(uri, KEY.1)), 401, "unauthenticated", None);
    expect(&gate(&server, uri, &sigv4_headers(uri, "wrong-secret")), 401, "unauthenticated", None);
    // Identity before routes: a signed request on an unknown path is noRoute, an unsigned one 401.
    expect(&gate(&server, "/nowhere", &sigv4_headers("/nowhere", KEY.1)), 403, "noRoute", Some(ALICE));
    expect(&gate(&server, "/nowhere", &[]), 401, "unauthenticated", None);

    // Bearer: the provider's GatewayRoleArn session, named after the token's subject.
    let token = |sub: &str, exp: u64| {
        let h = URL_SAFE_NO_PAD.encode(json!({"alg": "ES256", "kid": "k1"}).to_string());
        let p = URL_SAFE_NO_PAD.encode(json!({"iss": ISSUER, "sub": sub, "aud": "gateway", "exp": exp}).to_string());
        let sig = key.sign(&rng, format!("{h}.{p}").as_bytes()).unwrap();
        format!("Bearer {h}.{p}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    };
    let bearer = |t: String| vec![("Authorization".to_string(), t)];
    let session = "arn:aws:sts::111122223333:assumed-role/web/system-serviceaccount-web-frontend";
    expect(
        &gate(&server, uri, &bearer(token("system:serviceaccount:web:frontend", now() + 600))),
        200,
        "allowed",
        Some(session),
    );
    // Refused by the role's trust policy: identified, not allowed.
    expect(
        &gate(&server, uri, &bearer(token("system:serviceaccount:other:x", now() + 600))),
        403,
        "implicitDeny",
        None,
    );
    // Expired, altered, or not a JWT: no identity.
    expect(
        &gate(&server, uri, &bearer(token("system:serviceaccount:web:frontend", now() - 10))),
        401,
        "unauthenticated",
        None,
    );
    let mut altered = token("system:serviceaccount:web:frontend", now() + 600);
    altered.replace_range(altered.len() - 6.., "AAAAAA");
    expect(&gate(&server, uri, &bearer(altered)), 401, "unauthenticated", None);
    expect(&gate(&server, uri, &bearer("Bearer not-a-jwt".into())), 401, "unauthenticated", None);
}

#[test]
fn forward_auth_sigv4_covers_the_x_forwarded_host() {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap();
    let point = key.public_key().as_ref();
    let dir =
        store("gate-forward-sigv4", &URL_SAFE_NO_PAD.encode(&point[1..33]), &URL_SAFE_NO_PAD.encode(&point[33..]));
    let server = Server::start("gate-forward-sigv4", &["--policies", dir.to_str().unwrap()]);
    server.wait_ready();
    // Caddy and Traefik ask with their own Host (here "keycard"); the client signed the original.
    let uri = "/reports/2026/q1.csv";
    let forward = |signed_host: &str, forwarded_host: Option<&str>| {
        let mut all: Vec<(String, String)> =
            vec![("X-Forwarded-Method".into(), "GET".into()), ("X-Forwarded-Uri".into(), uri.into())];
        if let Some(h) = forwarded_host {
            all.push(("X-Forwarded-Host".into(), h.into()));
        }
        all.extend(sigv4_headers_to(signed_host, uri, KEY.1));
        let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        server.connect().request_with("GET", "/v1/gate", &pairs)
    };
    expect(&forward("app.example", Some("app.example")), 200, "allowed", Some(ALICE));
    expect(&forward("app.example", None), 401, "unauthenticated", None);
    expect(&forward("app.example", Some("other.example")), 401, "unauthenticated", None);
}

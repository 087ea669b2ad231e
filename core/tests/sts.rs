//! keycard's STS end to end through the public API: credentials issued by `Sts`, requests signed
//! with them and authenticated, and decisions made as the session
//! (`docs/semantics.md#roles-and-sts`): session tags, session policies, `aws:TokenIssueTime`
//! revocation, MFA, GetSessionToken's restrictions, role chaining, sealed tokens (tampering,
//! expiry, key rotation), and web identities (RS256 and ES256 tokens against the store's key set).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use keycard::auth::sigv4::{sha256_hex, sign};
use keycard::auth::{authenticate, AuthCode, Identity, SealKeys, SignedRequest};
use keycard::sts::{CallFacts, Params, Sts, StsCode};
use keycard::{Decision, Request, Snapshot, Store, Verifier};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, RsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING, RSA_PKCS1_SHA256};
use serde_json::{json, Value};

const A: &str = "111122223333";
const T: u64 = 1_795_428_000; // 2026-11-23T10:00:00Z
const ALICE_KEY: (&str, &str) = ("AKIAALICEEXAMPLE0001", "alice-secret-0123456789abcdefghijklmnop");
const KEYS: &str = "first-sealing-key-of-at-least-32-characters\n";
const SEED: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const ISSUER: &str = "https://oidc.example.com/cluster1";

fn doc(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// The store: alice (key, MFA device), role `app` (tagged, tag-scoped policy), role `revoked`
/// (revoke-sessions deny), an OIDC provider and a role it may assume.
fn store(jwks: Value) -> Store {
    let account = json!({
        "AccountId": A,
        "UserDetailList": [{"UserName": "alice", "UserId": "AIDAALICE", "Path": "/",
            "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": doc(json!([
                {"Effect": "Allow", "Action": ["iam:ListUsers", "s3:ListBucket"], "Resource": "*"}]))}]},
            {"UserName": "carol", "Path": "/"}],
        "RoleDetailList": [
            {"RoleName": "app", "RoleId": "AROAAPP", "Path": "/", "MaxSessionDuration": 43200,
             "Tags": [{"Key": "team", "Value": "red"}],
             "AssumeRolePolicyDocument": doc(json!([{"Effect": "Allow",
                "Principal": {"AWS": [format!("arn:aws:iam::{A}:user/alice"), format!("arn:aws:iam::{A}:role/app")]},
                "Action": ["sts:AssumeRole", "sts:TagSession"]}])),
             "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": doc(json!([
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::${aws:PrincipalTag/team}/*"},
                {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::reports/*"}]))}]},
            {"RoleName": "revoked", "RoleId": "AROAREVOKED", "Path": "/",
             "AssumeRolePolicyDocument": doc(json!([{"Effect": "Allow",
                "Principal": {"AWS": format!("arn:aws:iam::{A}:user/alice")}, "Action": "sts:AssumeRole"}])),
             "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": doc(json!([
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
                {"Effect": "Deny", "Action": "*", "Resource": "*",
                 "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-11-23T10:00:05Z"}}}]))}]},
            {"RoleName": "irsa", "RoleId": "AROAIRSA", "Path": "/",
             "AssumeRolePolicyDocument": doc(json!([{"Effect": "Allow",
                "Principal": {"Federated": format!("arn:aws:iam::{A}:oidc-provider/oidc.example.com/cluster1")},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {"oidc.example.com/cluster1:sub": "system:serviceaccount:ns:app",
                                               "oidc.example.com/cluster1:aud": "sts.amazonaws.com"}}}])),
             "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": doc(json!([
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]))}]}
        ],
        "Credentials": [{"AccessKeyId": ALICE_KEY.0, "SecretAccessKey": ALICE_KEY.1, "UserName": "alice"},
                        {"AccessKeyId": "AKIACAROLEXAMPLE0001", "SecretAccessKey": "carol-secret-0123456789",
                         "UserName": "carol", "Status": "Inactive"}],
        "MfaDevices": [{"SerialNumber": format!("arn:aws:iam::{A}:mfa/alice"), "UserName": "alice", "Seed": SEED}],
        "OpenIdConnectProviders": [{"Arn": format!("arn:aws:iam::{A}:oidc-provider/oidc.example.com/cluster1"),
            "Url": ISSUER, "ClientIDList": ["sts.amazonaws.com"], "Jwks": jwks}]
    });
    Store::from_documents([("account.json", account.to_string())]).unwrap()
}

fn snapshot() -> Snapshot {
    Snapshot::new(store(json!({"keys": []})))
}

fn sts() -> Sts {
    Sts::new(SealKeys::parse(KEYS, "keys").unwrap())
}

fn params(pairs: &[(&str, &str)]) -> Params {
    Params::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// An STS call signed the way botocore signs it.
fn signed(access: &str, secret: &str, token: Option<&str>, at: u64) -> SignedRequest {
    let amz = keycard::clock::amz_date(at);
    let scope = format!("{}/us-east-1/sts/aws4_request", &amz[..8]);
    let mut headers = vec![("Host".to_string(), "sts.amazonaws.com".to_string()), ("X-Amz-Date".into(), amz)];
    let mut names = "host;x-amz-date".to_string();
    if let Some(t) = token {
        headers.push(("X-Amz-Security-Token".into(), t.into()));
        names.push_str(";x-amz-security-token");
    }
    let placeholder = "0".repeat(64);
    headers.push((
        "Authorization".into(),
        format!("AWS4-HMAC-SHA256 Credential={access}/{scope}, SignedHeaders={names}, Signature={placeholder}"),
    ));
    let mut req = SignedRequest {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers,
        body_sha256: Some(sha256_hex(b"Action=GetCallerIdentity&Version=2011-06-15")),
    };
    let sig = req.signature().unwrap();
    let signature = sign(secret, &scope, &req.string_to_sign(&sig).unwrap());
    let auth = &mut req.headers.last_mut().unwrap().1;
    *auth = auth.replace(&placeholder, &signature);
    req
}

fn alice(snap: &Snapshot, at: u64) -> Identity {
    authenticate(snap.store(), None, &signed(ALICE_KEY.0, ALICE_KEY.1, None, at), at).unwrap().0
}

fn assume(sts: &Sts, snap: &Snapshot, who: &Identity, extra: &[(&str, &str)], at: u64) -> Result<Identity, String> {
    let mut p = vec![("RoleArn", "arn:aws:iam::111122223333:role/app"), ("RoleSessionName", "s1")];
    p.extend_from_slice(extra);
    let issued =
        sts.assume_role(snap, who, &params(&p), &CallFacts::default(), at).map_err(|e| e.code().as_str().to_owned())?;
    let c = issued.credentials;
    let req = signed(&c.access_key_id, &c.secret_access_key, Some(&c.session_token), at + 1);
    Ok(authenticate(snap.store(), Some(sts.keys()), &req, at + 1).map_err(|e| e.code().as_str().to_owned())?.0)
}

fn decide(snap: &Snapshot, who: &Identity, action: &str, resource: &str, at: u64) -> Decision {
    let mut r = Request::new("*", action, resource).unwrap();
    r.authenticated_as(snap.store(), who, at);
    let reference = keycard::reference::authorize(snap.store(), &r).decision();
    let compiled = snap.decide(&r);
    assert_eq!(reference, compiled, "the reference and the index disagree on {action} {resource}");
    compiled
}

#[test]
fn long_term_keys_authenticate_and_unknown_or_inactive_keys_do_not() {
    let snap = snapshot();
    let who = alice(&snap, T);
    assert_eq!(who.principal_arn(), "arn:aws:iam::111122223333:user/alice");
    let code = |access: &str, secret: &str| {
        authenticate(snap.store(), None, &signed(access, secret, None, T), T).unwrap_err().code()
    };
    assert_eq!(code("AKIAUNKNOWNEXAMPLE01", "x"), AuthCode::InvalidClientTokenId);
    assert_eq!(code("AKIACAROLEXAMPLE0001", "carol-secret-0123456789"), AuthCode::InvalidClientTokenId);
    assert_eq!(code(ALICE_KEY.0, "wrong"), AuthCode::SignatureDoesNotMatch);
    let late = authenticate(snap.store(), None, &signed(ALICE_KEY.0, ALICE_KEY.1, None, T), T + 901).unwrap_err();
    assert_eq!(late.code(), AuthCode::RequestExpired);
}

#[test]
fn a_role_session_is_evaluated_with_its_session_tags_over_the_role_tags() {
    let (snap, sts) = (snapshot(), sts());
    let plain = assume(&sts, &snap, &alice(&snap, T), &[], T).unwrap();
    assert_eq!(plain.principal_arn(), "arn:aws:sts::111122223333:assumed-role/app/s1");
    assert_eq!(decide(&snap, &plain, "s3:GetObject", "arn:aws:s3:::red/x", T + 2), Decision::Allowed);
    let tagged =
        assume(&sts, &snap, &alice(&snap, T), &[("Tags.member.1.Key", "team"), ("Tags.member.1.Value", "blue")], T)
            .unwrap();
    assert_eq!(decide(&snap, &tagged, "s3:GetObject", "arn:aws:s3:::blue/x", T + 2), Decision::Allowed);
    assert_eq!(decide(&snap, &tagged, "s3:GetObject", "arn:aws:s3:::red/x", T + 2), Decision::ImplicitDeny);
}

#[test]
fn session_policies_intersect_with_the_role_policies() {
    let (snap, sts) = (snapshot(), sts());
    let policy = doc(json!([{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::reports/2026/*"}]));
    let who = assume(&sts, &snap, &alice(&snap, T), &[("Policy", &policy.to_string())], T).unwrap();
    assert_eq!(decide(&snap, &who, "s3:PutObject", "arn:aws:s3:::reports/2026/q1", T + 2), Decision::Allowed);
    assert_eq!(decide(&snap, &who, "s3:PutObject", "arn:aws:s3:::reports/2025/q1", T + 2), Decision::ImplicitDeny);
    assert_eq!(decide(&snap, &who, "s3:GetObject", "arn:aws:s3:::red/x", T + 2), Decision::ImplicitDeny);
    let err = assume(&sts, &snap, &alice(&snap, T), &[("Policy", "{not json")], T).unwrap_err();
    assert_eq!(err, "MalformedPolicyDocument");
    let err = assume(
        &sts,
        &snap,
        &alice(&snap, T),
        &[("PolicyArns.member.1.arn", "arn:aws:iam::111122223333:policy/none")],
        T,
    )
    .unwrap_err();
    assert_eq!(err, "InvalidParameterValue");
}

#[test]
fn revoking_older_sessions_by_token_issue_time() {
    let (snap, sts) = (snapshot(), sts());
    let revoked = |at: u64| {
        let p = params(&[("RoleArn", "arn:aws:iam::111122223333:role/revoked"), ("RoleSessionName", "s9")]);
        let c = sts.assume_role(&snap, &alice(&snap, at), &p, &CallFacts::default(), at).unwrap().credentials;
        let req = signed(&c.access_key_id, &c.secret_access_key, Some(&c.session_token), at + 1);
        authenticate(snap.store(), Some(sts.keys()), &req, at + 1).unwrap().0
    };
    assert_eq!(decide(&snap, &revoked(T), "s3:GetObject", "arn:aws:s3:::b/k", T + 60), Decision::ExplicitDeny);
    assert_eq!(decide(&snap, &revoked(T + 10), "s3:GetObject", "arn:aws:s3:::b/k", T + 60), Decision::Allowed);
    // Long-term keys carry no aws:TokenIssueTime: the deny does not touch them
    // (`docs/semantics.md#revocation`).
    let user = alice(&snap, T);
    assert_eq!(decide(&snap, &user, "s3:ListBucket", "arn:aws:s3:::b", T), Decision::Allowed);
}

#[test]
fn tokens_expire_cannot_be_altered_and_follow_the_key_file() {
    let (snap, sts) = (snapshot(), sts());
    let p = params(&[
        ("RoleArn", "arn:aws:iam::111122223333:role/app"),
        ("RoleSessionName", "s1"),
        ("DurationSeconds", "900"),
    ]);
    let c = sts.assume_role(&snap, &alice(&snap, T), &p, &CallFacts::default(), T).unwrap().credentials;
    assert_eq!(c.expiration, T + 900);
    let auth = |keys: &SealKeys, token: &str, at: u64| {
        authenticate(snap.store(), Some(keys), &signed(&c.access_key_id, &c.secret_access_key, Some(token), at), at)
    };
    assert!(auth(sts.keys(), &c.session_token, T + 899).is_ok());
    assert_eq!(auth(sts.keys(), &c.session_token, T + 900).unwrap_err().code(), AuthCode::ExpiredToken);
    // Every bit of the token is sealed.
    let mut raw = base64::engine::general_purpose::STANDARD.decode(&c.session_token).unwrap();
    for i in [0, 3, 10, raw.len() / 2, raw.len() - 1] {
        raw[i] ^= 0x20;
        let forged = base64::engine::general_purpose::STANDARD.encode(&raw);
        assert_eq!(auth(sts.keys(), &forged, T + 10).unwrap_err().code(), AuthCode::InvalidClientTokenId, "byte {i}");
        raw[i] ^= 0x20;
    }
    // A replica with the same file opens it; after rotation (new key first) the old key still
    // opens; a file without the sealing key does not.
    let replica = SealKeys::parse(KEYS, "replica").unwrap();
    assert!(auth(&replica, &c.session_token, T + 10).is_ok());
    let rotated = SealKeys::parse(&format!("second-sealing-key-of-at-least-32-chars!\n{KEYS}"), "rotated").unwrap();
    assert!(auth(&rotated, &c.session_token, T + 10).is_ok());
    let other = SealKeys::parse("second-sealing-key-of-at-least-32-chars!\n", "other").unwrap();
    assert_eq!(auth(&other, &c.session_token, T + 10).unwrap_err().code(), AuthCode::InvalidClientTokenId);
    assert!(SealKeys::parse("short\n", "f").unwrap_err().to_string().contains("f:1"));
    assert!(SealKeys::parse("# nothing\n\n", "f").is_err());
}

#[test]
fn role_chaining_is_capped_and_keeps_transitive_tags() {
    let (snap, sts) = (snapshot(), sts());
    let first = assume(
        &sts,
        &snap,
        &alice(&snap, T),
        &[("Tags.member.1.Key", "team"), ("Tags.member.1.Value", "blue"), ("TransitiveTagKeys.member.1", "team")],
        T,
    )
    .unwrap();
    assert_eq!(assume(&sts, &snap, &first, &[("DurationSeconds", "3601")], T + 5).unwrap_err(), "ValidationError");
    let second = assume(&sts, &snap, &first, &[], T + 5).unwrap();
    assert_eq!(decide(&snap, &second, "s3:GetObject", "arn:aws:s3:::blue/x", T + 6), Decision::Allowed);
    // A new tag may not reuse an inherited transitive key.
    let err =
        assume(&sts, &snap, &first, &[("Tags.member.1.Key", "TEAM"), ("Tags.member.1.Value", "x")], T + 5).unwrap_err();
    assert_eq!(err, "InvalidParameterValue");
}

fn totp(at: u64) -> String {
    // JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP, decoded.
    let seed = b"Hello!\xde\xad\xbe\xefHello!\xde\xad\xbe\xef";
    keycard::auth::totp::code(seed, at / 30)
}

#[test]
fn get_session_token_sessions_and_mfa() {
    let (snap, sts) = (snapshot(), sts());
    let serial = "arn:aws:iam::111122223333:mfa/alice";
    let session = |mfa: bool, at: u64| {
        let code = totp(at);
        let p = if mfa { params(&[("SerialNumber", serial), ("TokenCode", &code)]) } else { params(&[]) };
        let c = sts
            .get_session_token(snap.store(), &alice(&snap, at), &p, at)
            .map_err(|e| e.code().as_str().to_owned())?
            .credentials;
        let req = signed(&c.access_key_id, &c.secret_access_key, Some(&c.session_token), at + 1);
        Ok::<Identity, String>(authenticate(snap.store(), Some(sts.keys()), &req, at + 1).unwrap().0)
    };
    let plain = session(false, T).unwrap();
    assert_eq!(plain.principal_arn(), "arn:aws:iam::111122223333:user/alice");
    assert_eq!(decide(&snap, &plain, "s3:ListBucket", "arn:aws:s3:::b", T + 2), Decision::Allowed);
    assert_eq!(decide(&snap, &plain, "iam:ListUsers", "*", T + 2), Decision::ImplicitDeny, "no IAM without MFA");
    let with_mfa = session(true, T).unwrap();
    assert_eq!(decide(&snap, &with_mfa, "iam:ListUsers", "*", T + 2), Decision::Allowed);
    // The same code a second time, and a wrong code.
    assert_eq!(session(true, T).unwrap_err(), "AccessDenied");
    let wrong = if totp(T + 60) == "123456" { "654321" } else { "123456" };
    let p2 = params(&[("SerialNumber", serial), ("TokenCode", wrong)]);
    assert_eq!(
        sts.get_session_token(snap.store(), &alice(&snap, T + 60), &p2, T + 60).unwrap_err().code(),
        StsCode::AccessDenied
    );
    // Session credentials cannot call GetSessionToken.
    assert_eq!(
        sts.get_session_token(snap.store(), &plain, &params(&[]), T + 2).unwrap_err().code(),
        StsCode::AccessDenied
    );
}

/// A compact JWS signed by `sign`.
fn jwt(header: Value, claims: Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let h = URL_SAFE_NO_PAD.encode(header.to_string());
    let p = URL_SAFE_NO_PAD.encode(claims.to_string());
    let sig = sign(format!("{h}.{p}").as_bytes());
    format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(sig))
}

#[test]
fn web_identities_from_rs256_and_es256_tokens() {
    let rng = SystemRandom::new();
    let ec_pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let ec = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, ec_pkcs8.as_ref(), &rng).unwrap();
    let point = ec.public_key().as_ref();
    let rsa_der = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/oidc/rsa2048.der")).unwrap();
    let rsa = RsaKeyPair::from_der(&rsa_der).unwrap();
    let rsa_jwk: Value =
        serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/oidc/rsa2048.jwk.json")))
            .unwrap();
    let jwks = json!({"keys": [
        {"kty": "EC", "crv": "P-256", "kid": "ec1", "x": URL_SAFE_NO_PAD.encode(&point[1..33]), "y": URL_SAFE_NO_PAD.encode(&point[33..])},
        rsa_jwk]});
    let snap = Snapshot::new(store(jwks));
    let sts = sts();
    let es256 = |claims: Value| {
        jwt(json!({"alg": "ES256", "kid": "ec1"}), claims, |m| ec.sign(&rng, m).unwrap().as_ref().to_vec())
    };
    let rs256 = |claims: Value| {
        jwt(json!({"alg": "RS256", "kid": "rsa1"}), claims, |m| {
            let mut sig = vec![0; rsa.public().modulus_len()];
            rsa.sign(&RSA_PKCS1_SHA256, &rng, m, &mut sig).unwrap();
            sig
        })
    };
    let claims = |sub: &str, aud: &str, exp: u64| json!({"iss": ISSUER, "sub": sub, "aud": aud, "exp": exp, "iat": T});
    let call = |token: &str| {
        let p = params(&[
            ("RoleArn", "arn:aws:iam::111122223333:role/irsa"),
            ("RoleSessionName", "pod-1"),
            ("WebIdentityToken", token),
        ]);
        sts.assume_role_with_web_identity(&snap, &p, &CallFacts::default(), T).map_err(|e| e.code().to_owned())
    };
    let good = claims("system:serviceaccount:ns:app", "sts.amazonaws.com", T + 600);
    for token in [es256(good.clone()), rs256(good.clone())] {
        let issued = call(&token).unwrap();
        assert_eq!(issued.assumed_role_user.unwrap().1, "arn:aws:sts::111122223333:assumed-role/irsa/pod-1");
        let (sub, aud, provider) = issued.web_identity.unwrap();
        assert_eq!(
            (sub.as_str(), aud.as_str(), provider.as_str()),
            ("system:serviceaccount:ns:app", "sts.amazonaws.com", "oidc.example.com/cluster1")
        );
    }
    assert_eq!(
        call(&es256(claims("system:serviceaccount:ns:other", "sts.amazonaws.com", T + 600))).unwrap_err(),
        StsCode::AccessDenied
    );
    assert_eq!(
        call(&rs256(claims("system:serviceaccount:ns:app", "someone-else", T + 600))).unwrap_err(),
        StsCode::Auth(AuthCode::InvalidIdentityToken)
    );
    assert_eq!(
        call(&es256(claims("system:serviceaccount:ns:app", "sts.amazonaws.com", T - 1))).unwrap_err(),
        StsCode::Auth(AuthCode::ExpiredTokenException)
    );
    // Tampered claims, a token signed by another key, and algorithms keycard refuses.
    let token = es256(good.clone());
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[1] =
        URL_SAFE_NO_PAD.encode(claims("system:serviceaccount:ns:app", "sts.amazonaws.com", T + 99_999).to_string());
    assert_eq!(call(&parts.join(".")).unwrap_err(), StsCode::Auth(AuthCode::InvalidIdentityToken));
    let other_pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
    let other = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, other_pkcs8.as_ref(), &rng).unwrap();
    let forged =
        jwt(json!({"alg": "ES256", "kid": "ec1"}), good.clone(), |m| other.sign(&rng, m).unwrap().as_ref().to_vec());
    assert_eq!(call(&forged).unwrap_err(), StsCode::Auth(AuthCode::InvalidIdentityToken));
    assert_eq!(
        call(&jwt(json!({"alg": "none"}), good.clone(), |_| Vec::new())).unwrap_err(),
        StsCode::Auth(AuthCode::InvalidIdentityToken)
    );
    let hs256 = jwt(json!({"alg": "HS256", "kid": "rsa1"}), good.clone(), |m| {
        ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"public"), m).as_ref().to_vec()
    });
    assert_eq!(call(&hs256).unwrap_err(), StsCode::Auth(AuthCode::InvalidIdentityToken));
    let unknown_issuer =
        es256(json!({"iss": "https://evil.example.com", "sub": "x", "aud": "sts.amazonaws.com", "exp": T + 600}));
    assert_eq!(call(&unknown_issuer).unwrap_err(), StsCode::Auth(AuthCode::InvalidIdentityToken));
}

#[test]
fn signed_requests_decide_only_once_authenticated() {
    let snap = snapshot();
    let req = signed(ALICE_KEY.0, ALICE_KEY.1, None, T);
    let body = json!({
        "signedRequest": {"method": req.method, "path": req.path, "query": req.query,
            "headers": req.headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
            "bodySha256": req.body_sha256},
        "action": "s3:ListBucket", "resource": "arn:aws:s3:::b"});
    let mut request = Request::from_json(&body.to_string()).unwrap();
    assert_eq!(snap.decide(&request), Decision::ImplicitDeny, "unauthenticated: fail closed");
    let who = request.authenticate(snap.store(), Verifier::StoreKeys, T).unwrap();
    assert_eq!(who.principal_arn(), "arn:aws:iam::111122223333:user/alice");
    assert_eq!(snap.decide(&request), Decision::Allowed);
    // A signed request may not claim credential facts itself, nor name a principal too.
    let mut claims = body.clone();
    claims["context"] = json!({"aws:MultiFactorAuthPresent": true});
    assert_eq!(Request::from_json(&claims.to_string()).unwrap_err().field(), "/context/aws:MultiFactorAuthPresent");
    let mut both = body.clone();
    both["principal"] = json!("arn:aws:iam::111122223333:user/alice");
    assert_eq!(Request::from_json(&both.to_string()).unwrap_err().field(), "/signedRequest");
    // A wrong signature leaves it unauthenticated.
    let mut bad = Request::from_json(&body.to_string()).unwrap();
    assert_eq!(
        bad.authenticate(snap.store(), Verifier::StoreKeys, T + 10_000).unwrap_err().code(),
        AuthCode::RequestExpired
    );
    assert_eq!(snap.decide(&bad), Decision::ImplicitDeny);
}

#[test]
fn session_tags_and_source_identity_are_validated_as_aws_does() {
    let (snap, sts) = (snapshot(), sts());
    let who = alice(&snap, T);
    let code = |extra: &[(&str, &str)]| assume(&sts, &snap, &who, extra, T).map(|_| ()).unwrap_err();
    // Tag keys are case-insensitive (`docs/semantics.md#session-tags`).
    let dup = [
        ("Tags.member.1.Key", "team"),
        ("Tags.member.1.Value", "a"),
        ("Tags.member.2.Key", "TEAM"),
        ("Tags.member.2.Value", "b"),
    ];
    assert_eq!(code(&dup), "InvalidParameterValue");
    // A transitive key must be one of the tags passed.
    assert_eq!(
        code(&[("Tags.member.1.Key", "team"), ("Tags.member.1.Value", "a"), ("TransitiveTagKeys.member.1", "env")]),
        "InvalidParameterValue"
    );
    // At most 50 tags; keys up to 128 characters, values up to 256.
    let names: Vec<(String, String)> = (1..=51)
        .flat_map(|i| {
            [(format!("Tags.member.{i}.Key"), format!("k{i}")), (format!("Tags.member.{i}.Value"), "v".into())]
        })
        .collect();
    let many: Vec<(&str, &str)> = names.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(code(&many), "ValidationError");
    let long_key = "k".repeat(129);
    assert_eq!(code(&[("Tags.member.1.Key", &long_key), ("Tags.member.1.Value", "v")]), "ValidationError");
    let long_value = "v".repeat(257);
    assert_eq!(code(&[("Tags.member.1.Key", "k"), ("Tags.member.1.Value", &long_value)]), "ValidationError");
    // Session names: 2 to 64 characters of [\w+=,.@-].
    let p = params(&[("RoleArn", "arn:aws:iam::111122223333:role/app"), ("RoleSessionName", "has space")]);
    assert_eq!(
        sts.assume_role(&snap, &who, &p, &CallFacts::default(), T).unwrap_err().code(),
        StsCode::ValidationError
    );
}

#[test]
fn setting_a_source_identity_needs_sts_set_source_identity() {
    let (snap, sts) = (snapshot(), sts());
    // The app role's trust does not grant sts:SetSourceIdentity: setting one is denied.
    assert_eq!(assume(&sts, &snap, &alice(&snap, T), &[("SourceIdentity", "alice")], T).unwrap_err(), "AccessDenied");
}

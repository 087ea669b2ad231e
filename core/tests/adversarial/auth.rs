//! Authentication and STS under attack: a body swapped under a valid signature, MFA codes and
//! signatures guessed in bulk, oversized STS parameters.

use keycard::auth::sigv4::{sha256_hex, sign, SignedRequest};
use keycard::auth::{authenticate, Identity, SealKeys};
use keycard::sts::{CallFacts, Params, Sts};
use keycard::{Request, Snapshot, Store};
use serde_json::{json, Value};

const A: &str = "111122223333";
/// 2026-11-23T10:00:00Z.
const T: u64 = 1_795_428_000;
const ALICE_KEY: (&str, &str) = ("AKIAALICEEXAMPLE0001", "alice-secret-0123456789abcdefghijklmnop");
const SEALING: &str = "first-sealing-key-of-at-least-32-characters\n";
/// `JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP`, decoded.
const SEED: &[u8] = b"Hello!\xde\xad\xbe\xefHello!\xde\xad\xbe\xef";
const SERIAL: &str = "arn:aws:iam::111122223333:mfa/alice";
const READER: &str = "arn:aws:iam::111122223333:role/report-reader";
const ADMIN: &str = "arn:aws:iam::111122223333:role/admin";
const CALLER_BODY: &[u8] = b"Action=GetCallerIdentity&Version=2011-06-15";

fn doc(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// alice (key, MFA device); `report-reader` trusts alice; `admin` trusts alice with MFA only.
fn snapshot() -> Snapshot {
    let alice = format!("arn:aws:iam::{A}:user/alice");
    let account = json!({
        "AccountId": A,
        "UserDetailList": [{"UserName": "alice", "UserId": "AIDAALICE", "Path": "/",
            "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": doc(json!([
                {"Effect": "Allow", "Action": ["sts:AssumeRole", "s3:ListBucket"], "Resource": "*"}]))}]}],
        "RoleDetailList": [
            {"RoleName": "report-reader", "RoleId": "AROAREADER", "Path": "/",
             "AssumeRolePolicyDocument": doc(json!([{"Effect": "Allow", "Principal": {"AWS": alice},
                "Action": ["sts:AssumeRole", "sts:TagSession"]}])),
             "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": doc(json!([
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]))}]},
            {"RoleName": "admin", "RoleId": "AROAADMIN", "Path": "/",
             "AssumeRolePolicyDocument": doc(json!([{"Effect": "Allow", "Principal": {"AWS": alice},
                "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}])),
             "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": doc(json!([
                {"Effect": "Allow", "Action": "*", "Resource": "*"}]))}]}],
        "Credentials": [{"AccessKeyId": ALICE_KEY.0, "SecretAccessKey": ALICE_KEY.1, "UserName": "alice"}],
        "MfaDevices": [{"SerialNumber": SERIAL, "UserName": "alice", "Seed": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}]
    });
    Snapshot::new(Store::from_documents([("account.json", account.to_string())]).unwrap())
}

fn sts() -> Sts {
    Sts::new(SealKeys::parse(SEALING, "keys").unwrap())
}

fn params(pairs: &[(&str, &str)]) -> Params {
    Params::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// `POST /` to `service` signed the way botocore signs it, over `body`, with `extra` headers
/// (signed) added before signing.
fn signed(service: &str, body: &[u8], extra: &[(&str, &str)], secret: &str, at: u64) -> SignedRequest {
    let amz = keycard::clock::amz_date(at);
    let scope = format!("{}/us-east-1/{service}/aws4_request", &amz[..8]);
    let mut headers = vec![("Host".to_string(), "sts.amazonaws.com".to_string()), ("X-Amz-Date".into(), amz)];
    headers.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    let mut names: Vec<String> = headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
    names.sort();
    let placeholder = "0".repeat(64);
    let authz = |sig: &str| {
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={sig}",
            ALICE_KEY.0,
            names.join(";")
        )
    };
    headers.push(("Authorization".into(), authz(&placeholder)));
    let mut req = SignedRequest {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers,
        body_sha256: Some(sha256_hex(body)),
    };
    let sig = req.signature().unwrap();
    let signature = sign(secret, &scope, &req.string_to_sign(&sig).unwrap());
    req.headers.last_mut().unwrap().1 = authz(&signature);
    req
}

fn alice(snap: &Snapshot, at: u64) -> Identity {
    authenticate(snap.store(), None, &signed("sts", CALLER_BODY, &[], ALICE_KEY.1, at), at).unwrap().0
}

/// An error's AWS code (its kind, never its message text).
trait Code {
    fn code_str(&self) -> &'static str;
}

impl Code for keycard::AuthError {
    fn code_str(&self) -> &'static str {
        self.code().as_str()
    }
}

impl Code for keycard::sts::StsError {
    fn code_str(&self) -> &'static str {
        self.code().as_str()
    }
}

fn code_of<T>(result: Result<T, impl Code>) -> String {
    match result {
        Ok(_) => "accepted".to_owned(),
        Err(e) => e.code_str().to_owned(),
    }
}

// ---- 1. The body is bound to the signature ----

/// The attack of the issue: a captured, signed `GetCallerIdentity` is resent with an unsigned
/// `x-amz-content-sha256` carrying the original body's hash and a different body.
#[test]
fn a_swapped_body_under_an_unsigned_content_sha256_header_does_not_authenticate() {
    let snap = snapshot();
    let captured = signed("sts", CALLER_BODY, &[], ALICE_KEY.1, T);
    let stolen = format!("Action=AssumeRole&Version=2011-06-15&RoleArn={READER}&RoleSessionName=stolen");
    let mut replay = captured.clone();
    replay.headers.insert(0, ("x-amz-content-sha256".into(), sha256_hex(CALLER_BODY)));
    replay.body_sha256 = Some(sha256_hex(stolen.as_bytes()));
    let result = authenticate(snap.store(), None, &replay, T);
    assert_eq!(code_of(result), "XAmzContentSHA256Mismatch");
    // The captured request itself, unchanged, still authenticates.
    authenticate(snap.store(), None, &captured, T).unwrap();
}

#[test]
fn a_signed_content_sha256_header_must_match_the_body_received() {
    let snap = snapshot();
    let honest = signed("sts", CALLER_BODY, &[("x-amz-content-sha256", &sha256_hex(CALLER_BODY))], ALICE_KEY.1, T);
    authenticate(snap.store(), None, &honest, T).unwrap();
    let mut swapped = honest.clone();
    swapped.body_sha256 = Some(sha256_hex(b"Action=AssumeRole&Version=2011-06-15"));
    assert_eq!(code_of(authenticate(snap.store(), None, &swapped, T)), "XAmzContentSHA256Mismatch");
}

/// `UNSIGNED-PAYLOAD` leaves the body unsigned: AWS accepts it from S3 only.
#[test]
fn unsigned_payload_is_for_s3_only() {
    let snap = snapshot();
    let unsigned = [("x-amz-content-sha256", "UNSIGNED-PAYLOAD")];
    let sts_call = signed("sts", b"Action=AssumeRole&Version=2011-06-15", &unsigned, ALICE_KEY.1, T);
    assert_eq!(code_of(authenticate(snap.store(), None, &sts_call, T)), "XAmzContentSHA256Mismatch");
    let s3_put = signed("s3", b"any object body", &unsigned, ALICE_KEY.1, T);
    authenticate(snap.store(), None, &s3_put, T).unwrap();
}

/// `signedRequest` in a request to decide: the body's hash comes as `bodySha256`, and an
/// `x-amz-content-sha256` header must agree with it.
#[test]
fn a_signed_request_to_decide_binds_body_sha256() {
    let snap = snapshot();
    let captured = signed("sts", CALLER_BODY, &[], ALICE_KEY.1, T);
    let request = |headers: &[(String, String)], body_sha256: &str| {
        json!({
            "signedRequest": {"method": "POST", "path": "/", "query": "",
                "headers": headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
                "bodySha256": body_sha256},
            "action": "s3:ListBucket", "resource": "arn:aws:s3:::b"})
        .to_string()
    };
    let mut headers = captured.headers.clone();
    headers.push(("x-amz-content-sha256".into(), sha256_hex(CALLER_BODY)));
    let mut changed = Request::from_json(&request(&headers, &sha256_hex(b"changed body"))).unwrap();
    assert_eq!(
        code_of(changed.authenticate(snap.store(), keycard::Verifier::StoreKeys, T)),
        "XAmzContentSHA256Mismatch"
    );
    let mut honest = Request::from_json(&request(&headers, &sha256_hex(CALLER_BODY))).unwrap();
    honest.authenticate(snap.store(), keycard::Verifier::StoreKeys, T).unwrap();
}

// ---- 2. Guessing MFA codes and signatures ----

fn wrong_code(at: u64) -> String {
    let step = at / 30;
    let right: Vec<String> = (step - 1..=step + 1).map(|s| keycard::auth::totp::code(SEED, s)).collect();
    (0..1_000_000).map(|n| format!("{n:06}")).find(|c| !right.contains(c)).unwrap()
}

/// 1,000 wrong codes in a row, then the right one: the right one is refused too, until the
/// lockout window has passed.
#[test]
fn a_thousand_wrong_mfa_codes_then_the_right_one_do_not_assume_the_role() {
    let (snap, sts) = (snapshot(), sts());
    let assume = |code: &str, at: u64| {
        let p =
            params(&[("RoleArn", ADMIN), ("RoleSessionName", "guess"), ("SerialNumber", SERIAL), ("TokenCode", code)]);
        sts.assume_role(&snap, &alice(&snap, at), &p, &CallFacts::default(), at)
    };
    let mut at = T;
    for _ in 0..1000 {
        assert_eq!(code_of(assume(&wrong_code(at), at)), "AccessDenied");
        at += 1;
    }
    let right = keycard::auth::totp::code(SEED, at / 30);
    assert_eq!(code_of(assume(&right, at)), "AccessDenied", "the right code inside the lockout window");
}

#[test]
fn a_legitimate_user_recovers_once_the_lockout_window_has_passed() {
    let (snap, sts) = (snapshot(), sts());
    let session_token = |code: &str, at: u64| {
        let p = params(&[("SerialNumber", SERIAL), ("TokenCode", code)]);
        sts.get_session_token(snap.store(), &alice(&snap, at), &p, at)
    };
    let mut at = T;
    for _ in 0..25 {
        assert_eq!(code_of(session_token(&wrong_code(at), at)), "AccessDenied");
        at += 1;
    }
    let right = keycard::auth::totp::code(SEED, at / 30);
    assert_eq!(code_of(session_token(&right, at)), "AccessDenied", "locked out");
    let later = at + 3600;
    let right = keycard::auth::totp::code(SEED, later / 30);
    assert_eq!(code_of(session_token(&right, later)), "accepted", "after the lockout window");
}

/// Wrong signatures count against the long-term key they name: once it is locked out, a right
/// signature is refused too, until the window has passed.
#[test]
fn wrong_signatures_lock_the_access_key_out_for_a_while() {
    let (snap, sts) = (snapshot(), sts());
    let mut at = T;
    for _ in 0..30 {
        let forged = signed("sts", CALLER_BODY, &[], "not-alice-secret", at);
        let code = code_of(sts.authenticate(snap.store(), &forged, at));
        assert!(code == "SignatureDoesNotMatch" || code == "InvalidClientTokenId", "{code}");
        at += 1;
    }
    let right = signed("sts", CALLER_BODY, &[], ALICE_KEY.1, at);
    assert_eq!(code_of(sts.authenticate(snap.store(), &right, at)), "InvalidClientTokenId");
    let later = at + 3600;
    let right = signed("sts", CALLER_BODY, &[], ALICE_KEY.1, later);
    assert_eq!(code_of(sts.authenticate(snap.store(), &right, later)), "accepted");
    let counts = sts.auth_failures();
    assert!(counts.iter().any(|&(r, n)| r == "signature" && n >= 5), "{counts:?}");
    assert!(counts.iter().any(|&(r, n)| r == "throttled" && n >= 1), "{counts:?}");
    // An invented key id is never tracked: it cannot lock anything out, nor fill the table.
    let mut invented = signed("sts", CALLER_BODY, &[], ALICE_KEY.1, later);
    for (_, v) in &mut invented.headers {
        *v = v.replace(ALICE_KEY.0, "AKIAINVENTED00000001");
    }
    assert_eq!(code_of(sts.authenticate(snap.store(), &invented, later)), "InvalidClientTokenId");
}

// ---- 3. Limits, as AWS sets them, before anything is parsed ----

fn assume_with(extra: &[(&str, &str)]) -> String {
    let (snap, sts) = (snapshot(), sts());
    let mut p = vec![("RoleArn", READER), ("RoleSessionName", "limits")];
    p.extend_from_slice(extra);
    code_of(sts.assume_role(&snap, &alice(&snap, T), &params(&p), &CallFacts::default(), T))
}

/// The issue's 300 KB `Policy` (mostly whitespace) made a 400 KB session token: AWS caps the
/// parameter at 2,048 characters, whitespace included.
#[test]
fn a_session_policy_over_2048_characters_with_whitespace_is_refused() {
    let policy = |pad: usize| {
        format!(
            r#"{{"Version": "2012-10-17",{}"Statement": [{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}]}}"#,
            " ".repeat(pad)
        )
    };
    let fits = policy(0);
    let pad = 2048 - fits.len();
    assert_eq!(assume_with(&[("Policy", &policy(pad))]), "accepted", "2,048 characters");
    assert_eq!(assume_with(&[("Policy", &policy(pad + 1))]), "ValidationError", "2,049 characters");
    assert_eq!(assume_with(&[("Policy", &policy(300 * 1024))]), "ValidationError");
}

#[test]
fn arns_and_tokens_over_their_length_are_refused_before_use() {
    let long_role = format!("arn:aws:iam::{A}:role/{}", "r".repeat(2048));
    let (snap, sts) = (snapshot(), sts());
    let p = params(&[("RoleArn", &long_role), ("RoleSessionName", "limits")]);
    assert_eq!(code_of(sts.assume_role(&snap, &alice(&snap, T), &p, &CallFacts::default(), T)), "ValidationError");
    let long_arn = format!("arn:aws:iam::{A}:policy/{}", "p".repeat(2048));
    assert_eq!(assume_with(&[("PolicyArns.member.1.arn", &long_arn)]), "ValidationError");
    let token = "e".repeat(20_001);
    let p = params(&[("RoleArn", READER), ("RoleSessionName", "limits"), ("WebIdentityToken", &token)]);
    let web = sts.assume_role_with_web_identity(&snap, &p, &CallFacts::default(), T);
    assert_eq!(code_of(web), "ValidationError");
}

/// Session tags: the cap of 50 stops a request before any tag is examined, and duplicate keys
/// (case-insensitive) are found in one pass.
#[test]
fn session_tags_stop_at_the_cap() {
    let names: Vec<(String, String)> = (1..=100_000)
        .flat_map(|n| {
            [(format!("Tags.member.{n}.Key"), format!("k{n}")), (format!("Tags.member.{n}.Value"), "v".into())]
        })
        .collect();
    let many: Vec<(&str, &str)> = names.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(assume_with(&many), "ValidationError");
    let fifty: Vec<(&str, &str)> = many[..100].to_vec();
    assert_eq!(assume_with(&fifty), "accepted");
    let mut duplicate = many[..98].to_vec();
    duplicate.extend([("Tags.member.50.Key", "K1"), ("Tags.member.50.Value", "v")]);
    assert_eq!(assume_with(&duplicate), "InvalidParameterValue");
}

/// Store documents given as URL-encoded text (as `get-account-authorization-details` returns
/// them) are measured decoded; resource policies have their service's limit.
#[test]
fn store_policy_sizes_are_measured_decoded_and_per_service() {
    let statement = |n: usize| json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::bucket/{}", "a".repeat(n))});
    // About 5,000 characters decoded, well over 6,144 once every character is %XX-encoded.
    let text = doc(json!([statement(4900)])).to_string();
    let encoded: String = text.bytes().map(|b| format!("%{b:02X}")).collect();
    let account = json!({
        "AccountId": A,
        "Policies": [{"PolicyName": "big", "Arn": format!("arn:aws:iam::{A}:policy/big"), "DefaultVersionId": "v1",
            "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": encoded}]}],
        "ResourcePolicies": [{"ResourceArn": "arn:aws:s3:::bucket",
            "Policy": doc(json!([{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": format!("arn:aws:s3:::bucket/{}", "b".repeat(21 * 1024))}]))}]
    });
    let store = Store::from_documents([("account.json", account.to_string())]).unwrap();
    let warnings: Vec<String> = store.warnings().iter().map(ToString::to_string).collect();
    assert!(!warnings.iter().any(|w| w.contains("managed policy is")), "{warnings:?}");
    assert!(warnings.iter().any(|w| w.contains("S3 bucket policies")), "{warnings:?}");
}

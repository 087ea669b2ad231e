//! The STS endpoint under attack: a captured signed call resent with another body, and MFA codes
//! guessed in bulk.

use crate::common::{temp_dir, Response, Server};
use keycard::auth::sigv4::{sha256_hex, sign, SignedRequest};
use serde_json::json;

const A: &str = "111122223333";
const KEY: (&str, &str) = ("AKIAALICEEXAMPLE0001", "alice-sts-secret-0123456789abcdefghij");
const SERIAL: &str = "arn:aws:iam::111122223333:mfa/alice";
const CALLER_BODY: &str = "Action=GetCallerIdentity&Version=2011-06-15";

/// alice (key, MFA device); `report-reader` trusts alice; `admin` trusts alice with MFA only.
fn store(name: &str) -> std::path::PathBuf {
    let dir = temp_dir(name);
    let doc = |statements: serde_json::Value| json!({"Version": "2012-10-17", "Statement": statements});
    let alice = format!("arn:aws:iam::{A}:user/alice");
    let account = json!({
        "AccountId": A,
        "UserDetailList": [{"UserName": "alice", "Path": "/", "UserPolicyList": [{"PolicyName": "p",
            "PolicyDocument": doc(json!([{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]))}]}],
        "RoleDetailList": [
            {"RoleName": "report-reader", "Path": "/",
             "AssumeRolePolicyDocument": doc(json!([{"Effect": "Allow", "Principal": {"AWS": alice},
                "Action": "sts:AssumeRole"}]))},
            {"RoleName": "admin", "Path": "/",
             "AssumeRolePolicyDocument": doc(json!([{"Effect": "Allow", "Principal": {"AWS": alice},
                "Action": "sts:AssumeRole", "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}]))}],
        "Credentials": [{"AccessKeyId": KEY.0, "SecretAccessKey": KEY.1, "UserName": "alice"}],
        "MfaDevices": [{"SerialNumber": SERIAL, "UserName": "alice", "Seed": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"}]
    });
    std::fs::write(dir.join("account.json"), account.to_string()).unwrap();
    dir
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// The headers of `POST /` with `body`, signed the way botocore signs an STS call (host and
/// x-amz-date; the body's hash is in the canonical request, not in a header).
fn signed_headers(body: &str) -> Vec<(String, String)> {
    let amz = keycard::clock::amz_date(now());
    let scope = format!("{}/us-east-1/sts/aws4_request", &amz[..8]);
    let placeholder = "0".repeat(64);
    let auth = |sig: &str| {
        format!("AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=host;x-amz-date, Signature={sig}", KEY.0)
    };
    let request = SignedRequest {
        method: "POST".into(),
        path: "/".into(),
        query: String::new(),
        headers: vec![
            ("host".into(), "keycard".into()),
            ("x-amz-date".into(), amz.clone()),
            ("authorization".into(), auth(&placeholder)),
        ],
        body_sha256: Some(sha256_hex(body.as_bytes())),
    };
    let claims = request.signature().unwrap();
    let signature = sign(KEY.1, &scope, &request.string_to_sign(&claims).unwrap());
    vec![("X-Amz-Date".into(), amz), ("Authorization".into(), auth(&signature))]
}

fn call(server: &Server, headers: &[(String, String)], body: &str) -> Response {
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    server.connect().try_request_with("POST", "/", &headers, Some(body.as_bytes())).unwrap()
}

fn error_code(r: &Response) -> String {
    let text = r.text();
    text.split("<Code>").nth(1).and_then(|s| s.split("</Code>").next()).unwrap_or("").to_owned()
}

/// The reproduction: a signed `GetCallerIdentity`, resent with its headers plus an
/// `x-amz-content-sha256` carrying the original body's hash, and an `AssumeRole` body.
#[test]
fn a_captured_call_resent_with_another_body_gets_no_credentials() {
    let dir = store("adv-sts-body");
    let server = Server::start("adv-sts-body", &["--policies", dir.to_str().unwrap()]);
    server.wait_ready();
    let captured = signed_headers(CALLER_BODY);
    let honest = call(&server, &captured, CALLER_BODY);
    assert_eq!(honest.status, 200, "{}", honest.text());

    let mut replay = captured.clone();
    replay.push(("x-amz-content-sha256".into(), sha256_hex(CALLER_BODY.as_bytes())));
    let stolen = format!(
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::{A}:role/report-reader&RoleSessionName=stolen"
    );
    let r = call(&server, &replay, &stolen);
    assert!(!r.text().contains("<SecretAccessKey>"), "credentials for a body nobody signed: {}", r.text());
    assert_eq!((r.status, error_code(&r).as_str()), (400, "XAmzContentSHA256Mismatch"), "{}", r.text());
}

fn signed_with(secret: &str, body: &str) -> Vec<(String, String)> {
    let mut headers = signed_headers(body);
    if secret != KEY.1 {
        // Same claims, a signature made with another secret.
        let amz = headers[0].1.clone();
        let scope = format!("{}/us-east-1/sts/aws4_request", &amz[..8]);
        let wrong = sign(secret, &scope, "anything");
        let auth = &mut headers[1].1;
        let (head, _) = auth.split_once("Signature=").unwrap();
        *auth = format!("{head}Signature={wrong}");
    }
    headers
}

/// Guessing MFA codes on `AssumeRole` with one long-term key: after the back-off starts, even
/// the right code is refused, and the failures show on /metrics.
#[test]
fn guessed_mfa_codes_and_signatures_are_throttled_and_counted() {
    let dir = store("adv-sts-guess");
    let server = Server::start("adv-sts-guess", &["--policies", dir.to_str().unwrap()]);
    server.wait_ready();
    let seed = b"Hello!\xde\xad\xbe\xefHello!\xde\xad\xbe\xef";
    let assume = |code: &str| {
        let body = format!(
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::{A}:role/admin&RoleSessionName=guess&SerialNumber={}&TokenCode={code}",
            SERIAL.replace(':', "%3A").replace('/', "%2F")
        );
        call(&server, &signed_headers(&body), &body)
    };
    let right_now = || {
        let step = now() / 30;
        (step - 1..=step + 1).map(|s| keycard::auth::totp::code(seed, s)).collect::<Vec<_>>()
    };
    let mut guesses = 0;
    for n in 0..1_000_000 {
        let guess = format!("{n:06}");
        if right_now().contains(&guess) {
            continue;
        }
        let r = assume(&guess);
        assert_eq!((r.status, error_code(&r).as_str()), (403, "AccessDenied"), "{}", r.text());
        guesses += 1;
        if guesses == 40 {
            break;
        }
    }
    let right = keycard::auth::totp::code(seed, now() / 30);
    let r = assume(&right);
    assert_eq!(
        (r.status, error_code(&r).as_str()),
        (403, "AccessDenied"),
        "the right code after 40 guesses: {}",
        r.text()
    );
    assert!(server.metric("keycard_auth_failures_total{reason=\"mfa\"}") >= 5.0);
    assert!(server.metric("keycard_auth_failures_total{reason=\"throttled\"}") >= 1.0);
    assert!(server.log().contains("arn:aws:iam::111122223333:mfa/alice"), "the log names the device");

    // Wrong signatures with alice's key id: then her right signature is refused too.
    for _ in 0..30 {
        let r = call(&server, &signed_with("guessed-secret", CALLER_BODY), CALLER_BODY);
        assert_eq!(r.status, 403, "{}", r.text());
    }
    let r = call(&server, &signed_with(KEY.1, CALLER_BODY), CALLER_BODY);
    assert_eq!((r.status, error_code(&r).as_str()), (403, "InvalidClientTokenId"), "{}", r.text());
    assert!(server.metric("keycard_auth_failures_total{reason=\"signature\"}") >= 5.0);
    let log = server.log();
    assert!(log.contains(KEY.0), "the log names the key id");
    assert!(!log.contains(KEY.1), "and never the secret");
}

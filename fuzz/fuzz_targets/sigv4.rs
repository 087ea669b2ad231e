//! SigV4 canonicalisation and verification, through the public API only.
//!
//! Each input is an HTTP request: a method, a raw path and query, extra headers (names from a
//! small token alphabet, values of printable ASCII), a body, a service (`sts`, `s3`,
//! `execute-api`) and a raw `Authorization` string. Three checks:
//! 1. the request with the raw `Authorization` never panics `keycard::auth::authenticate`, and
//!    is not accepted (the fuzzer cannot know the secret);
//! 2. the same request signed with the known key over keycard's canonical form (host,
//!    x-amz-date and the extra headers signed) authenticates as its user;
//! 3. the body is bound: the signed request with another body, alone or under an unsigned
//!    `x-amz-content-sha256` carrying the signed body's hash, does not authenticate; nor does it
//!    with a changed path or method.
//!
//! `Debug` of the input is the reproducer; a finding becomes a test in
//! `core/tests/adversarial/auth.rs`.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use keycard::auth::authenticate;
use keycard::auth::sigv4::{sha256_hex, sign, SignedRequest};
use keycard::Store;
use keycard_fuzz::bounded;
use libfuzzer_sys::{fuzz_target, Corpus};
use std::sync::OnceLock;

const KEY: (&str, &str) = ("AKIAFUZZEXAMPLE00001", "fuzz-secret-0123456789abcdefghijklmnopq");
const USER: &str = "arn:aws:iam::111122223333:user/fuzz";
/// 2026-11-23T10:00:00Z.
const NOW: u64 = 1_795_428_000;
const METHODS: [&str; 6] = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"];
const SERVICES: [&str; 3] = ["sts", "s3", "execute-api"];
/// Header names are made of these (lowercase tokens, so `SignedHeaders` can list them).
const NAME_CHARS: &[u8] = b"abcxyz-0";

fn store() -> &'static Store {
    static STORE: OnceLock<Store> = OnceLock::new();
    STORE.get_or_init(|| {
        let account = serde_json::json!({
            "AccountId": "111122223333",
            "UserDetailList": [{"UserName": "fuzz", "Path": "/"}],
            "Credentials": [{"AccessKeyId": KEY.0, "SecretAccessKey": KEY.1, "UserName": "fuzz"}]
        });
        Store::from_documents([("account.json", account.to_string())]).expect("the fuzz store loads")
    })
}

#[derive(Debug)]
struct Case {
    method: &'static str,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    service: &'static str,
    raw_authorization: String,
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Case> {
        let method = *u.choose(&METHODS)?;
        let path: String = u.arbitrary()?;
        let query: String = u.arbitrary()?;
        let mut headers = Vec::new();
        for _ in 0..u.int_in_range(0..=4)? {
            let len = u.int_in_range(1..=6)?;
            let mut name = String::from("x-");
            for _ in 0..len {
                name.push(char::from(*u.choose(NAME_CHARS)?));
            }
            let value: Vec<u8> = u.arbitrary()?;
            let value: String = value.into_iter().map(|b| char::from(b' ' + b % 95)).collect();
            headers.push((name, value));
        }
        Ok(Case {
            method,
            path,
            query,
            headers,
            body: u.arbitrary()?,
            service: u.choose(&SERVICES)?,
            raw_authorization: u.arbitrary()?,
        })
    }
}

/// The request with `authorization`, the body's hash as the verifier computes it.
fn request(case: &Case, amz: &str, authorization: &str, body: &[u8]) -> SignedRequest {
    let mut headers =
        vec![("host".to_owned(), "fuzz.example.com".to_owned()), ("x-amz-date".to_owned(), amz.to_owned())];
    headers.extend(case.headers.iter().cloned());
    headers.push(("authorization".to_owned(), authorization.to_owned()));
    SignedRequest {
        method: case.method.to_owned(),
        path: case.path.clone(),
        query: case.query.clone(),
        headers,
        body_sha256: Some(sha256_hex(body)),
    }
}

fuzz_target!(|data: &[u8]| -> Corpus {
    let Ok(case) = bounded::<Case>(Unstructured::new(data)) else { return Corpus::Reject };
    let amz = keycard::clock::amz_date(NOW);

    // 1. Anything at all: an answer, never a panic, never an identity without the secret.
    let raw = request(&case, &amz, &case.raw_authorization, &case.body);
    assert!(authenticate(store(), None, &raw, NOW).is_err(), "accepted without the secret: {case:?}");

    // 2. Signed with the known key over keycard's canonical request: it authenticates.
    let scope = format!("{}/us-east-1/{}/aws4_request", &amz[..8], case.service);
    let mut names: Vec<String> = ["host", "x-amz-date"].iter().map(|s| (*s).to_owned()).collect();
    names.extend(case.headers.iter().map(|(n, _)| n.clone()));
    names.sort();
    names.dedup();
    let authz = |sig: &str| {
        format!("AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={}, Signature={sig}", KEY.0, names.join(";"))
    };
    let placeholder = request(&case, &amz, &authz(&"0".repeat(64)), &case.body);
    let Ok(claims) = placeholder.signature() else { panic!("a well-formed Authorization must parse: {case:?}") };
    let Ok(string_to_sign) = placeholder.string_to_sign(&claims) else {
        panic!("every signed header is present: {case:?}")
    };
    let signature = sign(KEY.1, &scope, &string_to_sign);
    let signed = request(&case, &amz, &authz(&signature), &case.body);
    match authenticate(store(), None, &signed, NOW) {
        Ok((who, _)) => assert_eq!(who.principal_arn(), USER),
        Err(e) => panic!("a request signed with the key does not verify ({e}): {case:?}"),
    }

    // 3. The body is bound to the signature, and so are the path and the method.
    let mut other = case.body.clone();
    other.push(b'x');
    let swapped = request(&case, &amz, &authz(&signature), &other);
    assert!(authenticate(store(), None, &swapped, NOW).is_err(), "another body verified: {case:?}");
    let mut smuggled = swapped.clone();
    smuggled.headers.insert(0, ("x-amz-content-sha256".to_owned(), sha256_hex(&case.body)));
    assert!(authenticate(store(), None, &smuggled, NOW).is_err(), "an unsigned content hash verified: {case:?}");
    let mut moved = signed.clone();
    moved.path.push('x');
    assert!(authenticate(store(), None, &moved, NOW).is_err(), "another path verified: {case:?}");
    let mut method = signed;
    method.method = if case.method == "GET" { "POST".into() } else { "GET".into() };
    assert!(authenticate(store(), None, &method, NOW).is_err(), "another method verified: {case:?}");
    Corpus::Keep
});

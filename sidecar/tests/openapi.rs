//! `docs/openapi.yaml` checked against the real server: this test starts `keycard serve`, sends
//! valid, malformed and oversized requests to every endpoint, and checks that each answer's
//! status code is one the description lists for that operation, that its media type is the one
//! listed, that its headers are the ones listed, and that every JSON body validates against the
//! listed schema (`jsonschema`, JSON Schema 2020-12, as OpenAPI 3.1 uses it). The response
//! schemas list every field with `additionalProperties: false` and `required`, so a field the
//! server renames, adds or drops fails here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::{alice_reads, temp_dir, Client, Response, Server};
use keycard::auth::sigv4::{sign, SignedRequest, EMPTY_SHA256};
use serde_json::{json, Value};
use std::path::Path;

/// The description, read once.
struct Spec {
    doc: Value,
}

impl Spec {
    fn load() -> Spec {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/openapi.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: Value = serde_norway::from_str(&text).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        Spec { doc }
    }

    /// Follows a local `$ref` (`#/components/...`).
    fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let target = self.doc.pointer(r.strip_prefix('#').unwrap()).unwrap_or_else(|| panic!("dangling {r}"));
                self.resolve(target)
            }
            None => v,
        }
    }

    /// Validates `instance` against `schema`, a schema of the description whose `$ref`s point
    /// into its `components`.
    fn validate(&self, schema: &Value, instance: &Value, what: &str) {
        let wrapper = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.doc["components"],
            "allOf": [schema],
        });
        let validator = jsonschema::validator_for(&wrapper).unwrap_or_else(|e| panic!("{what}: bad schema: {e}"));
        let errors: Vec<String> =
            validator.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(
            errors.is_empty(),
            "{what}: the answer does not follow docs/openapi.yaml:\n{}\n{instance:#}",
            errors.join("\n")
        );
    }

    /// A request body keycard accepts must follow the description's request schema too.
    fn check_request(&self, path: &str, body: &str) {
        let op = &self.doc["paths"][path]["post"];
        let schema = &self.resolve(&op["requestBody"])["content"]["application/json"]["schema"];
        self.validate(schema, &serde_json::from_str(body).unwrap(), &format!("request to {path}"));
    }

    /// Checks one answer to `method path_key` (the key under `paths`); returns its JSON body,
    /// or `Value::Null` when it is not JSON.
    fn check(&self, path_key: &str, method: &str, r: &Response) -> Value {
        let what = format!("{method} {path_key} -> {}", r.status);
        let item = self.doc["paths"].get(path_key).unwrap_or_else(|| panic!("{what}: path not described"));
        let Some(op) = item.get(method.to_ascii_lowercase()) else {
            // A method the path does not take: 405 with `Allow`, as the description says.
            assert_eq!(r.status, 405, "{what}: method not described; body {}", r.text());
            assert!(r.header("allow").is_some(), "{what}: no Allow header");
            self.check_response(self.resolve(&json!({"$ref": "#/components/responses/MethodNotAllowed"})), r, &what);
            return r.json();
        };
        let response = op["responses"]
            .get(r.status.to_string())
            .map(|v| self.resolve(v))
            .unwrap_or_else(|| panic!("{what}: status not described; body {}", r.text()));
        self.check_response(response, r, &what);
        if r.header("content-type").is_some_and(|t| t.starts_with("application/json")) {
            r.json()
        } else {
            Value::Null
        }
    }

    fn check_response(&self, response: &Value, r: &Response, what: &str) {
        // Headers: the required ones are present and within their enum; keycard's own are listed.
        let declared = response.get("headers").and_then(Value::as_object);
        for (name, h) in declared.into_iter().flatten() {
            let h = self.resolve(h);
            let value = r.header(name);
            if h["required"] == true {
                assert!(value.is_some(), "{what}: header {name} missing");
            }
            if let (Some(v), Some(allowed)) = (value, h["schema"]["enum"].as_array()) {
                assert!(allowed.iter().any(|a| a == v), "{what}: header {name}: {v} not in {allowed:?}");
            }
        }
        for (name, _) in &r.headers {
            let lower = name.to_ascii_lowercase();
            if lower.starts_with("x-keycard-") {
                assert!(declared.is_some_and(|d| d.contains_key(&lower)), "{what}: header {name} not described");
            }
        }
        // Body: none where none is described; else the described media type and schema.
        let Some(content) = response.get("content").and_then(Value::as_object) else {
            assert!(r.body.is_empty(), "{what}: a body where none is described: {}", r.text());
            return;
        };
        let media = r.header("content-type").map(|t| t.split(';').next().unwrap_or("").trim()).unwrap_or("");
        let Some(described) = content.get(media) else {
            panic!("{what}: media type {media:?} not described (described: {:?})", content.keys().collect::<Vec<_>>())
        };
        if media == "application/json" {
            self.validate(&described["schema"], &r.json(), what);
        } else {
            assert!(!r.body.is_empty() && std::str::from_utf8(&r.body).is_ok(), "{what}: expected text");
            if media == "text/xml" {
                assert!(r.text().starts_with('<'), "{what}: not XML: {}", r.text());
            }
        }
    }
}

const KEY: (&str, &str) = ("AKIAALICEEXAMPLE0001", "alice-openapi-secret-0123456789abcdef");

/// A store with a signing key and a gateway route, beside what the embedded store holds.
fn gateway_store() -> std::path::PathBuf {
    let dir = temp_dir("openapi");
    let read = json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": "reports:GetReport", "Resource": "arn:aws:reports:::report/2026/*"}]});
    let account = json!({
        "AccountId": "111122223333",
        "UserDetailList": [{"UserName": "alice", "Path": "/", "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": read}]}],
        "Credentials": [{"AccessKeyId": KEY.0, "SecretAccessKey": KEY.1, "UserName": "alice"}],
        "Routes": [{"Method": "GET", "Path": "/reports/{year}/{file}", "Action": "reports:GetReport",
                    "Resource": "arn:aws:reports:::report/{year}/{file}"}]
    });
    std::fs::write(dir.join("account.json"), account.to_string()).unwrap();
    dir
}

/// A `signedRequest` for `GET path`, signed with `secret` now.
fn signed_request(path: &str, secret: &str) -> Value {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let amz = keycard::clock::amz_date(now);
    let scope = format!("{}/us-east-1/execute-api/aws4_request", &amz[..8]);
    let auth = |sig: &str| {
        format!("AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=host;x-amz-date, Signature={sig}", KEY.0)
    };
    let mut request = SignedRequest {
        method: "GET".into(),
        path: path.into(),
        query: String::new(),
        headers: vec![
            ("host".into(), "keycard".into()),
            ("x-amz-date".into(), amz.clone()),
            ("authorization".into(), auth(&"0".repeat(64))),
        ],
        body_sha256: Some(EMPTY_SHA256.into()),
    };
    let claims = request.signature().unwrap();
    let signature = sign(secret, &scope, &request.string_to_sign(&claims).unwrap());
    request.headers[2].1 = auth(&signature);
    json!({"method": "GET", "path": path, "query": "",
           "headers": {"host": "keycard", "x-amz-date": amz, "authorization": request.headers[2].1},
           "bodySha256": EMPTY_SHA256})
}

fn raw(server: &Server, bytes: &[u8]) -> Response {
    let mut client: Client = server.connect();
    client.send_raw(bytes).unwrap();
    client.read_response().unwrap()
}

#[test]
fn every_answer_follows_the_openapi_description() {
    let spec = Spec::load();
    let server = Server::start("openapi", &["--client-timeout", "0.5"]);
    server.wait_ready();

    // /v1/authorize: an allow, an explained deny, then what is refused.
    let body = alice_reads("203.0.113.7");
    spec.check_request("/v1/authorize", &body);
    let a = spec.check("/v1/authorize", "POST", &server.post("/v1/authorize", &body));
    assert_eq!(a["decision"], "allowed");
    let body = r#"{"principal": "arn:aws:iam::111122223333:user/dev/alice", "action": "s3:GetObject",
        "resource": "arn:aws:s3:::example-reports/2026/q1.csv",
        "context": {"aws:SourceIp": "198.51.100.9", "aws:SecureTransport": true}, "explain": true}"#;
    spec.check_request("/v1/authorize", body);
    let a = spec.check("/v1/authorize", "POST", &server.post("/v1/authorize", body));
    assert_eq!(a["decision"], "explicitDeny");
    assert!(!a["matched"].as_array().unwrap().is_empty(), "{a}");
    for (bad, status) in [
        ("{not json", 400),
        (r#"{"principal": "*", "resource": "*"}"#, 400),
        (r#"{"principal": "*", "action": "s3:GetObject", "resource": "*", "extra": 1}"#, 400),
        ("[]", 400),
    ] {
        let r = server.post("/v1/authorize", bad);
        assert_eq!(r.status, status, "{bad}: {}", r.text());
        assert!(spec.check("/v1/authorize", "POST", &r)["error"].is_string());
    }
    let r = raw(&server, b"POST /v1/authorize HTTP/1.1\r\nHost: k\r\nContent-Length: 1048577\r\n\r\n");
    assert_eq!(r.status, 413);
    spec.check("/v1/authorize", "POST", &r);
    let r = server.post("/v1/authorize", &format!("{{{}}}", " ".repeat(1024 * 1024)));
    assert_eq!(r.status, 413);
    spec.check("/v1/authorize", "POST", &r);
    let r = raw(&server, b"POST /v1/authorize HTTP/1.1\r\nHost: k\r\nContent-Length: 100\r\n\r\n{\"princ");
    assert_eq!(r.status, 408);
    spec.check("/v1/authorize", "POST", &r);
    let r = server.get("/v1/authorize");
    assert_eq!(r.status, 405);
    spec.check("/v1/authorize", "GET", &r);

    // /v1/authorize/batch: mixed answers in order, and what is refused.
    let body = format!(
        r#"{{"requests": [{}, {{"principal": "*", "action": "nocolon", "resource": "*"}}, {}]}}"#,
        alice_reads("203.0.113.7"),
        alice_reads("198.51.100.9")
    );
    let b = spec.check("/v1/authorize/batch", "POST", &server.post("/v1/authorize/batch", &body));
    let decisions: Vec<&Value> = b["responses"].as_array().unwrap().iter().map(|r| &r["decision"]).collect();
    assert_eq!(decisions, [&json!("allowed"), &Value::Null, &json!("explicitDeny")]);
    for bad in ["{}", r#"{"requests": {}}"#, r#"{"requests": [], "more": 1}"#, "nope"] {
        let r = server.post("/v1/authorize/batch", bad);
        assert_eq!(r.status, 400, "{bad}");
        spec.check("/v1/authorize/batch", "POST", &r);
    }
    let one = r#"{"principal":"*","action":"s3:A","resource":"*"}"#;
    let r = server.post("/v1/authorize/batch", &format!(r#"{{"requests":[{}]}}"#, vec![one; 10_001].join(",")));
    assert_eq!(r.status, 413);
    spec.check("/v1/authorize/batch", "POST", &r);
    spec.check("/v1/authorize/batch", "GET", &server.get("/v1/authorize/batch"));

    // Health, readiness, snapshot, metrics.
    for path in ["/healthz", "/readyz", "/v1/snapshot", "/metrics"] {
        let r = server.get(path);
        assert_eq!(r.status, 200, "{path}");
        spec.check(path, "GET", &r);
        let r = server.post(path, "{}");
        assert_eq!(r.status, 405, "{path}");
        spec.check(path, "POST", &r);
    }
    assert!(server.get("/metrics").text().contains("keycard_reload_failures_total"));

    // The STS endpoint: XML answers and AWS error XML.
    let r = server.connect().request_with("POST", "/", &[("Content-Type", "application/x-www-form-urlencoded")]);
    assert_eq!(r.status, 400, "{}", r.text());
    spec.check("/", "POST", &r);
    let form = "Action=GetCallerIdentity&Version=2011-06-15";
    let r = raw(
        &server,
        format!(
            "POST / HTTP/1.1\r\nHost: k\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        )
        .as_bytes(),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("MissingAuthenticationToken"), "{}", r.text());
    spec.check("/", "POST", &r);
    spec.check("/", "GET", &server.get("/"));

    // The analyses.
    let alice = "arn%3Aaws%3Aiam%3A%3A111122223333%3Auser%2Fdev%2Falice";
    let a = spec.check("/v1/access", "GET", &server.get(&format!("/v1/access?principal={alice}")));
    assert!(!a["permissions"].as_array().unwrap().is_empty(), "{a}");
    spec.check("/v1/access", "GET", &server.get(&format!("/v1/access?principal={alice}&service=s3")));
    for (path, status) in [
        ("/v1/access?principal=arn%3Aaws%3Aiam%3A%3A111122223333%3Auser%2Fnobody", 404),
        ("/v1/access", 400),
        ("/v1/access?principal=x&principal=y", 400),
        ("/v1/access?who=x", 400),
        ("/v1/who-can?action=s3%3AGetObject", 400),
        ("/v1/who-can?action=nonsense&resource=*", 400),
        ("/v1/who-can?action=s3%3AGetObject&resource=*&context=%5B", 400),
    ] {
        let r = server.get(path);
        assert_eq!(r.status, status, "{path}: {}", r.text());
        spec.check(path.split('?').next().unwrap(), "GET", &r);
    }
    let w = spec.check(
        "/v1/who-can",
        "GET",
        &server.get("/v1/who-can?action=s3%3AGetObject&resource=arn%3Aaws%3As3%3A%3A%3Aexample-reports%2F2026%2Fq1.csv&context=%7B%22aws%3ASourceIp%22%3A%22203.0.113.7%22%7D"),
    );
    assert!(
        w["principals"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["principal"] == "arn:aws:iam::111122223333:user/dev/alice"),
        "{w}"
    );
    spec.check("/v1/who-can", "GET", &server.post("/v1/who-can", "{}"));

    // Unknown paths.
    let r = server.get("/v2/nothing");
    assert_eq!(r.status, 404);
    spec.check_response(spec.resolve(&json!({"$ref": "#/components/responses/NotFound"})), &r, "GET /v2/nothing");
}

#[test]
fn signed_requests_and_the_gateway_follow_the_openapi_description() {
    let spec = Spec::load();
    let store = gateway_store();
    let server =
        Server::start("openapi-gate", &["--policies", store.to_str().unwrap(), "--trust-principal-header", "x-user"]);
    server.wait_ready();

    // signedRequest: the answer names the signer; a wrong secret is 401 with an AWS code.
    let body = json!({"signedRequest": signed_request("/reports/2026/q1", KEY.1), "action": "reports:GetReport",
                      "resource": "arn:aws:reports:::report/2026/q1", "explain": true})
    .to_string();
    spec.check_request("/v1/authorize", &body);
    let a = spec.check("/v1/authorize", "POST", &server.post("/v1/authorize", &body));
    assert_eq!(
        (a["decision"].as_str(), a["principal"].as_str()),
        (Some("allowed"), Some("arn:aws:iam::111122223333:user/alice"))
    );
    let wrong = json!({"signedRequest": signed_request("/x", "not-the-secret-0123456789abcdef0123"), "action": "reports:GetReport",
                       "resource": "arn:aws:reports:::report/2026/q1"})
    .to_string();
    let r = server.post("/v1/authorize", &wrong);
    assert_eq!(r.status, 401, "{}", r.text());
    assert_eq!(spec.check("/v1/authorize", "POST", &r)["code"], "SignatureDoesNotMatch");
    let batch = format!(r#"{{"requests": [{body}, {wrong}]}}"#);
    let b = spec.check("/v1/authorize/batch", "POST", &server.post("/v1/authorize/batch", &batch));
    assert_eq!(b["responses"][0]["principal"], "arn:aws:iam::111122223333:user/alice");
    assert_eq!(b["responses"][1]["code"], "SignatureDoesNotMatch");

    // The gateway: every x-keycard-decision, with no body.
    let alice = "arn:aws:iam::111122223333:user/alice";
    type Case<'a> = (&'a [(&'a str, &'a str)], u16, &'a str);
    let cases: [Case; 5] = [
        (&[("X-Original-Method", "GET"), ("X-Original-URI", "/reports/2026/q1"), ("x-user", alice)], 200, "allowed"),
        (
            &[("X-Original-Method", "GET"), ("X-Original-URI", "/reports/2025/q1"), ("x-user", alice)],
            403,
            "implicitDeny",
        ),
        (&[("X-Original-Method", "GET"), ("X-Original-URI", "/elsewhere"), ("x-user", alice)], 403, "noRoute"),
        (&[("X-Original-Method", "GET"), ("X-Original-URI", "/reports/2026/q1")], 401, "unauthenticated"),
        (&[("X-Original-URI", "/reports/2026/q1"), ("x-user", alice)], 403, "invalidRequest"),
    ];
    for (headers, status, decision) in cases {
        for method in ["GET", "POST"] {
            let r = server.connect().request_with(method, "/v1/gate", headers);
            assert_eq!((r.status, r.header("x-keycard-decision")), (status, Some(decision)), "{headers:?}");
            spec.check("/v1/gate", method, &r);
        }
    }
    let r = server.connect().request_with("GET", "/v1/envoy/reports/2026/q1", &[("x-user", alice)]);
    assert_eq!((r.status, r.header("x-keycard-principal")), (200, Some(alice)));
    spec.check("/v1/envoy/{originalPath}", "GET", &r);
    let r = server.connect().request_with("DELETE", "/v1/envoy/reports/2026/q1", &[("x-user", alice)]);
    assert_eq!(r.status, 403);
    spec.check("/v1/envoy/{originalPath}", "DELETE", &r);
}

#[test]
fn answers_before_the_first_snapshot_follow_the_openapi_description() {
    let spec = Spec::load();
    let missing = temp_dir("openapi-missing").join("not-yet");
    let server = Server::start("openapi-missing", &["--policies", missing.to_str().unwrap()]);
    server.wait_for("the first load to fail", |s| !s.get("/v1/snapshot").json()["lastError"].is_null());
    let r = server.get("/readyz");
    assert_eq!(r.status, 503);
    assert!(spec.check("/readyz", "GET", &r)["lastError"].is_string());
    let s = spec.check("/v1/snapshot", "GET", &server.get("/v1/snapshot"));
    assert!(s["snapshot"].is_null() && s["loadedAt"].is_null(), "{s}");
    for path in ["/v1/authorize", "/v1/authorize/batch"] {
        let body = if path.ends_with("batch") {
            format!(r#"{{"requests": [{}]}}"#, alice_reads("203.0.113.7"))
        } else {
            alice_reads("203.0.113.7")
        };
        let r = server.post(path, &body);
        assert_eq!(r.status, 503, "{path}");
        spec.check(path, "POST", &r);
    }
    let form = "Action=GetCallerIdentity&Version=2011-06-15";
    let r = raw(
        &server,
        format!("POST / HTTP/1.1\r\nHost: k\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}", form.len())
            .as_bytes(),
    );
    assert_eq!(r.status, 503, "{}", r.text());
    spec.check("/", "POST", &r);
    let r = server.connect().request_with("GET", "/v1/gate", &[("X-Original-Method", "GET"), ("X-Original-URI", "/")]);
    assert_eq!((r.status, r.header("x-keycard-decision")), (403, Some("implicitDeny")));
    spec.check("/v1/gate", "GET", &r);
}

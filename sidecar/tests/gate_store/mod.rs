//! The store both gateway suites decide against (`gate.rs` over HTTP, `grpc.rs` over gRPC), so
//! that the same rules are checked against the same policies and routes.

pub fn policy(sid: &str, effect: &str, action: &str, resource: &str, condition: &str) -> String {
    let condition = if condition.is_empty() { String::new() } else { format!(r#", "Condition": {condition}"#) };
    format!(r#"{{"Sid": "{sid}", "Effect": "{effect}", "Action": "{action}", "Resource": "{resource}"{condition}}}"#)
}

/// alice's account: reads reports (not the secret ones), downloads CSV only, calls `net:Call`
/// from 203.0.113.0/24 only, `tls:Call` over TLS only, `hdr:Call` from the `cli` client only,
/// and `admin:Call` on anything.
pub fn account() -> String {
    let statements = [
        policy("Reports", "Allow", "reports:GetReport", "arn:aws:reports:::report/*", ""),
        policy("NoSecrets", "Deny", "reports:GetReport", "arn:aws:reports:::report/secret/*", ""),
        policy("Csv", "Allow", "reports:Download", "*", r#"{"StringEquals": {"reports:Format": "csv"}}"#),
        policy("Net", "Allow", "net:Call", "*", r#"{"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}"#),
        policy("Tls", "Allow", "tls:Call", "*", r#"{"Bool": {"aws:SecureTransport": "true"}}"#),
        policy("Hdr", "Allow", "hdr:Call", "*", r#"{"StringEquals": {"hdr:Client": "cli"}}"#),
        policy("Admin", "Allow", "admin:Call", "*", ""),
        policy("New", "Allow", "new:Call", "*", ""),
    ];
    format!(
        r#"{{"AccountId": "111122223333", "UserDetailList": [{{"UserName": "alice", "Path": "/",
          "UserPolicyList": [{{"PolicyName": "P", "PolicyDocument": {{"Version": "2012-10-17",
          "Statement": [{}]}}}}]}}]}}"#,
        statements.join(",")
    )
}

pub const ROUTES: &str = r#"{"Routes": [
  {"Method": "GET", "Path": "/reports/{year}/{file}", "Action": "reports:GetReport",
   "Resource": "arn:aws:reports:::report/{year}/{file}"},
  {"Method": "GET", "Path": "/downloads/{file}", "Action": "reports:Download",
   "Resource": "arn:aws:reports:::download/{file}", "Context": {"reports:Format": "query:format"}},
  {"Method": "GET", "Path": "/net", "Action": "net:Call", "Resource": "*"},
  {"Method": "GET", "Path": "/tls", "Action": "tls:Call", "Resource": "*"},
  {"Method": "GET", "Path": "/hdr", "Action": "hdr:Call", "Resource": "*", "Context": {"hdr:Client": "header:x-client"}},
  {"Method": "*", "Path": "/admin/{rest+}", "Action": "admin:Call", "Resource": "arn:aws:admin:::{rest}"}
]}"#;

/// Paths that two parsers could read differently: every one is `invalidRequest` on every protocol.
pub const PATH_ATTACKS: [&str; 13] = [
    "//reports/2026/q1",
    "/reports//q1",
    "/reports/./q1",
    "/reports/2026/.",
    "/reports/../admin/x",
    "/admin/a/../../reports/2026/q1",
    "/reports/%2e%2e/q1",
    "/reports/2026%2Fq1/x",
    "/reports/2026%2fq1/x",
    "/reports/2026%5Cq1/x",
    "/reports/2026\\q1/x",
    "/reports/2026%00/x",
    "/reports/%zz/x",
];

//! The gateway's request-target parsing (`Gateway::resolve`) under attack: targets that keycard
//! and the service behind the proxy could read as two different resources must be refused
//! (`invalidRequest`), never decided on one reading while the service serves the other.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keycard::{GateRefusal, GateTarget, HeaderLookup, Snapshot, Store};

const ROUTES: &str = r#"{"Routes": [
  {"Method": "GET", "Path": "/reports/{year}/{file}", "Action": "reports:GetReport",
   "Resource": "arn:aws:reports:::report/{year}/{file}"},
  {"Method": "GET", "Path": "/downloads/{file}", "Action": "reports:Download",
   "Resource": "arn:aws:reports:::download/{file}", "Context": {"reports:Format": "query:format"}},
  {"Method": "*", "Path": "/admin/{rest+}", "Action": "admin:Call", "Resource": "arn:aws:admin:::{rest}"},
  {"Method": "*", "Path": "/public/{rest+}", "Action": "site:Read", "Resource": "arn:aws:site:::public/{rest}"},
  {"Method": "GET", "Path": "/", "Action": "site:Home", "Resource": "*"},
  {"Method": "*", "Path": "/{any+}", "Action": "site:Any", "Resource": "arn:aws:site:::{any}"}
]}"#;

fn snapshot() -> Snapshot {
    Snapshot::new(Store::from_documents([("routes.json", ROUTES)]).unwrap())
}

fn resolve(uri: &str) -> Result<GateTarget, GateRefusal> {
    snapshot().gateway().resolve("GET", uri, |_| HeaderLookup::Absent)
}

#[track_caller]
fn refused(uri: &str) {
    let r = resolve(uri);
    assert!(matches!(r, Err(GateRefusal::InvalidRequest(_))), "{uri:?} must be an invalid request, got {r:?}");
}

/// The reproduced attack: nginx forwards `$request_uri` raw, fragment and all; keycard cut at `#`
/// and decided on `q1.csv` (allowed), and a Go `http.FileServer` behind nginx served
/// `/2025/old.csv`. A request target in origin form has no fragment (RFC 9112).
#[test]
fn a_fragment_in_the_original_uri_is_an_invalid_request() {
    refused("/reports/2026/q1.csv#/../../2025/old.csv");
    refused("/reports/2026/q1.csv#");
    refused("/reports/2026/q1.csv?x=1#/../../2025/old.csv");
    refused("/downloads/f?format=csv#&format=pdf");
    refused("/#/admin/x");
    // What the `gateway` fuzz target found at once with the old cut planted back.
    refused("/caf%C3%A8#a%019b/+");
}

/// A path parameter: Tomcat, Jetty and Spring strip `;...` from a segment, so `/admin;x/secret`
/// is `/admin/secret` to them while keycard decided on a segment named `admin;x` (the catch-all
/// route's `site:Any`, not `admin:Call`).
#[test]
fn path_parameters_are_invalid_requests() {
    refused("/admin;x/secret");
    refused("/public/a;/../../admin/secret");
    refused("/public/index.html;jsessionid=1");
    refused("/public/x/;");
    // Encoded, for servers that decode before they strip.
    refused("/public/a%3Bb/x");
    refused("/public/a%3b/x");
}

/// An absolute-form target names a host keycard does not check, and its authority (`user@host`,
/// `[v6]:port`) is one more parser to disagree with; the proxies keycard supports send origin
/// form only. Authority form (`CONNECT`) and `*` (`OPTIONS`) name no path at all.
#[test]
fn targets_not_in_origin_form_are_invalid_requests() {
    refused("http://h.example/reports/2026/q1.csv");
    refused("https://evil@h.example/admin/x");
    refused("http://h.example?/../admin/x");
    refused("h.example:443");
    refused("*");
    refused("?format=csv");
    refused("//h.example/reports/2026/q1.csv");
}

/// Raw bytes RFC 3986 does not allow in a target: a service (or a library in front of it) may
/// reject, trim, re-encode, split or normalise them, each differently.
#[test]
fn raw_bytes_outside_rfc_3986_are_invalid_requests() {
    for uri in [
        "/public/a b",
        "/public/a\tb",
        "/public/a\r\nX-Injected: 1",
        "/public/a\u{0}b",
        "/public/a\u{7f}",
        "/public/..\\..\\admin\\secret",
        "/public\\..\\admin/x",
        "/public/\"x\"",
        "/public/<x>",
        "/public/a^b",
        "/public/a|b",
        "/public/a`b",
        "/public/{x}",
        "/public/[x]",
        "/public/caf\u{e9}",
        "/public/\u{ff0e}\u{ff0e}/admin",
        "/downloads/f?format=csv z",
        "/downloads/f?format=c\\sv",
        "/downloads/f?format=\"csv\"",
        "/downloads/f?format=caf\u{e9}",
        "/downloads/f?format=<csv>",
        "/downloads/f?format=csv\u{0}",
    ] {
        refused(uri);
    }
}

/// `%252e%252e` is `%2e%2e` to keycard (one decoding) and `..` to a server that decodes twice:
/// keycard decided on `public/%2e%2e/admin/secret` while such a server served `/admin/secret`.
#[test]
fn double_encoding_is_an_invalid_request() {
    refused("/public/%252e%252e/admin/secret");
    refused("/public/%252E%252E/admin/secret");
    refused("/public/a%252fb");
    refused("/public/%25%32%65%25%32%65/admin/secret");
    // A literal percent sign that is not an escape after decoding is a name like any other.
    assert_eq!(resolve("/public/100%25").unwrap().resource, "arn:aws:site:::public/100%");
    assert_eq!(resolve("/public/100%25zz").unwrap().resource, "arn:aws:site:::public/100%zz");
}

/// Decoded control characters: NUL ends a C string, servers trim a trailing tab or newline.
#[test]
fn decoded_control_characters_are_invalid_requests() {
    for uri in ["/public/admin%0a", "/public/a%09", "/public/a%0d%0aX: y", "/public/a%7f", "/public/a%1f"] {
        refused(uri);
    }
}

/// Query keys the route reads: a `;` separates pairs to some servers (`format=csv;format=pdf` is
/// one pair here, two there), and some compare keys case-insensitively (`Format=pdf` would be the
/// value there and absent here, so a Deny on `pdf` would not apply).
#[test]
fn query_ambiguities_on_read_keys_are_invalid_requests() {
    refused("/downloads/f?format=csv;format=pdf");
    refused("/downloads/f?a=1;format=pdf");
    refused("/downloads/f?format=c%73v&other=1;2");
    refused("/downloads/f?Format=pdf");
    refused("/downloads/f?format=csv&FORMAT=pdf");
    refused("/downloads/f?%46ormat=pdf");
    // A route that reads no query does not parse it.
    assert!(resolve("/reports/2026/q1.csv?a=1;b=2&A=3").is_ok());
}

/// What RFC 3986 allows keeps its meaning: the rules above refuse nothing a legal origin-form
/// target could mean unambiguously.
#[test]
fn legal_targets_resolve_as_before() {
    let cases = [
        ("/reports/2026/q1.csv", "reports:GetReport", "arn:aws:reports:::report/2026/q1.csv"),
        ("/reports/2026/q1.csv?x=1&y", "reports:GetReport", "arn:aws:reports:::report/2026/q1.csv"),
        ("/reports/20%32%36/q%201.csv", "reports:GetReport", "arn:aws:reports:::report/2026/q 1.csv"),
        ("/reports/a+b/c", "reports:GetReport", "arn:aws:reports:::report/a+b/c"),
        ("/reports/caf%C3%A9/x", "reports:GetReport", "arn:aws:reports:::report/caf\u{e9}/x"),
        ("/admin/a:b/@c/!$&'()*,=~-._", "admin:Call", "arn:aws:admin:::a:b/@c/!$&'()*,=~-._"),
        ("/admin/x/", "admin:Call", "arn:aws:admin:::x/"),
        ("/", "site:Home", "*"),
        ("/?a=b/c?d", "site:Home", "*"),
        ("/other/x", "site:Any", "arn:aws:site:::other/x"),
    ];
    for (uri, action, resource) in cases {
        let t = resolve(uri).unwrap_or_else(|e| panic!("{uri}: {e}"));
        assert_eq!((t.action.as_str(), t.resource.as_str()), (action, resource), "{uri}");
    }
    let t = resolve("/downloads/f?format=c%73v&other=%3B").unwrap();
    assert_eq!(t.context, vec![("reports:Format".to_owned(), "csv".to_owned())]);
}

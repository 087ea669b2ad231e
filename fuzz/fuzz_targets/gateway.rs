//! The gateway's request-target parsing (`Gateway::resolve`) against an independent oracle,
//! through the public API only.
//!
//! Input: the first byte picks a method, the rest is the request target (bytes that are not UTF-8
//! become U+FFFD). Routes: literal, `{one}` and `{rest+}` segments, a trailing slash, the root, a
//! placeholder in an ARN's account field, query and header context, a catch-all.
//!
//! Checks: `resolve` never panics; a target that resolves (to a route, or to `NoRoute`) is in
//! origin form and holds only bytes RFC 3986 allows unencoded (the query also `[]{}|^` and a
//! backtick), with no `#`, no `;` in the path, no NUL, no `//`, and no segment that decodes to
//! `.`, `..`, `/`, `\`, `;`, a control character or another percent escape; and decoding is
//! consistent: the canonical re-encoding of the decoded target (every byte but the unreserved
//! ones percent-encoded, query pairs likewise) resolves to the same answer (action, resource,
//! context, or `NoRoute`).
//!
//! A failing input's target is printed in the assertion message; add it to
//! `core/tests/adversarial/gateway.rs`, which `cargo test` runs.

#![no_main]

use keycard::{GateRefusal, GateTarget, HeaderLookup, Snapshot, Store};
use keycard_fuzz::MAX_INPUT;
use libfuzzer_sys::{fuzz_target, Corpus};
use std::sync::OnceLock;

const ROUTES: &str = r#"{"Routes": [
  {"Method": "GET", "Path": "/reports/{year}/{file}", "Action": "reports:GetReport",
   "Resource": "arn:aws:reports:::report/{year}/{file}",
   "Context": {"reports:Format": "query:format", "reports:Client": "header:x-client"}},
  {"Method": "POST", "Path": "/reports", "Action": "reports:Create", "Resource": "arn:aws:reports:::report"},
  {"Method": "*", "Path": "/admin/{rest+}", "Action": "admin:Call", "Resource": "arn:aws:admin:::{rest}"},
  {"Method": "GET", "Path": "/", "Action": "site:Home", "Resource": "*"},
  {"Method": "GET", "Path": "/dir/", "Action": "site:Dir", "Resource": "arn:aws:site:::dir/"},
  {"Method": "GET", "Path": "/t/{tenant}/x", "Action": "t:X", "Resource": "arn:aws:t::{tenant}:x",
   "Context": {"t:Q": "query:q", "t:R": "query:R"}},
  {"Method": "GET", "Path": "/caf%C3%A9/a b/%2B", "Action": "lit:Get", "Resource": "*"},
  {"Method": "*", "Path": "/{any+}", "Action": "site:Any", "Resource": "arn:aws:site:::{any}"}
]}"#;

const METHODS: [&str; 6] = ["GET", "HEAD", "POST", "DELETE", "get", "PUT"];

fn snapshot() -> &'static Snapshot {
    static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
    SNAPSHOT.get_or_init(|| match Store::from_documents([("routes.json", ROUTES)]) {
        Ok(store) => Snapshot::new(store),
        Err(e) => panic!("the fuzz store does not load: {e}"),
    })
}

fn headers(name: &str) -> HeaderLookup {
    match name {
        "x-client" => HeaderLookup::One("cli".to_owned()),
        _ => HeaderLookup::Absent,
    }
}

fn resolve(method: &str, uri: &str) -> Result<GateTarget, GateRefusal> {
    snapshot().gateway().resolve(method, uri, headers)
}

fn hex(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// The oracle's percent-decoding (`+` as space when `plus` is set).
fn decode(text: &str, plus: bool) -> Option<Vec<u8>> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let (h, l) = (hex(*b.get(i + 1)?)?, hex(*b.get(i + 2)?)?);
            out.push(h * 16 + l);
            i += 3;
        } else {
            out.push(if plus && b[i] == b'+' { b' ' } else { b[i] });
            i += 1;
        }
    }
    Some(out)
}

/// Every byte but RFC 3986's unreserved ones as `%XX`.
fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,=:@/%".contains(&b)
}

fn query_byte(b: u8) -> bool {
    path_byte(b) || b"?[]{}|^`;".contains(&b)
}

fn has_escape(bytes: &[u8]) -> bool {
    bytes.windows(3).any(|w| w[0] == b'%' && hex(w[1]).is_some() && hex(w[2]).is_some())
}

/// Checks a target that `resolve` did not refuse, and returns its canonical re-encoding.
fn canonical(uri: &str) -> String {
    assert!(uri.starts_with('/'), "not origin form: {uri:?}");
    assert!(!uri.contains('#') && !uri.contains('\0') && !uri.contains('\\'), "{uri:?}");
    let (path, query) = match uri.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (uri, None),
    };
    assert!(path.bytes().all(path_byte), "a byte RFC 3986 forbids in the path of {uri:?}");
    assert!(query.unwrap_or("").bytes().all(query_byte), "a byte RFC 3986 forbids in the query of {uri:?}");
    assert!(!path.contains("//"), "'//' in {uri:?}");
    let rest = &path[1..];
    let mut out = String::from("/");
    if !rest.is_empty() {
        let trailing = rest.ends_with('/');
        let body = rest.strip_suffix('/').unwrap_or(rest);
        let mut parts = Vec::new();
        for raw in body.split('/') {
            let seg = decode(raw, false).unwrap_or_else(|| panic!("broken escape in {raw:?} of {uri:?}"));
            assert!(std::str::from_utf8(&seg).is_ok(), "non-UTF-8 segment {raw:?} of {uri:?}");
            assert!(!seg.is_empty() && seg != b"." && seg != b"..", "segment {raw:?} of {uri:?}");
            assert!(!seg.iter().any(|&b| b == b'/' || b == b'\\' || b == b';' || b.is_ascii_control()), "{uri:?}");
            assert!(!has_escape(&seg), "segment {raw:?} of {uri:?} is encoded twice");
            parts.push(encode(&seg));
        }
        out.push_str(&parts.join("/"));
        if trailing {
            out.push('/');
        }
    }
    if let Some(q) = query {
        out.push('?');
        // Pairs the oracle can decode are re-encoded; a query it cannot (which no route read)
        // stays as it was.
        let pairs: Option<Vec<String>> = q
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                Some(format!("{}={}", encode(&decode(k, true)?), encode(&decode(v, true)?)))
            })
            .collect();
        match pairs {
            Some(pairs) if !q.contains(';') => out.push_str(&pairs.join("&")),
            _ => out.push_str(q),
        }
    }
    out
}

fuzz_target!(|data: &[u8]| -> Corpus {
    if data.len() > MAX_INPUT {
        return Corpus::Reject;
    }
    let Some((&m, rest)) = data.split_first() else { return Corpus::Reject };
    let method = METHODS[usize::from(m) % METHODS.len()];
    let uri = String::from_utf8_lossy(rest);
    let first = resolve(method, &uri);
    if matches!(first, Err(GateRefusal::InvalidRequest(_))) {
        return Corpus::Keep;
    }
    let canon = canonical(&uri);
    let again = resolve(method, &canon);
    assert_eq!(first, again, "{method} {uri:?} and its canonical form {canon:?} resolve differently");
    if let Ok(t) = &first {
        // A `{rest+}` value is the decoded path: it never spells '..' or '//' back.
        assert!(!t.resource.contains("//") && !t.resource.contains("/../"), "{uri:?} gave {t:?}");
    }
    Corpus::Keep
});

//! Gateway routes (`docs/store.md#routes`, `docs/gateway.md`): how an HTTP request that a proxy
//! forwards (nginx `auth_request`, Envoy `ext_authz`) becomes an IAM action on a resource, with
//! context.
//!
//! Why it exists: services rarely ask for decisions themselves; a proxy asks before it forwards,
//! and it only knows a method and a URI. The store's `Routes` map those to what IAM decides on.
//! Routes are parsed and validated while the store loads (errors name the file and the JSON
//! pointer), live in the [`Store`](crate::Store) and therefore in its
//! [`Snapshot`](crate::Snapshot), so they hot-swap with the policies.
//!
//! Invariants, because attackers choose the URI:
//! - the request target is in origin form (`/path?query`, RFC 9112 §3.2.1), which has no
//!   fragment: a `#` anywhere, an absolute-form (`http://host/p`), authority-form or `*` target,
//!   and any byte RFC 3986 does not allow unencoded (space, controls, `\`, `"`, `<`, `>`,
//!   non-ASCII; the query may also hold `[ ] { } | ^` and a backtick, which browsers send
//!   unencoded) are refused ([`GateRefusal::InvalidRequest`]): a proxy forwards the raw target,
//!   and a service that reads such a target differently would serve another resource than the
//!   one decided on;
//! - a path is matched after percent-decoding, one segment at a time, and a path that could mean
//!   two things to two parsers is refused: an empty segment (`//`), a `.` or `..` segment, a `;`
//!   (a path parameter, which some servers strip: `/admin;x/secret`), a segment that decodes to
//!   contain `/`, `\`, `;`, a control character or a percent escape again (`%252e`, for servers
//!   that decode twice), an invalid percent escape, or bytes that are not UTF-8;
//! - the first route that matches, in store order (files in sorted path order, then array order),
//!   decides; nothing matching is [`GateRefusal::NoRoute`], never an allow;
//! - `HEAD` matches `GET` routes; methods compare case-insensitively (a lower-case `delete`
//!   cannot slip past a `DELETE` route to a `*` one);
//! - a query key or header that the matched route reads, and that appears more than once, is
//!   refused (which of two values a service reads is its own business), as is a query key that
//!   differs from a read one in case only (some servers compare query keys case-insensitively)
//!   and a `;` in a query the route reads (some servers split pairs at `;` as well as `&`);
//! - a placeholder's value never moves a resource ARN's fields: a value with `:` in the
//!   partition, service, region or account part of the template is refused.

use crate::error::Problem;
use crate::policy::json::Json;

/// The routes of a store, in store order.
#[derive(Debug, Clone, Default)]
pub struct Gateway {
    routes: Vec<Route>,
}

/// One route: method and path template to action, resource template and context sources.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    /// Upper case; `None` for `*`.
    method: Option<String>,
    segments: Vec<Segment>,
    /// Whether the template ends with `/` (after its last segment).
    trailing_slash: bool,
    /// Placeholder names, in path order (a segment's placeholder index points here).
    names: Vec<String>,
    action: String,
    resource: Vec<Part>,
    context: Vec<(String, ContextSource)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// A literal segment, percent-decoded.
    Literal(String),
    /// `{name}`: one segment (the index into the route's names).
    One(usize),
    /// `{name+}`: one or more segments, the rest of the path (always last).
    Rest(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    /// A placeholder; `arn_head` when it sits in the first five fields of an ARN.
    Var {
        index: usize,
        arn_head: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ContextSource {
    /// `query:NAME`: the query parameter `NAME` (percent-decoded, `+` as space).
    Query(String),
    /// `header:NAME`: the request header `NAME` (stored lower case).
    Header(String),
}

/// What a request maps to: the action, the resource and the route's context keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateTarget {
    /// The IAM action (`reports:GetReport`).
    pub action: String,
    /// The resource, placeholders substituted.
    pub resource: String,
    /// The route's context keys and their values, for the sources present in the request.
    pub context: Vec<(String, String)>,
}

/// Why a request maps to nothing. Both are denials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateRefusal {
    /// No route matches the method and path.
    NoRoute,
    /// The request is ambiguous or malformed (the reason, for logs).
    InvalidRequest(String),
}

impl std::fmt::Display for GateRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GateRefusal::NoRoute => f.write_str("no route matches"),
            GateRefusal::InvalidRequest(reason) => f.write_str(reason),
        }
    }
}

/// A request header's value as the caller of [`Gateway::resolve`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderLookup {
    /// The header is not in the request.
    Absent,
    /// Exactly one line, this value.
    One(String),
    /// Several lines, or a value that is not text: the route cannot read it.
    Unusable,
}

impl Gateway {
    /// How many routes the store defines.
    pub fn len(&self) -> usize {
        self.routes.len()
    }

    /// Whether the store defines no route (every request is then [`GateRefusal::NoRoute`]).
    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }

    /// Maps a request to its target: `method` as the client sent it, `uri` the raw request target
    /// in origin form (`/path?query`), `header` gives the request's headers by lower-case name.
    ///
    /// # Errors
    /// [`GateRefusal::InvalidRequest`] for a path or query that the invariants of this module
    /// refuse, [`GateRefusal::NoRoute`] when no route matches.
    pub fn resolve(
        &self,
        method: &str,
        uri: &str,
        mut header: impl FnMut(&str) -> HeaderLookup,
    ) -> Result<GateTarget, GateRefusal> {
        let method = method.to_ascii_uppercase();
        if method.is_empty() || !method.bytes().all(is_token_byte) {
            return Err(invalid(format!("invalid method {method:?}")));
        }
        let (path, query) = split_uri(uri)?;
        let (segments, trailing_slash) = split_path(path).map_err(invalid)?;
        let mut decoded = Vec::with_capacity(segments.len());
        for raw in &segments {
            decoded.push(decode_segment(raw).map_err(invalid)?);
        }
        for route in &self.routes {
            if !route.method_matches(&method) {
                continue;
            }
            let Some(values) = route.match_path(&decoded, trailing_slash) else { continue };
            return route.target(&values, query, &mut header);
        }
        Err(GateRefusal::NoRoute)
    }
}

fn invalid(reason: impl Into<String>) -> GateRefusal {
    GateRefusal::InvalidRequest(reason.into())
}

impl Route {
    fn method_matches(&self, method: &str) -> bool {
        match &self.method {
            None => true,
            Some(m) => m == method || (method == "HEAD" && m == "GET"),
        }
    }

    /// The placeholder values when the decoded path matches.
    fn match_path(&self, path: &[String], trailing_slash: bool) -> Option<Vec<String>> {
        let mut values = vec![String::new(); self.names.len()];
        let mut i = 0;
        for seg in &self.segments {
            match seg {
                Segment::Literal(l) => {
                    if path.get(i)? != l {
                        return None;
                    }
                    i += 1;
                }
                Segment::One(n) => {
                    *values.get_mut(*n)? = path.get(i)?.clone();
                    i += 1;
                }
                Segment::Rest(n) => {
                    let rest = path.get(i..).filter(|r| !r.is_empty())?;
                    let mut joined = rest.join("/");
                    if trailing_slash {
                        joined.push('/');
                    }
                    *values.get_mut(*n)? = joined;
                    return Some(values);
                }
            }
        }
        (i == path.len() && trailing_slash == self.trailing_slash).then_some(values)
    }

    fn target(
        &self,
        values: &[String],
        query: Option<&str>,
        header: &mut impl FnMut(&str) -> HeaderLookup,
    ) -> Result<GateTarget, GateRefusal> {
        let mut resource = String::new();
        for part in &self.resource {
            match part {
                Part::Text(t) => resource.push_str(t),
                Part::Var { index, arn_head } => {
                    let v = values.get(*index).map_or("", String::as_str);
                    if *arn_head && v.contains(':') {
                        return Err(invalid("a path value with ':' would change the resource ARN's fields"));
                    }
                    resource.push_str(v);
                }
            }
        }
        let mut context = Vec::with_capacity(self.context.len());
        let mut pairs: Option<Vec<(String, String)>> = None;
        for (key, source) in &self.context {
            let value = match source {
                ContextSource::Query(name) => {
                    if pairs.is_none() {
                        pairs = Some(parse_query(query.unwrap_or(""))?);
                    }
                    // Keys equal up to case count as the same key: some servers compare them so.
                    let mut found = pairs.iter().flatten().filter(|(k, _)| k.eq_ignore_ascii_case(name));
                    let first = found.next();
                    if found.next().is_some() {
                        return Err(invalid(format!("query parameter {name:?} appears more than once")));
                    }
                    match first {
                        Some((k, _)) if k != name => {
                            return Err(invalid(format!("query parameter {k:?} differs from {name:?} in case only")))
                        }
                        Some((_, v)) => Some(v.clone()),
                        None => None,
                    }
                }
                ContextSource::Header(name) => match header(name) {
                    HeaderLookup::Absent => None,
                    HeaderLookup::One(v) => Some(v),
                    HeaderLookup::Unusable => {
                        return Err(invalid(format!("header {name:?} appears more than once or is not text")))
                    }
                },
            };
            if let Some(v) = value {
                context.push((key.clone(), v));
            }
        }
        Ok(GateTarget { action: self.action.clone(), resource, context })
    }
}

/// `tchar` of RFC 9110 (method names and header names).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// The path and the query of a request target, which must be in origin form (`/path?query`, RFC
/// 9112 §3.2.1) and hold only the bytes RFC 3986 allows unencoded there. nginx forwards the raw
/// target (`$request_uri`) to the service, fragment and all, so whatever keycard would cut or
/// read differently from the service is refused instead.
fn split_uri(uri: &str) -> Result<(&str, Option<&str>), GateRefusal> {
    if uri.contains('#') {
        return Err(invalid("a request target has no fragment ('#')"));
    }
    if !uri.starts_with('/') {
        let shown: String = uri.chars().take(64).collect();
        return Err(invalid(format!("the request target {shown:?} is not in origin form ('/path?query')")));
    }
    let (path, query) = match uri.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (uri, None),
    };
    if path.contains(';') {
        return Err(invalid("a path parameter (';') in the path"));
    }
    if let Some(b) = path.bytes().find(|&b| !is_path_byte(b)) {
        return Err(invalid(format!("byte 0x{b:02x} is not allowed unencoded in a path")));
    }
    if let Some(b) = query.and_then(|q| q.bytes().find(|&b| !is_query_byte(b))) {
        return Err(invalid(format!("byte 0x{b:02x} is not allowed unencoded in a query")));
    }
    Ok((path, query))
}

/// RFC 3986 `pchar`, `/` and the `%` of an escape: unreserved, sub-delims, `:`, `@`.
fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/%".contains(&b)
}

/// A path byte, `?`, and the printable characters browsers leave unencoded in a query (WHATWG
/// URL's query percent-encode set) although RFC 3986 wants them encoded: `[ ] { } | ^` and a
/// backtick. Never space, controls, `"`, `<`, `>`, `\` or non-ASCII.
fn is_query_byte(b: u8) -> bool {
    is_path_byte(b) || b"?[]{}|^`".contains(&b)
}

/// Splits a path (starting with `/`) into its raw segments and whether it ends with `/`.
/// `/` alone has no segment. An empty segment anywhere else is an error.
fn split_path(path: &str) -> Result<(Vec<&str>, bool), String> {
    let rest = path.strip_prefix('/').unwrap_or(path);
    if rest.is_empty() {
        return Ok((Vec::new(), false));
    }
    let mut segments: Vec<&str> = rest.split('/').collect();
    let trailing = segments.last().is_some_and(|s| s.is_empty());
    if trailing {
        segments.pop();
    }
    if segments.iter().any(|s| s.is_empty()) {
        return Err("the path has an empty segment ('//')".to_owned());
    }
    Ok((segments, trailing))
}

/// Percent-decodes one path segment and refuses what could be read two ways: `.`/`..`, and a
/// segment decoding to `/`, `\\` or `;` (a server may split or strip at them after decoding), to
/// a control character (NUL ends a C string; servers trim others), or to a percent escape again
/// (`%252e` is `%2e` here, and `.` to a server that decodes twice).
fn decode_segment(raw: &str) -> Result<String, String> {
    let decoded = percent_decode(raw, false).ok_or_else(|| format!("invalid percent-encoding in {raw:?}"))?;
    if decoded == "." || decoded == ".." {
        return Err("the path has a '.' or '..' segment".to_owned());
    }
    if decoded.contains(['/', '\\', ';']) || decoded.contains(|c: char| c.is_ascii_control()) {
        return Err(format!("the path segment {raw:?} decodes to contain '/', '\\', ';' or a control character"));
    }
    if has_escape(&decoded) {
        return Err(format!("the path segment {raw:?} is percent-encoded twice"));
    }
    Ok(decoded)
}

/// Whether `text` holds a well-formed percent escape (`%` and two hex digits).
fn has_escape(text: &str) -> bool {
    text.as_bytes().windows(3).any(|w| matches!(w, [b'%', h, l] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit()))
}

/// `%XX` decoding (and `+` as space in a query); `None` for a broken escape or non-UTF-8 bytes.
fn percent_decode(text: &str, plus_is_space: bool) -> Option<String> {
    let bytes = text.as_bytes();
    let broken = bytes.iter().enumerate().any(|(i, &b)| {
        b == b'%' && !matches!(bytes.get(i + 1..i + 3), Some(&[h, l]) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit())
    });
    if broken {
        return None;
    }
    let spaced;
    let text = if plus_is_space && text.contains('+') {
        spaced = text.replace('+', " ");
        spaced.as_str()
    } else {
        text
    };
    percent_encoding::percent_decode_str(text).decode_utf8().ok().map(|s| s.into_owned())
}

/// The decoded `(key, value)` pairs of a query string, in order. A `;` is refused: some servers
/// split pairs at it as well as at `&` (`?format=csv;format=pdf` would be one pair here, two
/// there).
fn parse_query(query: &str) -> Result<Vec<(String, String)>, GateRefusal> {
    if query.contains(';') {
        return Err(invalid("a ';' in a query the route reads"));
    }
    let mut pairs = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| percent_decode(s, true).ok_or_else(|| invalid(format!("invalid query pair {pair:?}")));
        pairs.push((decode(k)?, decode(v)?));
    }
    Ok(pairs)
}

/// Context keys a route may not fill: `aws:` keys are request facts keycard establishes itself
/// (a route mapping `aws:SourceIp` to a header would let the caller choose its own address).
fn reserved_context_key(key: &str) -> bool {
    key.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:"))
}

/// Reads a store document's `Routes` (`docs/store.md#routes`), appending every problem to
/// `problems` with the file and JSON pointer, and every valid route to `routes`.
pub(crate) fn parse_routes(file: &str, doc: &Json, problems: &mut Vec<Problem>, routes: &mut Vec<Route>) {
    let items = match doc.get("Routes") {
        None | Some(Json::Null) => return,
        Some(Json::Array(items)) => items,
        Some(other) => {
            problems.push(Problem::error(file, "/Routes", format!("expected an array, found {}", other.type_name())));
            return;
        }
    };
    for (i, item) in items.iter().enumerate() {
        let pointer = format!("/Routes/{i}");
        let mut errors = Vec::new();
        if let Some(route) = parse_route(item, &pointer, &mut errors) {
            if errors.is_empty() {
                routes.push(route);
            }
        }
        problems.extend(errors.into_iter().map(|(p, m)| Problem::error(file, p, m)));
    }
}

const ROUTE_KEYS: [&str; 5] = ["Method", "Path", "Action", "Resource", "Context"];

type Errors = Vec<(String, String)>;

fn parse_route(item: &Json, pointer: &str, errors: &mut Errors) -> Option<Route> {
    let Json::Object(pairs) = item else {
        errors.push((pointer.to_owned(), format!("expected a route object, found {}", item.type_name())));
        return None;
    };
    for i in crate::policy::json::repeated_keys(pairs) {
        if let Some((key, _)) = pairs.get(i) {
            errors.push((format!("{pointer}/{}", crate::policy::json::pointer_token(key)), "duplicate key".to_owned()));
        }
    }
    for (key, _) in pairs {
        if !ROUTE_KEYS.contains(&key.as_str()) {
            let hint = crate::policy::parse::suggest(key, &ROUTE_KEYS)
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
            errors.push((
                format!("{pointer}/{}", crate::policy::json::pointer_token(key)),
                format!("unknown route key {key:?}{hint}"),
            ));
        }
    }
    let string = |key: &str, errors: &mut Errors| -> Option<String> {
        match item.get(key) {
            Some(Json::String(s)) => Some(s.clone()),
            None => {
                errors.push((format!("{pointer}/{key}"), "missing (required)".to_owned()));
                None
            }
            Some(other) => {
                errors.push((format!("{pointer}/{key}"), format!("expected a string, found {}", other.type_name())));
                None
            }
        }
    };
    let method = string("Method", errors).and_then(|m| parse_method(&m, &format!("{pointer}/Method"), errors));
    let path = string("Path", errors).and_then(|p| parse_path(&p, &format!("{pointer}/Path"), errors));
    let action = string("Action", errors).and_then(|a| {
        let ok = matches!(a.split_once(':'), Some((s, o)) if !s.is_empty() && !o.is_empty())
            && !a.contains(char::is_whitespace)
            && !a.contains(['*', '?']);
        if !ok {
            errors
                .push((format!("{pointer}/Action"), format!("expected \"service:Action\" (no wildcard), found {a:?}")));
        }
        ok.then_some(a)
    });
    let resource = string("Resource", errors);
    let context = parse_context(item.get("Context"), &format!("{pointer}/Context"), errors);
    let (method, (segments, trailing_slash, names), action, resource) = (method?, path?, action?, resource?);
    let resource = parse_resource(&resource, &names, &format!("{pointer}/Resource"), errors)?;
    Some(Route { method, segments, trailing_slash, names, action, resource, context })
}

fn parse_method(m: &str, pointer: &str, errors: &mut Errors) -> Option<Option<String>> {
    if m == "*" {
        return Some(None);
    }
    if m.is_empty() || !m.bytes().all(is_token_byte) {
        errors.push((pointer.to_owned(), format!("expected an HTTP method (GET) or \"*\", found {m:?}")));
        return None;
    }
    Some(Some(m.to_ascii_uppercase()))
}

type ParsedPath = (Vec<Segment>, bool, Vec<String>);

fn parse_path(path: &str, pointer: &str, errors: &mut Errors) -> Option<ParsedPath> {
    let mut err = |m: String| errors.push((pointer.to_owned(), m));
    if !path.starts_with('/') {
        err(format!("expected a path starting with '/', found {path:?}"));
        return None;
    }
    if path.contains(['?', '#']) {
        err("a path template has no query or fragment".to_owned());
        return None;
    }
    let (raw, trailing) = match split_path(path) {
        Ok(s) => s,
        Err(m) => {
            err(m);
            return None;
        }
    };
    let mut segments = Vec::with_capacity(raw.len());
    let mut names: Vec<String> = Vec::new();
    for (i, seg) in raw.iter().enumerate() {
        if let Some(inner) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let (name, rest) = match inner.strip_suffix('+') {
                Some(n) => (n, true),
                None => (inner, false),
            };
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                err(format!(
                    "invalid placeholder {seg:?} (expected {{name}} or {{name+}}, name of letters, digits, _)"
                ));
                return None;
            }
            if names.iter().any(|n| n == name) {
                err(format!("placeholder {{{name}}} appears twice"));
                return None;
            }
            if rest && (i + 1 != raw.len() || trailing) {
                err(format!("{{{name}+}} must be the last segment of the path"));
                return None;
            }
            names.push(name.to_owned());
            segments.push(if rest { Segment::Rest(names.len() - 1) } else { Segment::One(names.len() - 1) });
        } else if seg.contains(['{', '}']) {
            err(format!("a placeholder must be a whole segment, found {seg:?}"));
            return None;
        } else {
            match decode_segment(seg) {
                Ok(d) => segments.push(Segment::Literal(d)),
                Err(m) => {
                    err(m);
                    return None;
                }
            }
        }
    }
    Some((segments, trailing, names))
}

fn parse_resource(template: &str, names: &[String], pointer: &str, errors: &mut Errors) -> Option<Vec<Part>> {
    if !(template == "*" || (template.starts_with("arn:") && template.split(':').count() >= 6)) {
        errors.push((pointer.to_owned(), format!("expected an ARN template or \"*\", found {template:?}")));
        return None;
    }
    let mut parts = Vec::new();
    let mut rest = template;
    let mut colons = 0;
    while !rest.is_empty() {
        match rest.find(['{', '}']) {
            None => {
                parts.push(Part::Text(rest.to_owned()));
                break;
            }
            Some(i) => {
                let (text, tail) = rest.split_at(i);
                colons += text.matches(':').count();
                if !text.is_empty() {
                    parts.push(Part::Text(text.to_owned()));
                }
                let Some(end) = tail.strip_prefix('{').and_then(|t| t.find('}')) else {
                    errors.push((pointer.to_owned(), format!("unbalanced '{{' or '}}' in {template:?}")));
                    return None;
                };
                let name = tail.get(1..=end).unwrap_or("");
                let name = name.strip_suffix('+').unwrap_or(name);
                let Some(index) = names.iter().position(|n| n == name) else {
                    errors.push((pointer.to_owned(), format!("{{{name}}} is not a placeholder of the route's Path")));
                    return None;
                };
                parts.push(Part::Var { index, arn_head: colons < 5 && template != "*" });
                rest = tail.get(end + 2..).unwrap_or("");
            }
        }
    }
    Some(parts)
}

fn parse_context(value: Option<&Json>, pointer: &str, errors: &mut Errors) -> Vec<(String, ContextSource)> {
    let pairs = match value {
        None | Some(Json::Null) => return Vec::new(),
        Some(Json::Object(pairs)) => pairs,
        Some(other) => {
            errors.push((pointer.to_owned(), format!("expected an object, found {}", other.type_name())));
            return Vec::new();
        }
    };
    let mut out: Vec<(String, ContextSource)> = Vec::new();
    for (key, source) in pairs {
        let at = format!("{pointer}/{}", crate::policy::json::pointer_token(key));
        let key_ok = matches!(key.split_once(':'), Some((s, n)) if !s.is_empty() && !n.is_empty());
        if !key_ok {
            errors.push((at, format!("expected a condition key (service:Name), found {key:?}")));
            continue;
        }
        if reserved_context_key(key) {
            errors.push((at, format!("{key} is a request fact keycard fills itself; a route may not set aws: keys")));
            continue;
        }
        if out.iter().any(|(k, _)| k.eq_ignore_ascii_case(key)) {
            errors.push((at, "duplicate context key (keys are case-insensitive)".to_owned()));
            continue;
        }
        let parsed = match source.as_str() {
            Some(s) => match s.split_once(':') {
                Some(("query", name)) if !name.is_empty() => Some(ContextSource::Query(name.to_owned())),
                Some(("header", name)) if !name.is_empty() && name.bytes().all(is_token_byte) => {
                    Some(ContextSource::Header(name.to_ascii_lowercase()))
                }
                _ => None,
            },
            None => None,
        };
        match parsed {
            Some(p) => out.push((key.clone(), p)),
            None => errors.push((at, format!("expected \"query:NAME\" or \"header:NAME\", found {}", show(source)))),
        }
    }
    out
}

fn show(v: &Json) -> String {
    match v {
        Json::String(s) => format!("{s:?}"),
        other => other.type_name().to_owned(),
    }
}

/// Builds a gateway from parsed routes (the store keeps them in store order).
pub(crate) fn gateway(routes: Vec<Route>) -> Gateway {
    Gateway { routes }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn load(routes: &str) -> Result<Gateway, Vec<String>> {
        let doc = Json::parse(&format!(r#"{{"Routes": {routes}}}"#)).unwrap();
        let (mut problems, mut out) = (Vec::new(), Vec::new());
        parse_routes("r.json", &doc, &mut problems, &mut out);
        if problems.is_empty() {
            Ok(gateway(out))
        } else {
            Err(problems.iter().map(ToString::to_string).collect())
        }
    }

    /// Percent-decoding: an escape needs two hex digits (`%+f` is broken, not 0x0f), `+` is a
    /// space only in a query, `%2B` is always `+`, and bytes that are not UTF-8 are refused.
    #[test]
    fn percent_decoding_is_strict() {
        assert_eq!(percent_decode("a%2Fb+c%2B", false).as_deref(), Some("a/b+c+"));
        assert_eq!(percent_decode("a%2Fb+c%2B", true).as_deref(), Some("a/b c+"));
        for broken in ["%+f", "%4", "%", "%zz", "a%e9"] {
            assert_eq!(percent_decode(broken, true), None, "{broken:?}");
        }
        assert_eq!(percent_decode("%C3%A9", false).as_deref(), Some("é"));
    }

    fn reports() -> Gateway {
        load(
            r#"[
            {"Method": "GET", "Path": "/reports/{year}/{file}", "Action": "reports:GetReport",
             "Resource": "arn:aws:reports:::report/{year}/{file}",
             "Context": {"reports:Format": "query:format", "reports:Client": "header:X-Client"}},
            {"Method": "POST", "Path": "/reports", "Action": "reports:Create", "Resource": "arn:aws:reports:::report"},
            {"Method": "*", "Path": "/admin/{rest+}", "Action": "admin:Call", "Resource": "arn:aws:admin:::{rest}"},
            {"Method": "GET", "Path": "/", "Action": "site:Home", "Resource": "*"},
            {"Method": "GET", "Path": "/dir/", "Action": "site:Dir", "Resource": "arn:aws:site:::dir/"},
            {"Method": "*", "Path": "/reports/{year}/{file}", "Action": "reports:Other", "Resource": "arn:aws:reports:::report/{year}"},
            {"Method": "GET", "Path": "/t/{tenant}/x", "Action": "t:X", "Resource": "arn:aws:t::{tenant}:x"}
        ]"#,
        )
        .unwrap()
    }

    fn no_headers(_: &str) -> HeaderLookup {
        HeaderLookup::Absent
    }

    fn resolve(g: &Gateway, method: &str, uri: &str) -> Result<GateTarget, GateRefusal> {
        g.resolve(method, uri, no_headers)
    }

    fn is_invalid(r: Result<GateTarget, GateRefusal>) -> bool {
        matches!(r, Err(GateRefusal::InvalidRequest(_)))
    }

    #[test]
    fn placeholders_are_substituted_into_the_resource() {
        let t = resolve(&reports(), "GET", "/reports/2026/q1.csv").unwrap();
        assert_eq!(t.action, "reports:GetReport");
        assert_eq!(t.resource, "arn:aws:reports:::report/2026/q1.csv");
        assert!(t.context.is_empty());
    }

    #[test]
    fn paths_are_matched_after_percent_decoding() {
        let t = resolve(&reports(), "GET", "/reports/20%32%36/q%201.csv").unwrap();
        assert_eq!(t.resource, "arn:aws:reports:::report/2026/q 1.csv");
        let t = resolve(&reports(), "GET", "/%72eports/2026/a").unwrap();
        assert_eq!(t.action, "reports:GetReport");
    }

    #[test]
    fn a_rest_placeholder_takes_the_rest_of_the_path() {
        let t = resolve(&reports(), "DELETE", "/admin/users/alice/keys").unwrap();
        assert_eq!(t.resource, "arn:aws:admin:::users/alice/keys");
        let t = resolve(&reports(), "GET", "/admin/x/").unwrap();
        assert_eq!(t.resource, "arn:aws:admin:::x/");
        assert_eq!(resolve(&reports(), "GET", "/admin"), Err(GateRefusal::NoRoute));
        assert_eq!(resolve(&reports(), "GET", "/admin/"), Err(GateRefusal::NoRoute));
    }

    #[test]
    fn the_first_matching_route_decides_and_methods_filter() {
        assert_eq!(resolve(&reports(), "PUT", "/reports/2026/q1").unwrap().action, "reports:Other");
        assert_eq!(resolve(&reports(), "POST", "/reports").unwrap().action, "reports:Create");
        assert_eq!(resolve(&reports(), "GET", "/reports"), Err(GateRefusal::NoRoute));
        assert_eq!(resolve(&reports(), "GET", "/nothing/here"), Err(GateRefusal::NoRoute));
        assert_eq!(resolve(&reports(), "GET", "/reports/2026"), Err(GateRefusal::NoRoute));
        assert_eq!(resolve(&reports(), "GET", "/reports/2026/a/b"), Err(GateRefusal::NoRoute));
    }

    #[test]
    fn head_matches_get_routes_and_methods_ignore_case() {
        assert_eq!(resolve(&reports(), "HEAD", "/reports/2026/q1").unwrap().action, "reports:GetReport");
        assert_eq!(resolve(&reports(), "get", "/reports/2026/q1").unwrap().action, "reports:GetReport");
        // GET does not match a HEAD-only route, and POST /reports is not GET.
        assert_eq!(resolve(&reports(), "HEAD", "/reports"), Err(GateRefusal::NoRoute));
        assert!(is_invalid(resolve(&reports(), "GE T", "/")));
        assert!(is_invalid(resolve(&reports(), "", "/")));
    }

    #[test]
    fn root_and_trailing_slashes_match_exactly() {
        assert_eq!(resolve(&reports(), "GET", "/").unwrap().action, "site:Home");
        assert_eq!(resolve(&reports(), "GET", "/?a=b").unwrap().action, "site:Home");
        assert_eq!(resolve(&reports(), "GET", "/dir/").unwrap().action, "site:Dir");
        assert_eq!(resolve(&reports(), "GET", "/dir"), Err(GateRefusal::NoRoute));
        assert_eq!(resolve(&reports(), "POST", "/reports/"), Err(GateRefusal::NoRoute));
    }

    #[test]
    fn ambiguous_paths_are_invalid_requests() {
        let g = reports();
        for uri in [
            "//reports/2026/q1",
            "/reports//q1",
            "/reports/2026//",
            "/reports/./q1",
            "/reports/../admin/x",
            "/reports/2026/..",
            "/reports/%2e%2e/q1",
            "/reports/%2E/q1",
            "/reports/2026%2Fq1/x",
            "/reports/2026%2fq1/x",
            "/reports/2026%5Cq1/x",
            "/reports/a\\b/x",
            "/reports/2026%00/x",
            "/reports/%zz/x",
            "/reports/%4/x",
            "/reports/%ff/x",
            "reports/2026/q1",
        ] {
            assert!(is_invalid(resolve(&g, "GET", uri)), "{uri} should be invalid: {:?}", resolve(&g, "GET", uri));
        }
        // Checked before routes: an unknown path is still refused as invalid.
        assert!(is_invalid(resolve(&g, "GET", "/nowhere/../x")));
    }

    #[test]
    fn only_origin_form_without_fragment() {
        let g = reports();
        for uri in ["http://h.example/reports/1/2?format=csv", "https://h.example", "h.example:443", "*", "?a=b", ""] {
            assert!(is_invalid(resolve(&g, "GET", uri)), "{uri}");
        }
        for uri in ["/reports/1/2#frag", "/reports/1/2?a=b#c", "/reports/1/2#", "/#"] {
            assert!(is_invalid(resolve(&g, "GET", uri)), "{uri}");
        }
        // Printable characters browsers leave unencoded in a query are not refused.
        assert!(resolve(&g, "GET", "/reports/1/2?filter[a]={x}|^`&b=/?:@").is_ok());
    }

    #[test]
    fn query_and_header_context() {
        let headers = |name: &str| match name {
            "x-client" => HeaderLookup::One("cli/1.0".to_owned()),
            _ => HeaderLookup::Absent,
        };
        let t = reports().resolve("GET", "/reports/1/2?x=1&format=c%73v+z&y", headers).unwrap();
        assert_eq!(
            t.context,
            vec![
                ("reports:Format".to_owned(), "csv z".to_owned()),
                ("reports:Client".to_owned(), "cli/1.0".to_owned())
            ]
        );
        // Absent sources leave the key out.
        assert!(resolve(&reports(), "GET", "/reports/1/2").unwrap().context.is_empty());
    }

    #[test]
    fn a_read_query_key_given_twice_is_invalid() {
        let g = reports();
        assert!(is_invalid(resolve(&g, "GET", "/reports/1/2?format=csv&format=pdf")));
        assert!(is_invalid(resolve(&g, "GET", "/reports/1/2?format=csv&%66ormat=pdf")));
        // A key the route does not read may repeat.
        assert!(resolve(&g, "GET", "/reports/1/2?a=1&a=2&format=csv").is_ok());
        // A route that reads no query ignores it entirely.
        assert!(resolve(&g, "POST", "/reports?format=1&format=2").is_ok());
        assert!(is_invalid(resolve(&g, "GET", "/reports/1/2?format=%zz")));
        let repeated = |_: &str| HeaderLookup::Unusable;
        assert!(is_invalid(g.resolve("GET", "/reports/1/2", repeated)));
    }

    #[test]
    fn a_value_cannot_move_arn_fields() {
        let g = reports();
        assert_eq!(resolve(&g, "GET", "/t/111122223333/x").unwrap().resource, "arn:aws:t::111122223333:x");
        assert!(is_invalid(resolve(&g, "GET", "/t/1%3A2/x")));
        // In the resource part, ':' is just text.
        assert_eq!(resolve(&g, "GET", "/admin/a:b").unwrap().resource, "arn:aws:admin:::a:b");
    }

    #[test]
    fn no_routes_means_no_route() {
        let g = Gateway::default();
        assert!(g.is_empty());
        assert_eq!(resolve(&g, "GET", "/"), Err(GateRefusal::NoRoute));
    }

    #[test]
    fn invalid_routes_are_reported_with_file_and_pointer() {
        let cases = [
            (r#"{"Routes": 1}"#, "r.json: /Routes: expected an array"),
            (r#"[1]"#, "r.json: /Routes/0: expected a route object"),
            (r#"[{"Path": "/a", "Action": "a:B", "Resource": "*"}]"#, "/Routes/0/Method: missing"),
            (
                r#"[{"Method": "G T", "Path": "/a", "Action": "a:B", "Resource": "*"}]"#,
                "/Routes/0/Method: expected an HTTP method",
            ),
            (
                r#"[{"Method": "GET", "Path": "a", "Action": "a:B", "Resource": "*"}]"#,
                "/Routes/0/Path: expected a path starting",
            ),
            (
                r#"[{"Method": "GET", "Path": "/a//b", "Action": "a:B", "Resource": "*"}]"#,
                "/Routes/0/Path: the path has an empty segment",
            ),
            (
                r#"[{"Method": "GET", "Path": "/a/../b", "Action": "a:B", "Resource": "*"}]"#,
                "/Routes/0/Path: the path has a '.'",
            ),
            (r#"[{"Method": "GET", "Path": "/{a+}/b", "Action": "a:B", "Resource": "*"}]"#, "must be the last segment"),
            (r#"[{"Method": "GET", "Path": "/{a}/{a}", "Action": "a:B", "Resource": "*"}]"#, "appears twice"),
            (r#"[{"Method": "GET", "Path": "/{a-b}", "Action": "a:B", "Resource": "*"}]"#, "invalid placeholder"),
            (r#"[{"Method": "GET", "Path": "/x{a}", "Action": "a:B", "Resource": "*"}]"#, "must be a whole segment"),
            (r#"[{"Method": "GET", "Path": "/a?b", "Action": "a:B", "Resource": "*"}]"#, "no query"),
            (
                r#"[{"Method": "GET", "Path": "/a", "Action": "aB", "Resource": "*"}]"#,
                "/Routes/0/Action: expected \"service:Action\"",
            ),
            (r#"[{"Method": "GET", "Path": "/a", "Action": "a:*", "Resource": "*"}]"#, "/Routes/0/Action"),
            (
                r#"[{"Method": "GET", "Path": "/a", "Action": "a:B", "Resource": "res"}]"#,
                "/Routes/0/Resource: expected an ARN",
            ),
            (
                r#"[{"Method": "GET", "Path": "/a", "Action": "a:B", "Resource": "arn:aws:s3:::{b}"}]"#,
                "{b} is not a placeholder",
            ),
            (r#"[{"Method": "GET", "Path": "/{b}", "Action": "a:B", "Resource": "arn:aws:s3:::{b"}]"#, "unbalanced"),
            (
                r#"[{"Method": "GET", "Path": "/a", "Action": "a:B", "Resource": "*", "Contxt": {}}]"#,
                "/Routes/0/Contxt: unknown route key \"Contxt\" (did you mean Context?)",
            ),
            (
                r#"[{"Method": "GET", "Path": "/a", "Action": "a:B", "Resource": "*", "Context": {"a:K": "cookie:x"}}]"#,
                "/Routes/0/Context/a:K: expected \"query:NAME\"",
            ),
            (
                r#"[{"Method": "GET", "Path": "/a", "Action": "a:B", "Resource": "*", "Context": {"a:K": "query:"}}]"#,
                "/Routes/0/Context/a:K",
            ),
            (
                r#"[{"Method": "GET", "Path": "/a", "Action": "a:B", "Resource": "*", "Context": {"a:K": "header:a b"}}]"#,
                "/Routes/0/Context/a:K",
            ),
            (
                r#"[{"Method": "GET", "Path": "/a", "Action": "a:B", "Resource": "*", "Context": {"aws:SourceIp": "header:x"}}]"#,
                "may not set aws: keys",
            ),
            (
                r#"[{"Method": "GET", "Path": "/a", "Action": "a:B", "Resource": "*", "Context": {"K": "header:x"}}]"#,
                "expected a condition key",
            ),
            (
                r#"[{"Method": "GET", "Path": "/a", "Action": "a:B", "Resource": "*", "Context": {"a:k": "header:x", "A:K": "query:y"}}]"#,
                "duplicate context key",
            ),
            (
                r#"[{"Method": "GET", "Path": "/a", "Action": "a:B", "Resource": "*"}, {"Method": "GET"}]"#,
                "/Routes/1/Path: missing",
            ),
        ];
        for (routes, expected) in cases {
            let routes = routes.strip_prefix(r#"{"Routes": "#).and_then(|r| r.strip_suffix('}')).unwrap_or(routes);
            let errors = load(routes).expect_err(routes);
            assert!(errors.iter().any(|e| e.contains(expected)), "{routes}: expected {expected:?} in {errors:?}");
        }
    }

    #[test]
    fn routes_follow_store_order_and_live_in_the_snapshot() {
        let route = |action: &str| {
            format!(r#"{{"Routes": [{{"Method": "GET", "Path": "/x", "Action": "{action}", "Resource": "*"}}]}}"#)
        };
        let store =
            crate::Store::from_documents([("a.json", route("a:First")), ("b.json", route("b:Second"))]).unwrap();
        assert!(store.warnings().is_empty(), "{:?}", store.warnings());
        let snapshot = crate::Snapshot::new(store);
        assert_eq!(snapshot.gateway().len(), 2);
        assert_eq!(resolve(snapshot.gateway(), "GET", "/x").unwrap().action, "a:First");
        let bad = crate::Store::from_documents([("a.json", r#"{"Routes": [{"Method": "GET"}]}"#)]).unwrap_err();
        assert!(bad.to_string().contains("a.json: /Routes/0/Path: missing"), "{bad}");
    }

    #[test]
    fn every_problem_is_reported() {
        let errors = load(r#"[{"Method": "", "Path": "x", "Action": "y", "Resource": "z"}]"#).unwrap_err();
        assert!(errors.len() >= 3, "{errors:?}");
    }
}

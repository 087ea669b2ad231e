//! Condition operators: value types parsed at load time and the per-request comparison.
//!
//! Follows `docs/semantics.md#condition-operators` step by step: operators AND, keys AND, values OR
//! (negated operators NOR); a missing key makes positive operators false and negated ones true;
//! `IfExists` makes a missing key true; `ForAllValues` is vacuously true and `ForAnyValue` false on
//! a missing key; an unqualified operator on a key with two or more values does not match (negated:
//! matches). A request value that cannot be parsed for the family is false for both positive and
//! negated operators. An unresolvable policy variable makes its value match nothing, except under a
//! negated operator, where the whole statement is dropped ([`CondResult::Invalid`]).

use crate::policy::ast::{CondValue, Condition, Family, OpKind, Qualifier};
use crate::policy::context::{Lookup, Val};
use crate::policy::glob::{glob_match, match_parts, token_chars, Part, Template, Tok};
use smallvec::SmallVec;
use std::borrow::Cow;
use std::cmp::Ordering;
use std::net::IpAddr;

/// An exact decimal number (`10` = `10.0`), compared without floating-point rounding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decimal {
    parts: Parts<'static>,
}

/// Sign, integer digits without leading zeros, fraction digits without trailing zeros; borrowed
/// from the text unless an exponent moved the point.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parts<'a> {
    negative: bool,
    int: Cow<'a, str>,
    frac: Cow<'a, str>,
}

impl Decimal {
    /// Parses `[+-]digits[.digits][e[+-]digits]` (also `.5` and `5.`); `None` otherwise.
    pub(crate) fn parse(s: &str) -> Option<Decimal> {
        let p = Parts::parse(s)?;
        Some(Decimal {
            parts: Parts {
                negative: p.negative,
                int: Cow::Owned(p.int.into_owned()),
                frac: Cow::Owned(p.frac.into_owned()),
            },
        })
    }

    /// Compares the number written in `request` with this one; `None` when `request` is not a
    /// number. Does not allocate unless `request` has an exponent.
    pub(crate) fn cmp_request(&self, request: &str) -> Option<Ordering> {
        Some(Parts::parse(request)?.cmp(&self.parts))
    }
}

impl<'a> Parts<'a> {
    fn parse(s: &'a str) -> Option<Parts<'a>> {
        let s = s.trim();
        let (negative, body) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let (mantissa, exponent) = match body.split_once(['e', 'E']) {
            Some((m, e)) => (m, e.parse::<i32>().ok().filter(|e| e.abs() <= 400)?),
            None => (body, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (int, frac): (Cow<'a, str>, Cow<'a, str>) = if exponent == 0 {
            (Cow::Borrowed(int), Cow::Borrowed(frac))
        } else {
            // Move the decimal point by the exponent.
            let digits = format!("{int}{frac}");
            let point = i64::try_from(int.len()).ok()? + i64::from(exponent);
            if point <= 0 {
                (Cow::Borrowed(""), Cow::Owned(format!("{}{digits}", "0".repeat(usize::try_from(-point).ok()?))))
            } else {
                let point = usize::try_from(point).ok()?;
                if point >= digits.len() {
                    (Cow::Owned(format!("{digits}{}", "0".repeat(point - digits.len()))), Cow::Borrowed(""))
                } else {
                    (Cow::Owned(digits[..point].to_owned()), Cow::Owned(digits[point..].to_owned()))
                }
            }
        };
        let int = trim_cow(int, |t| t.trim_start_matches('0'));
        let frac = trim_cow(frac, |t| t.trim_end_matches('0'));
        let negative = negative && !(int.is_empty() && frac.is_empty());
        Some(Parts { negative, int, frac })
    }

    fn cmp_magnitude(&self, other: &Parts<'_>) -> Ordering {
        self.int
            .len()
            .cmp(&other.int.len())
            .then_with(|| self.int.cmp(&other.int))
            .then_with(|| self.frac.cmp(&other.frac))
    }

    fn cmp(&self, other: &Parts<'_>) -> Ordering {
        match (self.negative, other.negative) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => self.cmp_magnitude(other),
            (true, true) => other.cmp_magnitude(self),
        }
    }
}

/// Trims a `Cow` without copying a borrowed one.
fn trim_cow<'a>(c: Cow<'a, str>, trim: impl Fn(&str) -> &str) -> Cow<'a, str> {
    match c {
        Cow::Borrowed(b) => Cow::Borrowed(trim(b)),
        Cow::Owned(o) => Cow::Owned(trim(&o).to_owned()),
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts.cmp(&other.parts)
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// A point in time: seconds since the Unix epoch plus nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Instant {
    pub secs: i64,
    pub nanos: u32,
}

impl Instant {
    /// Parses W3C ISO 8601 (`2026-01-01`, `2026-01-01T10:00Z`, `2026-01-01T10:00:00.5+02:00`; no
    /// zone means UTC) or epoch seconds (`1577836800`, `1577836800.25`).
    pub(crate) fn parse(s: &str) -> Option<Instant> {
        let s = s.trim();
        if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') && !s[1..].contains('-') {
            return Self::parse_epoch(s);
        }
        Self::parse_iso(s)
    }

    fn parse_epoch(s: &str) -> Option<Instant> {
        let (negative, body) = match s.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, s),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if int.is_empty() || int.len() > 12 || frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let secs: i64 = int.parse().ok()?;
        let nanos = fraction_nanos(frac)?;
        Some(if negative {
            if nanos == 0 {
                Instant { secs: -secs, nanos: 0 }
            } else {
                Instant { secs: -secs - 1, nanos: 1_000_000_000 - nanos }
            }
        } else {
            Instant { secs, nanos }
        })
    }

    fn parse_iso(s: &str) -> Option<Instant> {
        let b = s.as_bytes();
        let num = |from: usize, len: usize| -> Option<i64> {
            let part = s.get(from..from + len)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let year = num(0, 4)?;
        let (mut month, mut day) = (1, 1);
        let mut pos = 4;
        if b.get(pos) == Some(&b'-') {
            month = num(5, 2)?;
            pos = 7;
            if b.get(pos) == Some(&b'-') {
                day = num(8, 2)?;
                pos = 10;
            }
        }
        let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0u32);
        let mut offset_secs = 0i64;
        if matches!(b.get(pos), Some(b'T') | Some(b't')) {
            hour = num(pos + 1, 2)?;
            if b.get(pos + 3) != Some(&b':') {
                return None;
            }
            minute = num(pos + 4, 2)?;
            pos += 6;
            if b.get(pos) == Some(&b':') {
                second = num(pos + 1, 2)?;
                pos += 3;
                if b.get(pos) == Some(&b'.') {
                    let start = pos + 1;
                    let mut end = start;
                    while b.get(end).is_some_and(u8::is_ascii_digit) {
                        end += 1;
                    }
                    let frac = s.get(start..end)?;
                    if frac.is_empty() {
                        return None;
                    }
                    nanos = fraction_nanos(frac.get(..9).unwrap_or(frac))?;
                    pos = end;
                }
            }
            match b.get(pos) {
                None => {}
                Some(b'Z') | Some(b'z') => pos += 1,
                Some(sign @ (b'+' | b'-')) => {
                    let oh = num(pos + 1, 2)?;
                    if b.get(pos + 3) != Some(&b':') {
                        return None;
                    }
                    let om = num(pos + 4, 2)?;
                    if oh > 23 || om > 59 {
                        return None;
                    }
                    offset_secs = (oh * 3600 + om * 60) * if *sign == b'+' { 1 } else { -1 };
                    pos += 6;
                }
                _ => return None,
            }
        }
        if pos != b.len() {
            return None;
        }
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let days = days_from_civil(year, month, day);
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
        Some(Instant { secs, nanos })
    }

    /// Formats as `YYYY-MM-DDThh:mm:ssZ`.
    pub(crate) fn to_iso(self) -> String {
        let days = self.secs.div_euclid(86_400);
        let rem = self.secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
    }

    /// The current time.
    pub(crate) fn now() -> Instant {
        let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        Instant { secs: i64::try_from(d.as_secs()).unwrap_or(i64::MAX), nanos: d.subsec_nanos() }
    }
}

/// Nanoseconds of a decimal fraction's digits (at most 9): `"5"` → 500,000,000.
fn fraction_nanos(digits: &str) -> Option<u32> {
    if digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n: u32 = 0;
    for (i, b) in digits.bytes().chain(std::iter::repeat(b'0')).take(9).enumerate() {
        let _ = i;
        n = n * 10 + u32::from(b - b'0');
    }
    Some(n)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// An IPv4 or IPv6 network (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cidr {
    V4 { net: u32, prefix: u8 },
    V6 { net: u128, prefix: u8 },
}

impl Cidr {
    pub(crate) fn parse(s: &str) -> Option<Cidr> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (a, Some(p.parse::<u8>().ok()?))
            }
            None => (s, None),
        };
        match addr.parse::<IpAddr>().ok()? {
            IpAddr::V4(a) => {
                let prefix = prefix.unwrap_or(32);
                (prefix <= 32).then(|| Cidr::V4 { net: u32::from(a) & mask32(prefix), prefix })
            }
            IpAddr::V6(a) => {
                let prefix = prefix.unwrap_or(128);
                (prefix <= 128).then(|| Cidr::V6 { net: u128::from(a) & mask128(prefix), prefix })
            }
        }
    }

    pub(crate) fn contains(&self, ip: IpAddr) -> bool {
        match (self, ip) {
            (Cidr::V4 { net, prefix }, IpAddr::V4(a)) => u32::from(a) & mask32(*prefix) == *net,
            (Cidr::V6 { net, prefix }, IpAddr::V6(a)) => u128::from(a) & mask128(*prefix) == *net,
            _ => false,
        }
    }
}

fn mask32(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix))
    }
}

fn mask128(prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(prefix))
    }
}

/// A request IP address: a bare address, or an address with a prefix (its address is used).
pub(crate) fn parse_request_ip(s: &str) -> Option<IpAddr> {
    let s = s.trim();
    let addr = s.bytes().position(|b| b == b'/').and_then(|i| s.get(..i)).unwrap_or(s);
    addr.parse().ok()
}

/// Decodes standard base64 (with or without padding).
pub(crate) fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let s = s.trim();
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(s))
        .ok()
}

/// `true`/`false` in any case.
pub(crate) fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// The outcome of one condition entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CondResult {
    True,
    False,
    /// A policy variable could not be resolved under a negated operator: the statement is dropped.
    Invalid,
}

impl From<bool> for CondResult {
    fn from(b: bool) -> Self {
        if b {
            CondResult::True
        } else {
            CondResult::False
        }
    }
}

/// A policy value with its variables substituted for this request.
enum Resolved<'p> {
    Toks(Cow<'p, [Tok]>),
    Other(&'p CondValue),
    /// A text value with variables, built for each request value it is compared with (so that at
    /// most one is built at a time) unless it would be too long to match that value: `bytes`,
    /// its literal bytes once substituted; `arn_fields`, whether it then has the five colons of
    /// an ARN pattern.
    Vars {
        template: &'p Template,
        bytes: usize,
        arn_fields: bool,
    },
    /// A text value whose substituted variables make it longer than the request value it is
    /// compared with could match (see [`evaluate`]): never built.
    TooLong {
        arn_fields: bool,
    },
}

/// Evaluates one condition entry against the request's condition keys. Allocates nothing unless
/// a policy variable is substituted, a condition lists more than eight values, or a request
/// number carries an exponent (or the operator is `BinaryEquals`).
pub(crate) fn evaluate(cond: &Condition, ctx: &impl Lookup) -> CondResult {
    let kind = cond.op.kind;
    let present = ctx.values(&cond.key_lc);
    if kind == OpKind::Null {
        let absent = present.is_none();
        return cond.values.iter().any(|v| matches!(v, CondValue::Null(want) if *want == absent)).into();
    }
    let negated = kind.negated();
    let mut resolved: SmallVec<[Resolved<'_>; 8]> = SmallVec::new();
    for v in &cond.values {
        match v {
            CondValue::Text(t) if t.has_variables() => match t.resolved_text_bytes(|k| ctx.single_text(k)) {
                Some(bytes) => {
                    let arn_fields =
                        kind.family() == Family::Arn && t.resolved_colons_at_least(|k| ctx.single_text(k), 5);
                    resolved.push(Resolved::Vars { template: t, bytes, arn_fields });
                }
                None if negated => return CondResult::Invalid,
                None => {}
            },
            CondValue::Text(t) => match t.resolve(|k| ctx.single_text(k)) {
                Some(toks) => resolved.push(Resolved::Toks(toks)),
                None if negated => return CondResult::Invalid,
                None => {}
            },
            other => resolved.push(Resolved::Other(other)),
        }
    }
    let satisfies = |value: Val<'_>| -> bool {
        let mut any = false;
        // An IP operator reads the request value once, not once per policy value.
        let ip = if kind.family() == Family::Ip { parse_request_ip(value.text()) } else { None };
        for p in &resolved {
            let built;
            let p = match p {
                // A value resolving to more literal bytes than this matches nothing in `value`: a
                // character is at most 4 bytes and case folding at most triples a text's
                // characters. It is then not built (a policy can repeat a variable holding a long
                // request value, in many values).
                Resolved::Vars { bytes, arn_fields, .. }
                    if *bytes > value.text().len().saturating_mul(12).saturating_add(64) =>
                {
                    built = Resolved::TooLong { arn_fields: *arn_fields };
                    &built
                }
                // String operators compare borrowed parts: nothing is built.
                Resolved::Vars { template, .. } if kind.family() == Family::String => {
                    let mut parts = SmallVec::new();
                    if !template.resolve_parts(|k| ctx.single_text(k), &mut parts) {
                        continue; // resolvable above; the context has not changed
                    }
                    let text = value.text();
                    let positive = match kind {
                        OpKind::StringLike | OpKind::StringNotLike => match_parts(&parts, text),
                        OpKind::StringEqualsIgnoreCase | OpKind::StringNotEqualsIgnoreCase => part_chars(&parts)
                            .flat_map(char::to_lowercase)
                            .eq(text.chars().flat_map(char::to_lowercase)),
                        _ => parts_equal(&parts, text),
                    };
                    any |= positive;
                    continue;
                }
                Resolved::Vars { template, .. } => match template.resolve(|k| ctx.single_text(k)) {
                    Some(toks) => {
                        built = Resolved::Toks(toks);
                        &built
                    }
                    None => continue, // resolvable above; the context has not changed
                },
                other => other,
            };
            match base_match(kind, p, value, ip) {
                None => return false,
                Some(true) => any = true,
                Some(false) => {}
            }
        }
        any != negated
    };
    let result = match (present, cond.op.qualifier) {
        (None, Qualifier::ForAllValues) => true,
        (None, _) => cond.op.if_exists || (cond.op.qualifier == Qualifier::None && negated),
        (Some(values), Qualifier::None) => match values.len() {
            1 => values.get(0).is_some_and(satisfies),
            _ => negated,
        },
        (Some(values), Qualifier::ForAllValues) => values.iter().all(satisfies),
        (Some(values), Qualifier::ForAnyValue) => values.iter().any(satisfies),
    };
    result.into()
}

/// The positive comparison of one policy value with one request value; `None` when the request
/// value cannot be read for the operator's family. `ip`: the request value read as an address
/// (`parse_request_ip`), for the IP operators.
fn base_match(kind: OpKind, policy: &Resolved<'_>, value: Val<'_>, ip: Option<IpAddr>) -> Option<bool> {
    use OpKind::*;
    match (kind.family(), policy) {
        (Family::String, Resolved::Toks(toks)) => {
            let text = value.text();
            Some(match kind {
                StringLike | StringNotLike => glob_match(toks, text),
                StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
                    token_chars(toks).flat_map(char::to_lowercase).eq(text.chars().flat_map(char::to_lowercase))
                }
                _ => token_chars(toks).eq(text.chars()),
            })
        }
        (Family::Bool, Resolved::Toks(toks)) => {
            let want = bool_tokens(toks);
            let have = match value {
                Val::Bool(b) => Some(b),
                Val::Str(s) => parse_bool(s),
                Val::Num(_) => None,
            }?;
            Some(want == Some(have))
        }
        (Family::Arn, Resolved::Toks(toks)) => {
            let mut fields = [""; 6];
            let mut n = 0;
            for (slot, f) in fields.iter_mut().zip(value.text().splitn(6, ':')) {
                *slot = f;
                n += 1;
            }
            if n < 6 {
                return None;
            }
            let pfields = split_arn_tokens(toks)?;
            Some(pfields.iter().zip(&fields).all(|(p, f)| glob_match(p, f)))
        }
        // As the arms above decide a value too long to match: readable request values compare
        // false, unreadable ones (and an ARN pattern without six fields) give `None`.
        (Family::String, Resolved::TooLong { .. }) => Some(false),
        (Family::Bool, Resolved::TooLong { .. }) => match value {
            Val::Bool(_) => Some(false),
            Val::Str(s) => parse_bool(s).map(|_| false),
            Val::Num(_) => None,
        },
        (Family::Arn, Resolved::TooLong { arn_fields }) => {
            (value.text().splitn(6, ':').count() == 6 && *arn_fields).then_some(false)
        }
        (Family::Numeric, Resolved::Other(CondValue::Number(p))) => {
            let ord = p.cmp_request(value.text())?;
            Some(compare(kind, ord))
        }
        (Family::Date, Resolved::Other(CondValue::Date(p))) => {
            let v = Instant::parse(value.text())?;
            Some(compare(kind, v.cmp(p)))
        }
        (Family::Binary, Resolved::Other(CondValue::Binary(p))) => {
            let v = decode_base64(value.text())?;
            Some(&v == p)
        }
        (Family::Ip, Resolved::Other(CondValue::Cidr(c))) => Some(c.contains(ip?)),
        _ => Some(false),
    }
}

/// The characters of resolved parts (wildcards read as their characters).
fn part_chars<'a>(parts: &'a [Part<'a>]) -> impl Iterator<Item = char> + 'a {
    parts.iter().flat_map(|p| {
        let (text, wildcard) = match p {
            Part::Lit(s) => (*s, None),
            Part::Star => ("", Some('*')),
            Part::One => ("", Some('?')),
        };
        text.chars().chain(wildcard)
    })
}

/// Whether resolved parts spell exactly `text` (wildcards as their characters).
fn parts_equal(parts: &[Part<'_>], text: &str) -> bool {
    let mut rest = text;
    for p in parts {
        let next = match p {
            Part::Lit(s) => rest.strip_prefix(s),
            Part::Star => rest.strip_prefix('*'),
            Part::One => rest.strip_prefix('?'),
        };
        match next {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

/// `true`/`false` (any case) spelled by literal tokens.
fn bool_tokens(toks: &[Tok]) -> Option<bool> {
    let is = |word: &str| token_chars(toks).map(|c| c.to_ascii_lowercase()).eq(word.chars());
    if is("true") {
        Some(true)
    } else if is("false") {
        Some(false)
    } else {
        None
    }
}

/// Applies a numeric or date operator to `request.cmp(policy)`.
fn compare(kind: OpKind, ord: Ordering) -> bool {
    use OpKind::*;
    match kind {
        NumericEquals | NumericNotEquals | DateEquals | DateNotEquals => ord == Ordering::Equal,
        NumericLessThan | DateLessThan => ord == Ordering::Less,
        NumericLessThanEquals | DateLessThanEquals => ord != Ordering::Greater,
        NumericGreaterThan | DateGreaterThan => ord == Ordering::Greater,
        NumericGreaterThanEquals | DateGreaterThanEquals => ord != Ordering::Less,
        _ => false,
    }
}

/// Splits pattern tokens into the six ARN fields at the first five literal colons; `None` when
/// the pattern has fewer than six fields (it then matches no ARN).
fn split_arn_tokens(toks: &[Tok]) -> Option<[&[Tok]; 6]> {
    let mut fields: [&[Tok]; 6] = [&[]; 6];
    let mut start = 0;
    let mut n = 0;
    for (i, t) in toks.iter().enumerate() {
        if n == 5 {
            break;
        }
        if *t == Tok::Lit(':') {
            fields[n] = &toks[start..i];
            n += 1;
            start = i + 1;
        }
    }
    if n < 5 {
        return None;
    }
    fields[5] = &toks[start..];
    Some(fields)
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod decimal_tests {
    use super::Decimal;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn decimals_compare_exactly() {
        assert_eq!(d("10"), d("10.0"));
        assert_eq!(d("-0"), d("0.000"));
        assert!(d("12345678901234567") < d("12345678901234568"));
        assert!(d("-2") < d("-1.5"));
        assert!(d(".5") < d("1"));
        assert_eq!(d("1e2"), d("100"));
        assert_eq!(d("1.5E-1"), d("0.15"));
        assert_eq!(d("25e-3"), d("0.025"));
        assert!(Decimal::parse("abc").is_none());
        assert!(Decimal::parse("1e").is_none());
        assert!(Decimal::parse("").is_none());
        assert!(Decimal::parse("1e9999").is_none());
    }
}

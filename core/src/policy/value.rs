//! Condition values: the typed forms a condition's policy values are parsed into at load time
//! (exact decimals, instants; CIDR blocks are [`crate::net::Cidr`]) and the request-side parsers
//! that match them.
//!
//! They sit below both [`super::ast`], which stores them in a parsed policy, and [`super::cond`],
//! which compares request values against them, so that neither of those two imports the other
//! both ways.

use crate::clock::{civil_from_days, days_from_civil, days_in_month};
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

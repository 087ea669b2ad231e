//! Condition operators: the per-request comparison of a condition against the request context
//! (the value types parsed at load time are in [`super::value`]).
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
use crate::policy::glob::{glob_match, match_parts, Part, Template};
use crate::policy::value::{decode_base64, parse_bool, parse_request_ip, Instant};
use smallvec::SmallVec;
use std::cmp::Ordering;
use std::net::IpAddr;

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

/// A policy value, ready to compare with request values.
enum Resolved<'p> {
    /// A text value without variables: its parts are read from the template when compared.
    Fixed(&'p Template),
    Other(&'p CondValue),
    /// A text value with variables, substituted (borrowed) for each request value it is compared
    /// with unless it would be too long to match that value: `bytes`, its literal bytes once
    /// substituted; `arn_fields`, whether it then has the five colons of an ARN pattern.
    Vars {
        template: &'p Template,
        bytes: usize,
        arn_fields: bool,
    },
}

/// Evaluates one condition entry against the request's condition keys. Allocates nothing unless
/// a condition lists more than eight values, a value has more than sixteen parts (eight once
/// its variables are substituted), or a request number carries an exponent (or the operator is
/// `BinaryEquals`).
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
            CondValue::Text(t) => resolved.push(Resolved::Fixed(t)),
            other => resolved.push(Resolved::Other(other)),
        }
    }
    let satisfies = |value: Val<'_>| -> bool {
        let mut any = false;
        // An IP operator reads the request value once, not once per policy value.
        let ip = if kind.family() == Family::Ip { parse_request_ip(value.text()) } else { None };
        for p in &resolved {
            let m = match p {
                // A value resolving to more literal bytes than this matches nothing in `value`: a
                // character is at most 4 bytes and case folding at most triples a text's
                // characters. It is then not compared (a policy can repeat a variable holding a
                // long request value, in many values).
                Resolved::Vars { bytes, arn_fields, .. }
                    if *bytes > value.text().len().saturating_mul(12).saturating_add(64) =>
                {
                    too_long(kind, *arn_fields, value)
                }
                Resolved::Vars { template, .. } => {
                    let mut parts = SmallVec::new();
                    if !template.resolve_parts(|k| ctx.single_text(k), &mut parts) {
                        continue; // resolvable above; the context has not changed
                    }
                    text_match(kind, &parts, value)
                }
                Resolved::Fixed(t) if matches!(kind, OpKind::StringLike | OpKind::StringNotLike) => {
                    Some(glob_match(t.tokens(), value.text()))
                }
                Resolved::Fixed(t) => match t.literal_text() {
                    Some(text) => text_match(kind, &[Part::Lit(text)], value),
                    None => text_match(kind, &t.tokens().parts(), value),
                },
                Resolved::Other(v) => other_match(kind, v, value, ip),
            };
            match m {
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

/// The positive comparison of a text policy value (its parts, variables substituted) with one
/// request value; `None` when the request value cannot be read for the operator's family.
fn text_match(kind: OpKind, parts: &[Part<'_>], value: Val<'_>) -> Option<bool> {
    use OpKind::*;
    match kind.family() {
        Family::String => {
            let text = value.text();
            Some(match kind {
                StringLike | StringNotLike => match_parts(parts, text),
                StringEqualsIgnoreCase | StringNotEqualsIgnoreCase => {
                    part_chars(parts).flat_map(char::to_lowercase).eq(text.chars().flat_map(char::to_lowercase))
                }
                _ => parts_equal(parts, text),
            })
        }
        Family::Bool => {
            let want = bool_parts(parts);
            let have = match value {
                Val::Bool(b) => Some(b),
                Val::Str(s) => parse_bool(s),
                Val::Num(_) => None,
            }?;
            Some(want == Some(have))
        }
        Family::Arn => {
            let mut fields = [""; 6];
            let mut n = 0;
            for (slot, f) in fields.iter_mut().zip(value.text().splitn(6, ':')) {
                *slot = f;
                n += 1;
            }
            if n < 6 {
                return None;
            }
            let pfields = split_arn_parts(parts)?;
            Some(pfields.iter().zip(&fields).all(|(p, f)| match_parts(p, f)))
        }
        _ => Some(false),
    }
}

/// As [`text_match`] for a value too long to match: readable request values compare false,
/// unreadable ones (and an ARN pattern without six fields) give `None`.
fn too_long(kind: OpKind, arn_fields: bool, value: Val<'_>) -> Option<bool> {
    match kind.family() {
        Family::Bool => match value {
            Val::Bool(_) => Some(false),
            Val::Str(s) => parse_bool(s).map(|_| false),
            Val::Num(_) => None,
        },
        Family::Arn => (value.text().splitn(6, ':').count() == 6 && arn_fields).then_some(false),
        _ => Some(false),
    }
}

/// The positive comparison of a number, date, binary or CIDR policy value with one request
/// value; `None` when the request value cannot be read for the operator's family. `ip`: the
/// request value read as an address (`parse_request_ip`), for the IP operators.
fn other_match(kind: OpKind, policy: &CondValue, value: Val<'_>, ip: Option<IpAddr>) -> Option<bool> {
    match (kind.family(), policy) {
        (Family::Numeric, CondValue::Number(p)) => {
            let ord = p.cmp_request(value.text())?;
            Some(compare(kind, ord))
        }
        (Family::Date, CondValue::Date(p)) => {
            let v = Instant::parse(value.text())?;
            Some(compare(kind, v.cmp(p)))
        }
        (Family::Binary, CondValue::Binary(p)) => {
            let v = decode_base64(value.text())?;
            Some(&v == p)
        }
        (Family::Ip, CondValue::Cidr(c)) => Some(c.contains(ip?)),
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

/// `true`/`false` (any case) spelled by the parts.
fn bool_parts(parts: &[Part<'_>]) -> Option<bool> {
    let is = |word: &str| part_chars(parts).map(|c| c.to_ascii_lowercase()).eq(word.chars());
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

/// Splits pattern parts into the six ARN fields at the first five literal colons; `None` when
/// the pattern has fewer than six fields (it then matches no ARN). Borrows the text: no
/// allocation for fields of up to eight parts.
fn split_arn_parts<'a>(parts: &[Part<'a>]) -> Option<[SmallVec<[Part<'a>; 8]>; 6]> {
    let mut fields: [SmallVec<[Part<'a>; 8]>; 6] = Default::default();
    let mut n = 0;
    for p in parts {
        let Part::Lit(mut text) = *p else {
            fields.get_mut(n)?.push(*p);
            continue;
        };
        while n < 5 {
            let Some((field, rest)) = text.split_once(':') else { break };
            if !field.is_empty() {
                fields.get_mut(n)?.push(Part::Lit(field));
            }
            n += 1;
            text = rest;
        }
        if !text.is_empty() {
            fields.get_mut(n)?.push(Part::Lit(text));
        }
    }
    (n == 5).then_some(fields)
}

#[cfg(test)]
mod tests;

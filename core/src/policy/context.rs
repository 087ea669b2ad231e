//! The request context: condition keys and their values.
//!
//! Keys are case-insensitive (`AWS:SourceIP` ≡ `aws:SourceIp`), so they are stored lowercased.
//! A key holds one value or several (multivalued keys such as `aws:TagKeys`); values keep their
//! JSON type because `Bool` and the numeric operators read them differently.

use crate::policy::json::{pointer_token, Json};
use std::collections::BTreeMap;

/// One context value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Str(String),
    /// A JSON number, kept as its text.
    Num(String),
    Bool(bool),
}

impl Scalar {
    /// The value as text, the way string operators see it (`true`, `10`).
    pub(crate) fn text(&self) -> &str {
        self.val().text()
    }

    /// A borrowed view of the value.
    pub(crate) fn val(&self) -> Val<'_> {
        match self {
            Scalar::Str(s) => Val::Str(s),
            Scalar::Num(n) => Val::Num(n),
            Scalar::Bool(b) => Val::Bool(*b),
        }
    }
}

/// A borrowed context value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Val<'a> {
    Str(&'a str),
    Num(&'a str),
    Bool(bool),
}

impl<'a> Val<'a> {
    /// The value as text (`true`, `10`).
    pub(crate) fn text(self) -> &'a str {
        match self {
            Val::Str(s) | Val::Num(s) => s,
            Val::Bool(true) => "true",
            Val::Bool(false) => "false",
        }
    }
}

/// The values of one key: a stored list, or one value computed for this request.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Values<'a> {
    Many(&'a [Scalar]),
    One(Val<'a>),
}

impl<'a> Values<'a> {
    pub(crate) fn len(self) -> usize {
        match self {
            Values::Many(v) => v.len(),
            Values::One(_) => 1,
        }
    }

    pub(crate) fn get(self, i: usize) -> Option<Val<'a>> {
        match self {
            Values::Many(v) => v.get(i).map(Scalar::val),
            Values::One(v) => (i == 0).then_some(v),
        }
    }

    pub(crate) fn iter(self) -> impl Iterator<Item = Val<'a>> {
        (0..self.len()).filter_map(move |i| self.get(i))
    }
}

/// Where conditions and policy variables read condition keys: a [`Context`], or a layered view
/// that the compiled evaluator builds without copying the request's context.
pub(crate) trait Lookup {
    /// The values of `key_lc` (lowercased); `None` when absent or empty.
    fn values(&self, key_lc: &str) -> Option<Values<'_>>;

    /// The single value of a key as text, what a policy variable substitutes; `None` when the
    /// key is absent or carries several values.
    fn single_text(&self, key_lc: &str) -> Option<&str> {
        let v = self.values(key_lc)?;
        if v.len() == 1 {
            v.get(0).map(Val::text)
        } else {
            None
        }
    }

    fn contains(&self, key_lc: &str) -> bool {
        self.values(key_lc).is_some()
    }
}

impl Lookup for Context {
    fn values(&self, key_lc: &str) -> Option<Values<'_>> {
        self.get(key_lc).map(Values::Many)
    }
}

/// Condition keys of one request, lowercased, each with one or more values.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Context {
    entries: BTreeMap<String, (String, Vec<Scalar>)>,
}

impl Context {
    /// The values of `key_lc` (already lowercased); `None` when absent or empty.
    pub(crate) fn get(&self, key_lc: &str) -> Option<&[Scalar]> {
        self.entries.get(key_lc).map(|(_, v)| v.as_slice()).filter(|v| !v.is_empty())
    }

    /// Sets a key (replacing any value under the same key in any case).
    pub(crate) fn insert(&mut self, key: &str, values: Vec<Scalar>) {
        self.entries.insert(key.to_ascii_lowercase(), (key.to_owned(), values));
    }

    /// Removes a key (in any case).
    pub(crate) fn remove(&mut self, key: &str) {
        self.entries.remove(&key.to_ascii_lowercase());
    }

    /// Sets a key only when it is not present yet.
    pub(crate) fn insert_default(&mut self, key: &str, values: Vec<Scalar>) {
        let lc = key.to_ascii_lowercase();
        self.entries.entry(lc).or_insert_with(|| (key.to_owned(), values));
    }

    /// Lowercased keys.
    pub(crate) fn keys_lc(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// Keys as first written, with their values.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &[Scalar])> {
        self.entries.values().map(|(k, v)| (k.as_str(), v.as_slice()))
    }
}

impl Context {
    /// Reads a request's `context` object: string, number and boolean values, or arrays of them,
    /// within the limits of [`crate::decide::request`] (keys, values per key, characters).
    /// Errors name the offending key as a JSON pointer relative to `base`.
    pub(crate) fn from_json(value: &Json, base: &str) -> Result<Context, crate::RequestError> {
        use crate::decide::request::{MAX_CONTEXT_CHARS, MAX_CONTEXT_KEYS, MAX_CONTEXT_VALUES};
        use crate::RequestError;
        let Json::Object(pairs) = value else {
            return Err(RequestError::new(base, "expected an object of condition keys"));
        };
        if pairs.len() > MAX_CONTEXT_KEYS {
            return Err(RequestError::new(base, format!("more than {MAX_CONTEXT_KEYS} condition keys"))
                .with_kind(crate::RequestErrorKind::TooLarge));
        }
        let mut ctx = Context::default();
        let mut chars = 0usize;
        // The pointer is only formatted when there is an error to report.
        let ptr = |key: &str| format!("{base}/{}", pointer_token(key));
        for (key, v) in pairs {
            if key.is_empty() {
                return Err(RequestError::new(ptr(key), "empty context key"));
            }
            let key_lc = key.to_ascii_lowercase();
            if ctx.entries.contains_key(&key_lc) {
                return Err(RequestError::new(
                    ptr(key),
                    format!("context key {key:?} is given twice (keys are case-insensitive)"),
                ));
            }
            chars += key.chars().count();
            let values = match v {
                Json::Array(items) if items.len() > MAX_CONTEXT_VALUES => {
                    return Err(RequestError::new(ptr(key), format!("more than {MAX_CONTEXT_VALUES} values"))
                        .with_kind(crate::RequestErrorKind::TooLarge));
                }
                Json::Array(items) => items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        scalar(item).ok_or_else(|| {
                            RequestError::new(format!("{}/{i}", ptr(key)), "expected a string, number or boolean")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?,
                other => vec![scalar(other).ok_or_else(|| {
                    RequestError::new(ptr(key), "expected a string, number, boolean or an array of them")
                })?],
            };
            chars += values.iter().map(|v| v.text().chars().count()).sum::<usize>();
            if chars > MAX_CONTEXT_CHARS {
                return Err(RequestError::new(
                    ptr(key),
                    format!("the context holds more than {MAX_CONTEXT_CHARS} characters of keys and values"),
                )
                .with_kind(crate::RequestErrorKind::TooLarge));
            }
            ctx.entries.insert(key_lc, (key.clone(), values));
        }
        Ok(ctx)
    }
}

fn scalar(v: &Json) -> Option<Scalar> {
    match v {
        Json::String(s) => Some(Scalar::Str(s.clone())),
        Json::Number(n) => Some(Scalar::Num(n.clone())),
        Json::Bool(b) => Some(Scalar::Bool(*b)),
        _ => None,
    }
}

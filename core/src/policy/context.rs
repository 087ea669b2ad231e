//! The request context: condition keys and their values.
//!
//! Keys are case-insensitive (`AWS:SourceIP` ≡ `aws:SourceIp`), so they are stored lowercased.
//! A key holds one value or several (multivalued keys such as `aws:TagKeys`); values keep their
//! JSON type because `Bool` and the numeric operators read them differently.

use crate::policy::json::{pointer_token, Cursor, Json};

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
    /// A context's values: their kinds and places in the context's text.
    Many {
        text: &'a str,
        items: &'a [Item],
    },
    One(Val<'a>),
}

impl<'a> Values<'a> {
    pub(crate) fn len(self) -> usize {
        match self {
            Values::Many { items, .. } => items.len(),
            Values::One(_) => 1,
        }
    }

    pub(crate) fn get(self, i: usize) -> Option<Val<'a>> {
        match self {
            Values::Many { text, items } => items.get(i).map(|item| item.val(text)),
            Values::One(v) => (i == 0).then_some(v),
        }
    }

    pub(crate) fn first(self) -> Option<Val<'a>> {
        self.get(0)
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
        self.get(key_lc)
    }
}

/// A value's type; a [`Val`] once read against the context's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Num,
    Bool(bool),
}

/// One value of a context: its type, and for text its place in the context's text.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Item {
    kind: Kind,
    at: usize,
    end: usize,
}

impl Item {
    fn val(self, text: &str) -> Val<'_> {
        let s = text.get(self.at..self.end).unwrap_or_default();
        match self.kind {
            Kind::Str => Val::Str(s),
            Kind::Num => Val::Num(s),
            Kind::Bool(b) => Val::Bool(b),
        }
    }
}

/// One key of a context: the key as written, then lowercased, back to back in the context's
/// text (ASCII lowercasing keeps the length); its values, a run of the context's items.
#[derive(Debug, Clone, Copy)]
struct Entry {
    key_at: usize,
    key_len: usize,
    items: (usize, usize),
}

impl Entry {
    fn key(self, text: &str) -> &str {
        text.get(self.key_at..self.key_at + self.key_len).unwrap_or_default()
    }

    fn key_lc(self, text: &str) -> &str {
        let at = self.key_at + self.key_len;
        text.get(at..at + self.key_len).unwrap_or_default()
    }
}

/// Condition keys of one request, lowercased, each with one or more values.
///
/// All text (keys as written, keys lowercased, values) lives in one buffer, and keys and values
/// in two flat arrays, so that [`Context::clear`] keeps every buffer: a context refilled request
/// after request ([`Context::fill_from_text`], the C ABI's per-thread request) allocates nothing
/// once its buffers have grown to the requests' sizes. Entries are sorted by lowercased key.
/// Replacing or removing a key leaves its old text unused until the next `clear`.
#[derive(Clone, Default)]
pub(crate) struct Context {
    text: String,
    entries: Vec<Entry>,
    items: Vec<Item>,
}

impl PartialEq for Context {
    /// The same keys (as written) with the same values; unused text does not count.
    fn eq(&self, other: &Context) -> bool {
        self.entries.len() == other.entries.len()
            && self.iter().zip(other.iter()).all(|((k1, v1), (k2, v2))| k1 == k2 && v1.iter().eq(v2.iter()))
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter().map(|(k, v)| (k, v.iter().collect::<Vec<_>>()))).finish()
    }
}

impl Context {
    /// The values of `key_lc` (already lowercased); `None` when absent or empty.
    pub(crate) fn get(&self, key_lc: &str) -> Option<Values<'_>> {
        let i = self.find(key_lc).ok()?;
        self.values_of(i).filter(|v| v.len() > 0)
    }

    /// Where the entry of a lowercased key is, or would go.
    fn find(&self, key_lc: &str) -> Result<usize, usize> {
        self.entries.binary_search_by(|e| e.key_lc(&self.text).cmp(key_lc))
    }

    /// Where the entry of `key`, in any case, is, or would go.
    fn find_any_case(&self, key: &str) -> Result<usize, usize> {
        if !key.bytes().any(|b| b.is_ascii_uppercase()) {
            return self.find(key);
        }
        let lc = key.bytes().map(|b| b.to_ascii_lowercase());
        self.entries.binary_search_by(|e| e.key_lc(&self.text).bytes().cmp(lc.clone()))
    }

    fn values_of(&self, i: usize) -> Option<Values<'_>> {
        let (from, to) = self.entries.get(i)?.items;
        Some(Values::Many { text: &self.text, items: self.items.get(from..to).unwrap_or_default() })
    }

    /// Empties the context, keeping its buffers.
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.entries.clear();
        self.items.clear();
    }

    /// Appends `key` and its lowercased copy to the text: the new entry's key (no items yet).
    fn push_key(&mut self, key: &str) -> Entry {
        let key_at = self.text.len();
        self.text.push_str(key);
        self.text.push_str(key);
        if let Some(lc) = self.text.get_mut(key_at + key.len()..) {
            lc.make_ascii_lowercase();
        }
        Entry { key_at, key_len: key.len(), items: (self.items.len(), self.items.len()) }
    }

    /// Appends one value to the text and the items.
    fn push_value(&mut self, value: Val<'_>) {
        let at = self.text.len();
        let kind = match value {
            Val::Str(s) => {
                self.text.push_str(s);
                Kind::Str
            }
            Val::Num(n) => {
                self.text.push_str(n);
                Kind::Num
            }
            Val::Bool(b) => Kind::Bool(b),
        };
        self.items.push(Item { kind, at, end: self.text.len() });
    }

    /// Sets a key (replacing any value under the same key in any case).
    pub(crate) fn insert(&mut self, key: &str, values: Vec<Scalar>) {
        let mut entry = self.push_key(key);
        for v in &values {
            self.push_value(v.val());
        }
        entry.items.1 = self.items.len();
        match self.find_any_case(key) {
            Ok(i) => self.entries[i] = entry,
            Err(i) => self.entries.insert(i, entry),
        }
    }

    /// Removes a key (in any case).
    pub(crate) fn remove(&mut self, key: &str) {
        if let Ok(i) = self.find_any_case(key) {
            self.entries.remove(i);
        }
    }

    /// Keeps only the keys (as written) for which `keep` is true.
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        let text = &self.text;
        self.entries.retain(|e| keep(e.key(text)));
    }

    /// Sets a key only when it is not present yet.
    pub(crate) fn insert_default(&mut self, key: &str, values: Vec<Scalar>) {
        if self.find_any_case(key).is_err() {
            self.insert(key, values);
        }
    }

    /// Lowercased keys.
    pub(crate) fn keys_lc(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.key_lc(&self.text))
    }

    /// Keys as first written, with their values, in the order of their lowercased keys.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, Values<'_>)> {
        self.entries.iter().enumerate().filter_map(|(i, e)| Some((e.key(&self.text), self.values_of(i)?)))
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
            if ctx.find_any_case(key).is_ok() {
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
            ctx.insert(key, values);
        }
        Ok(ctx)
    }

    /// Reads a context object straight from JSON text into this context, reusing its buffers:
    /// no tree, no allocation once the buffers are large enough. Accepts exactly the texts that
    /// [`crate::policy::json::Json::parse`] followed by [`Context::from_json`] accept, with the
    /// same result (`core/src/policy/context/tests.rs` checks both on generated and hostile
    /// texts); returns `false` for any other text, leaving the context in an
    /// unspecified state: the caller then reads the text with the tree reader, whose error is
    /// the one to report (its checks run in a fixed order across the whole text: syntax, then
    /// duplicate keys, then the context's rules).
    pub(crate) fn fill_from_text(&mut self, text: &str) -> bool {
        self.clear();
        self.fill(&mut Cursor::new(text)).is_some()
    }

    fn fill(&mut self, c: &mut Cursor<'_>) -> Option<()> {
        use crate::decide::request::{MAX_CONTEXT_CHARS, MAX_CONTEXT_KEYS};
        c.skip_ws();
        c.eat(b'{').then_some(())?;
        c.skip_ws();
        if c.eat(b'}') {
            return c.at_end().then_some(());
        }
        let mut chars = 0usize;
        loop {
            if self.entries.len() == MAX_CONTEXT_KEYS || c.peek() != Some(b'"') {
                return None;
            }
            let mut entry = self.read_key(c)?;
            chars += self.text.get(entry.key_at..entry.key_at + entry.key_len)?.chars().count();
            c.skip_ws();
            c.eat(b':').then_some(())?;
            c.skip_ws();
            self.read_values(c)?;
            entry.items.1 = self.items.len();
            let values = self.items.get(entry.items.0..).unwrap_or_default();
            chars += values.iter().map(|i| value_chars(&self.text, *i)).sum::<usize>();
            if chars > MAX_CONTEXT_CHARS {
                return None;
            }
            // Keys are case-insensitive: one given twice, in any case, is refused.
            let at = self.find(entry.key_lc(&self.text)).err()?;
            self.entries.insert(at, entry);
            c.skip_ws();
            if c.eat(b'}') {
                return c.at_end().then_some(());
            }
            c.eat(b',').then_some(())?;
            c.skip_ws();
        }
    }

    /// A key (the cursor on its quote): decoded into the text, then its lowercased copy.
    fn read_key(&mut self, c: &mut Cursor<'_>) -> Option<Entry> {
        let key_at = self.text.len();
        c.string_into(&mut self.text).ok()?;
        let key_len = self.text.len() - key_at;
        if key_len == 0 {
            return None;
        }
        self.text.extend_from_within(key_at..key_at + key_len);
        self.text.get_mut(key_at + key_len..)?.make_ascii_lowercase();
        Some(Entry { key_at, key_len, items: (self.items.len(), self.items.len()) })
    }

    /// A scalar, or an array of at most [`crate::decide::request::MAX_CONTEXT_VALUES`] of them.
    fn read_values(&mut self, c: &mut Cursor<'_>) -> Option<()> {
        use crate::decide::request::MAX_CONTEXT_VALUES;
        if !c.eat(b'[') {
            return self.read_scalar(c);
        }
        c.skip_ws();
        if c.eat(b']') {
            return Some(());
        }
        let first = self.items.len();
        loop {
            if self.items.len() - first == MAX_CONTEXT_VALUES {
                return None;
            }
            self.read_scalar(c)?;
            c.skip_ws();
            if c.eat(b']') {
                return Some(());
            }
            c.eat(b',').then_some(())?;
            c.skip_ws();
        }
    }

    /// A string, number or boolean (the cursor on its first byte).
    fn read_scalar(&mut self, c: &mut Cursor<'_>) -> Option<()> {
        let at = self.text.len();
        let kind = match c.peek()? {
            b'"' => {
                c.string_into(&mut self.text).ok()?;
                Kind::Str
            }
            b'-' | b'0'..=b'9' => {
                self.text.push_str(c.number().ok()?);
                Kind::Num
            }
            b't' => Kind::Bool(c.eat_word("true").then_some(true)?),
            b'f' => Kind::Bool(c.eat_word("false").then_some(false)?),
            _ => return None,
        };
        self.items.push(Item { kind, at, end: self.text.len() });
        Some(())
    }
}

/// The characters a value counts toward the context's limit (a boolean: `true` or `false`).
fn value_chars(text: &str, item: Item) -> usize {
    match item.kind {
        Kind::Bool(true) => 4,
        Kind::Bool(false) => 5,
        Kind::Str | Kind::Num => text.get(item.at..item.end).map_or(0, |s| s.chars().count()),
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

#[cfg(test)]
mod tests;

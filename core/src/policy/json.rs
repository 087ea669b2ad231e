//! keycard's one JSON reader, for every input: stores, policies, requests, batches, contexts,
//! STS parameters and gateway routes.
//!
//! `serde_json::Value` silently keeps the last of two equal keys and rewrites numbers; IAM rejects
//! the first and compares the second by literal text. This reader keeps every `(key, value)` pair
//! in document order (so a caller can report each duplicate with its JSON pointer, see
//! [`Json::first_duplicate`] and [`repeated_keys`]) and keeps numbers as their literal text, without
//! asking serde_json for its `arbitrary_precision` feature (which, through Cargo's feature
//! unification, would change number handling in every program that embeds keycard).
//!
//! It is strict RFC 8259 JSON, runs in time linear in the text, and refuses nesting deeper than
//! [`MAX_DEPTH`] so that no document can exhaust the stack.

use std::collections::HashSet;
use std::fmt;
use std::ops::Range;

/// The deepest nesting of arrays and objects accepted. IAM documents and requests nest a handful
/// of levels; serde_json's own limit is 128.
pub(crate) const MAX_DEPTH: usize = 64;

/// A parsed JSON value. Objects keep their pairs in order, duplicates included.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    /// A number, kept as its literal text (`10`, `10.0`, `1e2`).
    Number(String),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

/// Malformed JSON text: what is wrong and where (1-based line and column, in characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonError {
    message: String,
    line: usize,
    column: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at line {} column {}", self.message, self.line, self.column)
    }
}

impl std::error::Error for JsonError {}

impl Json {
    /// Parses JSON text.
    ///
    /// # Errors
    /// A [`JsonError`] for text that is not one JSON value, or nests deeper than [`MAX_DEPTH`].
    pub(crate) fn parse(text: &str) -> Result<Json, JsonError> {
        let mut r = Reader { text, bytes: text.as_bytes(), pos: 0, build: true };
        r.skip_ws();
        let value = r.value(0)?;
        r.end()?;
        Ok(value)
    }

    /// Parses a document whose top-level object holds large arrays (a store file's entity
    /// lists) without building those arrays: under each key of `lists` (its first occurrence),
    /// an array is checked in full but kept as the byte ranges of its items, which
    /// [`Json::parse_item`] then builds one at a time. The returned tree holds an empty array
    /// there. The memory a load needs is then the text plus one item's tree, not the whole
    /// document's tree.
    ///
    /// # Errors
    /// As [`Json::parse`], for the whole text.
    pub(crate) fn parse_deferred(text: &str, lists: &[&str]) -> Result<Deferred, JsonError> {
        let mut r = Reader { text, bytes: text.as_bytes(), pos: 0, build: true };
        r.skip_ws();
        if r.peek() != Some(b'{') {
            return Json::parse(text).map(|doc| Deferred { doc, items: Vec::new() });
        }
        let deferred = r.top_object(lists)?;
        r.end()?;
        Ok(deferred)
    }

    /// Builds one item [`Json::parse_deferred`] left as text.
    ///
    /// # Errors
    /// When `range` is not one JSON value of `text` (never for a range `parse_deferred` gave).
    pub(crate) fn parse_item(text: &str, range: Range<usize>) -> Result<Json, JsonError> {
        let mut r =
            Reader { text, bytes: text.get(..range.end).unwrap_or_default().as_bytes(), pos: range.start, build: true };
        // The item sits in an array in the top-level object: two levels of nesting.
        let value = r.value(2)?;
        r.end()?;
        Ok(value)
    }

    /// Converts a `serde_json::Value` (which has already lost duplicates and numbers' text) into
    /// a tree. For callers that hold a `Value` already; text goes through [`Json::parse`].
    pub(crate) fn from_value(value: &serde_json::Value) -> Json {
        match value {
            serde_json::Value::Null => Json::Null,
            serde_json::Value::Bool(b) => Json::Bool(*b),
            serde_json::Value::Number(n) => Json::Number(n.to_string()),
            serde_json::Value::String(s) => Json::String(s.clone()),
            serde_json::Value::Array(items) => Json::Array(items.iter().map(Json::from_value).collect()),
            serde_json::Value::Object(map) => {
                Json::Object(map.iter().map(|(k, v)| (k.clone(), Json::from_value(v))).collect())
            }
        }
    }

    /// A short name of the value's JSON type, for "expected X, found Y" messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::String(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    /// The first value under `key` when this is an object.
    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The JSON pointer (under `base`) of the first key, in document order, that repeats an
    /// earlier key of the same object, anywhere in the tree. Linear in the size of the tree.
    pub(crate) fn first_duplicate(&self, base: &str) -> Option<String> {
        let mut path = base.to_owned();
        first_duplicate(self, &mut path).then_some(path)
    }
}

fn first_duplicate(node: &Json, path: &mut String) -> bool {
    let len = path.len();
    match node {
        Json::Object(pairs) => {
            let repeated = repeated_keys(pairs);
            for (i, (k, v)) in pairs.iter().enumerate() {
                path.push('/');
                path.push_str(&pointer_token(k));
                if repeated.first() == Some(&i) || first_duplicate(v, path) {
                    return true;
                }
                path.truncate(len);
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push('/');
                path.push_str(&i.to_string());
                if first_duplicate(v, path) {
                    return true;
                }
                path.truncate(len);
            }
        }
        _ => {}
    }
    false
}

/// The positions of the pairs whose key repeats an earlier key of the same object, in order.
/// A hash set (SipHash with a random key, so crafted keys cannot force collisions) keeps it
/// linear however many keys an object has.
pub(crate) fn repeated_keys(pairs: &[(String, Json)]) -> Vec<usize> {
    const SMALL: usize = 16;
    if pairs.len() <= SMALL {
        return (0..pairs.len()).filter(|&i| pairs[..i].iter().any(|(k, _)| *k == pairs[i].0)).collect();
    }
    let mut seen = HashSet::with_capacity(pairs.len());
    pairs.iter().enumerate().filter(|(_, (k, _))| !seen.insert(k.as_str())).map(|(i, _)| i).collect()
}

/// Escapes one JSON pointer reference token (RFC 6901: `~` → `~0`, `/` → `~1`).
pub(crate) fn pointer_token(token: &str) -> std::borrow::Cow<'_, str> {
    if token.contains(['~', '/']) {
        std::borrow::Cow::Owned(token.replace('~', "~0").replace('/', "~1"))
    } else {
        std::borrow::Cow::Borrowed(token)
    }
}

/// A document read by [`Json::parse_deferred`].
#[derive(Debug)]
pub(crate) struct Deferred {
    /// The document, with an empty array under each deferred key.
    pub doc: Json,
    /// Each deferred key with the byte ranges of its array's items, in order.
    pub items: Vec<(String, Vec<Range<usize>>)>,
}

impl Deferred {
    /// The item ranges deferred under `key`, if its value was an array.
    pub(crate) fn items(&self, key: &str) -> Option<&[Range<usize>]> {
        self.items.iter().find(|(k, _)| k == key).map(|(_, r)| r.as_slice())
    }
}

/// A cursor for a reader that takes values straight from the text instead of from a tree (the
/// request context, `core/src/policy/context.rs`): the grammar of [`Json::parse`] (strings,
/// escapes, numbers, literals, whitespace), one token at a time, nothing built.
pub(crate) struct Cursor<'a>(Reader<'a>);

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Cursor<'a> {
        Cursor(Reader { text, bytes: text.as_bytes(), pos: 0, build: false })
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.0.peek()
    }

    pub(crate) fn skip_ws(&mut self) {
        self.0.skip_ws();
    }

    /// Consumes `byte` if it is next.
    pub(crate) fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        self.0.pos += usize::from(next);
        next
    }

    /// Consumes the literal `word` (`true`, `false`, `null`) if it is next.
    pub(crate) fn eat_word(&mut self, word: &str) -> bool {
        let r = &mut self.0;
        let next = r.bytes.get(r.pos..r.pos + word.len()) == Some(word.as_bytes());
        r.pos += if next { word.len() } else { 0 };
        next
    }

    /// Only whitespace is left.
    pub(crate) fn at_end(&mut self) -> bool {
        self.0.skip_ws();
        self.0.pos == self.0.bytes.len()
    }

    /// A string (the cursor on its opening quote), escapes decoded, appended to `out`.
    ///
    /// # Errors
    /// As [`Json::parse`] for a malformed string.
    pub(crate) fn string_into(&mut self, out: &mut String) -> Result<(), JsonError> {
        self.0.string_to(Some(out))
    }

    /// A number's literal text (the cursor on its first byte).
    ///
    /// # Errors
    /// As [`Json::parse`] for a malformed number.
    pub(crate) fn number(&mut self) -> Result<&'a str, JsonError> {
        self.0.number_text()
    }
}

/// A cursor over JSON text. With `build` false it checks the grammar without building anything
/// (no allocation), returning `Json::Null` for every value.
struct Reader<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    build: bool,
}

impl<'a> Reader<'a> {
    /// Only whitespace may follow the value.
    fn end(&mut self) -> Result<(), JsonError> {
        self.skip_ws();
        if self.pos < self.bytes.len() {
            return Err(self.error("trailing characters"));
        }
        Ok(())
    }

    /// The top-level object of [`Json::parse_deferred`] (the cursor is on its `{`).
    fn top_object(&mut self, lists: &[&str]) -> Result<Deferred, JsonError> {
        self.pos += 1; // {
        let mut pairs = Vec::new();
        let mut items: Vec<(String, Vec<Range<usize>>)> = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Deferred { doc: Json::Object(pairs), items });
        }
        loop {
            let key = self.key()?;
            let defer = lists.contains(&key.as_str()) && !items.iter().any(|(k, _)| *k == key);
            if defer && self.peek() == Some(b'[') {
                items.push((key.clone(), self.item_ranges()?));
                pairs.push((key, Json::Array(Vec::new())));
            } else {
                let value = self.value(1)?;
                pairs.push((key, value));
            }
            if self.closes(b'}')? {
                return Ok(Deferred { doc: Json::Object(pairs), items });
            }
        }
    }

    /// Checks an array in the top-level object without building it: its items' byte ranges.
    fn item_ranges(&mut self) -> Result<Vec<Range<usize>>, JsonError> {
        self.enter(2)?;
        self.pos += 1; // [
        let mut ranges = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(ranges);
        }
        let build = std::mem::replace(&mut self.build, false);
        loop {
            self.skip_ws();
            let start = self.pos;
            self.value(2)?;
            ranges.push(start..self.pos);
            if self.closes(b']')? {
                self.build = build;
                return Ok(ranges);
            }
        }
    }

    /// After an array item or object member: `true` on the closing `close` (consumed), `false`
    /// on a `,` (consumed).
    fn closes(&mut self, close: u8) -> Result<bool, JsonError> {
        self.skip_ws();
        let what = if close == b']' { "an array" } else { "an object" };
        match self.peek() {
            Some(b',') => {
                self.pos += 1;
                Ok(false)
            }
            Some(c) if c == close => {
                self.pos += 1;
                Ok(true)
            }
            None => Err(self.error(format!("EOF while parsing {what}"))),
            Some(_) => Err(self.error(format!("expected `,` or `{}`", close as char))),
        }
    }

    /// An object's key and its `:` (the cursor is before the key).
    fn key(&mut self) -> Result<String, JsonError> {
        self.skip_ws();
        match self.peek() {
            Some(b'"') => {}
            None => return Err(self.error("EOF while parsing an object")),
            Some(_) => return Err(self.error("expected a key (a string)")),
        }
        let key = self.string()?;
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.error("expected `:`"));
        }
        self.pos += 1;
        self.skip_ws();
        Ok(key)
    }

    fn error(&self, message: impl Into<String>) -> JsonError {
        let before = self.text.get(..self.pos).unwrap_or(self.text);
        let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |l| l.chars().count()) + 1;
        JsonError { message: message.into(), line, column }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        match self.peek() {
            None => Err(self.error("EOF while parsing a value")),
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string().map(Json::String),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("expected a value")),
        }
    }

    fn literal(&mut self, word: &str, value: Json) -> Result<Json, JsonError> {
        if self.bytes.get(self.pos..self.pos + word.len()) == Some(word.as_bytes()) {
            self.pos += word.len();
            Ok(value)
        } else {
            Err(self.error("expected a value"))
        }
    }

    fn enter(&self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn array(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.enter(depth)?;
        self.pos += 1; // [
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Json::Array(items));
        }
        loop {
            self.skip_ws();
            let item = self.value(depth)?;
            if self.build {
                items.push(item);
            }
            if self.closes(b']')? {
                return Ok(Json::Array(items));
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, JsonError> {
        self.enter(depth)?;
        self.pos += 1; // {
        let mut pairs = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(pairs));
        }
        loop {
            let key = self.key()?;
            let value = self.value(depth)?;
            if self.build {
                pairs.push((key, value));
            }
            if self.closes(b'}')? {
                return Ok(Json::Object(pairs));
            }
        }
    }

    /// A number, kept as its literal text.
    fn number(&mut self) -> Result<Json, JsonError> {
        let text = self.number_text()?;
        Ok(if self.build { Json::Number(text.to_owned()) } else { Json::Null })
    }

    /// A number's literal text, checked against the grammar of RFC 8259 §6.
    fn number_text(&mut self) -> Result<&'a str, JsonError> {
        let start = self.pos;
        let digits = |r: &mut Self| {
            let from = r.pos;
            while matches!(r.peek(), Some(b'0'..=b'9')) {
                r.pos += 1;
            }
            r.pos > from
        };
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.error("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !digits(self) {
                return Err(self.error("invalid number"));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !digits(self) {
                return Err(self.error("invalid number"));
            }
        }
        self.text.get(start..self.pos).ok_or_else(|| self.error("invalid number"))
    }

    /// A string (the cursor is on its opening quote), escapes decoded.
    fn string(&mut self) -> Result<String, JsonError> {
        let mut out = String::new();
        let build = self.build;
        self.string_to(build.then_some(&mut out))?;
        Ok(out)
    }

    /// A string (the cursor is on its opening quote), escapes decoded and appended to `out`
    /// when there is one.
    fn string_to(&mut self, mut out: Option<&mut String>) -> Result<(), JsonError> {
        self.pos += 1; // "
        loop {
            let run_start = self.pos;
            let rest = self.bytes.get(run_start..).unwrap_or_default();
            self.pos += rest.iter().position(|&b| b == b'"' || b == b'\\' || b < 0x20).unwrap_or(rest.len());
            // The run stops at an ASCII byte, so it ends on a character boundary.
            let run = self.text.get(run_start..self.pos).ok_or_else(|| self.error("invalid string"))?;
            if let Some(out) = out.as_deref_mut() {
                out.push_str(run);
            }
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let c = self.escape()?;
                    if let Some(out) = out.as_deref_mut() {
                        out.push(c);
                    }
                }
                Some(_) => return Err(self.error("control character in a string (escape it)")),
                None => return Err(self.error("EOF while parsing a string")),
            }
        }
    }

    /// One escape sequence after its backslash.
    fn escape(&mut self) -> Result<char, JsonError> {
        let Some(b) = self.peek() else { return Err(self.error("EOF while parsing a string")) };
        self.pos += 1;
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = self.hex4()?;
                let code = match hi {
                    0xD800..=0xDBFF => {
                        if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                            return Err(self.error("lone leading surrogate in a \\u escape"));
                        }
                        self.pos += 2;
                        let lo = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&lo) {
                            return Err(self.error("invalid trailing surrogate in a \\u escape"));
                        }
                        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                    }
                    0xDC00..=0xDFFF => return Err(self.error("lone trailing surrogate in a \\u escape")),
                    other => other,
                };
                char::from_u32(code).ok_or_else(|| self.error("invalid \\u escape"))?
            }
            _ => {
                self.pos -= 1;
                return Err(self.error("invalid escape"));
            }
        })
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self.text.get(self.pos..self.pos + 4).ok_or_else(|| self.error("invalid \\u escape"))?;
        if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(self.error("invalid \\u escape"));
        }
        let v = u32::from_str_radix(digits, 16).map_err(|_| self.error("invalid \\u escape"))?;
        self.pos += 4;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_duplicate_keys_in_order() {
        let j = Json::parse(r#"{"a":1,"b":true,"a":"x"}"#).unwrap();
        assert_eq!(j.first_duplicate("").as_deref(), Some("/a"));
        let Json::Object(pairs) = j else { panic!("object expected") };
        assert_eq!(pairs.len(), 3);
        assert_eq!(pairs[2], ("a".to_owned(), Json::String("x".into())));
        assert_eq!(repeated_keys(&pairs), vec![2]);
    }

    #[test]
    fn duplicates_are_found_with_their_pointer_in_big_objects() {
        let mut text = String::from("{\"r\": [0, {");
        for i in 0..1000 {
            text.push_str(&format!("\"k{i}\": {i},"));
        }
        text.push_str("\"a/b\": 1, \"k500\": 2}]}");
        let j = Json::parse(&text).unwrap();
        assert_eq!(j.first_duplicate("/x").as_deref(), Some("/x/r/1/k500"));
        assert_eq!(Json::parse(r#"{"a": [1, {"b": 2}]}"#).unwrap().first_duplicate(""), None);
    }

    #[test]
    fn numbers_keep_their_text() {
        assert_eq!(Json::parse("10").unwrap(), Json::Number("10".into()));
        assert_eq!(Json::parse("-3").unwrap(), Json::Number("-3".into()));
        assert_eq!(Json::parse("0.5").unwrap(), Json::Number("0.5".into()));
        assert_eq!(Json::parse("10.0").unwrap(), Json::Number("10.0".into()));
        assert_eq!(Json::parse("1.50").unwrap(), Json::Number("1.50".into()));
        assert_eq!(Json::parse("1e2").unwrap(), Json::Number("1e2".into()));
        assert_eq!(Json::parse("-0.0E+400").unwrap(), Json::Number("-0.0E+400".into()));
        for bad in ["01", "1.", ".5", "+1", "1e", "-", "0x10", "NaN", "1.e3"] {
            assert!(Json::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn strings_and_escapes() {
        let j = Json::parse(r#""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00é""#).unwrap();
        assert_eq!(j, Json::String("a\"\\/\u{8}\u{c}\n\r\té😀é".into()));
        for bad in [r#""\ud83d""#, r#""\ude00""#, r#""\x""#, "\"a\u{1}\"", r#""\u12""#, "\"abc"] {
            assert!(Json::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn structure_errors_name_the_place() {
        let e = Json::parse("{\n  \"a\": 1,\n  \"b\" 2}").unwrap_err();
        assert_eq!(e.to_string(), "expected `:` at line 3 column 7");
        for bad in ["", "{", "[1,]", "{\"a\":1,}", "[1 2]", "{} x", "tru", "{1: 2}", "[\"a\"", "nul"] {
            assert!(Json::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Json::parse(" [ ] ").unwrap(), Json::Array(vec![]));
        assert_eq!(Json::parse("{ }").unwrap(), Json::Object(vec![]));
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(Json::parse(&ok).is_ok());
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(Json::parse(&deep).unwrap_err().to_string().contains("nesting deeper"));
        // Far deeper than the stack could take recursively: refused at the limit, not a crash.
        assert!(Json::parse(&"[{\"a\":".repeat(1_000_000)).is_err());
    }

    #[test]
    fn serde_jsons_private_number_token_is_an_ordinary_key() {
        // serde_json's `arbitrary_precision` token once read as a number; now it is just a key.
        let j = Json::parse(r#"{"a": {"$serde_json::private::Number": "10"}}"#).unwrap();
        assert!(matches!(j.get("a"), Some(Json::Object(_))));
    }

    /// A deferred list's items, built one at a time, equal the full tree's; the rest of the
    /// document is built as usual; a broken item fails the whole read at the same place.
    #[test]
    fn deferred_lists_read_like_the_whole_tree() {
        let text = r#"{"A": [{"x": [1, "\u00e9"]}, 2, [], {"y": {"z": null}}], "B": {"c": true},
            "A": [3], "C": 5, "D": [7]}"#;
        let full = Json::parse(text).unwrap();
        let d = Json::parse_deferred(text, &["A", "C", "E"]).unwrap();
        let Json::Object(pairs) = &full else { panic!("object expected") };
        let items: Vec<Json> =
            d.items("A").unwrap().iter().map(|r| Json::parse_item(text, r.clone()).unwrap()).collect();
        assert_eq!(Some(&Json::Array(items)), full.get("A"));
        assert_eq!(d.doc.get("A"), Some(&Json::Array(vec![])));
        assert_eq!(d.items("C"), None, "not an array: built in the tree");
        let Json::Object(shallow) = &d.doc else { panic!("object expected") };
        assert_eq!(shallow.len(), pairs.len());
        assert_eq!(shallow[1..], pairs[1..], "the second A, B, C and D are built");
        assert_eq!(d.doc.first_duplicate("").as_deref(), Some("/A"));
        let broken = "{\n \"A\": [{\"x\": 1}, {\"x\" 2}]}";
        assert_eq!(Json::parse_deferred(broken, &["A"]).unwrap_err(), Json::parse(broken).unwrap_err());
        assert_eq!(Json::parse_deferred("[1]", &["A"]).unwrap().doc, Json::parse("[1]").unwrap());
        let deep = format!("{{\"A\": [{}{}]}}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert_eq!(Json::parse_deferred(&deep, &["A"]).unwrap_err(), Json::parse(&deep).unwrap_err());
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(pointer_token("aws:PrincipalTag/a~b"), "aws:PrincipalTag~1a~0b");
    }
}

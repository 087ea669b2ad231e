//! An order-preserving JSON tree that keeps duplicate keys.
//!
//! IAM rejects a policy that repeats a key, but `serde_json::Value` silently keeps the last one.
//! Parsing into [`Json`] keeps every `(key, value)` pair in document order, so the policy parser
//! can report a duplicate with its JSON pointer instead of evaluating a document AWS would refuse.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::fmt;

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

impl Json {
    /// Parses JSON text. Text holding serde_json's private number token is refused: with
    /// `arbitrary_precision`, an object keyed by it would otherwise read as a number.
    pub(crate) fn parse(text: &str) -> Result<Json, serde_json::Error> {
        reject_number_token(text)?;
        serde_json::from_str(text)
    }

    /// Converts a `serde_json::Value` (which has already lost duplicates) into a tree.
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
}

/// Refuses text that spells serde_json's private number token (see [`Json::parse`]).
pub(crate) fn reject_number_token(text: &str) -> Result<(), serde_json::Error> {
    if text.contains(NUMBER_TOKEN) {
        return Err(serde::de::Error::custom(format!("{NUMBER_TOKEN:?} is reserved and may not appear")));
    }
    Ok(())
}

/// Escapes one JSON pointer reference token (RFC 6901: `~` → `~0`, `/` → `~1`).
pub(crate) fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

/// The map key under which serde_json (feature `arbitrary_precision`) hands over a number's text.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::Number(v.to_string()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::Number(v.to_string()))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json, E> {
        Ok(Json::Number(v.to_string()))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let mut pairs = Vec::new();
        while let Some(k) = map.next_key::<String>()? {
            // With serde_json's `arbitrary_precision`, a number arrives as a one-entry map under
            // this token, carrying the number's literal text ("10.0" stays "10.0").
            if pairs.is_empty() && k == NUMBER_TOKEN {
                let text: String = map.next_value()?;
                if serde_json::from_str::<serde_json::Number>(&text).is_err() {
                    return Err(serde::de::Error::custom(format!("{text:?} is not a number")));
                }
                return Ok(Json::Number(text));
            }
            let v = map.next_value::<Json>()?;
            pairs.push((k, v));
        }
        Ok(Json::Object(pairs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_duplicate_keys_in_order() {
        let j = Json::parse(r#"{"a":1,"b":true,"a":"x"}"#).unwrap();
        let Json::Object(pairs) = j else { panic!("object expected") };
        assert_eq!(pairs.len(), 3);
        assert_eq!(pairs[2], ("a".to_owned(), Json::String("x".into())));
    }

    #[test]
    fn numbers_keep_their_text() {
        assert_eq!(Json::parse("10").unwrap(), Json::Number("10".into()));
        assert_eq!(Json::parse("-3").unwrap(), Json::Number("-3".into()));
        assert_eq!(Json::parse("0.5").unwrap(), Json::Number("0.5".into()));
        assert_eq!(Json::parse("10.0").unwrap(), Json::Number("10.0".into()));
        assert_eq!(Json::parse("1.50").unwrap(), Json::Number("1.50".into()));
        // serde_json keeps mantissa and exponent; it spells the exponent with its sign.
        assert_eq!(Json::parse("1e2").unwrap(), Json::Number("1e+2".into()));
        let v: serde_json::Value = serde_json::from_str("[1.50]").unwrap();
        assert_eq!(Json::from_value(&v), Json::Array(vec![Json::Number("1.50".into())]));
    }

    #[test]
    fn the_private_number_token_is_not_a_way_to_smuggle_objects() {
        // Found by reading the fuzz target: with arbitrary_precision this object would read as a number.
        assert!(Json::parse(r#"{"a": {"$serde_json::private::Number": "alice"}}"#).is_err());
        assert!(Json::parse(r#"{"a": {"$serde_json::private::Number": "10"}}"#).is_err());
        assert_eq!(Json::parse(r#"{"a": 10}"#).unwrap(), Json::Object(vec![("a".into(), Json::Number("10".into()))]));
    }

    #[test]
    fn pointer_tokens_are_escaped() {
        assert_eq!(pointer_token("aws:PrincipalTag/a~b"), "aws:PrincipalTag~1a~0b");
    }
}

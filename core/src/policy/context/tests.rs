//! The direct context reader ([`Context::fill_from_text`], behind `Request::set_context_json`)
//! against the tree reader it replaced on the request path (`Json::parse`, duplicate keys,
//! `Context::from_json`, the principal key rules): on generated and hostile texts, the same
//! context or the same error, and the direct reader accepts exactly what the tree reader accepts.

use super::*;
use crate::decide::request::{context_from_tree, MAX_CONTEXT_CHARS, MAX_CONTEXT_KEYS, MAX_CONTEXT_VALUES};
use crate::Request;
use proptest::prelude::*;

/// Checks one text: both readers, on a request whose context held something before.
fn same_as_tree(text: &str) {
    let tree = context_from_tree(text);
    let mut direct = Context::default();
    direct.insert("stale:Key", vec![Scalar::Str("stale".into())]);
    let accepted = direct.fill_from_text(text);
    let tree_parsed = crate::policy::json::Json::parse(text)
        .ok()
        .filter(|j| j.first_duplicate("").is_none())
        .and_then(|j| Context::from_json(&j, "/context").ok());
    assert_eq!(accepted, tree_parsed.is_some(), "acceptance differs on {text:?}");
    if let Some(ctx) = tree_parsed {
        assert_eq!(direct, ctx, "contexts differ on {text:?}");
    }
    let mut request = Request::new("arn:aws:iam::111122223333:user/a", "s3:GetObject", "*").unwrap();
    request.context.insert("stale:Key", vec![Scalar::Bool(true)]);
    let set = request.set_context_json(text).map(|()| request.context.clone());
    assert_eq!(set, tree, "results differ on {text:?}");
    if set.is_err() {
        assert_eq!(request.context, Context::default(), "a refused context leaves the request's empty");
    }
}

#[test]
fn hand_picked_texts_read_alike() {
    let many_keys =
        |n: usize| format!("{{{}}}", (0..n).map(|i| format!("\"k:{i}\": {i}")).collect::<Vec<_>>().join(","));
    let many_values = |n: usize| format!("{{\"k\": [{}]}}", vec!["true"; n].join(","));
    let chars = |n: usize| format!("{{\"k\": \"{}\"}}", "é".repeat(n - 1));
    let texts = [
        "{}".to_owned(),
        " \n{ } \t".into(),
        r#"{"aws:SourceIp": "203.0.113.7", "aws:SecureTransport": true, "s3:max-keys": 10}"#.into(),
        r#"{"aws:TagKeys": ["a", "b"], "n": [1, -2.5e3, 0.0], "e": []}"#.into(),
        r#"{"a": 1, "A": 2}"#.into(),
        r#"{"a": 1, "a": 2}"#.into(),
        r#"{"a": {}, "b": 1, "b": 2}"#.into(),
        r#"{"a": [{"x": 1, "x": 2}]}"#.into(),
        r#"{"a": null}"#.into(),
        r#"{"a": [null]}"#.into(),
        r#"{"a": [[1]]}"#.into(),
        r#"{"": 1}"#.into(),
        r#"{"\u0041ws:x": "\u00e9\ud83d\ude00\n\"\\\/"}"#.into(),
        r#"{"a": "\ud800"}"#.into(),
        r#"{"a": "\udc00"}"#.into(),
        r#"{"a": "\ud800\u0041"}"#.into(),
        r#"{"a": "\x"}"#.into(),
        "{\"a\": \"\u{1}\"}".into(),
        "\u{feff}{}".into(),
        "{} x".into(),
        "{},".into(),
        r#"{"a": 1,}"#.into(),
        r#"{"a" 1}"#.into(),
        r#"{"a": 01}"#.into(),
        r#"{"a": 1.}"#.into(),
        r#"{"a": -}"#.into(),
        format!("{{\"a\": {}}}", "9".repeat(400)),
        format!("{{\"a\": -{}.{}e+{}}}", "1".repeat(300), "0".repeat(300), "9".repeat(50)),
        r#"{"a": tru}"#.into(),
        r#"{"a": True}"#.into(),
        "[1]".into(),
        "\"x\"".into(),
        "".into(),
        "{".into(),
        r#"{"a": "#.into(),
        r#"{"a": [1, 2"#.into(),
        format!("{{\"a\": {}{}}}", "[".repeat(80), "]".repeat(80)),
        r#"{"aws:username": "x"}"#.into(),
        r#"{"aws:PrincipalTag/team": "x"}"#.into(),
        r#"{"AWS:PrincipalIsAWSService": true, "b": 1}"#.into(),
        r#"{"aws:principalservicename": "s", "aws:UserName": "x"}"#.into(),
        r#"{"a/b~c": {}}"#.into(),
        many_keys(MAX_CONTEXT_KEYS),
        many_keys(MAX_CONTEXT_KEYS + 1),
        many_values(MAX_CONTEXT_VALUES),
        many_values(MAX_CONTEXT_VALUES + 1),
        chars(MAX_CONTEXT_CHARS),
        chars(MAX_CONTEXT_CHARS + 1),
        format!("{{\"a\": 1, {}", &many_keys(MAX_CONTEXT_KEYS + 1)[1..]),
    ];
    for t in &texts {
        same_as_tree(t);
    }
    // The limits are where the tree reader puts them: exactly at them accepted, one over refused.
    let mut ctx = Context::default();
    assert!(ctx.fill_from_text(&many_keys(MAX_CONTEXT_KEYS)));
    assert!(!ctx.fill_from_text(&many_keys(MAX_CONTEXT_KEYS + 1)));
    assert!(ctx.fill_from_text(&chars(MAX_CONTEXT_CHARS)));
    assert!(!ctx.fill_from_text(&chars(MAX_CONTEXT_CHARS + 1)));
}

#[test]
fn a_context_read_directly_reads_like_one_built_by_insert() {
    let mut ctx = Context::default();
    assert!(ctx.fill_from_text(r#"{"B": [1, "x", false], "a": "y", "c": []}"#));
    let mut built = Context::default();
    built.insert("a", vec![Scalar::Str("y".into())]);
    built.insert("B", vec![Scalar::Num("1".into()), Scalar::Str("x".into()), Scalar::Bool(false)]);
    built.insert("c", vec![]);
    assert_eq!(ctx, built);
    assert_eq!(ctx.keys_lc().collect::<Vec<_>>(), ["a", "b", "c"]);
    let b: Vec<Val<'_>> = ctx.get("b").unwrap().iter().collect();
    assert_eq!(b, [Val::Num("1"), Val::Str("x"), Val::Bool(false)]);
    assert!(ctx.get("c").is_none(), "an empty list reads as absent");
    assert!(ctx.get("B").is_none(), "get takes the lowercased key");
    ctx.remove("A");
    ctx.insert("b", vec![Scalar::Bool(true)]);
    assert_eq!(ctx.iter().map(|(k, v)| (k, v.len())).collect::<Vec<_>>(), [("b", 1), ("c", 0)]);
    assert_ne!(ctx, built);
}

/// Pieces of context texts: keys that collide in case, principal keys, escapes; values of every
/// JSON type, valid and not.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_owned()),
        Just("A".to_owned()),
        Just("aws:SourceIp".to_owned()),
        Just("AWS:sourceip".to_owned()),
        Just("aws:username".to_owned()),
        Just("aws:PrincipalTag/x".to_owned()),
        Just("aws:PrincipalServiceName".to_owned()),
        Just(String::new()),
        Just(r"\u0061".to_owned()),
        Just(r"a/b~c".to_owned()),
        Just(r"\ud800".to_owned()),
        "[a-c:]{1,3}",
    ]
}

fn scalar_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\"[a-zé ]{0,4}\"",
        Just(r#""\u00e9\ud83d\ude00\t\"""#.to_owned()),
        Just(r#""\udc00""#.to_owned()),
        Just(r#""\ud83d""#.to_owned()),
        Just(r#""\q""#.to_owned()),
        Just("\"\u{7}\"".to_owned()),
        "-?(0|[1-9][0-9]{0,3})(\\.[0-9]{1,3})?([eE][+-]?[0-9]{1,3})?",
        Just("1".repeat(500)),
        Just("01".to_owned()),
        Just("1.".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        Just("null".to_owned()),
        Just("{}".to_owned()),
        Just(r#"{"x": 1, "x": 2}"#.to_owned()),
    ]
}

fn value_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => scalar_text(),
        1 => prop::collection::vec(scalar_text(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
        1 => prop::collection::vec(scalar_text(), 0..2).prop_map(|v| format!("[[{}]]", v.join(","))),
    ]
}

fn context_text() -> impl Strategy<Value = String> {
    prop::collection::vec((key(), value_text(), "[ \n]{0,1}"), 0..6).prop_map(|pairs| {
        let body: Vec<String> = pairs.iter().map(|(k, v, ws)| format!("{ws}\"{k}\":{ws}{v}")).collect();
        format!("{{{}}}", body.join(","))
    })
}

/// A text made hostile: cut short, a byte changed, a prefix or suffix added.
fn hostile(text: String, at: usize, byte: u8, how: u8) -> String {
    let mut cut = at % (text.len() + 1);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let (head, tail) = text.split_at(cut);
    let b = char::from(byte % 0x80);
    match how % 6 {
        0 => head.to_owned(),
        1 => format!("{head}{b}{tail}"),
        2 => format!("{head}{}", tail.get(1..).unwrap_or_default()),
        3 => format!("\u{feff}{text}"),
        4 => format!("{text}{b}"),
        _ => format!("{}{text}{}", "[".repeat(at % 70), "]".repeat(at % 70)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn generated_contexts_read_alike(text in context_text()) {
        same_as_tree(&text);
    }

    #[test]
    fn hostile_contexts_read_alike(text in context_text(), at in any::<usize>(), byte in any::<u8>(), how in any::<u8>()) {
        same_as_tree(&hostile(text, at, byte, how));
    }
}

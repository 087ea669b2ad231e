//! Unit tests of every condition operator (`docs/semantics.md#condition-operators`,
//! `#policy-variables`).
//!
//! Each test loads a one-statement Version 2012-10-17 identity policy through the real parser and
//! evaluates its single condition entry against a request context given as JSON, so the value
//! parsing done at load time is exercised together with the per-request comparison.

use super::*;
use crate::policy::ast::PolicyKind;
use crate::policy::context::Context;
use crate::policy::json::Json;
use crate::policy::parse::parse_policy;
use serde_json::{json, Value};
use CondResult::{False, Invalid, True};

/// A one-statement policy document whose only condition is `{op: {key: values}}`.
fn doc(version: Option<&str>, op: &str, key: &str, values: Value) -> Value {
    let mut doc = json!({
        "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {op: {key: values}}}
    });
    if let Some(v) = version {
        doc["Version"] = json!(v);
    }
    doc
}

/// Parses `doc` and evaluates its only condition entry against `ctx` (a JSON object).
#[track_caller]
fn eval_doc(doc: &Value, ctx: Value) -> CondResult {
    let mut errors = Vec::new();
    let policy = parse_policy(&Json::from_value(doc), PolicyKind::Identity, "", &mut errors)
        .unwrap_or_else(|| panic!("policy did not load: {errors:?}"));
    assert!(errors.is_empty(), "{errors:?}");
    let conditions = &policy.statements[0].conditions;
    assert_eq!(conditions.len(), 1);
    let ctx = Context::from_json(&Json::from_value(&ctx), "/context").unwrap();
    evaluate(&conditions[0], &ctx)
}

/// Evaluates `{op: {key: values}}` (a Version 2012-10-17 statement) against `ctx` (a JSON object).
#[track_caller]
fn eval(op: &str, key: &str, values: Value, ctx: Value) -> CondResult {
    eval_doc(&doc(Some("2012-10-17"), op, key, values), ctx)
}

/// Evaluates `{op: {key: values}}` against a request that has no condition keys at all.
#[track_caller]
fn eval_missing(op: &str, key: &str, values: Value) -> CondResult {
    eval(op, key, values, json!({}))
}

/// Evaluates `{op: {key: values}}` against a request where `key` has the single value `v`.
#[track_caller]
fn eval1(op: &str, key: &str, values: Value, v: Value) -> CondResult {
    let mut ctx = serde_json::Map::new();
    ctx.insert(key.to_owned(), v);
    eval(op, key, values, Value::Object(ctx))
}

/// Loads `{op: {key: values}}` and returns the load errors as `(pointer, message)` pairs,
/// asserting that the policy was rejected.
#[track_caller]
fn load_errors(op: &str, key: &str, values: Value) -> Vec<(String, String)> {
    let doc = doc(Some("2012-10-17"), op, key, values);
    let mut errors = Vec::new();
    let policy = parse_policy(&Json::from_value(&doc), PolicyKind::Identity, "", &mut errors);
    assert!(policy.is_none(), "{op} {key} loaded but should have been rejected");
    errors.iter().map(|e| (e.pointer().to_owned(), e.message().to_owned())).collect()
}

/// Asserts that `{op: {key: values}}` is rejected at load with exactly one error, located at
/// `/Statement/Condition/<path>`, whose message contains `message_part`.
#[track_caller]
fn assert_rejected(op: &str, key: &str, values: Value, path: &str, message_part: &str) {
    let errors = load_errors(op, key, values);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let (pointer, message) = &errors[0];
    assert_eq!(pointer, &format!("/Statement/Condition/{path}"), "{message}");
    assert!(message.contains(message_part), "message {message:?} lacks {message_part:?}");
}

// ---------------------------------------------------------------------------------------------
// String operators
// ---------------------------------------------------------------------------------------------

#[test]
fn string_equals_is_exact_and_case_sensitive() {
    assert_eq!(eval1("StringEquals", "aws:username", json!("alice"), json!("alice")), True);
    assert_eq!(eval1("StringEquals", "aws:username", json!("alice"), json!("Alice")), False);
    assert_eq!(eval1("StringEquals", "aws:username", json!("alice"), json!("alice ")), False);
    assert_eq!(eval1("StringEquals", "aws:username", json!("alice"), json!("alic")), False);
}

#[test]
fn string_equals_star_is_literal_but_string_like_star_is_a_wildcard() {
    // Edge case 15.
    assert_eq!(eval1("StringEquals", "aws:username", json!("*"), json!("alice")), False);
    assert_eq!(eval1("StringEquals", "aws:username", json!("*"), json!("*")), True);
    assert_eq!(eval1("StringEquals", "aws:username", json!("al?ce"), json!("alice")), False);
    assert_eq!(eval1("StringLike", "aws:username", json!("*"), json!("alice")), True);
}

#[test]
fn string_equals_values_combine_as_or() {
    assert_eq!(eval1("StringEquals", "aws:PrincipalTag/team", json!(["red", "blue"]), json!("blue")), True);
    assert_eq!(eval1("StringEquals", "aws:PrincipalTag/team", json!(["red", "blue"]), json!("red")), True);
    assert_eq!(eval1("StringEquals", "aws:PrincipalTag/team", json!(["red", "blue"]), json!("green")), False);
}

#[test]
fn string_not_equals_values_combine_as_nor() {
    // Edge case 14.
    assert_eq!(eval1("StringNotEquals", "k", json!(["a", "b"]), json!("a")), False);
    assert_eq!(eval1("StringNotEquals", "k", json!(["a", "b"]), json!("b")), False);
    assert_eq!(eval1("StringNotEquals", "k", json!(["a", "b"]), json!("c")), True);
    assert_eq!(eval1("StringNotEquals", "k", json!("a"), json!("A")), True);
}

#[test]
fn string_equals_ignore_case_ignores_case_only() {
    assert_eq!(eval1("StringEqualsIgnoreCase", "aws:username", json!("Alice"), json!("aLICE")), True);
    assert_eq!(eval1("StringEqualsIgnoreCase", "aws:username", json!("Alice"), json!("alice")), True);
    assert_eq!(eval1("StringEqualsIgnoreCase", "aws:username", json!("Alice"), json!("alicex")), False);
    assert_eq!(eval1("StringEqualsIgnoreCase", "aws:username", json!(["bob", "ALICE"]), json!("alice")), True);
    // No wildcards.
    assert_eq!(eval1("StringEqualsIgnoreCase", "aws:username", json!("A*"), json!("alice")), False);
    assert_eq!(eval1("StringEqualsIgnoreCase", "aws:username", json!("A*"), json!("a*")), True);
}

#[test]
fn string_not_equals_ignore_case_is_nor_ignoring_case() {
    assert_eq!(eval1("StringNotEqualsIgnoreCase", "k", json!(["Red", "Blue"]), json!("RED")), False);
    assert_eq!(eval1("StringNotEqualsIgnoreCase", "k", json!(["Red", "Blue"]), json!("blue")), False);
    assert_eq!(eval1("StringNotEqualsIgnoreCase", "k", json!(["Red", "Blue"]), json!("green")), True);
}

#[test]
fn string_like_star_and_question_mark() {
    let k = "s3:prefix";
    assert_eq!(eval1("StringLike", k, json!("home/*"), json!("home/")), True);
    assert_eq!(eval1("StringLike", k, json!("home/*"), json!("home/a/b:c")), True);
    assert_eq!(eval1("StringLike", k, json!("home/*"), json!("home")), False);
    assert_eq!(eval1("StringLike", k, json!("h?me"), json!("home")), True);
    assert_eq!(eval1("StringLike", k, json!("h?me"), json!("hme")), False);
    assert_eq!(eval1("StringLike", k, json!("h?me"), json!("hoome")), False);
    assert_eq!(eval1("StringLike", k, json!("*.txt"), json!("a.txt.bak")), False, "anchored at the end");
    assert_eq!(eval1("StringLike", k, json!("a*"), json!("ba")), False, "anchored at the start");
    assert_eq!(eval1("StringLike", k, json!("a*b*c"), json!("aXbYc")), True);
}

#[test]
fn string_like_is_case_sensitive() {
    assert_eq!(eval1("StringLike", "s3:prefix", json!("Home/*"), json!("home/x")), False);
    assert_eq!(eval1("StringLike", "s3:prefix", json!("Home/*"), json!("Home/x")), True);
}

#[test]
fn string_like_empty_pattern_matches_empty_value() {
    // Edge case 16.
    assert_eq!(eval1("StringLike", "s3:prefix", json!(""), json!("")), True);
    assert_eq!(eval1("StringLike", "s3:prefix", json!(""), json!("a")), False);
}

#[test]
fn string_not_like_values_combine_as_nor() {
    let k = "s3:prefix";
    assert_eq!(eval1("StringNotLike", k, json!(["a*", "b?"]), json!("abc")), False);
    assert_eq!(eval1("StringNotLike", k, json!(["a*", "b?"]), json!("bc")), False);
    assert_eq!(eval1("StringNotLike", k, json!(["a*", "b?"]), json!("bcd")), True);
    assert_eq!(eval1("StringNotLike", k, json!(["a*", "b?"]), json!("c")), True);
}

#[test]
fn string_operators_compare_numbers_and_booleans_as_text() {
    // Policy JSON true is the text "true"; a JSON boolean in the request reads as "true".
    assert_eq!(eval1("StringEquals", "k", json!(true), json!("true")), True);
    assert_eq!(eval1("StringEquals", "k", json!("true"), json!(true)), True);
    assert_eq!(eval1("StringEquals", "k", json!("True"), json!(true)), False);
    // Numbers compare by their literal text under string operators.
    assert_eq!(eval1("StringEquals", "k", json!(10), json!("10")), True);
    assert_eq!(eval1("StringEquals", "k", json!("10"), json!(10)), True);
    assert_eq!(eval1("StringEquals", "k", json!(10), json!("10.0")), False);
}

#[test]
fn string_operators_compare_policy_numbers_by_their_literal_text() {
    // `docs/semantics.md#documents`: numbers compare "by literal text", also when the policy is
    // read from JSON text.
    let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*",
        "Condition":{"StringEquals":{"k":[10.0, 1.50]}}}}"#;
    let mut errors = Vec::new();
    let policy = parse_policy(&Json::parse(text).unwrap(), PolicyKind::Identity, "", &mut errors).unwrap();
    let cond = &policy.statements[0].conditions[0];
    let at = |v: &str| evaluate(cond, &Context::from_json(&Json::from_value(&json!({ "k": v })), "/context").unwrap());
    assert_eq!(at("10.0"), True);
    assert_eq!(at("1.50"), True);
    assert_eq!(at("10"), False);
    assert_eq!(at("1.5"), False);
}

#[test]
fn string_family_missing_key() {
    // `docs/semantics.md#missing-keys`: positive false, negated true, IfExists true (edge cases 11,
    // 12, 13).
    for op in ["StringEquals", "StringEqualsIgnoreCase", "StringLike"] {
        assert_eq!(eval_missing(op, "aws:PrincipalTag/team", json!("red")), False, "{op}");
    }
    for op in ["StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike"] {
        assert_eq!(eval_missing(op, "aws:PrincipalTag/team", json!("red")), True, "{op}");
    }
    for op in [
        "StringEqualsIfExists",
        "StringEqualsIgnoreCaseIfExists",
        "StringLikeIfExists",
        "StringNotEqualsIfExists",
        "StringNotEqualsIgnoreCaseIfExists",
        "StringNotLikeIfExists",
    ] {
        assert_eq!(eval_missing(op, "aws:PrincipalTag/team", json!("red")), True, "{op}");
    }
}

#[test]
fn if_exists_compares_normally_when_the_key_is_present() {
    assert_eq!(eval1("StringEqualsIfExists", "k", json!("a"), json!("a")), True);
    assert_eq!(eval1("StringEqualsIfExists", "k", json!("a"), json!("b")), False);
    assert_eq!(eval1("StringNotEqualsIfExists", "k", json!("a"), json!("a")), False);
    assert_eq!(eval1("StringNotEqualsIfExists", "k", json!("a"), json!("b")), True);
    assert_eq!(eval1("NumericLessThanIfExists", "k", json!(5), json!(7)), False);
    assert_eq!(eval1("IpAddressIfExists", "aws:SourceIp", json!("10.0.0.0/8"), json!("192.0.2.1")), False);
}

#[test]
fn missing_key_is_not_satisfied_by_an_empty_string_pattern() {
    // A missing key is not the empty string.
    assert_eq!(eval_missing("StringEquals", "s3:prefix", json!("")), False);
    assert_eq!(eval_missing("StringLike", "s3:prefix", json!("*")), False);
}

// ---------------------------------------------------------------------------------------------
// Numeric operators
// ---------------------------------------------------------------------------------------------

#[test]
fn numeric_equals_compares_decimals() {
    let k = "s3:max-keys";
    assert_eq!(eval1("NumericEquals", k, json!("10"), json!("10.0")), True);
    assert_eq!(eval1("NumericEquals", k, json!("10"), json!(10)), True);
    assert_eq!(eval1("NumericEquals", k, json!("10"), json!(10.0)), True);
    assert_eq!(eval1("NumericEquals", k, json!(10.0), json!("10")), True);
    assert_eq!(eval1("NumericEquals", k, json!("10.50"), json!("10.5")), True);
    assert_eq!(eval1("NumericEquals", k, json!("10"), json!("10.5")), False);
    assert_eq!(eval1("NumericEquals", k, json!("10"), json!("1")), False);
    assert_eq!(eval1("NumericEquals", k, json!(["1", "10"]), json!("10")), True);
}

#[test]
fn numeric_not_equals_values_combine_as_nor() {
    let k = "s3:max-keys";
    assert_eq!(eval1("NumericNotEquals", k, json!([5, 10]), json!(5)), False);
    assert_eq!(eval1("NumericNotEquals", k, json!([5, 10]), json!("10.0")), False);
    assert_eq!(eval1("NumericNotEquals", k, json!([5, 10]), json!(7)), True);
}

#[test]
fn numeric_less_than() {
    let k = "s3:max-keys";
    assert_eq!(eval1("NumericLessThan", k, json!(10), json!(9.99)), True);
    assert_eq!(eval1("NumericLessThan", k, json!(10), json!(10)), False);
    assert_eq!(eval1("NumericLessThan", k, json!(10), json!(11)), False);
    assert_eq!(eval1("NumericLessThan", k, json!(10), json!(-3)), True);
    assert_eq!(eval1("NumericLessThan", k, json!(-1), json!(-1.5)), True);
    assert_eq!(eval1("NumericLessThan", k, json!(-1), json!(-0.5)), False);
    // Values OR: less than any of them.
    assert_eq!(eval1("NumericLessThan", k, json!([5, 10]), json!(7)), True);
    assert_eq!(eval1("NumericLessThan", k, json!([5, 10]), json!(12)), False);
}

#[test]
fn numeric_less_than_equals() {
    // Edge case 27.
    let k = "s3:max-keys";
    assert_eq!(eval1("NumericLessThanEquals", k, json!("10"), json!("10.0")), True);
    assert_eq!(eval1("NumericLessThanEquals", k, json!("10"), json!(9)), True);
    assert_eq!(eval1("NumericLessThanEquals", k, json!("10"), json!("10.01")), False);
    assert_eq!(eval1("NumericLessThanEquals", k, json!("10"), json!("abc")), False);
}

#[test]
fn numeric_greater_than() {
    let k = "aws:MultiFactorAuthAge";
    assert_eq!(eval1("NumericGreaterThan", k, json!(3600), json!(3600.5)), True);
    assert_eq!(eval1("NumericGreaterThan", k, json!(3600), json!(3600)), False);
    assert_eq!(eval1("NumericGreaterThan", k, json!(3600), json!("999")), False);
    assert_eq!(eval1("NumericGreaterThan", k, json!("0.25"), json!("0.5")), True);
    assert_eq!(eval1("NumericGreaterThan", k, json!("0.5"), json!("0.25")), False);
}

#[test]
fn numeric_greater_than_equals() {
    let k = "aws:MultiFactorAuthAge";
    assert_eq!(eval1("NumericGreaterThanEquals", k, json!(10), json!(10)), True);
    assert_eq!(eval1("NumericGreaterThanEquals", k, json!(10), json!("10.0")), True);
    assert_eq!(eval1("NumericGreaterThanEquals", k, json!(10), json!("9.999")), False);
    assert_eq!(eval1("NumericGreaterThanEquals", k, json!(10), json!(100)), True);
}

#[test]
fn numeric_unparsable_request_value_is_false_even_for_not_equals() {
    // `docs/semantics.md#condition-operators`: an unparsable request value makes the operator
    // false, negated operators too.
    let k = "s3:max-keys";
    for op in [
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "NumericNotEqualsIfExists",
    ] {
        assert_eq!(eval1(op, k, json!(10), json!("abc")), False, "{op}");
    }
    assert_eq!(eval1("NumericEquals", k, json!(10), json!("")), False);
    assert_eq!(eval1("NumericEquals", k, json!(1), json!(true)), False);
}

#[test]
fn numeric_family_missing_key() {
    for op in
        ["NumericEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals"]
    {
        assert_eq!(eval_missing(op, "s3:max-keys", json!(10)), False, "{op}");
    }
    assert_eq!(eval_missing("NumericNotEquals", "s3:max-keys", json!(10)), True);
    for op in [
        "NumericEqualsIfExists",
        "NumericNotEqualsIfExists",
        "NumericLessThanIfExists",
        "NumericLessThanEqualsIfExists",
        "NumericGreaterThanIfExists",
        "NumericGreaterThanEqualsIfExists",
    ] {
        assert_eq!(eval_missing(op, "s3:max-keys", json!(10)), True, "{op}");
    }
}

// ---------------------------------------------------------------------------------------------
// Date operators
// ---------------------------------------------------------------------------------------------

#[test]
fn date_equals_accepts_the_w3c_iso_8601_forms() {
    let k = "aws:CurrentTime";
    assert_eq!(eval1("DateEquals", k, json!("2026-01-01"), json!("2026-01-01T00:00:00Z")), True);
    assert_eq!(eval1("DateEquals", k, json!("2026-01-01T00:00:00Z"), json!("2026-01-01")), True);
    assert_eq!(eval1("DateEquals", k, json!("2026-01-01T10:00Z"), json!("2026-01-01T10:00:00Z")), True);
    assert_eq!(eval1("DateEquals", k, json!("2026-01-01T10:00Z"), json!("2026-01-01T10:00:01Z")), False);
    assert_eq!(eval1("DateEquals", k, json!("2026-01-01T10:00:00.5+02:00"), json!("2026-01-01T08:00:00.5Z")), True);
    assert_eq!(
        eval1("DateEquals", k, json!("2026-01-01T10:00:00.5+02:00"), json!("2026-01-01T08:00:00Z")),
        False,
        "fractional seconds count"
    );
    assert_eq!(
        eval1("DateEquals", k, json!("2026-01-01T10:00:00.5+02:00"), json!("2026-01-01T10:00:00.5Z")),
        False,
        "the offset counts"
    );
    assert_eq!(eval1("DateEquals", k, json!("2026-01-01T00:00Z"), json!("2025-12-31T19:00:00-05:00")), True);
}

#[test]
fn date_epoch_seconds_on_either_side() {
    // Edge case 28: 1577836800 ≡ 2020-01-01T00:00:00Z.
    let k = "aws:CurrentTime";
    assert_eq!(eval1("DateEquals", k, json!("1577836800"), json!("2020-01-01T00:00:00Z")), True);
    assert_eq!(eval1("DateEquals", k, json!(1_577_836_800), json!("2020-01-01")), True);
    assert_eq!(eval1("DateEquals", k, json!("2020-01-01T00:00:00Z"), json!(1_577_836_800)), True);
    assert_eq!(eval1("DateEquals", k, json!("2020-01-01T00:00:00Z"), json!("1577836800")), True);
    assert_eq!(eval1("DateEquals", k, json!("2020-01-01T00:00:00Z"), json!("1577836801")), False);
    assert_eq!(eval1("DateGreaterThan", k, json!("1577836800"), json!("2020-01-01T00:00:01Z")), True);
    assert_eq!(eval1("DateGreaterThan", k, json!("1577836800"), json!("2020-01-01T00:00:00Z")), False);
    assert_eq!(eval1("DateGreaterThan", k, json!("2020-01-01T00:00:00Z"), json!(1_577_836_801)), True);
    // 2026-01-01T10:00:00+02:00 = 2026-01-01T08:00:00Z = 1767254400.
    assert_eq!(eval1("DateEquals", k, json!("2026-01-01T10:00:00+02:00"), json!("1767254400")), True);
    assert_eq!(eval1("DateLessThan", k, json!(1_767_254_400), json!("2026-01-01T09:59:59+02:00")), True);
}

#[test]
fn date_not_equals_values_combine_as_nor() {
    let k = "aws:CurrentTime";
    let v = json!(["2026-01-01", "2027-01-01"]);
    assert_eq!(eval1("DateNotEquals", k, v.clone(), json!("2026-01-01T00:00:00Z")), False);
    assert_eq!(eval1("DateNotEquals", k, v.clone(), json!("2027-01-01T01:00:00+01:00")), False);
    assert_eq!(eval1("DateNotEquals", k, v, json!("2026-06-01T00:00:00Z")), True);
}

#[test]
fn date_less_than() {
    // The "revoke active sessions" shape (`docs/semantics.md#revocation`).
    let k = "aws:TokenIssueTime";
    assert_eq!(eval1("DateLessThan", k, json!("2026-01-01T10:00Z"), json!("2026-01-01T09:59:59Z")), True);
    assert_eq!(eval1("DateLessThan", k, json!("2026-01-01T10:00Z"), json!("2026-01-01T10:00:00Z")), False);
    assert_eq!(eval1("DateLessThan", k, json!("2026-01-01T10:00Z"), json!("2026-01-01T12:00:00+02:00")), False);
    assert_eq!(eval1("DateLessThan", k, json!("2026-01-01T10:00Z"), json!("2026-01-01T11:59:59+02:00")), True);
    assert_eq!(eval1("DateLessThan", k, json!("2026-01-01T10:00Z"), json!("2026-01-01T10:00:01Z")), False);
}

#[test]
fn date_less_than_equals() {
    let k = "aws:CurrentTime";
    assert_eq!(eval1("DateLessThanEquals", k, json!("2026-01-01"), json!("2026-01-01T00:00:00Z")), True);
    assert_eq!(eval1("DateLessThanEquals", k, json!("2026-01-01"), json!("2025-12-31T23:59:59Z")), True);
    assert_eq!(eval1("DateLessThanEquals", k, json!("2026-01-01"), json!("2026-01-01T00:00:01Z")), False);
}

#[test]
fn date_greater_than_counts_fractional_seconds() {
    let k = "aws:CurrentTime";
    assert_eq!(eval1("DateGreaterThan", k, json!("2026-01-01T08:00:00.5Z"), json!("2026-01-01T08:00:00.75Z")), True);
    assert_eq!(eval1("DateGreaterThan", k, json!("2026-01-01T08:00:00.5Z"), json!("2026-01-01T08:00:00.5Z")), False);
    assert_eq!(eval1("DateGreaterThan", k, json!("2026-01-01T08:00:00.5Z"), json!("2026-01-01T08:00:00.25Z")), False);
}

#[test]
fn date_greater_than_equals() {
    let k = "aws:CurrentTime";
    assert_eq!(eval1("DateGreaterThanEquals", k, json!("2026-01-01"), json!("2026-01-01T00:00Z")), True);
    assert_eq!(eval1("DateGreaterThanEquals", k, json!("2026-01-01"), json!("2026-01-01T00:00:01Z")), True);
    assert_eq!(eval1("DateGreaterThanEquals", k, json!("2026-01-01"), json!("2025-12-31T23:59:59Z")), False);
}

#[test]
fn date_without_zone_is_utc() {
    let k = "aws:CurrentTime";
    assert_eq!(eval1("DateEquals", k, json!("2026-01-01T10:00:00"), json!("2026-01-01T10:00:00Z")), True);
    assert_eq!(eval1("DateEquals", k, json!("2026-01-01T10:00:00Z"), json!("2026-01-01T10:00")), True);
}

#[test]
fn date_unparsable_request_value_is_false_even_for_not_equals() {
    let k = "aws:CurrentTime";
    for op in ["DateEquals", "DateNotEquals", "DateLessThan", "DateGreaterThanEquals", "DateNotEqualsIfExists"] {
        assert_eq!(eval1(op, k, json!("2026-01-01"), json!("yesterday")), False, "{op}");
        assert_eq!(eval1(op, k, json!("2026-01-01"), json!("2026-13-01")), False, "{op}");
    }
}

#[test]
fn date_family_missing_key() {
    // Long-term keys carry no aws:TokenIssueTime.
    let k = "aws:TokenIssueTime";
    for op in ["DateEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals"] {
        assert_eq!(eval_missing(op, k, json!("2026-01-01")), False, "{op}");
    }
    assert_eq!(eval_missing("DateNotEquals", k, json!("2026-01-01")), True);
    for op in ["DateEqualsIfExists", "DateNotEqualsIfExists", "DateLessThanIfExists", "DateGreaterThanEqualsIfExists"] {
        assert_eq!(eval_missing(op, k, json!("2026-01-01")), True, "{op}");
    }
}

// ---------------------------------------------------------------------------------------------
// Bool and BinaryEquals
// ---------------------------------------------------------------------------------------------

#[test]
fn bool_accepts_json_booleans_and_any_case() {
    let k = "aws:SecureTransport";
    assert_eq!(eval1("Bool", k, json!(true), json!(true)), True);
    assert_eq!(eval1("Bool", k, json!(true), json!("true")), True);
    assert_eq!(eval1("Bool", k, json!(true), json!(false)), False);
    // Edge case 22.
    assert_eq!(eval1("Bool", k, json!("True"), json!(true)), True);
    assert_eq!(eval1("Bool", k, json!("false"), json!("FALSE")), True);
    assert_eq!(eval1("Bool", k, json!(false), json!(true)), False);
}

#[test]
fn bool_request_value_that_is_not_a_boolean_is_false() {
    let k = "aws:SecureTransport";
    assert_eq!(eval1("Bool", k, json!(true), json!("yes")), False);
    assert_eq!(eval1("Bool", k, json!(true), json!(1)), False);
    assert_eq!(eval1("Bool", k, json!(false), json!("")), False);
}

#[test]
fn bool_missing_key() {
    // Edge case 23: Bool on a missing key is false, BoolIfExists true.
    let k = "aws:MultiFactorAuthPresent";
    assert_eq!(eval_missing("Bool", k, json!("false")), False);
    assert_eq!(eval_missing("Bool", k, json!("true")), False);
    assert_eq!(eval_missing("BoolIfExists", k, json!("false")), True);
    assert_eq!(eval1("BoolIfExists", k, json!("false"), json!(false)), True);
    assert_eq!(eval1("BoolIfExists", k, json!("false"), json!(true)), False);
}

#[test]
fn bool_value_may_be_a_policy_variable() {
    // Variables in Bool values: AWS is silent; keycard allows them
    // (`docs/semantics.md#choices-where-aws-is-ambiguous-or-silent`).
    let ctx = json!({"aws:SecureTransport": true, "my:want": "true"});
    assert_eq!(eval("Bool", "aws:SecureTransport", json!("${my:want}"), ctx), True);
    let ctx = json!({"aws:SecureTransport": true, "my:want": "false"});
    assert_eq!(eval("Bool", "aws:SecureTransport", json!("${my:want}"), ctx), False);
}

#[test]
fn binary_equals_compares_decoded_bytes() {
    let k = "my:blob";
    // "BinaryValue"
    assert_eq!(eval1("BinaryEquals", k, json!("QmluYXJ5VmFsdWU="), json!("QmluYXJ5VmFsdWU=")), True);
    assert_eq!(eval1("BinaryEquals", k, json!("QmluYXJ5VmFsdWU="), json!("QmluYXJ5VmFsdWU")), True, "unpadded");
    assert_eq!(eval1("BinaryEquals", k, json!(["T3RoZXI=", "QmluYXJ5VmFsdWU="]), json!("QmluYXJ5VmFsdWU=")), True);
    assert_eq!(eval1("BinaryEquals", k, json!("QmluYXJ5VmFsdWU="), json!("T3RoZXI=")), False);
    assert_eq!(eval1("BinaryEquals", k, json!("QmluYXJ5VmFsdWU="), json!("not base64!")), False);
}

#[test]
fn binary_equals_missing_key() {
    assert_eq!(eval_missing("BinaryEquals", "my:blob", json!("QmluYXJ5VmFsdWU=")), False);
    assert_eq!(eval_missing("BinaryEqualsIfExists", "my:blob", json!("QmluYXJ5VmFsdWU=")), True);
}

// ---------------------------------------------------------------------------------------------
// IpAddress / NotIpAddress
// ---------------------------------------------------------------------------------------------

#[test]
fn ip_address_ipv4_cidr() {
    let k = "aws:SourceIp";
    assert_eq!(eval1("IpAddress", k, json!("203.0.113.0/24"), json!("203.0.113.77")), True);
    assert_eq!(eval1("IpAddress", k, json!("203.0.113.0/24"), json!("203.0.114.1")), False);
    assert_eq!(eval1("IpAddress", k, json!("203.0.113.128/25"), json!("203.0.113.127")), False);
    assert_eq!(eval1("IpAddress", k, json!("203.0.113.128/25"), json!("203.0.113.200")), True);
    assert_eq!(eval1("IpAddress", k, json!("0.0.0.0/0"), json!("198.51.100.1")), True);
}

#[test]
fn ip_address_bare_address_is_a_single_host() {
    // Edge case 26.
    let k = "aws:SourceIp";
    assert_eq!(eval1("IpAddress", k, json!("203.0.113.5"), json!("203.0.113.5")), True);
    assert_eq!(eval1("IpAddress", k, json!("203.0.113.5"), json!("203.0.113.6")), False);
    assert_eq!(eval1("IpAddress", k, json!("2001:db8::1"), json!("2001:db8:0:0:0:0:0:1")), True);
    assert_eq!(eval1("IpAddress", k, json!("2001:db8::1"), json!("2001:db8::2")), False);
}

#[test]
fn ip_address_ipv6_ignores_hex_case() {
    let k = "aws:SourceIp";
    assert_eq!(eval1("IpAddress", k, json!("2001:db8::/32"), json!("2001:DB8::1")), True);
    assert_eq!(eval1("IpAddress", k, json!("2001:DB8::/32"), json!("2001:db8:ffff::1")), True);
    assert_eq!(eval1("IpAddress", k, json!("2001:db8::/32"), json!("2001:db9::1")), False);
}

#[test]
fn ip_address_mixed_ipv4_and_ipv6_list() {
    let k = "aws:SourceIp";
    let list = json!(["203.0.113.0/24", "2001:db8::/32"]);
    assert_eq!(eval1("IpAddress", k, list.clone(), json!("203.0.113.9")), True);
    assert_eq!(eval1("IpAddress", k, list.clone(), json!("2001:db8::5")), True);
    assert_eq!(eval1("IpAddress", k, list.clone(), json!("198.51.100.1")), False);
    assert_eq!(eval1("IpAddress", k, list, json!("2001:db9::1")), False);
    // An IPv4 request never falls in an IPv6 network and vice versa.
    assert_eq!(eval1("IpAddress", k, json!("::/0"), json!("203.0.113.9")), False);
    assert_eq!(eval1("IpAddress", k, json!("0.0.0.0/0"), json!("2001:db8::5")), False);
}

#[test]
fn not_ip_address_values_combine_as_nor() {
    let k = "aws:SourceIp";
    let list = json!(["203.0.113.0/24", "2001:db8::/32"]);
    assert_eq!(eval1("NotIpAddress", k, list.clone(), json!("198.51.100.1")), True);
    assert_eq!(eval1("NotIpAddress", k, list.clone(), json!("2001:db9::1")), True);
    assert_eq!(eval1("NotIpAddress", k, list.clone(), json!("203.0.113.9")), False);
    assert_eq!(eval1("NotIpAddress", k, list, json!("2001:DB8::5")), False);
}

#[test]
fn ip_unparsable_request_value_is_false_even_for_not_ip_address() {
    let k = "aws:SourceIp";
    assert_eq!(eval1("IpAddress", k, json!("0.0.0.0/0"), json!("not-an-ip")), False);
    assert_eq!(eval1("NotIpAddress", k, json!("203.0.113.0/24"), json!("not-an-ip")), False);
    assert_eq!(eval1("NotIpAddress", k, json!("203.0.113.0/24"), json!("300.1.1.1")), False);
}

#[test]
fn ip_family_missing_key() {
    // Edge case 25: through a VPC endpoint there is no aws:SourceIp, so NotIpAddress is true.
    let k = "aws:SourceIp";
    assert_eq!(eval_missing("IpAddress", k, json!("203.0.113.0/24")), False);
    assert_eq!(eval_missing("NotIpAddress", k, json!("203.0.113.0/24")), True);
    assert_eq!(eval_missing("IpAddressIfExists", k, json!("203.0.113.0/24")), True);
    assert_eq!(eval_missing("NotIpAddressIfExists", k, json!("203.0.113.0/24")), True);
}

#[test]
fn context_keys_are_case_insensitive() {
    let ctx = json!({"aws:SourceIp": "203.0.113.5"});
    assert_eq!(eval("IpAddress", "AWS:SourceIP", json!("203.0.113.0/24"), ctx.clone()), True);
    assert_eq!(eval("NotIpAddress", "AWS:SOURCEIP", json!("203.0.113.0/24"), ctx), False);
    // Tag-key part included.
    let ctx = json!({"AWS:PRINCIPALTAG/TEAM": "red"});
    assert_eq!(eval("StringEquals", "aws:PrincipalTag/team", json!("red"), ctx.clone()), True);
    assert_eq!(eval("StringNotEquals", "aws:principaltag/Team", json!("red"), ctx.clone()), False);
    assert_eq!(eval("Null", "aws:PrincipalTag/Team", json!("true"), ctx), False);
}

// ---------------------------------------------------------------------------------------------
// Arn operators
// ---------------------------------------------------------------------------------------------

#[test]
fn arn_equals_matches_exactly_and_case_sensitively() {
    // Edge case 59.
    let k = "aws:PrincipalArn";
    let role = "arn:aws:iam::111122223333:role/svc/app";
    assert_eq!(eval1("ArnEquals", k, json!(role), json!(role)), True);
    assert_eq!(eval1("ArnEquals", k, json!(role), json!("arn:aws:iam::111122223333:role/svc/App")), False);
    assert_eq!(eval1("ArnEquals", k, json!(role), json!("arn:aws:iam::111122223333:role/app")), False);
    assert_eq!(eval1("ArnEquals", k, json!(role), json!("arn:aws:iam::444455556666:role/svc/app")), False);
}

#[test]
fn arn_equals_takes_wildcards_like_arn_like() {
    // `docs/semantics.md#condition-operators`: Equals ≡ Like.
    let k = "aws:SourceArn";
    assert_eq!(eval1("ArnEquals", k, json!("arn:aws:s3:::b/*"), json!("arn:aws:s3:::b/x")), True);
    assert_eq!(eval1("ArnEquals", k, json!("arn:aws:s3:::b?"), json!("arn:aws:s3:::bc")), True);
    assert_eq!(eval1("ArnEquals", k, json!("arn:aws:s3:::b/*"), json!("arn:aws:s3:::c/x")), False);
}

#[test]
fn arn_like_globs_each_field() {
    let k = "aws:SourceArn";
    let p = json!("arn:aws:ec2:us-east-?:*:instance/*");
    assert_eq!(eval1("ArnLike", k, p.clone(), json!("arn:aws:ec2:us-east-1:111122223333:instance/i-1")), True);
    assert_eq!(eval1("ArnLike", k, p.clone(), json!("arn:aws:ec2:eu-west-1:111122223333:instance/i-1")), False);
    assert_eq!(eval1("ArnLike", k, p, json!("arn:aws:ec2:us-east-1:111122223333:volume/v-1")), False);
    assert_eq!(eval1("ArnLike", k, json!("arn:aws:s3:::bucket/*"), json!("arn:aws:s3:::bucket/folder/obj")), True);
}

#[test]
fn arn_like_sixth_field_keeps_later_colons() {
    let k = "aws:SourceArn";
    let p = json!("arn:aws:logs:*:*:log-group:*");
    assert_eq!(
        eval1("ArnLike", k, p.clone(), json!("arn:aws:logs:us-east-1:111122223333:log-group:g:log-stream:s")),
        True
    );
    assert_eq!(eval1("ArnLike", k, p, json!("arn:aws:logs:us-east-1:111122223333:metric-filter:x")), False);
    assert_eq!(eval1("ArnEquals", k, json!("arn:aws:iam::1:role/a:b"), json!("arn:aws:iam::1:role/a:b")), True);
}

#[test]
fn arn_like_star_does_not_cross_colons_unlike_string_like() {
    // The example of `docs/semantics.md#condition-operators`.
    let pattern = json!("arn:aws:svc:*:111122223333:finance/*");
    let value = json!("arn:aws:svc:us-east-2:999999999999:store/abc:111122223333:finance/doc.txt");
    assert_eq!(eval1("StringLike", "aws:SourceArn", pattern.clone(), value.clone()), True);
    assert_eq!(eval1("ArnLike", "aws:SourceArn", pattern.clone(), value.clone()), False);
    assert_eq!(eval1("ArnNotLike", "aws:SourceArn", pattern.clone(), value), True);
    assert_eq!(
        eval1("ArnLike", "aws:SourceArn", pattern, json!("arn:aws:svc:us-east-2:111122223333:finance/doc.txt")),
        True
    );
    // A region wildcard cannot swallow the account either.
    assert_eq!(
        eval1("ArnLike", "aws:SourceArn", json!("arn:aws:iam::*:role/x"), json!("arn:aws:iam::1:2:role/x")),
        False
    );
    assert_eq!(
        eval1("StringLike", "aws:SourceArn", json!("arn:aws:iam::*:role/x"), json!("arn:aws:iam::1:2:role/x")),
        True
    );
}

#[test]
fn arn_not_equals_values_combine_as_nor() {
    let k = "aws:PrincipalArn";
    let list = json!(["arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b"]);
    assert_eq!(eval1("ArnNotEquals", k, list.clone(), json!("arn:aws:iam::111122223333:role/a")), False);
    assert_eq!(eval1("ArnNotEquals", k, list.clone(), json!("arn:aws:iam::111122223333:role/b")), False);
    assert_eq!(eval1("ArnNotEquals", k, list, json!("arn:aws:iam::111122223333:role/c")), True);
}

#[test]
fn arn_not_like_values_combine_as_nor() {
    let k = "aws:SourceArn";
    let list = json!(["arn:aws:s3:::b/*", "arn:aws:s3:::c?"]);
    assert_eq!(eval1("ArnNotLike", k, list.clone(), json!("arn:aws:s3:::b/x")), False);
    assert_eq!(eval1("ArnNotLike", k, list.clone(), json!("arn:aws:s3:::c1")), False);
    assert_eq!(eval1("ArnNotLike", k, list.clone(), json!("arn:aws:s3:::d/x")), True);
    assert_eq!(eval1("ArnNotLike", k, list, json!("arn:aws:s3:::c12")), True);
}

#[test]
fn arn_request_value_that_is_not_an_arn_is_false_even_for_negated_operators() {
    let k = "aws:SourceArn";
    for op in ["ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"] {
        assert_eq!(eval1(op, k, json!("arn:aws:s3:::b"), json!("not-an-arn")), False, "{op}");
        assert_eq!(eval1(op, k, json!("arn:aws:s3:::b"), json!("arn:aws:s3")), False, "{op}");
    }
}

#[test]
fn arn_family_missing_key() {
    let k = "aws:SourceArn";
    let v = json!("arn:aws:s3:::b");
    assert_eq!(eval_missing("ArnEquals", k, v.clone()), False);
    assert_eq!(eval_missing("ArnLike", k, v.clone()), False);
    assert_eq!(eval_missing("ArnNotEquals", k, v.clone()), True);
    assert_eq!(eval_missing("ArnNotLike", k, v.clone()), True);
    for op in ["ArnEqualsIfExists", "ArnLikeIfExists", "ArnNotEqualsIfExists", "ArnNotLikeIfExists"] {
        assert_eq!(eval_missing(op, k, v.clone()), True, "{op}");
    }
}

// ---------------------------------------------------------------------------------------------
// Null
// ---------------------------------------------------------------------------------------------

#[test]
fn null_true_means_absent_and_false_means_present() {
    // Edge case 24.
    let k = "aws:TokenIssueTime";
    assert_eq!(eval_missing("Null", k, json!("true")), True);
    assert_eq!(eval_missing("Null", k, json!("false")), False);
    assert_eq!(eval1("Null", k, json!("true"), json!("2026-01-01T00:00:00Z")), False);
    assert_eq!(eval1("Null", k, json!("false"), json!("2026-01-01T00:00:00Z")), True);
    // JSON booleans and any case.
    assert_eq!(eval_missing("Null", k, json!(true)), True);
    assert_eq!(eval1("Null", k, json!(false), json!(1)), True);
    assert_eq!(eval_missing("Null", k, json!("True")), True);
}

#[test]
fn null_treats_an_empty_string_as_present() {
    // Null on "" (keycard: present;
    // `docs/semantics.md#choices-where-aws-is-ambiguous-or-silent`).
    assert_eq!(eval1("Null", "s3:prefix", json!("false"), json!("")), True);
    assert_eq!(eval1("Null", "s3:prefix", json!("true"), json!("")), False);
}

#[test]
fn null_treats_an_empty_list_as_absent() {
    // The `docs/semantics.md#set-qualifiers-and-multivalued-keys` guard `"Null": {"aws:TagKeys":
    // "false"}` must fail when no tags are passed.
    assert_eq!(eval1("Null", "aws:TagKeys", json!("false"), json!([])), False);
    assert_eq!(eval1("Null", "aws:TagKeys", json!("true"), json!([])), True);
    assert_eq!(eval1("Null", "aws:TagKeys", json!("false"), json!(["a", "b"])), True);
}

// ---------------------------------------------------------------------------------------------
// Set qualifiers and multivalued keys
// ---------------------------------------------------------------------------------------------

#[test]
fn for_all_values_is_vacuously_true_on_missing_or_empty() {
    // Edge cases 17 and 20.
    let list = json!(["a", "b"]);
    assert_eq!(eval_missing("ForAllValues:StringEquals", "aws:TagKeys", list.clone()), True);
    assert_eq!(eval1("ForAllValues:StringEquals", "aws:TagKeys", list.clone(), json!([])), True);
    assert_eq!(eval_missing("ForAllValues:StringEquals", "aws:PrincipalTag/x", list.clone()), True);
    assert_eq!(eval_missing("ForAllValues:StringNotEquals", "aws:TagKeys", list.clone()), True);
    assert_eq!(eval_missing("ForAllValues:NumericLessThan", "my:nums", json!(5)), True);
    assert_eq!(eval_missing("ForAllValues:IpAddress", "my:ips", json!("10.0.0.0/8")), True);
}

#[test]
fn for_all_values_requires_every_request_value_to_match_some_policy_value() {
    // Edge case 17.
    let list = json!(["a", "b"]);
    assert_eq!(eval1("ForAllValues:StringEquals", "aws:TagKeys", list.clone(), json!(["a", "c"])), False);
    assert_eq!(eval1("ForAllValues:StringEquals", "aws:TagKeys", list.clone(), json!(["b", "a"])), True);
    assert_eq!(eval1("ForAllValues:StringEquals", "aws:TagKeys", list.clone(), json!(["b"])), True);
    // A single-valued key acts as a one-element set.
    assert_eq!(eval1("ForAllValues:StringEquals", "aws:PrincipalTag/x", list.clone(), json!("a")), True);
    assert_eq!(eval1("ForAllValues:StringEquals", "aws:PrincipalTag/x", list, json!("c")), False);
}

#[test]
fn for_all_values_with_a_negated_operator_requires_every_value_to_match_none() {
    let list = json!(["a", "b"]);
    assert_eq!(eval1("ForAllValues:StringNotEquals", "aws:TagKeys", list.clone(), json!(["c", "d"])), True);
    assert_eq!(eval1("ForAllValues:StringNotEquals", "aws:TagKeys", list.clone(), json!(["c", "a"])), False);
    assert_eq!(eval1("ForAllValues:StringNotEquals", "aws:TagKeys", list, json!(["b"])), False);
}

#[test]
fn for_any_value_is_false_on_missing_or_empty() {
    // Edge case 18.
    let list = json!(["a", "b"]);
    assert_eq!(eval_missing("ForAnyValue:StringEquals", "aws:TagKeys", list.clone()), False);
    assert_eq!(eval1("ForAnyValue:StringEquals", "aws:TagKeys", list.clone(), json!([])), False);
    assert_eq!(eval_missing("ForAnyValue:StringNotEquals", "aws:TagKeys", list.clone()), False);
    assert_eq!(eval_missing("ForAnyValue:StringNotLike", "aws:TagKeys", list), False);
}

#[test]
fn for_any_value_requires_some_request_value_to_match() {
    let list = json!(["a", "b"]);
    assert_eq!(eval1("ForAnyValue:StringEquals", "aws:TagKeys", list.clone(), json!(["c", "a"])), True);
    assert_eq!(eval1("ForAnyValue:StringEquals", "aws:TagKeys", list.clone(), json!(["c", "d"])), False);
    assert_eq!(eval1("ForAnyValue:StringEquals", "aws:TagKeys", list.clone(), json!(["b"])), True);
    assert_eq!(eval1("ForAnyValue:StringEquals", "aws:PrincipalTag/x", list, json!("b")), True);
}

#[test]
fn for_any_value_string_not_equals() {
    // Edge case 19.
    assert_eq!(eval1("ForAnyValue:StringNotEquals", "aws:TagKeys", json!(["a"]), json!(["a"])), False);
    assert_eq!(eval1("ForAnyValue:StringNotEquals", "aws:TagKeys", json!(["a"]), json!(["a", "z"])), True);
    assert_eq!(eval1("ForAnyValue:StringNotEquals", "aws:TagKeys", json!(["a", "z"]), json!(["a", "z"])), False);
}

#[test]
fn set_qualifiers_with_other_families() {
    assert_eq!(eval1("ForAllValues:StringLike", "aws:TagKeys", json!("team-*"), json!(["team-a", "team-b"])), True);
    assert_eq!(eval1("ForAllValues:StringLike", "aws:TagKeys", json!("team-*"), json!(["team-a", "cost"])), False);
    assert_eq!(eval1("ForAnyValue:NumericGreaterThan", "my:nums", json!(5), json!([1, 7])), True);
    assert_eq!(eval1("ForAnyValue:NumericGreaterThan", "my:nums", json!(5), json!([1, 5])), False);
    assert_eq!(eval1("ForAllValues:NumericLessThan", "my:nums", json!(10), json!([1, "abc"])), False);
    assert_eq!(
        eval1(
            "ForAnyValue:StringEqualsIgnoreCase",
            "aws:CalledVia",
            json!("ATHENA.amazonaws.com"),
            json!(["glue.amazonaws.com", "athena.amazonaws.com"])
        ),
        True
    );
    assert_eq!(
        eval1(
            "ForAllValues:ArnLike",
            "my:arns",
            json!("arn:aws:s3:::b/*"),
            json!(["arn:aws:s3:::b/1", "arn:aws:s3:::b/2"])
        ),
        True
    );
    assert_eq!(eval1("ForAnyValue:IpAddress", "my:ips", json!("10.0.0.0/8"), json!(["192.0.2.1", "10.1.2.3"])), True);
}

#[test]
fn for_all_values_if_exists_on_missing_key_is_true() {
    assert_eq!(eval_missing("ForAllValues:StringEqualsIfExists", "aws:TagKeys", json!("a")), True);
    assert_eq!(eval1("ForAllValues:StringEqualsIfExists", "aws:TagKeys", json!("a"), json!(["a", "b"])), False);
}

#[test]
fn unqualified_operator_on_a_key_with_several_values() {
    // Edge case 21: no match for positive operators, match for negated ones.
    let k = "aws:CalledVia";
    let two = json!(["athena.amazonaws.com", "glue.amazonaws.com"]);
    assert_eq!(eval1("StringEquals", k, json!("athena.amazonaws.com"), two.clone()), False);
    assert_eq!(eval1("StringEquals", k, json!(["athena.amazonaws.com", "glue.amazonaws.com"]), two.clone()), False);
    assert_eq!(eval1("StringLike", k, json!("*"), two.clone()), False);
    assert_eq!(eval1("StringEqualsIfExists", k, json!("athena.amazonaws.com"), two.clone()), False);
    assert_eq!(eval1("StringNotEquals", k, json!("athena.amazonaws.com"), two.clone()), True);
    assert_eq!(eval1("StringNotEquals", k, json!("lambda.amazonaws.com"), two.clone()), True);
    assert_eq!(eval1("StringNotLike", k, json!("*"), two), True);
    assert_eq!(eval1("NotIpAddress", "my:ips", json!("10.0.0.0/8"), json!(["10.0.0.1", "10.0.0.2"])), True);
    assert_eq!(eval1("IpAddress", "my:ips", json!("10.0.0.0/8"), json!(["10.0.0.1", "10.0.0.2"])), False);
}

#[test]
fn unqualified_operator_on_a_one_element_list_compares_normally() {
    let k = "aws:CalledVia";
    assert_eq!(eval1("StringEquals", k, json!("athena.amazonaws.com"), json!(["athena.amazonaws.com"])), True);
    assert_eq!(eval1("StringNotEquals", k, json!("athena.amazonaws.com"), json!(["athena.amazonaws.com"])), False);
}

// ---------------------------------------------------------------------------------------------
// Policy variables (`docs/semantics.md#policy-variables`)
// ---------------------------------------------------------------------------------------------

#[test]
fn variable_in_string_value_is_substituted() {
    let ctx = |prefix: &str| json!({"aws:username": "alice", "s3:prefix": prefix});
    assert_eq!(eval("StringEquals", "s3:prefix", json!("home/${aws:username}"), ctx("home/alice")), True);
    assert_eq!(eval("StringEquals", "s3:prefix", json!("home/${aws:username}"), ctx("home/bob")), False);
    assert_eq!(eval("StringLike", "s3:prefix", json!("home/${aws:username}/*"), ctx("home/alice/x")), True);
    assert_eq!(eval("StringLike", "s3:prefix", json!("home/${aws:username}/*"), ctx("home/bob/x")), False);
    assert_eq!(eval("StringNotEquals", "s3:prefix", json!("home/${aws:username}"), ctx("home/alice")), False);
    assert_eq!(eval("StringNotEquals", "s3:prefix", json!("home/${aws:username}"), ctx("home/bob")), True);
    assert_eq!(eval("StringEqualsIgnoreCase", "s3:prefix", json!("HOME/${aws:username}"), ctx("home/ALICE")), True);
}

#[test]
fn variable_keys_are_case_insensitive() {
    let ctx = json!({"aws:username": "alice", "aws:PrincipalTag/Team": "red", "my:team": "red"});
    assert_eq!(eval("StringEquals", "my:team", json!("${aws:principaltag/team}"), ctx.clone()), True);
    assert_eq!(eval("StringEquals", "aws:UserName", json!("${AWS:USERNAME}"), ctx), True);
}

#[test]
fn variable_default_applies_only_when_the_key_is_absent() {
    // Edge case 30.
    let v = json!("${aws:username, 'anonymous'}");
    assert_eq!(eval("StringEquals", "my:who", v.clone(), json!({"my:who": "anonymous"})), True);
    assert_eq!(eval("StringEquals", "my:who", v.clone(), json!({"my:who": "bob", "aws:username": "bob"})), True);
    assert_eq!(eval("StringEquals", "my:who", v.clone(), json!({"my:who": "anonymous", "aws:username": "bob"})), False);
    assert_eq!(eval("StringNotEquals", "my:who", v, json!({"my:who": "x"})), True);
}

#[test]
fn variable_substituted_text_is_literal() {
    let ctx = |prefix: &str| json!({"aws:username": "a*", "s3:prefix": prefix});
    assert_eq!(eval("StringLike", "s3:prefix", json!("home/${aws:username}/*"), ctx("home/a*/x")), True);
    assert_eq!(eval("StringLike", "s3:prefix", json!("home/${aws:username}/*"), ctx("home/ab/x")), False);
    let ctx = |prefix: &str| json!({"aws:username": "a?", "s3:prefix": prefix});
    assert_eq!(eval("StringLike", "s3:prefix", json!("${aws:username}"), ctx("ab")), False);
    assert_eq!(eval("StringLike", "s3:prefix", json!("${aws:username}"), ctx("a?")), True);
    // Default text is substituted text: literal as well.
    let no_user = |prefix: &str| json!({"s3:prefix": prefix});
    assert_eq!(eval("StringLike", "s3:prefix", json!("${aws:username, 'a*'}"), no_user("a*")), True);
    assert_eq!(eval("StringLike", "s3:prefix", json!("${aws:username, 'a*'}"), no_user("ab")), False);
}

#[test]
fn variable_escapes_are_literal_characters() {
    // Edge case 32.
    assert_eq!(eval1("StringLike", "s3:prefix", json!("a${*}"), json!("a*")), True);
    assert_eq!(eval1("StringLike", "s3:prefix", json!("a${*}"), json!("ab")), False);
    assert_eq!(eval1("StringLike", "s3:prefix", json!("a${?}"), json!("a?")), True);
    assert_eq!(eval1("StringLike", "s3:prefix", json!("a${?}"), json!("ab")), False);
    assert_eq!(eval1("StringEquals", "s3:prefix", json!("a${*}"), json!("a*")), True);
    // `${$}` is a literal `$`, so `${$}{aws:username}` is the text `${aws:username}`.
    let ctx = |prefix: &str| json!({"aws:username": "alice", "s3:prefix": prefix});
    assert_eq!(eval("StringEquals", "s3:prefix", json!("${$}{aws:username}"), ctx("${aws:username}")), True);
    assert_eq!(eval("StringEquals", "s3:prefix", json!("${$}{aws:username}"), ctx("alice")), False);
    assert_eq!(
        eval("ArnLike", "aws:SourceArn", json!("arn:aws:s3:::b${*}"), json!({"aws:SourceArn": "arn:aws:s3:::bx"})),
        False
    );
    assert_eq!(
        eval("ArnLike", "aws:SourceArn", json!("arn:aws:s3:::b${*}"), json!({"aws:SourceArn": "arn:aws:s3:::b*"})),
        True
    );
}

#[test]
fn variable_in_arn_values() {
    let ctx = |arn: &str| json!({"aws:username": "alice", "aws:PrincipalArn": arn});
    let p = json!("arn:aws:iam::*:user/${aws:username}");
    assert_eq!(eval("ArnLike", "aws:PrincipalArn", p.clone(), ctx("arn:aws:iam::111122223333:user/alice")), True);
    assert_eq!(eval("ArnLike", "aws:PrincipalArn", p.clone(), ctx("arn:aws:iam::111122223333:user/bob")), False);
    assert_eq!(eval("ArnNotEquals", "aws:PrincipalArn", p.clone(), ctx("arn:aws:iam::111122223333:user/alice")), False);
    assert_eq!(eval("ArnNotEquals", "aws:PrincipalArn", p, ctx("arn:aws:iam::111122223333:user/bob")), True);
    // A whole ARN substituted from another key.
    let ctx = json!({"aws:SourceArn": "arn:aws:s3:::b", "my:arn": "arn:aws:s3:::b"});
    assert_eq!(eval("ArnEquals", "aws:SourceArn", json!("${my:arn}"), ctx), True);
}

#[test]
fn unresolvable_variable_matches_nothing_under_positive_operators() {
    // `docs/semantics.md#policy-variables`: no value and no default → the entry matches nothing.
    let no_user = json!({"s3:prefix": "home/"});
    assert_eq!(eval("StringEquals", "s3:prefix", json!("home/${aws:username}"), no_user.clone()), False);
    assert_eq!(eval("StringLike", "s3:prefix", json!("home/${aws:username}*"), no_user.clone()), False);
    assert_eq!(eval("StringLike", "s3:prefix", json!("*${aws:username}*"), no_user.clone()), False);
    // Other values of the same key still match.
    assert_eq!(eval("StringEquals", "s3:prefix", json!(["${aws:username}", "home/"]), no_user.clone()), True);
    assert_eq!(
        eval(
            "ArnLike",
            "aws:SourceArn",
            json!("arn:aws:s3:::${aws:username}*"),
            json!({"aws:SourceArn": "arn:aws:s3:::x"})
        ),
        False
    );
    assert_eq!(
        eval("ForAnyValue:StringLike", "aws:TagKeys", json!("${aws:username}*"), json!({"aws:TagKeys": ["a"]})),
        False
    );
}

#[test]
fn unresolvable_variable_under_a_negated_operator_is_invalid() {
    // `docs/semantics.md#policy-variables`: the whole statement is dropped.
    let no_user = json!({"s3:prefix": "home/"});
    assert_eq!(eval("StringNotEquals", "s3:prefix", json!("home/${aws:username}"), no_user.clone()), Invalid);
    assert_eq!(eval("StringNotLike", "s3:prefix", json!(["x", "${aws:PrincipalTag/team}"]), no_user.clone()), Invalid);
    assert_eq!(eval("StringNotEqualsIgnoreCase", "s3:prefix", json!("${aws:username}"), no_user.clone()), Invalid);
    assert_eq!(
        eval(
            "ArnNotEquals",
            "aws:SourceArn",
            json!("arn:aws:iam::1:user/${aws:username}"),
            json!({"aws:SourceArn": "arn:aws:iam::1:user/x"})
        ),
        Invalid
    );
    assert_eq!(eval("ArnNotLike", "aws:SourceArn", json!("arn:aws:iam::1:user/${aws:username}"), json!({})), Invalid);
    assert_eq!(
        eval("ForAllValues:StringNotEquals", "aws:TagKeys", json!("${aws:username}"), json!({"aws:TagKeys": ["a"]})),
        Invalid
    );
    // With a default, or once the key is present, it resolves.
    assert_eq!(eval("StringNotEquals", "s3:prefix", json!("home/${aws:username, 'x'}"), no_user), True);
    assert_eq!(
        eval(
            "StringNotEquals",
            "s3:prefix",
            json!("home/${aws:username}"),
            json!({"s3:prefix": "home/", "aws:username": "a"})
        ),
        True
    );
}

#[test]
fn dollar_braces_are_literal_in_version_2008() {
    // Edge case 31, for condition values.
    let ctx = |v: &str| json!({"aws:username": "alice", "s3:prefix": v});
    for version in [None, Some("2008-10-17")] {
        let d = doc(version, "StringEquals", "s3:prefix", json!("home/${aws:username}"));
        assert_eq!(eval_doc(&d, ctx("home/alice")), False);
        assert_eq!(eval_doc(&d, ctx("home/${aws:username}")), True);
        let d = doc(version, "StringNotEquals", "s3:prefix", json!("${aws:userid}"));
        assert_eq!(eval_doc(&d, ctx("x")), True, "literal text, never Invalid");
    }
}

// ---------------------------------------------------------------------------------------------
// Load-time rejection
// ---------------------------------------------------------------------------------------------

#[test]
fn every_operator_name_loads_with_a_valid_value() {
    let sample = |op: &str| match op {
        o if o.starts_with("String") => json!("x"),
        o if o.starts_with("Numeric") => json!(1),
        o if o.starts_with("Date") => json!("2026-01-01T00:00:00Z"),
        "Bool" | "Null" => json!("true"),
        "BinaryEquals" => json!("QmluYXJ5VmFsdWU="),
        "IpAddress" | "NotIpAddress" => json!("10.0.0.0/8"),
        _ => json!("arn:aws:s3:::b"),
    };
    for (kind, name) in OpKind::ALL {
        let mut names = vec![name.to_owned()];
        if kind != OpKind::Null {
            names.extend([
                format!("{name}IfExists"),
                format!("ForAllValues:{name}"),
                format!("ForAnyValue:{name}IfExists"),
            ]);
        }
        for op in names {
            let d = doc(Some("2012-10-17"), &op, "k", sample(name));
            let mut errors = Vec::new();
            let policy = parse_policy(&Json::from_value(&d), PolicyKind::Identity, "", &mut errors);
            assert!(policy.is_some() && errors.is_empty(), "{op}: {errors:?}");
        }
    }
}

#[test]
fn unknown_operator_is_rejected_with_a_suggestion() {
    for (op, suggestion) in [
        ("StringEqual", "StringEquals"),
        ("NumericLessThanEqual", "NumericLessThanEquals"),
        ("IpAdress", "IpAddress"),
        ("ArnLke", "ArnLike"),
        ("ForAnyValue:StringEqual", "StringEquals"),
        ("DateGreaterThanIfExist", ""),
    ] {
        let errors = load_errors(op, "k", json!("x"));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].0, format!("/Statement/Condition/{op}"));
        assert!(errors[0].1.contains("unknown condition operator"), "{}", errors[0].1);
        if !suggestion.is_empty() {
            assert!(errors[0].1.contains(&format!("did you mean {suggestion}?")), "{}", errors[0].1);
        }
    }
}

#[test]
fn operator_names_are_case_sensitive() {
    // `docs/semantics.md#grammar`: keycard requires exact case.
    assert_rejected("stringequals", "k", json!("x"), "stringequals", "did you mean StringEquals?");
    assert_rejected("Stringlike", "k", json!("x"), "Stringlike", "did you mean StringLike?");
    assert_rejected(
        "forallvalues:StringEquals",
        "k",
        json!("x"),
        "forallvalues:StringEquals",
        "unknown condition operator",
    );
}

#[test]
fn null_if_exists_is_rejected() {
    assert_rejected("NullIfExists", "aws:TokenIssueTime", json!("true"), "NullIfExists", "Null");
}

#[test]
fn null_with_a_set_qualifier_is_rejected() {
    assert_rejected("ForAllValues:Null", "aws:TagKeys", json!("false"), "ForAllValues:Null", "Null");
    assert_rejected("ForAnyValue:Null", "aws:TagKeys", json!("false"), "ForAnyValue:Null", "Null");
}

#[test]
fn variables_are_rejected_in_numeric_date_ip_binary_and_null_values() {
    for (op, valid) in [
        ("NumericEquals", "1"),
        ("NumericLessThanIfExists", "1"),
        ("DateLessThan", "2026-01-01"),
        ("IpAddress", "10.0.0.0/8"),
        ("NotIpAddress", "10.0.0.0/8"),
        ("BinaryEquals", "QmluYXJ5VmFsdWU="),
        ("Null", "true"),
    ] {
        assert_rejected(op, "k", json!("${aws:username}"), &format!("{op}/k"), "policy variables are not allowed");
        assert_rejected(
            op,
            "k",
            json!([valid, "${aws:username, '1'}"]),
            &format!("{op}/k/1"),
            "policy variables are not allowed",
        );
    }
}

#[test]
fn unparsable_numeric_value_is_rejected() {
    assert_rejected("NumericEquals", "s3:max-keys", json!("abc"), "NumericEquals/s3:max-keys", "expected a number");
    assert_rejected(
        "NumericLessThan",
        "s3:max-keys",
        json!([1, "ten"]),
        "NumericLessThan/s3:max-keys/1",
        "expected a number",
    );
    assert_rejected(
        "NumericGreaterThan",
        "aws:PrincipalTag/n",
        json!(""),
        "NumericGreaterThan/aws:PrincipalTag~1n",
        "expected a number",
    );
    assert_rejected("NumericEquals", "k", json!(true), "NumericEquals/k", "expected a number");
}

#[test]
fn unparsable_date_value_is_rejected() {
    for bad in ["yesterday", "2026-13-01", "2026-02-30", "2026-01-01T25:00Z", "2026-01-01T10:00+0200", ""] {
        assert_rejected(
            "DateLessThan",
            "aws:CurrentTime",
            json!(bad),
            "DateLessThan/aws:CurrentTime",
            "expected an ISO 8601 date",
        );
    }
    assert_rejected(
        "DateEquals",
        "aws:CurrentTime",
        json!(["2026-01-01", "soon"]),
        "DateEquals/aws:CurrentTime/1",
        "expected an ISO 8601 date",
    );
}

#[test]
fn unparsable_ip_value_is_rejected() {
    for bad in ["300.1.1.1", "10.0.0.0/33", "2001:db8::/129", "10.0.0.1/", "10.0.0.1/x", "not-an-ip", "2001:db8:::1"] {
        assert_rejected(
            "IpAddress",
            "aws:SourceIp",
            json!(bad),
            "IpAddress/aws:SourceIp",
            "expected an IP address or CIDR",
        );
    }
    assert_rejected(
        "NotIpAddress",
        "aws:SourceIp",
        json!(["10.0.0.0/8", "x"]),
        "NotIpAddress/aws:SourceIp/1",
        "expected an IP address or CIDR",
    );
}

#[test]
fn unparsable_base64_value_is_rejected() {
    assert_rejected("BinaryEquals", "my:blob", json!("not base64!"), "BinaryEquals/my:blob", "expected base64");
    assert_rejected(
        "BinaryEquals",
        "my:blob",
        json!(["QmluYXJ5VmFsdWU=", "%%%"]),
        "BinaryEquals/my:blob/1",
        "expected base64",
    );
}

#[test]
fn unparsable_bool_value_is_rejected() {
    assert_rejected(
        "Bool",
        "aws:SecureTransport",
        json!("yes"),
        "Bool/aws:SecureTransport",
        "expected \"true\" or \"false\"",
    );
    assert_rejected(
        "Bool",
        "aws:SecureTransport",
        json!(1),
        "Bool/aws:SecureTransport",
        "expected \"true\" or \"false\"",
    );
    assert_rejected(
        "BoolIfExists",
        "aws:SecureTransport",
        json!([true, "no"]),
        "BoolIfExists/aws:SecureTransport/1",
        "expected \"true\" or \"false\"",
    );
}

#[test]
fn unparsable_null_value_is_rejected() {
    assert_rejected(
        "Null",
        "aws:TokenIssueTime",
        json!("maybe"),
        "Null/aws:TokenIssueTime",
        "expected \"true\" or \"false\"",
    );
    assert_rejected(
        "Null",
        "aws:TokenIssueTime",
        json!(0),
        "Null/aws:TokenIssueTime",
        "expected \"true\" or \"false\"",
    );
}

#[test]
fn null_object_and_nested_array_values_are_rejected() {
    assert_rejected("StringEquals", "k", json!(null), "StringEquals/k", "found null");
    assert_rejected("StringEquals", "k", json!({"a": "b"}), "StringEquals/k", "found an object");
    assert_rejected("StringEquals", "k", json!(["a", ["b"]]), "StringEquals/k/1", "found an array");
    assert_rejected("StringEquals", "k", json!(["a", null]), "StringEquals/k/1", "found null");
    assert_rejected("NumericEquals", "k", json!([{"n": 1}]), "NumericEquals/k/0", "found an object");
}

#[test]
fn empty_value_array_is_rejected() {
    assert_rejected("StringEquals", "k", json!([]), "StringEquals/k", "empty array");
    assert_rejected(
        "ForAllValues:StringEquals",
        "aws:TagKeys",
        json!([]),
        "ForAllValues:StringEquals/aws:TagKeys",
        "empty array",
    );
    assert_rejected("IpAddress", "aws:SourceIp", json!([]), "IpAddress/aws:SourceIp", "empty array");
}

#[test]
fn variables_are_rejected_in_condition_keys_and_for_multivalued_keys() {
    assert_rejected(
        "StringEquals",
        "aws:PrincipalTag/${aws:username}",
        json!("x"),
        "StringEquals/aws:PrincipalTag~1${aws:username}",
        "condition keys",
    );
    assert_rejected("StringEquals", "k", json!("${aws:TagKeys}"), "StringEquals/k", "multivalued");
    assert_rejected("StringEquals", "k", json!("${aws:username"), "StringEquals/k", "unterminated");
    assert_rejected("StringLike", "k", json!("${aws:username, nobody}"), "StringLike/k", "single-quoted");
}

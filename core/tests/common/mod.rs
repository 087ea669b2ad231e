//! Store and request builders shared by the evaluation and edge-case tests: accounts, ARNs,
//! request JSON, policy documents.

#![allow(dead_code)]

use serde_json::{json, Value};

/// The account most tests live in.
pub const A: &str = "111122223333";

/// Another account (cross-account cases, outsiders, organization members).
pub const B: &str = "444455556666";

/// The organization's management account.
pub const MGMT: &str = "999999999999";

pub fn req(principal: &str, action: &str, resource: &str) -> Value {
    json!({"principal": principal, "action": action, "resource": resource})
}

pub fn req_ctx(principal: &str, action: &str, resource: &str, context: Value) -> Value {
    json!({"principal": principal, "action": action, "resource": resource, "context": context})
}

/// Adds (or replaces) one top-level field of a request.
pub fn with(mut request: Value, field: &str, value: Value) -> Value {
    request[field] = value;
    request
}

pub fn user_arn(account: &str, path_and_name: &str) -> String {
    format!("arn:aws:iam::{account}:user/{path_and_name}")
}

pub fn role_arn(account: &str, path_and_name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{path_and_name}")
}

pub fn session_arn(account: &str, role: &str, session: &str) -> String {
    format!("arn:aws:sts::{account}:assumed-role/{role}/{session}")
}

pub fn root_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:root")
}

/// A 2012-10-17 policy document.
pub fn doc(statements: Value) -> Value {
    json!({"Version": "2012-10-17", "Statement": statements})
}

/// A document with one `Allow` statement.
pub fn allow(action: Value, resource: Value) -> Value {
    doc(json!([{"Effect": "Allow", "Action": action, "Resource": resource}]))
}

/// A trust policy letting `principal` (an `AWS` principal value) call `sts:AssumeRole`.
pub fn trust(principal: Value) -> Value {
    doc(json!([{"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}]))
}

/// A unique-looking IAM ID: `prefix` followed by 17 base-32 characters derived from `seed`.
pub fn unique_id(prefix: &str, seed: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut id = prefix.to_string();
    for _ in 0..17 {
        id.push(char::from(ALPHABET[(h % 32) as usize]));
        h = h.rotate_right(5) ^ 0x9e37_79b9_7f4a_7c15;
    }
    id
}

pub fn tags(pairs: &[(&str, &str)]) -> Value {
    Value::Array(pairs.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect())
}

pub fn inline(policies: &[Value]) -> Value {
    Value::Array(
        policies
            .iter()
            .enumerate()
            .map(|(i, p)| json!({"PolicyName": format!("Inline{i}"), "PolicyDocument": p}))
            .collect(),
    )
}

pub fn alice() -> String {
    user_arn(A, "alice")
}

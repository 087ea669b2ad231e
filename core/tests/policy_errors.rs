#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
//! One test per load-time rule of `docs/semantics.md#grammar` (documents, statements, principal
//! forms, elements per policy type) and `#policy-variables` (where they are allowed), through the
//! public store API (`docs/store.md`).
//!
//! Every rejection test embeds one policy document in a minimal store document (as a user inline
//! policy, a role trust policy, a resource policy, an SCP, an RCP or a managed policy) and asserts
//! the exact JSON pointer of the error and a fragment of its message. Where a document is accepted
//! under some other condition (another policy type, Version 2008-10-17, ...), the same test shows
//! that too, so a rule cannot pass by rejecting everything.

use keycard::{LoadError, Problem, Severity, Store};

/// The account every store document lives in.
const A: &str = "111122223333";

/// Where each kind of embedded policy document sits in its store document.
const USER: &str = "/UserDetailList/0/UserPolicyList/0/PolicyDocument";
const TRUST: &str = "/RoleDetailList/0/AssumeRolePolicyDocument";
const RESOURCE: &str = "/ResourcePolicies/0/Policy";
const SCP: &str = "/Organization/ServiceControlPolicies/0/Policy";
const RCP: &str = "/Organization/ResourceControlPolicies/0/Policy";

/// A valid identity statement.
const ID_STMT: &str = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#;
/// A valid resource-policy statement.
const RES_STMT: &str =
    r#"{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject", "Resource": "*"}"#;
/// A valid trust-policy statement.
const TRUST_STMT: &str =
    r#"{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}"#;
/// A valid RCP statement.
const RCP_STMT: &str = r#"{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*",
    "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abc"}}}"#;

// ---------------------------------------------------------------------------------------------
// Building store documents
// ---------------------------------------------------------------------------------------------

/// A 2012-10-17 policy document holding the given statements (JSON text, comma-separated).
fn doc(statements: &str) -> String {
    format!(r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#)
}

/// A 2008-10-17 policy document holding the given statements.
fn doc08(statements: &str) -> String {
    format!(r#"{{"Version": "2008-10-17", "Statement": [{statements}]}}"#)
}

/// A store with one user whose only inline policy is `policy` (JSON text). Pointer: [`USER`].
fn user(policy: &str) -> String {
    format!(
        r#"{{"UserDetailList": [{{"UserName": "alice", "Arn": "arn:aws:iam::{A}:user/alice",
            "UserPolicyList": [{{"PolicyName": "inline", "PolicyDocument": {policy}}}]}}]}}"#
    )
}

/// A store with one role whose trust policy is `policy`. Pointer: [`TRUST`].
fn trust(policy: &str) -> String {
    format!(
        r#"{{"RoleDetailList": [{{"RoleName": "app", "Arn": "arn:aws:iam::{A}:role/app",
            "AssumeRolePolicyDocument": {policy}}}]}}"#
    )
}

/// A store with one resource policy. Pointer: [`RESOURCE`].
fn resource(policy: &str) -> String {
    format!(
        r#"{{"ResourcePolicies": [{{"ResourceArn": "arn:aws:s3:::reports", "Account": "{A}",
            "Policy": {policy}}}]}}"#
    )
}

/// A store with an organization holding one SCP. Pointer: [`SCP`].
fn scp(policy: &str) -> String {
    format!(
        r#"{{"Organization": {{"ManagementAccount": "999999999999",
            "Accounts": [{{"Id": "{A}", "Parents": ["r-root"]}}],
            "ServiceControlPolicies": [{{"Name": "Guard", "Targets": ["r-root"], "Policy": {policy}}}]}}}}"#
    )
}

/// A store with an organization holding one RCP. Pointer: [`RCP`].
fn rcp(policy: &str) -> String {
    format!(
        r#"{{"Organization": {{"ManagementAccount": "999999999999",
            "Accounts": [{{"Id": "{A}", "Parents": ["r-root"]}}],
            "ResourceControlPolicies": [{{"Name": "Guard", "Targets": ["r-root"], "Policy": {policy}}}]}}}}"#
    )
}

/// A store with one customer managed policy whose versions are `versions` (JSON objects,
/// comma-separated). The policy of version `i` sits at `/Policies/0/PolicyVersionList/i/Document`.
fn managed(versions: &str) -> String {
    format!(
        r#"{{"Policies": [{{"PolicyName": "m", "Arn": "arn:aws:iam::{A}:policy/m",
            "PolicyVersionList": [{versions}]}}]}}"#
    )
}

/// One version of a managed policy.
fn version(id: &str, is_default: bool, policy: &str) -> String {
    format!(r#"{{"VersionId": "{id}", "IsDefaultVersion": {is_default}, "Document": {policy}}}"#)
}

/// A JSON string literal holding `text` (for policy documents given as strings).
fn json_string(text: &str) -> String {
    serde_json::to_string(text).unwrap()
}

/// Percent-encodes everything but RFC 3986 unreserved characters, as the raw IAM API does.
fn url_encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Loading and asserting
// ---------------------------------------------------------------------------------------------

fn load(store_text: &str) -> Result<Store, LoadError> {
    Store::from_documents([("a.json", store_text)])
}

fn show(problems: &[Problem]) -> String {
    problems.iter().map(|p| format!("\n  {p}")).collect()
}

/// Loads `store_text`, which must be rejected; returns its errors.
#[track_caller]
fn errors_of(store_text: &str) -> Vec<Problem> {
    match load(store_text) {
        Ok(store) => {
            panic!("store loaded but should have been rejected (warnings:{})\n{store_text}", show(store.warnings()))
        }
        Err(e) => e.problems().iter().filter(|p| p.severity() == Severity::Error).cloned().collect(),
    }
}

/// Asserts the store is rejected with an Error whose pointer ends with `pointer_suffix` and whose
/// message contains `message_fragment`. Returns every error, for further checks.
#[track_caller]
fn assert_rejected(store_text: &str, pointer_suffix: &str, message_fragment: &str) -> Vec<Problem> {
    let errors = errors_of(store_text);
    assert!(
        errors.iter().any(|p| p.file() == "a.json"
            && p.pointer().ends_with(pointer_suffix)
            && p.message().contains(message_fragment)),
        "expected an error at {pointer_suffix:?} containing {message_fragment:?}; got:{}\nstore: {store_text}",
        show(&errors)
    );
    errors
}

/// As [`assert_rejected`], and that error is the only one.
#[track_caller]
fn assert_only_error(store_text: &str, pointer_suffix: &str, message_fragment: &str) {
    let errors = assert_rejected(store_text, pointer_suffix, message_fragment);
    assert_eq!(errors.len(), 1, "expected exactly one error; got:{}", show(&errors));
}

/// Asserts the store loads; returns it.
#[track_caller]
fn assert_loads(store_text: &str) -> Store {
    match load(store_text) {
        Ok(store) => store,
        Err(e) => panic!("store should load; got:{}\nstore: {store_text}", show(e.problems())),
    }
}

/// Asserts the store loads without any warning.
#[track_caller]
fn assert_loads_clean(store_text: &str) -> Store {
    let store = assert_loads(store_text);
    assert!(store.warnings().is_empty(), "unexpected warnings:{}", show(store.warnings()));
    store
}

// ---------------------------------------------------------------------------------------------
// Sanity: the wrappers themselves produce loadable stores
// ---------------------------------------------------------------------------------------------

#[test]
fn valid_documents_of_every_type_load() {
    assert_loads_clean(&user(&doc(ID_STMT)));
    assert_loads_clean(&trust(&doc(TRUST_STMT)));
    assert_loads_clean(&resource(&doc(RES_STMT)));
    assert_loads_clean(&scp(&doc(ID_STMT)));
    assert_loads_clean(&rcp(&doc(RCP_STMT)));
    assert_loads_clean(&managed(&version("v1", true, &doc(ID_STMT))));
    // A single statement object instead of an array.
    assert_loads_clean(&user(&format!(r#"{{"Version": "2012-10-17", "Statement": {ID_STMT}}}"#)));
    // A policy document given as a JSON string (not URL-encoded).
    assert_loads_clean(&user(&json_string(&doc(ID_STMT))));
}

// ---------------------------------------------------------------------------------------------
// Elements and keys
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_top_level_element_statement_lowercase() {
    let policy = format!(r#"{{"Version": "2012-10-17", "statement": [{ID_STMT}]}}"#);
    assert_only_error(&user(&policy), &format!("{USER}/statement"), "did you mean Statement");
}

#[test]
fn unknown_statement_element_effect_lowercase() {
    let stmt = r#"{"effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/effect"), "did you mean Effect");
}

#[test]
fn unknown_statement_element_without_suggestion() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Comment": "x"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Comment"), "unknown element");
}

#[test]
fn unknown_principal_type() {
    let stmt =
        r#"{"Effect": "Allow", "Principal": {"aws": "111122223333"}, "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_rejected(&resource(&doc(stmt)), &format!("{RESOURCE}/Statement/0/Principal/aws"), "did you mean AWS");
}

#[test]
fn duplicate_key_in_statement() {
    let stmt = r#"{"Effect": "Allow", "Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_rejected(&user(&doc(stmt)), &format!("{USER}/Statement/0/Effect"), "duplicate key");
}

#[test]
fn duplicate_key_at_document_level() {
    let policy = format!(r#"{{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": [{ID_STMT}]}}"#);
    assert_rejected(&user(&policy), &format!("{USER}/Version"), "duplicate key");
}

#[test]
fn duplicate_key_in_condition_block() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {
        "StringEquals": {"aws:username": "a"}, "StringEquals": {"aws:username": "b"}}}"#;
    assert_rejected(&user(&doc(stmt)), &format!("{USER}/Statement/0/Condition/StringEquals"), "duplicate key");
}

#[test]
fn missing_effect() {
    let stmt = r#"{"Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0"), "missing Effect");
}

#[test]
fn effect_value_is_case_sensitive() {
    let stmt = r#"{"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Effect"), "\"allow\"");
}

#[test]
fn single_statement_object_pointer_has_no_index() {
    let policy =
        r#"{"Version": "2012-10-17", "Statement": {"Effect": "Permit", "Action": "s3:GetObject", "Resource": "*"}}"#;
    assert_only_error(&user(policy), &format!("{USER}/Statement/Effect"), "\"Permit\"");
}

#[test]
fn both_action_and_not_action() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "NotAction": "iam:*", "Resource": "*"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0"), "not both");
}

#[test]
fn neither_action_nor_not_action() {
    let stmt = r#"{"Effect": "Allow", "Resource": "*"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0"), "missing Action");
}

#[test]
fn action_without_colon() {
    let stmt = r#"{"Effect": "Allow", "Action": ["s3:GetObject", "GetObject"], "Resource": "*"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Action/1"), "\"GetObject\"");
    let stmt = r#"{"Effect": "Deny", "NotAction": "iam", "Resource": "*"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/NotAction"), "\"iam\"");
}

#[test]
fn resource_in_trust_policy() {
    let stmt = r#"{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Resource": "*"}"#;
    assert_only_error(&trust(&doc(stmt)), &format!("{TRUST}/Statement/0/Resource"), "not allowed in a trust policy");
    let stmt = r#"{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
        "NotResource": "*"}"#;
    assert_only_error(&trust(&doc(stmt)), &format!("{TRUST}/Statement/0/NotResource"), "not allowed in a trust policy");
}

#[test]
fn missing_resource_in_identity_policy() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0"), "missing Resource");
}

#[test]
fn both_resource_and_not_resource() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "NotResource": "arn:aws:s3:::x"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0"), "not both");
}

#[test]
fn resource_entry_must_be_star_or_arn() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["*", "reports/*"]}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Resource/1"), "\"reports/*\"");
}

#[test]
fn missing_resource_in_scp_and_resource_policy() {
    let stmt = r#"{"Effect": "Deny", "Action": "s3:*"}"#;
    assert_only_error(&scp(&doc(stmt)), &format!("{SCP}/Statement/0"), "missing Resource");
    let stmt = r#"{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}"#;
    assert_only_error(&resource(&doc(stmt)), &format!("{RESOURCE}/Statement/0"), "missing Resource");
}

#[test]
fn principal_in_identity_policy() {
    let stmt = r#"{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Principal"), "not allowed");
    let stmt =
        r#"{"Effect": "Deny", "NotPrincipal": {"AWS": "111122223333"}, "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/NotPrincipal"), "not allowed");
}

#[test]
fn principal_in_managed_policy_and_scp() {
    let stmt = r#"{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(
        &managed(&version("v1", true, &doc(stmt))),
        "/Policies/0/PolicyVersionList/0/Document/Statement/0/Principal",
        "not allowed",
    );
    let stmt = r#"{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}"#;
    assert_only_error(&scp(&doc(stmt)), &format!("{SCP}/Statement/0/Principal"), "not allowed");
}

#[test]
fn missing_principal_in_resource_policy() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(&resource(&doc(stmt)), &format!("{RESOURCE}/Statement/0"), "missing Principal");
}

#[test]
fn missing_principal_in_trust_policy() {
    let stmt = r#"{"Effect": "Allow", "Action": "sts:AssumeRole"}"#;
    assert_only_error(&trust(&doc(stmt)), &format!("{TRUST}/Statement/0"), "missing Principal");
}

#[test]
fn not_principal_with_allow() {
    let stmt =
        r#"{"Effect": "Allow", "NotPrincipal": {"AWS": "111122223333"}, "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(&resource(&doc(stmt)), &format!("{RESOURCE}/Statement/0/NotPrincipal"), "Deny");
    // With Deny it is accepted.
    let stmt =
        r#"{"Effect": "Deny", "NotPrincipal": {"AWS": "111122223333"}, "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_loads_clean(&resource(&doc(stmt)));
}

#[test]
fn not_principal_in_trust_policy() {
    let stmt = r#"{"Effect": "Deny", "NotPrincipal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"}"#;
    assert_rejected(
        &trust(&doc(&format!("{TRUST_STMT}, {stmt}"))),
        &format!("{TRUST}/Statement/1/NotPrincipal"),
        "not allowed",
    );
}

// ---------------------------------------------------------------------------------------------
// Principals
// ---------------------------------------------------------------------------------------------

#[test]
fn partial_wildcard_role_principal() {
    let stmt = r#"{"Effect": "Allow", "Principal": {"AWS": ["111122223333", "arn:aws:iam::1:role/*"]},
        "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(&resource(&doc(stmt)), &format!("{RESOURCE}/Statement/0/Principal/AWS/1"), "wildcard");
}

#[test]
fn partial_wildcard_assumed_role_principal() {
    let stmt = r#"{"Effect": "Allow", "Principal": {"AWS": "arn:aws:sts::111122223333:assumed-role/r/*"},
        "Action": "sts:AssumeRole"}"#;
    assert_only_error(&trust(&doc(stmt)), &format!("{TRUST}/Statement/0/Principal/AWS"), "wildcard");
    let stmt = r#"{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:sts::111122223333:assumed-role/r/*"]},
        "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(&resource(&doc(stmt)), &format!("{RESOURCE}/Statement/0/Principal/AWS/0"), "wildcard");
}

#[test]
fn every_documented_principal_form_loads() {
    let stmt = r#"{"Effect": "Allow", "Principal": {
        "AWS": ["*", "123456789012", "arn:aws:iam::123456789012:root", "arn:aws:iam::123456789012:user/dev/alice",
                "arn:aws:iam::123456789012:role/svc/app", "arn:aws:sts::123456789012:assumed-role/app/sess-1",
                "arn:aws:sts::123456789012:federated-user/bob", "AROAEXAMPLEID1234567"],
        "Service": ["lambda.amazonaws.com"],
        "Federated": ["arn:aws:iam::123456789012:saml-provider/corp", "accounts.google.com"],
        "CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
        "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_loads_clean(&resource(&doc(stmt)));
    let stmt = r#"{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_loads_clean(&resource(&doc(stmt)));
}

#[test]
fn invalid_principal_entry() {
    let stmt = r#"{"Effect": "Allow", "Principal": {"AWS": ["111122223333", "alice"]}, "Action": "s3:GetObject",
        "Resource": "*"}"#;
    assert_only_error(&resource(&doc(stmt)), &format!("{RESOURCE}/Statement/0/Principal/AWS/1"), "\"alice\"");
    // A principal string other than "*".
    let stmt = r#"{"Effect": "Allow", "Principal": "111122223333", "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(&resource(&doc(stmt)), &format!("{RESOURCE}/Statement/0/Principal"), "expected \"*\"");
    // A non-string entry.
    let stmt =
        r#"{"Effect": "Allow", "Principal": {"AWS": [111122223333]}, "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(&resource(&doc(stmt)), &format!("{RESOURCE}/Statement/0/Principal/AWS/0"), "expected a string");
}

#[test]
fn empty_principal_object() {
    let stmt = r#"{"Effect": "Allow", "Principal": {}, "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(&resource(&doc(stmt)), &format!("{RESOURCE}/Statement/0/Principal"), "at least one principal");
}

// ---------------------------------------------------------------------------------------------
// SCPs and RCPs
// ---------------------------------------------------------------------------------------------

#[test]
fn rcp_principal_must_be_star() {
    let stmt = r#"{"Effect": "Deny", "Principal": {"AWS": "111122223333"}, "Action": "s3:*", "Resource": "*"}"#;
    assert_only_error(&rcp(&doc(stmt)), &format!("{RCP}/Statement/0/Principal"), "must be \"*\"");
    let stmt =
        r#"{"Effect": "Deny", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "s3:*", "Resource": "*"}"#;
    assert_only_error(&rcp(&doc(stmt)), &format!("{RCP}/Statement/0/Principal"), "must be \"*\"");
}

#[test]
fn rcp_requires_principal() {
    let stmt = r#"{"Effect": "Deny", "Action": "s3:*", "Resource": "*"}"#;
    assert_only_error(&rcp(&doc(stmt)), &format!("{RCP}/Statement/0"), "missing Principal");
}

#[test]
fn rcp_with_not_action() {
    let stmt = r#"{"Effect": "Deny", "Principal": "*", "NotAction": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(&rcp(&doc(stmt)), &format!("{RCP}/Statement/0/NotAction"), "NotAction");
}

#[test]
fn rcp_with_not_principal() {
    let stmt = r#"{"Effect": "Deny", "NotPrincipal": {"AWS": "111122223333"}, "Action": "s3:*", "Resource": "*"}"#;
    assert_only_error(&rcp(&doc(stmt)), &format!("{RCP}/Statement/0/NotPrincipal"), "not allowed");
}

#[test]
fn custom_rcp_allow_rejected_but_full_access_shape_accepted() {
    let stmt = r#"{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(&rcp(&doc(stmt)), &format!("{RCP}/Statement/0/Effect"), "only Deny");
    let stmt = r#"{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc"}}}"#;
    assert_only_error(&rcp(&doc(stmt)), &format!("{RCP}/Statement/0/Effect"), "only Deny");
    // RCPFullAWSAccess, as AWS attaches it.
    let full = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
        "Resource": "*"}]}"#;
    assert_loads_clean(&rcp(full));
}

#[test]
fn scp_must_use_version_2012() {
    let policy = doc08(ID_STMT);
    assert_only_error(&scp(&policy), &format!("{SCP}/Version"), "2012-10-17");
    let policy = format!(r#"{{"Statement": [{ID_STMT}]}}"#);
    assert_only_error(&scp(&policy), &format!("{SCP}/Version"), "2012-10-17");
    let policy = format!(r#"{{"Statement": [{RCP_STMT}]}}"#);
    assert_only_error(&rcp(&policy), &format!("{RCP}/Version"), "2012-10-17");
    // Identity policies may omit Version or say 2008-10-17.
    assert_loads_clean(&user(&doc08(ID_STMT)));
    assert_loads_clean(&user(&format!(r#"{{"Statement": [{ID_STMT}]}}"#)));
}

#[test]
fn scp_accepts_full_language_for_both_effects() {
    let stmt = r#"{"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret",
        "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}}}"#;
    assert_loads_clean(&scp(&doc(stmt)));
}

// ---------------------------------------------------------------------------------------------
// Document-level values
// ---------------------------------------------------------------------------------------------

#[test]
fn unknown_version_value() {
    let policy = format!(r#"{{"Version": "2012-10-18", "Statement": [{ID_STMT}]}}"#);
    assert_only_error(&user(&policy), &format!("{USER}/Version"), "\"2012-10-18\"");
    let policy = format!(r#"{{"Version": 2012, "Statement": [{ID_STMT}]}}"#);
    assert_only_error(&user(&policy), &format!("{USER}/Version"), "2012-10-17");
}

#[test]
fn id_is_accepted_in_identity_policy() {
    // AWS is silent; keycard accepts it
    // (`docs/semantics.md#choices-where-aws-is-ambiguous-or-silent`).
    let policy = format!(r#"{{"Version": "2012-10-17", "Id": "p1", "Statement": [{ID_STMT}]}}"#);
    assert_loads_clean(&user(&policy));
}

#[test]
fn missing_statement() {
    assert_only_error(&user(r#"{"Version": "2012-10-17"}"#), USER, "missing Statement");
}

#[test]
fn empty_statement_array() {
    assert_only_error(&user(r#"{"Version": "2012-10-17", "Statement": []}"#), &format!("{USER}/Statement"), "empty");
}

// ---------------------------------------------------------------------------------------------
// Sid
// ---------------------------------------------------------------------------------------------

#[test]
fn sid_with_non_alphanumerics_in_identity_policy() {
    let stmt = r#"{"Sid": "allow-read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Sid"), "\"allow-read\"");
    let stmt = r#"{"Sid": "Allow Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(
        &managed(&version("v1", true, &doc(stmt))),
        "/Policies/0/PolicyVersionList/0/Document/Statement/0/Sid",
        "letters and digits",
    );
    // Letters and digits only: fine.
    let stmt = r#"{"Sid": "AllowRead2", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_loads_clean(&user(&doc(stmt)));
}

#[test]
fn sid_with_any_text_in_resource_and_trust_policies() {
    let stmt = r#"{"Sid": "allow read-1 (caf\u00e9)", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": "*"}"#;
    assert_loads_clean(&resource(&doc(stmt)));
    let stmt = r#"{"Sid": "lambda-may-assume", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole"}"#;
    assert_loads_clean(&trust(&doc(stmt)));
}

#[test]
fn duplicate_sid_in_identity_policy() {
    let a = r#"{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#;
    let b = r#"{"Sid": "Other", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}"#;
    let c = r#"{"Sid": "Read", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}"#;
    assert_only_error(&user(&doc(&format!("{a}, {b}, {c}"))), &format!("{USER}/Statement/2/Sid"), "duplicate Sid");
    // Unique within each policy: the same Sid in a resource policy twice is fine.
    let r = r#"{"Sid": "Read", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_loads_clean(&resource(&doc(&format!("{r}, {r}"))));
}

#[test]
fn duplicate_sid_pointer_counts_broken_statements() {
    // Statement 0 is broken; the duplicate Sid is statement 2's, whatever precedes it.
    let broken = r#"{"Sid": "Broken", "Effect": "allow", "Action": "s3:GetObject", "Resource": "*"}"#;
    let a = r#"{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#;
    let b = r#"{"Sid": "Read", "Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}"#;
    let errors = assert_rejected(
        &user(&doc(&format!("{broken}, {a}, {b}"))),
        &format!("{USER}/Statement/2/Sid"),
        "duplicate Sid",
    );
    assert!(
        !errors.iter().any(|p| p.pointer().ends_with("/Statement/1/Sid")),
        "duplicate Sid reported at the wrong statement:{}",
        show(&errors)
    );
}

#[test]
fn duplicate_sid_reported_even_when_the_duplicate_statement_is_broken() {
    // Both problems of statement 1 are reported: its Effect and its repeated Sid.
    let a = r#"{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#;
    let b = r#"{"Sid": "Read", "Effect": "allow", "Action": "s3:GetObject", "Resource": "*"}"#;
    let errors =
        assert_rejected(&user(&doc(&format!("{a}, {b}"))), &format!("{USER}/Statement/1/Sid"), "duplicate Sid");
    assert_eq!(errors.len(), 2, "{}", show(&errors));
}

// ---------------------------------------------------------------------------------------------
// Empty arrays
// ---------------------------------------------------------------------------------------------

#[test]
fn empty_action_array() {
    let stmt = r#"{"Effect": "Allow", "Action": [], "Resource": "*"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Action"), "empty");
}

#[test]
fn empty_resource_and_principal_arrays() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": []}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Resource"), "empty");
    let stmt = r#"{"Effect": "Allow", "Principal": {"AWS": []}, "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(&resource(&doc(stmt)), &format!("{RESOURCE}/Statement/0/Principal/AWS"), "empty");
}

#[test]
fn empty_condition_value_array() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/team": []}}}"#;
    assert_only_error(
        &user(&doc(stmt)),
        &format!("{USER}/Statement/0/Condition/StringEquals/aws:PrincipalTag~1team"),
        "empty",
    );
}

// ---------------------------------------------------------------------------------------------
// Condition values and operators
// ---------------------------------------------------------------------------------------------

#[test]
fn null_condition_value() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:username": null}}}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Condition/StringEquals/aws:username"), "null");
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:username": ["alice", null]}}}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Condition/StringEquals/aws:username/1"), "null");
}

#[test]
fn object_condition_value() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:username": {"name": "alice"}}}}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Condition/StringEquals/aws:username"), "object");
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:username": ["alice", {"name": "bob"}]}}}"#;
    assert_only_error(
        &user(&doc(stmt)),
        &format!("{USER}/Statement/0/Condition/StringEquals/aws:username/1"),
        "object",
    );
}

#[test]
fn nested_array_condition_value() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:username": ["alice", ["bob"]]}}}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Condition/StringEquals/aws:username/1"), "array");
}

#[test]
fn number_and_boolean_condition_values_load() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*", "Condition": {
        "Bool": {"aws:SecureTransport": true}, "NumericLessThanEquals": {"s3:max-keys": 10},
        "StringEquals": {"aws:PrincipalTag/level": [3, "4"]}}}"#;
    assert_loads_clean(&user(&doc(stmt)));
}

#[test]
fn unknown_condition_operator_with_suggestion() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringLik": {"aws:username": "a*"}}}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Condition/StringLik"), "did you mean StringLike");
    // Operator names are case-sensitive (`docs/semantics.md#documents`).
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"stringequals": {"aws:username": "a"}}}"#;
    assert_only_error(
        &user(&doc(stmt)),
        &format!("{USER}/Statement/0/Condition/stringequals"),
        "did you mean StringEquals",
    );
}

#[test]
fn null_with_if_exists() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"NullIfExists": {"aws:username": "false"}}}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Condition/NullIfExists"), "Null");
}

#[test]
fn null_with_set_qualifier() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"ForAnyValue:Null": {"aws:TagKeys": "false"}}}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Condition/ForAnyValue:Null"), "Null");
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"ForAllValues:Null": {"aws:TagKeys": "false"}}}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Condition/ForAllValues:Null"), "Null");
    // Plain Null and qualified/IfExists forms of other operators are fine.
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {
        "Null": {"aws:TagKeys": "false"}, "ForAllValues:StringEquals": {"aws:TagKeys": ["a"]},
        "StringEqualsIfExists": {"aws:username": "alice"}, "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": "b*"}}}"#;
    assert_loads_clean(&user(&doc(stmt)));
}

#[test]
fn unparsable_condition_values_per_family() {
    let cases = [
        ("NumericLessThan", "s3:max-keys", r#""ten""#),
        ("DateGreaterThan", "aws:CurrentTime", r#""yesterday""#),
        ("IpAddress", "aws:SourceIp", r#""10.0.0.0/33""#),
        ("BinaryEquals", "s3:x", r#""not base64!""#),
        ("Bool", "aws:SecureTransport", r#""yes""#),
        ("Null", "aws:username", r#""maybe""#),
    ];
    for (op, key, value) in cases {
        let stmt = format!(
            r#"{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {{"{op}": {{"{key}": {value}}}}}}}"#
        );
        assert_only_error(&user(&doc(&stmt)), &format!("{USER}/Statement/0/Condition/{op}/{key}"), "expected");
    }
}

// ---------------------------------------------------------------------------------------------
// Policy variables (`docs/semantics.md#policy-variables`)
// ---------------------------------------------------------------------------------------------

#[test]
fn variable_in_action() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:${aws:username}", "Resource": "*"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Action"), "variables are not allowed");
    // In a 2008-10-17 document `${...}` is literal text.
    assert_loads_clean(&user(&doc08(stmt)));
}

#[test]
fn variable_in_principal() {
    let stmt = r#"{"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::111122223333:user/${aws:username}"]},
        "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(
        &resource(&doc(stmt)),
        &format!("{RESOURCE}/Statement/0/Principal/AWS/0"),
        "variables are not allowed",
    );
    assert_loads_clean(&resource(&doc08(stmt)));
}

#[test]
fn variable_in_condition_key() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/${aws:username}": "yes"}}}"#;
    assert_only_error(
        &user(&doc(stmt)),
        &format!("{USER}/Statement/0/Condition/StringEquals/aws:PrincipalTag~1${{aws:username}}"),
        "variables are not allowed",
    );
    assert_loads_clean(&user(&doc08(stmt)));
}

#[test]
fn variable_in_numeric_and_other_non_string_values() {
    let cases = [
        ("NumericEquals", "s3:max-keys"),
        ("DateLessThan", "aws:CurrentTime"),
        ("IpAddress", "aws:SourceIp"),
        ("BinaryEquals", "s3:x"),
        ("Null", "aws:username"),
    ];
    for (op, key) in cases {
        let stmt = format!(
            r#"{{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                "Condition": {{"{op}": {{"{key}": ["${{aws:PrincipalTag/n}}"]}}}}}}"#
        );
        assert_only_error(
            &user(&doc(&stmt)),
            &format!("{USER}/Statement/0/Condition/{op}/{key}/0"),
            "variables are not allowed",
        );
    }
}

#[test]
fn variable_in_string_arn_and_bool_values_loads() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {
        "StringEquals": {"aws:PrincipalTag/team": "${aws:ResourceTag/team}"},
        "StringLike": {"s3:prefix": ["home/${aws:username, 'anonymous'}/*", "${*}${?}${$}"]},
        "ArnLike": {"aws:SourceArn": "arn:aws:lambda:*:${aws:PrincipalAccount}:function:*"},
        "Bool": {"aws:SecureTransport": "${aws:PrincipalTag/tls}"}}}"#;
    assert_loads_clean(&user(&doc(stmt)));
}

#[test]
fn variable_in_resource_before_fifth_colon() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::b", "arn:aws:${aws:username}:::b"]}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Resource/1"), "fifth colon");
    let stmt =
        r#"{"Effect": "Allow", "Action": "iam:GetUser", "NotResource": "arn:aws:iam::${aws:PrincipalAccount}:user/x"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/NotResource"), "fifth colon");
    // Literal in a 2008-10-17 document.
    assert_loads_clean(&user(&doc08(stmt)));
}

#[test]
fn variable_in_resource_after_fifth_colon_loads() {
    // `arn:aws:s3:::` already has five colons: a variable right after it is in the resource part.
    let stmt = r#"{"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::${aws:username}",
        "arn:aws:s3:::home/${aws:username}/*", "arn:aws:iam::111122223333:user/${aws:username}",
        "arn:aws:dynamodb:eu-west-1:111122223333:table/t:${aws:userid}"]}"#;
    assert_loads_clean(&user(&doc(stmt)));
}

#[test]
fn unterminated_variable() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::home/${aws:username/*"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Resource"), "unterminated");
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringLike": {"s3:prefix": ["a", "home/${aws:username"]}}}"#;
    assert_only_error(
        &user(&doc(stmt)),
        &format!("{USER}/Statement/0/Condition/StringLike/s3:prefix/1"),
        "unterminated",
    );
    // Literal text in 2008-10-17.
    assert_loads_clean(&user(&doc08(stmt)));
}

#[test]
fn multivalued_key_as_variable() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:TagKeys}"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Resource"), "multivalued");
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:CalledViaFirst": "${aws:CalledVia}"}}}"#;
    assert_only_error(
        &user(&doc(stmt)),
        &format!("{USER}/Statement/0/Condition/StringEquals/aws:CalledViaFirst"),
        "multivalued",
    );
}

// ---------------------------------------------------------------------------------------------
// Characters
// ---------------------------------------------------------------------------------------------

#[test]
fn latin1_characters_are_allowed() {
    // é is U+00E9 and ÿ U+00FF: inside the allowed range; TAB, LF and CR too.
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::caf\u00e9/\u00ff",
        "Condition": {"StringEquals": {"aws:PrincipalTag/n": ["a\tb", "c\nd\r"]}}}"#;
    assert_loads_clean(&user(&doc(stmt)));
    let stmt =
        r#"{"Sid": "caf\u00e9", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_loads_clean(&resource(&doc(stmt)));
}

#[test]
fn line_separator_is_rejected() {
    let stmt = r#"{"Sid": "a\u2028b", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}"#;
    assert_only_error(&resource(&doc(stmt)), &format!("{RESOURCE}/Statement/0/Sid"), "U+2028");
}

#[test]
fn emoji_is_rejected() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/😀"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Resource"), "U+1F600");
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/mood": "\ud83d\ude00"}}}"#;
    assert_only_error(
        &user(&doc(stmt)),
        &format!("{USER}/Statement/0/Condition/StringEquals/aws:PrincipalTag~1mood"),
        "U+1F600",
    );
}

#[test]
fn first_character_past_latin1_and_control_characters_are_rejected() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/\u0100"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Resource"), "U+0100");
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/\u0001"}"#;
    assert_only_error(&user(&doc(stmt)), &format!("{USER}/Statement/0/Resource"), "U+0001");
}

#[test]
fn disallowed_character_in_a_key() {
    let stmt = r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
        "Condition": {"StringEquals": {"aws:PrincipalTag/\u2603": "x"}}}"#;
    assert_rejected(
        &user(&doc(stmt)),
        &format!("{USER}/Statement/0/Condition/StringEquals/aws:PrincipalTag~1\u{2603}"),
        "U+2603",
    );
}

// ---------------------------------------------------------------------------------------------
// URL-encoded documents
// ---------------------------------------------------------------------------------------------

#[test]
fn url_encoded_documents_load() {
    let encoded = json_string(&url_encode(&doc(ID_STMT)));
    assert!(encoded.contains("%7B%22Version%22"), "{encoded}");
    assert_loads_clean(&user(&encoded));
    assert_loads_clean(&trust(&json_string(&url_encode(&doc(TRUST_STMT)))));
    assert_loads_clean(&managed(&version("v1", true, &json_string(&url_encode(&doc(ID_STMT))))));
    assert_loads_clean(&resource(&json_string(&url_encode(&doc(RES_STMT)))));
}

#[test]
fn url_encoded_document_that_is_not_json() {
    let encoded = json_string(&url_encode(r#"{"Version": "2012-10-17", "Statement": ["#));
    assert_only_error(&user(&encoded), USER, "not JSON");
}

#[test]
fn url_encoded_document_with_an_invalid_policy() {
    let stmt = r#"{"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"}"#;
    let encoded = json_string(&url_encode(&doc(stmt)));
    assert_only_error(&user(&encoded), &format!("{USER}/Statement/0/Effect"), "\"allow\"");
    let stmt = r#"{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::1:role/*"}}"#;
    let encoded = json_string(&url_encode(&doc(stmt)));
    assert_only_error(&trust(&encoded), &format!("{TRUST}/Statement/0/Principal/AWS"), "wildcard");
}

#[test]
fn policy_document_of_the_wrong_type() {
    assert_only_error(&user("42"), USER, "expected a policy document object");
    assert_only_error(&user("[]"), USER, "expected a policy document object");
}

// ---------------------------------------------------------------------------------------------
// Managed policy versions and sizes
// ---------------------------------------------------------------------------------------------

#[test]
fn broken_non_default_version_still_loads() {
    let broken = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "allow", "Action": "s3", "Resource": "*"}]}"#;
    let versions = format!("{}, {}", version("v1", false, broken), version("v2", true, &doc(ID_STMT)));
    assert_loads_clean(&managed(&versions));
    // The same broken document as the default version is an error.
    let versions = format!("{}, {}", version("v1", false, &doc(ID_STMT)), version("v2", true, broken));
    assert_rejected(&managed(&versions), "/Policies/0/PolicyVersionList/1/Document/Statement/0/Effect", "\"allow\"");
}

#[test]
fn managed_policy_without_default_version() {
    let versions = format!("{}, {}", version("v1", false, &doc(ID_STMT)), version("v2", false, &doc(ID_STMT)));
    assert_only_error(&managed(&versions), "/Policies/0", "no default version");
}

#[test]
fn oversized_managed_policy_loads_with_a_warning() {
    let actions: Vec<String> = (0..400).map(|i| format!("\"s3:GetObjectVersionTagging{i:04}\"")).collect();
    let stmt = format!(r#"{{"Effect": "Allow", "Action": [{}], "Resource": "*"}}"#, actions.join(", "));
    let store = assert_loads(&managed(&version("v1", true, &doc(&stmt))));
    let warnings = store.warnings();
    assert!(
        warnings.iter().any(|w| w.severity() == Severity::Warning
            && w.pointer() == "/Policies/0/PolicyVersionList/0/Document"
            && w.message().contains("6,144")),
        "expected a size warning; got:{}",
        show(warnings)
    );
    let shown = warnings.iter().find(|w| w.message().contains("6,144")).unwrap().to_string();
    assert!(shown.starts_with("warning: a.json: /Policies/0/PolicyVersionList/0/Document: "), "{shown}");
}

#[test]
fn whitespace_does_not_count_toward_the_managed_policy_size() {
    // ~3,300 characters compact, ~10,000 with indentation: IAM does not count the whitespace.
    let actions: Vec<String> = (0..100).map(|i| format!("\"s3:GetObjectTagging{i:04}\"")).collect();
    let pad = " ".repeat(64);
    let stmt = format!(
        "{{\n{pad}\"Effect\": \"Allow\",\n{pad}\"Action\": [\n{pad}{}\n{pad}],\n{pad}\"Resource\": \"*\"\n{pad}}}",
        actions.join(&format!(",\n{pad}"))
    );
    let policy = doc(&stmt);
    assert!(policy.len() > 6144, "the test document should be long with its whitespace ({})", policy.len());
    assert_loads_clean(&managed(&version("v1", true, &policy)));
}

/// A managed policy document of `n` `s3:GetObjectTagging` actions, as compact JSON text.
fn compact_managed_doc(n: usize) -> String {
    let actions: Vec<String> = (0..n).map(|i| format!("\"s3:GetObjectTagging{i:04}\"")).collect();
    let text = doc(&format!(r#"{{"Effect":"Allow","Action":[{}],"Resource":"*"}}"#, actions.join(",")));
    // The same text serde_json prints compactly: what IAM counts.
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_string(&value).unwrap().len(), text.replace(' ', "").len());
    text.replace(' ', "")
}

#[test]
fn a_url_encoded_policy_is_measured_decoded() {
    // ~5,300 characters decoded, ~7,000 URL-encoded: under IAM's 6,144 as IAM counts it.
    let text = compact_managed_doc(200);
    let encoded = url_encode(&text);
    assert!(text.len() < 6144 && encoded.len() > 6144, "decoded {} encoded {}", text.len(), encoded.len());
    assert_loads_clean(&managed(&version("v1", true, &json_string(&encoded))));

    // Over the quota decoded: the warning gives the decoded, compact size, to the character.
    let text = compact_managed_doc(300);
    assert!(text.len() > 6144);
    let store = assert_loads(&managed(&version("v1", true, &json_string(&url_encode(&text)))));
    let want = format!("managed policy is {} characters; IAM allows 6,144", text.len());
    let messages: Vec<&str> = store.warnings().iter().map(|w| w.message()).collect();
    assert_eq!(messages, [want.as_str()]);
}

#[test]
fn inline_policies_given_as_text_total_their_decoded_sizes() {
    // Two inline policies of a user, one URL-encoded and one plain JSON text with indentation:
    // each counts its compact, decoded size.
    let one = compact_managed_doc(40);
    let pretty = one.replace(",", ",\n    ");
    let store = format!(
        r#"{{"UserDetailList": [{{"UserName": "alice", "Arn": "arn:aws:iam::{A}:user/alice",
            "UserPolicyList": [{{"PolicyName": "a", "PolicyDocument": {}}}, {{"PolicyName": "b", "PolicyDocument": {}}}]}}]}}"#,
        json_string(&url_encode(&one)),
        json_string(&pretty),
    );
    let loaded = assert_loads(&store);
    let want = format!("the user's inline policies total {} characters; IAM allows 2,048", 2 * one.len());
    let messages: Vec<&str> = loaded.warnings().iter().map(|w| w.message()).collect();
    assert_eq!(messages, [want.as_str()]);
}

// ---------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let bad_user = r#"{"Version": "2012-10-17", "Statement": [
        {"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"},
        {"Effect": "Allow", "Action": "GetObject", "Resource": "*"},
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": {"StringLik": {"a:b": "c"}}}]}"#;
    let bad_trust = r#"{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole", "Resource": "*"}]}"#;
    let bad_resource = r#"{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}"#;
    let a = format!(
        r#"{{"UserDetailList": [{{"UserName": "alice", "Arn": "arn:aws:iam::{A}:user/alice",
            "UserPolicyList": [{{"PolicyName": "inline", "PolicyDocument": {bad_user}}}]}}],
          "RoleDetailList": [{{"RoleName": "app", "Arn": "arn:aws:iam::{A}:role/app",
            "AssumeRolePolicyDocument": {bad_trust}}}],
          "ResourcePolicies": [{{"ResourceArn": "arn:aws:s3:::reports", "Policy": {bad_resource}}}]}}"#
    );
    let b = scp(r#"{"Version": "2008-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*"}]}"#);
    let err = Store::from_documents([("a.json", a.as_str()), ("b.json", b.as_str())]).unwrap_err();
    let errors: Vec<&Problem> = err.problems().iter().filter(|p| p.severity() == Severity::Error).collect();
    let expected = [
        ("a.json", format!("{USER}/Statement/0/Effect"), "\"allow\""),
        ("a.json", format!("{USER}/Statement/1/Action"), "\"GetObject\""),
        ("a.json", format!("{USER}/Statement/2/Condition/StringLik"), "StringLike"),
        ("a.json", format!("{TRUST}/Statement/0/Resource"), "trust policy"),
        ("a.json", format!("{RESOURCE}/Statement/0"), "missing Principal"),
        ("b.json", format!("{SCP}/Version"), "2012-10-17"),
        ("b.json", format!("{SCP}/Statement/0"), "missing Resource"),
    ];
    for (file, pointer, fragment) in &expected {
        assert!(
            errors.iter().any(|p| p.file() == *file && p.pointer() == *pointer && p.message().contains(fragment)),
            "missing {file} {pointer} ({fragment}); got:{}",
            show(err.problems())
        );
    }
    assert_eq!(errors.len(), expected.len(), "unexpected extra errors:{}", show(err.problems()));
    assert!(err.to_string().starts_with(&format!("store has {} errors", expected.len())), "{err}");
}

#[test]
fn problem_display_names_severity_file_pointer_and_message() {
    let stmt = r#"{"Effect": "allow", "Action": "s3:GetObject", "Resource": "*"}"#;
    let errors = errors_of(&user(&doc(stmt)));
    assert_eq!(errors.len(), 1, "{}", show(&errors));
    let p = &errors[0];
    assert_eq!(p.severity(), Severity::Error);
    assert_eq!(p.file(), "a.json");
    assert_eq!(p.pointer(), format!("{USER}/Statement/0/Effect"));
    assert_eq!(p.to_string(), format!("error: a.json: {}: {}", p.pointer(), p.message()));
    assert!(
        p.to_string().starts_with(
            "error: a.json: /UserDetailList/0/UserPolicyList/0/PolicyDocument/Statement/0/Effect: expected \"Allow\""
        ),
        "{p}"
    );
}

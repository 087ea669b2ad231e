//! The random store generator that both the differential test (`core/tests/differential.rs`,
//! under proptest) and the differential fuzz target (`fuzz/fuzz_targets/differential.rs`, which
//! drives the same strategies from the fuzzer's bytes) use: valid stores
//! (`docs/store.md`: `get-account-authorization-details` documents for one or two accounts,
//! keycard's `ResourcePolicies` and sometimes an `Organization` with SCPs and RCPs) and, for each
//! store, several requests (`docs/http-api.md#a-request`) whose principals, actions, resources and
//! context keys are drawn from the same small vocabularies as the policies, so that patterns,
//! variables and conditions collide often.
//!
//! [`case_strategy`] is the entry point, [`case_from_bytes`] the fuzz target's; a [`Case`]'s
//! `Debug` is a reproducer.

#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::{select, subsequence, Index};
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::{json, Map, Value};
use std::fmt;

const A1: &str = "111111111111";
const A2: &str = "222222222222";
const MGMT: &str = "999999999999";
const ORG_ID: &str = "o-k3ycard0001";
/// Every request carries this `aws:CurrentTime`, so no answer depends on the clock.
const NOW: &str = "2026-03-01T12:00:00Z";

// ---------------------------------------------------------------------------------------------
// Vocabularies
// ---------------------------------------------------------------------------------------------

/// Users (name, usual path). A user takes another path now and then, so that some policies name
/// it by a stale ARN.
const USERS: [(&str, &str); 4] = [("alice", "/"), ("bob", "/dev/"), ("carol", "/"), ("dave", "/ops/team/")];
/// Roles (name, usual path); the last one is service-linked (outside SCPs and RCPs).
const ROLES: [(&str, &str); 4] = [
    ("app", "/svc/"),
    ("admin", "/"),
    ("deployer", "/"),
    ("AWSServiceRoleForEC2", "/aws-service-role/ec2.amazonaws.com/"),
];
const OTHER_PATHS: [&str; 2] = ["/", "/contractors/"];
const GROUPS: [&str; 3] = ["devs", "ops", "auditors"];
const MANAGED: [&str; 4] = ["ReadOnly", "S3Full", "DenyIam", "Boundary"];
const AWS_MANAGED_ARN: &str = "arn:aws:iam::aws:policy/PowerUserAccess";
const SESSIONS: [&str; 2] = ["sess1", "build-42"];
const SERVICES: [&str; 3] = ["ec2.amazonaws.com", "s3.amazonaws.com", "lambda.amazonaws.com"];
const FEDERATED: [&str; 2] = ["arn:aws:iam::111111111111:saml-provider/corp", "accounts.google.com"];

/// Actions requests ask for (policy-controlled ones).
const ACTIONS: [&str; 19] = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "s3:DeleteObject",
    "s3:GetObjectAcl",
    "ec2:RunInstances",
    "ec2:DescribeInstances",
    "iam:CreateUser",
    "iam:ListUsers",
    "sts:AssumeRole",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "kms:Decrypt",
    "kms:Encrypt",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "s3express:CreateSession",
];
/// Actions outside (or partly outside) policy control; asked for rarely.
const SPECIAL_ACTIONS: [&str; 4] =
    ["sts:GetCallerIdentity", "sts:GetSessionToken", "sts:GetFederationToken", "sts:AssumeRoleWithSAML"];

/// Action patterns of identity, resource and organization policies.
const ACTION_PATTERNS: [&str; 30] = [
    "*",
    "s3:*",
    "s3:Get*",
    "s3:*Object",
    "s3:GetObject",
    "S3:getobject",
    "s3:?etObject",
    "s3:ListBucket",
    "s3:Get*Acl",
    "*:Get*",
    "ec2:*",
    "ec2:Describe*",
    "ec2:RunInstances",
    "iam:*",
    "iam:CreateUser",
    "sts:*",
    "sts:AssumeRole",
    "sts:TagSession",
    "sqs:*",
    "sqs:SendMessage",
    "sqs:*Message",
    "kms:*",
    "kms:Decrypt",
    "dynamodb:*",
    "dynamodb:Get*",
    "dynamodb:?etItem",
    "s3express:*",
    "s?:Get*",
    "sq*:*",
    "*:*Item",
];
const TRUST_ACTION_PATTERNS: [&str; 8] = [
    "sts:AssumeRole",
    "sts:AssumeRole",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:*",
    "sts:AssumeRole*",
    "STS:assumerole",
    "*",
];

/// Resource patterns (besides `"*"`, which is drawn more often), variables included.
const RESOURCE_PATTERNS: [&str; 32] = [
    "arn:aws:s3:::reports",
    "arn:aws:s3:::reports/*",
    "arn:aws:s3:::logs/*",
    "arn:aws:s3:::*log*",
    "arn:aws:s3:::*",
    "arn:aws:s3:::home/${aws:username}/*",
    "arn:aws:s3:::home/${aws:username, 'nobody'}/*",
    "arn:aws:s3:::team-${aws:PrincipalTag/team}/*",
    "arn:aws:s3:::home/alice/*",
    "arn:aws:s3:::a${*}b",
    "arn:aws:s3:::${aws:ResourceTag/team}-?",
    "arn:aws:ec2:*:*:instance/*",
    "arn:aws:ec2:us-east-1:111111111111:instance/*",
    "arn:aws:ec2:*:222222222222:*",
    "arn:aws:iam::111111111111:user/*",
    "arn:aws:iam::*:role/*",
    "arn:aws:iam::111111111111:role/svc/app",
    "arn:aws:iam::111111111111:role/admin",
    "arn:aws:iam::222222222222:role/*",
    "arn:aws:sqs:us-east-1:111111111111:jobs",
    "arn:aws:sqs:*:*:jobs*",
    "arn:aws:kms:us-east-1:111111111111:key/k1",
    "arn:aws:kms:*:*:key/*",
    "arn:aws:dynamodb:us-east-1:111111111111:table/orders",
    "arn:aws:dynamodb:*:*:table/orders/*",
    "arn:aws:*:*:111111111111:*",
    "arn:aws:*:*:222222222222:*",
    "arn:aws:s3:::reports*",
    "arn:aws:s3:::Reports/*",
    "arn:aws:s3:::*/2026/*",
    "arn:*q1.csv",
    "arn:aws:s3:::reports/????/q1.csv",
];

/// Resources that carry a resource policy now and then.
const RP_TARGETS: [&str; 9] = [
    "arn:aws:s3:::reports",
    "arn:aws:s3:::logs",
    "arn:aws:s3:::team-red",
    "arn:aws:s3:::home",
    "arn:aws:sqs:us-east-1:111111111111:jobs",
    "arn:aws:sqs:us-east-1:222222222222:jobs",
    "arn:aws:kms:us-east-1:111111111111:key/k1",
    "arn:aws:kms:us-east-1:222222222222:key/k2",
    "arn:aws:dynamodb:us-east-1:111111111111:table/orders",
];

/// Request resources per service.
fn request_resources(service: &str) -> &'static [&'static str] {
    match service {
        "s3" => &[
            "arn:aws:s3:::reports",
            "arn:aws:s3:::reports/2026/q1.csv",
            "arn:aws:s3:::reports-archive/2026/q1.csv",
            "arn:aws:s3:::logs",
            "arn:aws:s3:::logs/app.log",
            "arn:aws:s3:::home/alice/notes.txt",
            "arn:aws:s3:::home/bob/todo",
            "arn:aws:s3:::home/nobody/x",
            "arn:aws:s3:::team-red/plan.doc",
            "arn:aws:s3:::red-1",
            "arn:aws:s3:::Reports/2026/q1.csv",
            "arn:aws:s3:::a*b",
        ],
        "ec2" => &[
            "arn:aws:ec2:us-east-1:111111111111:instance/i-0abc",
            "arn:aws:ec2:eu-west-1:222222222222:instance/i-0def",
            "*",
        ],
        "iam" => &[
            "arn:aws:iam::111111111111:user/alice",
            "arn:aws:iam::111111111111:user/dev/bob",
            "arn:aws:iam::222222222222:user/carol",
            "*",
        ],
        "sqs" => &[
            "arn:aws:sqs:us-east-1:111111111111:jobs",
            "arn:aws:sqs:us-east-1:222222222222:jobs",
            "arn:aws:sqs:us-east-1:111111111111:jobs-dlq",
        ],
        "kms" => &[
            "arn:aws:kms:us-east-1:111111111111:key/k1",
            "arn:aws:kms:us-east-1:222222222222:key/k2",
            "arn:aws:kms:us-east-1:111111111111:alias/main",
        ],
        "dynamodb" => &[
            "arn:aws:dynamodb:us-east-1:111111111111:table/orders",
            "arn:aws:dynamodb:us-east-1:222222222222:table/orders/index/byDate",
        ],
        _ => &["*"],
    }
}

/// Every request resource of every service (a request sometimes names another service's).
fn all_request_resources() -> Vec<&'static str> {
    ["s3", "ec2", "iam", "sqs", "kms", "dynamodb"].iter().flat_map(|s| request_resources(s).iter().copied()).collect()
}

/// `"AWS"` principal entries of resource and trust policies: accounts, canonical user and role
/// ARNs, sessions, a federated user, unique IDs.
fn aws_principal_entries() -> Vec<String> {
    let mut v = vec![
        A1.to_owned(),
        A2.to_owned(),
        format!("arn:aws:iam::{A1}:root"),
        format!("arn:aws:iam::{A2}:root"),
        format!("arn:aws:sts::{A1}:assumed-role/app/sess1"),
        format!("arn:aws:sts::{A2}:assumed-role/admin/build-42"),
        format!("arn:aws:sts::{A1}:federated-user/fed"),
        user_id(A1, "alice"),
        role_id(A1, "app"),
    ];
    for (acct, (name, path)) in [(A1, USERS[0]), (A1, USERS[1]), (A2, USERS[2]), (A2, USERS[0])] {
        v.push(format!("arn:aws:iam::{acct}:user{path}{name}"));
    }
    for (acct, (name, path)) in [(A1, ROLES[0]), (A1, ROLES[1]), (A2, ROLES[2]), (A2, ROLES[0])] {
        v.push(format!("arn:aws:iam::{acct}:role{path}{name}"));
    }
    v
}

fn user_id(acct: &str, name: &str) -> String {
    format!("AIDA{}{acct}", name.to_ascii_uppercase())
}

fn role_id(acct: &str, name: &str) -> String {
    format!("AROA{}{acct}", name.to_ascii_uppercase())
}

// ---------------------------------------------------------------------------------------------
// Conditions
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fam {
    Str,
    Num,
    Date,
    Bool,
    Bin,
    Ip,
    Arn,
    Null,
}

const OPERATORS: [(&str, Fam); 27] = [
    ("StringEquals", Fam::Str),
    ("StringNotEquals", Fam::Str),
    ("StringEqualsIgnoreCase", Fam::Str),
    ("StringNotEqualsIgnoreCase", Fam::Str),
    ("StringLike", Fam::Str),
    ("StringNotLike", Fam::Str),
    ("NumericEquals", Fam::Num),
    ("NumericNotEquals", Fam::Num),
    ("NumericLessThan", Fam::Num),
    ("NumericLessThanEquals", Fam::Num),
    ("NumericGreaterThan", Fam::Num),
    ("NumericGreaterThanEquals", Fam::Num),
    ("DateEquals", Fam::Date),
    ("DateNotEquals", Fam::Date),
    ("DateLessThan", Fam::Date),
    ("DateLessThanEquals", Fam::Date),
    ("DateGreaterThan", Fam::Date),
    ("DateGreaterThanEquals", Fam::Date),
    ("Bool", Fam::Bool),
    ("BinaryEquals", Fam::Bin),
    ("IpAddress", Fam::Ip),
    ("NotIpAddress", Fam::Ip),
    ("ArnEquals", Fam::Arn),
    ("ArnLike", Fam::Arn),
    ("ArnNotEquals", Fam::Arn),
    ("ArnNotLike", Fam::Arn),
    ("Null", Fam::Null),
];

/// Condition keys (some spelled in odd case), their natural family, and policy values that are
/// likely to meet the requests' values.
const COND_KEYS: [(&str, Fam, &[&str]); 28] = [
    ("aws:SourceIp", Fam::Ip, &["203.0.113.0/24", "10.0.0.0/8", "2001:db8::/32", "203.0.113.7"]),
    ("AWS:SourceIP", Fam::Ip, &["203.0.113.0/24", "0.0.0.0/0"]),
    ("aws:MultiFactorAuthPresent", Fam::Bool, &["true", "false"]),
    ("aws:SecureTransport", Fam::Bool, &["true", "True", "false"]),
    ("aws:PrincipalTag/team", Fam::Str, &["red", "RED", "blue", "${aws:ResourceTag/team}", "r*"]),
    ("aws:principaltag/TEAM", Fam::Str, &["red", "${aws:PrincipalTag/env, 'red'}"]),
    ("aws:ResourceTag/team", Fam::Str, &["red", "blue", "${aws:PrincipalTag/team}"]),
    ("aws:RequestedRegion", Fam::Str, &["us-east-1", "eu-west-1", "eu-*"]),
    ("aws:TagKeys", Fam::Str, &["team", "env", "t*"]),
    ("aws:CurrentTime", Fam::Date, &["2026-01-01T00:00:00Z", "2026-03-01T12:00:00Z", "2027-01-01", "1772366400"]),
    ("aws:EpochTime", Fam::Num, &["1772366400", "1700000000"]),
    ("aws:TokenIssueTime", Fam::Date, &["2026-02-01T00:00:00Z", "2026-02-15"]),
    ("s3:prefix", Fam::Str, &["", "home/", "home/${aws:username}/*", "home/*"]),
    ("s3:max-keys", Fam::Num, &["10", "10.0", "100"]),
    ("aws:username", Fam::Str, &["alice", "bob", "*", "a*", "${aws:username}"]),
    (
        "aws:PrincipalArn",
        Fam::Arn,
        &[
            "arn:aws:iam::111111111111:role/svc/app",
            "arn:aws:iam::*:user/*",
            "arn:aws:iam::111111111111:user/${aws:username}",
            "arn:aws:iam::222222222222:*",
        ],
    ),
    ("aws:SourceAccount", Fam::Str, &["111111111111", "222222222222"]),
    ("aws:SourceArn", Fam::Arn, &["arn:aws:s3:::reports", "arn:aws:sqs:*:111111111111:*", "arn:aws:*:111111111111:*"]),
    ("aws:PrincipalOrgID", Fam::Str, &["o-k3ycard0001", "o-other"]),
    ("aws:PrincipalOrgPaths", Fam::Str, &["o-k3ycard0001/r-root/ou-prod/*", "o-k3ycard0001/*"]),
    ("aws:PrincipalType", Fam::Str, &["User", "AssumedRole", "Account"]),
    ("aws:ResourceAccount", Fam::Str, &["111111111111", "${aws:PrincipalAccount}"]),
    ("aws:PrincipalAccount", Fam::Str, &["111111111111", "222222222222"]),
    ("aws:CalledVia", Fam::Str, &["athena.amazonaws.com"]),
    ("aws:RequestTag/team", Fam::Str, &["red", "blue"]),
    ("aws:PrincipalIsAWSService", Fam::Bool, &["true", "false"]),
    ("aws:userid", Fam::Str, &["AIDAALICE111111111111", "AROA*:sess1"]),
    ("sts:SourceIdentity", Fam::Str, &["alice", "${aws:username}"]),
];

/// Generic policy values per family (all valid for the family).
fn family_values(f: Fam) -> &'static [&'static str] {
    match f {
        Fam::Str => &["red", "blue", "", "*", "us-east-1", "${aws:username}", "${aws:username, 'x'}", "a${*}"],
        Fam::Arn => &[
            "arn:aws:iam::111111111111:user/alice",
            "arn:aws:iam::*:role/*",
            "arn:aws:s3:::reports",
            "arn:aws:iam::111111111111:user/${aws:username}",
            "arn:aws:*:111111111111:*",
            "arn:aws:iam::*",
        ],
        Fam::Num => &["10", "0", "-1.5", "1e3", "1772366400"],
        Fam::Date => {
            &["2026-01-01T00:00:00Z", "2026-03-01", "2026-03-01T13:00:00+02:00", "1772366400", "2030-01-01T00:00:00.5Z"]
        }
        Fam::Bool => &["true", "false", "True"],
        Fam::Bin => &["cmVk", "Ymx1ZQ=="],
        Fam::Ip => &["203.0.113.0/24", "10.0.0.0/8", "2001:db8::/32", "203.0.113.7", "0.0.0.0/0"],
        Fam::Null => &["true", "false"],
    }
}

/// A policy value as JSON: numbers and booleans sometimes as JSON numbers and booleans.
fn cond_json(fam: Fam, text: &str, typed: bool) -> Value {
    if typed && matches!(fam, Fam::Num | Fam::Date | Fam::Bool | Fam::Null) {
        if let Ok(v @ (Value::Number(_) | Value::Bool(_))) = serde_json::from_str::<Value>(text) {
            return v;
        }
    }
    json!(text)
}

/// One `operator: {key: values}` entry.
fn condition_entry() -> impl Strategy<Value = (String, String, Value)> {
    (
        any::<Index>(),
        any::<Index>(),
        prop::bool::weighted(0.75),
        0u8..20,
        prop::bool::weighted(0.2),
        prop::collection::vec((any::<Index>(), any::<bool>()), 1..=2),
        prop::bool::weighted(0.2),
        any::<bool>(),
    )
        .prop_map(|(key_i, op_i, natural, qualifier, if_exists, values, generic, scalar)| {
            let (key, key_fam, key_values) = *key_i.get(&COND_KEYS);
            let ops: Vec<(&str, Fam)> = if natural {
                OPERATORS
                    .iter()
                    .copied()
                    .filter(|(_, f)| {
                        *f == key_fam
                            || (key_fam == Fam::Arn && *f == Fam::Str)
                            || (key_fam == Fam::Str && *f == Fam::Null)
                    })
                    .collect()
            } else {
                OPERATORS.to_vec()
            };
            let (base, fam) = *op_i.get(&ops);
            let mut name = String::new();
            if fam != Fam::Null {
                match qualifier {
                    0..=2 => name.push_str("ForAllValues:"),
                    3..=5 => name.push_str("ForAnyValue:"),
                    _ => {}
                }
            }
            name.push_str(base);
            if fam != Fam::Null && if_exists {
                name.push_str("IfExists");
            }
            // Key-specific values where the operator reads them as text or as the key's own type.
            let text_op = matches!(fam, Fam::Str | Fam::Arn);
            let source = if !generic && (text_op || fam == key_fam) { key_values } else { family_values(fam) };
            let mut vals: Vec<Value> =
                values.iter().map(|(i, typed)| cond_json(fam, i.get::<&str>(source), *typed)).collect();
            vals.dedup();
            let v = if vals.len() == 1 && scalar { vals.remove(0) } else { Value::Array(vals) };
            (name, key.to_owned(), v)
        })
}

fn condition_block() -> impl Strategy<Value = Value> {
    prop::collection::vec(condition_entry(), 1..=3).prop_map(|entries| {
        let mut ops = Map::new();
        for (op, key, values) in entries {
            let keys = ops.entry(op).or_insert_with(|| Value::Object(Map::new()));
            keys.as_object_mut().unwrap().insert(key, values);
        }
        Value::Object(ops)
    })
}

// ---------------------------------------------------------------------------------------------
// Policies
// ---------------------------------------------------------------------------------------------

/// Which kind of policy a generator writes; each has its own rules
/// (`docs/semantics.md#elements-per-policy-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Identity,
    Session,
    Resource,
    Trust,
    Scp,
    Rcp,
}

/// A string, or an array when there are several (or, now and then, just one).
fn one_or_many(mut items: Vec<String>, single: bool) -> Value {
    items.dedup();
    if items.len() == 1 && single {
        Value::String(items.remove(0))
    } else {
        json!(items)
    }
}

fn principal_value() -> BoxedStrategy<Value> {
    let entries = aws_principal_entries();
    prop_oneof![
        2 => Just(json!("*")),
        1 => Just(json!({"AWS": "*"})),
        8 => (prop::collection::vec(select(entries.clone()), 1..=3), any::<bool>())
            .prop_map(|(v, single)| json!({"AWS": one_or_many(v, single)})),
        2 => select(&SERVICES[..]).prop_map(|s| json!({"Service": s})),
        1 => (select(entries), select(&SERVICES[..])).prop_map(|(a, s)| json!({"AWS": [a], "Service": [s]})),
        1 => select(&FEDERATED[..]).prop_map(|f| json!({"Federated": f})),
    ]
    .boxed()
}

/// `NotPrincipal` lists: random entries, or the full chain (identity, role, account) that lets a
/// caller escape.
fn not_principal_value() -> BoxedStrategy<Value> {
    let escapes: Vec<Vec<String>> = vec![
        vec![A1.to_owned(), format!("arn:aws:iam::{A1}:user/alice")],
        vec![
            format!("arn:aws:iam::{A1}:root"),
            format!("arn:aws:iam::{A2}:root"),
            format!("arn:aws:iam::{A1}:user/dev/bob"),
        ],
        vec![
            A1.to_owned(),
            format!("arn:aws:iam::{A1}:role/svc/app"),
            format!("arn:aws:sts::{A1}:assumed-role/app/sess1"),
        ],
        vec![
            A2.to_owned(),
            format!("arn:aws:iam::{A2}:role/admin"),
            format!("arn:aws:sts::{A2}:assumed-role/admin/build-42"),
        ],
        vec![A1.to_owned(), format!("arn:aws:iam::{A1}:role/admin")],
    ];
    prop_oneof![
        1 => select(escapes).prop_map(|v| json!({"AWS": v})),
        2 => (prop::collection::vec(select(aws_principal_entries()), 1..=3), any::<bool>())
            .prop_map(|(v, single)| json!({"AWS": one_or_many(v, single)})),
    ]
    .boxed()
}

/// One statement (without `Sid`) and whether it gets one. `focus` (a resource ARN) narrows the
/// action and resource patterns to that resource's service, so resource policies meet requests.
fn statement(kind: Kind, focus: Option<&'static str>) -> BoxedStrategy<(Map<String, Value>, bool)> {
    let allow_p = match kind {
        Kind::Identity | Kind::Session => 0.75,
        Kind::Resource => 0.7,
        Kind::Trust => 0.85,
        Kind::Scp => 0.65,
        Kind::Rcp => 0.0,
    };
    let not_action_p = match kind {
        Kind::Rcp => 0.0,
        Kind::Trust => 0.05,
        _ => 0.15,
    };
    let (actions, resources): (Vec<String>, Vec<String>) = match focus {
        None => (
            ACTION_PATTERNS.iter().map(|a| (*a).to_owned()).collect(),
            RESOURCE_PATTERNS.iter().map(|r| (*r).to_owned()).collect(),
        ),
        Some(target) => {
            let service = target.split(':').nth(2).unwrap();
            let actions = ACTION_PATTERNS.iter().filter(|a| a.to_ascii_lowercase().starts_with(&format!("{service}:")));
            let resources = RESOURCE_PATTERNS.iter().filter(|r| r.contains(&format!(":{service}:")));
            (
                actions.map(|a| (*a).to_owned()).chain(["*:Get*".to_owned()]).collect(),
                resources.map(|r| (*r).to_owned()).chain([target.to_owned(), format!("{target}/*")]).collect(),
            )
        }
    };
    let action_pattern: BoxedStrategy<String> = if kind == Kind::Trust {
        select(&TRUST_ACTION_PATTERNS[..]).prop_map(str::to_owned).boxed()
    } else {
        prop_oneof![1 => Just("*".to_owned()), 9 => select(actions)].boxed()
    };
    let resource_pattern = prop_oneof![3 => Just("*".to_owned()), 7 => select(resources)];
    let condition_p = match kind {
        Kind::Rcp => 0.5,
        _ => 0.35,
    };
    (
        prop::bool::weighted(allow_p),
        (prop::bool::weighted(not_action_p), prop::collection::vec(action_pattern, 1..=3), any::<bool>()),
        (prop::bool::weighted(0.15), prop::collection::vec(resource_pattern, 1..=2), any::<bool>()),
        (principal_value(), not_principal_value(), prop::bool::weighted(0.3), any::<bool>()),
        prop::option::weighted(condition_p, condition_block()),
        prop::bool::weighted(0.4),
    )
        .prop_map(
            move |(allow, (not_action, actions, single_a), (not_res, resources, single_r), principal, cond, sid)| {
                let mut s = Map::new();
                s.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
                let (principal, not_principal, use_not, rcp_star) = principal;
                match kind {
                    Kind::Resource if !allow && use_not => {
                        s.insert("NotPrincipal".into(), not_principal);
                    }
                    Kind::Resource | Kind::Trust => {
                        s.insert("Principal".into(), principal);
                    }
                    Kind::Rcp => {
                        s.insert("Principal".into(), if rcp_star { json!("*") } else { json!({"AWS": "*"}) });
                    }
                    _ => {}
                }
                let a = if not_action { "NotAction" } else { "Action" };
                s.insert(a.into(), one_or_many(actions, single_a));
                if kind != Kind::Trust {
                    let r = if not_res { "NotResource" } else { "Resource" };
                    s.insert(r.into(), one_or_many(resources, single_r));
                }
                if let Some(c) = cond {
                    s.insert("Condition".into(), c);
                }
                (s, sid)
            },
        )
        .boxed()
}

fn version() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![8 => Just(Some("2012-10-17")), 1 => Just(Some("2008-10-17")), 1 => Just(None)]
}

/// A valid policy document of `kind`.
fn policy(kind: Kind) -> BoxedStrategy<Value> {
    policy_on(kind, None)
}

/// A valid policy document of `kind`, focused on one resource's service when `focus` is given.
fn policy_on(kind: Kind, focus: Option<&'static str>) -> BoxedStrategy<Value> {
    (version(), prop::collection::vec(statement(kind, focus), 1..=4), any::<bool>(), prop::bool::weighted(0.1))
        .prop_map(move |(version, stmts, single, with_id)| {
            let version = if matches!(kind, Kind::Scp | Kind::Rcp) { Some("2012-10-17") } else { version };
            let statements: Vec<Value> = stmts
                .into_iter()
                .enumerate()
                .map(|(i, (mut s, sid))| {
                    if sid {
                        let sid = match kind {
                            // Identity and session policies: alphanumeric and unique.
                            Kind::Identity | Kind::Session | Kind::Scp => format!("S{i}"),
                            _ => format!("Stmt {i}: any text-"),
                        };
                        s.insert("Sid".into(), json!(sid));
                    }
                    Value::Object(s)
                })
                .collect();
            let mut doc = Map::new();
            if let Some(v) = version {
                doc.insert("Version".into(), json!(v));
            }
            if with_id {
                doc.insert("Id".into(), json!("generated-policy"));
            }
            let statement =
                if statements.len() == 1 && single { statements[0].clone() } else { Value::Array(statements) };
            doc.insert("Statement".into(), statement);
            Value::Object(doc)
        })
        .boxed()
}

/// AWS's `FullAWSAccess` SCP.
fn full_aws_access() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
}

fn rcp_full_statement() -> Value {
    json!({"Sid": "RCPFullAWSAccess", "Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"})
}

fn scp() -> BoxedStrategy<Value> {
    prop_oneof![3 => Just(full_aws_access()), 7 => policy(Kind::Scp)].boxed()
}

fn rcp() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => Just(json!({"Version": "2012-10-17", "Statement": [rcp_full_statement()]})),
        5 => policy(Kind::Rcp),
        2 => policy(Kind::Rcp).prop_map(|mut p| {
            let stmts = match p["Statement"].take() {
                Value::Array(v) => v,
                one => vec![one],
            };
            p["Statement"] = Value::Array(std::iter::once(rcp_full_statement()).chain(stmts).collect());
            p
        }),
    ]
    .boxed()
}

/// How a policy document sits in the dump: an object, JSON text, or URL-encoded JSON text (as
/// the raw IAM API returns it).
fn encode_doc(doc: Value, how: u8) -> Value {
    match how {
        0 => Value::String(doc.to_string()),
        1 => {
            let text = doc.to_string();
            let mut out = String::new();
            for b in text.bytes() {
                if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                    out.push(char::from(b));
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            Value::String(out)
        }
        _ => doc,
    }
}

/// 0 and 1 (string forms) now and then, mostly objects.
fn encoding() -> impl Strategy<Value = u8> {
    prop_oneof![1 => Just(0u8), 1 => Just(1u8), 18 => Just(2u8)]
}

// ---------------------------------------------------------------------------------------------
// Stores
// ---------------------------------------------------------------------------------------------

fn tags() -> impl Strategy<Value = Vec<Value>> {
    (
        prop::option::weighted(0.5, (select(&["team", "Team"][..]), select(&["red", "blue", "Red"][..]))),
        prop::option::weighted(0.3, select(&["prod", "dev", ""][..])),
    )
        .prop_map(|(team, env)| {
            let mut v = Vec::new();
            if let Some((k, val)) = team {
                v.push(json!({"Key": k, "Value": val}));
            }
            if let Some(val) = env {
                v.push(json!({"Key": "env", "Value": val}));
            }
            v
        })
}

fn inline_policies() -> impl Strategy<Value = Vec<(Value, u8)>> {
    prop::collection::vec((policy(Kind::Identity), encoding()), 0..=2)
}

#[derive(Debug, Clone)]
struct EntitySpec {
    other_path: Option<Index>,
    tags: Vec<Value>,
    inline: Vec<(Value, u8)>,
    managed: Vec<Index>,
    boundary: Option<Index>,
    groups: Vec<Index>,
    trust: (Value, u8),
    max_session: Option<u32>,
}

fn entity_spec() -> impl Strategy<Value = EntitySpec> {
    (
        prop::option::weighted(0.2, any::<Index>()),
        tags(),
        inline_policies(),
        prop::collection::vec(any::<Index>(), 0..=2),
        prop::option::weighted(0.35, any::<Index>()),
        prop::collection::vec(any::<Index>(), 0..=3),
        (policy(Kind::Trust), encoding()),
        prop::option::weighted(0.2, 3600u32..=43200),
    )
        .prop_map(|(other_path, tags, inline, managed, boundary, groups, trust, max_session)| EntitySpec {
            other_path,
            tags,
            inline,
            managed,
            boundary,
            groups,
            trust,
            max_session,
        })
}

fn managed_spec() -> impl Strategy<Value = (Vec<(Value, u8)>, Index)> {
    (prop::collection::vec((policy(Kind::Identity), encoding()), 1..=3), any::<Index>())
}

fn resource_policy_spec() -> impl Strategy<Value = (&'static str, Value, Vec<Value>, bool)> {
    select(&RP_TARGETS[..]).prop_flat_map(|target| {
        let policy = prop_oneof![3 => policy_on(Kind::Resource, Some(target)), 1 => policy(Kind::Resource)];
        (Just(target), policy, tags(), prop::bool::weighted(0.3))
    })
}

fn inline_list(list: &[(Value, u8)]) -> Value {
    Value::Array(
        list.iter()
            .enumerate()
            .map(|(i, (doc, how))| json!({"PolicyName": format!("inline{i}"), "PolicyDocument": encode_doc(doc.clone(), *how)}))
            .collect(),
    )
}

fn pick_unique(picks: &[Index], from: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if from.is_empty() {
        return out;
    }
    for p in picks {
        let v = p.get(from).clone();
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

fn attached(arns: &[String]) -> Value {
    Value::Array(arns.iter().map(|a| json!({"PolicyName": a.rsplit('/').next().unwrap(), "PolicyArn": a})).collect())
}

/// Fills the fields shared by users and roles.
fn fill_entity(e: &mut Map<String, Value>, spec: &EntitySpec, managed: &[String], list_key: &str) {
    if !spec.inline.is_empty() {
        e.insert(list_key.into(), inline_list(&spec.inline));
    }
    let attached_arns = pick_unique(&spec.managed, managed);
    if !attached_arns.is_empty() {
        e.insert("AttachedManagedPolicies".into(), attached(&attached_arns));
    }
    if let (Some(b), false) = (&spec.boundary, managed.is_empty()) {
        e.insert(
            "PermissionsBoundary".into(),
            json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": b.get(managed)}),
        );
    }
    if !spec.tags.is_empty() {
        e.insert("Tags".into(), json!(spec.tags));
    }
}

#[allow(clippy::type_complexity)]
fn account_doc(acct: &'static str) -> BoxedStrategy<Value> {
    (
        (subsequence(vec![0usize, 1, 2, 3], 0..=4), prop::collection::vec(entity_spec(), 4)),
        (
            subsequence(vec![0usize, 1, 2], 0..=3),
            prop::collection::vec((inline_policies(), prop::collection::vec(any::<Index>(), 0..=2)), 3),
        ),
        (subsequence(vec![0usize, 1, 2, 3], 0..=3), prop::collection::vec(entity_spec(), 4)),
        (
            subsequence(vec![0usize, 1, 2, 3], 0..=4),
            prop::collection::vec(managed_spec(), 4),
            prop::option::weighted(0.3, policy(Kind::Identity)),
        ),
        prop::collection::vec(resource_policy_spec(), 0..=4),
        any::<bool>(),
    )
        .prop_map(move |((users, user_specs), (groups, group_specs), (roles, role_specs), managed, rps, with_arns)| {
            let (managed_idx, managed_specs, aws_managed) = managed;
            let mut doc = Map::new();
            doc.insert("AccountId".into(), json!(acct));

            // Managed policies: several versions, exactly one the default.
            let mut managed_arns: Vec<String> = Vec::new();
            let mut policies = Vec::new();
            for &m in &managed_idx {
                let name = MANAGED[m];
                let arn = format!("arn:aws:iam::{acct}:policy/{name}");
                let (versions, default) = &managed_specs[m];
                let default = default.index(versions.len());
                let list: Vec<Value> = versions
                    .iter()
                    .enumerate()
                    .map(|(i, (d, how))| {
                        json!({"Document": encode_doc(d.clone(), *how), "VersionId": format!("v{}", i + 1),
                               "IsDefaultVersion": i == default})
                    })
                    .collect();
                policies.push(json!({"PolicyName": name, "PolicyId": format!("ANPA{}{acct}", name.to_ascii_uppercase()),
                    "Arn": arn, "Path": "/", "DefaultVersionId": format!("v{}", default + 1), "PolicyVersionList": list}));
                managed_arns.push(arn);
            }
            if let Some(doc) = aws_managed {
                policies.push(json!({"PolicyName": "PowerUserAccess", "Arn": AWS_MANAGED_ARN, "Path": "/",
                    "DefaultVersionId": "v5", "PolicyVersionList": [
                        {"Document": doc, "VersionId": "v5", "IsDefaultVersion": true}]}));
                managed_arns.push(AWS_MANAGED_ARN.to_owned());
            }
            if !policies.is_empty() {
                doc.insert("Policies".into(), Value::Array(policies));
            }

            // Groups.
            let group_names: Vec<String> = groups.iter().map(|&g| GROUPS[g].to_owned()).collect();
            let mut group_list = Vec::new();
            for &g in &groups {
                let (inline, managed) = &group_specs[g];
                let mut e = Map::new();
                e.insert("GroupName".into(), json!(GROUPS[g]));
                e.insert("Path".into(), json!("/"));
                e.insert("GroupId".into(), json!(format!("AGPA{}{acct}", GROUPS[g].to_ascii_uppercase())));
                if with_arns {
                    e.insert("Arn".into(), json!(format!("arn:aws:iam::{acct}:group/{}", GROUPS[g])));
                }
                if !inline.is_empty() {
                    e.insert("GroupPolicyList".into(), inline_list(inline));
                }
                let arns = pick_unique(managed, &managed_arns);
                if !arns.is_empty() {
                    e.insert("AttachedManagedPolicies".into(), attached(&arns));
                }
                group_list.push(Value::Object(e));
            }
            if !group_list.is_empty() {
                doc.insert("GroupDetailList".into(), Value::Array(group_list));
            }

            // Users.
            let mut user_list = Vec::new();
            for &u in &users {
                let (name, usual) = USERS[u];
                let spec = &user_specs[u];
                let path = spec.other_path.map_or(usual, |i| *i.get(&OTHER_PATHS));
                let arn = format!("arn:aws:iam::{acct}:user{path}{name}");
                let mut e = Map::new();
                e.insert("UserName".into(), json!(name));
                e.insert("Path".into(), json!(path));
                e.insert("UserId".into(), json!(user_id(acct, name)));
                if with_arns {
                    e.insert("Arn".into(), json!(arn));
                }
                let in_groups = pick_unique(&spec.groups, &group_names);
                if !in_groups.is_empty() {
                    e.insert("GroupList".into(), json!(in_groups));
                }
                fill_entity(&mut e, spec, &managed_arns, "UserPolicyList");
                user_list.push(Value::Object(e));
            }
            if !user_list.is_empty() {
                doc.insert("UserDetailList".into(), Value::Array(user_list));
            }

            // Roles.
            let mut role_list = Vec::new();
            for &r in &roles {
                let (name, usual) = ROLES[r];
                let spec = &role_specs[r];
                let path = spec.other_path.map_or(usual, |i| *i.get(&OTHER_PATHS));
                let arn = format!("arn:aws:iam::{acct}:role{path}{name}");
                let mut e = Map::new();
                e.insert("RoleName".into(), json!(name));
                e.insert("Path".into(), json!(path));
                e.insert("RoleId".into(), json!(role_id(acct, name)));
                if with_arns {
                    e.insert("Arn".into(), json!(arn));
                }
                e.insert("AssumeRolePolicyDocument".into(), encode_doc(spec.trust.0.clone(), spec.trust.1));
                if let Some(m) = spec.max_session {
                    e.insert("MaxSessionDuration".into(), json!(m));
                }
                fill_entity(&mut e, spec, &managed_arns, "RolePolicyList");
                role_list.push(Value::Object(e));
            }
            if !role_list.is_empty() {
                doc.insert("RoleDetailList".into(), Value::Array(role_list));
            }

            // Resource policies (keycard's extension).
            let mut rp_list = Vec::new();
            for (target, policy, tags, explicit_account) in rps {
                let mut e = Map::new();
                e.insert("ResourceArn".into(), json!(target));
                if explicit_account {
                    e.insert("Account".into(), json!(acct));
                }
                if !tags.is_empty() {
                    e.insert("Tags".into(), json!(tags));
                }
                e.insert("Policy".into(), policy);
                rp_list.push(Value::Object(e));
            }
            if !rp_list.is_empty() {
                doc.insert("ResourcePolicies".into(), Value::Array(rp_list));
            }
            Value::Object(doc)
        })
        .boxed()
}

fn org_targets() -> impl Strategy<Value = Vec<&'static str>> {
    subsequence(vec!["r-root", "ou-prod", "ou-team", A1, A2], 1..=2)
}

fn organization() -> BoxedStrategy<Value> {
    const PARENTS: [&[&str]; 4] = [&["r-root"], &["r-root", "ou-prod"], &["r-root", "ou-prod", "ou-team"], &[]];
    (
        prop::bool::weighted(0.9),
        select(&[MGMT, MGMT, MGMT, A1][..]),
        prop::collection::vec((prop::bool::weighted(0.85), any::<Index>()), 2),
        prop::collection::vec((scp(), org_targets()), 0..=3),
        prop::collection::vec((rcp(), org_targets()), 0..=2),
    )
        .prop_map(|(with_id, management, members, scps, rcps)| {
            let mut org = Map::new();
            if with_id {
                org.insert("Id".into(), json!(ORG_ID));
            }
            org.insert("ManagementAccount".into(), json!(management));
            let accounts: Vec<Value> = [A1, A2]
                .iter()
                .zip(&members)
                .filter(|(_, (member, _))| *member)
                .map(|(acct, (_, parents))| json!({"Id": acct, "Parents": parents.get(&PARENTS)}))
                .collect();
            org.insert("Accounts".into(), json!(accounts));
            let named = |prefix: &str, list: Vec<(Value, Vec<&str>)>| -> Value {
                list.into_iter()
                    .enumerate()
                    .map(|(i, (p, t))| json!({"Name": format!("{prefix}{i}"), "Targets": t, "Policy": p}))
                    .collect()
            };
            if !scps.is_empty() {
                org.insert("ServiceControlPolicies".into(), named("Scp", scps));
            }
            if !rcps.is_empty() {
                org.insert("ResourceControlPolicies".into(), named("Rcp", rcps));
            }
            Value::Object(org)
        })
        .boxed()
}

fn store_docs() -> impl Strategy<Value = Vec<Value>> {
    (account_doc(A1), prop::option::weighted(0.6, account_doc(A2)), prop::option::weighted(0.4, organization()))
        .prop_map(|(a, b, org)| {
            let mut docs = vec![a];
            docs.extend(b);
            if let Some(o) = org {
                docs.push(json!({"Organization": o}));
            }
            docs
        })
}

// ---------------------------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------------------------

/// The principals a store holds, read back from its documents.
#[derive(Debug, Default)]
struct Principals {
    users: Vec<(String, String)>,
    roles: Vec<(String, String, String)>,
}

impl Principals {
    /// (account, user ARN) and (account, role name, role ARN) of every document.
    fn of(docs: &[Value]) -> Principals {
        let mut p = Principals::default();
        for doc in docs {
            let Some(acct) = doc["AccountId"].as_str() else { continue };
            for u in doc["UserDetailList"].as_array().into_iter().flatten() {
                let (name, path) = (u["UserName"].as_str().unwrap(), u["Path"].as_str().unwrap());
                p.users.push((acct.to_owned(), format!("arn:aws:iam::{acct}:user{path}{name}")));
            }
            for r in doc["RoleDetailList"].as_array().into_iter().flatten() {
                let (name, path) = (r["RoleName"].as_str().unwrap(), r["Path"].as_str().unwrap());
                p.roles.push((acct.to_owned(), name.to_owned(), format!("arn:aws:iam::{acct}:role{path}{name}")));
            }
        }
        p
    }
}

#[derive(Debug, Clone)]
struct RequestSeed {
    who: u8,
    pick: Index,
    pick2: Index,
    action: &'static str,
    mixed_case: bool,
    any_service: bool,
    resource: Index,
    resource_account: Option<&'static str>,
    context: Vec<(Index, Index)>,
    /// Context keys picked among those the store's conditions read.
    focused: Vec<(Index, Index)>,
    session_policy: Option<Value>,
    resource_policy: Option<Value>,
}

fn request_seed() -> impl Strategy<Value = RequestSeed> {
    (
        (0u8..100, any::<Index>(), any::<Index>()),
        prop_oneof![19 => select(&ACTIONS[..]), 1 => select(&SPECIAL_ACTIONS[..])],
        prop::bool::weighted(0.15),
        prop::bool::weighted(0.15),
        any::<Index>(),
        prop::option::weighted(0.15, select(&[A1, A2][..])),
        (
            prop::collection::vec((any::<Index>(), any::<Index>()), 0..=4),
            prop::collection::vec((any::<Index>(), any::<Index>()), 0..=3),
        ),
        prop::option::weighted(0.15, policy(Kind::Session)),
        prop::option::weighted(
            0.12,
            prop_oneof![
                select(&RP_TARGETS[..]).prop_flat_map(|t| policy_on(Kind::Resource, Some(t))),
                policy(Kind::Resource)
            ],
        ),
    )
        .prop_map(
            |(
                (who, pick, pick2),
                action,
                mixed_case,
                any_service,
                resource,
                resource_account,
                (context, focused),
                session_policy,
                resource_policy,
            )| RequestSeed {
                who,
                pick,
                pick2,
                action,
                mixed_case,
                any_service,
                resource,
                resource_account,
                context,
                focused,
                session_policy,
                resource_policy,
            },
        )
}

/// Request context keys (principal keys come from the store and may not be supplied) with
/// well-typed and ill-typed values.
fn request_context_vocabulary() -> Vec<(&'static str, Vec<Value>)> {
    vec![
        (
            "aws:SourceIp",
            vec![
                json!("203.0.113.7"),
                json!("10.1.2.3"),
                json!("2001:DB8::1"),
                json!("999.1.1.1"),
                json!("not-an-ip"),
                json!(42),
                json!(["203.0.113.7", "10.1.2.3"]),
            ],
        ),
        (
            "aws:MultiFactorAuthPresent",
            vec![json!(true), json!(false), json!("true"), json!("False"), json!("yes"), json!(1)],
        ),
        ("aws:SecureTransport", vec![json!(true), json!(false), json!("TRUE")]),
        ("aws:ResourceTag/team", vec![json!("red"), json!("blue"), json!(""), json!(["red", "blue"])]),
        (
            "aws:RequestedRegion",
            vec![json!("us-east-1"), json!("eu-west-1"), json!("EU-WEST-1"), json!(["us-east-1", "eu-west-1"])],
        ),
        ("aws:TagKeys", vec![json!([]), json!(["team"]), json!(["team", "env"]), json!("team"), json!(["Team", "x"])]),
        (
            "aws:TokenIssueTime",
            vec![
                json!("2026-02-15T00:00:00Z"),
                json!("2025-12-31"),
                json!("not-a-date"),
                json!(1_772_000_000),
                json!("2026-13-01"),
            ],
        ),
        ("aws:EpochTime", vec![json!(1_772_366_400), json!("1772366400"), json!("garbage"), json!(1.5e9)]),
        ("s3:prefix", vec![json!(""), json!("home/"), json!("home/alice/"), json!("reports/2026")]),
        ("s3:max-keys", vec![json!(10), json!("10.0"), json!("abc"), json!(1000), json!(-1)]),
        ("aws:SourceAccount", vec![json!(A1), json!(A2), json!(111_111_111_111u64)]),
        (
            "aws:SourceArn",
            vec![json!("arn:aws:s3:::reports"), json!("arn:aws:sqs:us-east-1:111111111111:jobs"), json!("not:an:arn")],
        ),
        ("aws:RequestTag/team", vec![json!("red"), json!("blue")]),
        ("sts:SourceIdentity", vec![json!("alice")]),
        (
            "aws:CalledVia",
            vec![
                json!(["athena.amazonaws.com"]),
                json!(["athena.amazonaws.com", "glue.amazonaws.com"]),
                json!("athena.amazonaws.com"),
            ],
        ),
        ("aws:PrincipalOrgID", vec![json!(ORG_ID), json!("o-other")]),
        ("aws:ViaAWSService", vec![json!(true), json!(false)]),
    ]
}

const TRUST_ACTIONS: [&str; 4] =
    ["sts:assumerole", "sts:tagsession", "sts:setsourceidentity", "sts:assumerolewithsaml"];

impl RequestSeed {
    fn build(&self, p: &Principals, vocabulary: &[(&'static str, Vec<Value>)], condition_keys: &[String]) -> Value {
        let mut req = Map::new();
        let sessions = |i: &Index, j: &Index| -> Option<String> {
            if p.roles.is_empty() {
                return None;
            }
            let (acct, name, _) = i.get(&p.roles);
            Some(format!("arn:aws:sts::{acct}:assumed-role/{name}/{}", j.get(&SESSIONS)))
        };
        let any_known = || -> Value {
            p.users
                .first()
                .map(|u| json!(u.1))
                .or_else(|| p.roles.first().map(|r| json!(r.2)))
                .unwrap_or_else(|| json!(A1))
        };
        let principal = match self.who {
            0..=33 | 84..=99 => {
                if p.users.is_empty() {
                    any_known()
                } else {
                    json!(self.pick.get(&p.users).1)
                }
            }
            34..=51 => sessions(&self.pick, &self.pick2).map_or_else(any_known, Value::String),
            52..=61 => {
                if p.roles.is_empty() {
                    any_known()
                } else {
                    json!(self.pick.get(&p.roles).2)
                }
            }
            62..=66 => {
                let acct = *self.pick.get(&[A1, A2, MGMT]);
                if self.pick2.index(2) == 0 {
                    json!(acct)
                } else {
                    json!(format!("arn:aws:iam::{acct}:root"))
                }
            }
            67..=69 => json!({"Service": self.pick.get(&SERVICES[..2])}),
            70..=72 => json!("*"),
            73..=76 => {
                // An unknown user, or a user by its usual (maybe stale) ARN.
                let (name, path) = *self.pick.get(&USERS);
                let acct = *self.pick2.get(&[A1, A2]);
                if self.pick2.index(3) == 0 {
                    json!(format!("arn:aws:iam::{acct}:user/mallory"))
                } else {
                    json!(format!("arn:aws:iam::{acct}:user{path}{name}"))
                }
            }
            77..=81 => {
                let acct = *self.pick.get(&[A1, A2]);
                let federating: Vec<&String> = p.users.iter().filter(|u| u.0 == acct).map(|u| &u.1).collect();
                if !federating.is_empty() {
                    req.insert("federatingUser".into(), json!(self.pick2.get(&federating)));
                }
                json!(format!("arn:aws:sts::{acct}:federated-user/fed"))
            }
            _ => json!({"Federated": self.pick.get(&FEDERATED)}),
        };
        req.insert("principal".into(), principal);

        let action = if self.mixed_case {
            let (svc, op) = self.action.split_once(':').unwrap();
            format!("{}:{}", svc.to_ascii_uppercase(), op.to_ascii_lowercase())
        } else {
            self.action.to_owned()
        };
        let lc = self.action.to_ascii_lowercase();
        let service = lc.split(':').next().unwrap();
        let resource = if TRUST_ACTIONS.contains(&lc.as_str()) && !self.any_service {
            let mut roles: Vec<String> = p.roles.iter().map(|r| r.2.clone()).collect();
            roles.push(format!("arn:aws:iam::{A1}:role/ghost"));
            self.resource.get(&roles).clone()
        } else if service == "sts" {
            if lc == "sts:getfederationtoken" {
                format!("arn:aws:sts::{A1}:federated-user/fed")
            } else {
                "*".to_owned()
            }
        } else if self.any_service {
            (*self.resource.get(&all_request_resources())).to_owned()
        } else {
            (*self.resource.get(request_resources(service))).to_owned()
        };
        req.insert("action".into(), json!(action));
        req.insert("resource".into(), json!(resource));
        if let Some(a) = self.resource_account {
            req.insert("resourceAccount".into(), json!(a));
        }

        // Keys the conditions read, spelled as the policy spells them (keys are case-insensitive),
        // then keys of the whole vocabulary; never the same key twice in two spellings.
        let focus: Vec<(&str, &Vec<Value>)> = condition_keys
            .iter()
            .filter_map(|k| {
                vocabulary.iter().find(|(v, _)| v.eq_ignore_ascii_case(k)).map(|(_, vals)| (k.as_str(), vals))
            })
            .collect();
        let mut ctx = Map::new();
        let mut seen: Vec<String> = vec!["aws:currenttime".to_owned()];
        let focused = self.focused.iter().filter(|_| !focus.is_empty()).map(|(k, v)| {
            let (key, values) = k.get(&focus);
            (*key, v.get(values))
        });
        let general = self.context.iter().map(|(k, v)| {
            let (key, values) = k.get(vocabulary);
            (*key, v.get(values))
        });
        for (key, value) in focused.chain(general) {
            if !seen.contains(&key.to_ascii_lowercase()) {
                seen.push(key.to_ascii_lowercase());
                ctx.insert(key.to_owned(), value.clone());
            }
        }
        ctx.insert("aws:CurrentTime".into(), json!(NOW));
        req.insert("context".into(), Value::Object(ctx));
        if let Some(sp) = &self.session_policy {
            req.insert("sessionPolicy".into(), sp.clone());
        }
        if let Some(rp) = &self.resource_policy {
            req.insert("resourcePolicy".into(), rp.clone());
        }
        Value::Object(req)
    }
}

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

/// One generated store (its documents) and the requests asked of it.
#[derive(Clone)]
pub struct Case {
    /// The store documents, loaded in this order as `doc0.json`, `doc1.json`, ...
    pub docs: Vec<Value>,
    /// The requests (`Request::from_value`).
    pub requests: Vec<Value>,
}

/// Prints a reproducer: each document and request as one line of JSON.
impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Case {{ store documents (Store::from_documents, in this order):")?;
        for (i, d) in self.docs.iter().enumerate() {
            writeln!(f, "doc{i}.json: {d}")?;
        }
        writeln!(f, "requests (Request::from_json, each asked with explain false and true):")?;
        for (i, r) in self.requests.iter().enumerate() {
            writeln!(f, "#{i} {r}")?;
        }
        write!(f, "}}")
    }
}

/// A store and 4 to 10 requests asked of it.
pub fn case_strategy() -> impl Strategy<Value = Case> {
    (store_docs(), prop::collection::vec(request_seed(), 4..=10)).prop_map(|(docs, seeds)| {
        let principals = Principals::of(&docs);
        let vocabulary = request_context_vocabulary();
        let mut keys = Vec::new();
        docs.iter().for_each(|d| condition_keys(d, &mut keys));
        let requests = seeds.iter().map(|s| s.build(&principals, &vocabulary, &keys)).collect();
        Case { docs, requests }
    })
}

/// Every condition key the documents' policies read (policies given as JSON text or URL-encoded
/// text included), each once.
fn condition_keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "Condition" {
                    for key in child
                        .as_object()
                        .into_iter()
                        .flat_map(|ops| ops.values())
                        .flat_map(|keys| keys.as_object().into_iter().flat_map(|m| m.keys()))
                    {
                        if !out.contains(key) {
                            out.push(key.clone());
                        }
                    }
                } else {
                    condition_keys(child, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| condition_keys(i, out)),
        Value::String(text) => {
            let decoded = if text.starts_with("%7B") { percent_decode(text) } else { text.clone() };
            if decoded.starts_with('{') {
                if let Ok(doc) = serde_json::from_str::<Value>(&decoded) {
                    condition_keys(&doc, out);
                }
            }
        }
        _ => {}
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) if bytes[i] == b'%' => {
                out.push(b);
                i += 3;
            }
            _ => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// The case that `data` chooses: `data` seeds proptest's ChaCha RNG (through four FNV-1a
/// hashes), so every input is one reproducible case and a fuzzer explores the generator seed by
/// seed, keeping the seeds whose cases reach new code.
///
/// Not proptest's pass-through RNG, which would let small mutations of the input make small
/// changes to the case: it halves its remaining bytes at every fork of the strategy tree (each
/// `prop_flat_map`), so deep branches soon draw only zeros, and a sampler that rejects repeated
/// values then never finishes.
pub fn case_from_bytes(data: &[u8]) -> Option<Case> {
    let mut seed = [0u8; 32];
    for (lane, chunk) in seed.chunks_mut(8).enumerate() {
        let start = 0xcbf2_9ce4_8422_2325_u64 ^ (lane as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let h = data.iter().fold(start, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        chunk.copy_from_slice(&h.to_le_bytes());
    }
    let mut runner = TestRunner::new_with_rng(Config::default(), TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    case_strategy().new_tree(&mut runner).ok().map(|tree| tree.current())
}

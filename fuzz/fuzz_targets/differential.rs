//! Differential: the snapshot (compiled index) and `keycard::reference` decide alike.
//!
//! The input describes a small store and one request, drawn from small vocabularies: two users in
//! account A and one in account B, two groups, two roles (one possibly service-linked), managed
//! policies (customer and AWS), permissions boundaries, tags, resource policies (S3 buckets, KMS
//! keys), an organization with SCPs and RCPs, and a request with a principal, action, resource,
//! context, session policy and resource policy. Statements mix wildcard actions, resources with
//! wildcards and policy variables, NotAction/NotResource/NotPrincipal and conditions over every
//! operator family. The case is rendered to JSON; the store must load (a vocabulary mistake shows
//! up as a low load rate, not a crash) and both evaluators must give the same decision.
//!
//! `Debug` of the input is the rendered `{"store": ..., "request": ...}`: a reproducer to save
//! under `core/tests/fuzz_regressions/differential/`, which `cargo test` replays.

#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use keycard::Snapshot;
use keycard_fuzz::{bounded, check_agreement, Rendered};
use libfuzzer_sys::{fuzz_target, Corpus};
use serde_json::{json, Map, Value};

const A: &str = "111122223333";
const B: &str = "444455556666";
const MGMT: &str = "999999999999";

// ---------------------------------------------------------------- vocabularies

const ACTION_PATTERNS: [&str; 23] = [
    "*",
    "s3:*",
    "s3:GetObject",
    "s3:Get*",
    "s3:?etObject",
    "S3:getobject",
    "s3:PutObject",
    "s3:ListBucket",
    "iam:*",
    "iam:GetUser",
    "sts:AssumeRole",
    "sts:*",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:GetSessionToken",
    "sts:GetFederationToken",
    "kms:Decrypt",
    "kms:*",
    "ec2:RunInstances",
    "ec2:*Instances",
    "*:Get*",
    "dynamodb:GetItem",
    "s3express:*",
];

const TRUST_ACTIONS: [&str; 7] = [
    "sts:AssumeRole",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:AssumeRoleWithWebIdentity",
    "sts:AssumeRoleWithSAML",
    "sts:*",
    "*",
];

const RESOURCE_PATTERNS: [&str; 17] = [
    "*",
    "arn:aws:s3:::bucket",
    "arn:aws:s3:::bucket/*",
    "arn:aws:s3:::bucket/${aws:username}/*",
    "arn:aws:s3:::b?cket*",
    "arn:aws:s3:::bucket/${aws:PrincipalTag/team, 'none'}/*",
    "arn:aws:s3:::*/${aws:username}/*",
    "arn:aws:iam::111122223333:role/app",
    "arn:aws:iam::111122223333:role/*",
    "arn:aws:iam::*:role/svc/*",
    "arn:aws:kms:us-east-1:111122223333:key/*",
    "arn:aws:kms:*:*:key/k2",
    "arn:aws:ec2:*:*:instance/*",
    "arn:aws:s3:::bucket/${*}",
    "arn:aws:s3:::other*",
    "arn:aws:s3:::bucket/${s3:prefix}*",
    "arn:aws:*:*:111122223333:*",
];

/// Every operator, from the library itself.
const OPERATORS: [&str; 27] = keycard::CONDITION_OPERATORS;

const CONDITION_KEYS: [&str; 31] = [
    "aws:username",
    "aws:userid",
    "aws:PrincipalArn",
    "aws:PrincipalAccount",
    "aws:PrincipalType",
    "aws:PrincipalTag/team",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalIsAWSService",
    "aws:SourceIp",
    "AWS:SourceIP",
    "aws:SecureTransport",
    "aws:MultiFactorAuthPresent",
    "aws:MultiFactorAuthAge",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:RequestedRegion",
    "aws:TagKeys",
    "aws:RequestTag/team",
    "aws:ResourceTag/env",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ViaAWSService",
    "aws:CalledVia",
    "aws:SourceArn",
    "aws:SourceAccount",
    "s3:prefix",
    "s3:max-keys",
    "sts:ExternalId",
    "sts:SourceIdentity",
    "kms:ViaService",
];

/// Context keys a request may carry (principal keys come from the store).
const REQUEST_KEYS: [&str; 20] = [
    "aws:SourceIp",
    "aws:SecureTransport",
    "aws:MultiFactorAuthPresent",
    "aws:MultiFactorAuthAge",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:RequestedRegion",
    "aws:TagKeys",
    "aws:RequestTag/team",
    "aws:ResourceTag/env",
    "aws:ResourceAccount",
    "aws:ViaAWSService",
    "aws:CalledVia",
    "aws:SourceArn",
    "aws:SourceAccount",
    "s3:prefix",
    "s3:max-keys",
    "sts:ExternalId",
    "sts:SourceIdentity",
    "kms:ViaService",
];

const STRING_VALUES: [&str; 22] = [
    "alice",
    "ALICE",
    "red",
    "blue",
    "al*",
    "?ed",
    "",
    "${aws:username}",
    "${aws:PrincipalTag/team}",
    "${aws:PrincipalTag/team, 'red'}",
    "arn:aws:iam::111122223333:user/alice",
    "111122223333",
    "444455556666",
    "us-east-1",
    "eu-*",
    "o-abc123",
    "o-abc123/r-root/ou-1/*",
    "team",
    "env",
    "AssumedRole",
    "User",
    "s3.amazonaws.com",
];
const NUMERIC_VALUES: [&str; 7] = ["10", "5.0", "1e1", "-3", "0", "10.5", "3600"];
const DATE_VALUES: [&str; 5] =
    ["2020-01-01T00:00:00Z", "2030-01-01", "1577836800", "2025-06-01T02:00:00+02:00", "2025-06-01T00:00:00Z"];
const BOOL_VALUES: [&str; 3] = ["true", "false", "True"];
const BINARY_VALUES: [&str; 2] = ["dGVzdA==", "YWJj"];
const IP_VALUES: [&str; 6] = ["10.0.0.0/8", "10.1.2.3", "192.168.0.0/16", "::1", "2001:db8::/32", "0.0.0.0/0"];
const ARN_VALUES: [&str; 7] = [
    "arn:aws:iam::111122223333:user/alice",
    "arn:aws:iam::111122223333:*",
    "arn:aws:s3:::bucket",
    "arn:aws:*:*:*:*",
    "arn:aws:iam::111122223333:role/app",
    "arn:aws:iam::*:role/*",
    "arn:aws:iam::111122223333:user/${aws:username}",
];

/// Values a request's context may carry (strings; numbers and booleans are separate choices).
const CONTEXT_VALUES: [&str; 16] = [
    "10.1.2.3",
    "192.168.1.1",
    "2001:db8::1",
    "red",
    "blue",
    "team",
    "env",
    "us-east-1",
    "eu-west-1",
    "2025-06-01T00:00:00Z",
    "2020-01-01",
    "1577836800",
    "true",
    "arn:aws:s3:::bucket",
    "111122223333",
    "s3.amazonaws.com",
];

const TAG_KEYS: [&str; 3] = ["team", "env", "Team"];
const TAG_VALUES: [&str; 4] = ["red", "blue", "prod", ""];

const REQUEST_ACTIONS: [&str; 15] = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:ListBucket",
    "S3:getobject",
    "iam:GetUser",
    "sts:AssumeRole",
    "sts:TagSession",
    "sts:AssumeRoleWithWebIdentity",
    "sts:GetCallerIdentity",
    "sts:GetSessionToken",
    "sts:GetFederationToken",
    "kms:Decrypt",
    "ec2:RunInstances",
    "dynamodb:GetItem",
    "s3express:CreateSession",
];

const RESOURCE_POLICY_ARNS: [&str; 5] = [
    "arn:aws:s3:::bucket",
    "arn:aws:s3:::other",
    "arn:aws:kms:us-east-1:111122223333:key/k1",
    "arn:aws:kms:us-east-1:444455556666:key/k2",
    "arn:aws:s3:::bucket/alice",
];

const CANONICAL_USER: &str = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be";

fn pick<T: Copy>(list: &[T], i: u8) -> T {
    list[usize::from(i) % list.len()]
}

// ---------------------------------------------------------------- the arbitrary description

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Version {
    V2012,
    V2012Again,
    V2012Thrice,
    V2008,
    Absent,
}

#[derive(Arbitrary, Debug, Clone)]
struct PolicySpec {
    version: Version,
    first: StmtSpec,
    rest: Vec<StmtSpec>,
}

#[derive(Arbitrary, Debug, Clone)]
struct StmtSpec {
    deny: bool,
    sid: bool,
    not_action: bool,
    actions: (u8, Option<u8>),
    not_resource: bool,
    resources: (u8, Option<u8>),
    principals: (u8, Option<u8>),
    not_principal: bool,
    conditions: Vec<CondSpec>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Qualifier {
    None,
    ForAllValues,
    ForAnyValue,
}

#[derive(Arbitrary, Debug, Clone)]
struct CondSpec {
    op: u8,
    qualifier: Qualifier,
    if_exists: bool,
    key: u8,
    values: (Val, Option<Val>),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Val {
    /// A value of the operator's family.
    Family(u8),
    /// A string from the string vocabulary, whatever the operator.
    Str(u8),
    /// A JSON number.
    Number(u8),
    /// A JSON boolean.
    Bool(bool),
}

#[derive(Arbitrary, Debug, Clone)]
struct TagSpec {
    key: u8,
    value: u8,
}

#[derive(Arbitrary, Debug, Clone)]
struct UserSpec {
    eng_path: bool,
    with_id: bool,
    inline: Vec<PolicySpec>,
    managed: Vec<u8>,
    in_devs: bool,
    in_ops: bool,
    boundary: Option<u8>,
    tags: Vec<TagSpec>,
}

#[derive(Arbitrary, Debug, Clone)]
struct GroupSpec {
    inline: Vec<PolicySpec>,
    managed: Vec<u8>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum RolePath {
    Root,
    Svc,
    ServiceLinked,
}

#[derive(Arbitrary, Debug, Clone)]
struct RoleSpec {
    path: RolePath,
    with_id: bool,
    trust: PolicySpec,
    inline: Vec<PolicySpec>,
    managed: Vec<u8>,
    boundary: Option<u8>,
    tags: Vec<TagSpec>,
}

#[derive(Arbitrary, Debug, Clone)]
struct ResourcePolicySpec {
    arn: u8,
    account: Option<bool>,
    tags: Vec<TagSpec>,
    policy: PolicySpec,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Target {
    Root,
    Ou,
    AccountA,
    AccountB,
}

#[derive(Arbitrary, Debug, Clone)]
struct OrgSpec {
    with_id: bool,
    a_in_ou: bool,
    b_in_org: bool,
    a_is_management: bool,
    full_access: bool,
    scps: Vec<(Target, PolicySpec)>,
    rcp_full_access: bool,
    rcps: Vec<(Target, PolicySpec)>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum CtxVal {
    Str(u8),
    Num(u8),
    Bool(bool),
    List(u8, u8),
}

#[derive(Arbitrary, Debug, Clone)]
struct RequestSpec {
    principal: u8,
    federating_alice: bool,
    action: u8,
    resource: u8,
    resource_account: Option<bool>,
    context: Vec<(u8, CtxVal)>,
    fixed_time: bool,
    session_policy: Option<PolicySpec>,
    resource_policy: Option<PolicySpec>,
}

#[derive(Arbitrary, Debug, Clone)]
struct Spec {
    alice: Option<UserSpec>,
    bob: Option<UserSpec>,
    carol: Option<UserSpec>,
    devs: Option<GroupSpec>,
    ops: Option<GroupSpec>,
    app: Option<RoleSpec>,
    deploy: Option<RoleSpec>,
    managed: [Option<PolicySpec>; 3],
    aws_managed: Option<PolicySpec>,
    resource_policies: Vec<ResourcePolicySpec>,
    org: Option<OrgSpec>,
    request: RequestSpec,
}

// ---------------------------------------------------------------- rendering

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Identity,
    AwsManaged,
    Session,
    Resource,
    Trust,
    Scp,
    Rcp,
}

/// Names that depend on the spec (paths change ARNs; references go to defined policies only).
struct World {
    alice: String,
    bob: String,
    carol: String,
    app: String,
    deploy: String,
    managed: Vec<String>,
}

impl World {
    fn new(spec: &Spec) -> World {
        let user = |name: &str, account: &str, s: &Option<UserSpec>| {
            let path = if s.as_ref().is_some_and(|u| u.eng_path) { "/eng/" } else { "/" };
            format!("arn:aws:iam::{account}:user{path}{name}")
        };
        let role = |name: &str, s: &Option<RoleSpec>| {
            let path = match s.as_ref().map(|r| r.path) {
                Some(RolePath::Svc) => "/svc/",
                Some(RolePath::ServiceLinked) => "/aws-service-role/",
                _ => "/",
            };
            format!("arn:aws:iam::{A}:role{path}{name}")
        };
        let mut managed: Vec<String> = spec
            .managed
            .iter()
            .enumerate()
            .filter(|(_, p)| p.is_some())
            .map(|(i, _)| format!("arn:aws:iam::{A}:policy/P{i}"))
            .collect();
        if spec.aws_managed.is_some() {
            managed.push("arn:aws:iam::aws:policy/ReadOnlyAccess".into());
        }
        World {
            alice: user("alice", A, &spec.alice),
            bob: user("bob", A, &spec.bob),
            carol: user("carol", B, &spec.carol),
            app: role("app", &spec.app),
            deploy: role("deploy", &spec.deploy),
            managed,
        }
    }

    fn managed_refs(&self, picks: &[u8]) -> Vec<Value> {
        let mut out: Vec<String> = Vec::new();
        if self.managed.is_empty() {
            return Vec::new();
        }
        for &i in picks.iter().take(2) {
            let arn = self.managed[usize::from(i) % self.managed.len()].clone();
            if !out.contains(&arn) {
                out.push(arn);
            }
        }
        out.into_iter().map(|arn| json!({"PolicyName": arn.rsplit('/').next(), "PolicyArn": arn})).collect()
    }

    fn boundary(&self, b: Option<u8>) -> Option<Value> {
        let i = b?;
        if self.managed.is_empty() {
            return None;
        }
        Some(
            json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": self.managed[usize::from(i) % self.managed.len()]}),
        )
    }

    /// A `Principal` entry: `(key, value)`; key `""` means the bare `"*"`.
    fn principal(&self, i: u8) -> (&'static str, String) {
        match i % 15 {
            0 => ("", "*".into()),
            1 => ("AWS", "*".into()),
            2 => ("AWS", A.into()),
            3 => ("AWS", B.into()),
            4 => ("AWS", format!("arn:aws:iam::{A}:root")),
            5 => ("AWS", self.alice.clone()),
            6 => ("AWS", self.carol.clone()),
            7 => ("AWS", self.app.clone()),
            8 => ("AWS", format!("arn:aws:sts::{A}:assumed-role/app/s1")),
            9 => ("AWS", "AIDAALICE000000000001".into()),
            10 => ("Service", "lambda.amazonaws.com".into()),
            11 => ("Federated", "accounts.google.com".into()),
            12 => ("CanonicalUser", CANONICAL_USER.into()),
            13 => ("AWS", format!("arn:aws:sts::{A}:federated-user/fed")),
            _ => ("AWS", self.deploy.clone()),
        }
    }

    fn principal_block(&self, picks: (u8, Option<u8>)) -> Value {
        let mut entries = vec![self.principal(picks.0)];
        if let Some(p) = picks.1 {
            entries.push(self.principal(p));
        }
        if entries.iter().all(|(k, _)| k.is_empty()) {
            return json!("*");
        }
        let mut map: Map<String, Value> = Map::new();
        for (key, value) in entries {
            let key = if key.is_empty() { "AWS" } else { key };
            match map.get_mut(key) {
                None => {
                    map.insert(key.into(), Value::String(value));
                }
                Some(Value::String(prev)) if *prev != value => {
                    let prev = prev.clone();
                    map.insert(key.into(), json!([prev, value]));
                }
                Some(_) => {}
            }
        }
        Value::Object(map)
    }
}

fn string_or_list(first: &str, second: Option<&str>) -> Value {
    match second {
        Some(s) if s != first => json!([first, s]),
        _ => json!(first),
    }
}

fn family_value(op: &str, i: u8) -> Value {
    let list: &[&str] = match op {
        o if o.starts_with("String") => &STRING_VALUES,
        o if o.starts_with("Numeric") => &NUMERIC_VALUES,
        o if o.starts_with("Date") => &DATE_VALUES,
        "Bool" | "Null" => &BOOL_VALUES,
        "BinaryEquals" => &BINARY_VALUES,
        "IpAddress" | "NotIpAddress" => &IP_VALUES,
        _ => &ARN_VALUES,
    };
    json!(pick(list, i))
}

/// A condition value. Values the operator cannot read are load errors, which the parse target
/// and the policy-error tests cover; here they would only lower the load rate, so a value kind
/// the family does not take falls back to a value of the family.
fn value(op: &str, v: Val) -> Value {
    let string_family = op.starts_with("String");
    match v {
        Val::Str(i) if string_family || op.starts_with("Arn") => json!(pick(&STRING_VALUES, i)),
        Val::Number(i) if string_family || op.starts_with("Numeric") => json!(i64::from(i % 16) - 3),
        Val::Number(i) if op.starts_with("Date") => json!(1_577_836_800 + i64::from(i) * 10_000_000),
        Val::Bool(b) if string_family || op == "Bool" || op == "Null" => json!(b),
        Val::Family(i) | Val::Str(i) | Val::Number(i) => family_value(op, i),
        Val::Bool(b) => family_value(op, u8::from(b)),
    }
}

fn conditions(specs: &[CondSpec]) -> Option<Value> {
    let mut block: Map<String, Value> = Map::new();
    for c in specs.iter().take(3) {
        let base = pick(&OPERATORS, c.op);
        let name = if base == "Null" {
            base.to_owned()
        } else {
            let q = match c.qualifier {
                Qualifier::None => "",
                Qualifier::ForAllValues => "ForAllValues:",
                Qualifier::ForAnyValue => "ForAnyValue:",
            };
            format!("{q}{base}{}", if c.if_exists { "IfExists" } else { "" })
        };
        let key = pick(&CONDITION_KEYS, c.key);
        let first = value(base, c.values.0);
        let values = match c.values.1.map(|v| value(base, v)) {
            Some(second) if second != first => json!([first, second]),
            _ => first,
        };
        let entry = block.entry(name).or_insert_with(|| json!({}));
        if let Value::Object(keys) = entry {
            keys.entry(key.to_owned()).or_insert(values);
        }
    }
    (!block.is_empty()).then_some(Value::Object(block))
}

fn statement(w: &World, s: &StmtSpec, kind: Kind, index: usize) -> Value {
    let mut st: Map<String, Value> = Map::new();
    if s.sid {
        st.insert("Sid".into(), json!(format!("S{index}")));
    }
    let deny = match kind {
        Kind::Rcp => true,
        _ => s.deny,
    };
    st.insert("Effect".into(), json!(if deny { "Deny" } else { "Allow" }));
    let actions = if kind == Kind::Trust {
        string_or_list(pick(&TRUST_ACTIONS, s.actions.0), s.actions.1.map(|a| pick(&TRUST_ACTIONS, a)))
    } else {
        string_or_list(pick(&ACTION_PATTERNS, s.actions.0), s.actions.1.map(|a| pick(&ACTION_PATTERNS, a)))
    };
    let not_action = s.not_action && kind != Kind::Rcp;
    st.insert(if not_action { "NotAction" } else { "Action" }.into(), actions);
    if kind != Kind::Trust {
        let resources =
            string_or_list(pick(&RESOURCE_PATTERNS, s.resources.0), s.resources.1.map(|r| pick(&RESOURCE_PATTERNS, r)));
        st.insert(if s.not_resource { "NotResource" } else { "Resource" }.into(), resources);
    }
    match kind {
        Kind::Resource | Kind::Trust => {
            let not = s.not_principal && deny && kind == Kind::Resource;
            st.insert(if not { "NotPrincipal" } else { "Principal" }.into(), w.principal_block(s.principals));
        }
        Kind::Rcp => {
            st.insert("Principal".into(), json!("*"));
        }
        _ => {}
    }
    if let Some(c) = conditions(&s.conditions) {
        st.insert("Condition".into(), c);
    }
    Value::Object(st)
}

fn policy(w: &World, p: &PolicySpec, kind: Kind) -> Value {
    let mut statements: Vec<Value> = std::iter::once(&p.first)
        .chain(p.rest.iter().take(2))
        .enumerate()
        .map(|(i, s)| statement(w, s, kind, i))
        .collect();
    let version = match (kind, p.version) {
        (Kind::Scp | Kind::Rcp, _) => Some("2012-10-17"),
        (_, Version::V2008) => Some("2008-10-17"),
        (_, Version::Absent) => None,
        _ => Some("2012-10-17"),
    };
    let mut doc: Map<String, Value> = Map::new();
    if let Some(v) = version {
        doc.insert("Version".into(), json!(v));
    }
    let statement = if statements.len() == 1 { statements.remove(0) } else { Value::Array(statements) };
    doc.insert("Statement".into(), statement);
    Value::Object(doc)
}

fn inline_list(w: &World, policies: &[PolicySpec]) -> Vec<Value> {
    policies
        .iter()
        .take(2)
        .enumerate()
        .map(|(i, p)| json!({"PolicyName": format!("Inline{i}"), "PolicyDocument": policy(w, p, Kind::Identity)}))
        .collect()
}

fn tags(specs: &[TagSpec]) -> Vec<Value> {
    let mut seen: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for t in specs.iter().take(2) {
        let key = pick(&TAG_KEYS, t.key);
        if seen.iter().any(|k| k.eq_ignore_ascii_case(key)) {
            continue;
        }
        seen.push(key.to_owned());
        out.push(json!({"Key": key, "Value": pick(&TAG_VALUES, t.value)}));
    }
    out
}

fn user(w: &World, name: &str, arn: &str, s: &UserSpec, groups: &[&str]) -> Value {
    let mut u = Map::new();
    u.insert("UserName".into(), json!(name));
    u.insert("Path".into(), json!(if s.eng_path { "/eng/" } else { "/" }));
    u.insert("Arn".into(), json!(arn));
    if s.with_id {
        u.insert("UserId".into(), json!(format!("AIDA{}000000000001", name.to_ascii_uppercase())));
    }
    u.insert("UserPolicyList".into(), Value::Array(inline_list(w, &s.inline)));
    u.insert("AttachedManagedPolicies".into(), Value::Array(w.managed_refs(&s.managed)));
    u.insert("GroupList".into(), json!(groups));
    if let Some(b) = w.boundary(s.boundary) {
        u.insert("PermissionsBoundary".into(), b);
    }
    u.insert("Tags".into(), Value::Array(tags(&s.tags)));
    Value::Object(u)
}

fn role(w: &World, name: &str, arn: &str, s: &RoleSpec) -> Value {
    let path = match s.path {
        RolePath::Root => "/",
        RolePath::Svc => "/svc/",
        RolePath::ServiceLinked => "/aws-service-role/",
    };
    let mut r = Map::new();
    r.insert("RoleName".into(), json!(name));
    r.insert("Path".into(), json!(path));
    r.insert("Arn".into(), json!(arn));
    if s.with_id {
        r.insert("RoleId".into(), json!(format!("AROA{}00000000000001", name.to_ascii_uppercase())));
    }
    r.insert("AssumeRolePolicyDocument".into(), policy(w, &s.trust, Kind::Trust));
    r.insert("RolePolicyList".into(), Value::Array(inline_list(w, &s.inline)));
    r.insert("AttachedManagedPolicies".into(), Value::Array(w.managed_refs(&s.managed)));
    if let Some(b) = w.boundary(s.boundary) {
        r.insert("PermissionsBoundary".into(), b);
    }
    r.insert("Tags".into(), Value::Array(tags(&s.tags)));
    Value::Object(r)
}

fn managed_policy(w: &World, arn: &str, p: &PolicySpec, kind: Kind) -> Value {
    let name = arn.rsplit('/').next().unwrap_or("P");
    json!({
        "PolicyName": name,
        "Arn": arn,
        "Path": "/",
        "DefaultVersionId": "v1",
        "PolicyVersionList": [{"Document": policy(w, p, kind), "VersionId": "v1", "IsDefaultVersion": true}]
    })
}

fn target(t: Target) -> &'static str {
    match t {
        Target::Root => "r-root",
        Target::Ou => "ou-1",
        Target::AccountA => A,
        Target::AccountB => B,
    }
}

fn organization(w: &World, o: &OrgSpec) -> Value {
    let mut accounts = vec![
        json!({"Id": MGMT, "Parents": ["r-root"]}),
        json!({"Id": A, "Parents": if o.a_in_ou { json!(["r-root", "ou-1"]) } else { json!(["r-root"]) }}),
    ];
    if o.b_in_org {
        accounts.push(json!({"Id": B, "Parents": ["r-root"]}));
    }
    let mut scps = Vec::new();
    if o.full_access {
        scps.push(json!({
            "Name": "FullAWSAccess",
            "Targets": ["r-root", "ou-1", MGMT, A, B],
            "Policy": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
        }));
    }
    for (i, (t, p)) in o.scps.iter().take(2).enumerate() {
        scps.push(json!({"Name": format!("Scp{i}"), "Targets": [target(*t)], "Policy": policy(w, p, Kind::Scp)}));
    }
    let mut rcps = Vec::new();
    if o.rcp_full_access {
        rcps.push(json!({
            "Name": "RCPFullAWSAccess",
            "Targets": ["r-root"],
            "Policy": {"Version": "2012-10-17",
                       "Statement": {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}}
        }));
    }
    for (i, (t, p)) in o.rcps.iter().take(2).enumerate() {
        rcps.push(json!({"Name": format!("Rcp{i}"), "Targets": [target(*t)], "Policy": policy(w, p, Kind::Rcp)}));
    }
    let mut org = Map::new();
    if o.with_id {
        org.insert("Id".into(), json!("o-abc123"));
    }
    org.insert("ManagementAccount".into(), json!(if o.a_is_management { A } else { MGMT }));
    org.insert("Accounts".into(), Value::Array(accounts));
    org.insert("ServiceControlPolicies".into(), Value::Array(scps));
    org.insert("ResourceControlPolicies".into(), Value::Array(rcps));
    Value::Object(org)
}

fn context(r: &RequestSpec) -> Map<String, Value> {
    let mut ctx = Map::new();
    for (k, v) in r.context.iter().take(3) {
        let key = pick(&REQUEST_KEYS, *k);
        if ctx.keys().any(|prev| prev.eq_ignore_ascii_case(key)) {
            continue;
        }
        let value = match *v {
            CtxVal::Str(i) => json!(pick(&CONTEXT_VALUES, i)),
            CtxVal::Num(i) => json!(i64::from(i % 16) - 3),
            CtxVal::Bool(b) => json!(b),
            CtxVal::List(a, b) => json!([pick(&CONTEXT_VALUES, a), pick(&CONTEXT_VALUES, b)]),
        };
        ctx.insert(key.to_owned(), value);
    }
    // Without a time the clock decides; keep the two evaluations on the same instant.
    if r.fixed_time
        && !ctx.keys().any(|k| k.eq_ignore_ascii_case("aws:CurrentTime") || k.eq_ignore_ascii_case("aws:EpochTime"))
    {
        ctx.insert("aws:CurrentTime".into(), json!("2025-06-01T00:00:00Z"));
    }
    ctx
}

fn request(w: &World, r: &RequestSpec) -> Value {
    let mut req = Map::new();
    let principal = match r.principal % 15 {
        0 => json!(w.alice),
        1 => json!(w.bob),
        2 => json!(w.carol),
        3 => json!(w.app),
        4 => json!(format!("arn:aws:sts::{A}:assumed-role/app/s1")),
        5 => json!(format!("arn:aws:sts::{A}:assumed-role/deploy/s2")),
        6 => json!(A),
        7 => json!(format!("arn:aws:iam::{B}:root")),
        8 => json!("*"),
        9 => json!({"Service": "lambda.amazonaws.com"}),
        10 => json!({"Federated": "accounts.google.com"}),
        11 => json!({"CanonicalUser": CANONICAL_USER}),
        12 => {
            if r.federating_alice {
                req.insert("federatingUser".into(), json!(w.alice));
            }
            json!(format!("arn:aws:sts::{A}:federated-user/fed"))
        }
        13 => json!(format!("arn:aws:iam::{A}:user/nobody")),
        _ => json!(w.deploy),
    };
    req.insert("principal".into(), principal);
    req.insert("action".into(), json!(pick(&REQUEST_ACTIONS, r.action)));
    let resource = match r.resource % 12 {
        0 => "*".to_owned(),
        1 => "arn:aws:s3:::bucket".into(),
        2 => "arn:aws:s3:::bucket/alice/x".into(),
        3 => "arn:aws:s3:::bucket/red/y".into(),
        4 => "arn:aws:s3:::bucket/*".into(),
        5 => "arn:aws:s3:::other".into(),
        6 => w.app.clone(),
        7 => w.deploy.clone(),
        8 => format!("arn:aws:kms:us-east-1:{A}:key/k1"),
        9 => format!("arn:aws:kms:us-east-1:{B}:key/k2"),
        10 => format!("arn:aws:ec2:us-east-1:{A}:instance/i-1"),
        _ => "arn:aws:s3:::bucket/a:b".into(),
    };
    req.insert("resource".into(), json!(resource));
    if let Some(b) = r.resource_account {
        req.insert("resourceAccount".into(), json!(if b { A } else { B }));
    }
    let ctx = context(r);
    if !ctx.is_empty() {
        req.insert("context".into(), Value::Object(ctx));
    }
    if let Some(p) = &r.session_policy {
        req.insert("sessionPolicy".into(), policy(w, p, Kind::Session));
    }
    if let Some(p) = &r.resource_policy {
        req.insert("resourcePolicy".into(), policy(w, p, Kind::Resource));
    }
    Value::Object(req)
}

fn render(spec: &Spec) -> Rendered {
    let w = World::new(spec);
    let mut policies = Vec::new();
    for (i, p) in spec.managed.iter().enumerate() {
        if let Some(p) = p {
            policies.push(managed_policy(&w, &format!("arn:aws:iam::{A}:policy/P{i}"), p, Kind::Identity));
        }
    }
    if let Some(p) = &spec.aws_managed {
        policies.push(managed_policy(&w, "arn:aws:iam::aws:policy/ReadOnlyAccess", p, Kind::AwsManaged));
    }
    let mut groups = Vec::new();
    for (name, g) in [("devs", &spec.devs), ("ops", &spec.ops)] {
        if let Some(g) = g {
            groups.push(json!({
                "GroupName": name,
                "Path": "/",
                "GroupPolicyList": inline_list(&w, &g.inline),
                "AttachedManagedPolicies": w.managed_refs(&g.managed),
            }));
        }
    }
    let mut users = Vec::new();
    for (name, arn, s) in [("alice", &w.alice, &spec.alice), ("bob", &w.bob, &spec.bob)] {
        if let Some(s) = s {
            let mut member = Vec::new();
            if s.in_devs && spec.devs.is_some() {
                member.push("devs");
            }
            if s.in_ops && spec.ops.is_some() {
                member.push("ops");
            }
            users.push(user(&w, name, arn, s, &member));
        }
    }
    if let Some(s) = &spec.carol {
        // Carol is in account B, where there are no groups.
        users.push(user(&w, "carol", &w.carol, s, &[]));
    }
    let mut roles = Vec::new();
    for (name, arn, s) in [("app", &w.app, &spec.app), ("deploy", &w.deploy, &spec.deploy)] {
        if let Some(s) = s {
            roles.push(role(&w, name, arn, s));
        }
    }
    let mut resource_policies = Vec::new();
    for rp in spec.resource_policies.iter().take(2) {
        let mut entry = Map::new();
        entry.insert("ResourceArn".into(), json!(pick(&RESOURCE_POLICY_ARNS, rp.arn)));
        if let Some(b) = rp.account {
            entry.insert("Account".into(), json!(if b { A } else { B }));
        }
        entry.insert("Tags".into(), Value::Array(tags(&rp.tags)));
        entry.insert("Policy".into(), policy(&w, &rp.policy, Kind::Resource));
        resource_policies.push(Value::Object(entry));
    }
    let mut account = Map::new();
    account.insert("AccountId".into(), json!(A));
    account.insert("Policies".into(), Value::Array(policies));
    account.insert("GroupDetailList".into(), Value::Array(groups));
    account.insert("UserDetailList".into(), Value::Array(users));
    account.insert("RoleDetailList".into(), Value::Array(roles));
    account.insert("ResourcePolicies".into(), Value::Array(resource_policies));
    let mut documents = vec![("account.json".to_owned(), Value::Object(account))];
    if let Some(o) = &spec.org {
        documents.push(("organization.json".to_owned(), json!({"Organization": organization(&w, o)})));
    }
    Rendered { documents, request: request(&w, &spec.request), expect: None }
}

/// The fuzz input: the rendered case. `Debug` prints the reproducer JSON.
struct Case(Rendered);

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Case(render(&Spec::arbitrary(u)?)))
    }

    fn arbitrary_take_rest(u: Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Case(render(&bounded::<Spec>(u)?)))
    }
}

fuzz_target!(|case: Case| -> Corpus {
    let (store, request) = case.0.load();
    let (Ok(store), Ok(request)) = (store, request) else {
        return Corpus::Reject;
    };
    check_agreement(&Snapshot::new(store), &request, &case);
    Corpus::Keep
});

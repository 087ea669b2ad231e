//! Random stores for the analysis tests (`analysis_*.rs`): one account of users, groups and
//! roles with inline and managed policies, boundaries, trust policies, sometimes a second
//! account's resource policy and an organization with SCPs. Policies draw from small
//! vocabularies of actions, resource patterns and `StringEquals` conditions, so that grants,
//! denies, boundaries and SCPs collide often.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use serde_json::{json, Value};

pub const ACCOUNT: &str = "111111111111";
pub const OTHER: &str = "222222222222";
pub const USERS: [&str; 4] = ["alice", "bob", "carol", "dave"];
pub const ROLES: [&str; 3] = ["app", "admin", "deployer"];
pub const GROUPS: [&str; 2] = ["devs", "ops"];
pub const MANAGED: [&str; 3] = ["Shared", "Extra", "Bound"];

pub const ACTIONS: [&str; 14] = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:Get*",
    "s3:*",
    "ec2:RunInstances",
    "ec2:Describe*",
    "iam:CreateAccessKey",
    "iam:PassRole",
    "iam:Put*",
    "sts:AssumeRole",
    "sqs:SendMessage",
    "lambda:CreateFunction",
    "s3:*Object",
    "*",
];
pub const RESOURCES: [&str; 12] = [
    "arn:aws:s3:::reports/*",
    "arn:aws:s3:::reports/2026/*",
    "arn:aws:s3:::logs*",
    "arn:aws:s3:::home/${aws:username}/*",
    "arn:aws:iam::111111111111:user/*",
    "arn:aws:iam::111111111111:user/bob",
    "arn:aws:iam::111111111111:role/*",
    "arn:aws:iam::111111111111:role/app",
    "arn:aws:ec2:*:*:instance/*",
    "arn:aws:sqs:us-east-1:111111111111:jobs",
    "arn:aws:s3:::*",
    "arn:aws:lambda:*:111111111111:function:*",
];
/// Condition keys and values (`StringEquals`).
pub const KEYS: [&str; 2] = ["aws:SourceVpc", "aws:RequestedRegion"];
pub const VALUES: [&str; 2] = ["v1", "v2"];

pub fn user_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:user/{name}")
}

pub fn role_arn(name: &str) -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{name}")
}

fn statement(sid: usize) -> impl Strategy<Value = Value> {
    (
        prop::bool::weighted(0.2),
        subsequence(ACTIONS.to_vec(), 1..=3),
        prop::bool::weighted(0.25),
        subsequence(RESOURCES.to_vec(), 1..=2),
        prop::option::weighted(0.3, (select(KEYS.to_vec()), select(VALUES.to_vec()))),
        prop::bool::weighted(0.05),
    )
        .prop_map(move |(deny, actions, star, resources, cond, not_action)| {
            let mut s = json!({
                "Sid": format!("S{sid}"),
                "Effect": if deny { "Deny" } else { "Allow" },
                "Resource": if star { json!("*") } else { json!(resources) },
            });
            if not_action {
                s["NotAction"] = json!(["iam:*", "sts:*"]);
            } else {
                s["Action"] = json!(actions);
            }
            if let Some((k, v)) = cond {
                s["Condition"] = json!({"StringEquals": {k: v}});
            }
            s
        })
}

pub fn policy() -> impl Strategy<Value = Value> {
    prop::collection::vec(0..1usize, 1..=4)
        .prop_flat_map(|v| v.into_iter().enumerate().map(|(i, _)| statement(i)).collect::<Vec<_>>())
        .prop_map(|statements| json!({"Version": "2012-10-17", "Statement": statements}))
}

fn trust() -> impl Strategy<Value = Value> {
    let principal = prop_oneof![
        Just(json!({"Service": "ec2.amazonaws.com"})),
        Just(json!({"Service": "lambda.amazonaws.com"})),
        select(USERS.to_vec()).prop_map(|u| json!({"AWS": user_arn(u)})),
        select(ROLES.to_vec()).prop_map(|r| json!({"AWS": role_arn(r)})),
        Just(json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")})),
    ];
    prop::collection::vec(principal, 1..=2).prop_map(|ps| {
        let statements: Vec<Value> = ps
            .into_iter()
            .enumerate()
            .map(
                |(i, p)| json!({"Sid": format!("T{i}"), "Effect": "Allow", "Principal": p, "Action": "sts:AssumeRole"}),
            )
            .collect();
        json!({"Version": "2012-10-17", "Statement": statements})
    })
}

/// What a generated store holds besides its policies.
#[derive(Debug, Clone)]
pub struct Shape {
    pub groups_of: Vec<Vec<usize>>,
    pub managed_of: Vec<Vec<usize>>,
    pub boundary_of: Vec<bool>,
    pub role_managed: Vec<Vec<usize>>,
    pub role_boundary: Vec<bool>,
    pub org: Option<(Value, Option<Value>)>,
    pub foreign_bucket: Option<Value>,
}

fn shape() -> impl Strategy<Value = Shape> {
    let per_user = || prop::collection::vec(subsequence((0..2).collect::<Vec<usize>>(), 0..=2), USERS.len());
    let managed = || prop::collection::vec(subsequence((0..2).collect::<Vec<usize>>(), 0..=2), 4);
    (
        per_user(),
        managed(),
        prop::collection::vec(prop::bool::weighted(0.3), USERS.len()),
        prop::collection::vec(subsequence((0..2).collect::<Vec<usize>>(), 0..=1), ROLES.len()),
        prop::collection::vec(prop::bool::weighted(0.3), ROLES.len()),
        prop::option::weighted(0.4, (policy(), prop::option::weighted(0.5, policy()))),
        prop::option::weighted(0.2, policy()),
    )
        .prop_map(|(groups_of, managed_of, boundary_of, role_managed, role_boundary, org, foreign_bucket)| Shape {
            groups_of,
            managed_of,
            boundary_of,
            role_managed,
            role_boundary,
            org,
            foreign_bucket,
        })
}

fn managed_arn(i: usize) -> String {
    format!("arn:aws:iam::{ACCOUNT}:policy/{}", MANAGED[i])
}

/// `AttachedManagedPolicies` for the managed policies `ids`.
fn attached(ids: &[usize]) -> Vec<Value> {
    ids.iter().map(|&m| json!({"PolicyName": MANAGED[m], "PolicyArn": managed_arn(m)})).collect()
}

/// Gives `entity` the permissions boundary `boundary` when `yes`.
fn bounded(entity: &mut Value, yes: bool, boundary: &Value) {
    if yes {
        entity["PermissionsBoundary"] = boundary.clone();
    }
}

/// A generated store document (`get-account-authorization-details` plus extensions).
pub fn store() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(policy(), USERS.len()),
        prop::collection::vec(policy(), GROUPS.len()),
        prop::collection::vec(policy(), ROLES.len()),
        prop::collection::vec(trust(), ROLES.len()),
        prop::collection::vec(policy(), MANAGED.len()),
        shape(),
    )
        .prop_map(|(user_p, group_p, role_p, trusts, managed_p, shape)| {
            build(&user_p, &group_p, &role_p, &trusts, &managed_p, &shape)
        })
}

fn build(
    user_p: &[Value],
    group_p: &[Value],
    role_p: &[Value],
    trusts: &[Value],
    managed_p: &[Value],
    shape: &Shape,
) -> Value {
    let boundary = json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": managed_arn(2)});
    let users: Vec<Value> = USERS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut u = json!({
                "UserName": name, "UserId": format!("AIDA{}", name.to_uppercase()), "Path": "/",
                "Arn": user_arn(name),
                "GroupList": shape.groups_of[i].iter().map(|&g| GROUPS[g]).collect::<Vec<_>>(),
                "UserPolicyList": [{"PolicyName": "own", "PolicyDocument": user_p[i]}],
                "AttachedManagedPolicies": attached(&shape.managed_of[i]),
            });
            bounded(&mut u, shape.boundary_of[i], &boundary);
            u
        })
        .collect();
    let groups: Vec<Value> = GROUPS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({
                "GroupName": name, "GroupId": format!("AGPA{}", name.to_uppercase()), "Path": "/",
                "Arn": format!("arn:aws:iam::{ACCOUNT}:group/{name}"),
                "GroupPolicyList": [{"PolicyName": "grp", "PolicyDocument": group_p[i]}],
                "AttachedManagedPolicies": attached(&shape.managed_of[USERS.len() - 1 - i]),
            })
        })
        .collect();
    let roles: Vec<Value> = ROLES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut r = json!({
                "RoleName": name, "RoleId": format!("AROA{}", name.to_uppercase()), "Path": "/",
                "Arn": role_arn(name),
                "AssumeRolePolicyDocument": trusts[i],
                "RolePolicyList": [{"PolicyName": "own", "PolicyDocument": role_p[i]}],
                "AttachedManagedPolicies": attached(&shape.role_managed[i]),
            });
            bounded(&mut r, shape.role_boundary[i], &boundary);
            r
        })
        .collect();
    let policies: Vec<Value> = MANAGED
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({
                "PolicyName": name, "PolicyId": format!("ANPA{}", name.to_uppercase()), "Arn": managed_arn(i), "Path": "/",
                "DefaultVersionId": "v1", "IsAttachable": true,
                "PolicyVersionList": [{"Document": managed_p[i], "VersionId": "v1", "IsDefaultVersion": true}],
            })
        })
        .collect();
    let mut doc = json!({
        "AccountId": ACCOUNT,
        "UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies,
    });
    if let Some((root_scp, account_scp)) = &shape.org {
        let full = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]});
        let mut scps = vec![
            json!({"Name": "FullAWSAccess", "Targets": ["r-root"], "Policy": full}),
            json!({"Name": "RootExtra", "Targets": ["r-root"], "Policy": root_scp}),
        ];
        if let Some(p) = account_scp {
            scps.push(json!({"Name": "AccountLevel", "Targets": [ACCOUNT], "Policy": p}));
        }
        doc["Organization"] = json!({
            "Id": "o-analysis01", "ManagementAccount": "999999999999",
            "Accounts": [{"Id": ACCOUNT, "Parents": ["r-root"]}, {"Id": OTHER, "Parents": ["r-root"]}],
            "ServiceControlPolicies": scps,
        });
    }
    if let Some(p) = &shape.foreign_bucket {
        // A bucket of the other account: the policy names our principals.
        let mut p = p.clone();
        for s in p["Statement"].as_array_mut().into_iter().flatten() {
            s["Principal"] = json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")});
            s["Resource"] = json!(["arn:aws:s3:::logs-shared", "arn:aws:s3:::logs-shared/*"]);
            if let Some(a) = s.as_object_mut().and_then(|m| m.remove("NotAction")) {
                s["NotAction"] = a;
            }
        }
        doc["ResourcePolicies"] = json!([{"ResourceArn": "arn:aws:s3:::logs-shared", "Account": OTHER, "Policy": p}]);
    }
    doc
}

/// Every user and role ARN of a generated store.
pub fn principals() -> Vec<String> {
    USERS.iter().map(|u| user_arn(u)).chain(ROLES.iter().map(|r| role_arn(r))).collect()
}

/// Loads a generated store, failing with the loader's problems.
pub fn load(doc: &Value) -> keycard::Snapshot {
    match keycard::Store::from_documents([("store.json", doc.to_string())]) {
        Ok(s) => keycard::Snapshot::new(s),
        Err(e) => panic!("generated store does not load: {e:?}\n{doc}"),
    }
}

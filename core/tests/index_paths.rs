#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
//! The candidate tables of the compiled index, path by path: every kind of action set
//! (literal-only, wildcard in one service, literal actions beside a wildcard service, wildcard
//! service part, `*`, `NotAction`, `NotAction: *`), actions that some policy names literally
//! (interned) and actions none does (the fallback), a policy attached twice to one user, users
//! sharing one table, boundaries and SCPs (tables of single policies). Every decision must equal
//! the reference evaluator's, and a few are pinned so that the store really exercises each path.

use keycard::{Decision, Request, Snapshot, Store};
use Decision::{Allowed, ExplicitDeny, ImplicitDeny};

const STORE: &str = r#"{
  "AccountId": "111122223333",
  "UserDetailList": [
    {"UserName": "ann", "UserId": "AIDAANNANNANNANNANN", "GroupList": ["g"],
     "AttachedManagedPolicies": [{"PolicyName": "Shared", "PolicyArn": "arn:aws:iam::111122223333:policy/Shared"}],
     "UserPolicyList": [{"PolicyName": "Own", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
       {"Effect": "Allow", "Action": ["s3:GetObject", "sqs:Send*", "dynamodb:GetItem"], "Resource": "arn:aws:s3:::b/*"},
       {"Effect": "Allow", "Action": ["sqs:Send*", "dynamodb:GetItem"], "Resource": "*"},
       {"Effect": "Allow", "Action": "*:Describe*", "Resource": "*"},
       {"Effect": "Allow", "Action": "s?:List*", "Resource": "*"},
       {"Effect": "Deny", "NotAction": ["s3:*", "sqs:*", "dynamodb:*", "ec2:*", "kms:Decrypt"], "Resource": "*"},
       {"Effect": "Deny", "NotAction": "*", "Resource": "*"},
       {"Effect": "Deny", "Action": "s3:Delete*", "Resource": "arn:aws:s3:::b/locked/*"}]}}]},
    {"UserName": "bob", "UserId": "AIDABOBBOBBOBBOBBOB", "GroupList": ["g"],
     "AttachedManagedPolicies": [{"PolicyName": "Shared", "PolicyArn": "arn:aws:iam::111122223333:policy/Shared"}],
     "PermissionsBoundary": {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/Bound"}},
    {"UserName": "cid", "UserId": "AIDACIDCIDCIDCIDCID", "GroupList": ["g"],
     "AttachedManagedPolicies": [{"PolicyName": "Shared", "PolicyArn": "arn:aws:iam::111122223333:policy/Shared"}]}
  ],
  "GroupDetailList": [{"GroupName": "g",
    "AttachedManagedPolicies": [{"PolicyName": "Shared", "PolicyArn": "arn:aws:iam::111122223333:policy/Shared"}],
    "GroupPolicyList": [{"PolicyName": "G", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": ["s3:Get*", "s3:PutObject", "kms:Decrypt"], "Resource": "arn:aws:s3:::b/*"},
      {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::open/*"}]}}]}],
  "Policies": [
    {"PolicyName": "Shared", "Arn": "arn:aws:iam::111122223333:policy/Shared", "DefaultVersionId": "v1",
     "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": {"Version": "2012-10-17", "Statement": [
       {"Effect": "Allow", "Action": ["ec2:RunInstances", "ec2:Start?nstances"], "Resource": "*"},
       {"Effect": "Deny", "Action": "ec2:TerminateInstances", "Resource": "*"}]}}]},
    {"PolicyName": "Bound", "Arn": "arn:aws:iam::111122223333:policy/Bound", "DefaultVersionId": "v1",
     "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": {"Version": "2012-10-17", "Statement": [
       {"Effect": "Allow", "Action": ["s3:Get*", "ec2:*"], "Resource": "*"},
       {"Effect": "Allow", "NotAction": ["s3:*", "ec2:*", "iam:*"], "Resource": "*"}]}}]}
  ],
  "Organization": {"ManagementAccount": "999999999999", "Accounts": [{"Id": "111122223333", "Parents": ["r-root"]}],
    "ServiceControlPolicies": [{"Name": "Most", "Targets": ["r-root"], "Policy": {"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "NotAction": "organizations:*", "Resource": "*"},
      {"Effect": "Deny", "Action": "s3:PutObject*", "Resource": "arn:aws:s3:::b/frozen/*"}]}}]}
}"#;

const USERS: [&str; 3] = ["ann", "bob", "cid"];

/// Interned actions (named literally by some policy) and others (only wildcards reach them).
const ACTIONS: [&str; 22] = [
    "s3:GetObject",
    "s3:GetObjectAcl",
    "s3:PutObject",
    "s3:PutObjectAcl",
    "s3:DeleteObject",
    "s3:ListBucket",
    "sqs:SendMessage",
    "sqs:ReceiveMessage",
    "sqs:ListQueues",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "ec2:RunInstances",
    "ec2:StartInstances",
    "ec2:TerminateInstances",
    "ec2:DescribeInstances",
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "iam:ListUsers",
    "organizations:ListAccounts",
    "lambda:InvokeFunction",
    "ses:ListIdentities",
];

const RESOURCES: [&str; 6] = [
    "arn:aws:s3:::b/x",
    "arn:aws:s3:::b/locked/x",
    "arn:aws:s3:::b/frozen/x",
    "arn:aws:s3:::open/x",
    "arn:aws:s3:::other/x",
    "*",
];

fn decide(snapshot: &Snapshot, user: &str, action: &str, resource: &str) -> Decision {
    let req = Request::new(&format!("arn:aws:iam::111122223333:user/{user}"), action, resource).unwrap();
    let fast = snapshot.decide(&req);
    let reference = keycard::reference::authorize(snapshot.store(), &req).decision();
    assert_eq!(fast, reference, "{user} {action} {resource}: index {fast:?}, reference {reference:?}");
    fast
}

#[test]
fn every_table_path_agrees_with_the_reference() {
    let snapshot = Snapshot::new(Store::from_documents([("a.json", STORE)]).unwrap());
    let mut seen = [0usize; 3];
    for user in USERS {
        for action in ACTIONS {
            for resource in RESOURCES {
                let d = decide(&snapshot, user, action, resource);
                seen[d as usize] += 1;
            }
        }
    }
    assert!(seen.iter().all(|&n| n > 20), "decision mix {seen:?}");
}

#[test]
fn pinned_decisions_per_path() {
    let snapshot = Snapshot::new(Store::from_documents([("a.json", STORE)]).unwrap());
    let d = |user: &str, action: &str, resource: &str| decide(&snapshot, user, action, resource);
    // Literal-only statement, interned action.
    assert_eq!(d("ann", "dynamodb:GetItem", "arn:aws:s3:::other/x"), Allowed);
    // A literal action beside a wildcard in another service (`s3:GetObject` + `sqs:Send*`).
    assert_eq!(d("ann", "s3:GetObject", "arn:aws:s3:::b/x"), Allowed);
    // Wildcard in one service, an action no policy names (fallback).
    assert_eq!(d("ann", "sqs:SendMessageBatch", "*"), Allowed);
    assert_eq!(d("ann", "sqs:ReceiveMessage", "*"), ImplicitDeny);
    // Wildcard service part, interned and not.
    assert_eq!(d("ann", "ec2:DescribeInstances", "*"), Allowed);
    assert_eq!(d("ann", "s3:ListBucket", "*"), Allowed);
    assert_eq!(d("ann", "s3:ListAllMyBuckets", "*"), Allowed);
    assert_eq!(d("ann", "sqs:ListQueues", "*"), ImplicitDeny);
    // ... unless the NotAction Deny reaches the action.
    assert_eq!(d("ann", "kms:DescribeKey", "*"), ExplicitDeny);
    // NotAction Deny: excluded literally (`kms:Decrypt`), excluded by a wildcard, not excluded.
    assert_eq!(d("ann", "kms:Decrypt", "arn:aws:s3:::b/x"), Allowed);
    assert_eq!(d("ann", "kms:Encrypt", "*"), ExplicitDeny);
    assert_eq!(d("ann", "iam:ListUsers", "*"), ExplicitDeny);
    assert_eq!(d("ann", "lambda:InvokeFunction", "*"), ExplicitDeny);
    // `Action: *` on one prefix.
    assert_eq!(d("cid", "lambda:InvokeFunction", "arn:aws:s3:::open/x"), Allowed);
    assert_eq!(d("cid", "lambda:InvokeFunction", "arn:aws:s3:::other/x"), ImplicitDeny);
    // A policy attached directly and through the group; `?` in a literal service.
    assert_eq!(d("cid", "ec2:StartInstances", "*"), Allowed);
    assert_eq!(d("cid", "ec2:TerminateInstances", "*"), ExplicitDeny);
    // Boundary (its own table): allows `s3:Get*`, `ec2:*` and everything outside s3/ec2/iam.
    assert_eq!(d("bob", "s3:GetObject", "arn:aws:s3:::b/x"), Allowed);
    assert_eq!(d("bob", "s3:PutObject", "arn:aws:s3:::b/x"), ImplicitDeny);
    assert_eq!(d("bob", "kms:Decrypt", "arn:aws:s3:::b/x"), Allowed);
    assert_eq!(d("cid", "s3:PutObject", "arn:aws:s3:::b/x"), Allowed);
    // SCP: NotAction allow leaves out `organizations:*`; a Deny by prefix glob.
    assert_eq!(d("cid", "organizations:ListAccounts", "arn:aws:s3:::open/x"), ImplicitDeny);
    assert_eq!(d("cid", "s3:PutObject", "arn:aws:s3:::b/frozen/x"), ExplicitDeny);
    assert_eq!(d("ann", "s3:DeleteObject", "arn:aws:s3:::b/locked/x"), ExplicitDeny);
}

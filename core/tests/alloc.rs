//! The decision path allocates nothing: `Snapshot::decide` on requests that substitute no policy
//! variable is measured with allocation-counter's counting global allocator (its counters are
//! per thread, so other tests running in parallel do not disturb the count).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use keycard::{Decision, Request, Snapshot, Store};

/// Runs `f`, counting this thread's heap allocations (allocation-counter's global allocator).
fn allocations_during(f: impl FnOnce() -> Decision) -> (Decision, u64) {
    let mut d = Decision::ImplicitDeny;
    let info = allocation_counter::measure(|| d = f());
    (d, info.count_total)
}

const STORE: &str = r#"{
  "AccountId": "111122223333",
  "UserDetailList": [
    {"UserName": "alice", "Path": "/dev/", "UserId": "AIDAALICEALICEALICE", "GroupList": ["devs"],
     "Tags": [{"Key": "team", "Value": "blue"}],
     "UserPolicyList": [{"PolicyName": "Own", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
       {"Effect": "Allow", "Action": ["s3:Get*", "s3:ListBucket"], "Resource": ["arn:aws:s3:::reports", "arn:aws:s3:::reports/*", "arn:aws:s3:::shared/*"]},
       {"Effect": "Deny", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/secret/*"},
       {"Effect": "Allow", "Action": "ec2:*", "Resource": "*",
        "Condition": {"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]},
                      "NumericLessThanEquals": {"ec2:count": "10"},
                      "StringEqualsIgnoreCase": {"aws:RequestedRegion": "EU-WEST-1"},
                      "ArnLike": {"aws:SourceArn": "arn:aws:ec2:*:111122223333:instance/*"},
                      "DateGreaterThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"},
                      "Bool": {"aws:SecureTransport": "true"}}},
       {"Effect": "Deny", "NotAction": ["s3:*", "ec2:*", "sqs:*"], "Resource": "*"}]}}],
     "PermissionsBoundary": {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": "arn:aws:iam::111122223333:policy/Boundary"}}
  ],
  "GroupDetailList": [{"GroupName": "devs", "Path": "/",
    "AttachedManagedPolicies": [{"PolicyName": "Queues", "PolicyArn": "arn:aws:iam::111122223333:policy/Queues"}]}],
  "RoleDetailList": [{"RoleName": "app", "Path": "/svc/", "RoleId": "AROAAPPAPPAPPAPPAPP",
    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}},
    "RolePolicyList": [{"PolicyName": "P", "PolicyDocument": {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}}}]}],
  "Policies": [
    {"PolicyName": "Queues", "Arn": "arn:aws:iam::111122223333:policy/Queues", "DefaultVersionId": "v1",
     "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": {"Version": "2012-10-17", "Statement":
       {"Effect": "Allow", "Action": "sqs:Send*", "Resource": "arn:aws:sqs:*:111122223333:jobs-*"}}}]},
    {"PolicyName": "Boundary", "Arn": "arn:aws:iam::111122223333:policy/Boundary", "DefaultVersionId": "v1",
     "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": true, "Document": {"Version": "2012-10-17", "Statement":
       {"Effect": "Allow", "Action": ["s3:*", "ec2:*", "sqs:*", "sts:*"], "Resource": "*"}}}]}
  ],
  "ResourcePolicies": [{"ResourceArn": "arn:aws:s3:::shared", "Account": "444455556666", "Policy": {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared/*"},
    {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::shared/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}}],
  "Organization": {"ManagementAccount": "999999999999", "Accounts": [{"Id": "111122223333", "Parents": ["r-root"]}],
    "ServiceControlPolicies": [{"Name": "All", "Targets": ["r-root"], "Policy": {"Version": "2012-10-17", "Statement": [
      {"Effect": "Allow", "Action": "*", "Resource": "*"},
      {"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"}]}}]}
}"#;

#[test]
fn decisions_without_variables_do_not_allocate() {
    let snapshot = Snapshot::new(Store::from_documents([("a.json", STORE)]).unwrap());
    let alice = "arn:aws:iam::111122223333:user/dev/alice";
    let cases: Vec<(Request, Decision)> = vec![
        (Request::new(alice, "s3:GetObject", "arn:aws:s3:::reports/q1.csv").unwrap(), Decision::Allowed),
        (Request::new(alice, "S3:GetObjectAcl", "arn:aws:s3:::reports/q1.csv").unwrap(), Decision::Allowed),
        (Request::new(alice, "s3:GetObject", "arn:aws:s3:::reports/secret/x").unwrap(), Decision::ExplicitDeny),
        (Request::new(alice, "s3:PutObject", "arn:aws:s3:::reports/q1.csv").unwrap(), Decision::ImplicitDeny),
        (Request::new(alice, "iam:CreateUser", "*").unwrap(), Decision::ExplicitDeny),
        (Request::new(alice, "sqs:SendMessage", "arn:aws:sqs:eu-west-1:111122223333:jobs-a").unwrap(), Decision::Allowed),
        (
            Request::new(alice, "ec2:RunInstances", "*")
                .unwrap()
                .with_context(&serde_json::json!({"aws:SourceIp": "2001:db8::7", "ec2:count": 3,
                    "aws:RequestedRegion": "eu-west-1", "aws:SourceArn": "arn:aws:ec2:eu-west-1:111122223333:instance/i-1",
                    "aws:CurrentTime": "2026-11-23T10:00:00Z", "aws:SecureTransport": true}))
                .unwrap(),
            Decision::Allowed,
        ),
        (
            Request::new(alice, "ec2:RunInstances", "*")
                .unwrap()
                .with_context(&serde_json::json!({"aws:SourceIp": "198.51.100.1", "ec2:count": 3,
                    "aws:RequestedRegion": "eu-west-1", "aws:SourceArn": "arn:aws:ec2:eu-west-1:111122223333:instance/i-1",
                    "aws:CurrentTime": "2026-11-23T10:00:00Z", "aws:SecureTransport": true}))
                .unwrap(),
            Decision::ImplicitDeny,
        ),
        (
            Request::new(alice, "s3:GetObject", "arn:aws:s3:::shared/x")
                .unwrap()
                .with_context(&serde_json::json!({"aws:SecureTransport": true}))
                .unwrap(),
            Decision::Allowed,
        ),
        (Request::new(alice, "organizations:LeaveOrganization", "*").unwrap(), Decision::ExplicitDeny),
        (
            Request::new("arn:aws:sts::111122223333:assumed-role/app/i-0abc", "dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:111122223333:table/t")
                .unwrap(),
            Decision::Allowed,
        ),
        (Request::new("arn:aws:iam::111122223333:user/nobody", "s3:GetObject", "*").unwrap(), Decision::ImplicitDeny),
    ];
    for (req, want) in &cases {
        // Warm up (lazy statics, thread-locals), then measure.
        let _ = snapshot.decide(req);
        let (got, allocations) = allocations_during(|| snapshot.decide(req));
        assert_eq!(got, *want, "{} {}", req.action(), req.resource());
        assert_eq!(allocations, 0, "{} on {} allocated {allocations} times", req.action(), req.resource());
        assert_eq!(got, keycard::reference::authorize(snapshot.store(), req).decision);
    }
}

#[test]
fn the_counter_counts() {
    let (_, n) = allocations_during(|| {
        let v = vec![1u8; 64];
        std::hint::black_box(&v);
        Decision::Allowed
    });
    assert!(n >= 1);
}

/// Resource templates with policy variables resolve into borrowed parts: no allocation either
/// (condition values with variables still build their tokens).
#[test]
fn resource_variables_do_not_allocate() {
    let store = r#"{"AccountId": "111122223333", "UserDetailList": [
      {"UserName": "alice", "UserId": "AIDAALICEALICEALICE", "Tags": [{"Key": "team", "Value": "blue"}],
       "UserPolicyList": [{"PolicyName": "Home", "PolicyDocument": {"Version": "2012-10-17", "Statement": [
         {"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::home/${aws:username}/*", "arn:aws:s3:::team-${aws:PrincipalTag/team}-?/*"]},
         {"Effect": "Deny", "Action": "s3:Delete*", "NotResource": "arn:aws:s3:::home/${aws:username}/*"}]}}]}]}"#;
    let snapshot = Snapshot::new(Store::from_documents([("a.json", store)]).unwrap());
    let alice = "arn:aws:iam::111122223333:user/alice";
    let cases = [
        ("s3:GetObject", "arn:aws:s3:::home/alice/x", Decision::Allowed),
        ("s3:GetObject", "arn:aws:s3:::home/bob/x", Decision::ImplicitDeny),
        ("s3:PutObject", "arn:aws:s3:::team-blue-1/x", Decision::Allowed),
        ("s3:DeleteObject", "arn:aws:s3:::team-blue-1/x", Decision::ExplicitDeny),
        ("s3:DeleteObject", "arn:aws:s3:::home/alice/x", Decision::Allowed),
    ];
    for (action, resource, want) in cases {
        let req = Request::new(alice, action, resource).unwrap();
        let _ = snapshot.decide(&req);
        let (got, allocations) = allocations_during(|| snapshot.decide(&req));
        assert_eq!(got, want, "{action} {resource}");
        assert_eq!(allocations, 0, "{action} on {resource} allocated {allocations} times");
        assert_eq!(got, keycard::reference::authorize(snapshot.store(), &req).decision);
    }
}

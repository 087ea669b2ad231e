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
        assert_eq!(got, keycard::reference::authorize(snapshot.store(), req).decision());
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
        assert_eq!(got, keycard::reference::authorize(snapshot.store(), &req).decision());
    }
}

/// A store of `users` users, each with its own policy and two of a few shared group policies:
/// literal actions, wildcard actions, `NotAction`, Deny, `${aws:username}`, conditions.
fn stream_store(users: usize) -> String {
    let groups: Vec<String> = (0..8)
        .map(|g| {
            format!(
                r#"{{"GroupName": "g{g}", "Path": "/", "GroupPolicyList": [{{"PolicyName": "G{g}", "PolicyDocument": {{
                  "Version": "2012-10-17", "Statement": [
                  {{"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "arn:aws:s3:::shared-{g}/*"}},
                  {{"Effect": "Deny", "Action": "s3:Delete*", "Resource": "arn:aws:s3:::shared-{g}/locked/*"}},
                  {{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::home-{g}/${{aws:username}}/*"}},
                  {{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*",
                    "Condition": {{"StringEquals": {{"aws:RequestedRegion": ["us-east-1", "eu-west-1"]}}}}}},
                  {{"Effect": "Deny", "NotAction": ["s3:*", "ec2:*", "sqs:*", "dynamodb:*"], "Resource": "*"}}]}}}}]}}"#
            )
        })
        .collect();
    let users: Vec<String> = (0..users)
        .map(|i| {
            format!(
                r#"{{"UserName": "u{i}", "Path": "/", "GroupList": ["g{a}", "g{b}"], "UserPolicyList": [{{"PolicyName": "P{i}",
                  "PolicyDocument": {{"Version": "2012-10-17", "Statement": [
                  {{"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": "arn:aws:dynamodb:us-east-1:111122223333:table/t{i}",
                    "Condition": {{"IpAddress": {{"aws:SourceIp": "10.{m}.0.0/16"}}, "Bool": {{"aws:SecureTransport": "true"}}}}}},
                  {{"Effect": "Allow", "Action": "sqs:*Message", "Resource": "arn:aws:sqs:*:111122223333:q{i}-*"}},
                  {{"Effect": "Allow", "Action": "s3:PutObject", "Resource": ["arn:aws:s3:::data-{i}", "arn:aws:s3:::data-{i}/*"]}}]}}}}]}}"#,
                a = i % 8,
                b = (i * 3 + 1) % 8,
                m = i % 256
            )
        })
        .collect();
    format!(
        r#"{{"AccountId": "111122223333", "UserDetailList": [{}], "GroupDetailList": [{}]}}"#,
        users.join(","),
        groups.join(",")
    )
}

/// A seeded shuffled stream: every decision of it is made once (no request is asked twice, so
/// nothing is warm that a stream would not warm), and none allocates.
#[test]
fn decisions_of_a_stream_do_not_allocate() {
    const USERS: usize = 120;
    let snapshot = Snapshot::new(Store::from_documents([("a.json", stream_store(USERS))]).unwrap());
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let actions = [
        "s3:GetObject",
        "s3:GetObjectVersionTagging", // named by no policy: under s3:Get* and s3:*
        "s3:ListBucket",
        "s3:PutObject",
        "s3:DeleteObject",
        "S3:DELETEOBJECTVERSION",
        "ec2:DescribeInstances",
        "ec2:RunInstances",
        "dynamodb:GetItem",
        "dynamodb:Query",
        "sqs:SendMessage",
        "sqs:ReceiveMessage",
        "iam:CreateUser",
        "kms:Decrypt",
    ];
    let mut requests = Vec::new();
    for i in 0..4_000 {
        let user = next(USERS + 2); // a few unknown users too
        let action = actions[next(actions.len())];
        let g = next(8);
        let resource = match action.split(':').next().unwrap().to_ascii_lowercase().as_str() {
            "s3" => match next(5) {
                0 => format!("arn:aws:s3:::shared-{g}/r{i}"),
                1 => format!("arn:aws:s3:::shared-{g}/locked/r{i}"),
                2 => format!("arn:aws:s3:::home-{g}/u{user}/r{i}"),
                3 => format!("arn:aws:s3:::data-{user}/r{i}"),
                _ => format!("arn:aws:s3:::other/r{i}"),
            },
            "dynamodb" => format!("arn:aws:dynamodb:us-east-1:111122223333:table/t{}", next(USERS)),
            "sqs" => format!("arn:aws:sqs:us-east-1:111122223333:q{}-{i}", next(USERS)),
            _ => "*".to_owned(),
        };
        let mut req = Request::new(&format!("arn:aws:iam::111122223333:user/u{user}"), action, &resource).unwrap();
        if next(4) > 0 {
            let region = ["us-east-1", "us-west-2", "eu-west-1"][next(3)];
            let context = serde_json::json!({
                "aws:SourceIp": format!("10.{}.1.2", next(256)),
                "aws:SecureTransport": next(5) > 0,
                "aws:RequestedRegion": region,
            });
            req = req.with_context(&context).unwrap();
        }
        requests.push(req);
    }
    // Warm up the thread's lazy state on other requests than the measured ones.
    for req in requests.iter().take(50) {
        let _ = snapshot.decide(req);
    }
    let mut tally = std::collections::HashMap::new();
    for req in &requests[50..] {
        let (got, allocations) = allocations_during(|| snapshot.decide(req));
        assert_eq!(allocations, 0, "{} on {} allocated {allocations} times", req.action(), req.resource());
        assert_eq!(
            got,
            keycard::reference::authorize(snapshot.store(), req).decision(),
            "{} on {}",
            req.action(),
            req.resource()
        );
        *tally.entry(got).or_insert(0) += 1;
    }
    for d in [Decision::Allowed, Decision::ImplicitDeny, Decision::ExplicitDeny] {
        assert!(tally.get(&d).copied().unwrap_or(0) > 100, "too few {d:?} in {tally:?}: the stream lost its power");
    }
}

/// `Request::refill` (the C ABI's allocation-free path) gives exactly what `Request::new` gives,
/// whatever the request held before, and leaves it as it was on a malformed field.
#[test]
fn a_refilled_request_is_a_new_request() {
    let mut req = Request::from_json(
        r#"{"principal": "arn:aws:iam::111122223333:user/alice", "action": "S3:GetObject", "resource": "arn:aws:s3:::b/k",
            "context": {"aws:SourceIp": "10.1.2.3"}, "resourceAccount": "444455556666", "explain": true}"#,
    )
    .unwrap();
    for (p, a, r) in [
        ("arn:aws:iam::111122223333:user/bob", "SQS:SendMessage", "arn:aws:sqs:us-east-1:111122223333:q"),
        ("111122223333", "s3:ListBucket", "*"),
        ("*", "s3:GetObject", "arn:aws:s3:::public/x"),
        (
            "arn:aws:sts::111122223333:assumed-role/app/s",
            "dynamodb:GetItem",
            "arn:aws:dynamodb:us-east-1:111122223333:table/t",
        ),
    ] {
        req.refill(p, a, r).unwrap();
        assert_eq!(format!("{req:?}"), format!("{:?}", Request::new(p, a, r).unwrap()));
    }
    let before = format!("{req:?}");
    let long = format!("arn:aws:iam::111122223333:user/{}", "b".repeat(2100));
    for (p, a, r) in [
        ("arn:aws:iam::111122223333:user/bob", "no-colon", "*"),
        ("arn:aws:iam::111122223333:user/bob", "s3:GetObject", "bucket"),
        ("bob", "s3:GetObject", "*"),
        ("bob", "no-colon", "bucket"),
        (long.as_str(), "s3:GetObject", "*"),
        (long.as_str(), "no-colon", "*"),
    ] {
        let refused = req.refill(p, a, r).unwrap_err();
        assert_eq!(Some(refused), Request::new(p, a, r).err(), "{p:.40} {a} {r}: the error Request::new gives");
        assert_eq!(format!("{req:?}"), before);
    }
}

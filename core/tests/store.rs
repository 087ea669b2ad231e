//! Loading stores from disk: directory walking (ConfigMap volumes, symbolic links, hidden files),
//! AWS dump shapes across several accounts, and reporting every problem at once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use keycard::{Decision, Request, Severity, Snapshot, Store};
use std::path::{Path, PathBuf};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keycard-store-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn user_doc(account: &str, user: &str, action: &str) -> String {
    format!(
        r#"{{"AccountId": "{account}", "UserDetailList": [{{"UserName": "{user}", "Path": "/",
        "UserPolicyList": [{{"PolicyName": "P", "PolicyDocument": {{"Version": "2012-10-17",
        "Statement": {{"Effect": "Allow", "Action": "{action}", "Resource": "*"}}}}}}]}}]}}"#
    )
}

fn decide(store: &Store, principal: &str, action: &str) -> Decision {
    let snapshot = Snapshot::new(store.clone());
    let req = Request::new(principal, action, "*").unwrap();
    snapshot.authorize(&req).decision()
}

#[test]
fn loads_a_configmap_volume_once() {
    // kubelet's layout: real files under a timestamped hidden dir, `..data` pointing at it, and
    // top-level symlinks through `..data`.
    let dir = temp_dir("configmap");
    let stamp = dir.join("..2026_11_23_10_00_00.123");
    std::fs::create_dir(&stamp).unwrap();
    std::fs::write(stamp.join("alice.json"), user_doc("111122223333", "alice", "s3:GetObject")).unwrap();
    std::os::unix::fs::symlink("..2026_11_23_10_00_00.123", dir.join("..data")).unwrap();
    std::os::unix::fs::symlink("..data/alice.json", dir.join("alice.json")).unwrap();
    let store = Store::load(&dir).unwrap();
    assert_eq!(store.files().len(), 1, "{:?}", store.files());
    assert_eq!(decide(&store, "arn:aws:iam::111122223333:user/alice", "s3:GetObject"), Decision::Allowed);
}

#[test]
fn walks_subdirectories_in_sorted_order_and_skips_hidden_and_non_json() {
    let dir = temp_dir("walk");
    std::fs::create_dir_all(dir.join("b/nested")).unwrap();
    std::fs::write(dir.join("b/nested/bob.json"), user_doc("111122223333", "bob", "ec2:*")).unwrap();
    std::fs::write(dir.join("a.json"), user_doc("111122223333", "alice", "s3:*")).unwrap();
    std::fs::write(dir.join(".hidden.json"), "not json at all").unwrap();
    std::fs::write(dir.join("notes.txt"), "not json at all").unwrap();
    std::fs::create_dir(dir.join(".git")).unwrap();
    std::fs::write(dir.join(".git/x.json"), "not json at all").unwrap();
    let store = Store::load(&dir).unwrap();
    let files: Vec<String> =
        store.files().iter().map(|f| Path::new(f).strip_prefix(&dir).unwrap().display().to_string()).collect();
    assert_eq!(files, ["a.json", "b/nested/bob.json"]);
    assert_eq!(decide(&store, "arn:aws:iam::111122223333:user/bob", "ec2:RunInstances"), Decision::Allowed);
}

#[test]
fn follows_symlinked_directories_without_looping() {
    let dir = temp_dir("loop");
    std::fs::create_dir(dir.join("sub")).unwrap();
    std::fs::write(dir.join("sub/a.json"), user_doc("111122223333", "alice", "s3:*")).unwrap();
    std::os::unix::fs::symlink("..", dir.join("sub/up")).unwrap();
    let store = Store::load(&dir).unwrap();
    assert_eq!(store.files().len(), 1);
}

#[test]
fn a_single_file_is_a_store() {
    let dir = temp_dir("single");
    let f = dir.join("one.json");
    std::fs::write(&f, user_doc("111122223333", "alice", "s3:*")).unwrap();
    let store = Store::load(&f).unwrap();
    assert_eq!(store.files(), [f.display().to_string()]);
}

#[test]
fn empty_or_missing_stores_are_errors() {
    let dir = temp_dir("empty");
    let e = Store::load(&dir).unwrap_err();
    assert_eq!(e.kind(), keycard::ProblemKind::Io, "{e}");
    let e = Store::load(dir.join("missing")).unwrap_err();
    assert_eq!(e.kind(), keycard::ProblemKind::Io, "{e}");
}

#[test]
fn several_accounts_resolve_groups_per_account() {
    // Two accounts each have a group "devs"; each user gets only its own account's group.
    let doc = |account: &str, action: &str| {
        format!(
            r#"{{"AccountId": "{account}",
            "GroupDetailList": [{{"GroupName": "devs", "Path": "/", "GroupPolicyList": [{{"PolicyName": "G",
              "PolicyDocument": {{"Version": "2012-10-17", "Statement": {{"Effect": "Allow", "Action": "{action}", "Resource": "*"}}}}}}]}}],
            "UserDetailList": [{{"UserName": "u", "Path": "/", "GroupList": ["devs"]}}]}}"#
        )
    };
    let store =
        Store::from_documents([("a.json", doc("111111111111", "s3:*")), ("b.json", doc("222222222222", "ec2:*"))])
            .unwrap();
    assert_eq!(decide(&store, "arn:aws:iam::111111111111:user/u", "s3:GetObject"), Decision::Allowed);
    assert_eq!(decide(&store, "arn:aws:iam::111111111111:user/u", "ec2:RunInstances"), Decision::ImplicitDeny);
    assert_eq!(decide(&store, "arn:aws:iam::222222222222:user/u", "ec2:RunInstances"), Decision::Allowed);
    assert_eq!(decide(&store, "arn:aws:iam::222222222222:user/u", "s3:GetObject"), Decision::ImplicitDeny);
}

#[test]
fn url_encoded_documents_load_as_the_raw_api_returns_them() {
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/a+b c/*"}]}"#;
    let encoded: String = policy
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let doc = format!(
        r#"{{"AccountId": "111122223333",
        "UserDetailList": [{{"UserName": "u", "Path": "/", "AttachedManagedPolicies": [{{"PolicyName": "M", "PolicyArn": "arn:aws:iam::111122223333:policy/M"}}]}}],
        "Policies": [{{"PolicyName": "M", "Arn": "arn:aws:iam::111122223333:policy/M", "DefaultVersionId": "v1",
          "PolicyVersionList": [{{"VersionId": "v1", "IsDefaultVersion": true, "Document": "{encoded}"}}]}}]}}"#
    );
    let store = Store::from_documents([("a.json", doc)]).unwrap();
    let snapshot = Snapshot::new(store);
    let req = |r: &str| Request::new("arn:aws:iam::111122223333:user/u", "s3:GetObject", r).unwrap();
    assert_eq!(snapshot.authorize(&req("arn:aws:s3:::b/a+b c/k")).decision(), Decision::Allowed);
    assert_eq!(snapshot.authorize(&req("arn:aws:s3:::b/a b c/k")).decision(), Decision::ImplicitDeny);
}

#[test]
fn every_problem_is_reported_with_file_and_pointer() {
    let bad_refs = r#"{"AccountId": "111122223333",
      "UserDetailList": [{"UserName": "u", "Path": "/", "GroupList": ["ghosts"],
        "AttachedManagedPolicies": [{"PolicyName": "Gone", "PolicyArn": "arn:aws:iam::111122223333:policy/Gone"}],
        "PermissionsBoundary": {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": "arn:aws:iam::aws:policy/Nope"}}]}"#;
    let duplicate = user_doc("111122223333", "u", "s3:*");
    let unknown_key = r#"{"AccountId": "111122223333", "UserDetailsList": []}"#;
    let not_an_object = "[1, 2]";
    let e = Store::from_documents([
        ("refs.json", bad_refs.to_owned()),
        ("dup.json", duplicate),
        ("keys.json", unknown_key.to_owned()),
        ("array.json", not_an_object.to_owned()),
    ])
    .unwrap_err();
    let errors: Vec<String> = e.errors().map(ToString::to_string).collect();
    let expect = [
        "refs.json: /UserDetailList/0/GroupList/0: group \"ghosts\" is not in the store",
        "refs.json: /UserDetailList/0/AttachedManagedPolicies/0/PolicyArn: managed policy arn:aws:iam::111122223333:policy/Gone is not in the store",
        "refs.json: /UserDetailList/0/PermissionsBoundary/PermissionsBoundaryArn: managed policy arn:aws:iam::aws:policy/Nope",
        "dup.json: /UserDetailList/0: user arn:aws:iam::111122223333:user/u is defined twice",
        "keys.json: /UserDetailsList: unknown store key \"UserDetailsList\" (did you mean UserDetailList?)",
        "array.json: expected a store document object",
    ];
    for want in expect {
        assert!(errors.iter().any(|e| e.contains(want)), "missing {want:?} in:\n{}", errors.join("\n"));
    }
    assert_eq!(errors.len(), expect.len(), "{}", errors.join("\n"));
}

#[test]
fn entity_arn_must_agree_with_path_and_name() {
    let doc = r#"{"UserDetailList": [{"UserName": "alice", "Path": "/dev/", "Arn": "arn:aws:iam::111122223333:user/alice"}]}"#;
    let e = Store::from_documents([("a.json", doc)]).unwrap_err();
    assert_eq!(e.problems()[0].pointer(), "/UserDetailList/0/Arn");
    let no_account = r#"{"UserDetailList": [{"UserName": "alice", "Path": "/"}]}"#;
    let e = Store::from_documents([("a.json", no_account)]).unwrap_err();
    assert!(e.problems()[0].message().contains("missing Arn"), "{e}");
}

#[test]
fn role_max_session_duration_is_validated() {
    let doc = |d: &str| {
        format!(
            r#"{{"AccountId": "111122223333", "RoleDetailList": [{{"RoleName": "r", "Path": "/", "MaxSessionDuration": {d},
            "AssumeRolePolicyDocument": {{"Version": "2012-10-17", "Statement": {{"Effect": "Allow",
              "Principal": {{"Service": "ec2.amazonaws.com"}}, "Action": "sts:AssumeRole"}}}}}}]}}"#
        )
    };
    assert!(Store::from_documents([("a.json", doc("43200"))]).is_ok());
    let e = Store::from_documents([("a.json", doc("50000"))]).unwrap_err();
    assert_eq!(e.problems()[0].pointer(), "/RoleDetailList/0/MaxSessionDuration");
}

#[test]
fn snapshot_id_follows_content() {
    let a = Store::from_documents([("a.json", user_doc("111122223333", "alice", "s3:*"))]).unwrap();
    let b = Store::from_documents([("a.json", user_doc("111122223333", "alice", "s3:*"))]).unwrap();
    let c = Store::from_documents([("a.json", user_doc("111122223333", "alice", "ec2:*"))]).unwrap();
    assert_eq!(a.id(), b.id());
    assert_ne!(a.id(), c.id());
    assert_eq!(a.id().len(), 8);
    assert!(a.id().bytes().all(|b| b.is_ascii_hexdigit()));
}

#[test]
fn stats_count_principals_policies_and_statements() {
    let store = Store::load(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../policies")).unwrap();
    let s = store.stats();
    assert!(s.files >= 3 && s.principals >= 5 && s.policies >= 10 && s.statements >= s.policies, "{s:?}");
    assert!(store.warnings().iter().all(|w| w.severity() == Severity::Warning));
}

#[test]
fn aws_managed_policies_are_not_held_to_customer_sid_rules() {
    let doc = |arn: &str| {
        format!(
            r#"{{"AccountId": "111122223333",
            "UserDetailList": [{{"UserName": "u", "Path": "/", "AttachedManagedPolicies": [{{"PolicyName": "M", "PolicyArn": "{arn}"}}]}}],
            "Policies": [{{"PolicyName": "M", "Arn": "{arn}", "DefaultVersionId": "v1",
              "PolicyVersionList": [{{"VersionId": "v1", "IsDefaultVersion": true, "Document": {{"Version": "2012-10-17", "Statement": [
                {{"Sid": "Allow-Read_1", "Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}},
                {{"Sid": "Allow-Read_1", "Effect": "Allow", "Action": "s3:List*", "Resource": "*"}}]}}}}]}}]}}"#
        )
    };
    let store = Store::from_documents([("a.json", doc("arn:aws:iam::aws:policy/service-role/Odd"))]).unwrap();
    assert_eq!(decide(&store, "arn:aws:iam::111122223333:user/u", "s3:ListBucket"), Decision::Allowed);
    let e = Store::from_documents([("a.json", doc("arn:aws:iam::111122223333:policy/Odd"))]).unwrap_err();
    assert!(e.errors().any(|p| p.message().contains("letters and digits")), "{e}");
    assert!(e.errors().any(|p| p.message().contains("duplicate Sid")), "{e}");
}

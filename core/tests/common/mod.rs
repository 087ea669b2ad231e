//! Store and request builders shared by the evaluation, edge-case and explain tests: accounts
//! ([`Acct`]), the stores they form ([`World`], which answers each request with the snapshot and
//! the reference evaluator), ARNs, request JSON, policy documents.

#![allow(dead_code)]

use keycard::{Answer, Decision, Explanation, Request, Snapshot, Store};
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

pub fn policy_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:policy/{name}")
}

/// The `UserId` the builder gives user `name` of `account`.
pub fn user_id(account: &str, name: &str) -> String {
    unique_id("AIDA", &format!("{account}:{name}"))
}

/// The `RoleId` the builder gives role `name` of `account`.
pub fn role_id(account: &str, name: &str) -> String {
    unique_id("AROA", &format!("{account}:{name}"))
}

/// A `PermissionsBoundary` entry naming the managed policy `name` of `account`.
fn boundary_entry(account: &str, name: &str) -> Value {
    json!({"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": policy_arn(account, name)})
}

/// One account's `get-account-authorization-details` document plus keycard's extensions.
pub struct Acct {
    pub id: &'static str,
    users: Vec<Value>,
    roles: Vec<Value>,
    policies: Vec<Value>,
    resource_policies: Vec<Value>,
    organization: Option<Value>,
}

impl Acct {
    pub fn new(id: &'static str) -> Acct {
        Acct { id, users: vec![], roles: vec![], policies: vec![], resource_policies: vec![], organization: None }
    }

    /// A user at path `/` with inline policies.
    pub fn user(self, name: &str, policies: &[Value]) -> Acct {
        self.user_full("/", name, policies, None, &[])
    }

    /// A user at `path` (begins and ends with `/`) with inline policies, an optional permissions
    /// boundary (a managed policy of this account, by name) and tags.
    pub fn user_full(
        mut self,
        path: &str,
        name: &str,
        policies: &[Value],
        boundary: Option<&str>,
        user_tags: &[(&str, &str)],
    ) -> Acct {
        let mut u = json!({
            "Path": path,
            "UserName": name,
            "UserId": user_id(self.id, name),
            "Arn": format!("arn:aws:iam::{}:user{path}{name}", self.id),
            "CreateDate": "2025-01-15T10:00:00Z",
            "UserPolicyList": inline(policies),
            "GroupList": [],
            "AttachedManagedPolicies": [],
            "Tags": tags(user_tags),
        });
        if let Some(b) = boundary {
            u["PermissionsBoundary"] = boundary_entry(self.id, b);
        }
        self.users.push(u);
        self
    }

    /// A role at path `/` with a trust policy and inline policies.
    pub fn role(self, name: &str, trust_policy: Value, policies: &[Value]) -> Acct {
        self.role_full("/", name, trust_policy, policies, None, &[])
    }

    /// A role at `path` (begins and ends with `/`) with a trust policy, inline policies, an
    /// optional permissions boundary (a managed policy of this account, by name) and tags.
    pub fn role_full(
        mut self,
        path: &str,
        name: &str,
        trust_policy: Value,
        policies: &[Value],
        boundary: Option<&str>,
        role_tags: &[(&str, &str)],
    ) -> Acct {
        let mut r = json!({
            "Path": path,
            "RoleName": name,
            "RoleId": role_id(self.id, name),
            "Arn": format!("arn:aws:iam::{}:role{path}{name}", self.id),
            "CreateDate": "2025-01-15T10:00:00Z",
            "AssumeRolePolicyDocument": trust_policy,
            "InstanceProfileList": [],
            "RolePolicyList": inline(policies),
            "AttachedManagedPolicies": [],
            "Tags": tags(role_tags),
            "RoleLastUsed": {},
        });
        if let Some(b) = boundary {
            r["PermissionsBoundary"] = boundary_entry(self.id, b);
        }
        self.roles.push(r);
        self
    }

    /// A customer managed policy (used here as permissions boundaries).
    pub fn managed(mut self, name: &str, document: Value) -> Acct {
        self.policies.push(json!({
            "PolicyName": name,
            "PolicyId": unique_id("ANPA", &format!("{}:{name}", self.id)),
            "Arn": policy_arn(self.id, name),
            "Path": "/",
            "DefaultVersionId": "v1",
            "AttachmentCount": 1,
            "PermissionsBoundaryUsageCount": 1,
            "IsAttachable": true,
            "CreateDate": "2025-01-15T10:00:00Z",
            "UpdateDate": "2025-01-15T10:00:00Z",
            "PolicyVersionList": [{
                "Document": document,
                "VersionId": "v1",
                "IsDefaultVersion": true,
                "CreateDate": "2025-01-15T10:00:00Z"
            }]
        }));
        self
    }

    /// A resource policy owned by this account.
    pub fn resource_policy(self, arn: &str, document: Value) -> Acct {
        self.resource_policy_tagged(arn, document, &[])
    }

    /// A resource policy owned by this account, on a resource with tags.
    pub fn resource_policy_tagged(mut self, arn: &str, document: Value, resource_tags: &[(&str, &str)]) -> Acct {
        self.resource_policies
            .push(json!({"ResourceArn": arn, "Account": self.id, "Tags": tags(resource_tags), "Policy": document}));
        self
    }

    /// The `Organization` extension (SCPs, RCPs, the accounts' paths).
    pub fn organization(mut self, org: Value) -> Acct {
        self.organization = Some(org);
        self
    }

    /// The store document.
    pub fn build(&self) -> String {
        let mut d = json!({
            "AccountId": self.id,
            "UserDetailList": self.users,
            "GroupDetailList": [],
            "RoleDetailList": self.roles,
            "Policies": self.policies,
        });
        if !self.resource_policies.is_empty() {
            d["ResourcePolicies"] = Value::Array(self.resource_policies.clone());
        }
        if let Some(org) = &self.organization {
            d["Organization"] = org.clone();
        }
        d.to_string()
    }

    /// This account alone.
    pub fn world(&self) -> World {
        World::of(&[self])
    }
}

/// A set of store documents that requests are checked against.
pub struct World {
    pub snapshot: Snapshot,
}

impl World {
    pub fn of(accounts: &[&Acct]) -> World {
        let docs: Vec<String> = accounts.iter().map(|a| a.build()).collect();
        World::from_docs(&docs)
    }

    /// The store of `docs` (named `doc0.json`, `doc1.json`, ...); panics when it does not load.
    pub fn from_docs(docs: &[String]) -> World {
        let names: Vec<String> = (0..docs.len()).map(|i| format!("doc{i}.json")).collect();
        let store = Store::from_documents(names.iter().map(String::as_str).zip(docs.iter().cloned()))
            .unwrap_or_else(|e| panic!("store failed to load: {e:?}\nstore: {docs:?}"));
        World { snapshot: Snapshot::new(store) }
    }

    /// Answers the request JSON `text` with the snapshot and the reference evaluator; they must
    /// agree.
    pub fn answer_text(&self, text: &str) -> Answer {
        let parsed = Request::from_json(text).unwrap_or_else(|e| panic!("request rejected: {e:?}\nrequest: {text}"));
        let answer = self.snapshot.authorize(&parsed);
        let reference = keycard::reference::authorize(self.snapshot.store(), &parsed);
        assert_eq!(answer.decision(), reference.decision(), "snapshot and reference evaluator disagree on {text}");
        answer
    }

    /// [`World::answer_text`] of `request`.
    pub fn answer(&self, request: &Value) -> Answer {
        self.answer_text(&request.to_string())
    }

    pub fn decide(&self, request: &Value) -> Decision {
        self.answer(request).decision()
    }

    #[track_caller]
    pub fn expect(&self, request: Value, want: Decision) {
        let got = self.decide(&request);
        assert_eq!(got, want, "request: {request}");
    }

    /// Like `expect`, with `explain` on; returns the explanation.
    #[track_caller]
    pub fn explain(&self, request: Value, want: Decision) -> Explanation {
        let request = with(request, "explain", json!(true));
        let answer = self.answer(&request);
        assert_eq!(answer.decision(), want, "request: {request}");
        answer.explanation().cloned().unwrap_or_else(|| panic!("no explanation for {request}"))
    }
}

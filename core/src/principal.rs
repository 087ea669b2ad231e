//! Who the caller is: a request's principal resolved against the store.
//!
//! Resolution gives everything evaluation needs about the caller (iam-semantics.md §2.3, §5.1,
//! §7): the identities a resource policy may name at each level (direct, parent, account), the
//! identity policies and boundary in force, and the context keys that describe the principal
//! (`aws:username`, `aws:userid`, `aws:PrincipalArn`, `aws:PrincipalTag/*` ...), which only the
//! store may supply.

use crate::ast::{Policy, PrincipalBlock};
use crate::context::{Context, Scalar};
use crate::id::PolicyId;
use crate::request::{PrincipalRef, Request};
use crate::store::Store;

/// How a resource policy's `Principal` names the caller; the order is the strength of the grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    /// The account (`"123456789012"`, `arn:aws:iam::A:root`): delegation to the account's policies.
    Account,
    /// The role of a session, or the user behind a federated user.
    Parent,
    /// The caller itself, or `"*"`.
    Direct,
}

/// The kind of caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CallerKind {
    User,
    /// `arn:aws:sts::A:assumed-role/ROLE/SESSION`.
    RoleSession,
    /// A role ARN used directly as the principal: evaluated as a session of that role.
    Role,
    FederatedUser,
    Root,
    Service,
    Anonymous,
    /// `{"Federated": ...}`: a web-identity or SAML caller before it assumes a role.
    WebIdentity,
    CanonicalUser,
}

/// A policy in force for the caller, with its display name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PolicyRef<'s> {
    pub name: &'s str,
    pub policy: &'s Policy,
}

impl<'s> PolicyRef<'s> {
    /// The policy `id` of `store`.
    pub(crate) fn of(store: &'s Store, id: PolicyId) -> Option<Self> {
        store.policy(id).map(|p| PolicyRef { name: &p.name, policy: &p.policy })
    }
}

/// The resolved caller.
#[derive(Debug, Clone)]
pub(crate) struct Caller<'s> {
    pub kind: CallerKind,
    pub account: Option<String>,
    pub partition: String,
    /// ARNs and unique IDs naming the caller itself.
    pub direct: Vec<String>,
    /// ARNs and unique IDs naming the caller's parent (role, federating user).
    pub parent: Vec<String>,
    /// Service, federated provider or canonical user name, for the non-AWS principal forms.
    pub other_name: Option<String>,
    pub identity: Vec<PolicyRef<'s>>,
    pub boundary: Option<PolicyRef<'s>>,
    pub tags: &'s [(String, String)],
    /// Service-linked roles are outside SCPs and RCPs.
    pub service_linked: bool,
    /// Principal context keys: (key, value).
    keys: Vec<(&'static str, String)>,
}

impl<'s> Caller<'s> {
    fn new(kind: CallerKind) -> Self {
        Caller {
            kind,
            account: None,
            partition: "aws".to_owned(),
            direct: Vec::new(),
            parent: Vec::new(),
            other_name: None,
            identity: Vec::new(),
            boundary: None,
            tags: &[],
            service_linked: false,
            keys: Vec::new(),
        }
    }

    /// `arn:PARTITION:iam::ACCOUNT:root` of the caller's account.
    pub(crate) fn account_arn(&self) -> Option<String> {
        self.account.as_ref().map(|a| format!("arn:{}:iam::{a}:root", self.partition))
    }

    /// The strongest level at which `block` (a `Principal`) names this caller.
    pub(crate) fn level_in(&self, block: &PrincipalBlock) -> Option<Level> {
        if block.any {
            return Some(Level::Direct);
        }
        let mut best = None;
        let named_other = |list: &[String]| self.other_name.as_ref().is_some_and(|n| list.contains(n));
        match self.kind {
            CallerKind::Service if named_other(&block.service) => return Some(Level::Direct),
            CallerKind::WebIdentity if named_other(&block.federated) => return Some(Level::Direct),
            CallerKind::CanonicalUser if named_other(&block.canonical_user) => return Some(Level::Direct),
            _ => {}
        }
        let account_arn = self.account_arn();
        for entry in &block.aws {
            let level = if self.direct.contains(entry) {
                Some(Level::Direct)
            } else if self.parent.contains(entry) {
                Some(Level::Parent)
            } else if account_arn.as_ref() == Some(entry) {
                Some(Level::Account)
            } else {
                None
            };
            best = best.max(level);
        }
        best
    }

    /// Whether a `NotPrincipal` block lets this caller escape: its direct identity, its parent (if
    /// any) and its account (if any) must all be listed (iam-semantics.md §2.4).
    pub(crate) fn escapes_not_principal(&self, block: &PrincipalBlock) -> bool {
        if block.any {
            return true;
        }
        let listed = |x: &String| block.aws.contains(x);
        let direct = self.direct.iter().any(listed)
            || match self.kind {
                CallerKind::Service => self.other_name.as_ref().is_some_and(|n| block.service.contains(n)),
                CallerKind::WebIdentity => self.other_name.as_ref().is_some_and(|n| block.federated.contains(n)),
                CallerKind::CanonicalUser => self.other_name.as_ref().is_some_and(|n| block.canonical_user.contains(n)),
                _ => false,
            };
        let parent = self.parent.is_empty() || self.parent.iter().any(listed);
        let account = self.account_arn().is_none_or(|a| block.aws.contains(&a));
        direct && parent && account
    }

    /// Adds the principal's context keys (they override anything of the same name).
    pub(crate) fn add_context(&self, ctx: &mut Context) {
        for (k, v) in &self.keys {
            ctx.insert(k, vec![Scalar::Str(v.clone())]);
        }
        for (k, v) in self.tags {
            ctx.insert(&format!("aws:PrincipalTag/{k}"), vec![Scalar::Str(v.clone())]);
        }
        let is_service = self.kind == CallerKind::Service;
        ctx.insert("aws:PrincipalIsAWSService", vec![Scalar::Bool(is_service)]);
        if let (true, Some(name)) = (is_service, &self.other_name) {
            ctx.insert("aws:PrincipalServiceName", vec![Scalar::Str(name.clone())]);
        }
    }
}

/// Resolves the request's principal. `Err` carries a note for an unknown principal, which is an
/// implicit deny, never an error.
pub(crate) fn resolve<'s>(store: &'s Store, req: &Request) -> Result<Caller<'s>, String> {
    let arn = match &req.principal {
        PrincipalRef::Anonymous => {
            let mut c = Caller::new(CallerKind::Anonymous);
            c.keys.push(("aws:PrincipalType", "Anonymous".into()));
            return Ok(c);
        }
        PrincipalRef::Service(name) => {
            let mut c = Caller::new(CallerKind::Service);
            c.other_name = Some(name.clone());
            return Ok(c);
        }
        PrincipalRef::Federated(name) => {
            let mut c = Caller::new(CallerKind::WebIdentity);
            c.other_name = Some(name.clone());
            return Ok(c);
        }
        PrincipalRef::CanonicalUser(name) => {
            let mut c = Caller::new(CallerKind::CanonicalUser);
            c.other_name = Some(name.clone());
            return Ok(c);
        }
        PrincipalRef::Arn(arn) => arn,
    };
    let fields: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, partition, service, _, account, resource] = fields.as_slice() else {
        return Err(format!("principal {arn} is not an ARN"));
    };
    let account = (*account).to_owned();
    let with_account = |kind| {
        let mut c = Caller::new(kind);
        c.account = Some(account.clone());
        c.partition = (*partition).to_owned();
        c
    };
    match (*service, *resource) {
        ("iam", "root") => {
            let mut c = with_account(CallerKind::Root);
            c.direct.push(arn.clone());
            c.keys = vec![
                ("aws:userid", account.clone()),
                ("aws:PrincipalArn", arn.clone()),
                ("aws:PrincipalAccount", account.clone()),
                ("aws:PrincipalType", "Account".into()),
            ];
            Ok(c)
        }
        ("iam", r) if r.starts_with("user/") => {
            let user = store
                .user_by_arn
                .get(arn)
                .and_then(|&i| store.users.get(i))
                .ok_or_else(|| format!("unknown principal: no user {arn} in the store"))?;
            let mut c = with_account(CallerKind::User);
            c.direct = vec![user.arn.clone()];
            if !user.id.is_empty() {
                c.direct.push(user.id.clone());
            }
            c.identity = user_policies(store, arn);
            c.boundary = user.boundary.and_then(|b| PolicyRef::of(store, b));
            c.tags = &user.tags;
            c.keys = vec![
                ("aws:username", user.name.clone()),
                ("aws:userid", user.id.clone()),
                ("aws:PrincipalArn", user.arn.clone()),
                ("aws:PrincipalAccount", account.clone()),
                ("aws:PrincipalType", "User".into()),
            ];
            Ok(c)
        }
        ("iam", r) if r.starts_with("role/") => {
            let role = store
                .role_by_arn
                .get(arn)
                .and_then(|&i| store.roles.get(i))
                .ok_or_else(|| format!("unknown principal: no role {arn} in the store"))?;
            let mut c = role_caller(store, with_account(CallerKind::Role), role);
            c.keys.push(("aws:userid", role.id.clone()));
            Ok(c)
        }
        ("sts", r) if r.starts_with("assumed-role/") => {
            let (role_name, session) = r["assumed-role/".len()..]
                .split_once('/')
                .ok_or_else(|| format!("principal {arn} has no session name"))?;
            if session.is_empty() || role_name.is_empty() {
                return Err(format!("principal {arn} has no role or session name"));
            }
            let role = store
                .role_by_name
                .get(&(account.clone(), role_name.to_owned()))
                .and_then(|&i| store.roles.get(i))
                .ok_or_else(|| format!("unknown principal: no role named {role_name} in account {account}"))?;
            let mut c = role_caller(store, with_account(CallerKind::RoleSession), role);
            c.direct.push(arn.clone());
            c.keys.push(("aws:userid", format!("{}:{session}", role.id)));
            Ok(c)
        }
        ("sts", r) if r.starts_with("federated-user/") => {
            let name = &r["federated-user/".len()..];
            let mut c = with_account(CallerKind::FederatedUser);
            c.direct.push(arn.clone());
            if let Some(user_arn) = &req.federating_user {
                let user = store
                    .user_by_arn
                    .get(user_arn)
                    .and_then(|&i| store.users.get(i))
                    .filter(|u| u.account == account)
                    .ok_or_else(|| format!("unknown federating user {user_arn} in account {account}"))?;
                c.parent = vec![user.arn.clone()];
                if !user.id.is_empty() {
                    c.parent.push(user.id.clone());
                }
                c.identity = user_policies(store, user_arn);
                c.boundary = user.boundary.and_then(|b| PolicyRef::of(store, b));
                c.tags = &user.tags;
            }
            c.keys = vec![
                ("aws:userid", format!("{account}:{name}")),
                ("aws:PrincipalArn", arn.clone()),
                ("aws:PrincipalAccount", account.clone()),
                ("aws:PrincipalType", "FederatedUser".into()),
            ];
            Ok(c)
        }
        _ => Err(format!("unknown principal: {arn} is not a user, role, session, federated user or root ARN")),
    }
}

fn role_caller<'s>(store: &'s Store, mut c: Caller<'s>, role: &'s crate::store::Role) -> Caller<'s> {
    c.parent = vec![role.arn.clone()];
    if !role.id.is_empty() {
        c.parent.push(role.id.clone());
    }
    c.identity = role.policy_ids().filter_map(|id| PolicyRef::of(store, id)).collect();
    c.boundary = role.boundary.and_then(|b| PolicyRef::of(store, b));
    c.tags = &role.tags;
    c.service_linked = role.path.starts_with("/aws-service-role/");
    c.keys = vec![
        ("aws:PrincipalArn", role.arn.clone()),
        ("aws:PrincipalAccount", role.account.clone()),
        ("aws:PrincipalType", "AssumedRole".into()),
    ];
    c
}

/// A user's identity policies: its inline and managed policies and those of every group.
fn user_policies<'s>(store: &'s Store, arn: &str) -> Vec<PolicyRef<'s>> {
    let Some(user) = store.user_by_arn.get(arn).and_then(|&i| store.users.get(i)) else {
        return Vec::new();
    };
    user.policy_ids(store).filter_map(|id| PolicyRef::of(store, id)).collect()
}

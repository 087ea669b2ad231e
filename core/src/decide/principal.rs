//! Who the caller is: a request's principal resolved against the store.
//!
//! Resolution gives everything evaluation needs about the caller (`docs/semantics.md#principals`,
//! `#evaluation-algorithm`, `#global-context-keys`): the identities a resource policy may name at
//! each level (direct, parent, account), the identity policies and boundary in force, and the
//! context keys that describe the principal (`aws:username`, `aws:userid`, `aws:PrincipalArn`,
//! `aws:PrincipalTag/*` ...), which only the store may supply. A [`Caller`] borrows from the store
//! and the request: resolving one allocates nothing, so both the reference evaluator and the
//! compiled index use it.

use crate::decide::index::principals::{Found, PrincipalKind, PrincipalMap};
use crate::decide::index::TableRef;
use crate::decide::request::{PrincipalRef, Request};
use crate::id::PolicyId;
use crate::policy::ast::{Effect, Policy, PrincipalBlock, Statement};
use crate::policy::context::{Context, Scalar};
use crate::store::{Role, Store, User};
use smallvec::SmallVec;
use std::fmt;

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

impl CallerKind {
    /// Principals that only a resource policy naming them can grant
    /// (`docs/semantics.md#special-principals`).
    pub(crate) fn resource_policy_only(self) -> bool {
        matches!(
            self,
            CallerKind::Anonymous | CallerKind::Service | CallerKind::WebIdentity | CallerKind::CanonicalUser
        )
    }
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

/// What a resource-side statement (resource or trust policy) does to the caller it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Named {
    Deny,
    Allow(Level),
}

/// The value of a principal context key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum PrincipalValue<'a> {
    Str(&'a str),
    /// Two parts joined by `:` (`AROA…:session`, `ACCOUNT:name`), built only when read.
    Joined(&'a str, &'a str),
    Bool(bool),
}

impl PrincipalValue<'_> {
    fn scalar(self) -> Scalar {
        match self {
            PrincipalValue::Str(s) => Scalar::Str(s.to_owned()),
            PrincipalValue::Joined(a, b) => Scalar::Str(format!("{a}:{b}")),
            PrincipalValue::Bool(b) => Scalar::Bool(b),
        }
    }
}

/// The context keys that describe the principal, besides `aws:PrincipalTag/*`: the store (and
/// authentication) is their one authority. A request may not supply them
/// ([`is_principal_key`]); the decision reads them from the resolved caller, where a key the
/// caller lacks is absent (an IAM user has no `aws:PrincipalServiceName`), never the request's.
///
/// `aws:PrincipalOrgID` and `aws:PrincipalOrgPaths` are not here: a store without its
/// organization's Id leaves them to the caller, and one with it overrides them.
pub(crate) const PRINCIPAL_KEYS: [(&str, &str); 8] = [
    ("aws:username", "aws:username"),
    ("aws:userid", "aws:userid"),
    ("aws:principalarn", "aws:PrincipalArn"),
    ("aws:principalaccount", "aws:PrincipalAccount"),
    ("aws:principaltype", "aws:PrincipalType"),
    ("aws:principalisawsservice", "aws:PrincipalIsAWSService"),
    ("aws:principalservicename", "aws:PrincipalServiceName"),
    ("aws:principalservicenameslist", "aws:PrincipalServiceNamesList"),
];

/// The prefix of the principal's tag keys (`aws:PrincipalTag/team`), lowercased.
pub(crate) const PRINCIPAL_TAG_PREFIX: &str = "aws:principaltag/";

/// Whether `key` (any case) describes the principal: one of [`PRINCIPAL_KEYS`] or a
/// `aws:PrincipalTag/...` key.
pub(crate) fn is_principal_key(key: &str) -> bool {
    key.get(..PRINCIPAL_TAG_PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(PRINCIPAL_TAG_PREFIX))
        || PRINCIPAL_KEYS.iter().any(|(lc, _)| lc.eq_ignore_ascii_case(key))
}

/// The principal keys a request that names one is refused for (docs/http-api.md#a-request): the
/// identity itself and its tags. The rest of [`PRINCIPAL_KEYS`] (whether the caller is an AWS
/// service, and which) are the store's alone too, but a request that states them is not an
/// error: its values are dropped ([`is_principal_key`]), and the decision reads the caller's,
/// or nothing, as for any request.
pub(crate) fn is_refused_principal_key(key: &str) -> bool {
    const REFUSED: [&str; 5] =
        ["aws:username", "aws:userid", "aws:principalarn", "aws:principalaccount", "aws:principaltype"];
    key.get(..PRINCIPAL_TAG_PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(PRINCIPAL_TAG_PREFIX))
        || REFUSED.iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// The resolved caller, borrowed from the store and the request.
#[derive(Debug, Clone)]
pub(crate) struct Caller<'a> {
    pub kind: CallerKind,
    pub account: Option<&'a str>,
    pub partition: &'a str,
    /// ARNs and unique IDs naming the caller itself.
    pub direct: SmallVec<[&'a str; 2]>,
    /// ARNs and unique IDs naming the caller's parent (role, federating user).
    pub parent: SmallVec<[&'a str; 2]>,
    /// Service, federated provider or canonical user name, for the non-AWS principal forms.
    pub other_name: Option<&'a str>,
    /// The principal's tags when they are not the calling user's own (session tags, a role's,
    /// the federating user's); `None`: the calling user's, read from the store only if asked.
    tags: Option<&'a [(String, String)]>,
    /// Service-linked roles are outside SCPs and RCPs.
    pub service_linked: bool,
    /// The user whose policies apply (the user itself, or the user behind a federated user).
    pub user: Option<&'a User>,
    /// The role whose policies apply (a session's or the role itself).
    pub role: Option<&'a Role>,
    /// The position of `user` in `Store::users` (the compiled index keys its tables by it).
    pub user_ix: Option<usize>,
    /// The position of `role` in `Store::roles`.
    pub role_ix: Option<usize>,
    /// The identity table of `user` or `role`, when the index's principal map found it.
    pub table: Option<TableRef>,
    /// The permissions boundary in force (copied into the index's principal slot, so that the
    /// compiled path does not read the user's record for it).
    boundary: Option<PolicyId>,
    /// The caller is `user` itself: its direct identities, name, id, ARN and tags are read from
    /// the user's record when asked (most decisions never ask).
    is_user: bool,
    userid: Option<PrincipalValue<'a>>,
    principal_arn: Option<&'a str>,
    principal_type: Option<&'static str>,
}

impl<'a> Caller<'a> {
    fn new(kind: CallerKind) -> Self {
        Caller {
            kind,
            account: None,
            partition: "aws",
            direct: SmallVec::new(),
            parent: SmallVec::new(),
            other_name: None,
            tags: None,
            service_linked: false,
            user: None,
            role: None,
            user_ix: None,
            role_ix: None,
            table: None,
            boundary: None,
            is_user: false,
            userid: None,
            principal_arn: None,
            principal_type: None,
        }
    }

    /// The ARNs and unique IDs naming the caller itself.
    pub(crate) fn direct_ids(&self) -> SmallVec<[&'a str; 2]> {
        match self.user.filter(|_| self.is_user) {
            Some(u) if u.id.is_empty() => SmallVec::from_iter([u.arn.as_str()]),
            Some(u) => SmallVec::from_iter([u.arn.as_str(), u.id.as_str()]),
            None => self.direct.clone(),
        }
    }

    /// The principal's tags (`aws:PrincipalTag/*`).
    pub(crate) fn tags(&self) -> &'a [(String, String)] {
        match (self.tags, self.user.filter(|_| self.is_user)) {
            (Some(tags), _) => tags,
            (None, Some(u)) => &u.tags,
            (None, None) => &[],
        }
    }

    /// Whether `entry` is `arn:PARTITION:iam::ACCOUNT:root` of the caller's account.
    pub(crate) fn is_account_root(&self, entry: &str) -> bool {
        let Some(account) = self.account else { return false };
        entry
            .strip_prefix("arn:")
            .and_then(|e| e.strip_prefix(self.partition))
            .and_then(|e| e.strip_prefix(":iam::"))
            .and_then(|e| e.strip_prefix(account))
            .is_some_and(|e| e == ":root")
    }

    /// The strongest level at which `block` (a `Principal`) names this caller.
    pub(crate) fn level_in(&self, block: &PrincipalBlock) -> Option<Level> {
        if block.any {
            return Some(Level::Direct);
        }
        let named_other = |list: &[String]| self.other_name.is_some_and(|n| list.iter().any(|e| e == n));
        match self.kind {
            CallerKind::Service if named_other(&block.service) => return Some(Level::Direct),
            CallerKind::WebIdentity if named_other(&block.federated) => return Some(Level::Direct),
            CallerKind::CanonicalUser if named_other(&block.canonical_user) => return Some(Level::Direct),
            _ => {}
        }
        let mut best = None;
        let direct = self.direct_ids();
        for entry in &block.aws {
            let level = if direct.contains(&entry.as_str()) {
                Some(Level::Direct)
            } else if self.parent.contains(&entry.as_str()) {
                Some(Level::Parent)
            } else if self.is_account_root(entry) {
                Some(Level::Account)
            } else {
                None
            };
            best = best.max(level);
        }
        best
    }

    /// Whether a `NotPrincipal` block lets this caller escape: its direct identity, its parent (if
    /// any) and its account (if any) must all be listed (`docs/semantics.md#not-elements`).
    pub(crate) fn escapes_not_principal(&self, block: &PrincipalBlock) -> bool {
        if block.any {
            return true;
        }
        let listed = |x: &&str| block.aws.iter().any(|e| e == x);
        let other_listed = |list: &[String]| self.other_name.is_some_and(|n| list.iter().any(|e| e == n));
        // A role ARN used directly has no identity of its own besides the role (its parent).
        let ids = self.direct_ids();
        let direct = (self.kind == CallerKind::Role && ids.is_empty())
            || ids.iter().any(listed)
            || match self.kind {
                CallerKind::Service => other_listed(&block.service),
                CallerKind::WebIdentity => other_listed(&block.federated),
                CallerKind::CanonicalUser => other_listed(&block.canonical_user),
                _ => false,
            };
        let parent = self.parent.is_empty() || self.parent.iter().any(listed);
        let account = self.account.is_none() || block.aws.iter().any(|e| self.is_account_root(e));
        direct && parent && account
    }

    /// Whether a resource-side statement's Principal/NotPrincipal concerns this caller, and how.
    /// `boundary_quirk`: the documented quirk that a resource-policy NotPrincipal Deny always
    /// applies to a user or role with a boundary (not for trust policies).
    pub(crate) fn named_by(&self, s: &Statement, boundary_quirk: bool) -> Option<Named> {
        let block = s.principal.as_ref()?;
        match s.effect {
            Effect::Deny => {
                let applies = if block.not {
                    (boundary_quirk && self.boundary_id().is_some()) || !self.escapes_not_principal(block)
                } else {
                    self.level_in(block).is_some()
                };
                applies.then_some(Named::Deny)
            }
            Effect::Allow if block.not => None,
            Effect::Allow => self.level_in(block).map(Named::Allow),
        }
    }

    /// The identity policies in force: the user's (and its groups'), or the role's.
    pub(crate) fn identity_policy_ids<'s>(&self, store: &'s Store) -> impl Iterator<Item = PolicyId> + 's
    where
        'a: 's,
    {
        let user = self.user.into_iter().flat_map(move |u| u.policy_ids(store));
        let role = self.role.into_iter().flat_map(Role::policy_ids);
        user.chain(role)
    }

    /// The permissions boundary in force.
    pub(crate) fn boundary_id(&self) -> Option<PolicyId> {
        self.boundary
    }

    /// A principal context key (lowercased): `Some(value)` when the store decides it (`value` is
    /// `None` when the caller lacks it), `None` when `key_lc` is not the store's to answer.
    pub(crate) fn key(&self, key_lc: &str) -> Option<Option<PrincipalValue<'a>>> {
        if let Some(tag) = key_lc.strip_prefix(PRINCIPAL_TAG_PREFIX) {
            return Some(
                self.tags().iter().find(|(k, _)| k.eq_ignore_ascii_case(tag)).map(|(_, v)| PrincipalValue::Str(v)),
            );
        }
        let user = self.user.filter(|_| self.is_user);
        Some(match key_lc {
            "aws:username" => user.map(|u| PrincipalValue::Str(&u.name)),
            "aws:userid" => user.map(|u| PrincipalValue::Str(&u.id)).or(self.userid),
            "aws:principalarn" => {
                user.map(|u| PrincipalValue::Str(&u.arn)).or(self.principal_arn.map(PrincipalValue::Str))
            }
            "aws:principalaccount" => {
                if self.principal_type.is_some() {
                    self.account.map(PrincipalValue::Str)
                } else {
                    None
                }
            }
            "aws:principaltype" => self.principal_type.map(PrincipalValue::Str),
            "aws:principalisawsservice" => Some(PrincipalValue::Bool(self.kind == CallerKind::Service)),
            "aws:principalservicename" | "aws:principalservicenameslist" => {
                if self.kind == CallerKind::Service {
                    self.other_name.map(PrincipalValue::Str)
                } else {
                    None
                }
            }
            _ => return None,
        })
    }

    /// Writes the principal's context keys into `ctx`, overriding anything of the same name.
    pub(crate) fn add_context(&self, ctx: &mut Context) {
        for (lc, key) in PRINCIPAL_KEYS {
            if let Some(Some(v)) = self.key(lc) {
                ctx.insert(key, vec![v.scalar()]);
            }
        }
        for (k, v) in self.tags() {
            ctx.insert(&format!("aws:PrincipalTag/{k}"), vec![Scalar::Str(v.clone())]);
        }
    }
}

/// Why a principal could not be resolved (an implicit deny, never an error).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Unknown<'a> {
    NotAnArn(&'a str),
    User(&'a str),
    Role(&'a str),
    Session(&'a str),
    FederatingUser(&'a str),
    Other(&'a str),
    /// A `signedRequest` that was never authenticated.
    Unauthenticated,
}

impl fmt::Display for Unknown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unknown::NotAnArn(a) => write!(f, "unknown principal: {a} is not an ARN"),
            Unknown::User(a) => write!(f, "unknown principal: no user {a} in the store"),
            Unknown::Role(a) => write!(f, "unknown principal: no role {a} in the store"),
            Unknown::Session(a) => write!(f, "unknown principal: no role in the store for the session {a}"),
            Unknown::FederatingUser(a) => {
                write!(f, "unknown federating user {a} (it must be in the federated user's account)")
            }
            Unknown::Unauthenticated => write!(f, "the signed request was not authenticated"),
            Unknown::Other(a) => {
                write!(f, "unknown principal: {a} is not a user, role, session, federated user or root ARN")
            }
        }
    }
}

/// Where a principal's ARN is looked up: the index's principal map (one probe, and the
/// principal's table with it) when there is one, else the store's maps.
#[derive(Clone, Copy)]
struct Directory<'a> {
    store: &'a Store,
    map: Option<&'a PrincipalMap>,
}

impl<'a> Directory<'a> {
    /// The entity of `kind` named `text` (by ARN, or by session prefix), and its slot in the
    /// index's principal map.
    fn find(&self, kind: PrincipalKind, text: &str) -> Option<(usize, Option<Found>)> {
        if let Some(found) = self.map.and_then(|m| m.get(text)) {
            return (found.kind == kind).then_some((found.ix, Some(found)));
        }
        let map = match kind {
            PrincipalKind::User => &self.store.user_by_arn,
            PrincipalKind::Role => &self.store.role_by_arn,
            PrincipalKind::Session => &self.store.role_by_session_prefix,
        };
        map.get(text).map(|&i| (i, None))
    }

    fn user(&self, arn: &str) -> Option<(usize, &'a User, Option<Found>)> {
        self.find(PrincipalKind::User, arn).and_then(|(i, f)| Some((i, self.store.users.get(i)?, f)))
    }

    fn role(&self, kind: PrincipalKind, text: &str) -> Option<(usize, &'a Role, Option<TableRef>)> {
        self.find(kind, text).and_then(|(i, f)| Some((i, self.store.roles.get(i)?, f.map(|f| f.table))))
    }
}

/// Resolves the request's principal against the store (through the index's principal map when
/// `map` is given: the compiled path).
#[inline]
pub(crate) fn resolve<'a>(
    store: &'a Store,
    map: Option<&'a PrincipalMap>,
    req: &'a Request,
) -> Result<Caller<'a>, Unknown<'a>> {
    if req.unverified.is_some() {
        return Err(Unknown::Unauthenticated);
    }
    let mut caller = resolve_principal(Directory { store, map }, req)?;
    if let Some(session) = &req.session {
        if matches!(caller.kind, CallerKind::RoleSession | CallerKind::User) {
            caller.tags = Some(&session.tags);
        }
    }
    Ok(caller)
}

fn resolve_principal<'a>(dir: Directory<'a>, req: &'a Request) -> Result<Caller<'a>, Unknown<'a>> {
    let arn = match &req.principal {
        PrincipalRef::Anonymous => {
            let mut c = Caller::new(CallerKind::Anonymous);
            c.principal_type = Some("Anonymous");
            return Ok(c);
        }
        PrincipalRef::Service(name) => return Ok(named(CallerKind::Service, name)),
        PrincipalRef::Federated(name) => return Ok(named(CallerKind::WebIdentity, name)),
        PrincipalRef::CanonicalUser(name) => return Ok(named(CallerKind::CanonicalUser, name)),
        PrincipalRef::Arn(arn) => arn.as_str(),
    };
    let Some(["arn", partition, service, _region, account, resource]) = crate::arn::arn_fields(arn) else {
        return Err(Unknown::NotAnArn(arn));
    };
    let mut c = Caller::new(CallerKind::Root);
    c.account = Some(account);
    c.partition = partition;
    match (service, resource) {
        ("iam", "root") => {
            c.direct.push(arn);
            c.userid = Some(PrincipalValue::Str(account));
            c.principal_arn = Some(arn);
            c.principal_type = Some("Account");
        }
        ("iam", r) if r.starts_with("user/") => {
            // Only the user's position is taken here: its record is read when a decision asks
            // for its name, id, ARN or tags (the boundary and table come from the index's slot).
            let (ix, user, found) = dir.user(arn).ok_or(Unknown::User(arn))?;
            c.kind = CallerKind::User;
            c.user_ix = Some(ix);
            c.user = Some(user);
            c.is_user = true;
            c.table = found.map(|f| f.table);
            c.boundary = match found {
                Some(f) => f.boundary,
                None => user.boundary,
            };
            c.principal_type = Some("User");
        }
        ("iam", r) if r.starts_with("role/") => {
            let (ix, role, table) = dir.role(PrincipalKind::Role, arn).ok_or(Unknown::Role(arn))?;
            c.kind = CallerKind::Role;
            as_role(&mut c, ix, role);
            c.table = table;
            c.userid = Some(PrincipalValue::Str(&role.id));
        }
        ("sts", r) if r.starts_with("assumed-role/") => {
            let rest = &r["assumed-role/".len()..];
            let (role_name, session) = rest.split_once('/').ok_or(Unknown::Session(arn))?;
            if session.is_empty() || role_name.is_empty() {
                return Err(Unknown::Session(arn));
            }
            let prefix_len = arn.len() - session.len() - 1;
            let (ix, role, table) = arn
                .get(..prefix_len)
                .and_then(|prefix| dir.role(PrincipalKind::Session, prefix))
                .ok_or(Unknown::Session(arn))?;
            c.kind = CallerKind::RoleSession;
            as_role(&mut c, ix, role);
            c.table = table;
            c.direct.push(arn);
            c.userid = Some(PrincipalValue::Joined(&role.id, session));
        }
        ("sts", r) if r.starts_with("federated-user/") => {
            let name = &r["federated-user/".len()..];
            c.kind = CallerKind::FederatedUser;
            c.direct.push(arn);
            if let Some(user_arn) = &req.federating_user {
                let (ix, user, found) = dir
                    .user(user_arn)
                    .filter(|(_, u, _)| u.account == account)
                    .ok_or(Unknown::FederatingUser(user_arn))?;
                c.user_ix = Some(ix);
                c.table = found.map(|f| f.table);
                c.parent.push(&user.arn);
                if !user.id.is_empty() {
                    c.parent.push(&user.id);
                }
                c.user = Some(user);
                c.boundary = user.boundary;
                c.tags = Some(&user.tags);
            }
            c.userid = Some(PrincipalValue::Joined(account, name));
            c.principal_arn = Some(arn);
            c.principal_type = Some("FederatedUser");
        }
        _ => return Err(Unknown::Other(arn)),
    }
    Ok(c)
}

fn named(kind: CallerKind, name: &str) -> Caller<'_> {
    let mut c = Caller::new(kind);
    c.other_name = Some(name);
    c
}

fn as_role<'a>(c: &mut Caller<'a>, ix: usize, role: &'a Role) {
    c.role_ix = Some(ix);
    c.parent.push(&role.arn);
    if !role.id.is_empty() {
        c.parent.push(&role.id);
    }
    c.role = Some(role);
    c.boundary = role.boundary;
    c.tags = Some(&role.tags);
    c.service_linked = role.path.starts_with("/aws-service-role/");
    c.account = Some(&role.account);
    c.principal_arn = Some(&role.arn);
    c.principal_type = Some("AssumedRole");
}

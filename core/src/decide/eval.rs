//! The fast decision: the reference algorithm over the compiled [`Index`].
//!
//! Same steps and same rules ([`crate::decide::rules`]) as [`crate::decide::reference`], but statements are found
//! through the index instead of a walk over every policy, and the request's context is never
//! copied: [`View`] answers condition keys by layering the principal's keys (from the store), the
//! request's context and the defaults (clock, `aws:ViaAWSService`, organization and resource keys).
//! A request without policy-variable substitution is decided without touching the heap.

use crate::decide::answer::Decision;
use crate::decide::index::{ActionKey, Hot, Index, Pat, ResourceKind, TableRef};
use crate::decide::principal::{resolve, Caller, CallerKind, Level, Named, PrincipalValue};
use crate::decide::request::Request;
use crate::decide::rules::{
    action_matches, allow_decision, combine, conditions_hold, credential_restriction, is_assume_action, is_kms_key,
    is_sts, is_trust_action, rcps_apply, resource_account, resource_matches, Facts,
};
use crate::id::PolicyId;
use crate::policy::ast::{Effect, Statement};
use crate::policy::cond::{evaluate, CondResult};
use crate::policy::context::{Lookup, Val, Values};
use crate::policy::glob::match_parts;
use crate::policy::value::Instant;
use crate::store::Store;
use smallvec::SmallVec;
use std::cell::OnceCell;

/// Decides `req` against the store through its index, at `now` (`None`: the clock, read only if
/// a condition needs the time).
pub(crate) fn decide(store: &Store, index: &Index, req: &Request, now: Option<Instant>) -> Decision {
    let Ok(caller) = resolve(store, Some(&index.principals), req) else { return Decision::ImplicitDeny };
    let mut view = View::new(store, index, &caller, req);
    view.now = now;
    match req.action_lc.as_str() {
        a if !is_sts(a) => {}
        "sts:getcalleridentity" => {
            return if caller.kind.resource_policy_only() { Decision::ImplicitDeny } else { Decision::Allowed };
        }
        "sts:getsessiontoken" if matches!(caller.kind, CallerKind::User | CallerKind::Root) => {
            return Decision::Allowed;
        }
        _ => {}
    }
    let ev = Evaluator { store, index, req, caller: &caller, view: &view };
    let mut decision = ev.decide_action(&req.action_lc);
    if is_assume_action(&req.action_lc) {
        let has_tags = view.contains("aws:tagkeys") || req.context.keys_lc().any(|k| k.starts_with("aws:requesttag/"));
        if has_tags {
            decision = combine(decision, ev.decide_action("sts:tagsession"));
        }
        if view.contains("sts:sourceidentity") {
            decision = combine(decision, ev.decide_action("sts:setsourceidentity"));
        }
    }
    decision
}

struct Evaluator<'v, 'a> {
    store: &'a Store,
    index: &'a Index,
    req: &'a Request,
    caller: &'v Caller<'a>,
    view: &'v View<'v, 'a>,
}

/// What the resource side says ([`Evaluator::resource_side`]).
#[derive(Default, Clone, Copy)]
struct ResourceSide {
    /// A resource-side Deny names the caller.
    deny: bool,
    /// The strongest level at which a matching resource-side Allow names the caller.
    rbp: Option<Level>,
    /// The resource is reachable only through its resource policy (trust policy, KMS key policy).
    requires_grant: bool,
}

/// What one policy (or several, OR-ed) says about the request.
#[derive(Default, Clone, Copy)]
struct Verdict {
    deny: bool,
    allow: bool,
}

impl Verdict {
    fn or(self, other: Verdict) -> Verdict {
        Verdict { deny: self.deny || other.deny, allow: self.allow || other.allow }
    }
}

impl<'a> Evaluator<'_, 'a> {
    fn decide_action(&self, action: &str) -> Decision {
        let (index, req, caller) = (self.index, self.req, self.caller);
        if credential_restriction(caller.kind, req, action).is_some() {
            return Decision::ImplicitDeny;
        }
        let key = index.action_key(action);
        let trust_action = is_trust_action(action);

        // Identity policies first: a Deny there decides (credential restrictions were checked).
        let has_identity = caller.user.is_some() || caller.role.is_some();
        let identity = has_identity.then(|| {
            let user = caller.user_ix.and_then(|i| caller.table.or_else(|| index.user_table(i)));
            let role = caller.role_ix.and_then(|i| caller.table.or_else(|| index.role_table(i)));
            user.into_iter().chain(role).fold(Verdict::default(), |v, t| v.or(self.scan(t, &key)))
        });
        if identity.is_some_and(|v| v.deny) {
            return Decision::ExplicitDeny;
        }
        let side = self.resource_side(action, &key, trust_action);
        // The owner depends on the action only through "is it a trust action", which every
        // sub-action of one request shares with the request's action: the view computed it.
        let resource_account = self.view.owner;

        // Boundary, session.
        let boundary = caller.boundary_id().map(|id| self.scan_policy(id, &key));
        let session = req.session_policy.as_ref().map(|p| self.scan_statements(&p.statements, action));
        let (scp_deny, scp_allows, rcp_deny) = self.organization(action, &key, resource_account);

        // Step 1: explicit deny anywhere.
        let v = |o: Option<Verdict>| o.unwrap_or_default();
        if v(identity).deny || v(boundary).deny || v(session).deny || side.deny || scp_deny || rcp_deny {
            return Decision::ExplicitDeny;
        }
        // Step 2: every SCP level must allow.
        if !scp_allows {
            return Decision::ImplicitDeny;
        }
        // Steps 4-6.
        let session_allows = session.map(|s| s.allow);
        let facts = Facts {
            kind: caller.kind,
            cross_account: match (caller.account, resource_account) {
                (Some(a), Some(b)) => a != b,
                _ => false,
            },
            requires_grant: side.requires_grant,
            trust_action,
            rbp: side.rbp,
            id: caller.kind == CallerKind::Root || v(identity).allow,
            pb: boundary.is_none_or(|b| b.allow),
            sp: match caller.kind {
                CallerKind::FederatedUser => session_allows == Some(true),
                _ => session_allows.unwrap_or(true),
            },
        };
        allow_decision(&facts, &mut |_| {})
    }

    /// The resource side: the resource policies (or the role's trust policy) covering the
    /// resource, and the request's own resource policy: whether a Deny names the caller, the
    /// strongest level at which an Allow does, and whether only such a grant can allow.
    fn resource_side(&self, action: &str, key: &ActionKey<'_>, trust_action: bool) -> ResourceSide {
        let (store, index, req) = (self.store, self.index, self.req);
        let resource = req.resource.as_str();
        let mut side = ResourceSide::default();
        let mut resource_policies: SmallVec<[PolicyId; 4]> = SmallVec::new();
        if trust_action && resource.contains(":role/") {
            side.requires_grant = true;
            if let Some(role) = store.role_by_arn.get(resource).and_then(|&i| store.roles.get(i)) {
                resource_policies.push(role.trust);
            }
        } else if !index.rp_by_arn.is_empty() {
            for_each_covering_arn(resource, |arn| {
                for &i in index.rp_by_arn.get(arn).into_iter().flatten() {
                    resource_policies.extend(store.resource_policies.get(i).map(|rp| rp.policy));
                }
            });
            side.requires_grant = is_kms_key(resource) && !resource_policies.is_empty();
        }
        for &id in &resource_policies {
            let (deny, level) = self.scan_resource(id, key);
            side.deny |= deny;
            side.rbp = side.rbp.max(level);
        }
        if let Some(p) = &req.resource_policy {
            // Used as a trust policy for trust actions, where the NotPrincipal quirk does not apply.
            let (deny, level) = self.scan_resource_statements(&p.statements, action, !trust_action);
            side.deny |= deny;
            side.rbp = side.rbp.max(level);
        }
        side
    }

    /// The organization's levels: whether an SCP denies, whether every SCP level allows, whether
    /// an RCP denies.
    fn organization(&self, action: &str, key: &ActionKey<'_>, resource_account: Option<&str>) -> (bool, bool, bool) {
        let (store, index, caller) = (self.store, self.index, self.caller);
        let Some(org) = &store.organization else { return (false, true, false) };
        let scp_levels = match caller.account {
            Some(account) if !caller.service_linked && account != org.management_account => {
                index.scp_levels.get(account)
            }
            _ => None,
        };
        let resource = self.req.resource.as_str();
        let rcp_levels = match resource_account {
            Some(account) if rcps_apply(action, resource, account, &org.management_account, caller.service_linked) => {
                index.rcp_levels.get(account)
            }
            _ => None,
        };
        let level_verdicts = |levels: Option<&Vec<SmallVec<[PolicyId; 2]>>>| {
            let mut deny = false;
            let mut every_level_allows = true;
            for level in levels.into_iter().flatten() {
                let mut allows = level.is_empty();
                for &id in level {
                    let v = self.scan_policy(id, key);
                    deny |= v.deny;
                    allows |= v.allow;
                }
                every_level_allows &= allows;
            }
            (deny, every_level_allows)
        };
        let (scp_deny, scp_allows) = level_verdicts(scp_levels);
        let (rcp_deny, _) = level_verdicts(rcp_levels);
        (scp_deny, scp_allows, rcp_deny)
    }

    /// Deny/Allow over the candidates of one table (no principal check): Deny statements first,
    /// and each effect stops at the first statement that applies.
    fn scan(&self, t: TableRef, key: &ActionKey<'_>) -> Verdict {
        let index = self.index;
        let q = index.query(t, key, &self.req.resource);
        let deny = index.visit(&q, Effect::Deny, |c| self.applies(c, key));
        let allow = index.visit(&q, Effect::Allow, |c| self.applies(c, key));
        Verdict { deny, allow }
    }

    /// [`Self::scan`] of a policy on its own (boundary, SCP, RCP).
    fn scan_policy(&self, id: PolicyId, key: &ActionKey<'_>) -> Verdict {
        self.index.policy_table(id).map(|t| self.scan(t, key)).unwrap_or_default()
    }

    /// Deny/Allow over statements that are not compiled (the request's own session policy).
    fn scan_statements(&self, statements: &[Statement], action: &str) -> Verdict {
        let mut out = Verdict::default();
        for s in statements {
            if action_matches(s, action) && self.rest_applies(s) {
                match s.effect {
                    Effect::Deny => out.deny = true,
                    Effect::Allow => out.allow = true,
                }
            }
        }
        out
    }

    /// A resource-side policy: whether a Deny applies to the caller, and the strongest level at
    /// which a matching Allow names it.
    fn scan_resource(&self, id: PolicyId, key: &ActionKey<'_>) -> (bool, Option<Level>) {
        let (store, index) = (self.store, self.index);
        let Some(t) = index.policy_table(id) else { return (false, None) };
        let q = index.query(t, key, &self.req.resource);
        let mut level = None;
        // Store policies: trust policies cannot hold NotPrincipal, so the quirk only meets
        // resource policies.
        let named = |c: &Hot| index.statement(store, c).and_then(|s| self.caller.named_by(s, true));
        let deny = index.visit(&q, Effect::Deny, |c| named(c).is_some() && self.applies(c, key));
        index.visit(&q, Effect::Allow, |c| {
            if let Some(Named::Allow(l)) = named(c) {
                if Some(l) > level && self.applies(c, key) {
                    level = Some(l);
                }
            }
            level == Some(Level::Direct)
        });
        (deny, level)
    }

    fn scan_resource_statements(&self, statements: &[Statement], action: &str, quirk: bool) -> (bool, Option<Level>) {
        let mut deny = false;
        let mut level = None;
        for s in statements {
            if !action_matches(s, action) {
                continue;
            }
            if let Some(outcome) = self.caller.named_by(s, quirk) {
                if self.rest_applies(s) {
                    match outcome {
                        Named::Deny => deny = true,
                        Named::Allow(l) => level = level.max(Some(l)),
                    }
                }
            }
        }
        (deny, level)
    }

    /// Resource and conditions of a compiled statement (its action already matched, unless the
    /// record is oversized: then the whole statement is checked on its AST).
    fn applies(&self, c: &Hot, key: &ActionKey<'_>) -> bool {
        let (index, resource) = (self.index, self.req.resource.as_str());
        if c.oversized {
            let s = index.statement(self.store, c);
            return s.is_some_and(|s| action_matches(s, key.action_lc) && self.rest_applies(s));
        }
        // The candidate's probe (see `Index::visit`) has been checked.
        if c.resource != ResourceKind::Implicit {
            let not = c.resource == ResourceKind::NotResource;
            let mut hit = false;
            for p in index.patterns(c) {
                let m = match p {
                    Pat::Any => Some(true),
                    Pat::Exact(text) => Some(resource.as_bytes() == text),
                    Pat::Prefix(text) => Some(resource.as_bytes().starts_with(text)),
                    Pat::Glob(i) => Some(match_parts(index.glob(i), resource)),
                    Pat::Template(i) => index.template(i).and_then(|t| {
                        let mut parts = SmallVec::new();
                        t.resolve_parts(|k| self.view.single_text(k), &mut parts).then(|| match_parts(&parts, resource))
                    }),
                };
                match m {
                    Some(m) => hit |= m,
                    // Unresolvable variable: under NotResource the statement is dropped.
                    None if not => return false,
                    None => {}
                }
            }
            if hit == not {
                return false;
            }
        }
        !c.has_conditions() || index.conditions(c).iter().all(|cond| evaluate(cond, self.view) == CondResult::True)
    }

    /// Resource and conditions of an AST statement (for policies that are not compiled).
    fn rest_applies(&self, s: &Statement) -> bool {
        resource_matches(s, &self.req.resource, self.view) && conditions_hold(s, self.view)
    }
}

/// The first resource policy (in store order) covering `resource`, through the ARN index.
fn first_covering(index: &Index, resource: &str) -> Option<usize> {
    if index.rp_by_arn.is_empty() {
        return None;
    }
    let mut first: Option<usize> = None;
    for_each_covering_arn(resource, |arn| {
        if let Some(i) = index.rp_by_arn.get(arn).and_then(|rps| rps.first()) {
            first = Some(first.map_or(*i, |f| f.min(*i)));
        }
    });
    first
}

/// Calls `f` with `resource` and each prefix of it that ends just before a `/` (the ARNs whose
/// resource policies cover it: a policy on `arn` covers `arn` and everything below `arn/`).
fn for_each_covering_arn(resource: &str, mut f: impl FnMut(&str)) {
    f(resource);
    for (i, _) in resource.match_indices('/') {
        if let Some(prefix) = resource.get(..i) {
            f(prefix);
        }
    }
}

/// The condition keys of one request, layered without copying: the principal's keys from the
/// store, then the request's context, then defaults (clock, `aws:ViaAWSService`, organization and
/// resource keys). Answers exactly what [`crate::decide::reference`]'s merged context holds.
pub(crate) struct View<'v, 'a> {
    req: &'a Request,
    caller: &'v Caller<'a>,
    owner: Option<&'a str>,
    store: &'a Store,
    index: &'a Index,
    /// Tags of the request's resource, looked up only if a condition reads `aws:ResourceTag/*`.
    resource_tags: OnceCell<&'a [(String, String)]>,
    principal_org: Option<&'a (String, String)>,
    resource_org: Option<&'a (String, String)>,
    /// The store knows the organization's Id, so it alone answers the organization keys.
    org_known: bool,
    /// `ROLEID:SESSION` or `ACCOUNT:NAME`, built only if a condition reads `aws:userid`.
    joined: OnceCell<String>,
    /// The defaults of `aws:CurrentTime` and `aws:EpochTime`, built only if read.
    time: OnceCell<(String, String)>,
    /// The time of the decision; `None` reads the clock.
    now: Option<Instant>,
}

impl<'v, 'a> View<'v, 'a> {
    fn new(store: &'a Store, index: &'a Index, caller: &'v Caller<'a>, req: &'a Request) -> Self {
        let resource = req.resource.as_str();
        let owner = resource_account(store, req, caller.account, &req.action_lc, || first_covering(index, resource));
        View {
            req,
            caller,
            owner,
            store,
            index,
            resource_tags: OnceCell::new(),
            principal_org: caller.account.and_then(|a| index.org_paths.get(a)),
            org_known: store.organization.as_ref().is_some_and(|o| o.id.is_some()),
            resource_org: owner.and_then(|a| index.org_paths.get(a)),
            joined: OnceCell::new(),
            time: OnceCell::new(),
            now: None,
        }
    }

    fn resource_tags(&self) -> &'a [(String, String)] {
        self.resource_tags.get_or_init(|| {
            let (store, resource) = (self.store, self.req.resource.as_str());
            // IAM users and roles carry tags as resources too; only their ARNs hold ":iam::".
            let iam_entity = resource.contains(":iam::");
            self.index
                .rp_by_arn
                .get(resource)
                .and_then(|rps| rps.first())
                .and_then(|&i| store.resource_policies.get(i))
                .map(|rp| rp.tags.as_slice())
                .or_else(|| {
                    let role = store.role_by_arn.get(resource).filter(|_| iam_entity).and_then(|&i| store.roles.get(i));
                    role.map(|r| r.tags.as_slice())
                })
                .or_else(|| {
                    let user = store.user_by_arn.get(resource).filter(|_| iam_entity).and_then(|&i| store.users.get(i));
                    user.map(|u| u.tags.as_slice())
                })
                .unwrap_or_default()
        })
    }

    fn request(&self, key_lc: &str) -> Option<Values<'_>> {
        self.req.context.values(key_lc)
    }

    fn time(&self) -> &(String, String) {
        self.time.get_or_init(|| {
            let first = |k: &str| self.request(k).and_then(|v| v.get(0)).and_then(|v| Instant::parse(v.text()));
            let given = first("aws:currenttime").or_else(|| first("aws:epochtime"));
            let now = given.or(self.now).unwrap_or_else(Instant::now);
            (now.to_iso(), now.secs.to_string())
        })
    }
}

impl Lookup for View<'_, '_> {
    fn values(&self, key_lc: &str) -> Option<Values<'_>> {
        if let Some(store_value) = self.caller.key(key_lc) {
            return store_value.map(|v| {
                Values::One(match v {
                    PrincipalValue::Str(s) => Val::Str(s),
                    PrincipalValue::Bool(b) => Val::Bool(b),
                    PrincipalValue::Joined(a, b) => Val::Str(self.joined.get_or_init(|| format!("{a}:{b}"))),
                })
            });
        }
        fn one(s: &str) -> Option<Values<'_>> {
            Some(Values::One(Val::Str(s)))
        }
        match key_lc {
            "aws:principalorgid" if self.org_known => self.principal_org.and_then(|(id, _)| one(id)),
            "aws:principalorgpaths" if self.org_known => self.principal_org.and_then(|(_, path)| one(path)),
            "aws:resourceorgid" if self.org_known => self.resource_org.and_then(|(id, _)| one(id)),
            "aws:resourceorgpaths" if self.org_known => self.resource_org.and_then(|(_, path)| one(path)),
            "aws:currenttime" => self.request(key_lc).or_else(|| one(&self.time().0)),
            "aws:epochtime" => self.request(key_lc).or_else(|| Some(Values::One(Val::Num(&self.time().1)))),
            "aws:viaawsservice" => self.request(key_lc).or(Some(Values::One(Val::Bool(false)))),
            "aws:resourceaccount" => self.owner.and_then(one).or_else(|| self.request(key_lc)),
            "aws:resourceorgid" => self.request(key_lc).or_else(|| self.resource_org.and_then(|(id, _)| one(id))),
            "aws:resourceorgpaths" => {
                self.request(key_lc).or_else(|| self.resource_org.and_then(|(_, path)| one(path)))
            }
            _ => {
                if let Some(tag) = key_lc.strip_prefix("aws:resourcetag/") {
                    if let Some((_, v)) = self.resource_tags().iter().find(|(k, _)| k.eq_ignore_ascii_case(tag)) {
                        return one(v);
                    }
                }
                self.request(key_lc)
            }
        }
    }
}

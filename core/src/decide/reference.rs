//! The reference evaluator: plain, step-by-step IAM evaluation, the executable specification.
//!
//! This code follows `docs/semantics.md#evaluation-algorithm` literally and favours being obviously
//! right over being fast: it walks every applicable statement of every applicable policy for each
//! request. It stays in the crate for good as the oracle that faster evaluators are checked
//! against.
//!
//! The algorithm, for one action (AssumeRole with session tags or a source identity also needs
//! `sts:TagSession` / `sts:SetSourceIdentity`, each decided the same way and combined):
//! 1. any matching `Deny` in any applicable policy → `explicitDeny`;
//! 2. SCPs apply and some level of the caller's account path lacks a matching `Allow` → `implicitDeny`;
//! 3. RCPs can only deny (step 1);
//! 4. `rbp` = the strongest level at which a matching resource-policy `Allow` names the caller;
//!    `id` = an identity `Allow` (root: always); `pb` = no boundary or it allows; `sp` = session policy;
//! 5. cross-account: `rbp ≠ none ∧ id ∧ pb ∧ sp`;
//! 6. same account: resource-policy grants per `#same-account-resource-policy-rule`,
//!    else `id ∧ pb ∧ sp`.

use crate::decide::answer::{Answer, Decision, Explanation, Matched, StatementKind};
use crate::decide::principal::{resolve, Caller, CallerKind, Level, Named, PolicyRef};
use crate::decide::request::Request;
use crate::decide::rules::{
    action_matches, allow_decision, combine, conditions_hold, covers, credential_restriction, is_kms_key, rcps_apply,
    resource_account, resource_matches, Facts, ASSUME_ACTIONS, TRUST_ACTIONS,
};
use crate::policy::ast::{Effect, Statement};
use crate::policy::context::{Context, Lookup, Scalar};
use crate::policy::value::Instant;
use crate::store::{OrgPolicy, Organization, Store};

/// Decides `request` against `store` by the book, reading the clock for `aws:CurrentTime`.
pub fn authorize(store: &Store, request: &Request) -> Answer {
    authorize_at(store, request, None)
}

/// [`authorize`] with the time given: `now` (else the clock) is the default of
/// `aws:CurrentTime` and `aws:EpochTime`.
pub(crate) fn authorize_at(store: &Store, request: &Request, now: Option<Instant>) -> Answer {
    let mut ev = Evaluation { explain: request.explain, out: Explanation::default(), now };
    let decision = ev.decide(store, request);
    Answer::new(decision, &store.id, request.explain.then_some(ev.out))
}

struct Evaluation {
    explain: bool,
    out: Explanation,
    /// The time of the decision; `None` reads the clock.
    now: Option<Instant>,
}

/// A resource-side policy in force for this request.
struct ResourceSide<'s> {
    kind: StatementKind,
    policy: PolicyRef<'s>,
}

/// The policies in force for one action, and what is known about the resource before any
/// statement is matched.
struct InForce<'s> {
    identity: Vec<PolicyRef<'s>>,
    boundary: Option<PolicyRef<'s>>,
    session: Option<PolicyRef<'s>>,
    resource_side: Vec<ResourceSide<'s>>,
    /// SCPs per level of the caller's account path (empty when SCPs do not apply).
    scps: Vec<LevelPolicies<'s>>,
    /// RCPs per level of the resource owner's account path (empty when RCPs do not apply).
    rcps: Vec<LevelPolicies<'s>>,
    /// The action is one of [`TRUST_ACTIONS`].
    trust_action: bool,
    /// The resource is reachable only through its resource policy (trust policy, KMS key policy).
    requires_grant: bool,
    /// The caller's account differs from the resource's.
    cross_account: bool,
}

impl Evaluation {
    fn note(&mut self, text: impl Into<String>) {
        if self.explain {
            self.out.notes.push(text.into());
        }
    }

    fn decide(&mut self, store: &Store, req: &Request) -> Decision {
        let caller = match resolve(store, None, req) {
            Ok(c) => c,
            Err(unknown) => {
                self.note(unknown.to_string());
                return Decision::ImplicitDeny;
            }
        };
        let ctx = build_context(store, &caller, req, self.now);
        if req.action_lc == "sts:getcalleridentity" {
            if matches!(
                caller.kind,
                CallerKind::Anonymous | CallerKind::Service | CallerKind::WebIdentity | CallerKind::CanonicalUser
            ) {
                self.note("sts:GetCallerIdentity needs signed AWS credentials");
                return Decision::ImplicitDeny;
            }
            self.note("sts:GetCallerIdentity is always allowed: no policy controls it");
            return Decision::Allowed;
        }
        if req.action_lc == "sts:getsessiontoken" && matches!(caller.kind, CallerKind::User | CallerKind::Root) {
            // "You cannot use policies to control authentication operations" (IAM User Guide,
            // Permissions for GetSessionToken): not even an explicit deny stops it.
            self.note("sts:GetSessionToken is an authentication operation: no policy controls it");
            return Decision::Allowed;
        }
        let mut decision = self.decide_action(store, req, &caller, &ctx, &req.action_lc);
        if ASSUME_ACTIONS.contains(&req.action_lc.as_str()) {
            let has_tags = ctx.contains("aws:tagkeys")
                || ctx.iter().any(|(k, _)| k.to_ascii_lowercase().starts_with("aws:requesttag/"));
            if has_tags {
                self.note("session tags are passed: sts:TagSession must be allowed too");
                decision = combine(decision, self.decide_action(store, req, &caller, &ctx, "sts:tagsession"));
            }
            if ctx.contains("sts:sourceidentity") {
                self.note("a source identity is set: sts:SetSourceIdentity must be allowed too");
                decision = combine(decision, self.decide_action(store, req, &caller, &ctx, "sts:setsourceidentity"));
            }
        }
        decision
    }

    /// One action by the book: credential restrictions, then steps 1 to 6 (each its own
    /// function below).
    fn decide_action(
        &mut self,
        store: &Store,
        req: &Request,
        caller: &Caller<'_>,
        ctx: &Context,
        action: &str,
    ) -> Decision {
        if let Some(why) = credential_restriction(caller.kind, req, action) {
            self.note(why);
            return Decision::ImplicitDeny;
        }
        let policies = self.policies_in_force(store, req, caller, action);
        let resource = req.resource.as_str();
        let (explicit, rbp) = self.explicit_deny(&policies, caller, action, resource, ctx);
        if explicit {
            self.note("explicitDeny: a Deny statement matches (see matched); an explicit deny always wins");
            return Decision::ExplicitDeny;
        }
        if let Some(level) = self.scp_gap(&policies.scps, action, resource, ctx) {
            self.note(format!("no SCP attached at level {level} of the account's path allows the action"));
            return Decision::ImplicitDeny;
        }
        let facts = self.allow_facts(&policies, caller, rbp, action, resource, ctx);
        // `allow_decision` notes a boundary or session policy that does not allow.
        allow_decision(&facts, &mut |note| self.note(note))
    }

    /// Every policy that applies to `action` on the request's resource, and the facts about the
    /// resource that do not depend on what the policies say.
    fn policies_in_force<'s>(
        &mut self,
        store: &'s Store,
        req: &'s Request,
        caller: &Caller<'_>,
        action: &str,
    ) -> InForce<'s> {
        let resource = req.resource.as_str();
        let trust_action = TRUST_ACTIONS.contains(&action);
        let (resource_side, requires_grant) = self.resource_side_policies(store, req, trust_action);
        let resource_account =
            resource_account(store, req, caller.account, action, || first_covering(store, &req.resource))
                .map(str::to_owned);
        let session = req.session_policy.as_ref().map(|p| PolicyRef { name: "request#sessionPolicy", policy: p });
        let scps = scp_levels(store, caller);
        let rcps = rcp_levels(store, caller, resource_account.as_deref(), action, resource);
        let identity = caller.identity_policy_ids(store).filter_map(|id| PolicyRef::of(store, id)).collect();
        let boundary = caller.boundary_id().and_then(|id| PolicyRef::of(store, id));
        let cross_account = match (caller.account, resource_account.as_deref()) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        };
        InForce { identity, boundary, session, resource_side, scps, rcps, trust_action, requires_grant, cross_account }
    }

    /// The resource-side policies (a role's trust policy for a trust action, else the resource
    /// policies covering the resource, plus the request's `resourcePolicy`) and whether only they
    /// can grant access (a role, a KMS key with a key policy).
    fn resource_side_policies<'s>(
        &mut self,
        store: &'s Store,
        req: &'s Request,
        trust_action: bool,
    ) -> (Vec<ResourceSide<'s>>, bool) {
        let resource = req.resource.as_str();
        let mut resource_side = Vec::new();
        let requires_grant;
        if trust_action && resource.contains(":role/") {
            requires_grant = true;
            match store.role_by_arn.get(resource).and_then(|&i| store.roles.get(i)) {
                Some(role) => {
                    if let Some(policy) = PolicyRef::of(store, role.trust) {
                        resource_side.push(ResourceSide { kind: StatementKind::Trust, policy });
                    }
                }
                None => self.note(format!("role {resource} is not in the store")),
            }
        } else {
            for rp in store.resource_policies.iter().filter(|rp| covers(&rp.arn, resource)) {
                if let Some(policy) = PolicyRef::of(store, rp.policy) {
                    resource_side.push(ResourceSide { kind: StatementKind::Resource, policy });
                }
            }
            requires_grant = is_kms_key(resource) && !resource_side.is_empty();
        }
        if let Some(p) = &req.resource_policy {
            let kind = if trust_action { StatementKind::Trust } else { StatementKind::Resource };
            resource_side.push(ResourceSide { kind, policy: PolicyRef { name: "request#resourcePolicy", policy: p } });
        }
        (resource_side, requires_grant)
    }

    /// Step 1: whether a `Deny` matches in any policy in force, and (step 4's `rbp`, found in the
    /// same walk of the resource side) the strongest level at which a resource-side `Allow` names
    /// the caller.
    fn explicit_deny(
        &mut self,
        p: &InForce<'_>,
        caller: &Caller<'_>,
        action: &str,
        resource: &str,
        ctx: &Context,
    ) -> (bool, Option<Level>) {
        let mut explicit = false;
        for policy in &p.identity {
            explicit |= self.any_match(policy, StatementKind::Identity, Effect::Deny, action, resource, ctx);
        }
        if let Some(b) = &p.boundary {
            explicit |= self.any_match(b, StatementKind::Boundary, Effect::Deny, action, resource, ctx);
        }
        if let Some(s) = &p.session {
            explicit |= self.any_match(s, StatementKind::Session, Effect::Deny, action, resource, ctx);
        }
        let mut rbp: Option<Level> = None;
        for rs in &p.resource_side {
            let (deny, level) = self.resource_side(rs, caller, action, resource, ctx);
            explicit |= deny;
            rbp = rbp.max(level);
        }
        for (policy, kind) in p.scps.iter().flatten().chain(p.rcps.iter().flatten()) {
            explicit |= self.any_match(policy, *kind, Effect::Deny, action, resource, ctx);
        }
        (explicit, rbp)
    }

    /// Step 2: the first level (1 = the root) of the account's path where SCPs are attached and
    /// none allows, if any.
    fn scp_gap(&mut self, scps: &[LevelPolicies<'_>], action: &str, resource: &str, ctx: &Context) -> Option<usize> {
        for (i, level) in scps.iter().enumerate() {
            if !level.is_empty()
                && !level.iter().any(|(p, k)| self.any_match(p, *k, Effect::Allow, action, resource, ctx))
            {
                return Some(i + 1);
            }
        }
        None
    }

    /// Step 4: the pieces of the allow decision (`rbp` from step 1).
    fn allow_facts(
        &mut self,
        p: &InForce<'_>,
        caller: &Caller<'_>,
        rbp: Option<Level>,
        action: &str,
        resource: &str,
        ctx: &Context,
    ) -> Facts {
        let mut id = caller.kind == CallerKind::Root;
        for policy in &p.identity {
            id |= self.any_match(policy, StatementKind::Identity, Effect::Allow, action, resource, ctx);
        }
        let pb = match &p.boundary {
            None => true,
            Some(b) => self.any_match(b, StatementKind::Boundary, Effect::Allow, action, resource, ctx),
        };
        let session_allows =
            p.session.as_ref().map(|s| self.any_match(s, StatementKind::Session, Effect::Allow, action, resource, ctx));
        let sp = match caller.kind {
            CallerKind::FederatedUser => session_allows == Some(true),
            _ => session_allows.unwrap_or(true),
        };
        Facts {
            kind: caller.kind,
            cross_account: p.cross_account,
            requires_grant: p.requires_grant,
            trust_action: p.trust_action,
            rbp,
            id,
            pb,
            sp,
        }
    }

    /// Whether any statement of `effect` in `policy` matches; records matches for the explanation.
    fn any_match(
        &mut self,
        p: &PolicyRef<'_>,
        kind: StatementKind,
        effect: Effect,
        action: &str,
        resource: &str,
        ctx: &Context,
    ) -> bool {
        let mut any = false;
        for s in p.policy.statements.iter().filter(|s| s.effect == effect) {
            if self.statement_matches(s, action, resource, ctx) {
                self.record(kind, p.name, s);
                any = true;
            }
        }
        any
    }

    /// The resource-side statements that name the caller: whether a Deny applies, and the
    /// strongest level at which an Allow names it.
    fn resource_side(
        &mut self,
        rs: &ResourceSide<'_>,
        caller: &Caller<'_>,
        action: &str,
        resource: &str,
        ctx: &Context,
    ) -> (bool, Option<Level>) {
        let mut deny = false;
        let mut best = None;
        for s in &rs.policy.policy.statements {
            let Some(named) = caller.named_by(s, rs.kind == StatementKind::Resource) else { continue };
            if self.statement_matches(s, action, resource, ctx) {
                self.record(rs.kind, rs.policy.name, s);
                match named {
                    Named::Deny => deny = true,
                    Named::Allow(level) => best = best.max(Some(level)),
                }
            }
        }
        (deny, best)
    }

    fn record(&mut self, kind: StatementKind, policy: &str, s: &Statement) {
        if self.explain {
            self.out.matched.push(Matched {
                kind,
                policy: policy.to_owned(),
                sid: s.sid.clone(),
                effect: s.effect.as_str(),
            });
        }
    }

    /// Action, Resource and Condition of one statement against the request (the principal is
    /// checked by the caller of this function).
    fn statement_matches(&mut self, s: &Statement, action: &str, resource: &str, ctx: &Context) -> bool {
        if !action_matches(s, action) || !resource_matches(s, resource, ctx) {
            return false;
        }
        if self.explain {
            let condition_keys = s.conditions.iter().map(|c| (c.key_lc.as_str(), c.key.as_str()));
            let variable_keys = s
                .conditions
                .iter()
                .flat_map(|c| &c.values)
                .filter_map(|v| match v {
                    crate::policy::ast::CondValue::Text(t) => Some(t),
                    _ => None,
                })
                .chain(s.resource.iter().flat_map(|r| &r.patterns))
                .flat_map(|t| t.variables().map(|k| (k, k)));
            for (lc, shown) in condition_keys.chain(variable_keys).collect::<Vec<_>>() {
                if !ctx.contains(lc) && !self.out.missing_context_keys.iter().any(|k| k.eq_ignore_ascii_case(shown)) {
                    self.out.missing_context_keys.push(shown.to_owned());
                }
            }
        }
        conditions_hold(s, ctx)
    }
}

pub(crate) type LevelPolicies<'s> = Vec<(PolicyRef<'s>, StatementKind)>;

/// The SCPs attached at each level (root, OUs, account) of the caller's account, when SCPs apply.
pub(crate) fn scp_levels<'s>(store: &'s Store, caller: &Caller<'_>) -> Vec<LevelPolicies<'s>> {
    let Some(org) = &store.organization else { return Vec::new() };
    match caller.account {
        Some(account) if !caller.service_linked && account != org.management_account => {
            org_levels(store, org, account, &org.scps, StatementKind::Scp)
        }
        _ => Vec::new(),
    }
}

/// The RCPs at each level of the resource owner's account, when RCPs apply.
fn rcp_levels<'s>(
    store: &'s Store,
    caller: &Caller<'_>,
    resource_account: Option<&str>,
    action: &str,
    resource: &str,
) -> Vec<LevelPolicies<'s>> {
    let Some(org) = &store.organization else { return Vec::new() };
    let Some(account) = resource_account else { return Vec::new() };
    if !rcps_apply(action, resource, account, &org.management_account, caller.service_linked) {
        return Vec::new();
    }
    org_levels(store, org, account, &org.rcps, StatementKind::Rcp)
}

/// For each level of `account`'s path (root, each OU, the account itself), the policies attached
/// there. Empty when the account is not in the organization.
fn org_levels<'s>(
    store: &'s Store,
    org: &'s Organization,
    account: &str,
    policies: &'s [OrgPolicy],
    kind: StatementKind,
) -> Vec<LevelPolicies<'s>> {
    let Some((account, parents)) = org.accounts.get_key_value(account) else { return Vec::new() };
    parents
        .iter()
        .chain(std::iter::once(account))
        .map(|level| {
            policies
                .iter()
                .filter(|p| p.targets.contains(level))
                .filter_map(|p| PolicyRef::of(store, p.policy).map(|r| (r, kind)))
                .collect()
        })
        .collect()
}

/// The first resource policy (in store order) that covers `resource`.
fn first_covering(store: &Store, resource: &str) -> Option<usize> {
    store.resource_policies.iter().position(|rp| covers(&rp.arn, resource))
}

/// The request's context plus what the store and the clock know.
pub(crate) fn build_context(store: &Store, caller: &Caller<'_>, req: &Request, now: Option<Instant>) -> Context {
    let mut ctx = req.context.clone();
    caller.add_context(&mut ctx);
    let owner = resource_account(store, req, caller.account, &req.action_lc, || first_covering(store, &req.resource))
        .map(str::to_owned);
    // Time: the clock unless given; one given form fills the other.
    let given = ctx
        .get("aws:currenttime")
        .and_then(|v| v.first())
        .and_then(|v| Instant::parse(v.text()))
        .or_else(|| ctx.get("aws:epochtime").and_then(|v| v.first()).and_then(|v| Instant::parse(v.text())));
    let now = given.or(now).unwrap_or_else(Instant::now);
    ctx.insert_default("aws:CurrentTime", vec![Scalar::Str(now.to_iso())]);
    ctx.insert_default("aws:EpochTime", vec![Scalar::Num(now.secs.to_string())]);
    // AWS always sets aws:ViaAWSService; a request that does not say is a direct call.
    ctx.insert_default("aws:ViaAWSService", vec![Scalar::Bool(false)]);
    // Organization keys for the principal.
    if let Some(org) = &store.organization {
        let org_path = |account: &str| -> Option<(String, String)> {
            let id = org.id.as_ref()?;
            let parents = org.accounts.get(account)?;
            let mut path = format!("{id}/");
            for p in parents {
                path.push_str(p);
                path.push('/');
            }
            Some((id.clone(), path))
        };
        // When the store knows the organization's Id it is the authority on membership: a
        // request cannot claim it for an outsider.
        if org.id.is_some() {
            for key in ["aws:PrincipalOrgID", "aws:PrincipalOrgPaths", "aws:ResourceOrgID", "aws:ResourceOrgPaths"] {
                ctx.remove(key);
            }
        }
        if let Some((id, path)) = caller.account.and_then(org_path) {
            ctx.insert("aws:PrincipalOrgID", vec![Scalar::Str(id)]);
            ctx.insert("aws:PrincipalOrgPaths", vec![Scalar::Str(path)]);
        }
        if let Some((id, path)) = owner.as_deref().and_then(org_path) {
            ctx.insert("aws:ResourceOrgID", vec![Scalar::Str(id)]);
            ctx.insert("aws:ResourceOrgPaths", vec![Scalar::Str(path)]);
        }
    }
    // Tags of the resource, when the store knows them.
    let tags = store
        .resource_policies
        .iter()
        .find(|rp| rp.arn == req.resource)
        .map(|rp| rp.tags.as_slice())
        .or_else(|| store.role_by_arn.get(&req.resource).and_then(|&i| store.roles.get(i)).map(|r| r.tags.as_slice()))
        .or_else(|| store.user_by_arn.get(&req.resource).and_then(|&i| store.users.get(i)).map(|u| u.tags.as_slice()));
    for (k, v) in tags.unwrap_or_default() {
        ctx.insert(&format!("aws:ResourceTag/{k}"), vec![Scalar::Str(v.clone())]);
    }
    // The owner (which honours the request's `resourceAccount`) is the authority.
    if let Some(acct) = owner {
        ctx.insert("aws:ResourceAccount", vec![Scalar::Str(acct)]);
    }
    ctx
}

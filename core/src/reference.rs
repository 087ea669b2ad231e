//! The reference evaluator: plain, step-by-step IAM evaluation, the executable specification.
//!
//! This code follows iam-semantics.md §5.2 literally and favours being obviously right over being
//! fast: it walks every applicable statement of every applicable policy for each request. It stays
//! in the crate for good as the oracle that faster evaluators are checked against.
//!
//! The algorithm, for one action (AssumeRole with session tags or a source identity also needs
//! `sts:TagSession` / `sts:SetSourceIdentity`, each decided the same way and combined):
//! 1. any matching `Deny` in any applicable policy → `explicitDeny`;
//! 2. SCPs apply and some level of the caller's account path lacks a matching `Allow` → `implicitDeny`;
//! 3. RCPs can only deny (step 1);
//! 4. `rbp` = the strongest level at which a matching resource-policy `Allow` names the caller;
//!    `id` = an identity `Allow` (root: always); `pb` = no boundary or it allows; `sp` = session policy;
//! 5. cross-account: `rbp ≠ none ∧ id ∧ pb ∧ sp`;
//! 6. same account: resource-policy grants per §5.3, else `id ∧ pb ∧ sp`.

use crate::answer::{Answer, Decision, Explanation, Matched, StatementKind};
use crate::ast::{Effect, Statement};
use crate::cond::{evaluate, CondResult, Instant};
use crate::context::{Context, Scalar};
use crate::glob::{glob_match, tokens_of};
use crate::principal::{resolve, Caller, CallerKind, Level, PolicyRef};
use crate::request::Request;
use crate::store::{arn_account, OrgPolicy, Organization, Store};

/// Actions whose resource is a role and whose resource policy is the role's trust policy.
const TRUST_ACTIONS: [&str; 5] = [
    "sts:assumerole",
    "sts:assumerolewithwebidentity",
    "sts:assumerolewithsaml",
    "sts:tagsession",
    "sts:setsourceidentity",
];
const ASSUME_ACTIONS: [&str; 3] = ["sts:assumerole", "sts:assumerolewithwebidentity", "sts:assumerolewithsaml"];
/// Service prefixes whose resources RCPs govern (AWS's supported list; it grows).
const RCP_SERVICES: [&str; 10] =
    ["s3", "sts", "kms", "sqs", "secretsmanager", "ecr", "aoss", "cognito-idp", "logs", "dynamodb"];

/// Decides `request` against `store` by the book.
pub fn authorize(store: &Store, request: &Request) -> Answer {
    let mut ev = Evaluation { explain: request.explain, out: Explanation::default() };
    let decision = ev.decide(store, request);
    Answer { decision, snapshot: store.id.clone(), explanation: request.explain.then_some(ev.out) }
}

struct Evaluation {
    explain: bool,
    out: Explanation,
}

/// A resource-side policy in force for this request.
struct ResourceSide<'s> {
    kind: StatementKind,
    policy: PolicyRef<'s>,
}

impl Evaluation {
    fn note(&mut self, text: impl Into<String>) {
        if self.explain {
            self.out.notes.push(text.into());
        }
    }

    fn decide(&mut self, store: &Store, req: &Request) -> Decision {
        let caller = match resolve(store, req) {
            Ok(c) => c,
            Err(note) => {
                self.note(note);
                return Decision::ImplicitDeny;
            }
        };
        let ctx = build_context(store, &caller, req);
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

    fn decide_action(
        &mut self,
        store: &Store,
        req: &Request,
        caller: &Caller<'_>,
        ctx: &Context,
        action: &str,
    ) -> Decision {
        let resource = req.resource.as_str();
        let is_trust_action = TRUST_ACTIONS.contains(&action);
        if let Some(why) = credential_restriction(caller.kind, action) {
            self.note(why);
            return Decision::ImplicitDeny;
        }

        // Resource-side policies and the resource's owner.
        let mut resource_side: Vec<ResourceSide<'_>> = Vec::new();
        let mut requires_grant = false;
        let trust_role =
            if is_trust_action { store.role_by_arn.get(resource).and_then(|&i| store.roles.get(i)) } else { None };
        if is_trust_action && resource.contains(":role/") {
            requires_grant = true;
            match trust_role {
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
            if is_kms_key(resource) && !resource_side.is_empty() {
                requires_grant = true;
            }
        }
        if let Some(p) = &req.resource_policy {
            let kind = if is_trust_action { StatementKind::Trust } else { StatementKind::Resource };
            resource_side.push(ResourceSide { kind, policy: PolicyRef { name: "request#resourcePolicy", policy: p } });
        }
        let resource_account = resource_account(store, req, caller, action);

        let session = req.session_policy.as_ref().map(|p| PolicyRef { name: "request#sessionPolicy", policy: p });
        let scp_levels = scp_levels(store, caller);
        let rcp_levels = rcp_levels(store, caller, resource_account.as_deref(), action);

        // Step 1: explicit deny anywhere.
        let mut explicit = false;
        for p in &caller.identity {
            explicit |= self.any_match(p, StatementKind::Identity, Effect::Deny, action, resource, ctx);
        }
        if let Some(b) = &caller.boundary {
            explicit |= self.any_match(b, StatementKind::Boundary, Effect::Deny, action, resource, ctx);
        }
        if let Some(s) = &session {
            explicit |= self.any_match(s, StatementKind::Session, Effect::Deny, action, resource, ctx);
        }
        for rs in &resource_side {
            explicit |= self.resource_deny(rs, caller, action, resource, ctx);
        }
        for level in scp_levels.iter().flatten().chain(rcp_levels.iter().flatten()) {
            explicit |= self.any_match(&level.0, level.1, Effect::Deny, action, resource, ctx);
        }
        if explicit {
            self.note("explicitDeny: a Deny statement matches (see matched); an explicit deny always wins");
            return Decision::ExplicitDeny;
        }

        // Step 2: every SCP level must allow.
        for (i, level) in scp_levels.iter().enumerate() {
            if !level.is_empty()
                && !level.iter().any(|(p, k)| self.any_match(p, *k, Effect::Allow, action, resource, ctx))
            {
                self.note(format!("no SCP attached at level {} of the account's path allows the action", i + 1));
                return Decision::ImplicitDeny;
            }
        }

        // Step 4: the pieces of the allow decision.
        let mut rbp: Option<Level> = None;
        for rs in &resource_side {
            rbp = rbp.max(self.resource_allow(rs, caller, action, resource, ctx));
        }
        let mut id = caller.kind == CallerKind::Root;
        for p in &caller.identity {
            id |= self.any_match(p, StatementKind::Identity, Effect::Allow, action, resource, ctx);
        }
        let pb = match &caller.boundary {
            None => true,
            Some(b) => self.any_match(b, StatementKind::Boundary, Effect::Allow, action, resource, ctx),
        };
        let session_allows =
            session.as_ref().map(|s| self.any_match(s, StatementKind::Session, Effect::Allow, action, resource, ctx));
        let sp = match caller.kind {
            CallerKind::FederatedUser => session_allows == Some(true),
            _ => session_allows.unwrap_or(true),
        };
        if !pb {
            self.note("the permissions boundary does not allow the action");
        }
        if !sp {
            self.note("the session policy does not allow the action");
        }

        // Principals that only a resource policy can grant.
        if matches!(
            caller.kind,
            CallerKind::Anonymous | CallerKind::Service | CallerKind::WebIdentity | CallerKind::CanonicalUser
        ) {
            if rbp == Some(Level::Direct) {
                self.note("allowed: a resource policy names this principal");
                return Decision::Allowed;
            }
            self.note("this principal is allowed only by a resource policy that names it");
            return Decision::ImplicitDeny;
        }

        // Step 5: cross-account.
        let cross_account = match (&caller.account, &resource_account) {
            (Some(a), Some(b)) => a != b,
            _ => false,
        };
        if cross_account {
            if rbp.is_none() {
                self.note(
                    "cross-account access needs a resource policy in the resource's account that names the caller",
                );
            }
            if !id {
                self.note("cross-account access needs an identity-policy allow in the caller's account");
            }
            let allowed = rbp.is_some() && id && pb && sp;
            if allowed {
                self.note("allowed: cross-account, both the resource policy and the caller's identity policies allow");
            }
            return if allowed { Decision::Allowed } else { Decision::ImplicitDeny };
        }

        // Step 6: same account.
        if requires_grant && rbp.is_none() {
            self.note("this resource is accessible only through its resource (trust or key) policy, and it does not allow the caller");
            return Decision::ImplicitDeny;
        }
        if is_trust_action && requires_grant {
            // A caller named in a trust policy is still limited by its boundary (iam-semantics.md §6.1).
            let allowed = match rbp {
                Some(Level::Direct | Level::Parent) => pb && sp,
                Some(Level::Account) => {
                    if !id {
                        self.note("the trust policy names the account: the caller also needs an identity allow for the action on the role");
                    }
                    id && pb && sp
                }
                None => false,
            };
            if allowed {
                self.note("allowed: the trust policy allows the caller");
            }
            return if allowed { Decision::Allowed } else { Decision::ImplicitDeny };
        }
        let allowed = match rbp {
            Some(Level::Direct) => {
                self.note("allowed: a resource policy names the caller itself, which needs no identity allow");
                true
            }
            Some(Level::Parent) if pb && sp => {
                self.note("allowed: a resource policy names the caller's role (or federating user)");
                true
            }
            _ => {
                if id && pb && sp {
                    self.note("allowed: an identity-based policy allows and nothing denies");
                }
                id && pb && sp
            }
        };
        if !allowed && !id {
            self.note("no identity-based policy allows the action");
        }
        if allowed {
            Decision::Allowed
        } else {
            Decision::ImplicitDeny
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

    fn resource_deny(
        &mut self,
        rs: &ResourceSide<'_>,
        caller: &Caller<'_>,
        action: &str,
        resource: &str,
        ctx: &Context,
    ) -> bool {
        let mut any = false;
        for s in rs.policy.policy.statements.iter().filter(|s| s.effect == Effect::Deny) {
            let Some(block) = &s.principal else { continue };
            let applies = if block.not {
                // Documented quirk: a NotPrincipal Deny always applies to a user or role with a boundary.
                (caller.boundary.is_some() && rs.kind == StatementKind::Resource)
                    || !caller.escapes_not_principal(block)
            } else {
                caller.level_in(block).is_some()
            };
            if applies && self.statement_matches(s, action, resource, ctx) {
                self.record(rs.kind, rs.policy.name, s);
                any = true;
            }
        }
        any
    }

    fn resource_allow(
        &mut self,
        rs: &ResourceSide<'_>,
        caller: &Caller<'_>,
        action: &str,
        resource: &str,
        ctx: &Context,
    ) -> Option<Level> {
        let mut best = None;
        for s in rs.policy.policy.statements.iter().filter(|s| s.effect == Effect::Allow) {
            let Some(block) = &s.principal else { continue };
            if block.not {
                continue;
            }
            let Some(level) = caller.level_in(block) else { continue };
            if self.statement_matches(s, action, resource, ctx) {
                self.record(rs.kind, rs.policy.name, s);
                best = best.max(Some(level));
            }
        }
        best
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
        let action_hit = s.action.patterns.iter().any(|p| glob_match(&tokens_of(p), action));
        if action_hit == s.action.not {
            return false;
        }
        if let Some(block) = &s.resource {
            let mut hit = false;
            for p in &block.patterns {
                match p.resolve(|k| ctx.single_text(k)) {
                    Some(toks) => hit |= glob_match(&toks, resource),
                    // Unresolvable variable: the entry matches nothing; under NotResource the
                    // statement is dropped rather than widened.
                    None if block.not => return false,
                    None => {}
                }
            }
            if hit == block.not {
                return false;
            }
        }
        if self.explain {
            let condition_keys = s.conditions.iter().map(|c| (c.key_lc.as_str(), c.key.as_str()));
            let variable_keys = s
                .conditions
                .iter()
                .flat_map(|c| &c.values)
                .filter_map(|v| match v {
                    crate::ast::CondValue::Text(t) => Some(t),
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
        s.conditions.iter().all(|c| evaluate(c, ctx) == CondResult::True)
    }
}

/// Calls that the caller's kind of credentials can never make, whatever the policies say
/// (iam-semantics.md §5.5, §6.3): AWS refuses them before evaluating policies.
fn credential_restriction(kind: CallerKind, action: &str) -> Option<&'static str> {
    let long_term = matches!(kind, CallerKind::User | CallerKind::Root);
    match action {
        _ if kind == CallerKind::Root && TRUST_ACTIONS.contains(&action) => {
            Some("the root user cannot assume roles (AWS answers an error)")
        }
        "sts:getsessiontoken" if !long_term => {
            Some("only long-term credentials (IAM users, root) can call sts:GetSessionToken")
        }
        "sts:getfederationtoken" if !long_term => {
            Some("only long-term credentials (IAM users, root) can call sts:GetFederationToken")
        }
        _ if kind == CallerKind::FederatedUser && action.starts_with("iam:") => {
            Some("a federated user (GetFederationToken) cannot call IAM")
        }
        _ if kind == CallerKind::FederatedUser && action.starts_with("sts:") => {
            Some("a federated user (GetFederationToken) can call no STS action but GetCallerIdentity")
        }
        _ => None,
    }
}

/// The account that owns the resource: the request's `resourceAccount`, else the role of a trust
/// action or the owner of a covering resource policy, else the ARN's account, else the caller's.
fn resource_account(store: &Store, req: &Request, caller: &Caller<'_>, action: &str) -> Option<String> {
    let resource = req.resource.as_str();
    let from_store = if TRUST_ACTIONS.contains(&action) {
        store.role_by_arn.get(resource).and_then(|&i| store.roles.get(i)).map(|r| r.account.clone())
    } else {
        store.resource_policies.iter().find(|rp| covers(&rp.arn, resource)).and_then(|rp| rp.account.clone())
    };
    req.resource_account
        .clone()
        .or(from_store)
        .or_else(|| {
            arn_account(resource).filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())).map(str::to_owned)
        })
        .or_else(|| caller.account.clone())
}

fn combine(a: Decision, b: Decision) -> Decision {
    match (a, b) {
        (Decision::ExplicitDeny, _) | (_, Decision::ExplicitDeny) => Decision::ExplicitDeny,
        (Decision::Allowed, Decision::Allowed) => Decision::Allowed,
        _ => Decision::ImplicitDeny,
    }
}

/// A resource policy on `arn` covers `arn` itself and everything below `arn/`.
fn covers(arn: &str, resource: &str) -> bool {
    resource == arn || resource.strip_prefix(arn).is_some_and(|rest| rest.starts_with('/'))
}

fn is_kms_key(resource: &str) -> bool {
    let mut f = resource.splitn(6, ':');
    f.nth(2) == Some("kms") && f.nth(2).is_some_and(|r| r.starts_with("key/"))
}

type LevelPolicies<'s> = Vec<(PolicyRef<'s>, StatementKind)>;

/// The SCPs attached at each level (root, OUs, account) of the caller's account, when SCPs apply.
fn scp_levels<'s>(store: &'s Store, caller: &Caller<'_>) -> Vec<LevelPolicies<'s>> {
    let Some(org) = &store.organization else { return Vec::new() };
    match &caller.account {
        Some(account) if !caller.service_linked && *account != org.management_account => {
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
) -> Vec<LevelPolicies<'s>> {
    let Some(org) = &store.organization else { return Vec::new() };
    let Some(account) = resource_account else { return Vec::new() };
    let service = action.split(':').next().unwrap_or("");
    // AWS service principals are bound too: AWS's own confused-deputy RCP (EnforceConfusedDeputyProtection)
    // targets them through aws:PrincipalIsAWSService.
    if caller.service_linked || account == org.management_account || !RCP_SERVICES.contains(&service) {
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

/// The request's context plus what the store and the clock know.
pub(crate) fn build_context(store: &Store, caller: &Caller<'_>, req: &Request) -> Context {
    let mut ctx = req.context.clone();
    caller.add_context(&mut ctx);
    let owner = resource_account(store, req, caller, &req.action_lc);
    // Time: the clock unless given; one given form fills the other.
    let given = ctx
        .get("aws:currenttime")
        .and_then(|v| v.first())
        .and_then(|v| Instant::parse(&v.text()))
        .or_else(|| ctx.get("aws:epochtime").and_then(|v| v.first()).and_then(|v| Instant::parse(&v.text())));
    let now = given.unwrap_or_else(Instant::now);
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
        if let Some((id, path)) = caller.account.as_deref().and_then(org_path) {
            ctx.insert("aws:PrincipalOrgID", vec![Scalar::Str(id)]);
            ctx.insert("aws:PrincipalOrgPaths", vec![Scalar::Str(path)]);
        }
        if let Some((id, path)) = owner.as_deref().and_then(org_path) {
            ctx.insert_default("aws:ResourceOrgID", vec![Scalar::Str(id)]);
            ctx.insert_default("aws:ResourceOrgPaths", vec![Scalar::Str(path)]);
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
    if let Some(acct) = owner {
        ctx.insert_default("aws:ResourceAccount", vec![Scalar::Str(acct)]);
    }
    ctx
}

//! IAM rules that every evaluator applies the same way: which actions are trust actions, which
//! calls a kind of credentials can never make, who owns a resource, and how the pieces of an
//! allow (`docs/semantics.md#evaluation-algorithm` steps 5–6,
//! `#same-account-resource-policy-rule`, `#assuming-roles`) combine into a decision.
//!
//! The evaluators differ in how they find the statements that match (the reference walks every
//! statement, the compiled index looks candidates up); once they know the facts, this module
//! decides, so the two cannot drift apart on the rules themselves.

use crate::arn::{arn_account, is_account_id};
use crate::decide::answer::Decision;
use crate::decide::principal::{CallerKind, Level};
use crate::decide::request::Request;
use crate::policy::ast::Statement;
use crate::policy::cond::{evaluate, CondResult};
use crate::policy::context::Lookup;
use crate::policy::glob::glob_match;
use crate::store::Store;

/// Actions whose resource is a role and whose resource policy is the role's trust policy.
pub(crate) const TRUST_ACTIONS: [&str; 5] = [
    "sts:assumerole",
    "sts:assumerolewithwebidentity",
    "sts:assumerolewithsaml",
    "sts:tagsession",
    "sts:setsourceidentity",
];
/// Actions that create a role session (and so may pass session tags or a source identity).
pub(crate) const ASSUME_ACTIONS: [&str; 3] =
    ["sts:assumerole", "sts:assumerolewithwebidentity", "sts:assumerolewithsaml"];
/// Whether `action_lc` is an STS action (`sts:...`): the trust and session-creating actions
/// are, so a decision tests this prefix before comparing names.
#[inline]
pub(crate) fn is_sts(action_lc: &str) -> bool {
    action_lc.starts_with("sts:")
}

/// Whether `action_lc` is one of [`TRUST_ACTIONS`].
#[inline]
pub(crate) fn is_trust_action(action_lc: &str) -> bool {
    is_sts(action_lc) && TRUST_ACTIONS.contains(&action_lc)
}

/// Whether `action_lc` is one of [`ASSUME_ACTIONS`].
#[inline]
pub(crate) fn is_assume_action(action_lc: &str) -> bool {
    is_sts(action_lc) && ASSUME_ACTIONS.contains(&action_lc)
}

/// Service prefixes whose resources RCPs govern (AWS's supported list; it grows).
pub(crate) const RCP_SERVICES: [&str; 10] =
    ["s3", "sts", "kms", "sqs", "secretsmanager", "ecr", "aoss", "cognito-idp", "logs", "dynamodb"];

/// Calls that the caller's kind of credentials can never make, whatever the policies say
/// (`docs/semantics.md#special-principals`, `#credential-restrictions`): AWS refuses them before
/// evaluating policies.
pub(crate) fn credential_restriction(kind: CallerKind, req: &Request, action: &str) -> Option<&'static str> {
    // Every restriction below is on an STS or IAM action: most decisions stop at this test.
    if !is_sts(action) && !action.starts_with("iam:") {
        return None;
    }
    let long_term = matches!(kind, CallerKind::User | CallerKind::Root);
    let user_session = req.session.as_ref().filter(|s| s.user_session);
    match action {
        "sts:getsessiontoken" | "sts:getfederationtoken" if user_session.is_some() => {
            Some("GetSessionToken credentials cannot call sts:GetSessionToken or sts:GetFederationToken")
        }
        _ if user_session.is_some_and(|s| !s.mfa) && action.starts_with("iam:") => {
            Some("GetSessionToken credentials without MFA cannot call IAM")
        }
        _ if user_session.is_some()
            && is_sts(action)
            && !matches!(action, "sts:assumerole" | "sts:getcalleridentity") =>
        {
            Some("GetSessionToken credentials can call no STS action but AssumeRole and GetCallerIdentity")
        }
        _ if kind == CallerKind::Anonymous && is_sts(action) => {
            Some("an anonymous caller cannot call STS: it needs signed credentials")
        }
        _ if kind == CallerKind::Root && is_trust_action(action) => {
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
        _ if kind == CallerKind::FederatedUser && is_sts(action) => {
            Some("a federated user (GetFederationToken) can call no STS action but GetCallerIdentity")
        }
        _ => None,
    }
}

/// The account that owns the resource: the request's `resourceAccount`, else the role of a trust
/// action or the owner of the first (in store order) resource policy covering the resource, else
/// the ARN's account, else the caller's. `first_covering` finds that resource policy (its position
/// in `Store::resource_policies`): a scan for the reference, an ARN lookup for the index.
pub(crate) fn resource_account<'a>(
    store: &'a Store,
    req: &'a Request,
    caller_account: Option<&'a str>,
    action: &str,
    first_covering: impl FnOnce() -> Option<usize>,
) -> Option<&'a str> {
    let resource = req.resource.as_str();
    let from_store = if is_trust_action(action) {
        store.role_by_arn.get(resource).and_then(|&i| store.roles.get(i)).map(|r| r.account.as_str())
    } else {
        first_covering().and_then(|i| store.resource_policies.get(i)).and_then(|rp| rp.account.as_deref())
    };
    req.resource_account
        .as_deref()
        .or(from_store)
        .or_else(|| arn_account(resource).filter(|a| is_account_id(a)))
        .or(caller_account)
}

/// Whether RCPs govern `action` on `resource` in an organization whose management account is
/// `management` (`docs/semantics.md#evaluation-algorithm`): supported services, resources (not `*`)
/// outside the management account, callers other than service-linked roles. AWS service principals
/// are bound too (AWS's own `EnforceConfusedDeputyProtection` RCP targets them).
pub(crate) fn rcps_apply(action: &str, resource: &str, owner: &str, management: &str, service_linked: bool) -> bool {
    let service = action.split(':').next().unwrap_or("");
    resource != "*" && !service_linked && owner != management && RCP_SERVICES.contains(&service)
}

/// Whether a statement's Action/NotAction matches `action_lc` (whole-string glob).
pub(crate) fn action_matches(s: &Statement, action_lc: &str) -> bool {
    s.action.patterns.iter().any(|p| glob_match(p.tokens(), action_lc)) != s.action.not
}

/// Whether a statement's Resource/NotResource matches (true when it has none: trust policies).
/// An entry whose policy variable cannot be resolved matches nothing; under NotResource the
/// statement is dropped rather than widened.
pub(crate) fn resource_matches(s: &Statement, resource: &str, ctx: &impl Lookup) -> bool {
    let Some(block) = &s.resource else { return true };
    let mut hit = false;
    for p in &block.patterns {
        match p.resolve(|k| ctx.single_text(k)) {
            Some(toks) => hit |= glob_match(&toks, resource),
            None if block.not => return false,
            None => {}
        }
    }
    hit != block.not
}

/// Whether every condition of a statement holds.
pub(crate) fn conditions_hold(s: &Statement, ctx: &impl Lookup) -> bool {
    s.conditions.iter().all(|c| evaluate(c, ctx) == CondResult::True)
}

/// Combines the decisions of the actions one request needs (AssumeRole plus TagSession ...).
pub(crate) fn combine(a: Decision, b: Decision) -> Decision {
    match (a, b) {
        (Decision::ExplicitDeny, _) | (_, Decision::ExplicitDeny) => Decision::ExplicitDeny,
        (Decision::Allowed, Decision::Allowed) => Decision::Allowed,
        _ => Decision::ImplicitDeny,
    }
}

/// A resource policy on `arn` covers `arn` itself and everything below `arn/`.
pub(crate) fn covers(arn: &str, resource: &str) -> bool {
    resource == arn || resource.strip_prefix(arn).is_some_and(|rest| rest.starts_with('/'))
}

/// `arn:PARTITION:kms:REGION:ACCOUNT:key/...`.
pub(crate) fn is_kms_key(resource: &str) -> bool {
    let mut f = resource.splitn(6, ':');
    f.nth(2) == Some("kms") && f.nth(2).is_some_and(|r| r.starts_with("key/"))
}

/// What an evaluator found, once no explicit deny and no SCP gap stopped the request.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts {
    pub kind: CallerKind,
    /// The caller's account differs from the resource's.
    pub cross_account: bool,
    /// The resource is reachable only through its resource policy (trust policy, KMS key policy).
    pub requires_grant: bool,
    /// The action is one of [`TRUST_ACTIONS`].
    pub trust_action: bool,
    /// The strongest level at which a matching resource-policy `Allow` names the caller.
    pub rbp: Option<Level>,
    /// An identity-policy `Allow` matches (root: always).
    pub id: bool,
    /// No boundary, or the boundary allows.
    pub pb: bool,
    /// The session policies allow (or there are none where none are needed).
    pub sp: bool,
}

/// `docs/semantics.md#evaluation-algorithm` steps 5–6 with `#same-account-resource-policy-rule` and
/// `#assuming-roles`: the decision from the facts, with notes.
pub(crate) fn allow_decision(f: &Facts, note: &mut impl FnMut(&'static str)) -> Decision {
    let verdict = |allowed: bool| if allowed { Decision::Allowed } else { Decision::ImplicitDeny };
    if !f.pb {
        note("the permissions boundary does not allow the action");
    }
    if !f.sp {
        note("the session policy does not allow the action");
    }
    // Principals that only a resource policy can grant.
    if f.kind.resource_policy_only() {
        if f.rbp == Some(Level::Direct) {
            note("allowed: a resource policy names this principal");
            return Decision::Allowed;
        }
        note("this principal is allowed only by a resource policy that names it");
        return Decision::ImplicitDeny;
    }
    // Step 5: cross-account.
    if f.cross_account {
        if f.rbp.is_none() {
            note("cross-account access needs a resource policy in the resource's account that names the caller");
        }
        if !f.id {
            note("cross-account access needs an identity-policy allow in the caller's account");
        }
        let allowed = f.rbp.is_some() && f.id && f.pb && f.sp;
        if allowed {
            note("allowed: cross-account, both the resource policy and the caller's identity policies allow");
        }
        return verdict(allowed);
    }
    // Step 6: same account.
    if f.requires_grant && f.rbp.is_none() {
        note("this resource is accessible only through its resource (trust or key) policy, and it does not allow the caller");
        return Decision::ImplicitDeny;
    }
    if f.trust_action && f.requires_grant {
        // A caller named in a trust policy is still limited by its boundary
        // (`docs/semantics.md#assuming-roles`).
        let allowed = match f.rbp {
            Some(Level::Direct | Level::Parent) => f.pb && f.sp,
            Some(Level::Account) => {
                if !f.id {
                    note("the trust policy names the account: the caller also needs an identity allow for the action on the role");
                }
                f.id && f.pb && f.sp
            }
            None => false,
        };
        if allowed {
            note("allowed: the trust policy allows the caller");
        }
        return verdict(allowed);
    }
    let allowed = match f.rbp {
        Some(Level::Direct) => {
            note("allowed: a resource policy names the caller itself, which needs no identity allow");
            true
        }
        Some(Level::Parent) if f.pb && f.sp => {
            note("allowed: a resource policy names the caller's role (or federating user)");
            true
        }
        _ => {
            if f.id && f.pb && f.sp {
                note("allowed: an identity-based policy allows and nothing denies");
            }
            f.id && f.pb && f.sp
        }
    };
    if !allowed && !f.id {
        note("no identity-based policy allows the action");
    }
    verdict(allowed)
}

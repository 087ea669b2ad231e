//! `access PRINCIPAL`: the principal's effective permissions, as IAM's policy simulator and
//! access advisor show them, read from the policies themselves.
//!
//! Rows start from the principal's identity statements (its own and its groups' policies, or its
//! role's): each `Allow` gives, per action (wildcards and `NotAction` expanded against the
//! service catalogue, [`crate::catalog`]), its resource patterns and conditions, with policy
//! variables of the principal (`${aws:username}`) substituted. Then what the other policies in
//! force take away:
//! - an unconditional `Deny` (identity, boundary, SCP, RCP) removes the action, or adds its
//!   resources to the row's `notResources`; a conditional one is listed in `denied`, unapplied;
//! - the permissions boundary and each level of SCPs must allow too: a row keeps only the
//!   resources both sides allow (`core/src/analysis/patterns.rs`, never wider than either) and
//!   gains the gate's conditions; an action no gate statement allows is removed;
//! - calls this kind of caller can never make (a role's `sts:GetSessionToken`) are left out;
//! - roles (`sts:AssumeRole` and the other trust actions) are listed only where the role's trust
//!   policy lets the principal in, and KMS keys with a key policy only where it grants.
//!
//! Every row is a promise that `core/tests/analysis_access.rs` checks on generated stores: a
//! request inside it (its action, a resource its patterns match and no `notResources` does, its
//! conditions met, no conditional deny of `denied` met) is allowed by the compiled decision.
//! Grants that only a resource policy gives, and cross-account resources, are not rows.

use crate::analysis::patterns::{covers, intersect, prune, text, tokens};
use crate::analysis::{template_request, with_principal, AnalysisError, ConditionView};
use crate::decide::principal::{resolve, Caller, CallerKind, Named, PolicyRef};
use crate::decide::reference::{build_context, scp_levels};
use crate::decide::rules::{action_matches, credential_restriction, is_kms_key, is_trust_action};
use crate::decide::snapshot::Snapshot;
use crate::policy::ast::{Effect, Statement};
use crate::policy::context::{Context, Lookup};
use crate::StatementKind;
use rustc_hash::FxHashMap;
use serde::Serialize;
use smallvec::SmallVec;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// One permission: an action, the resources it is allowed on, and the conditions that gate it.
///
/// The lists are shared (an `Arc` clone) by every row of the actions that the policies treat
/// alike: a principal allowed `*` has a row per catalogue action, built without copying them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Permission {
    /// The action as AWS spells it (`s3:GetObject`).
    pub action: Cow<'static, str>,
    /// Resource patterns the action is allowed on.
    #[serde(serialize_with = "slice")]
    pub resources: Arc<[String]>,
    /// Resource patterns taken away (by unconditional Deny statements, or a `NotResource`).
    #[serde(rename = "notResources", skip_serializing_if = "is_empty", serialize_with = "slice")]
    pub not_resources: Arc<[String]>,
    /// Conditions that must all hold (from the granting statement, the boundary and the SCPs).
    #[serde(serialize_with = "slice")]
    pub conditions: Arc<[ConditionView]>,
}

/// A shared list, serialized as the JSON array of its items.
fn slice<T: Serialize, S: serde::Serializer>(list: &Arc<[T]>, s: S) -> Result<S::Ok, S::Error> {
    list.as_ref().serialize(s)
}

fn is_empty<T>(list: &Arc<[T]>) -> bool {
    list.is_empty()
}

/// Something the other policies take away from the identity policies' grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Taken {
    /// The kind of policy: `identity` (a Deny), `boundary`, `scp` or `rcp`.
    pub kind: StatementKind,
    /// The policy (a boundary or SCP that does not allow names its policies, joined by `, `).
    pub policy: String,
    /// The Deny statement's `Sid`, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The granted actions it applies to (borrowed from the catalogue when it knows them).
    pub actions: Vec<Cow<'static, str>>,
    /// The resources it takes away (`["*"]` when the gate does not allow the action at all).
    pub resources: Vec<String>,
    /// For a Deny with `NotResource`: the resources it spares.
    #[serde(rename = "notResources", skip_serializing_if = "Vec::is_empty")]
    pub not_resources: Vec<String>,
    /// The Deny's conditions: when empty, it is already subtracted from `permissions`; when
    /// not, the rows still show the action, and the Deny applies whenever these hold.
    pub conditions: Vec<ConditionView>,
}

/// The answer: `{"principal", "permissions": [...], "denied": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Access {
    /// The principal asked about.
    pub principal: String,
    /// What it may do: by action, in the catalogue's order, then the actions it does not know.
    pub permissions: Vec<Permission>,
    /// What Deny statements, the boundary, SCPs and RCPs take away.
    pub denied: Vec<Taken>,
}

/// A row while it is being built.
#[derive(Debug, Clone)]
struct Row {
    resources: Vec<String>,
    not_resources: Vec<String>,
    conditions: Vec<ConditionView>,
}

/// Catalogue actions as `(lowercase, AWS spelling)`, sorted.
fn catalogue_actions() -> &'static [(String, String)] {
    static ACTIONS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    ACTIONS.get_or_init(|| {
        let mut out: Vec<(String, String)> = crate::catalog::catalog()
            .services()
            .iter()
            .flat_map(|s| s.actions().iter().map(move |a| format!("{}:{}", s.prefix, a.name)))
            .map(|a| (a.to_ascii_lowercase(), a))
            .collect();
        out.sort();
        out.dedup_by(|a, b| a.0 == b.0);
        out
    })
}

/// The AWS spelling of a lowercase action (itself when the catalogue does not know it).
pub(crate) fn spelled(action_lc: &str) -> String {
    let all = catalogue_actions();
    match all.binary_search_by(|(lc, _)| lc.as_str().cmp(action_lc)) {
        Ok(i) => all.get(i).map_or_else(|| action_lc.to_owned(), |(_, s)| s.clone()),
        Err(_) => action_lc.to_owned(),
    }
}

/// The effective permissions of `principal` (a user, role or role-session ARN), optionally only
/// those of `service` (`s3`).
///
/// # Errors
/// [`AnalysisError::UnknownPrincipal`] when the store does not know the principal.
pub fn access(snapshot: &Snapshot, principal: &str, service: Option<&str>) -> Result<Access, AnalysisError> {
    let store = snapshot.store();
    let mut request = template_request("sts:GetCallerIdentity", "*", None)?;
    with_principal(&mut request, principal);
    let unknown = || AnalysisError::UnknownPrincipal(principal.to_owned());
    let caller = resolve(store, None, &request).map_err(|_| unknown())?;
    if !matches!(caller.kind, CallerKind::User | CallerKind::Role | CallerKind::RoleSession) {
        return Err(unknown());
    }
    let ctx = build_context(store, &caller, &request, None);
    let service = service.map(str::to_ascii_lowercase);
    let in_scope = |a: &str| service.as_deref().is_none_or(|s| a.split(':').next() == Some(s));

    // Every statement that counts: identity Allows, Denies of every policy in force, and the
    // Allows of each gate (the boundary, then each level of SCPs), which must allow too.
    let identity: Vec<PolicyRef<'_>> =
        caller.identity_policy_ids(store).filter_map(|id| PolicyRef::of(store, id)).collect();
    let boundary = caller.boundary_id().and_then(|id| PolicyRef::of(store, id));
    let levels = scp_levels(store, &caller);
    let rcps: Vec<PolicyRef<'_>> =
        store.organization.iter().flat_map(|o| &o.rcps).filter_map(|p| PolicyRef::of(store, p.policy)).collect();
    let allows: Vec<&Statement> =
        identity.iter().flat_map(|p| &p.policy.statements).filter(|s| s.effect == Effect::Allow).collect();
    let denies: Vec<(StatementKind, &str, &Statement)> = identity
        .iter()
        .map(|p| (StatementKind::Identity, p))
        .chain(boundary.iter().map(|p| (StatementKind::Boundary, p)))
        .chain(levels.iter().flatten().map(|(p, k)| (*k, p)))
        .chain(rcps.iter().map(|p| (StatementKind::Rcp, p)))
        .flat_map(|(k, p)| p.policy.statements.iter().filter(|s| s.effect == Effect::Deny).map(move |s| (k, p.name, s)))
        .collect();
    let mut gates: Vec<(StatementKind, Vec<PolicyRef<'_>>)> = Vec::new();
    if let Some(b) = boundary {
        gates.push((StatementKind::Boundary, vec![b]));
    }
    for level in levels.iter().filter(|l| !l.is_empty()) {
        gates.push((StatementKind::Scp, level.iter().map(|(p, _)| *p).collect()));
    }

    // Actions fall into classes that every statement treats alike (the same grants, denies and
    // gate statements match them): the rows are worked out once per class, on one of its
    // actions. Trust and KMS actions, whose resources are decided one by one, are classes of
    // their own.
    // The statements that grant each action: those that take a whole service (`s3:*`, `*`, a
    // `NotAction`) once per service, the others per catalogue action, then the actions the
    // catalogue does not know. Ids ascend: statements are read in order.
    let all = catalogue_actions();
    let ranges = service_ranges();
    let mut whole: Vec<SmallVec<[u32; 4]>> = vec![SmallVec::new(); ranges.len()];
    let mut known: Vec<SmallVec<[u32; 2]>> = vec![SmallVec::new(); all.len()];
    let mut other: BTreeMap<String, Vec<u32>> = BTreeMap::new();
    for (i, s) in allows.iter().enumerate() {
        let id = u32::try_from(i).unwrap_or(u32::MAX);
        expand(s, &in_scope, &mut |hit| match hit {
            Hit::Service(k) => push_once(whole.get_mut(k), id),
            Hit::Action(Act::Known(k)) => push_once(known.get_mut(k as usize), id),
            Hit::Action(Act::Other(lc)) => {
                let ids = other.entry(lc).or_default();
                if ids.last() != Some(&id) {
                    ids.push(id);
                }
            }
        });
    }
    let gate_statements: Vec<&Statement> =
        gates.iter().flat_map(|(_, ps)| ps.iter().flat_map(|p| &p.policy.statements)).collect();
    let checked: Vec<&Statement> = denies.iter().map(|(_, _, s)| *s).chain(gate_statements.iter().copied()).collect();
    let shapes: Vec<Shape> = checked.iter().map(|s| Shape::of(s, true)).collect();
    // How each statement of `checked` treats the service of the action at hand.
    let mut treats: Vec<Treat> = Vec::with_capacity(checked.len());
    // Signature → class; each class: its representative's lowercase action and its members.
    let mut class_of: FxHashMap<Vec<u32>, usize> = FxHashMap::default();
    let mut classes: Vec<(String, Vec<Act>)> = Vec::new();
    let mut rows: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    let mut signature: Vec<u32> = Vec::new();
    // The previous action's signature and class (neighbours mostly share their class).
    let mut last: (Vec<u32>, usize) = (Vec::new(), usize::MAX);
    // Each granting statement's row, worked out on first use.
    let mut row_of: Vec<Option<Option<Row>>> = vec![None; allows.len()];
    // Every action with its class, in order.
    let mut order: Vec<(Act, usize)> = Vec::new();
    let mut n = 0u32;
    // Visits one action with its granting statements; `same`: its class when known already.
    let mut visit = |act: Act, ids: &[u32], treats: &[Treat], same: Option<usize>| -> Option<usize> {
        n += 1;
        let action = act.lc();
        if credential_restriction(caller.kind, &request, action).is_some() {
            return None; // this kind of caller can never make the call (a role and GetSessionToken)
        }
        if let Some(class) = same {
            if let Some((_, members)) = classes.get_mut(class) {
                members.push(act.clone());
            }
            order.push((act, class));
            return Some(class);
        }
        signature.clear();
        signature.extend(ids);
        signature.push(u32::MAX);
        for (i, s) in checked.iter().enumerate() {
            if i == denies.len() {
                signature.push(u32::MAX);
            }
            let hit = match (&act, treats.get(i)) {
                (Act::Known(_), Some(Treat::None)) => false,
                (Act::Known(_), Some(Treat::All)) => true,
                _ => action_matches(s, action),
            };
            if hit {
                signature.push(u32::try_from(i).unwrap_or(u32::MAX));
            }
        }
        if is_trust_action(action) || action.starts_with("kms:") {
            signature.extend([u32::MAX, u32::MAX, n]);
        }
        let class = if last.1 != usize::MAX && last.0 == signature {
            last.1
        } else {
            let class = match class_of.get(&signature) {
                Some(&c) => c,
                None => {
                    class_of.insert(signature.clone(), classes.len());
                    classes.push((action.to_owned(), Vec::new()));
                    let built: Vec<Row> = ids
                        .iter()
                        .filter_map(|&i| {
                            let slot = row_of.get_mut(i as usize)?;
                            let s = allows.get(i as usize)?;
                            slot.get_or_insert_with(|| {
                                let (resources, not_resources) = resources_of(s, &ctx)?;
                                let conditions = s.conditions.iter().map(ConditionView::of).collect();
                                Some(Row { resources, not_resources, conditions })
                            })
                            .clone()
                        })
                        .collect();
                    if !built.is_empty() {
                        rows.insert(action.to_owned(), built);
                    }
                    classes.len() - 1
                }
            };
            last.0.clone_from(&signature);
            last.1 = class;
            class
        };
        if let Some((_, members)) = classes.get_mut(class) {
            members.push(act.clone());
        }
        order.push((act, class));
        Some(class)
    };
    let mut ids: Vec<u32> = Vec::new();
    for (k, &(service, lo, hi)) in ranges.iter().enumerate() {
        let service_wide = whole.get(k).map_or(&[][..], |v| v.as_slice());
        let mut treats_set = false;
        // When no statement of `checked` needs matching action by action here, and the service's
        // actions are not decided resource by resource (trust and KMS actions), the actions
        // that only service-wide statements grant share one signature: their class.
        let mut plain = false;
        let mut plain_class = None;
        for a in lo..hi {
            let own = known.get(a).map_or(&[][..], |v| v.as_slice());
            if own.is_empty() && service_wide.is_empty() {
                continue;
            }
            if !treats_set {
                treats.clear();
                treats.extend(shapes.iter().map(|sh| sh.treat(service)));
                treats_set = true;
                plain = !treats.contains(&Treat::Some) && service != "sts" && service != "kms";
            }
            if own.is_empty() && plain {
                let class = visit(Act::known(a), service_wide, &treats, plain_class);
                plain_class = plain_class.or(class);
                continue;
            }
            merge_ids(service_wide, own, &mut ids);
            visit(Act::known(a), &ids, &treats, None);
        }
    }
    for (lc, list) in other {
        visit(Act::Other(lc), &list, &[], None);
    }
    let members: FxHashMap<&str, &[Act]> = classes.iter().map(|(rep, m)| (rep.as_str(), m.as_slice())).collect();

    let mut denied = Vec::new();
    for (kind, name, s) in &denies {
        if let Some(t) = subtract(&mut rows, s, *kind, name, &ctx) {
            denied.push(t);
        }
    }
    for (kind, policies) in &gates {
        gate(&mut rows, policies, *kind, &ctx, &mut denied);
    }
    resource_side(snapshot, &caller, principal, &mut rows, &mut denied);

    // Each class's rows, for every action of the class.
    for t in &mut denied {
        t.actions = t
            .actions
            .iter()
            .flat_map(|rep| members.get(rep.as_ref()).copied().unwrap_or_default())
            .map(Act::spelling)
            .collect();
    }
    // Each class's rows once, shared by the rows of all its actions.
    let lists: Vec<Vec<Permission>> = classes
        .iter()
        .map(|(rep, _)| {
            let list = rows.remove(rep.as_str()).map(merge).unwrap_or_default();
            list.into_iter()
                .map(|r| Permission {
                    action: Cow::Borrowed(""),
                    resources: r.resources.into(),
                    not_resources: r.not_resources.into(),
                    conditions: r.conditions.into(),
                })
                .collect()
        })
        .collect();
    let list = |class: usize| lists.get(class).map_or(&[][..], Vec::as_slice);
    let count = order.iter().map(|(_, class)| list(*class).len()).sum();
    let mut permissions = Vec::with_capacity(count);
    for (act, class) in &order {
        let list = list(*class);
        if list.is_empty() {
            continue;
        }
        let shown = act.spelling();
        permissions.extend(list.iter().map(|r| Permission { action: shown.clone(), ..r.clone() }));
    }
    Ok(Access { principal: principal.to_owned(), permissions, denied })
}

/// Adds `id` to `ids` unless it is already the last (statements are read in order).
fn push_once<A: smallvec::Array<Item = u32>>(ids: Option<&mut SmallVec<A>>, id: u32) {
    if let Some(ids) = ids {
        if ids.last() != Some(&id) {
            ids.push(id);
        }
    }
}

/// The ascending union of two ascending lists, into `out`.
fn merge_ids(a: &[u32], b: &[u32], out: &mut Vec<u32>) {
    out.clear();
    let (mut i, mut j) = (0, 0);
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        out.push(x.min(y));
        i += usize::from(x <= y);
        j += usize::from(y <= x);
    }
    out.extend(a.get(i..).unwrap_or_default());
    out.extend(b.get(j..).unwrap_or_default());
}

/// An action: one of the catalogue ([`catalogue_actions`], by position), or one it does not
/// know (lowercase, as a policy names it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Act {
    Known(u32),
    Other(String),
}

impl Act {
    /// Lowercase.
    fn lc(&self) -> &str {
        match self {
            Act::Known(i) => catalogue_actions().get(*i as usize).map_or("", |(lc, _)| lc.as_str()),
            Act::Other(s) => s,
        }
    }

    /// As AWS spells it, borrowed from the catalogue when it knows the action.
    fn spelling(&self) -> Cow<'static, str> {
        match self {
            Act::Known(i) => catalogue_actions().get(*i as usize).map_or(Cow::Borrowed(""), |(_, s)| Cow::Borrowed(s)),
            Act::Other(s) => Cow::Owned(s.clone()),
        }
    }

    fn known(i: usize) -> Act {
        Act::Known(u32::try_from(i).unwrap_or(u32::MAX))
    }
}

/// The catalogue's services with their ranges of [`catalogue_actions`] (the actions of one
/// service are contiguous: they share the prefix `service:`), in catalogue order.
fn service_ranges() -> &'static [(&'static str, usize, usize)] {
    static RANGES: OnceLock<Vec<(&'static str, usize, usize)>> = OnceLock::new();
    RANGES.get_or_init(|| {
        let all = catalogue_actions();
        let service = |i: usize| all.get(i).and_then(|(lc, _)| lc.split(':').next()).unwrap_or_default();
        let mut out = Vec::new();
        let mut lo = 0;
        for i in 1..=all.len() {
            if i == all.len() || service(i) != service(lo) {
                out.push((service(lo), lo, i));
                lo = i;
            }
        }
        out
    })
}

/// The position of one service in [`service_ranges`].
fn service_index(service: &str) -> Option<usize> {
    static BY_NAME: OnceLock<FxHashMap<&'static str, usize>> = OnceLock::new();
    let map = BY_NAME.get_or_init(|| service_ranges().iter().enumerate().map(|(k, &(s, _, _))| (s, k)).collect());
    map.get(service).copied()
}

/// How a statement's `Action` / `NotAction` treats the catalogue actions of one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Treat {
    /// It matches none of them.
    None,
    /// It may match some: each is matched ([`action_matches`]).
    Some,
    /// It matches every one.
    All,
}

/// A statement's `Action` / `NotAction` read per service, so that most (statement, service)
/// pairs are settled without matching each action: a pattern `svc:*` or `*` takes a whole
/// service, a pattern of another literal service none of it.
struct Shape {
    not: bool,
    /// For the services its patterns do not name.
    other: Treat,
    /// The services its patterns name, and how (before `NotAction` negates it).
    named: Vec<(String, Treat)>,
}

impl Shape {
    /// The shape of `s`; without `literals`, the patterns without wildcards of an `Action` are
    /// left out (the caller finds them in the catalogue itself).
    fn of(s: &Statement, literals: bool) -> Shape {
        let mut other = Treat::None;
        let mut named: Vec<(String, Treat)> = Vec::new();
        let wild = |t: &str| t.contains(['*', '?']);
        for p in &s.action.patterns {
            let raw = p.raw.as_str(); // lowercase (`core/src/policy/parse.rs`)
            if !literals && !s.action.not && !wild(raw) {
                continue;
            }
            match raw.split_once(':') {
                _ if raw == "*" => other = Treat::All,
                None if wild(raw) => other = other.max(Treat::Some),
                None => {} // no catalogue action lacks a `:`
                Some((svc, _)) if wild(svc) => other = other.max(Treat::Some),
                Some((svc, rest)) => {
                    let t = if rest == "*" { Treat::All } else { Treat::Some };
                    match named.iter_mut().find(|(n, _)| n == svc) {
                        Some((_, old)) => *old = (*old).max(t),
                        None => named.push((svc.to_owned(), t)),
                    }
                }
            }
        }
        Shape { not: s.action.not, other, named }
    }

    /// How the statement treats the actions of `service`.
    fn treat(&self, service: &str) -> Treat {
        let named = self.named.iter().find(|(n, _)| n == service).map(|(_, t)| *t);
        let t = named.map_or(self.other, |t| t.max(self.other));
        match (self.not, t) {
            (true, Treat::None) => Treat::All,
            (true, Treat::All) => Treat::None,
            (_, t) => t,
        }
    }
}

/// What a statement's `Action` / `NotAction` covers: one action, or every action of a service.
enum Hit {
    Action(Act),
    /// The service at this position of [`service_ranges`].
    Service(usize),
}

/// The actions a statement's `Action` / `NotAction` covers, within scope, each given to `out`
/// (an action may come more than once; a whole service as one [`Hit::Service`]).
fn expand(s: &Statement, in_scope: &impl Fn(&str) -> bool, out: &mut impl FnMut(Hit)) {
    let all = catalogue_actions();
    if !s.action.not {
        for p in &s.action.patterns {
            let Some(lc) = p.as_literal() else { continue };
            if in_scope(&lc) {
                out(Hit::Action(match all.binary_search_by(|(x, _)| x.as_str().cmp(&lc)) {
                    Ok(i) => Act::known(i),
                    Err(_) => Act::Other(lc),
                }));
            }
        }
    }
    let shape = Shape::of(s, false);
    let mut range = |k: usize, service: &str, lo: usize, hi: usize| {
        if !all.get(lo).is_some_and(|(first, _)| in_scope(first)) {
            return;
        }
        match shape.treat(service) {
            Treat::None => {}
            Treat::All => out(Hit::Service(k)),
            Treat::Some => {
                for i in lo..hi {
                    if all.get(i).is_some_and(|(lc, _)| action_matches(s, lc)) {
                        out(Hit::Action(Act::known(i)));
                    }
                }
            }
        }
    };
    if !shape.not && shape.other == Treat::None {
        // Only the services it names (most statements).
        for (service, _) in &shape.named {
            if let Some(k) = service_index(service) {
                if let Some(&(service, lo, hi)) = service_ranges().get(k) {
                    range(k, service, lo, hi);
                }
            }
        }
    } else {
        for (k, &(service, lo, hi)) in service_ranges().iter().enumerate() {
            range(k, service, lo, hi);
        }
    }
}

/// A statement's resource patterns with the principal's policy variables substituted:
/// `(resources, notResources)`; `None` when nothing is left (every entry names a variable the
/// principal lacks; under `NotResource` such a statement is dropped, as the evaluator does).
fn resources_of(s: &Statement, ctx: &Context) -> Option<(Vec<String>, Vec<String>)> {
    let Some(block) = &s.resource else { return Some((vec!["*".into()], Vec::new())) };
    let mut out = Vec::new();
    for p in &block.patterns {
        match p.resolve(|k| ctx.single_text(k)) {
            Some(toks) => out.push(text(&toks)),
            None if block.not => return None,
            None => {}
        }
    }
    if block.not {
        Some((vec!["*".into()], out))
    } else if out.is_empty() {
        None
    } else {
        Some((out, Vec::new()))
    }
}

/// Applies one Deny statement to the rows: unconditional, it is subtracted; conditional, it is
/// only reported. `None` when it touches no granted action.
fn subtract(
    rows: &mut BTreeMap<String, Vec<Row>>,
    s: &Statement,
    kind: StatementKind,
    policy: &str,
    ctx: &Context,
) -> Option<Taken> {
    let (resources, not_resources) = resources_of(s, ctx)?;
    let conditions: Vec<ConditionView> = s.conditions.iter().map(ConditionView::of).collect();
    let actions: Vec<String> = rows.keys().filter(|a| action_matches(s, a)).cloned().collect();
    if actions.is_empty() {
        return None;
    }
    if conditions.is_empty() {
        let all = resources.iter().any(|r| r == "*") && not_resources.is_empty();
        let denied_toks: Vec<_> = resources.iter().map(|r| tokens(r)).collect();
        // Rows of many actions share their resources: each distinct list is narrowed once.
        let mut left: FxHashMap<Vec<String>, Vec<String>> = FxHashMap::default();
        for a in &actions {
            let Some(list) = rows.get_mut(a) else { continue };
            if all {
                list.clear();
            } else if !not_resources.is_empty() {
                // Deny everything but `not_resources`: what is left is inside them.
                for row in list.iter_mut() {
                    row.resources = intersect(&row.resources, &not_resources);
                }
            } else {
                for row in list.iter_mut() {
                    let kept = match left.get(&row.resources) {
                        Some(k) => k.clone(),
                        None => {
                            let k: Vec<String> = row
                                .resources
                                .iter()
                                .filter(|r| !denied_toks.iter().any(|d| covers(d, &tokens(r))))
                                .cloned()
                                .collect();
                            left.insert(row.resources.clone(), k.clone());
                            k
                        }
                    };
                    row.resources = kept;
                    add_all(&mut row.not_resources, &resources);
                }
            }
            list.retain(|row| !row.resources.is_empty());
            if list.is_empty() {
                rows.remove(a);
            }
        }
    }
    let actions = actions.into_iter().map(Cow::Owned).collect();
    Some(Taken { kind, policy: policy.to_owned(), sid: s.sid.clone(), actions, resources, not_resources, conditions })
}

/// Narrows every row to what `policies` (a boundary, or one level of SCPs) also allow.
fn gate(
    rows: &mut BTreeMap<String, Vec<Row>>,
    policies: &[PolicyRef<'_>],
    kind: StatementKind,
    ctx: &Context,
    denied: &mut Vec<Taken>,
) {
    let allows: Vec<(&Statement, Vec<String>, Vec<String>)> = policies
        .iter()
        .flat_map(|p| &p.policy.statements)
        .filter(|s| s.effect == Effect::Allow)
        .filter_map(|s| resources_of(s, ctx).map(|(r, n)| (s, r, n)))
        .collect();
    let mut removed = Vec::new();
    // Rows of many actions share their resources: each distinct (statement, list) is narrowed once.
    let mut narrowed: FxHashMap<(usize, Vec<String>), Vec<String>> = FxHashMap::default();
    for (action, list) in rows.iter_mut() {
        let mut next = Vec::new();
        for (k, (g, g_res, g_not)) in allows.iter().enumerate().filter(|(_, (g, _, _))| action_matches(g, action)) {
            for row in list.iter() {
                let key = (k, row.resources.clone());
                let resources = match narrowed.get(&key) {
                    Some(r) => r.clone(),
                    None => {
                        let r = intersect(&row.resources, g_res);
                        narrowed.insert(key, r.clone());
                        r
                    }
                };
                if resources.is_empty() {
                    continue;
                }
                let mut not_resources = row.not_resources.clone();
                not_resources.extend(g_not.iter().filter(|n| !row.not_resources.contains(n)).cloned());
                let mut conditions = row.conditions.clone();
                conditions.extend(g.conditions.iter().map(ConditionView::of).filter(|c| !row.conditions.contains(c)));
                next.push(Row { resources, not_resources, conditions });
            }
        }
        if next.is_empty() {
            removed.push(action.clone());
        }
        *list = next;
    }
    rows.retain(|_, list| !list.is_empty());
    if !removed.is_empty() {
        denied.push(Taken {
            kind,
            policy: policies.iter().map(|p| p.name).collect::<Vec<_>>().join(", "),
            sid: None,
            actions: removed.into_iter().map(Cow::Owned).collect(),
            resources: vec!["*".into()],
            not_resources: Vec::new(),
            conditions: Vec::new(),
        });
    }
}

/// Resources whose own policy decides: a role for the trust actions (listed only where the
/// decision allows), a KMS key with a key policy (taken out unless the decision allows), a
/// resource whose resource policy denies the principal (taken out, or listed when the Deny is
/// conditional), and resources of another account (taken out: they need that account's resource
/// policy), including those another account's resource policy makes its own.
fn resource_side(
    snapshot: &Snapshot,
    caller: &Caller<'_>,
    principal: &str,
    rows: &mut BTreeMap<String, Vec<Row>>,
    denied: &mut Vec<Taken>,
) {
    let store = snapshot.store();
    let decide = |action: &str, resource: &str| {
        crate::decide::request::Request::new(principal, action, resource)
            .map(|r| snapshot.decide(&r).is_allowed())
            .unwrap_or(false)
    };
    let account = caller.account.unwrap_or_default();
    // (resource policy ARN, its Deny statements that name the caller).
    let mut foreign: Vec<&str> = Vec::new();
    for rp in &store.resource_policies {
        if rp.account.as_deref().is_some_and(|a| a != account) {
            foreign.push(&rp.arn);
        }
        let Some(p) = store.policy(rp.policy) else { continue };
        for s in p.policy.statements.iter().filter(|s| s.effect == Effect::Deny) {
            if caller.named_by(s, true) != Some(Named::Deny) {
                continue;
            }
            let covered = vec![rp.arn.clone(), format!("{}/*", rp.arn)];
            let reaches = |list: &Vec<Row>| list.iter().any(|r| r.resources.iter().any(|x| may_reach(x, &rp.arn)));
            let actions: Vec<String> =
                rows.iter().filter(|(a, list)| action_matches(s, a) && reaches(list)).map(|(a, _)| a.clone()).collect();
            if actions.is_empty() {
                continue;
            }
            if s.conditions.is_empty() {
                for a in &actions {
                    for row in rows.get_mut(a).into_iter().flatten() {
                        add_all(&mut row.not_resources, &covered);
                    }
                }
            }
            denied.push(Taken {
                kind: StatementKind::Resource,
                policy: rp.arn.clone(),
                sid: s.sid.clone(),
                actions: actions.into_iter().map(Cow::Owned).collect(),
                resources: covered,
                not_resources: Vec::new(),
                conditions: s.conditions.iter().map(ConditionView::of).collect(),
            });
        }
    }
    let keys: Vec<&str> = store.resource_policies.iter().map(|rp| rp.arn.as_str()).filter(|a| is_kms_key(a)).collect();
    for (action, list) in rows.iter_mut() {
        let trust = is_trust_action(action);
        for row in list.iter_mut() {
            if trust {
                let pats: Vec<_> = row.resources.iter().map(|r| tokens(r)).collect();
                let nots: Vec<_> = row.not_resources.iter().map(|r| tokens(r)).collect();
                row.resources = store
                    .roles
                    .iter()
                    .map(|r| r.arn.as_str())
                    .filter(|arn| {
                        let t = tokens(arn);
                        pats.iter().any(|p| covers(p, &t))
                            && !nots.iter().any(|n| covers(n, &t))
                            && row.conditions.is_empty()
                            && decide(action, arn)
                    })
                    .map(str::to_owned)
                    .collect();
                row.not_resources.clear();
                continue;
            }
            if action.starts_with("kms:") {
                for key in &keys {
                    if !row.not_resources.iter().any(|n| n == key) && !decide(action, key) {
                        row.not_resources.push((*key).to_owned());
                    }
                }
            }
            for arn in &foreign {
                if row.resources.iter().any(|r| may_reach(r, arn)) {
                    add_all(&mut row.not_resources, &[(*arn).to_owned(), format!("{arn}/*")]);
                }
            }
            row.resources.retain(|r| match crate::arn::arn_fields(r) {
                Some([_, _, _, _, acct, _]) if !acct.is_empty() && !acct.contains(['*', '?']) => acct == account,
                _ => true,
            });
        }
        list.retain(|r| !r.resources.is_empty());
    }
    rows.retain(|_, list| !list.is_empty());
}

/// Whether pattern `pattern` might match `arn` or something below `arn/`: its literal prefix
/// and `arn` agree as far as both go.
fn may_reach(pattern: &str, arn: &str) -> bool {
    let lit = pattern.split(['*', '?']).next().unwrap_or_default();
    lit.starts_with(arn) || arn.starts_with(lit)
}

fn add_all(list: &mut Vec<String>, items: &[String]) {
    for i in items {
        if !list.contains(i) {
            list.push(i.clone());
        }
    }
}

/// Rows of one action with the same `notResources` and conditions become one, their resources
/// united (a pattern another covers is dropped).
fn merge(rows: Vec<Row>) -> Vec<Row> {
    let mut out: Vec<Row> = Vec::new();
    for mut row in rows {
        row.conditions.sort();
        row.not_resources.sort();
        match out.iter_mut().find(|o| o.conditions == row.conditions && o.not_resources == row.not_resources) {
            Some(o) => o.resources.extend(row.resources),
            None => out.push(row),
        }
    }
    for o in &mut out {
        o.resources = prune(std::mem::take(&mut o.resources));
    }
    out
}

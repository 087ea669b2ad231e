//! A sound pre-filter for the analyses that ask one question of many principals (`who-can`):
//! which principals could be allowed `action` on `resource` at all, read from their identity
//! policies without deciding, so that only those are decided by the compiled index.
//!
//! A same-account user or role is allowed only when an identity `Allow` matches the request, or
//! a resource-side policy (the resource's policy, a role's trust policy) grants it
//! (`docs/semantics.md#evaluation-algorithm`, `core/src/decide/rules.rs` `allow_decision`).
//! [`Prefilter::new`] gives up (`None`: decide everyone) whenever a resource-side policy is in
//! play or the action is one that no policy controls; otherwise a principal none of whose
//! identity `Allow` statements matches the action and might match the resource (conditions are
//! ignored, a variable or `NotResource` might match anything under its literal head) cannot be
//! allowed. The filter only skips principals the decision would refuse: every kept one is still
//! decided exactly.

use crate::decide::request::Request;
use crate::decide::rules::{covers, TRUST_ACTIONS};
use crate::id::PolicyId;
use crate::policy::ast::{Effect, Statement};
use crate::policy::glob::{glob_match, TemplateData};
use crate::store::Store;
use rustc_hash::FxHashMap;

/// The actions that no policy controls for users and roles (`core/src/decide/reference.rs`).
const UNCONTROLLED: [&str; 2] = ["sts:getcalleridentity", "sts:getsessiontoken"];

/// Per-question memo of which policies could grant the request.
pub(crate) struct Prefilter<'s> {
    store: &'s Store,
    action_lc: &'s str,
    resource: &'s str,
    /// Per policy (by [`PolicyId`]): `0` not yet read, `1` cannot grant, `2` might.
    policies: Vec<u8>,
    /// Per action pattern (templates are shared by every statement that names the same text):
    /// whether it matches the action.
    patterns: FxHashMap<*const TemplateData, bool>,
}

impl<'s> Prefilter<'s> {
    /// The filter for `request`, or `None` when only deciding every principal is sound (a
    /// resource-side policy may grant, or the action is not controlled by policies).
    pub(crate) fn new(store: &'s Store, request: &'s Request) -> Option<Prefilter<'s>> {
        let action_lc = request.action_lc.as_str();
        let resource = request.resource.as_str();
        if UNCONTROLLED.contains(&action_lc) || request.resource_policy.is_some() {
            return None;
        }
        if TRUST_ACTIONS.contains(&action_lc) && resource.contains(":role/") {
            return None; // the role's trust policy may grant
        }
        if store.resource_policies.iter().any(|rp| covers(&rp.arn, resource)) {
            return None;
        }
        Some(Prefilter {
            store,
            action_lc,
            resource,
            policies: vec![0; store.policies.len()],
            patterns: FxHashMap::default(),
        })
    }

    /// Whether the user or role at `index` (users first, then roles, as
    /// [`crate::analysis::principal_arns`] lists them) might be allowed.
    pub(crate) fn may_allow(&mut self, index: usize) -> bool {
        let store = self.store;
        match store.users.get(index) {
            Some(u) => u.policy_ids(store).any(|id| self.policy(id)),
            None => store
                .roles
                .get(index - store.users.len())
                .is_none_or(|r| r.policy_ids().any(|id| self.policy(id))),
        }
    }

    /// Whether policy `id` has an `Allow` statement that might match.
    fn policy(&mut self, id: PolicyId) -> bool {
        match self.policies.get(id.index()) {
            Some(1) => false,
            Some(2) => true,
            _ => {
                let store = self.store;
                let statements = store.policy(id).map(|p| p.policy.statements.as_slice()).unwrap_or_default();
                let might = statements.iter().any(|s| s.effect == Effect::Allow && self.statement(s));
                if let Some(slot) = self.policies.get_mut(id.index()) {
                    *slot = if might { 2 } else { 1 };
                }
                might
            }
        }
    }

    /// Whether an `Allow` statement's action matches and its resource might, conditions aside.
    fn statement(&mut self, s: &Statement) -> bool {
        let mut action = false;
        for p in &s.action.patterns {
            let hit = *self
                .patterns
                .entry(std::ptr::from_ref::<TemplateData>(p))
                .or_insert_with(|| glob_match(p.tokens(), self.action_lc));
            if hit {
                action = true;
                break;
            }
        }
        action != s.action.not && resource_might_match(s, self.resource)
    }
}

/// Whether a statement's `Resource` might match `resource` whatever its policy variables resolve
/// to: a pattern with a variable might when `resource` begins with its text before the first
/// variable; a `NotResource` might always.
pub(crate) fn resource_might_match(s: &Statement, resource: &str) -> bool {
    let Some(block) = &s.resource else { return true };
    if block.not {
        return true;
    }
    block.patterns.iter().any(|p| {
        if p.has_variables() {
            let head = p.raw.split(['*', '?', '$']).next().unwrap_or_default();
            resource.starts_with(head)
        } else {
            glob_match(p.tokens(), resource)
        }
    })
}

//! Store → decision index: what [`crate::Snapshot`] answers from.
//!
//! The reference evaluator walks every statement of every policy for each request. The index
//! does that work once, at load time:
//! - each principal's identity policies (inline, managed, every group's) are flattened into one
//!   [`StatementSet`], shared by every principal with the same list of policies;
//! - each set indexes its statements by action: the service prefix (`s3`) selects a bucket where
//!   literal action names sit in a hash map, `Get*`-style prefixes in a list checked with
//!   `starts_with`, and other wildcards as pre-tokenized patterns; patterns with a wildcard in the
//!   service part, and `NotAction` statements, are kept apart and checked on every request;
//! - resource patterns are classified once (`*`, literal ARN, pure prefix, glob, template with
//!   policy variables) so most checks are a comparison or a `starts_with`;
//! - boundaries, trust policies, resource policies, SCPs and RCPs get a set each; resource
//!   policies are found by ARN (and by each `/`-prefix of the request's resource), SCP and RCP
//!   levels are resolved per account.
//!
//! Invariant: for every statement and every request, "the statement's Action matches" as the
//! index answers it equals the reference evaluator's whole-string glob (see [`StatementSet::candidates`]);
//! the differential tests check the whole decision against [`crate::reference`].

use crate::ast::{Effect, Statement};
use crate::glob::{glob_match, Template, Tok};
use crate::id::PolicyId;
use crate::store::Store;
use smallvec::SmallVec;
use std::collections::HashMap;

/// Index of a [`StatementSet`] in [`Index::sets`].
pub(crate) type SetId = u32;

/// Candidate statement positions for one request; large enough that typical principals never
/// spill to the heap.
pub(crate) type Candidates = SmallVec<[u32; 32]>;

/// A compiled statement: where it lives in the store, its effect and its resource patterns.
#[derive(Debug)]
pub(crate) struct CStatement {
    pub policy: PolicyId,
    pub statement: u32,
    pub effect: Effect,
    pub resource: CResource,
    pub has_conditions: bool,
}

/// A statement's `Resource`/`NotResource`, classified for fast matching.
#[derive(Debug)]
pub(crate) enum CResource {
    /// No Resource element (trust policies): applies to the request's resource.
    Implicit,
    Block {
        not: bool,
        patterns: Vec<CPattern>,
    },
}

#[derive(Debug)]
pub(crate) enum CPattern {
    /// `*`: everything.
    Any,
    Exact(Box<str>),
    /// `literal*`.
    Prefix(Box<str>),
    Glob(Vec<Tok>),
    /// Has policy variables: resolved per request through the AST pattern at this position.
    Template(u32),
}

/// The statements that match one service prefix.
#[derive(Debug, Default)]
struct Bucket {
    exact: HashMap<Box<str>, SmallVec<[u32; 2]>>,
    prefix: Vec<(Box<str>, u32)>,
    glob: Vec<(Vec<Tok>, u32)>,
}

/// A group of statements with an action index.
#[derive(Debug, Default)]
pub(crate) struct StatementSet {
    pub stmts: Vec<CStatement>,
    by_service: HashMap<Box<str>, Bucket>,
    /// Action patterns with a wildcard in the service part (`*`, `*:Get*`): checked whole.
    global: Vec<(Vec<Tok>, u32)>,
    /// `NotAction` statements: they match every action none of their patterns matches.
    not_action: Vec<u32>,
}

impl StatementSet {
    fn push(&mut self, policy: PolicyId, statement: u32, s: &Statement) {
        let pos = u32::try_from(self.stmts.len()).unwrap_or(u32::MAX);
        if s.action.not {
            self.not_action.push(pos);
        } else {
            for p in &s.action.patterns {
                self.index_action(p, pos);
            }
        }
        let resource = match &s.resource {
            None => CResource::Implicit,
            Some(block) => CResource::Block {
                not: block.not,
                patterns: block
                    .patterns
                    .iter()
                    .enumerate()
                    .map(|(i, t)| classify_resource(t, u32::try_from(i).unwrap_or(u32::MAX)))
                    .collect(),
            },
        };
        self.stmts.push(CStatement {
            policy,
            statement,
            effect: s.effect,
            resource,
            has_conditions: !s.conditions.is_empty(),
        });
    }

    fn index_action(&mut self, pattern: &Template, pos: u32) {
        // Action patterns are lowercased and hold no variables: plain tokens.
        let toks = pattern.tokens();
        let colon = toks.iter().position(|t| *t == Tok::Lit(':'));
        let service_literal = colon.and_then(|c| literal(&toks[..c]));
        let (Some(c), Some(service)) = (colon, service_literal) else {
            self.global.push((toks.to_vec(), pos));
            return;
        };
        let name = &toks[c + 1..];
        let bucket = self.by_service.entry(service.into_boxed_str()).or_default();
        if let Some(lit) = literal(name) {
            bucket.exact.entry(lit.into_boxed_str()).or_default().push(pos);
        } else if let Some(head) = name.strip_suffix(&[Tok::Star]).and_then(literal) {
            bucket.prefix.push((head.into_boxed_str(), pos));
        } else {
            bucket.glob.push((name.to_vec(), pos));
        }
    }

    /// Positions of the statements whose Action/NotAction matches `action_lc` (lowercased
    /// `service:Name`), sorted and without duplicates.
    ///
    /// Equivalence with the reference's whole-string glob: a pattern `S:N` whose service part `S`
    /// is literal matches `s:n` (split at the first colon) iff `S == s` and `N` globs `n`, because
    /// `S` holds no colon, so the first colon of the action must align with the pattern's.
    pub(crate) fn candidates(&self, store: &Store, action_lc: &str, out: &mut Candidates) {
        out.clear();
        if let Some((service, name)) = action_lc.split_once(':') {
            if let Some(b) = self.by_service.get(service) {
                if let Some(hits) = b.exact.get(name) {
                    out.extend_from_slice(hits);
                }
                out.extend(b.prefix.iter().filter(|(p, _)| name.starts_with(&**p)).map(|(_, i)| *i));
                out.extend(b.glob.iter().filter(|(t, _)| glob_match(t, name)).map(|(_, i)| *i));
            }
        }
        out.extend(self.global.iter().filter(|(t, _)| glob_match(t, action_lc)).map(|(_, i)| *i));
        for &i in &self.not_action {
            let matched = self
                .statement(store, i)
                .is_some_and(|s| s.action.patterns.iter().any(|p| glob_match(p.tokens(), action_lc)));
            if !matched {
                out.push(i);
            }
        }
        if out.len() > 1 {
            out.sort_unstable();
            out.dedup();
        }
    }

    /// The AST statement at position `pos`.
    pub(crate) fn statement<'s>(&self, store: &'s Store, pos: u32) -> Option<&'s Statement> {
        let c = self.stmts.get(pos as usize)?;
        store.policy(c.policy)?.policy.statements.get(c.statement as usize)
    }
}

/// The text of tokens that hold no wildcard.
fn literal(toks: &[Tok]) -> Option<String> {
    toks.iter()
        .map(|t| match t {
            Tok::Lit(c) => Some(*c),
            _ => None,
        })
        .collect()
}

fn classify_resource(t: &Template, at: u32) -> CPattern {
    if t.has_variables() {
        return CPattern::Template(at);
    }
    let toks = t.tokens();
    match toks {
        [Tok::Star] => CPattern::Any,
        _ => {
            if let Some(lit) = literal(toks) {
                CPattern::Exact(lit.into_boxed_str())
            } else if let Some(head) = toks.strip_suffix(&[Tok::Star]).and_then(literal) {
                CPattern::Prefix(head.into_boxed_str())
            } else {
                CPattern::Glob(toks.to_vec())
            }
        }
    }
}

/// The whole decision index of a store.
#[derive(Debug, Default)]
pub(crate) struct Index {
    pub sets: Vec<StatementSet>,
    /// Identity set of each user (`Store::users` order).
    pub user_identity: Vec<SetId>,
    /// Identity set of each role (`Store::roles` order).
    pub role_identity: Vec<SetId>,
    /// The set of one policy (boundary, trust, resource policy, SCP, RCP), by policy.
    pub policy_set: HashMap<PolicyId, SetId>,
    /// Resource policies (positions in `Store::resource_policies`) by their exact ARN.
    pub rp_by_arn: HashMap<Box<str>, SmallVec<[usize; 1]>>,
    /// SCP sets per level of each member account's path (root, OUs, the account).
    pub scp_levels: HashMap<Box<str>, Vec<SmallVec<[SetId; 2]>>>,
    /// RCP sets per level of each member account's path.
    pub rcp_levels: HashMap<Box<str>, Vec<SmallVec<[SetId; 2]>>>,
    /// `(aws:PrincipalOrgID, aws:PrincipalOrgPaths)` per account, when the organization has an Id.
    pub org_paths: HashMap<Box<str>, (String, String)>,
}

/// Builds the index of `store`.
pub(crate) fn compile(store: &Store) -> Index {
    let mut b = Builder { index: Index::default(), by_policy_list: HashMap::new() };
    b.index.user_identity = store.users.iter().map(|u| b.set_of(store, u.policy_ids(store).collect())).collect();
    b.index.role_identity = store.roles.iter().map(|r| b.set_of(store, r.policy_ids().collect())).collect();
    for id in store.users.iter().filter_map(|u| u.boundary).chain(store.roles.iter().filter_map(|r| r.boundary)) {
        b.policy_set(store, id);
    }
    for r in &store.roles {
        b.policy_set(store, r.trust);
    }
    for (i, rp) in store.resource_policies.iter().enumerate() {
        b.policy_set(store, rp.policy);
        b.index.rp_by_arn.entry(rp.arn.as_str().into()).or_default().push(i);
    }
    if let Some(org) = &store.organization {
        for (account, parents) in &org.accounts {
            let levels = |b: &mut Builder, policies: &[crate::store::OrgPolicy]| -> Vec<SmallVec<[SetId; 2]>> {
                parents
                    .iter()
                    .chain(std::iter::once(account))
                    .map(|level| {
                        policies
                            .iter()
                            .filter(|p| p.targets.contains(level))
                            .map(|p| b.policy_set(store, p.policy))
                            .collect()
                    })
                    .collect()
            };
            let scp = levels(&mut b, &org.scps);
            let rcp = levels(&mut b, &org.rcps);
            b.index.scp_levels.insert(account.as_str().into(), scp);
            b.index.rcp_levels.insert(account.as_str().into(), rcp);
            if let Some(id) = &org.id {
                let mut path = format!("{id}/");
                for p in parents {
                    path.push_str(p);
                    path.push('/');
                }
                b.index.org_paths.insert(account.as_str().into(), (id.clone(), path));
            }
        }
    }
    b.index
}

struct Builder {
    index: Index,
    by_policy_list: HashMap<Vec<PolicyId>, SetId>,
}

impl Builder {
    /// The set of the statements of `policies`, shared by every principal with the same list.
    fn set_of(&mut self, store: &Store, policies: Vec<PolicyId>) -> SetId {
        if let Some(&id) = self.by_policy_list.get(&policies) {
            return id;
        }
        let id = self.new_set(store, &policies);
        self.by_policy_list.insert(policies, id);
        id
    }

    fn policy_set(&mut self, store: &Store, policy: PolicyId) -> SetId {
        if let Some(&id) = self.index.policy_set.get(&policy) {
            return id;
        }
        let id = self.new_set(store, &[policy]);
        self.index.policy_set.insert(policy, id);
        id
    }

    fn new_set(&mut self, store: &Store, policies: &[PolicyId]) -> SetId {
        let mut set = StatementSet::default();
        for &pid in policies {
            let Some(p) = store.policy(pid) else { continue };
            for (i, s) in p.policy.statements.iter().enumerate() {
                set.push(pid, u32::try_from(i).unwrap_or(u32::MAX), s);
            }
        }
        let id = SetId::try_from(self.index.sets.len()).unwrap_or(SetId::MAX);
        self.index.sets.push(set);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glob::Vars;

    fn pattern(raw: &str) -> CPattern {
        let t = Template::parse(raw, true, Vars::Allowed).unwrap();
        classify_resource(&t, 0)
    }

    #[test]
    fn resource_patterns_are_classified() {
        assert!(matches!(pattern("*"), CPattern::Any));
        assert!(matches!(pattern("arn:aws:s3:::b/k"), CPattern::Exact(ref s) if &**s == "arn:aws:s3:::b/k"));
        assert!(matches!(pattern("arn:aws:s3:::b/*"), CPattern::Prefix(ref s) if &**s == "arn:aws:s3:::b/"));
        assert!(matches!(pattern("arn:aws:s3:::*log*"), CPattern::Glob(_)));
        assert!(matches!(pattern("arn:aws:s3:::b/?"), CPattern::Glob(_)));
        assert!(matches!(pattern("arn:aws:s3:::b/${aws:username}/*"), CPattern::Template(0)));
        // An escaped wildcard is literal text.
        assert!(matches!(pattern("arn:aws:s3:::b/${*}"), CPattern::Exact(ref s) if &**s == "arn:aws:s3:::b/*"));
    }
}

//! Store → decision index: what [`crate::Snapshot`] answers from.
//!
//! The reference evaluator walks every statement of every policy for each request. The index
//! does that work once, at load time:
//! - every policy is compiled once into a [`StatementSet`]; a principal's identity policies are the
//!   store's own id lists (inline, managed, every group's), so compile time and memory grow with
//!   the policies, not with principals × policies;
//! - service prefixes and literal actions are interned: a request looks its action up once (two
//!   hash lookups), then each policy finds its bucket for the service by binary search and its
//!   literal actions by integer comparison; `Get*`-style prefixes are checked with `starts_with`,
//!   other wildcards globbed; patterns with a wildcard in the service part, and `NotAction`
//!   statements, are kept apart and checked on every request;
//! - resource patterns are classified once (`*`, literal ARN, pure prefix, glob, template with
//!   policy variables) so most checks are a comparison or a `starts_with`;
//! - resource policies are found by ARN (and by each `/`-prefix of the request's resource), SCP
//!   and RCP levels are resolved per account.
//!
//! Invariant: for every statement and every request, "the statement's Action matches" as the
//! index answers it equals the reference evaluator's whole-string glob (see [`StatementSet::candidates`]);
//! the differential tests check the whole decision against [`crate::reference`].

use crate::ast::{Effect, Policy};
use crate::glob::{glob_match, Template, Tok};
use crate::id::PolicyId;
use crate::store::Store;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

/// Candidate statement positions for one request in one policy; large enough that policies
/// never spill to the heap in practice.
pub(crate) type Candidates = SmallVec<[u32; 16]>;

/// An interned service prefix (`s3`).
type ServiceId = u32;
/// An interned literal action (`s3:getobject`).
type ActionId = u32;

/// A compiled statement (at the same position as in its policy): its effect and resource patterns.
#[derive(Debug)]
pub(crate) struct CStatement {
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
        patterns: Box<[CPattern]>,
    },
}

/// One resource pattern; wildcard and template patterns are read from the AST at their position.
#[derive(Debug)]
pub(crate) enum CPattern {
    /// `*`: everything.
    Any,
    Exact(Box<str>),
    /// `literal*`.
    Prefix(Box<str>),
    /// Other wildcards, or policy variables (resolved per request): the AST pattern at this position.
    Ast(u32),
}

/// The statements of one policy that match one service prefix.
#[derive(Debug, Default)]
struct Bucket {
    /// Literal action names.
    exact: SmallVec<[(ActionId, u32); 4]>,
    /// `Name*` patterns: the lowercased literal part of the name.
    prefix: Vec<(Box<str>, u32)>,
    /// Other wildcards in the name: (statement, pattern position), globbed whole.
    glob: Vec<(u32, u32)>,
}

/// The statements of one policy with an action index.
#[derive(Debug, Default)]
pub(crate) struct StatementSet {
    pub stmts: Vec<CStatement>,
    /// Buckets by service, sorted by [`ServiceId`].
    buckets: Vec<(ServiceId, Bucket)>,
    /// Action patterns with a wildcard in the service part (`*`, `*:Get*`): (statement, pattern).
    global: Vec<(u32, u32)>,
    /// `NotAction` statements: they match every action none of their patterns matches.
    not_action: Vec<u32>,
}

/// A request's action, looked up once in the index's interning tables.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ActionKey<'r> {
    /// `service:name`, lowercased.
    pub action_lc: &'r str,
    name: &'r str,
    service: Option<ServiceId>,
    action: Option<ActionId>,
}

impl StatementSet {
    /// Positions of the statements whose Action/NotAction matches the action, sorted, without
    /// duplicates, into `out`.
    ///
    /// Equivalence with the reference's whole-string glob: a pattern `S:N` whose service part `S`
    /// is literal matches `s:n` (split at the first colon) iff `S == s` and `N` globs `n`, because
    /// `S` holds no colon, so the first colon of the action must align with the pattern's.
    pub(crate) fn candidates(&self, policy: &Policy, key: &ActionKey<'_>, out: &mut Candidates) {
        out.clear();
        let pattern =
            |stmt: u32, at: u32| policy.statements.get(stmt as usize).and_then(|s| s.action.patterns.get(at as usize));
        if let Some(service) = key.service {
            if let Ok(b) = self.buckets.binary_search_by_key(&service, |(id, _)| *id) {
                if let Some((_, b)) = self.buckets.get(b) {
                    if let Some(action) = key.action {
                        out.extend(b.exact.iter().filter(|(a, _)| *a == action).map(|(_, i)| *i));
                    }
                    out.extend(b.prefix.iter().filter(|(p, _)| key.name.starts_with(&**p)).map(|(_, i)| *i));
                    for &(stmt, at) in &b.glob {
                        if pattern(stmt, at).is_some_and(|p| glob_match(p.tokens(), key.action_lc)) {
                            out.push(stmt);
                        }
                    }
                }
            }
        }
        for &(stmt, at) in &self.global {
            if pattern(stmt, at).is_some_and(|p| glob_match(p.tokens(), key.action_lc)) {
                out.push(stmt);
            }
        }
        for &i in &self.not_action {
            let matched = policy
                .statements
                .get(i as usize)
                .is_some_and(|s| s.action.patterns.iter().any(|p| glob_match(p.tokens(), key.action_lc)));
            if !matched {
                out.push(i);
            }
        }
        if out.len() > 1 {
            out.sort_unstable();
            out.dedup();
        }
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
        return CPattern::Ast(at);
    }
    let toks = t.tokens();
    if toks == [Tok::Star] {
        CPattern::Any
    } else if let Some(lit) = literal(toks) {
        CPattern::Exact(lit.into_boxed_str())
    } else if let Some(head) = toks.strip_suffix(&[Tok::Star]).and_then(literal) {
        CPattern::Prefix(head.into_boxed_str())
    } else {
        CPattern::Ast(at)
    }
}

/// The whole decision index of a store.
#[derive(Debug, Default)]
pub(crate) struct Index {
    /// The set of each policy, by [`PolicyId`].
    sets: Vec<StatementSet>,
    /// Interned service prefixes of literal action patterns.
    services: FxHashMap<Box<str>, ServiceId>,
    /// Interned literal actions (`s3:getobject`).
    actions: FxHashMap<Box<str>, ActionId>,
    /// Resource policies (positions in `Store::resource_policies`) by their exact ARN.
    pub rp_by_arn: FxHashMap<Box<str>, SmallVec<[usize; 1]>>,
    /// SCPs per level of each member account's path (root, OUs, the account).
    pub scp_levels: FxHashMap<Box<str>, Vec<SmallVec<[PolicyId; 2]>>>,
    /// RCPs per level of each member account's path.
    pub rcp_levels: FxHashMap<Box<str>, Vec<SmallVec<[PolicyId; 2]>>>,
    /// `(aws:PrincipalOrgID, aws:PrincipalOrgPaths)` per account, when the organization has an Id.
    pub org_paths: FxHashMap<Box<str>, (String, String)>,
}

impl Index {
    /// The compiled set of policy `id`.
    pub(crate) fn set(&self, id: PolicyId) -> Option<&StatementSet> {
        self.sets.get(id.index())
    }

    /// Looks the request's action up in the interning tables (two hash lookups per request).
    pub(crate) fn action_key<'r>(&self, action_lc: &'r str) -> ActionKey<'r> {
        let (service, name) = action_lc.split_once(':').unwrap_or((action_lc, ""));
        ActionKey {
            action_lc,
            name,
            service: self.services.get(service).copied(),
            action: self.actions.get(action_lc).copied(),
        }
    }

    fn intern_service(&mut self, service: String) -> ServiceId {
        let next = ServiceId::try_from(self.services.len()).unwrap_or(ServiceId::MAX);
        *self.services.entry(service.into_boxed_str()).or_insert(next)
    }

    fn intern_action(&mut self, action: String) -> ActionId {
        let next = ActionId::try_from(self.actions.len()).unwrap_or(ActionId::MAX);
        *self.actions.entry(action.into_boxed_str()).or_insert(next)
    }

    fn compile_policy(&mut self, policy: &Policy) -> StatementSet {
        let mut set = StatementSet::default();
        for (i, s) in policy.statements.iter().enumerate() {
            let pos = u32::try_from(i).unwrap_or(u32::MAX);
            if s.action.not {
                set.not_action.push(pos);
            } else {
                for (at, p) in s.action.patterns.iter().enumerate() {
                    self.index_action(&mut set, p, pos, u32::try_from(at).unwrap_or(u32::MAX));
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
                        .map(|(at, t)| classify_resource(t, u32::try_from(at).unwrap_or(u32::MAX)))
                        .collect(),
                },
            };
            set.stmts.push(CStatement { effect: s.effect, resource, has_conditions: !s.conditions.is_empty() });
        }
        set.buckets.sort_by_key(|(id, _)| *id);
        set
    }

    fn index_action(&mut self, set: &mut StatementSet, pattern: &Template, pos: u32, at: u32) {
        // Action patterns are lowercased and hold no variables: plain tokens.
        let toks = pattern.tokens();
        let colon = toks.iter().position(|t| *t == Tok::Lit(':'));
        let service = colon.and_then(|c| toks.get(..c)).and_then(literal);
        let (Some(c), Some(service)) = (colon, service) else {
            set.global.push((pos, at));
            return;
        };
        let name = toks.get(c + 1..).unwrap_or_default();
        let service_id = self.intern_service(service.clone());
        let bucket = match set.buckets.iter().position(|(id, _)| *id == service_id) {
            Some(i) => &mut set.buckets[i].1,
            None => {
                set.buckets.push((service_id, Bucket::default()));
                let last = set.buckets.len() - 1;
                &mut set.buckets[last].1
            }
        };
        if let Some(lit) = literal(name) {
            let action = self.intern_action(format!("{service}:{lit}"));
            bucket.exact.push((action, pos));
        } else if let Some(head) = name.strip_suffix(&[Tok::Star]).and_then(literal) {
            bucket.prefix.push((head.into_boxed_str(), pos));
        } else {
            bucket.glob.push((pos, at));
        }
    }
}

/// Builds the index of `store`: every policy compiled once.
pub(crate) fn compile(store: &Store) -> Index {
    let mut index = Index::default();
    index.sets.reserve(store.policies.len());
    for p in &store.policies {
        let set = index.compile_policy(&p.policy);
        index.sets.push(set);
    }
    for (i, rp) in store.resource_policies.iter().enumerate() {
        index.rp_by_arn.entry(rp.arn.as_str().into()).or_default().push(i);
    }
    if let Some(org) = &store.organization {
        for (account, parents) in &org.accounts {
            let levels = |policies: &[crate::store::OrgPolicy]| -> Vec<SmallVec<[PolicyId; 2]>> {
                parents
                    .iter()
                    .chain(std::iter::once(account))
                    .map(|level| policies.iter().filter(|p| p.targets.contains(level)).map(|p| p.policy).collect())
                    .collect()
            };
            index.scp_levels.insert(account.as_str().into(), levels(&org.scps));
            index.rcp_levels.insert(account.as_str().into(), levels(&org.rcps));
            if let Some(id) = &org.id {
                let mut path = format!("{id}/");
                for p in parents {
                    path.push_str(p);
                    path.push('/');
                }
                index.org_paths.insert(account.as_str().into(), (id.clone(), path));
            }
        }
    }
    index
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
        assert!(matches!(pattern("arn:aws:s3:::*log*"), CPattern::Ast(0)));
        assert!(matches!(pattern("arn:aws:s3:::b/?"), CPattern::Ast(0)));
        assert!(matches!(pattern("arn:aws:s3:::b/${aws:username}/*"), CPattern::Ast(0)));
        // An escaped wildcard is literal text.
        assert!(matches!(pattern("arn:aws:s3:::b/${*}"), CPattern::Exact(ref s) if &**s == "arn:aws:s3:::b/*"));
    }
}

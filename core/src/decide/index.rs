//! Store → decision index: what [`crate::Snapshot`] answers from.
//!
//! The reference evaluator walks every statement of every policy for each request. The index
//! does that work once, at load time:
//! - every statement of every policy is compiled once into one flat array ([`CStatement`]);
//!   candidate lists refer to it by a `u32`, so compile time and memory grow with the statements,
//!   not with principals × statements;
//! - literal actions (`s3:getobject`) and service prefixes are interned across the store, and for
//!   every statement the set of interned actions its `Action` matches (or, for `NotAction`, does
//!   not match) is computed once, with the reference's own glob on the interned text;
//! - a **candidate table** ([`Table`]) is built per distinct identity-policy list (principals with
//!   the same attachments share it) and per policy that is evaluated on its own (boundaries, trust
//!   and resource policies, SCPs, RCPs): interned action → the statements (across all the list's
//!   policies) with a literal pattern for it, Deny first; service → the statements with a
//!   wildcard pattern in it (checked by a binary search in the statement's precomputed action
//!   set); statements with a wildcard service part; and the statements that match every action
//!   but a few (`*`, `NotAction`). A request looks its action up once, then two binary searches
//!   per table give its candidates, with no pattern matching left to do;
//! - an action that no policy names literally (`s3:getobjectversion` under `s3:Get*`) falls back to
//!   the table's per-service list of statements with wildcard patterns in that service plus those
//!   with a wildcard in the service part, matched with the reference's rule
//!   ([`crate::decide::rules::action_matches`]);
//! - resource patterns are classified once (`*`, literal ARN, pure prefix, glob, template with
//!   policy variables) so most checks are a comparison or a `starts_with`;
//! - resource policies are found by ARN (and by each `/`-prefix of the request's resource), SCP
//!   and RCP levels are resolved per account.
//!
//! Invariant: for every table, every request action and every statement of the table's policies,
//! "the statement is a candidate that passes [`Index::visit`]'s action check" equals the
//! reference's [`crate::decide::rules::action_matches`]; the differential tests check the whole decision
//! against [`crate::decide::reference`].

use crate::decide::rules::action_matches;
use crate::id::PolicyId;
use crate::policy::ast::{Effect, Statement};
use crate::policy::glob::{glob_match, owned_parts, OwnedPart, Piece, Template};
use crate::store::Store;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

/// An interned service prefix (`s3`).
type ServiceId = u32;
/// An interned literal action (`s3:getobject`).
type ActionId = u32;
/// A statement: its position in [`Index::stmts`].
type StmtRef = u32;
/// A candidate table: its position in [`Index::tables`].
pub(crate) type TableId = u32;

/// How a statement's `Action`/`NotAction` block relates to the interned actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActionSet {
    /// `Action` with literal patterns only: matches exactly the interned actions the tables list
    /// it under, and no other action.
    Listed,
    /// `Action` with a wildcard pattern (not a bare `*`): matches the interned actions in
    /// [`CStatement::acts`] (and, for other actions, whatever its patterns glob). Tables list it
    /// under its wildcard services (or as global), and under its literal actions of other services.
    Wild,
    /// `Action` with a `*` pattern: every action.
    All,
    /// `NotAction`: every action but the interned ones in [`CStatement::acts`] (and, for other
    /// actions, those none of its patterns globs).
    AllBut,
    /// `NotAction` with a `*` pattern: no action.
    Nothing,
}

/// A compiled statement: where it is in the store, its effect, action class and resource patterns.
#[derive(Debug)]
pub(crate) struct CStatement {
    pub effect: Effect,
    pub has_conditions: bool,
    pub actions: ActionSet,
    pub policy: PolicyId,
    /// Position in its policy.
    pub pos: u32,
    pub resource: CResource,
    /// The interned actions a pattern matches, sorted: for [`ActionSet::Wild`] the ones it
    /// matches, for [`ActionSet::AllBut`] the ones it excludes; empty otherwise.
    acts: Box<[ActionId]>,
}

/// 4 bytes that the request's resource must hold at a fixed offset for a statement's `Resource`
/// to match: the last 4 bytes of the literal prefix its patterns share (ARNs of one service share
/// their beginning and differ at its end: `data-17/`), compared as one `u32`. Copied into every
/// candidate entry ([`Cand`]), so that a candidate whose resource cannot match is rejected while
/// the decision walks its contiguous candidate run, without reading the statement. No probe when
/// the shared prefix is shorter than 4 bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ResourceProbe {
    /// Offset + 1 (0: no probe).
    at: u32,
    word: u32,
}

impl ResourceProbe {
    /// The probe of patterns whose literal prefixes are `prefixes`.
    fn of<'p>(mut prefixes: impl Iterator<Item = &'p str>) -> ResourceProbe {
        let Some(first) = prefixes.next() else { return ResourceProbe::default() };
        let mut common = first.as_bytes();
        for p in prefixes {
            let n = common.iter().zip(p.as_bytes()).take_while(|(a, b)| a == b).count();
            common = common.get(..n).unwrap_or_default();
        }
        let Some(at) = common.len().checked_sub(4) else { return ResourceProbe::default() };
        match (u32::try_from(at + 1), word(common, at)) {
            (Ok(at), Some(word)) => ResourceProbe { at, word },
            _ => ResourceProbe::default(),
        }
    }

    /// Whether `resource` passes (always, without a probe).
    #[inline]
    pub(crate) fn admits(&self, resource: &str) -> bool {
        match self.at.checked_sub(1) {
            None => true,
            Some(at) => word(resource.as_bytes(), at as usize) == Some(self.word),
        }
    }
}

/// The 4 bytes of `bytes` at `at`, as one word.
#[inline]
fn word(bytes: &[u8], at: usize) -> Option<u32> {
    let w: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_ne_bytes(w))
}

/// A candidate entry: a statement and the probe its resource must pass (12 bytes; a table's
/// candidates for one action are one contiguous run of these).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Cand {
    stmt: StmtRef,
    probe: ResourceProbe,
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

/// One resource pattern; templates are read from the AST at their position.
#[derive(Debug)]
pub(crate) enum CPattern {
    /// `*`: everything.
    Any,
    Exact(Box<str>),
    /// `literal*`.
    Prefix(Box<str>),
    /// Other wildcards, matched segment by segment ([`crate::policy::glob::match_parts`]).
    Glob(Box<[OwnedPart]>),
    /// Policy variables (resolved per request): the AST pattern at this position.
    Template(u32),
}

/// A run of candidates in [`Index::cands`]: `start..mid` are Deny statements, `mid..end` Allow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Span {
    start: u32,
    mid: u32,
    end: u32,
}

/// The key of a table's keyed run in [`Index::keyed`]: the table, and an interned action or (with
/// [`SERVICE_BIT`]) an interned service.
fn keyed(table: TableId, key: u32) -> u64 {
    (u64::from(table) << 32) | u64::from(key)
}

/// Marks a service id in a [`keyed`] key.
const SERVICE_BIT: u32 = 1 << 31;

/// The candidate table of one policy list. Its keyed runs live in [`Index::keyed`]: under each
/// interned action, the `Listed` statements matching it and the `Wild` ones with a literal
/// pattern for it outside their wildcard services; under each service (with [`SERVICE_BIT`]), the
/// `Wild` statements with a wildcard pattern in it.
#[derive(Debug, Clone, Copy, Default)]
struct Table {
    /// `Wild` statements with a pattern whose service part is not literal.
    global: Span,
    /// `All` and `AllBut` statements.
    universal: Span,
}

/// A request's action, looked up once in the index's interning tables.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ActionKey<'r> {
    /// `service:name`, lowercased.
    pub action_lc: &'r str,
    action: Option<ActionId>,
    service: Option<ServiceId>,
}

/// The candidates of one table for one action, on one resource.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Query<'r> {
    key: ActionKey<'r>,
    resource: &'r str,
    spans: [Span; 4],
}

/// The whole decision index of a store.
#[derive(Debug, Default)]
pub(crate) struct Index {
    /// Every statement of every policy, policy by policy.
    stmts: Vec<CStatement>,
    /// Candidate lists (runs referred to by [`Span`]s).
    cands: Vec<Cand>,
    /// Keyed runs of the tables, by [`keyed`] key: one hash probe finds a table's run for an
    /// action (or service).
    keyed: FxHashMap<u64, Span>,
    tables: Vec<Table>,
    /// The identity table of each user (by position in `Store::users`).
    user_tables: Vec<TableId>,
    /// The identity table of each role (by position in `Store::roles`).
    role_tables: Vec<TableId>,
    /// The table of each policy evaluated on its own (boundaries, trust, resource, SCP, RCP), by
    /// [`PolicyId`]; `u32::MAX` for the others.
    policy_tables: Vec<TableId>,
    /// Interned service prefixes of literal action patterns.
    services: FxHashMap<Box<str>, ServiceId>,
    /// Interned literal actions (`s3:getobject`) with their service.
    actions: FxHashMap<Box<str>, (ActionId, ServiceId)>,
    /// Resource policies (positions in `Store::resource_policies`) by their exact ARN.
    pub rp_by_arn: FxHashMap<Box<str>, SmallVec<[usize; 1]>>,
    /// SCPs per level of each member account's path (root, OUs, the account).
    pub scp_levels: FxHashMap<Box<str>, Vec<SmallVec<[PolicyId; 2]>>>,
    /// RCPs per level of each member account's path.
    pub rcp_levels: FxHashMap<Box<str>, Vec<SmallVec<[PolicyId; 2]>>>,
    /// `(aws:PrincipalOrgID, aws:PrincipalOrgPaths)` per account, when the organization has an Id.
    pub org_paths: FxHashMap<Box<str>, (String, String)>,
}

const NO_TABLE: TableId = TableId::MAX;

impl Index {
    /// Looks the request's action up in the interning tables (one hash lookup, two when the
    /// action is not interned).
    pub(crate) fn action_key<'r>(&self, action_lc: &'r str) -> ActionKey<'r> {
        match self.actions.get(action_lc) {
            Some(&(action, service)) => ActionKey { action_lc, action: Some(action), service: Some(service) },
            None => {
                let service = action_lc.split_once(':').map_or(action_lc, |(s, _)| s);
                ActionKey { action_lc, action: None, service: self.services.get(service).copied() }
            }
        }
    }

    /// The identity table of the user at `i` in `Store::users`.
    pub(crate) fn user_table(&self, i: usize) -> Option<TableId> {
        self.user_tables.get(i).copied()
    }

    /// The identity table of the role at `i` in `Store::roles`.
    pub(crate) fn role_table(&self, i: usize) -> Option<TableId> {
        self.role_tables.get(i).copied()
    }

    /// The table of policy `id` on its own (boundaries, trust, resource policies, SCPs, RCPs).
    pub(crate) fn policy_table(&self, id: PolicyId) -> Option<TableId> {
        self.policy_tables.get(id.index()).copied().filter(|&t| t != NO_TABLE)
    }

    /// The candidates of table `t` for the action on `resource`: two hash probes (action,
    /// service) when the action is interned, one (service) when it is not.
    pub(crate) fn query<'r>(&self, t: TableId, key: &ActionKey<'r>, resource: &'r str) -> Query<'r> {
        let mut spans = [Span::default(); 4];
        if let Some(table) = self.tables.get(t as usize) {
            let run = |k: u32| self.keyed.get(&keyed(t, k)).copied().unwrap_or_default();
            let service = key.service.map(|s| run(s | SERVICE_BIT)).unwrap_or_default();
            match key.action {
                Some(a) => spans = [run(a), service, table.global, table.universal],
                None => spans = [service, table.global, table.universal, Span::default()],
            }
        }
        Query { key: *key, resource, spans }
    }

    /// Calls `f` on each candidate of `q` with effect `effect` whose Action/NotAction matches the
    /// request's action, in store order per run, until `f` returns `true`; returns whether it did.
    pub(crate) fn visit<'i>(
        &'i self,
        store: &'i Store,
        q: &Query<'_>,
        effect: Effect,
        mut f: impl FnMut(&'i CStatement) -> bool,
    ) -> bool {
        for span in &q.spans {
            let (start, end) = match effect {
                Effect::Deny => (span.start, span.mid),
                Effect::Allow => (span.mid, span.end),
            };
            for cand in self.cands.get(start as usize..end as usize).unwrap_or_default() {
                // Most candidates fail here, without the statement being read.
                if !cand.probe.admits(q.resource) {
                    continue;
                }
                let Some(c) = self.stmts.get(cand.stmt as usize) else { continue };
                let matched = match (c.actions, q.key.action) {
                    (ActionSet::All, _) => true,
                    (ActionSet::Nothing, _) => false,
                    // Only the action's own run lists it.
                    (ActionSet::Listed, Some(_)) => true,
                    (ActionSet::Wild, Some(a)) => c.acts.binary_search(&a).is_ok(),
                    (ActionSet::AllBut, Some(a)) => c.acts.binary_search(&a).is_err(),
                    (ActionSet::Listed | ActionSet::Wild | ActionSet::AllBut, None) => {
                        self.statement(store, c).is_some_and(|s| action_matches(s, q.key.action_lc))
                    }
                };
                if matched && f(c) {
                    return true;
                }
            }
        }
        false
    }

    /// The AST of a compiled statement.
    pub(crate) fn statement<'s>(&self, store: &'s Store, c: &CStatement) -> Option<&'s Statement> {
        store.policy(c.policy).and_then(|p| p.policy.statements.get(c.pos as usize))
    }
}

fn classify_resource(t: &Template, at: u32) -> CPattern {
    if t.has_variables() {
        return CPattern::Template(at);
    }
    // Without variables the pieces are text (escapes applied, adjacent text merged), `*`, `?`.
    match t.pieces().as_slice() {
        [Piece::Star] => CPattern::Any,
        [] => CPattern::Exact("".into()),
        [Piece::Text(lit)] => CPattern::Exact((*lit).into()),
        [Piece::Text(head), Piece::Star] => CPattern::Prefix((*head).into()),
        _ => CPattern::Glob(owned_parts(t.tokens()).into_boxed_slice()),
    }
}

/// An action pattern, split at its first colon.
enum ActionPattern<'t> {
    /// Only `*`: every action.
    All,
    /// `service:name` without wildcards.
    Exact { service: &'t str, action: &'t str },
    /// A literal service, a wildcard in the name.
    InService(&'t str),
    /// A wildcard in the service part (or no colon at all).
    Global,
}

/// Classifies an action pattern from its pieces (action patterns hold no variables, and the
/// parser merges adjacent text): the service part is literal iff the first colon is in the first
/// piece, and the pattern is literal iff that piece is all of it.
fn classify_action(t: &Template) -> ActionPattern<'_> {
    let pieces = t.pieces();
    if !pieces.is_empty() && pieces.iter().all(|p| *p == Piece::Star) {
        return ActionPattern::All;
    }
    match pieces.first() {
        Some(Piece::Text(first)) => match first.split_once(':') {
            Some((service, _)) if pieces.len() == 1 => ActionPattern::Exact { service, action: first },
            Some((service, _)) => ActionPattern::InService(service),
            None => ActionPattern::Global,
        },
        _ => ActionPattern::Global,
    }
}

/// What the table builder needs to know about a statement (compile time only).
#[derive(Debug, Default, Clone)]
struct StmtInfo {
    /// The interned actions tables list it under, as a run of `Compiler::acts`: `Listed`: the
    /// ones it matches; `Wild`: its literal actions of services where it has no wildcard.
    acts: (u32, u32),
    /// `Wild` without a global pattern: services in which it has a wildcard pattern.
    wild_services: SmallVec<[ServiceId; 1]>,
    /// `Wild`: it has a pattern with a wildcard in the service part (listed as global only).
    global: bool,
}

/// Compile-time state.
#[derive(Default)]
struct Compiler {
    index: Index,
    /// Interned action texts, by id.
    action_names: Vec<Box<str>>,
    /// Interned actions of each service, by service id.
    service_actions: Vec<Vec<ActionId>>,
    /// First statement of each policy in `index.stmts` (one more entry than policies).
    first: Vec<u32>,
    infos: Vec<StmtInfo>,
    /// The resource probe of each statement, copied into its candidate entries.
    probes: Vec<ResourceProbe>,
    acts: Vec<ActionId>,
    /// Candidate entries each policy adds to a table that holds it.
    weights: Vec<usize>,
    /// Tables by their sorted policy list.
    tables_by_list: FxHashMap<Box<[PolicyId]>, TableId>,
    /// Sorted table entries of every policy ([`Compiler::policy_entries`]).
    entries: Vec<u64>,
    /// Per policy, the ranges of its entries keyed by action, keyed by service, global, universal.
    policy_ranges: Vec<[(u32, u32); 4]>,
    /// Scratch buffers of the table builder.
    scratch: [Vec<u64>; 4],
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// A sort key: `key`, then Deny before Allow, then the statement.
fn pair(key: u32, effect: Effect, stmt: StmtRef) -> u64 {
    let allow = u64::from(effect == Effect::Allow);
    (u64::from(key) << 32) | (allow << 31) | u64::from(stmt & 0x7fff_ffff)
}

impl Compiler {
    fn intern_service(&mut self, service: &str) -> ServiceId {
        if let Some(&id) = self.index.services.get(service) {
            return id;
        }
        let id = to_u32(self.service_actions.len());
        self.index.services.insert(service.into(), id);
        self.service_actions.push(Vec::new());
        id
    }

    fn intern_action(&mut self, service: &str, action: &str) {
        if self.index.actions.contains_key(action) {
            return;
        }
        let service = self.intern_service(service);
        let id = to_u32(self.action_names.len());
        self.index.actions.insert(action.into(), (id, service));
        self.action_names.push(action.into());
        if let Some(list) = self.service_actions.get_mut(service as usize) {
            list.push(id);
        }
    }

    /// Pass 1: interns every literal action and service of every action pattern.
    fn intern(&mut self, store: &Store) {
        for p in &store.policies {
            for s in &p.policy.statements {
                for t in &s.action.patterns {
                    match classify_action(t) {
                        ActionPattern::Exact { service, action } => self.intern_action(service, action),
                        ActionPattern::InService(service) => {
                            self.intern_service(service);
                        }
                        ActionPattern::All | ActionPattern::Global => {}
                    }
                }
            }
        }
    }

    /// The interned actions pattern `t` matches, appended to `out` (the reference's glob on
    /// their text; a literal service part only meets actions of that service).
    fn matching_actions(&self, t: &Template, out: &mut Vec<ActionId>) {
        let toks = t.tokens();
        let names = &self.action_names;
        let matches = |id: &ActionId| names.get(*id as usize).is_some_and(|name| glob_match(toks, name));
        match classify_action(t) {
            ActionPattern::Exact { action, .. } => out.extend(self.index.actions.get(action).map(|&(a, _)| a)),
            ActionPattern::InService(service) => {
                let ids = self.index.services.get(service).and_then(|&s| self.service_actions.get(s as usize));
                out.extend(ids.into_iter().flatten().copied().filter(matches));
            }
            ActionPattern::Global | ActionPattern::All => {
                out.extend((0..to_u32(names.len())).filter(matches));
            }
        }
    }

    /// Pass 2: compiles every statement.
    fn compile_statements(&mut self, store: &Store) {
        let mut matched = Vec::new();
        for (p, named) in store.policies.iter().enumerate() {
            self.first.push(to_u32(self.index.stmts.len()));
            let weight_before = self.acts.len() + self.infos.len();
            for (pos, s) in named.policy.statements.iter().enumerate() {
                let all = s.action.patterns.iter().any(|t| matches!(classify_action(t), ActionPattern::All));
                let wild = s.action.patterns.iter().any(|t| !matches!(classify_action(t), ActionPattern::Exact { .. }));
                let actions = match (s.action.not, all, wild) {
                    (false, true, _) => ActionSet::All,
                    (false, false, false) => ActionSet::Listed,
                    (false, false, true) => ActionSet::Wild,
                    (true, false, _) => ActionSet::AllBut,
                    (true, true, _) => ActionSet::Nothing,
                };
                matched.clear();
                let mut info = StmtInfo::default();
                if matches!(actions, ActionSet::Listed | ActionSet::Wild | ActionSet::AllBut) {
                    for t in &s.action.patterns {
                        self.matching_actions(t, &mut matched);
                        if actions == ActionSet::Wild {
                            match classify_action(t) {
                                ActionPattern::InService(service) => {
                                    if let Some(&id) = self.index.services.get(service) {
                                        if !info.wild_services.contains(&id) {
                                            info.wild_services.push(id);
                                        }
                                    }
                                }
                                ActionPattern::Global => info.global = true,
                                ActionPattern::Exact { .. } | ActionPattern::All => {}
                            }
                        }
                    }
                    matched.sort_unstable();
                    matched.dedup();
                }
                let mut acts: Box<[ActionId]> = Box::default();
                let start = to_u32(self.acts.len());
                match actions {
                    ActionSet::Listed => self.acts.extend_from_slice(&matched),
                    ActionSet::Wild if info.global => {
                        // Visited for every action: listed nowhere else.
                        info.wild_services.clear();
                        acts = matched.as_slice().into();
                    }
                    ActionSet::Wild => {
                        // Literal actions outside its wildcard services.
                        let mut outside: SmallVec<[ActionId; 4]> = SmallVec::new();
                        for t in &s.action.patterns {
                            if let ActionPattern::Exact { service, action } = classify_action(t) {
                                let other =
                                    self.index.services.get(service).is_none_or(|id| !info.wild_services.contains(id));
                                if let (true, Some(&(a, _))) = (other, self.index.actions.get(action)) {
                                    outside.push(a);
                                }
                            }
                        }
                        outside.sort_unstable();
                        outside.dedup();
                        self.acts.extend_from_slice(&outside);
                        acts = matched.as_slice().into();
                    }
                    ActionSet::AllBut => acts = matched.as_slice().into(),
                    ActionSet::All | ActionSet::Nothing => {}
                }
                info.acts = (start, to_u32(self.acts.len()));
                let probe = match &s.resource {
                    Some(block) if !block.not => {
                        ResourceProbe::of(block.patterns.iter().map(|t| match t.pieces().first() {
                            Some(crate::policy::glob::Piece::Text(text)) => *text,
                            _ => "",
                        }))
                    }
                    _ => ResourceProbe::default(),
                };
                let resource = match &s.resource {
                    None => CResource::Implicit,
                    Some(block) => CResource::Block {
                        not: block.not,
                        patterns: block
                            .patterns
                            .iter()
                            .enumerate()
                            .map(|(at, t)| classify_resource(t, to_u32(at)))
                            .collect(),
                    },
                };
                self.index.stmts.push(CStatement {
                    effect: s.effect,
                    has_conditions: !s.conditions.is_empty(),
                    actions,
                    policy: PolicyId(to_u32(p)),
                    pos: to_u32(pos),
                    resource,
                    acts,
                });
                self.probes.push(probe);
                self.infos.push(info);
            }
            let extra: usize = self
                .infos
                .get(self.first.last().map_or(0, |&f| f as usize)..)
                .map_or(0, |infos| infos.iter().map(|i| i.wild_services.len() + usize::from(i.global)).sum());
            self.weights.push(self.acts.len() + self.infos.len() - weight_before + extra);
        }
        self.first.push(to_u32(self.index.stmts.len()));
    }

    /// The table of the policies `ids` (order and repetition do not matter), built once per
    /// distinct set.
    fn table(&mut self, ids: impl Iterator<Item = PolicyId>) -> TableId {
        let mut list: SmallVec<[PolicyId; 16]> = ids.collect();
        list.sort_unstable();
        list.dedup();
        if let Some(&t) = self.tables_by_list.get(list.as_slice()) {
            return t;
        }
        let t = self.build_table(&list);
        self.tables_by_list.insert(list.as_slice().into(), t);
        t
    }

    /// The sorted entries each policy contributes to a table (keyed by action, keyed by service,
    /// global, universal), so that a table merges a few sorted runs instead of sorting.
    fn policy_entries(&mut self) {
        let mut lists: [Vec<u64>; 4] = Default::default();
        for w in self.first.windows(2) {
            let (first, end) = match w {
                [a, b] => (*a, *b),
                _ => continue,
            };
            for list in &mut lists {
                list.clear();
            }
            let [keyed, services, global, universal] = &mut lists;
            for i in first..end {
                let (Some(c), Some(info)) = (self.index.stmts.get(i as usize), self.infos.get(i as usize)) else {
                    continue;
                };
                match c.actions {
                    ActionSet::Listed | ActionSet::Wild => {
                        let acts = self.acts.get(info.acts.0 as usize..info.acts.1 as usize).unwrap_or_default();
                        keyed.extend(acts.iter().map(|&a| pair(a, c.effect, i)));
                        services.extend(info.wild_services.iter().map(|&s| pair(s, c.effect, i)));
                        if info.global {
                            global.push(pair(0, c.effect, i));
                        }
                    }
                    ActionSet::All | ActionSet::AllBut => universal.push(pair(0, c.effect, i)),
                    ActionSet::Nothing => {}
                }
            }
            let mut ranges = [(0u32, 0u32); 4];
            for (list, range) in lists.iter_mut().zip(&mut ranges) {
                list.sort_unstable();
                let start = to_u32(self.entries.len());
                self.entries.extend_from_slice(list);
                *range = (start, to_u32(self.entries.len()));
            }
            self.policy_ranges.push(ranges);
        }
    }

    fn build_table(&mut self, list: &[PolicyId]) -> TableId {
        let mut scratch = std::mem::take(&mut self.scratch);
        for (k, buf) in scratch.iter_mut().enumerate() {
            buf.clear();
            for id in list {
                let Some(ranges) = self.policy_ranges.get(id.index()) else { continue };
                let (start, end) = ranges.get(k).copied().unwrap_or_default();
                buf.extend_from_slice(self.entries.get(start as usize..end as usize).unwrap_or_default());
            }
            // Sorted runs, one per policy: the stable sort merges them.
            buf.sort();
        }
        let [keyed, services, global, universal] = &scratch;
        let id = to_u32(self.index.tables.len());
        self.keyed_runs(id, keyed, 0);
        self.keyed_runs(id, services, SERVICE_BIT);
        let global = self.run(global);
        let universal = self.run(universal);
        self.scratch = scratch;
        self.index.tables.push(Table { global, universal });
        id
    }

    /// Appends sorted `pairs` (all with one key) to the candidates as one run.
    fn run(&mut self, pairs: &[u64]) -> Span {
        let start = to_u32(self.index.cands.len());
        let mut mid = None;
        for &p in pairs.iter() {
            if p & (1 << 31) != 0 && mid.is_none() {
                mid = Some(to_u32(self.index.cands.len()));
            }
            let stmt = (p & 0x7fff_ffff) as u32;
            let probe = self.probes.get(stmt as usize).copied().unwrap_or_default();
            self.index.cands.push(Cand { stmt, probe });
        }
        let end = to_u32(self.index.cands.len());
        Span { start, mid: mid.unwrap_or(end), end }
    }

    /// Appends sorted `pairs` as one run per key, each found in [`Index::keyed`] under table `t`
    /// and its key (with `kind`: 0 for actions, [`SERVICE_BIT`] for services).
    fn keyed_runs(&mut self, t: TableId, pairs: &[u64], kind: u32) {
        let mut rest: &[u64] = pairs;
        while let Some(&head) = rest.first() {
            let key = (head >> 32) as u32;
            let n = rest.iter().take_while(|&&p| (p >> 32) as u32 == key).count();
            let (run, tail) = rest.split_at(n);
            let span = self.run(run);
            self.index.keyed.insert(keyed(t, key | kind), span);
            rest = tail;
        }
    }

    fn policy_table(&mut self, id: PolicyId) {
        if self.index.policy_tables.get(id.index()).is_some_and(|&t| t == NO_TABLE) {
            let t = self.table(std::iter::once(id));
            if let Some(slot) = self.index.policy_tables.get_mut(id.index()) {
                *slot = t;
            }
        }
    }
}

/// Builds the index of `store`.
pub(crate) fn compile(store: &Store) -> Index {
    let mut c = Compiler::default();
    c.intern(store);
    c.index.stmts.reserve(store.policies.iter().map(|p| p.policy.statements.len()).sum());
    c.compile_statements(store);
    c.policy_entries();
    c.index.policy_tables = vec![NO_TABLE; store.policies.len()];
    // An upper bound of the candidate entries (tables shared by several principals count once
    // each), so that the arena does not move while it grows; trimmed at the end.
    let weight = |ids: &mut dyn Iterator<Item = PolicyId>| -> usize {
        ids.map(|id| c.weights.get(id.index()).copied().unwrap_or(0)).sum()
    };
    let bound: usize = store.users.iter().map(|u| weight(&mut u.policy_ids(store))).sum::<usize>()
        + store
            .roles
            .iter()
            .map(|r| weight(&mut r.policy_ids()) + weight(&mut std::iter::once(r.trust)))
            .sum::<usize>()
        + c.weights.iter().sum::<usize>();
    c.index.cands.reserve(bound);
    c.index.user_tables = store.users.iter().map(|u| u.policy_ids(store)).map(|ids| c.table(ids)).collect();
    c.index.role_tables = store.roles.iter().map(|r| c.table(r.policy_ids())).collect();
    for id in store.users.iter().filter_map(|u| u.boundary) {
        c.policy_table(id);
    }
    for r in &store.roles {
        c.policy_table(r.trust);
        if let Some(b) = r.boundary {
            c.policy_table(b);
        }
    }
    for rp in &store.resource_policies {
        c.policy_table(rp.policy);
    }
    if let Some(org) = &store.organization {
        for p in org.scps.iter().chain(&org.rcps) {
            c.policy_table(p.policy);
        }
    }
    let mut index = c.index;
    index.cands.shrink_to_fit();
    index.keyed.shrink_to_fit();
    index.tables.shrink_to_fit();
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
    use crate::policy::glob::Vars;

    fn pattern(raw: &str) -> CPattern {
        let t = Template::parse(raw, true, Vars::Allowed).unwrap();
        classify_resource(&t, 0)
    }

    #[test]
    fn resource_patterns_are_classified() {
        assert!(matches!(pattern("*"), CPattern::Any));
        assert!(matches!(pattern("arn:aws:s3:::b/k"), CPattern::Exact(ref s) if &**s == "arn:aws:s3:::b/k"));
        assert!(matches!(pattern("arn:aws:s3:::b/*"), CPattern::Prefix(ref s) if &**s == "arn:aws:s3:::b/"));
        assert!(matches!(pattern("arn:aws:s3:::*log*"), CPattern::Glob(ref p) if p.len() == 4));
        assert!(matches!(pattern("arn:aws:s3:::b/?"), CPattern::Glob(ref p) if p.len() == 2));
        assert!(matches!(pattern("arn:aws:s3:::b/${aws:username}/*"), CPattern::Template(0)));
        // An escaped wildcard is literal text.
        assert!(matches!(pattern("arn:aws:s3:::b/${*}"), CPattern::Exact(ref s) if &**s == "arn:aws:s3:::b/*"));
    }

    #[test]
    fn resource_probes_need_the_shared_literal_prefix() {
        let probe = |patterns: &[&str]| {
            let t: Vec<Template> = patterns.iter().map(|p| Template::parse(p, true, Vars::Allowed).unwrap()).collect();
            ResourceProbe::of(t.iter().map(|t| match t.pieces().first() {
                Some(crate::policy::glob::Piece::Text(text)) => *text,
                _ => "",
            }))
        };
        let p = probe(&["arn:aws:s3:::data-17/*", "arn:aws:s3:::data-1"]);
        assert!(p.admits("arn:aws:s3:::data-17/x"));
        assert!(p.admits("arn:aws:s3:::data-1"));
        assert!(!p.admits("arn:aws:s3:::bench-reports/x"));
        assert!(!p.admits("arn:aws:s3"));
        assert!(probe(&["*", "arn:aws:s3:::x"]).admits("anything"));
        assert!(probe(&["arn:aws:s3:::${aws:username}/*"]).admits("arn:aws:s3:::bob/x"));
        assert!(!probe(&["arn:aws:s3:::${aws:username}/*"]).admits("arn:aws:sqs:::bob/x"));
        assert!(probe(&["arn:aws:s3:::a${*}b"]).admits("arn:aws:s3:::a*b"));
        // A shared prefix shorter than 4 bytes gives no probe.
        assert!(probe(&["ar*", "arn:aws:s3:::x"]).admits("xyz:aws:sqs:x"));
        assert!(!probe(&["arn:*", "arn:aws:s3:::x"]).admits("xyz:aws:sqs:x"));
        // Multibyte text: bytes compare, wherever the 4-byte window starts.
        let p = probe(&["arn:aws:s3:::ééé/*"]);
        assert!(p.admits("arn:aws:s3:::ééé/k"));
        assert!(!p.admits("arn:aws:s3:::éé/k"));
    }

    fn action(raw: &str) -> String {
        let t = Template::parse(&raw.to_ascii_lowercase(), true, Vars::Forbidden).unwrap();
        match classify_action(&t) {
            ActionPattern::All => "all".into(),
            ActionPattern::Exact { service, action } => format!("exact {service} {action}"),
            ActionPattern::InService(service) => format!("in {service}"),
            ActionPattern::Global => "global".into(),
        }
    }

    #[test]
    fn action_patterns_are_classified() {
        assert_eq!(action("*"), "all");
        assert_eq!(action("**"), "all");
        assert_eq!(action("*:*"), "global");
        assert_eq!(action("s?:get*"), "global");
        assert_eq!(action("s3*:get"), "global");
        assert_eq!(action("S3:GetObject"), "exact s3 s3:getobject");
        assert_eq!(action("s3:get*"), "in s3");
        assert_eq!(action("s3:*"), "in s3");
        assert_eq!(action("s3:a:b*"), "in s3");
    }
}

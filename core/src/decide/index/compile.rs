//! Building the [`Index`] of a store: interning, statement records, tables, principals.

use super::actions::PatternId;
use super::principals::{Found, PrincipalKind, PrincipalMap};
use super::{
    ActionClass, ActionId, Cand, Dir, Hot, Index, Probe, ResourceKind, ServiceId, Span, StmtRef, TableRef, ACT_CHECK,
    ACT_MATCHED, EMPTY_KEY, PAT_ANY, PAT_EXACT, PAT_GLOB, PAT_PREFIX, PAT_TEMPLATE, SERVICE_BIT,
};
use crate::id::PolicyId;
use crate::policy::ast::{Effect, Statement};
use crate::policy::glob::{owned_parts, Piece, Template};
use crate::store::Store;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

/// An action pattern, split at its first colon.
#[derive(Clone, Copy)]
pub(super) enum ActionPattern<'t> {
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
pub(super) fn classify_action(t: &Template) -> ActionPattern<'_> {
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
    /// The interned actions tables list it under: `Listed`: the ones it names; `Wild`: the ones
    /// it names in services where it has no wildcard.
    listed: SmallVec<[ActionId; 2]>,
    /// `Wild` without a global pattern: services in which it has a wildcard pattern.
    wild_services: SmallVec<[ServiceId; 1]>,
    /// `Wild`: it has a pattern with a wildcard in the service part (listed as global only).
    global: bool,
    /// The probes of its candidate entries (one entry per probe).
    probes: SmallVec<[Probe; 1]>,
}

/// Compile-time state.
#[derive(Default)]
struct Compiler {
    index: Index,
    /// The head of every statement's record, and where the record is in the blob.
    hots: Vec<(Hot, u32)>,
    infos: Vec<StmtInfo>,
    /// First statement of each policy in `index.stmts` (one more entry than policies).
    first: Vec<u32>,
    /// Tables by their sorted policy list.
    tables_by_list: FxHashMap<Box<[PolicyId]>, TableRef>,
    /// Sorted table entries of every policy ([`Compiler::policy_entries`]).
    entries: Vec<u64>,
    /// Per policy, the ranges of its entries keyed by action, keyed by service, global, universal.
    policy_ranges: Vec<[(u32, u32); 4]>,
    /// Scratch buffers of the table builder.
    scratch: [Vec<u64>; 4],
    /// A table's runs being built.
    runs: Vec<Dir>,
    /// The service of each interned action.
    action_service: Vec<ServiceId>,
    /// Every statement's candidate entries (one per probe), statement by statement, their
    /// action check as a universal run needs it: copied into each run that lists the statement.
    stmt_cands: Vec<Cand>,
    /// Where each statement's entries start in `stmt_cands` (one more than statements).
    stmt_first: Vec<u32>,
}

pub(super) fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The action check of the entries of a run.
#[derive(Clone, Copy)]
enum RunAct {
    /// The run's key is one of the statement's literal actions.
    Matched,
    /// The statement's action block is checked per request.
    Check,
    /// A universal run: matched for `*`, checked for `NotAction`.
    AsCompiled,
}

/// A sort key: `key`, then Deny before Allow, then the statement.
fn pair(key: u32, effect: Effect, stmt: StmtRef) -> u64 {
    let allow = u64::from(effect == Effect::Allow);
    (u64::from(key) << 32) | (allow << 31) | u64::from(stmt & 0x7fff_ffff)
}

/// The action class of a statement whose action patterns are `kinds`.
fn action_class(s: &Statement, kinds: &[ActionPattern<'_>]) -> ActionClass {
    let all = kinds.iter().any(|k| matches!(k, ActionPattern::All));
    let wild = kinds.iter().any(|k| !matches!(k, ActionPattern::Exact { .. }));
    match (s.action.not, all, wild) {
        (false, true, _) => ActionClass::All,
        (false, false, false) => ActionClass::Listed,
        (false, false, true) => ActionClass::Wild,
        (true, false, _) => ActionClass::AllBut,
        (true, true, _) => ActionClass::Nothing,
    }
}

/// The literal prefix of a resource pattern and whether it is the whole pattern.
fn literal_prefix(t: &Template) -> (&str, bool) {
    match t.pieces().as_slice() {
        [Piece::Text(text)] => (*text, true),
        [Piece::Text(text), ..] => (*text, false),
        [] => ("", true),
        _ => ("", false),
    }
}

/// The probes of a statement's candidate entries: one per `Resource` pattern (up to three), so
/// each entry rejects what its pattern cannot match; one shared probe (the patterns' common
/// literal prefix) for more patterns; none for `NotResource`, no resource, or a pattern without
/// a literal prefix of 4 bytes.
fn probes(s: &Statement) -> SmallVec<[Probe; 1]> {
    let none = || SmallVec::from_elem(Probe::default(), 1);
    let Some(block) = s.resource.as_ref().filter(|b| !b.not) else { return none() };
    let own: SmallVec<[Probe; 1]> = block
        .patterns
        .iter()
        .map(|t| {
            let (literal, exact) = literal_prefix(t);
            Probe::of(literal, exact && !t.has_variables())
        })
        .collect();
    if own.is_empty() || own.iter().any(|p| *p == Probe::default()) {
        return none();
    }
    if own.len() <= 3 {
        return own;
    }
    let mut common = literal_prefix(&block.patterns[0]).0.as_bytes();
    for t in block.patterns.iter().skip(1) {
        let n = common.iter().zip(literal_prefix(t).0.as_bytes()).take_while(|(a, b)| a == b).count();
        common = common.get(..n).unwrap_or_default();
    }
    SmallVec::from_elem(std::str::from_utf8(common).map_or(Probe::default(), |c| Probe::of(c, false)), 1)
}

impl Compiler {
    fn intern_service(&mut self, service: &str) -> ServiceId {
        if let Some(&id) = self.index.services.get(service) {
            return id;
        }
        let id = to_u32(self.index.services.len());
        self.index.services.insert(service.into(), id);
        id
    }

    /// Pass 1: interns every literal action and service of every action pattern, and numbers
    /// every wildcard action pattern in its service's automaton.
    fn intern(&mut self, store: &Store) {
        for p in &store.policies {
            for s in &p.policy.statements {
                for t in &s.action.patterns {
                    match classify_action(t) {
                        ActionPattern::Exact { service, action } => {
                            if !self.index.actions.contains_key(action) {
                                let service = self.intern_service(service);
                                let id = to_u32(self.index.actions.len());
                                self.index.actions.insert(action.into(), (id, service));
                            }
                        }
                        ActionPattern::InService(service) => {
                            self.intern_service(service);
                        }
                        ActionPattern::All | ActionPattern::Global => {}
                    }
                }
            }
        }
        // Numbered service by service, so that a table lays each service's action runs next to
        // its service run ([`Compiler::build_table`]).
        let mut order: Vec<(ServiceId, &str)> = self.index.actions.iter().map(|(a, &(_, s))| (s, &**a)).collect();
        order.sort_unstable();
        let ids: Vec<(Box<str>, ServiceId)> = order.into_iter().map(|(s, a)| (a.into(), s)).collect();
        self.action_service = ids.iter().map(|&(_, s)| s).collect();
        for (id, (action, service)) in ids.into_iter().enumerate() {
            self.index.actions.insert(action, (to_u32(id), service));
        }
    }

    /// The exact action ids and wildcard pattern ids of a statement's action block, each sorted.
    fn action_ids(
        &mut self,
        s: &Statement,
        kinds: &[ActionPattern<'_>],
        info: &mut StmtInfo,
    ) -> (SmallVec<[u32; 4]>, SmallVec<[PatternId; 2]>) {
        let (mut exact, mut wild) = (SmallVec::<[u32; 4]>::new(), SmallVec::<[PatternId; 2]>::new());
        for (t, kind) in s.action.patterns.iter().zip(kinds) {
            match *kind {
                ActionPattern::Exact { action, .. } => exact.extend(self.index.actions.get(action).map(|&(a, _)| a)),
                ActionPattern::InService(service) => {
                    wild.push(self.index.automata.add(Some(service), owned_parts(t.tokens())));
                    if let Some(&id) = self.index.services.get(service) {
                        if !info.wild_services.contains(&id) {
                            info.wild_services.push(id);
                        }
                    }
                }
                ActionPattern::Global => {
                    wild.push(self.index.automata.add(None, owned_parts(t.tokens())));
                    info.global = true;
                }
                ActionPattern::All => {}
            }
        }
        exact.sort_unstable();
        exact.dedup();
        wild.sort_unstable();
        wild.dedup();
        (exact, wild)
    }

    /// The actions a statement is listed under (see [`StmtInfo::listed`]).
    fn listed(&self, kinds: &[ActionPattern<'_>], class: ActionClass, info: &mut StmtInfo, exact: &[u32]) {
        match class {
            ActionClass::Listed => info.listed.extend_from_slice(exact),
            // Visited for every action: listed nowhere else.
            ActionClass::Wild if info.global => info.wild_services.clear(),
            ActionClass::Wild => {
                for kind in kinds {
                    if let ActionPattern::Exact { service, action } = *kind {
                        let other = self.index.services.get(service).is_none_or(|id| !info.wild_services.contains(id));
                        if let (true, Some(&(a, _))) = (other, self.index.actions.get(action)) {
                            info.listed.push(a);
                        }
                    }
                }
                info.listed.sort_unstable();
                info.listed.dedup();
            }
            ActionClass::All | ActionClass::AllBut | ActionClass::Nothing => {}
        }
    }

    /// Appends a resource pattern to the blob: its tag, then its literal text (length first) or
    /// its number (in [`Index::globs`] or [`Index::templates`]).
    fn push_resource(&mut self, t: &Template) {
        let (tag, n, text): (u8, u32, &str) = if t.has_variables() {
            self.index.templates.push(t.clone());
            (PAT_TEMPLATE, to_u32(self.index.templates.len() - 1), "")
        } else {
            // Without variables the pieces are text (escapes applied, adjacent text merged), `*`, `?`.
            match t.pieces().as_slice() {
                [Piece::Star] => (PAT_ANY, 0, ""),
                [] => (PAT_EXACT, 0, ""),
                [Piece::Text(lit)] => (PAT_EXACT, to_u32(lit.len()), *lit),
                [Piece::Text(head), Piece::Star] => (PAT_PREFIX, to_u32(head.len()), *head),
                _ => {
                    self.index.globs.push(owned_parts(t.tokens()).into_boxed_slice());
                    (PAT_GLOB, to_u32(self.index.globs.len() - 1), "")
                }
            }
        };
        let blob = &mut self.index.blob;
        blob.push(tag);
        if tag != PAT_ANY {
            blob.extend_from_slice(&n.to_le_bytes());
            blob.extend_from_slice(text.as_bytes());
        }
    }

    /// Appends the record of statement `pos` of policy `p` to the blob.
    fn compile_statement(&mut self, p: usize, pos: usize, s: &Statement) {
        let kinds: SmallVec<[ActionPattern<'_>; 4]> = s.action.patterns.iter().map(classify_action).collect();
        let class = action_class(s, &kinds);
        let mut info = StmtInfo { probes: probes(s), ..StmtInfo::default() };
        let (exact, wild) = self.action_ids(s, &kinds, &mut info);
        self.listed(&kinds, class, &mut info, &exact);
        let patterns = s.resource.as_ref().map_or(&[][..], |b| &b.patterns[..]);
        let counts = [exact.len(), wild.len(), patterns.len(), s.conditions.len()];
        let oversized = counts.iter().any(|&k| k > usize::from(u16::MAX));
        let n = |k: usize| if oversized { 0 } else { u16::try_from(k).unwrap_or(0) };
        if oversized {
            // Every candidate entry checks this record, which lets every action through to the
            // evaluator's AST check.
            info.listed.clear();
            info.wild_services.clear();
            info.global = true;
        }
        let at = to_u32(self.index.blob.len());
        let hot = Hot {
            policy: PolicyId(to_u32(p)),
            pos: to_u32(pos),
            effect: s.effect,
            class: if oversized { ActionClass::Wild } else { class },
            resource: match &s.resource {
                None => ResourceKind::Implicit,
                Some(b) if b.not => ResourceKind::NotResource,
                Some(_) => ResourceKind::Resource,
            },
            oversized,
            n_exact: n(exact.len()),
            n_wild: n(wild.len()),
            n_pats: n(patterns.len()),
            n_conds: n(s.conditions.len()),
            conds: to_u32(self.index.conds.len()),
            ids: at + to_u32(super::HEAD_BYTES),
        };
        hot.encode(&mut self.index.blob);
        for id in exact.iter().take(usize::from(hot.n_exact)).chain(wild.iter().take(usize::from(hot.n_wild))) {
            self.index.blob.extend_from_slice(&id.to_le_bytes());
        }
        for t in patterns.iter().take(usize::from(hot.n_pats)) {
            self.push_resource(t);
        }
        self.index.conds.extend(s.conditions.iter().take(usize::from(hot.n_conds)).cloned());
        let act = if class == ActionClass::All && !oversized { ACT_MATCHED } else { ACT_CHECK };
        self.stmt_first.push(to_u32(self.stmt_cands.len()));
        self.stmt_cands.extend(info.probes.iter().map(|&probe| Cand::new(at, probe, act)));
        self.hots.push((hot, at));
        self.infos.push(info);
    }

    /// Reserves what compiling the statements fills (the blob at most), so that no array is
    /// copied while it grows.
    fn reserve_statements(&mut self, store: &Store) {
        let statements = || store.policies.iter().flat_map(|p| &p.policy.statements);
        let n = statements().count();
        self.hots.reserve_exact(n);
        self.infos.reserve_exact(n);
        self.stmt_first.reserve_exact(n + 1);
        self.first.reserve_exact(store.policies.len() + 1);
        self.policy_ranges.reserve_exact(store.policies.len());
        self.index.conds.reserve_exact(statements().map(|s| s.conditions.len()).sum());
        let record = |s: &Statement| {
            let patterns = s.resource.as_ref().map_or(&[][..], |b| &b.patterns[..]);
            super::HEAD_BYTES + 4 * s.action.patterns.len() + patterns.iter().map(|t| 5 + t.raw.len()).sum::<usize>()
        };
        self.index.blob.reserve_exact(statements().map(record).sum());
        let probes = |s: &Statement| s.resource.as_ref().map_or(1, |b| b.patterns.len().clamp(1, 3));
        self.stmt_cands.reserve_exact(statements().map(probes).sum());
    }

    /// Pass 2: compiles every statement.
    fn compile_statements(&mut self, store: &Store) {
        for (p, named) in store.policies.iter().enumerate() {
            self.first.push(to_u32(self.hots.len()));
            for (pos, s) in named.policy.statements.iter().enumerate() {
                self.compile_statement(p, pos, s);
            }
        }
        self.first.push(to_u32(self.hots.len()));
        self.stmt_first.push(to_u32(self.stmt_cands.len()));
        self.index.automata.build();
        self.index.precompute_matched();
    }

    /// The sorted entries each policy contributes to a table (keyed by action, keyed by service,
    /// global, universal), so that a table merges a few sorted runs instead of sorting.
    fn policy_entries(&mut self) {
        let keyed: usize = self.infos.iter().map(|i| i.listed.len() + i.wild_services.len() + 1).sum();
        self.entries.reserve_exact(keyed);
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
                let (Some((h, _)), Some(info)) = (self.hots.get(i as usize), self.infos.get(i as usize)) else {
                    continue;
                };
                match h.class {
                    ActionClass::Listed | ActionClass::Wild => {
                        keyed.extend(info.listed.iter().map(|&a| pair(a, h.effect, i)));
                        services.extend(info.wild_services.iter().map(|&s| pair(s, h.effect, i)));
                        if info.global {
                            global.push(pair(0, h.effect, i));
                        }
                    }
                    ActionClass::All | ActionClass::AllBut => universal.push(pair(0, h.effect, i)),
                    ActionClass::Nothing => {}
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

    /// The table of the policies `ids` (order and repetition do not matter), built once per
    /// distinct set.
    fn table(&mut self, ids: impl Iterator<Item = PolicyId>) -> TableRef {
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

    fn build_table(&mut self, list: &[PolicyId]) -> TableRef {
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
        let mut runs = std::mem::take(&mut self.runs);
        runs.clear();
        let global = self.run(global, RunAct::Check);
        let universal = self.run(universal, RunAct::AsCompiled);
        // Each service's run, then the runs of its actions (action ids are numbered service by
        // service): the two runs a query reads are neighbours.
        let (mut keyed, mut services): (&[u64], &[u64]) = (keyed, services);
        loop {
            let key = |pairs: &[u64]| pairs.first().map(|&p| (p >> 32) as u32);
            let action_service = key(keyed).map(|a| self.action_service.get(a as usize).copied().unwrap_or(u32::MAX));
            let (pairs, kind, act) = match (action_service, key(services)) {
                (None, None) => break,
                (Some(a), Some(s)) if a < s => (&mut keyed, 0, RunAct::Matched),
                (Some(_), None) => (&mut keyed, 0, RunAct::Matched),
                (_, Some(_)) => (&mut services, SERVICE_BIT, RunAct::Check),
            };
            let key = key(pairs).unwrap_or_default();
            let n = pairs.iter().take_while(|&&p| (p >> 32) as u32 == key).count();
            let (run, rest) = pairs.split_at(n);
            runs.push(Dir { key: key | kind, span: self.run(run, act) });
            *pairs = rest;
        }
        let t = self.directory(global, universal, &runs);
        self.scratch = scratch;
        self.runs = runs;
        t
    }

    /// Appends a table's directory region: its global and universal runs, then `runs` hashed
    /// into `2^bits` slots (at most 80 % full, so that linear probing stays short).
    fn directory(&mut self, global: Span, universal: Span, runs: &[Dir]) -> TableRef {
        let bits = directory_bits(runs.len());
        let dir = to_u32(self.index.dirs.len());
        self.index.dirs.push(Dir { key: EMPTY_KEY, span: global });
        self.index.dirs.push(Dir { key: EMPTY_KEY, span: universal });
        let base = self.index.dirs.len();
        let size = 1usize << bits;
        self.index.dirs.resize(base + size, Dir { key: EMPTY_KEY, span: Span::default() });
        for run in runs {
            let mut i = super::home(run.key, bits);
            while let Some(slot) = self.index.dirs.get_mut(base + i) {
                if slot.key == EMPTY_KEY {
                    *slot = *run;
                    break;
                }
                i = (i + 1) & (size - 1);
            }
        }
        TableRef { dir, bits }
    }

    /// Appends sorted `pairs` (all with one key) to the candidates as one run: one entry per
    /// probe of each statement, its action check `act`.
    fn run(&mut self, pairs: &[u64], act: RunAct) -> Span {
        let start = to_u32(self.index.cands.len());
        let mut mid = None;
        for &p in pairs.iter() {
            if p & (1 << 31) != 0 && mid.is_none() {
                mid = Some(to_u32(self.index.cands.len()));
            }
            let stmt = (p & 0x7fff_ffff) as usize;
            let (Some(&from), Some(&to)) = (self.stmt_first.get(stmt), self.stmt_first.get(stmt + 1)) else {
                continue;
            };
            let entries = self.stmt_cands.get(from as usize..to as usize).unwrap_or_default();
            self.index.cands.extend(entries.iter().map(|c| match act {
                RunAct::Matched => c.with_act(ACT_MATCHED),
                RunAct::Check => c.with_act(ACT_CHECK),
                RunAct::AsCompiled => *c,
            }));
        }
        let end = to_u32(self.index.cands.len());
        Span { start, mid: mid.unwrap_or(end), end }
    }

    fn policy_table(&mut self, id: PolicyId) {
        if self.index.policy_tables.get(id.index()).is_some_and(Option::is_none) {
            let t = self.table(std::iter::once(id));
            if let Some(slot) = self.index.policy_tables.get_mut(id.index()) {
                *slot = Some(t);
            }
        }
    }

    /// The candidate entries and the directory keys (at most) each policy adds to a table
    /// that holds it.
    fn weights(&self) -> Vec<(usize, usize)> {
        let probes = |p: &u64| {
            let i = (p & 0x7fff_ffff) as usize;
            match (self.stmt_first.get(i), self.stmt_first.get(i + 1)) {
                (Some(&a), Some(&b)) => (b - a) as usize,
                _ => 0,
            }
        };
        let entries = |(start, end): (u32, u32)| self.entries.get(start as usize..end as usize).unwrap_or_default();
        // Entries are sorted by key: a key starts wherever it differs from the previous one.
        let keys = |r: (u32, u32)| {
            let e = entries(r);
            e.windows(2).filter(|w| w[0] >> 32 != w[1] >> 32).count() + usize::from(!e.is_empty())
        };
        self.policy_ranges
            .iter()
            .map(|ranges| {
                let cands = ranges.iter().map(|&r| entries(r).iter().map(probes).sum::<usize>()).sum();
                (cands, keys(ranges[0]) + keys(ranges[1]))
            })
            .collect()
    }

    /// Reserves the candidate entries and directory slots all tables need at most (tables
    /// shared by several principals count once each), so that neither array is copied while it
    /// grows and the allocator keeps no abandoned copies; trimmed at the end.
    fn reserve(&mut self, store: &Store) {
        let weights = self.weights();
        let weight = |ids: &mut dyn Iterator<Item = PolicyId>| -> (usize, usize) {
            let (cands, keys) = ids
                .map(|id| weights.get(id.index()).copied().unwrap_or_default())
                .fold((0, 0), |(c, k), (dc, dk)| (c + dc, k + dk));
            (cands, 2 + directory_size(keys))
        };
        let tables = store
            .users
            .iter()
            .map(|u| weight(&mut u.policy_ids(store)))
            .chain(store.roles.iter().map(|r| weight(&mut r.policy_ids())))
            .chain(weights.iter().map(|&(c, k)| (c, 2 + directory_size(k))));
        let (cands, dirs) = tables.fold((0, 0), |(c, d), (dc, dd)| (c + dc, d + dd));
        self.index.cands.reserve_exact(cands);
        self.index.dirs.reserve_exact(dirs);
    }

    /// Pass 3: the tables of every principal and of every policy evaluated on its own.
    fn tables(&mut self, store: &Store) {
        self.reserve(store);
        self.index.policy_tables = vec![None; store.policies.len()];
        self.index.user_tables = store.users.iter().map(|u| u.policy_ids(store)).map(|ids| self.table(ids)).collect();
        self.index.role_tables = store.roles.iter().map(|r| self.table(r.policy_ids())).collect();
        for id in store.users.iter().filter_map(|u| u.boundary) {
            self.policy_table(id);
        }
        for r in &store.roles {
            self.policy_table(r.trust);
            if let Some(b) = r.boundary {
                self.policy_table(b);
            }
        }
        for rp in &store.resource_policies {
            self.policy_table(rp.policy);
        }
        if let Some(org) = &store.organization {
            for p in org.scps.iter().chain(&org.rcps) {
                self.policy_table(p.policy);
            }
        }
    }
}

/// The log2 of the size of a directory of `keys` keys (at most 80 % full).
fn directory_bits(keys: usize) -> u8 {
    let mut bits = 1u8;
    while (1usize << bits) < keys + keys.div_ceil(4) + 1 {
        bits += 1;
    }
    bits
}

/// The slots of a directory of `keys` keys.
fn directory_size(keys: usize) -> usize {
    1 << directory_bits(keys)
}

/// The principals of `store` by ARN (users, roles) and session prefix (roles), with their tables.
fn principals(store: &Store, index: &Index) -> PrincipalMap {
    let mut map = PrincipalMap::with_capacity(store.users.len() + 2 * store.roles.len());
    for (i, u) in store.users.iter().enumerate() {
        let table = index.user_table(i).unwrap_or_default();
        map.insert(&u.arn, Found { kind: PrincipalKind::User, ix: i, table, boundary: u.boundary });
    }
    let role = |kind, i: usize| {
        let table = index.role_table(i).unwrap_or_default();
        Found { kind, ix: i, table, boundary: store.roles.get(i).and_then(|r| r.boundary) }
    };
    for (i, r) in store.roles.iter().enumerate() {
        map.insert(&r.arn, role(PrincipalKind::Role, i));
    }
    for (prefix, &i) in &store.role_by_session_prefix {
        map.insert(prefix, role(PrincipalKind::Session, i));
    }
    map
}

/// Resource policies by ARN, SCP and RCP levels and organization paths by account.
fn organization(store: &Store, index: &mut Index) {
    for (i, rp) in store.resource_policies.iter().enumerate() {
        index.rp_by_arn.entry(rp.arn.as_str().into()).or_default().push(i);
    }
    let Some(org) = &store.organization else { return };
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

/// Builds the index of `store`.
pub(crate) fn compile(store: &Store) -> Index {
    let mut c = Compiler::default();
    c.intern(store);
    c.reserve_statements(store);
    c.compile_statements(store);
    c.policy_entries();
    c.tables(store);
    let mut index = c.index;
    index.cands.shrink_to_fit();
    index.dirs.shrink_to_fit();
    index.blob.shrink_to_fit();
    index.principals = principals(store, &index);
    organization(store, &mut index);
    index
}

#[cfg(test)]
mod tests {
    use super::super::Pat;
    use super::*;
    use crate::policy::glob::Vars;

    /// A store of one user, `u`, whose one inline policy is `doc`.
    fn one_user_store(doc: &str) -> Store {
        let account = format!(
            r#"{{"AccountId": "111122223333", "UserDetailList": [{{"UserName": "u", "UserPolicyList":
            [{{"PolicyName": "P", "PolicyDocument": {doc}}}]}}]}}"#
        );
        Store::from_documents([("a.json", account.as_str())]).unwrap()
    }

    /// The records of a one-statement policy's statement, decoded back.
    fn record(statement: &str) -> (Hot, Vec<String>, Index) {
        let doc = format!(r#"{{"Version": "2012-10-17", "Statement": [{statement}]}}"#);
        let store = one_user_store(&doc);
        let index = compile(&store);
        let hot = Hot::decode(&index.blob, 0).unwrap();
        let pats = index
            .patterns(&hot)
            .map(|p| match p {
                Pat::Any => "any".to_owned(),
                Pat::Exact(t) => format!("exact {}", String::from_utf8_lossy(t)),
                Pat::Prefix(t) => format!("prefix {}", String::from_utf8_lossy(t)),
                Pat::Glob(i) => format!("glob {i} of {} parts", index.glob(i).len()),
                Pat::Template(i) => format!("template {i}"),
            })
            .collect();
        (hot, pats, index)
    }

    #[test]
    fn statement_records_hold_their_resource_patterns() {
        let (hot, pats, _) = record(
            r#"{"Effect": "Deny", "Action": ["s3:Get*", "s3:PutObject"], "Resource": ["*", "arn:aws:s3:::b/k",
               "arn:aws:s3:::b/*", "arn:aws:s3:::*log*", "arn:aws:s3:::b/?", "arn:aws:s3:::b/${aws:username}/*",
               "arn:aws:s3:::b/${*}", "arn:aws:s3:::é/ü"], "Condition": {"Bool": {"aws:SecureTransport": "true"}}}"#,
        );
        assert_eq!(
            pats,
            [
                "any",
                "exact arn:aws:s3:::b/k",
                "prefix arn:aws:s3:::b/",
                "glob 0 of 4 parts",
                "glob 1 of 2 parts",
                "template 0",
                // An escaped wildcard is literal text.
                "exact arn:aws:s3:::b/*",
                "exact arn:aws:s3:::é/ü",
            ]
        );
        assert_eq!(
            (hot.effect, hot.class, hot.resource, hot.has_conditions()),
            (Effect::Deny, ActionClass::Wild, ResourceKind::Resource, true)
        );
        assert_eq!((hot.n_exact, hot.n_wild, hot.pos, hot.policy), (1, 1, 0, PolicyId(0)));
        let (hot, pats, _) = record(r#"{"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::x"}"#);
        assert_eq!(pats, ["exact arn:aws:s3:::x"]);
        assert_eq!(
            (hot.effect, hot.class, hot.resource, hot.has_conditions()),
            (Effect::Allow, ActionClass::AllBut, ResourceKind::NotResource, false)
        );
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
    fn interned_actions_carry_the_wildcard_patterns_that_match_them() {
        let (_, _, index) = record(
            r#"{"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "sqs:SendMessage", "s3:Get*",
            "*:*object", "s3:?utObject", "sqs:*"], "Resource": "*"}"#,
        );
        assert!(!index.actions.is_empty());
        for (action, &(id, _)) in &index.actions {
            let service = action.split_once(':').map_or(&**action, |(s, _)| s);
            let pre = index.matched_of(id).expect("every interned action has its list");
            assert_eq!(pre, index.automata.matching(service, action).ids(), "{action}");
            let key = index.action_key(action);
            assert_eq!(key.pre, Some(pre));
        }
        // `s3:getobject` matches `s3:Get*` and `*:*object`; `s3:putobject` the latter and `s3:?utObject`.
        let get = index.actions.get("s3:getobject").map(|&(a, _)| a).unwrap();
        assert_eq!(index.matched_of(get).map(<[u32]>::len), Some(2));
        // An action no policy names gets no list: the automata answer it at decision time.
        assert_eq!(index.action_key("s3:listbucket").pre, None);
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

    /// A statement with more resource patterns (or conditions) than a record counts is decided
    /// from its AST: none of its patterns is dropped, so its Deny still applies.
    #[test]
    fn oversized_statements_are_decided_from_their_ast() {
        use crate::{Decision, Request, Snapshot};
        let many: Vec<String> = (0..70_000).map(|i| format!("\"arn:aws:s3:::b/k{i}\"")).collect();
        let deny = format!(r#"{{"Effect": "Deny", "Action": "s3:GetObject", "Resource": [{}]}}"#, many.join(","));
        let allow = r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}"#;
        let doc = format!(r#"{{"Version": "2012-10-17", "Statement": [{deny}, {allow}]}}"#);
        let store = one_user_store(&doc);
        let snapshot = Snapshot::new(store);
        let hot = Hot::decode(&snapshot.index_for_tests().blob, 0).unwrap();
        assert!(hot.oversized);
        let user = "arn:aws:iam::111122223333:user/u";
        for (resource, action, want) in [
            ("arn:aws:s3:::b/k69999", "s3:GetObject", Decision::ExplicitDeny),
            ("arn:aws:s3:::b/k0", "s3:getobject", Decision::ExplicitDeny),
            ("arn:aws:s3:::b/k70000", "s3:GetObject", Decision::Allowed),
            ("arn:aws:s3:::b/k69999", "s3:PutObject", Decision::Allowed),
        ] {
            let req = Request::new(user, action, resource).unwrap();
            assert_eq!(snapshot.decide(&req), want, "{action} {resource}");
            assert_eq!(crate::reference::authorize(snapshot.store(), &req).decision(), want);
        }
    }
}

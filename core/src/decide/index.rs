//! Store → decision index: what [`crate::Snapshot`] answers from.
//!
//! The reference evaluator walks every statement of every policy for each request. The index
//! does that work once, at load time, and lays it out so that a decision over a stream of
//! different principals touches few cache lines:
//! - every statement is compiled once into one contiguous record of a flat byte array
//!   ([`Hot`]: effect, action class, condition flag, then its exact action ids, its wildcard
//!   pattern ids and its resource patterns with their literal text), so a candidate that passes
//!   its probe is decided from one or two adjacent cache lines; the whole index is a handful of
//!   allocations, freed together when a snapshot is dropped;
//! - literal actions (`s3:getobject`) and service prefixes are interned across the store; every
//!   wildcard action pattern is compiled into its service's multi-pattern automaton
//!   ([`actions`]), so one pass over any request action (named literally by a policy or not)
//!   yields every wildcard pattern it matches;
//! - a **candidate table** is built per distinct identity-policy list (principals with the same
//!   attachments share it) and per policy that is evaluated on its own (boundaries, trust and
//!   resource policies, SCPs, RCPs). A table is one directory region ([`TableRef`]): its
//!   statements with a wildcard service part, those matching every action but a few (`*`,
//!   `NotAction`), then a small open-addressed directory from interned action (statements with
//!   a literal pattern for it) and service (statements with a wildcard pattern in it) to runs of
//!   candidate entries, Deny first;
//! - a candidate entry ([`Cand`], 8 bytes) carries the statement and a probe of one of its
//!   resource patterns (the pattern's literal length, exact or prefix, and a hash of its last 4
//!   literal bytes), so most candidates are rejected from the run itself without reading the statement;
//! - principals are found by ARN in one probe of an open-addressed table whose slots hold the
//!   ARN's first bytes and the principal's table ([`principals`]);
//! - resource policies are found by ARN (and by each `/`-prefix of the request's resource), SCP
//!   and RCP levels are resolved per account.
//!
//! Invariant: for every table, every request action and every statement of the table's policies,
//! "the statement is a candidate that passes [`Index::visit`]'s action check" equals the
//! reference's [`crate::decide::rules::action_matches`]; the differential tests check the whole decision
//! against [`crate::decide::reference`].

mod actions;
mod compile;
pub(crate) mod principals;

use crate::id::PolicyId;
use crate::policy::ast::{Condition, Effect, Statement};
use crate::policy::glob::{OwnedPart, Template};
use crate::store::Store;
use actions::{ActionAutomata, Matched, PatternId};
pub(crate) use compile::compile;
use principals::PrincipalMap;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use std::cell::OnceCell;

/// An interned service prefix (`s3`).
type ServiceId = u32;
/// An interned literal action (`s3:getobject`).
type ActionId = u32;
/// A statement: the offset of its record in [`Index::blob`] (at compile time: its position in
/// the store's statements).
type StmtRef = u32;

/// A candidate table: where its directory region starts in [`Index::dirs`] and the log2 of its
/// hash directory's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct TableRef {
    dir: u32,
    bits: u8,
}

/// How a statement's `Action`/`NotAction` block relates to actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ActionClass {
    /// `Action` with literal patterns only: matches exactly the interned actions the tables list
    /// it under.
    Listed,
    /// `Action` with a wildcard pattern (not a bare `*`): its exact action ids and its wildcard
    /// pattern ids decide.
    Wild,
    /// `Action` with a `*` pattern: every action.
    All,
    /// `NotAction`: every action its patterns do not match.
    AllBut,
    /// `NotAction` with a `*` pattern: no action.
    Nothing,
}

/// What a statement's resource element is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResourceKind {
    /// No Resource element (trust policies): applies to the request's resource.
    Implicit,
    Resource,
    NotResource,
}

/// A compiled statement: the head of its record in [`Index::blob`]. The record is this head
/// ([`HEAD_BYTES`]), then `n_exact` exact action ids and `n_wild` wildcard pattern ids (4 bytes
/// each, sorted), then `n_pats` resource patterns ([`Pat`], tag byte first). Its conditions are
/// `n_conds` consecutive entries of [`Index::conds`] from `conds`, so that a candidate with
/// conditions is decided without reading the policy's AST.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hot {
    pub policy: PolicyId,
    /// Position in its policy.
    pub pos: u32,
    pub effect: Effect,
    pub class: ActionClass,
    pub resource: ResourceKind,
    /// More action ids, resource patterns or conditions than a record counts (65,535): the
    /// record lists none of them, every action passes [`Index::visit`], and the evaluator
    /// decides the statement from its AST.
    pub oversized: bool,
    n_exact: u16,
    n_wild: u16,
    n_pats: u16,
    n_conds: u16,
    /// Its first condition in [`Index::conds`].
    conds: u32,
    /// Where its action ids start in the blob.
    ids: u32,
}

/// Bytes of a record's head.
const HEAD_BYTES: usize = 24;

/// One resource pattern, classified for fast matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pat<'i> {
    /// `*`: everything.
    Any,
    /// Literal text.
    Exact(&'i [u8]),
    /// `literal*`.
    Prefix(&'i [u8]),
    /// Other wildcards: `Index::globs[i]`, matched segment by segment
    /// ([`crate::policy::glob::match_parts`]).
    Glob(u32),
    /// Policy variables (resolved per request): `Index::templates[i]`.
    Template(u32),
}

/// [`Pat`] tags in a record.
const PAT_ANY: u8 = 0;
const PAT_EXACT: u8 = 1;
const PAT_PREFIX: u8 = 2;
const PAT_GLOB: u8 = 3;
const PAT_TEMPLATE: u8 = 4;

/// The little-endian `u32` at `at`.
#[inline]
fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

#[inline]
fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

impl Hot {
    /// Whether the statement has a Condition block.
    pub(crate) fn has_conditions(&self) -> bool {
        self.n_conds > 0
    }

    /// Appends the head of the record.
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.policy.0.to_le_bytes());
        out.extend_from_slice(&self.pos.to_le_bytes());
        out.push(u8::from(self.effect == Effect::Allow));
        out.push(u8::from(self.oversized));
        out.push(self.class as u8);
        out.push(self.resource as u8);
        for n in [self.n_exact, self.n_wild, self.n_pats, self.n_conds] {
            out.extend_from_slice(&n.to_le_bytes());
        }
        out.extend_from_slice(&self.conds.to_le_bytes());
    }

    /// The head of the record at `at`.
    #[inline]
    fn decode(blob: &[u8], at: usize) -> Option<Hot> {
        let b = blob.get(at..at.checked_add(HEAD_BYTES)?)?;
        let class = match b.get(10)? {
            0 => ActionClass::Listed,
            1 => ActionClass::Wild,
            2 => ActionClass::All,
            3 => ActionClass::AllBut,
            _ => ActionClass::Nothing,
        };
        let resource = match b.get(11)? {
            0 => ResourceKind::Implicit,
            1 => ResourceKind::Resource,
            _ => ResourceKind::NotResource,
        };
        Some(Hot {
            policy: PolicyId(u32_at(b, 0)?),
            pos: u32_at(b, 4)?,
            effect: if *b.get(8)? == 1 { Effect::Allow } else { Effect::Deny },
            oversized: *b.get(9)? != 0,
            class,
            resource,
            n_exact: u16_at(b, 12)?,
            n_wild: u16_at(b, 14)?,
            n_pats: u16_at(b, 16)?,
            n_conds: u16_at(b, 18)?,
            conds: u32_at(b, 20)?,
            ids: u32::try_from(at + HEAD_BYTES).ok()?,
        })
    }
}

/// The resource patterns of a record, decoded one by one.
#[derive(Debug, Clone)]
pub(crate) struct Patterns<'i> {
    blob: &'i [u8],
    at: usize,
    left: u16,
}

impl<'i> Iterator for Patterns<'i> {
    type Item = Pat<'i>;

    #[inline]
    fn next(&mut self) -> Option<Pat<'i>> {
        self.left = self.left.checked_sub(1)?;
        let tag = *self.blob.get(self.at)?;
        if tag == PAT_ANY {
            self.at += 1;
            return Some(Pat::Any);
        }
        let n = u32_at(self.blob, self.at + 1)?;
        self.at += 5;
        Some(match tag {
            PAT_EXACT | PAT_PREFIX => {
                let text = self.blob.get(self.at..self.at + n as usize)?;
                self.at += n as usize;
                if tag == PAT_EXACT {
                    Pat::Exact(text)
                } else {
                    Pat::Prefix(text)
                }
            }
            PAT_GLOB => Pat::Glob(n),
            _ => Pat::Template(n),
        })
    }
}

/// No probe: every resource passes.
const PROBE_NONE: u32 = 0;
/// The resource starts with the pattern's literal (`len` bytes or more).
const PROBE_PREFIX: u32 = 1;
/// The resource is the pattern's literal (exactly `len` bytes).
const PROBE_EXACT: u32 = 2;

/// The entry's statement matches the action of the run it is in.
const ACT_MATCHED: u32 = 0;
/// The statement's action block must be checked ([`Index::action_hit`]).
const ACT_CHECK: u32 = 1 << 2;

/// The longest literal a probe records (12 bits); a longer one gets no probe.
const PROBE_MAX_LEN: usize = (1 << 12) - 1;

/// What a resource must look like for one pattern of a statement to match it, packed in one
/// word: the mode (bits 0–1: none, prefix, exact), the entry's action check (bit 2, set by
/// [`Cand`]), the literal's length (bits 3–14: the resource is exactly that long, or at least),
/// and a 17-bit hash of the literal's last 4 bytes (bits 15–31), compared with the same hash of
/// the resource's 4 bytes at that place. A probe only rejects: a resource it admits is matched
/// against the statement's patterns in full ([`Index::patterns`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Probe(u32);

/// The 17-bit hash of a 4-byte window, in place (bits 15–31).
#[inline]
fn window_hash(w: u32) -> u32 {
    w.wrapping_mul(0x9E37_79B1) & !((1 << 15) - 1)
}

impl Probe {
    /// The probe of a pattern whose literal prefix is `literal` (the whole pattern if `exact`).
    /// No probe for a literal shorter than 4 bytes or longer than [`PROBE_MAX_LEN`].
    fn of(literal: &str, exact: bool) -> Probe {
        let bytes = literal.as_bytes();
        let at = bytes.len().checked_sub(4);
        match (at.and_then(|at| word(bytes, at)), u32::try_from(bytes.len())) {
            (Some(w), Ok(len)) if bytes.len() <= PROBE_MAX_LEN => {
                let mode = if exact { PROBE_EXACT } else { PROBE_PREFIX };
                Probe(window_hash(w) | (len << 3) | mode)
            }
            _ => Probe::default(),
        }
    }

    /// Whether `resource` may match.
    #[inline]
    pub(crate) fn admits(self, resource: &[u8]) -> bool {
        let len = ((self.0 >> 3) & PROBE_MAX_LEN as u32) as usize;
        let length_ok = match self.0 & 3 {
            PROBE_NONE => return true,
            PROBE_EXACT => resource.len() == len,
            _ => resource.len() >= len,
        };
        length_ok && word(resource, len.wrapping_sub(4)).map(window_hash) == Some(self.0 & !((1 << 15) - 1))
    }
}

/// The 4 bytes of `bytes` at `at`, as one word.
#[inline]
fn word(bytes: &[u8], at: usize) -> Option<u32> {
    let w: [u8; 4] = bytes.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_ne_bytes(w))
}

/// A candidate entry (8 bytes; a table's candidates for one key are one contiguous run): the
/// statement's record, and the probe of one of its resource patterns with the entry's action
/// check ([`ACT_CHECK`]) in its bit 2.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Cand {
    stmt: StmtRef,
    meta: u32,
}

impl Cand {
    fn new(stmt: StmtRef, probe: Probe, act: u32) -> Cand {
        Cand { stmt, meta: probe.0 | act }
    }

    #[inline]
    fn probe(&self) -> Probe {
        Probe(self.meta & !ACT_CHECK)
    }

    #[inline]
    fn act(&self) -> u32 {
        self.meta & ACT_CHECK
    }

    /// The entry with action check `act`.
    fn with_act(self, act: u32) -> Cand {
        Cand { stmt: self.stmt, meta: (self.meta & !ACT_CHECK) | act }
    }
}

const _: () = assert!(std::mem::size_of::<Cand>() == 8);

/// A run of candidates in [`Index::cands`]: `start..mid` are Deny statements, `mid..end` Allow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    mid: u32,
    end: u32,
}

/// A directory slot: a key (interned action, or service with [`SERVICE_BIT`]) and its run. The
/// first two slots of a table's region hold its global and universal runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dir {
    key: u32,
    span: Span,
}

/// An empty directory slot.
const EMPTY_KEY: u32 = u32::MAX;
/// Marks a service id in a directory key.
const SERVICE_BIT: u32 = 1 << 31;

/// The slot a key hashes to in a directory of `2^bits` slots.
#[inline]
fn home(key: u32, bits: u8) -> usize {
    (key.wrapping_mul(0x9E37_79B1) >> (32 - u32::from(bits.clamp(1, 31)))) as usize
}

/// A request's action, looked up once in the index's interning tables.
#[derive(Debug)]
pub(crate) struct ActionKey<'r> {
    /// `service:name`, lowercased.
    pub action_lc: &'r str,
    action: Option<ActionId>,
    service: Option<ServiceId>,
    /// The wildcard patterns matching an interned action, found at compile time (sorted).
    pre: Option<&'r [PatternId]>,
    /// The wildcard patterns matching an action that is not interned, computed when first needed.
    matched: OnceCell<Matched>,
}

/// The candidates of one table for one action, on one resource.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Query<'k, 'r> {
    key: &'k ActionKey<'r>,
    resource: &'r str,
    spans: [Span; 4],
}

/// The whole decision index of a store.
#[derive(Debug, Default)]
pub(crate) struct Index {
    /// Every statement of every policy, policy by policy: one record each ([`Hot`]).
    blob: Vec<u8>,
    /// Segments of the glob resource patterns.
    globs: Vec<Box<[OwnedPart]>>,
    /// Resource patterns with policy variables ([`Pat::Template`]), shared with the store.
    templates: Vec<Template>,
    /// The conditions of every statement, statement by statement ([`Hot::conditions`]): copies
    /// of the store's, next to each other, read without the policy's AST.
    conds: Vec<Condition>,
    /// Candidate lists (runs referred to by [`Span`]s).
    cands: Vec<Cand>,
    /// The tables' directory regions.
    dirs: Vec<Dir>,
    /// The identity table of each user (by position in `Store::users`).
    user_tables: Vec<TableRef>,
    /// The identity table of each role (by position in `Store::roles`).
    role_tables: Vec<TableRef>,
    /// The table of each policy evaluated on its own (boundaries, trust, resource, SCP, RCP), by
    /// [`PolicyId`].
    policy_tables: Vec<Option<TableRef>>,
    /// Interned service prefixes of literal action patterns.
    services: FxHashMap<Box<str>, ServiceId>,
    /// Interned literal actions (`s3:getobject`) with their service.
    actions: FxHashMap<Box<str>, (ActionId, ServiceId)>,
    /// The wildcard action patterns, per service.
    automata: ActionAutomata,
    /// The wildcard patterns matching each interned action (sorted), found once at compile
    /// time: `action_matched[action_matched_at[a]..action_matched_at[a + 1]]` for action id `a`.
    action_matched: Vec<PatternId>,
    action_matched_at: Vec<u32>,
    /// Users, roles and role-session prefixes by ARN, with their tables.
    pub principals: PrincipalMap,
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
    /// Looks the request's action up in the interning tables (one hash lookup, two when the
    /// action is not interned). An interned action comes with the wildcard patterns matching it
    /// (no automaton pass per decision).
    pub(crate) fn action_key<'r>(&'r self, action_lc: &'r str) -> ActionKey<'r> {
        let (action, service) = match self.actions.get(action_lc) {
            Some(&(action, service)) => (Some(action), Some(service)),
            None => {
                let service = action_lc.split_once(':').map_or(action_lc, |(s, _)| s);
                (None, self.services.get(service).copied())
            }
        };
        let pre = action.and_then(|a| self.matched_of(a));
        ActionKey { action_lc, action, service, pre, matched: OnceCell::new() }
    }

    /// The wildcard patterns matching interned action `a`, if the compile recorded them.
    fn matched_of(&self, a: ActionId) -> Option<&[PatternId]> {
        let a = a as usize;
        let (start, end) = (*self.action_matched_at.get(a)?, *self.action_matched_at.get(a + 1)?);
        self.action_matched.get(start as usize..end as usize)
    }

    /// Records, for every interned action, the wildcard patterns matching it (after the
    /// automata are built: one pass per interned action, at compile time).
    fn precompute_matched(&mut self) {
        let mut by_id: Vec<(ActionId, &str)> = self.actions.iter().map(|(a, &(id, _))| (id, &**a)).collect();
        by_id.sort_unstable();
        let mut matched = Vec::new();
        let mut at = Vec::with_capacity(by_id.len() + 1);
        at.push(0);
        for (expected, (id, action)) in by_id.iter().enumerate() {
            if *id as usize != expected {
                // Ids are dense by construction; if they were not, leave every action to the
                // automata at decision time.
                return;
            }
            let service = action.split_once(':').map_or(*action, |(s, _)| s);
            matched.extend_from_slice(self.automata.matching(service, action).ids());
            let Ok(end) = u32::try_from(matched.len()) else { return };
            at.push(end);
        }
        matched.shrink_to_fit();
        self.action_matched = matched;
        self.action_matched_at = at;
    }

    /// The identity table of the user at `i` in `Store::users`.
    pub(crate) fn user_table(&self, i: usize) -> Option<TableRef> {
        self.user_tables.get(i).copied()
    }

    /// The identity table of the role at `i` in `Store::roles`.
    pub(crate) fn role_table(&self, i: usize) -> Option<TableRef> {
        self.role_tables.get(i).copied()
    }

    /// The table of policy `id` on its own (boundaries, trust, resource policies, SCPs, RCPs).
    pub(crate) fn policy_table(&self, id: PolicyId) -> Option<TableRef> {
        self.policy_tables.get(id.index()).copied().flatten()
    }

    /// The run of `key` in table `t`: one probe of its directory, usually.
    #[inline]
    fn run(&self, t: TableRef, key: u32) -> Span {
        let size = 1usize << t.bits;
        let slots = self.dirs.get(t.dir as usize + 2..t.dir as usize + 2 + size).unwrap_or_default();
        let mut i = home(key, t.bits);
        for _ in 0..slots.len() {
            match slots.get(i) {
                Some(d) if d.key == key => return d.span,
                Some(d) if d.key == EMPTY_KEY => break,
                Some(_) => i = (i + 1) & (size - 1),
                None => break,
            }
        }
        Span::default()
    }

    /// The candidates of table `t` for the action on `resource`: the action's run, its service's
    /// run, the table's global and universal runs.
    pub(crate) fn query<'k, 'r>(&self, t: TableRef, key: &'k ActionKey<'r>, resource: &'r str) -> Query<'k, 'r> {
        let head = |i: u32| self.dirs.get((t.dir + i) as usize).map(|d| d.span).unwrap_or_default();
        let action = key.action.map(|a| self.run(t, a)).unwrap_or_default();
        let service = key.service.map(|s| self.run(t, s | SERVICE_BIT)).unwrap_or_default();
        Query { key, resource, spans: [action, service, head(0), head(1)] }
    }

    /// Calls `f` on each candidate of `q` with effect `effect` whose Action/NotAction matches the
    /// request's action and whose resource passes the entry's probe, in store order per run,
    /// until `f` returns `true`; returns whether it did.
    pub(crate) fn visit(&self, q: &Query<'_, '_>, effect: Effect, mut f: impl FnMut(&Hot) -> bool) -> bool {
        let resource = q.resource.as_bytes();
        for span in &q.spans {
            let (start, end) = match effect {
                Effect::Deny => (span.start, span.mid),
                Effect::Allow => (span.mid, span.end),
            };
            for cand in self.cands.get(start as usize..end as usize).unwrap_or_default() {
                // Most candidates fail here, without the statement being read.
                if !cand.probe().admits(resource) {
                    continue;
                }
                let Some(h) = Hot::decode(&self.blob, cand.stmt as usize) else { continue };
                if (cand.act() == ACT_MATCHED || self.action_hit(&h, q.key)) && f(&h) {
                    return true;
                }
            }
        }
        false
    }

    /// Whether the Action/NotAction block of `h` matches the request's action: its exact action
    /// ids and its wildcard patterns (through the automata).
    fn action_hit(&self, h: &Hot, key: &ActionKey<'_>) -> bool {
        if h.oversized {
            return true;
        }
        let ids = |from: usize, n: u16| (0..usize::from(n)).filter_map(move |i| u32_at(&self.blob, from + 4 * i));
        let (exact, wild) = (h.ids as usize, h.ids as usize + 4 * usize::from(h.n_exact));
        let hit = key.action.is_some_and(|id| ids(exact, h.n_exact).any(|e| e == id))
            || (h.n_wild > 0 && self.wild_hit(key, ids(wild, h.n_wild)));
        match h.class {
            ActionClass::All => true,
            ActionClass::Nothing => false,
            ActionClass::Listed | ActionClass::Wild => hit,
            ActionClass::AllBut => !hit,
        }
    }

    /// Whether any of the wildcard patterns `ids` matches the request's action: from the
    /// compile's list for an interned action, else from one automaton pass (once per key).
    fn wild_hit(&self, key: &ActionKey<'_>, mut ids: impl Iterator<Item = PatternId>) -> bool {
        if let Some(pre) = key.pre {
            return ids.any(|id| pre.binary_search(&id).is_ok());
        }
        let matched = key.matched.get_or_init(|| {
            let service = key.action_lc.split_once(':').map_or(key.action_lc, |(s, _)| s);
            self.automata.matching(service, key.action_lc)
        });
        matched.any(ids)
    }

    /// The resource patterns of `h`.
    pub(crate) fn patterns(&self, h: &Hot) -> Patterns<'_> {
        let at = h.ids as usize + 4 * (usize::from(h.n_exact) + usize::from(h.n_wild));
        Patterns { blob: &self.blob, at, left: h.n_pats }
    }

    /// The template of a [`Pat::Template`] pattern.
    pub(crate) fn template(&self, i: u32) -> Option<&Template> {
        self.templates.get(i as usize)
    }

    /// The conditions of `h` (all must hold).
    #[inline]
    pub(crate) fn conditions(&self, h: &Hot) -> &[Condition] {
        let start = h.conds as usize;
        self.conds.get(start..start + usize::from(h.n_conds)).unwrap_or_default()
    }

    /// The segments of a [`Pat::Glob`] pattern.
    pub(crate) fn glob(&self, i: u32) -> &[OwnedPart] {
        self.globs.get(i as usize).map_or(&[], |g| &g[..])
    }

    /// The AST of a compiled statement.
    pub(crate) fn statement<'s>(&self, store: &'s Store, h: &Hot) -> Option<&'s Statement> {
        store.policy(h.policy).and_then(|p| p.policy.statements.get(h.pos as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_check_length_and_the_last_literal_bytes() {
        let p = Probe::of("arn:aws:s3:::data-17/", false);
        assert!(p.admits(b"arn:aws:s3:::data-17/x"));
        assert!(p.admits(b"arn:aws:s3:::data-17/"));
        assert!(!p.admits(b"arn:aws:s3:::data-1/x"));
        assert!(!p.admits(b"arn:aws:s3:::data-173/x"));
        assert!(!p.admits(b"arn:aws:s3"));
        let e = Probe::of("arn:aws:s3:::data-17", true);
        assert!(e.admits(b"arn:aws:s3:::data-17"));
        assert!(!e.admits(b"arn:aws:s3:::data-17/x"));
        assert!(!e.admits(b"arn:aws:s3:::data-18"));
        // Shorter than 4 bytes, or empty: no probe, everything passes.
        assert!(Probe::of("ar", false).admits(b"xyz"));
        assert!(Probe::of("", true).admits(b""));
        // Multibyte text compares as bytes, wherever the 4-byte window starts.
        let m = Probe::of("arn:aws:s3:::ééé/", false);
        assert!(m.admits("arn:aws:s3:::ééé/k".as_bytes()));
        assert!(!m.admits("arn:aws:s3:::éé/kk".as_bytes()));
        assert!(!m.admits("arn:aws:s3:::ééè/k".as_bytes()));
    }

    #[test]
    fn directory_slots_are_found_from_their_home() {
        for bits in 1..12u8 {
            for key in [0, 1, 7, SERVICE_BIT | 3, u32::MAX - 1] {
                assert!(home(key, bits) < 1 << bits);
            }
        }
    }
}

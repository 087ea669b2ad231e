//! Wildcard action patterns as automata: per service, every wildcard pattern of the store with
//! that literal service part (`s3:get*`, `s3:*object`) compiled into one multi-pattern DFA
//! (`regex-automata`), plus one DFA for the patterns with a wildcard in the service part
//! (`*:get*`, `s?:list*`). One anchored pass over a request's action yields every pattern that
//! matches it, whether or not any policy names that action literally; a statement's wildcard
//! patterns are then checked by id ([`Matched::any`]) instead of globbing its text.
//!
//! Patterns are whole-string globs on the lowercased action (`*` any run, `?` one character,
//! as [`crate::policy::glob::glob_match`] reads them); each becomes `^…$` with its text escaped
//! character by character, so the DFA and the reference's glob agree on every action (unit tests
//! below; the differential tests check whole decisions).

use crate::policy::glob::{match_parts, OwnedPart};
use regex_automata::dfa::{dense, Automaton, OverlappingState, StartKind};
use regex_automata::{Anchored, Input, MatchKind};
use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use std::fmt::Write as _;

/// A wildcard action pattern: its position in [`ActionAutomata::add`]'s numbering.
pub(crate) type PatternId = u32;

/// Bytes one DFA may take; a larger set of patterns is matched pattern by pattern instead.
const DFA_SIZE_LIMIT: usize = 4 << 20;

/// The wildcard patterns matching one action, sorted (most actions match a handful).
#[derive(Debug, Default, Clone)]
pub(crate) struct Matched(SmallVec<[PatternId; 8]>);

impl Matched {
    /// Whether any of `ids` matched.
    #[inline]
    pub(crate) fn any(&self, mut ids: impl Iterator<Item = PatternId>) -> bool {
        ids.any(|id| self.0.binary_search(&id).is_ok())
    }

    /// The matching pattern ids, sorted, without duplicates.
    pub(crate) fn ids(&self) -> &[PatternId] {
        &self.0
    }
}

/// A pattern waiting for [`ActionAutomata::build`]: its regex, its parts (for the fallback) and id.
type Pending = (String, Box<[OwnedPart]>, PatternId);

/// One group of patterns (a service's, or the global one): their parts and a DFA over them
/// (`None` when it would be too large: the parts are then globbed one by one).
#[derive(Debug)]
struct Group {
    patterns: Vec<(Box<[OwnedPart]>, PatternId)>,
    dfa: Option<dense::DFA<Vec<u32>>>,
}

/// Every wildcard action pattern of a store, grouped by literal service part.
#[derive(Debug, Default)]
pub(crate) struct ActionAutomata {
    /// Pattern ids by their regex (the same pattern in many statements is one id).
    ids: FxHashMap<String, PatternId>,
    /// Patterns being added, per service ("" for the global group), in id order.
    pending: FxHashMap<Box<str>, Vec<Pending>>,
    groups: FxHashMap<Box<str>, Group>,
    global: Option<Group>,
}

impl ActionAutomata {
    /// The id of a wildcard pattern (`service` is its literal service part, `None` when the
    /// service part holds a wildcard), numbering it if it is new. Call [`Self::build`] after
    /// the last one.
    pub(crate) fn add(&mut self, service: Option<&str>, parts: Vec<OwnedPart>) -> PatternId {
        let text = regex(&parts);
        if let Some(&id) = self.ids.get(&text) {
            return id;
        }
        let id = u32::try_from(self.ids.len()).unwrap_or(u32::MAX);
        self.ids.insert(text.clone(), id);
        self.pending.entry(service.unwrap_or("").into()).or_default().push((text, parts.into_boxed_slice(), id));
        id
    }

    /// Compiles the patterns added so far.
    pub(crate) fn build(&mut self) {
        for (service, patterns) in std::mem::take(&mut self.pending) {
            let group = Group::new(patterns);
            if service.is_empty() {
                self.global = Some(group);
            } else {
                self.groups.insert(service, group);
            }
        }
        self.ids = FxHashMap::default();
    }

    /// The patterns matching `action_lc` (`service` is its part before the first colon).
    pub(crate) fn matching(&self, service: &str, action_lc: &str) -> Matched {
        let mut out = Matched::default();
        if let Some(group) = self.groups.get(service) {
            group.matching(action_lc, &mut out.0);
        }
        if let Some(group) = &self.global {
            group.matching(action_lc, &mut out.0);
        }
        out.0.sort_unstable();
        out.0.dedup();
        out
    }
}

impl Group {
    fn new(pending: Vec<Pending>) -> Group {
        let (regexes, patterns): (Vec<String>, Vec<_>) =
            pending.into_iter().map(|(regex, parts, id)| (regex, (parts, id))).unzip();
        let config = dense::Config::new()
            .match_kind(MatchKind::All)
            .start_kind(StartKind::Anchored)
            .dfa_size_limit(Some(DFA_SIZE_LIMIT))
            .determinize_size_limit(Some(DFA_SIZE_LIMIT));
        let dfa = dense::Builder::new().configure(config).build_many(&regexes).ok();
        Group { patterns, dfa }
    }

    /// Appends the ids of the patterns that match all of `action_lc`.
    fn matching(&self, action_lc: &str, out: &mut SmallVec<[PatternId; 8]>) {
        let start = out.len();
        if let Some(dfa) = &self.dfa {
            let input = Input::new(action_lc).anchored(Anchored::Yes);
            let mut state = OverlappingState::start();
            loop {
                // A search error (none is expected: no quit bytes, no look-around) falls back
                // to the globs below, so the answer stays exact.
                if dfa.try_search_overlapping_fwd(&input, &mut state).is_err() {
                    out.truncate(start);
                    break;
                }
                let Some(m) = state.get_match() else { return };
                if m.offset() == action_lc.len() {
                    out.extend(self.patterns.get(m.pattern().as_usize()).map(|(_, id)| *id));
                }
            }
        }
        out.extend(self.patterns.iter().filter(|(parts, _)| match_parts(parts, action_lc)).map(|(_, id)| *id));
    }
}

/// The anchored regex of a glob: literal characters escaped as `\x{…}` (any scalar value),
/// `*` as `(?s:.*)`, `?` as one character.
fn regex(parts: &[OwnedPart]) -> String {
    let mut out = String::from("^");
    for part in parts {
        match part {
            OwnedPart::Lit(text) => {
                for c in text.chars() {
                    if c.is_ascii_alphanumeric() {
                        out.push(c);
                    } else {
                        let _ = write!(out, "\\x{{{:X}}}", u32::from(c));
                    }
                }
            }
            OwnedPart::Star => out.push_str("(?s:.*)"),
            OwnedPart::One => out.push_str("(?s:.)"),
        }
    }
    out.push('$');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::glob::{glob_match, owned_parts, Template, Tok, Vars};

    fn toks(raw: &str) -> Vec<Tok> {
        Template::parse(&raw.to_ascii_lowercase(), true, Vars::Forbidden).unwrap().tokens().to_vec()
    }

    fn parts(raw: &str) -> Vec<OwnedPart> {
        owned_parts(Template::parse(&raw.to_ascii_lowercase(), true, Vars::Forbidden).unwrap().tokens())
    }

    /// Builds automata of `patterns` (service part taken literally when it has no wildcard) and
    /// checks every action against the reference glob.
    fn agree(patterns: &[&str], actions: &[&str]) {
        let mut a = ActionAutomata::default();
        let ids: Vec<(Vec<Tok>, PatternId)> = patterns
            .iter()
            .map(|p| {
                let t = toks(p);
                let service = p.split_once(':').map(|(s, _)| s).filter(|s| !s.contains(['*', '?']));
                let service = service.map(str::to_ascii_lowercase);
                (t, a.add(service.as_deref(), parts(p)))
            })
            .collect();
        a.build();
        for action in actions {
            let lc = action.to_ascii_lowercase();
            let service = lc.split_once(':').map_or(lc.as_str(), |(s, _)| s);
            let m = a.matching(service, &lc);
            for (t, id) in &ids {
                assert_eq!(m.any([*id].into_iter()), glob_match(t, &lc), "{action} against pattern {id}");
            }
        }
    }

    #[test]
    fn automata_agree_with_the_glob() {
        let patterns = [
            "s3:get*",
            "s3:*object",
            "s3:get?bject",
            "s3:*",
            "*",
            "*:*",
            "s?:list*",
            "*:get*",
            "ec2:describe*",
            "s3:a:b*",
            "kms:*crypt",
            "s3:é*",
            "s3:?",
        ];
        let actions = [
            "s3:GetObject",
            "S3:GETOBJECT",
            "s3:getxbject",
            "s3:putobject",
            "s3:get",
            "s3:",
            "sq:listqueues",
            "sqs:listqueues",
            "ec2:describeinstances",
            "ec2:getconsoleoutput",
            "s3:a:bc",
            "kms:decrypt",
            "kms:encrypt",
            "s3:éa",
            "s3:é",
            "s3:ü",
            "s3:x",
            "s3:xy",
            "iam:createuser",
            "nocolon",
            "",
            "s3:get\nobject",
        ];
        agree(&patterns, &actions);
    }

    #[test]
    fn the_same_pattern_is_one_id_and_patterns_of_other_services_never_match() {
        let mut a = ActionAutomata::default();
        let x = a.add(Some("s3"), parts("s3:get*"));
        let y = a.add(Some("s3"), parts("s3:get*"));
        let z = a.add(Some("sqs"), parts("sqs:get*"));
        a.build();
        assert_eq!(x, y);
        let m = a.matching("s3", "s3:getobject");
        assert!(m.any([x].into_iter()));
        assert!(!m.any([z].into_iter()));
        assert!(!a.matching("sns", "sns:getx").any([x, z].into_iter()));
    }

    #[test]
    fn a_group_too_large_for_a_dfa_falls_back_to_globs() {
        let pending: Vec<Pending> = (0..3)
            .map(|i| {
                let p = parts(&format!("s3:*a*b*{i}"));
                (regex(&p), p.into_boxed_slice(), i)
            })
            .collect();
        let patterns = pending.iter().map(|(_, p, id)| (p.clone(), *id)).collect();
        let group = Group { patterns, dfa: None };
        let dfa = Group::new(pending);
        assert!(dfa.dfa.is_some());
        for action in ["s3:ab0", "s3:xaxbx1", "s3:ba2", "s3:ab"] {
            let (mut x, mut y) = (SmallVec::new(), SmallVec::new());
            group.matching(action, &mut x);
            dfa.matching(action, &mut y);
            y.sort_unstable();
            assert_eq!(x, y, "{action}");
        }
    }
}

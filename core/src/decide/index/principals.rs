//! Principals by ARN in one probe: an open-addressed table of 64-byte slots, each holding the
//! ARN's first 44 bytes (the rest, rarely needed, in one shared text), the principal's position
//! in the store, its candidate table and its permissions boundary: all that a decision needs
//! of a user before it reads any statement, so resolving the caller reads one cache line. A lookup reads one cache line in
//! the common case, where a string-keyed hash map reads its control bytes, its bucket and the
//! key's heap text. The text is always compared in full: a hash collision cannot name another
//! principal.

use super::TableRef;
use crate::id::PolicyId;
use std::hash::{BuildHasher, Hasher};

/// What an ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrincipalKind {
    /// An IAM user (`Store::users`).
    User,
    /// An IAM role (`Store::roles`).
    Role,
    /// `arn:PARTITION:sts::ACCOUNT:assumed-role/NAME`: the sessions of a role.
    Session,
}

/// Bytes of an ARN kept in its slot.
const HEAD: usize = 44;

/// One slot (one cache line).
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct Slot {
    /// Position in `Store::users` or `Store::roles`.
    ix: u32,
    /// The principal's table ([`TableRef`]).
    dir: u32,
    /// Where the bytes after [`HEAD`] are in [`PrincipalMap::tails`].
    tail: u32,
    /// The principal's permissions boundary ([`NO_BOUNDARY`]: none).
    boundary: u32,
    len: u16,
    /// 0: empty; 1 + [`PrincipalKind`] otherwise.
    kind: u8,
    bits: u8,
    head: [u8; HEAD],
}

const _: () = assert!(std::mem::size_of::<Slot>() == 64);

const EMPTY: Slot = Slot { ix: 0, dir: 0, tail: 0, boundary: NO_BOUNDARY, len: 0, kind: 0, bits: 0, head: [0; HEAD] };

/// [`Slot::boundary`] of a principal without a permissions boundary.
const NO_BOUNDARY: u32 = u32::MAX;

/// A principal found by [`PrincipalMap::get`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found {
    pub kind: PrincipalKind,
    /// Position in `Store::users` (users) or `Store::roles` (roles, sessions).
    pub ix: usize,
    /// The principal's identity table.
    pub table: TableRef,
    /// A user's or role's permissions boundary (sessions: their role's).
    pub boundary: Option<PolicyId>,
}

/// Users, roles and role-session prefixes by text.
#[derive(Debug, Default)]
pub(crate) struct PrincipalMap {
    slots: Vec<Slot>,
    tails: String,
}

fn hash(text: &str) -> u32 {
    let mut h = rustc_hash::FxBuildHasher.build_hasher();
    h.write(text.as_bytes());
    let h = h.finish();
    (h ^ (h >> 32)) as u32
}

impl PrincipalMap {
    /// An empty map for up to `n` principals (at most half full).
    pub(crate) fn with_capacity(n: usize) -> PrincipalMap {
        let size = (n * 2).max(8).next_power_of_two();
        PrincipalMap { slots: vec![EMPTY; size], tails: String::new() }
    }

    /// Adds `text`; the first entry of a text wins (the store refuses duplicate ARNs). A text
    /// too long for a slot (over 65,535 bytes) is left out: [`Self::get`] then misses it and the
    /// caller asks the store.
    pub(crate) fn insert(&mut self, text: &str, found: Found) {
        let (kind, table) = (found.kind, found.table);
        let Ok(ix) = u32::try_from(found.ix) else { return };
        let boundary = found.boundary.map_or(NO_BOUNDARY, |b| b.0);
        let (Ok(len), Ok(tail)) = (u16::try_from(text.len()), u32::try_from(self.tails.len())) else { return };
        if self.get(text).is_some() || self.slots.is_empty() {
            return;
        }
        let mut head = [0u8; HEAD];
        let n = text.len().min(HEAD);
        head[..n].copy_from_slice(&text.as_bytes()[..n]);
        self.tails.push_str(text.get(HEAD..).unwrap_or_default());
        let kind = 1 + kind as u8;
        let slot = Slot { ix, dir: table.dir, tail, boundary, len, kind, bits: table.bits, head };
        let mask = self.slots.len() - 1;
        let mut i = hash(text) as usize & mask;
        while let Some(s) = self.slots.get_mut(i) {
            if s.kind == 0 {
                *s = slot;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    /// The principal named `text`, if the map holds it.
    #[inline]
    pub(crate) fn get(&self, text: &str) -> Option<Found> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut i = hash(text) as usize & mask;
        loop {
            let s = self.slots.get(i)?;
            if s.kind == 0 {
                return None;
            }
            if usize::from(s.len) == text.len() && self.same(s, text.as_bytes()) {
                let kind = match s.kind {
                    1 => PrincipalKind::User,
                    2 => PrincipalKind::Role,
                    _ => PrincipalKind::Session,
                };
                let table = TableRef { dir: s.dir, bits: s.bits };
                let boundary = (s.boundary != NO_BOUNDARY).then_some(PolicyId(s.boundary));
                return Some(Found { kind, ix: s.ix as usize, table, boundary });
            }
            i = (i + 1) & mask;
        }
    }

    fn same(&self, s: &Slot, text: &[u8]) -> bool {
        let n = text.len().min(HEAD);
        if s.head.get(..n) != text.get(..n) {
            return false;
        }
        let rest = text.get(HEAD..).unwrap_or_default();
        let at = s.tail as usize;
        rest.is_empty() || self.tails.as_bytes().get(at..at + rest.len()) == Some(rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_are_found_by_their_whole_text() {
        let long = format!("arn:aws:iam::111122223333:user/{}/bob", "division/".repeat(20));
        let mut m = PrincipalMap::with_capacity(4);
        let t = |dir| TableRef { dir, bits: 1 };
        let f = |kind, ix, table, boundary: Option<u32>| Found { kind, ix, table, boundary: boundary.map(PolicyId) };
        m.insert("arn:aws:iam::111122223333:user/alice", f(PrincipalKind::User, 0, t(1), Some(7)));
        m.insert(&long, f(PrincipalKind::User, 1, t(2), None));
        m.insert("arn:aws:iam::111122223333:role/app", f(PrincipalKind::Role, 0, t(3), Some(0)));
        m.insert("arn:aws:sts::111122223333:assumed-role/app", f(PrincipalKind::Session, 0, t(3), None));
        m.insert("arn:aws:iam::111122223333:user/élodie", f(PrincipalKind::User, 2, t(4), None));
        let got = m.get("arn:aws:iam::111122223333:user/alice").unwrap();
        assert_eq!(got, f(PrincipalKind::User, 0, t(1), Some(7)));
        assert_eq!(m.get("arn:aws:iam::111122223333:role/app").unwrap().boundary, Some(PolicyId(0)));
        assert_eq!(m.get(&long).unwrap().boundary, None);
        assert_eq!(m.get(&long).unwrap().ix, 1);
        assert_eq!(m.get("arn:aws:iam::111122223333:role/app").unwrap().kind, PrincipalKind::Role);
        assert_eq!(m.get("arn:aws:sts::111122223333:assumed-role/app").unwrap().kind, PrincipalKind::Session);
        assert_eq!(m.get("arn:aws:iam::111122223333:user/élodie").unwrap().ix, 2);
        // Same head, other tail; a prefix; another case; nothing.
        assert!(m.get(&long.replace("/bob", "/bop")).is_none());
        assert!(m.get("arn:aws:iam::111122223333:user/alic").is_none());
        assert!(m.get("arn:aws:iam::111122223333:user/Alice").is_none());
        assert!(m.get("").is_none());
        assert!(PrincipalMap::default().get("x").is_none());
    }

    #[test]
    fn a_full_neighbourhood_is_probed_past() {
        let mut m = PrincipalMap::with_capacity(200);
        for i in 0..200u32 {
            let found = Found { kind: PrincipalKind::User, ix: i as usize, table: TableRef::default(), boundary: None };
            m.insert(&format!("arn:aws:iam::1:user/u{i}"), found);
        }
        for i in 0..200u32 {
            assert_eq!(m.get(&format!("arn:aws:iam::1:user/u{i}")).unwrap().ix, i as usize);
        }
        assert!(m.get("arn:aws:iam::1:user/u200").is_none());
    }
}

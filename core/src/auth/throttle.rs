//! Failure throttling: counted failures per MFA device and per access key, so that codes and
//! signatures cannot be guessed at network speed. A six-digit TOTP code has a million values and
//! three of them are right at any time: unthrottled, guessing takes seconds.
//!
//! The rule, per id (a device's serial, an access key id):
//! - the first [`BACKOFF_AFTER`] failures cost nothing;
//! - from then on each failure blocks the id for a back-off that doubles (1 s, 2 s, 4 s, ... at
//!   most [`MAX_BACKOFF_SECS`]); an attempt while blocked is refused unexamined, even with the
//!   right code, and counts as one more failure;
//! - at [`LOCKOUT_AFTER`] failures the id is locked out for [`LOCKOUT_SECS`]; attempts inside
//!   the lockout are refused and do not extend it, and after it one wrong try locks it again;
//! - a success clears the count; a count with no failure for [`FORGET_SECS`] is forgotten.
//!
//! Time is an input (`now`, seconds since the epoch): nothing here reads a clock.
//!
//! Memory is bounded: at most `capacity` ids are tracked, and callers track only ids the store
//! holds (a device of the caller, a long-term key), never ids a request invents. Even so the table
//! is capped: when it is full, entries that are forgotten or that have fewer than
//! [`BACKOFF_AFTER`] failures are evicted, oldest failure first; an id in back-off or lockout is
//! never evicted, because evicting it would reset the count an attacker is working against. When
//! nothing can be evicted, [`Throttle::failed`] says so and the caller refuses the attempt as
//! throttled (it had failed anyway).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;

/// Failures allowed before back-off starts.
pub const BACKOFF_AFTER: u32 = 5;
/// Failures after which an id is locked out.
pub const LOCKOUT_AFTER: u32 = 20;
/// The longest back-off, in seconds.
pub const MAX_BACKOFF_SECS: u64 = 300;
/// The lockout window, in seconds.
pub const LOCKOUT_SECS: u64 = 15 * 60;
/// A count with no failure for this long is forgotten, in seconds.
pub const FORGET_SECS: u64 = 24 * 3600;
/// Ids tracked at most by default.
pub const DEFAULT_CAPACITY: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    /// The last failure.
    last: u64,
    /// Refused before this time.
    until: u64,
}

impl Entry {
    fn protected(&self, now: u64) -> bool {
        self.failures >= BACKOFF_AFTER && !self.forgotten(now)
    }

    fn forgotten(&self, now: u64) -> bool {
        now >= self.until && now.saturating_sub(self.last) >= FORGET_SECS
    }

    /// One more failure at `now`: the new block.
    fn fail(&mut self, now: u64) {
        self.failures = self.failures.saturating_add(1);
        self.last = now;
        self.until = if self.failures >= LOCKOUT_AFTER {
            now + LOCKOUT_SECS
        } else if self.failures >= BACKOFF_AFTER {
            now + (1u64 << (self.failures - BACKOFF_AFTER).min(16)).min(MAX_BACKOFF_SECS)
        } else {
            0
        };
    }
}

/// Why an attempt was refused without being examined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    /// In back-off after [`BACKOFF_AFTER`] failures, until the given time.
    BackOff(u64),
    /// Locked out after [`LOCKOUT_AFTER`] failures, until the given time.
    LockedOut(u64),
    /// The table is full of ids under attack: a new id cannot be tracked, so it is refused.
    Full,
}

/// Failure counts per id (see the module documentation).
#[derive(Debug)]
pub struct Throttle {
    table: Mutex<HashMap<String, Entry>>,
    /// The table's size, read without the lock: with nothing tracked (the usual case) a check or
    /// a success costs one atomic load.
    tracked: AtomicUsize,
    capacity: usize,
}

impl Default for Throttle {
    fn default() -> Throttle {
        Throttle::new(DEFAULT_CAPACITY)
    }
}

impl Throttle {
    /// A throttle tracking at most `capacity` ids (at least 1).
    pub fn new(capacity: usize) -> Throttle {
        Throttle { table: Mutex::new(HashMap::new()), tracked: AtomicUsize::new(0), capacity: capacity.max(1) }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        match self.table.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Whether `id` may make an attempt at `now`. A refused attempt in back-off counts as a
    /// failure; one in lockout does not extend it.
    ///
    /// # Errors
    /// [`Blocked`] when the attempt must be refused unexamined.
    pub fn check(&self, id: &str, now: u64) -> Result<(), Blocked> {
        if self.tracked.load(Relaxed) == 0 {
            return Ok(());
        }
        let mut table = self.table();
        let Some(entry) = table.get_mut(id) else { return Ok(()) };
        if now >= entry.until {
            return Ok(());
        }
        if entry.failures >= LOCKOUT_AFTER {
            return Err(Blocked::LockedOut(entry.until));
        }
        entry.fail(now);
        Err(if entry.failures >= LOCKOUT_AFTER {
            Blocked::LockedOut(entry.until)
        } else {
            Blocked::BackOff(entry.until)
        })
    }

    /// Records a failed attempt of `id` at `now`: its failure count.
    ///
    /// # Errors
    /// [`Blocked::Full`] when `id` is new and the table has no room for it: the caller refuses
    /// the id as if it were locked out.
    pub fn failed(&self, id: &str, now: u64) -> Result<u32, Blocked> {
        let mut table = self.table();
        if let Some(entry) = table.get_mut(id) {
            if entry.forgotten(now) {
                *entry = Entry { failures: 0, last: now, until: 0 };
            }
            entry.fail(now);
            return Ok(entry.failures);
        }
        if table.len() >= self.capacity {
            evict(&mut table, self.capacity, now);
            if table.len() >= self.capacity {
                return Err(Blocked::Full);
            }
        }
        let mut entry = Entry { failures: 0, last: now, until: 0 };
        entry.fail(now);
        table.insert(id.to_owned(), entry);
        self.tracked.store(table.len(), Relaxed);
        Ok(entry.failures)
    }

    /// Records a successful attempt of `id`: its count is cleared.
    pub fn succeeded(&self, id: &str) {
        if self.tracked.load(Relaxed) == 0 {
            return;
        }
        let mut table = self.table();
        table.remove(id);
        self.tracked.store(table.len(), Relaxed);
    }

    /// How many ids are tracked.
    pub fn len(&self) -> usize {
        self.table().len()
    }

    /// Whether no id is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Makes room in a full table: drops forgotten entries, then unprotected ones (fewer than
/// [`BACKOFF_AFTER`] failures), oldest failure first, down to 7/8 of `capacity` so that the
/// scan is paid once per many insertions. Protected entries stay.
fn evict(table: &mut HashMap<String, Entry>, capacity: usize, now: u64) {
    table.retain(|_, e| !e.forgotten(now));
    let target = capacity - capacity / 8;
    if table.len() < target.max(1) {
        return;
    }
    let mut candidates: Vec<(u64, String)> =
        table.iter().filter(|(_, e)| !e.protected(now)).map(|(k, e)| (e.last, k.clone())).collect();
    candidates.sort_unstable();
    let excess = table.len() + 1 - target.max(1);
    for (_, key) in candidates.into_iter().take(excess) {
        table.remove(&key);
    }
}

/// Counts of authentication failures by reason, for the `keycard_auth_failures_total` metric.
#[derive(Debug, Default)]
pub struct FailureCounts {
    signature: AtomicU64,
    mfa: AtomicU64,
    throttled: AtomicU64,
}

/// Why an authentication failed, as the metric labels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureReason {
    /// A SigV4 signature that does not verify with a known key.
    Signature,
    /// A wrong MFA code.
    Mfa,
    /// An attempt refused unexamined: back-off, lockout, or a full table.
    Throttled,
}

impl FailureReason {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureReason::Signature => "signature",
            FailureReason::Mfa => "mfa",
            FailureReason::Throttled => "throttled",
        }
    }
}

impl FailureCounts {
    /// Counts one failure.
    pub fn count(&self, reason: FailureReason) {
        let counter = match reason {
            FailureReason::Signature => &self.signature,
            FailureReason::Mfa => &self.mfa,
            FailureReason::Throttled => &self.throttled,
        };
        counter.fetch_add(1, Relaxed);
    }

    /// `(reason, count)` for every reason.
    pub fn snapshot(&self) -> [(&'static str, u64); 3] {
        [
            (FailureReason::Signature.as_str(), self.signature.load(Relaxed)),
            (FailureReason::Mfa.as_str(), self.mfa.load(Relaxed)),
            (FailureReason::Throttled.as_str(), self.throttled.load(Relaxed)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_free_failures_then_doubling_back_off_then_lockout() {
        let t = Throttle::default();
        for n in 1..BACKOFF_AFTER {
            assert_eq!(t.failed("k", 100), Ok(n));
            assert_eq!(t.check("k", 100), Ok(()));
        }
        assert_eq!(t.failed("k", 100), Ok(BACKOFF_AFTER));
        assert_eq!(t.check("k", 100), Err(Blocked::BackOff(102)), "blocked, and the refused try counts");
        assert_eq!(t.check("k", 102), Ok(()));
        assert_eq!(t.failed("k", 102), Ok(BACKOFF_AFTER + 2));
        assert_eq!(t.check("k", 105), Err(Blocked::BackOff(113)));
        // Hammering while blocked reaches the lockout, which then does not grow.
        let mut now = 105;
        while let Err(Blocked::BackOff(_)) = t.check("k", now) {
            now += 1;
        }
        assert_eq!(t.check("k", now), Err(Blocked::LockedOut(now + LOCKOUT_SECS)));
        assert_eq!(t.check("k", now + 100), Err(Blocked::LockedOut(now + LOCKOUT_SECS)));
        assert_eq!(t.check("k", now + LOCKOUT_SECS), Ok(()));
        t.succeeded("k");
        assert_eq!(t.check("k", now + LOCKOUT_SECS), Ok(()));
        assert!(t.is_empty());
    }

    #[test]
    fn counts_are_forgotten_after_a_quiet_day() {
        let t = Throttle::default();
        for _ in 0..4 {
            t.failed("k", 100).unwrap();
        }
        assert_eq!(t.failed("k", 100 + FORGET_SECS), Ok(1));
    }

    #[test]
    fn a_full_table_evicts_unprotected_entries_never_ids_under_attack() {
        let t = Throttle::new(16);
        for _ in 0..LOCKOUT_AFTER {
            t.failed("victim", 10).unwrap();
        }
        // Invented ids with one failure each fill the table, many times over.
        for i in 0..1000 {
            t.failed(&format!("invented{i}"), 20 + i).unwrap();
            assert!(t.len() <= 16);
        }
        assert_eq!(t.check("victim", 30), Err(Blocked::LockedOut(10 + LOCKOUT_SECS)), "the lockout survived");
        // A table of protected entries only refuses new ids rather than forget one.
        let full = Throttle::new(2);
        for id in ["a", "b"] {
            for _ in 0..BACKOFF_AFTER {
                full.failed(id, 10).unwrap();
            }
        }
        assert_eq!(full.failed("c", 11), Err(Blocked::Full));
        assert_eq!(full.failed("c", 11 + FORGET_SECS + 1), Ok(1), "until the old ones are forgotten");
    }
}

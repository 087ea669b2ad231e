//! Time-based one-time passwords (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps), as virtual
//! MFA devices and authenticator apps compute them, with one step of drift either way and a
//! record of used codes so that a code is refused a second time until its window has passed.

use ring::hmac;
use std::collections::HashMap;
use std::sync::Mutex;

/// Seconds per step.
pub const STEP_SECS: u64 = 30;

/// The 6-digit code of `seed` for time step `step`.
pub fn code(seed: &[u8], step: u64) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, seed);
    let tag = hmac::sign(&key, &step.to_be_bytes());
    let h = tag.as_ref();
    let offset = usize::from(h.last().copied().unwrap_or(0) & 0x0f);
    let word = h.get(offset..offset + 4).map_or(0, |b| u32::from_be_bytes([b[0] & 0x7f, b[1], b[2], b[3]]));
    format!("{:06}", word % 1_000_000)
}

/// The step at `now` (seconds since the epoch) whose code is `given`, allowing one step of drift.
pub fn matching_step(seed: &[u8], given: &str, now: u64) -> Option<u64> {
    if given.len() != 6 || !given.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = now / STEP_SECS;
    [current, current.saturating_sub(1), current + 1].into_iter().find(|&step| {
        let expected = code(seed, step);
        // Compared without an early exit, like the signatures.
        expected.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
    })
}

/// Codes already used, per device, until their window has passed.
#[derive(Debug, Default)]
pub struct UsedCodes {
    used: Mutex<HashMap<String, Vec<u64>>>,
}

impl UsedCodes {
    /// Records `step` of `serial` as used; false when it already was.
    pub fn claim(&self, serial: &str, step: u64, now: u64) -> bool {
        let mut used = match self.used.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let oldest_valid = (now / STEP_SECS).saturating_sub(1);
        used.retain(|_, steps| {
            steps.retain(|&s| s + 1 >= oldest_valid);
            !steps.is_empty()
        });
        let steps = used.entry(serial.to_owned()).or_default();
        if steps.contains(&step) {
            return false;
        }
        steps.push(step);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 (the 8-digit values' last six digits).
    #[test]
    fn rfc6238_vectors() {
        let seed = b"12345678901234567890";
        for (t, expected) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_111_111_111, "050471"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
            (20_000_000_000, "353130"),
        ] {
            assert_eq!(code(seed, t / STEP_SECS), expected, "t={t}");
        }
    }

    #[test]
    fn base32_decodes_rfc4648_vectors() {
        use crate::store::credentials::decode_base32;
        assert_eq!(decode_base32("MZXW6YTBOI======").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(decode_base32("mzxw6ytboi").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(decode_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").as_deref(), Some(&b"12345678901234567890"[..]));
        assert_eq!(decode_base32("M1"), None);
    }

    #[test]
    fn drift_is_one_step_either_way() {
        let seed = b"12345678901234567890";
        let now = 1_111_111_111;
        let step = now / STEP_SECS;
        assert_eq!(matching_step(seed, &code(seed, step - 1), now), Some(step - 1));
        assert_eq!(matching_step(seed, &code(seed, step + 1), now), Some(step + 1));
        assert_eq!(matching_step(seed, &code(seed, step - 2), now), None);
        assert_eq!(matching_step(seed, "12345", now), None);
    }

    #[test]
    fn a_code_is_used_once() {
        let used = UsedCodes::default();
        assert!(used.claim("mfa/alice", 100, 3000));
        assert!(!used.claim("mfa/alice", 100, 3010));
        assert!(used.claim("mfa/bob", 100, 3010));
        // Once its window has passed the record goes (the code no longer verifies anyway).
        assert!(used.claim("mfa/alice", 100, 3000 + 5 * STEP_SECS));
    }
}

//! Timestamps as RFC 3339 UTC text (`2026-11-23T10:00:00.123Z`), as CloudTrail writes them (the
//! sidecar's `loadedAt` and decision log, STS `Expiration`, `aws:TokenIssueTime`), and SigV4's
//! basic form (`20261123T100000Z`). Ten lines of calendar arithmetic rather than a date crate,
//! the crate's only copy: policy date conditions (`policy/value.rs`) use it too.

use std::time::{SystemTime, UNIX_EPOCH};

/// `t` as RFC 3339 UTC with milliseconds.
pub fn rfc3339(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let (y, m, day, hh, mm, ss) = fields(d.as_secs());
    format!("{y:04}-{m:02}-{day:02}T{hh:02}:{mm:02}:{ss:02}.{:03}Z", d.subsec_millis())
}

/// Seconds since the Unix epoch.
pub fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs()
}

/// `secs` since the epoch as RFC 3339 UTC without fractions (`2026-11-23T10:00:00Z`), as STS
/// writes `Expiration`.
pub fn iso_seconds(secs: u64) -> String {
    let (y, m, d, hh, mm, ss) = fields(secs);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z")
}

/// `secs` as SigV4's `X-Amz-Date` (`20261123T100000Z`).
pub fn amz_date(secs: u64) -> String {
    let (y, m, d, hh, mm, ss) = fields(secs);
    format!("{y:04}{m:02}{d:02}T{hh:02}{mm:02}{ss:02}Z")
}

/// Parses SigV4's `X-Amz-Date` (`20261123T100000Z`) into seconds since the epoch.
pub fn parse_amz_date(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let part = s.get(r)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    let (y, m, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (hh, mm, ss) = (num(9..11)?, num(11..13)?, num(13..15)?);
    let (y, m, d) = (i64::try_from(y).ok()?, i64::try_from(m).ok()?, i64::try_from(d).ok()?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) || hh > 23 || mm > 59 || ss > 60 || y < 1970 {
        return None;
    }
    Some(u64::try_from(days_from_civil(y, m, d)).ok()? * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// (year, month, day, hour, minute, second) of `secs` since the epoch.
fn fields(secs: u64) -> (i64, i64, i64, u64, u64, u64) {
    let rem = secs % 86_400;
    // At most u64::MAX / 86,400 days, well inside i64.
    let (y, m, d) = civil_from_days(i64::try_from(secs / 86_400).unwrap_or_default());
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Whether `y` is a leap year of the proleptic Gregorian calendar.
fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// The days of month `m` (1 to 12) of year `y`.
pub(crate) fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date, negative before it (H. Hinnant's
/// algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 (negative before it) to (year, month, day), proleptic Gregorian
/// (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        // 2000-02-29 (a leap day in a century leap year) 12:34:56.789
        let t = UNIX_EPOCH + Duration::from_millis(951_827_696_789);
        assert_eq!(rfc3339(t), "2000-02-29T12:34:56.789Z");
        // 2026-11-23T10:00:00Z
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_428_000)), "2026-11-23T10:00:00.000Z");
        assert_eq!(rfc3339(UNIX_EPOCH + Duration::from_secs(4_107_542_399)), "2100-02-28T23:59:59.000Z");
    }

    #[test]
    fn calendar_round_trips_around_the_epoch_and_leap_days() {
        for days in (-800_000..800_000).step_by(97).chain([-1, 0, 1, 59, 60, 11_016, 2_932_896]) {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && (1..=days_in_month(y, m)).contains(&d), "{days}: {y}-{m}-{d}");
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(days_from_civil(2000, 2, 29), 11_016);
        assert_eq!((days_in_month(1900, 2), days_in_month(2000, 2), days_in_month(2024, 2)), (28, 29, 29));
    }

    #[test]
    fn amz_dates_round_trip() {
        assert_eq!(amz_date(1_795_428_000), "20261123T100000Z");
        assert_eq!(iso_seconds(1_795_428_000), "2026-11-23T10:00:00Z");
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160));
        for secs in [0, 951_827_696, 1_795_428_000, 4_107_542_399] {
            assert_eq!(parse_amz_date(&amz_date(secs)), Some(secs));
        }
        for bad in
            ["20150830T123600", "2015-08-30T12:36:00Z", "20151330T123600Z", "2015083OT123600Z", "20150231T000000Z"]
        {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }
}

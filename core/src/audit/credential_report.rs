//! The IAM credential report: the CSV `aws iam get-credential-report` returns (base64-decoded),
//! read all or nothing. Every column AWS documents must be in the header; every row must have
//! as many fields as the header, booleans `true`/`false`, dates ISO 8601 or one of AWS's
//! placeholders (`N/A`, `no_information`, `not_supported`). Anything else is a [`ReportError`]
//! naming the line, so an audit never silently skips a user.

use super::parse_date;

/// The columns of the report, as AWS documents them, in AWS's order.
pub const COLUMNS: [&str; 22] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

/// The `user` of the root user's row.
pub const ROOT_USER: &str = "<root_account>";

/// A malformed report: the line (from 1) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("credential report line {line}: {message}")]
pub struct ReportError {
    /// The line, from 1 (the header is line 1).
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

/// One access key's columns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Key {
    /// `access_key_N_active`.
    pub active: bool,
    /// `access_key_N_last_rotated`, Unix seconds.
    pub last_rotated: Option<i64>,
    /// `access_key_N_last_used_date`, Unix seconds.
    pub last_used: Option<i64>,
}

/// One user's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The line it is on.
    pub line: u64,
    /// `user` (`<root_account>` for the root user).
    pub user: String,
    /// `arn`.
    pub arn: String,
    /// `user_creation_time`.
    pub created: Option<i64>,
    /// `password_enabled` (`not_supported`, the root user's value, counts as false).
    pub password_enabled: bool,
    /// `password_last_used`.
    pub password_last_used: Option<i64>,
    /// `mfa_active`.
    pub mfa_active: bool,
    /// Access key 1.
    pub key1: Key,
    /// Access key 2.
    pub key2: Key,
}

impl Row {
    /// Whether this is the root user's row.
    pub fn is_root(&self) -> bool {
        self.user == ROOT_USER || self.arn.ends_with(":root")
    }
}

/// A parsed report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialReport {
    /// Every row, in file order.
    pub rows: Vec<Row>,
}

impl CredentialReport {
    /// Parses the report's text.
    ///
    /// # Errors
    /// A [`ReportError`] naming the first malformed line.
    pub fn parse(text: &str) -> Result<CredentialReport, ReportError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        let mut records = reader.records();
        let header = match records.next() {
            Some(Ok(h)) => h,
            Some(Err(e)) => return Err(csv_error(&e, 1)),
            None => return Err(ReportError { line: 1, message: "the report is empty (no header line)".to_owned() }),
        };
        let index = |name: &str| header.iter().position(|h| h.trim() == name);
        let missing: Vec<&str> = COLUMNS.iter().copied().filter(|c| index(c).is_none()).collect();
        if !missing.is_empty() {
            return Err(ReportError {
                line: 1,
                message: format!(
                    "not an IAM credential report header: missing column{} {}",
                    if missing.len() == 1 { "" } else { "s" },
                    missing.join(", ")
                ),
            });
        }
        let col: Vec<usize> = COLUMNS.iter().filter_map(|c| index(c)).collect();
        let mut rows = Vec::new();
        for (n, record) in records.enumerate() {
            let fallback_line = n as u64 + 2;
            let record = record.map_err(|e| csv_error(&e, fallback_line))?;
            let line = record.position().map_or(fallback_line, |p| p.line());
            if record.len() == 1 && record.get(0).is_some_and(|f| f.trim().is_empty()) {
                continue; // a trailing empty line
            }
            if record.len() != header.len() {
                return Err(ReportError {
                    line,
                    message: format!("expected {} fields like the header, found {}", header.len(), record.len()),
                });
            }
            let field = |i: usize| -> &str { col.get(i).and_then(|&c| record.get(c)).unwrap_or("") };
            let get = |name: &str| field(COLUMNS.iter().position(|c| *c == name).unwrap_or(usize::MAX));
            let bool_of = |name: &str| -> Result<bool, ReportError> {
                let v = get(name);
                match v.to_ascii_lowercase().as_str() {
                    "true" => Ok(true),
                    "false" | "not_supported" | "n/a" => Ok(false),
                    _ => Err(ReportError { line, message: format!("{name}: expected true or false, found {v:?}") }),
                }
            };
            let date_of = |name: &str| -> Result<Option<i64>, ReportError> {
                let v = get(name);
                match v {
                    "N/A" | "no_information" | "not_supported" | "" => Ok(None),
                    _ => parse_date(v).map(Some).ok_or_else(|| ReportError {
                        line,
                        message: format!("{name}: expected an ISO 8601 date, N/A or no_information, found {v:?}"),
                    }),
                }
            };
            let user = get("user").to_owned();
            let arn = get("arn").to_owned();
            if user.is_empty() {
                return Err(ReportError { line, message: "user: empty".to_owned() });
            }
            if !arn.starts_with("arn:") {
                return Err(ReportError { line, message: format!("arn: expected an ARN, found {arn:?}") });
            }
            let key = |n: u8| -> Result<Key, ReportError> {
                Ok(Key {
                    active: bool_of(&format!("access_key_{n}_active"))?,
                    last_rotated: date_of(&format!("access_key_{n}_last_rotated"))?,
                    last_used: date_of(&format!("access_key_{n}_last_used_date"))?,
                })
            };
            // Validate the columns the checks do not read too: a report with garbage there is
            // not the report AWS returned.
            for name in
                ["password_last_changed", "password_next_rotation", "cert_1_last_rotated", "cert_2_last_rotated"]
            {
                date_of(name)?;
            }
            for name in ["cert_1_active", "cert_2_active"] {
                bool_of(name)?;
            }
            rows.push(Row {
                line,
                created: date_of("user_creation_time")?,
                password_enabled: bool_of("password_enabled")?,
                password_last_used: date_of("password_last_used")?,
                mfa_active: bool_of("mfa_active")?,
                key1: key(1)?,
                key2: key(2)?,
                user,
                arn,
            });
        }
        Ok(CredentialReport { rows })
    }
}

fn csv_error(e: &csv::Error, fallback: u64) -> ReportError {
    let line = e.position().map_or(fallback, |p| p.line());
    ReportError { line, message: format!("not valid CSV: {e}") }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

    #[test]
    fn reads_aws_rows_and_quoted_fields() {
        let text = format!(
            "{HEADER}\n<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00,not_supported,2026-11-30T10:00:00+00:00,not_supported,not_supported,false,true,2021-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n\"a,b\",arn:aws:iam::111122223333:user/ab,2024-01-01T00:00:00+00:00,true,no_information,2024-01-01T00:00:00+00:00,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
        );
        let r = CredentialReport::parse(&text).unwrap();
        assert_eq!(r.rows.len(), 2);
        assert!(r.rows[0].is_root() && r.rows[0].key1.active && !r.rows[0].mfa_active);
        assert_eq!(r.rows[1].user, "a,b");
        assert_eq!(r.rows[1].line, 3);
        assert!(r.rows[1].password_enabled);
    }

    #[test]
    fn malformed_lines_are_errors_naming_the_line() {
        let short = format!("{HEADER}\nalice,arn:aws:iam::1:user/alice,N/A\n");
        assert_eq!(CredentialReport::parse(&short).unwrap_err().line, 2);
        let row = "bob,arn:aws:iam::111122223333:user/bob,2024-01-01T00:00:00+00:00,maybe,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";
        let ok = "carol,arn:aws:iam::111122223333:user/carol,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";
        let e = CredentialReport::parse(&format!("{HEADER}\n{ok}\n{row}\n")).unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("password_enabled"), "{e}");
        let e = CredentialReport::parse("user,arn\nx,arn:aws:iam::1:user/x\n").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.message.contains("mfa_active"));
        let bad_date = ok.replace("2024-01-01T00:00:00+00:00", "yesterday");
        assert_eq!(CredentialReport::parse(&format!("{HEADER}\n{bad_date}\n")).unwrap_err().line, 2);
    }
}

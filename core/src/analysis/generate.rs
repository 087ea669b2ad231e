//! `generate-policy` and `unused`: least privilege from the decision log, as IAM Access Analyzer
//! generates a policy from CloudTrail and IAM access advisor shows what was never used.
//!
//! [`read_log`] streams the decision log (`docs/http-api.md#decision-log`, one JSON object a
//! line) once, holding only what it keeps: per principal the distinct allowed `(action,
//! resource)` pairs, and the distinct denied ones of everyone. A line that is not such an
//! object (bad JSON, a missing field, an unknown decision) is reported with its line number and
//! skipped, never counted as an allow. Memory grows with the distinct pairs, not the lines.
//!
//! A role's sessions (`arn:aws:sts::A:assumed-role/NAME/SESSION`) count as the role.

use crate::analysis::access::{access, spelled};
use crate::decide::snapshot::Snapshot;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;

/// The most malformed lines [`LogSummary::problems`] keeps (all are counted).
pub const MAX_PROBLEMS: usize = 1000;

/// What to keep from the log.
#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    /// Keep only this principal's allowed requests (a user, role or role-session ARN).
    pub principal: Option<String>,
    /// Keep only events at or after this time (RFC 3339 UTC, or a date `YYYY-MM-DD`).
    pub since: Option<String>,
}

/// A line of the log that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogProblem {
    /// 1-based line number.
    pub line: u64,
    /// What is wrong with it.
    pub message: String,
}

impl std::fmt::Display for LogProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// What [`read_log`] keeps.
#[derive(Debug, Clone, Default)]
pub struct LogSummary {
    /// Principal key → lowercase action → resources, for allowed requests.
    pub(crate) allowed: FxHashMap<String, BTreeMap<String, BTreeSet<String>>>,
    /// Lowercase action → the distinct resources it was denied on, for every principal.
    pub(crate) denied: FxHashMap<String, FxHashSet<String>>,
    /// The first [`MAX_PROBLEMS`] malformed lines.
    pub problems: Vec<LogProblem>,
    /// Malformed lines, all of them.
    pub malformed: u64,
    /// Lines read (blank ones included).
    pub lines: u64,
}

/// The fields of a decision-log line that are used, borrowed from the line where JSON allows
/// (strings without escapes); every other field is skipped unread.
#[derive(Deserialize)]
struct Line<'a> {
    principal: PrincipalField<'a>,
    #[serde(borrow)]
    action: Cow<'a, str>,
    #[serde(borrow)]
    resource: Cow<'a, str>,
    #[serde(borrow)]
    decision: Cow<'a, str>,
    #[serde(borrow, rename = "eventTime", default)]
    event_time: Option<Cow<'a, str>>,
}

/// The `principal` field: its text when it is a string (an ARN), `None` for any other JSON value
/// (a service principal object, `null`): those are nobody's policy. A missing field is an error.
struct PrincipalField<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for PrincipalField<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Option<Cow<'de, str>>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Some(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Some(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Some(Cow::Owned(v)))
            }
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
                Ok(None)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(None)
            }
        }
        deserializer.deserialize_any(Visit).map(PrincipalField)
    }
}

/// The key a principal's requests are kept under: a role and its sessions share
/// `arn:PARTITION:sts::ACCOUNT:assumed-role/NAME`.
pub fn principal_key(arn: &str) -> String {
    principal_key_of(arn).into_owned()
}

/// [`principal_key`], borrowing `arn` when it is its own key (users, and anything not a role).
fn principal_key_of(arn: &str) -> Cow<'_, str> {
    match crate::arn::arn_fields(arn) {
        Some(["arn", partition, "iam", _, account, resource]) if resource.starts_with("role/") => {
            let name = resource.rsplit('/').next().unwrap_or(resource);
            Cow::Owned(format!("arn:{partition}:sts::{account}:assumed-role/{name}"))
        }
        Some(["arn", _, "sts", _, _, resource]) if resource.starts_with("assumed-role/") => {
            let session = resource.rsplit('/').next().unwrap_or("");
            Cow::Borrowed(arn[..arn.len() - session.len()].trim_end_matches('/'))
        }
        _ => Cow::Borrowed(arn),
    }
}

/// Reads a decision log, line by line. A line that is not UTF-8 is malformed like any other.
///
/// # Errors
/// The reader's I/O error (a malformed line is not an error: it is reported and skipped).
pub fn read_log(mut reader: impl BufRead, filter: &LogFilter) -> std::io::Result<LogSummary> {
    let wanted = filter.principal.as_deref().map(principal_key);
    let mut out = LogSummary::default();
    let mut buf: Vec<u8> = Vec::new();
    let mut action = String::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        out.lines += 1;
        let text = buf.trim_ascii();
        if text.is_empty() {
            continue;
        }
        if let Err(message) = out.take(text, wanted.as_deref(), filter.since.as_deref(), &mut action) {
            out.malformed += 1;
            if out.problems.len() < MAX_PROBLEMS {
                out.problems.push(LogProblem { line: out.lines, message });
            }
        }
    }
    Ok(out)
}

impl LogSummary {
    /// Keeps what one line says; `action` is scratch space for its lowercase action.
    fn take(
        &mut self,
        text: &[u8],
        wanted: Option<&str>,
        since: Option<&str>,
        action: &mut String,
    ) -> Result<(), String> {
        let line: Line<'_> = serde_json::from_slice(text).map_err(|e| format!("not a decision record: {e}"))?;
        let allowed = match line.decision.as_ref() {
            "allowed" => true,
            "explicitDeny" | "implicitDeny" => false,
            other => return Err(format!("unknown decision {other:?}")),
        };
        if line.action.split_once(':').is_none_or(|(s, a)| s.is_empty() || a.is_empty()) {
            return Err(format!("action {:?} is not SERVICE:ACTION", line.action));
        }
        if line.resource.is_empty() {
            return Err("empty resource".into());
        }
        if let Some(since) = since {
            match &line.event_time {
                Some(t) if t.as_ref() < since => return Ok(()),
                Some(_) => {}
                None => return Err("no eventTime (needed by --since)".into()),
            }
        }
        action.clear();
        action.push_str(&line.action);
        action.make_ascii_lowercase();
        let resource = line.resource.as_ref();
        if !allowed {
            match self.denied.get_mut(action.as_str()) {
                Some(set) => {
                    if !set.contains(resource) {
                        set.insert(resource.to_owned());
                    }
                }
                None => {
                    self.denied.entry(action.clone()).or_default().insert(resource.to_owned());
                }
            }
            return Ok(());
        }
        // Principals that are not ARNs (services, anonymous) are nobody's policy.
        let Some(arn) = line.principal.0.as_deref() else { return Ok(()) };
        let key = principal_key_of(arn);
        if wanted.is_some_and(|w| w != key) {
            return Ok(());
        }
        let actions = match self.allowed.get_mut(key.as_ref()) {
            Some(a) => a,
            None => self.allowed.entry(key.into_owned()).or_default(),
        };
        let resources = match actions.get_mut(action.as_str()) {
            Some(r) => r,
            None => actions.entry(action.clone()).or_default(),
        };
        if !resources.contains(resource) {
            resources.insert(resource.to_owned());
        }
        Ok(())
    }

    /// The principals (role sessions under their role's key, [`principal_key`]) with allowed
    /// requests in the log, sorted.
    pub fn principals(&self) -> impl Iterator<Item = &str> {
        let mut keys: Vec<&str> = self.allowed.keys().map(String::as_str).collect();
        keys.sort_unstable();
        keys.into_iter()
    }

    /// Whether `principal` was allowed anything in the log.
    pub fn has_activity(&self, principal: &str) -> bool {
        self.allowed.contains_key(&principal_key(principal))
    }
}

/// The parent a resource shares with its siblings: up to its last `/`, else its last `:`.
fn parent(resource: &str) -> Option<&str> {
    let cut = resource.rfind('/').or_else(|| resource.rfind(':'))?;
    resource.get(..=cut)
}

/// A least-privilege policy document for `principal` from its allowed requests: one statement
/// per service and resource list, actions as AWS spells them. Resources that share a parent
/// (`arn:aws:s3:::logs/2026/`) with at least `threshold` siblings become `PARENT*`, unless a
/// denied request of the log (anyone's) for the same action falls under it. `None` when the log
/// holds no allowed request of the principal.
pub fn generate_policy(summary: &LogSummary, principal: &str, threshold: usize) -> Option<Value> {
    let actions = summary.allowed.get(&principal_key(principal))?;
    // Service → resource list → actions.
    let mut by_service: BTreeMap<&str, BTreeMap<Vec<String>, Vec<String>>> = BTreeMap::new();
    for (action, resources) in actions {
        let service = action.split(':').next().unwrap_or(action);
        let list = generalise(action, resources, &summary.denied, threshold);
        by_service.entry(service).or_default().entry(list).or_default().push(spelled(action));
    }
    let mut statements = Vec::new();
    for (service, groups) in by_service {
        let base: String = service
            .split(|c: char| !c.is_ascii_alphanumeric())
            .map(|w| {
                let mut c = w.chars();
                c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
            })
            .collect();
        let several = groups.len() > 1;
        for (i, (resources, actions)) in groups.into_iter().enumerate() {
            let sid = if several { format!("{base}{}", i + 1) } else { base.clone() };
            statements.push(json!({"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}));
        }
    }
    Some(json!({"Version": "2012-10-17", "Statement": statements}))
}

/// The resources of one action, siblings generalised where that is safe.
fn generalise(
    action: &str,
    resources: &BTreeSet<String>,
    denied: &FxHashMap<String, FxHashSet<String>>,
    threshold: usize,
) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for r in resources {
        if let Some(p) = parent(r) {
            *counts.entry(p).or_default() += 1;
        }
    }
    let refused = denied.get(action);
    let safe = |p: &str| refused.is_none_or(|set| !set.iter().any(|r| r.starts_with(p)));
    let wide: BTreeSet<&str> =
        counts.into_iter().filter(|(p, n)| threshold > 0 && *n >= threshold && safe(p)).map(|(p, _)| p).collect();
    let mut out: Vec<String> = Vec::new();
    for r in resources {
        match parent(r).filter(|p| wide.contains(p)) {
            Some(p) => {
                let g = format!("{p}*");
                if !out.contains(&g) {
                    out.push(g);
                }
            }
            None => out.push(r.clone()),
        }
    }
    if out.iter().any(|r| r == "*") {
        return vec!["*".into()];
    }
    out
}

/// The granted actions of one principal that the log never shows it using.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unused {
    /// The user or role.
    pub principal: String,
    /// Distinct actions its policies grant ([`access`]'s rows).
    pub granted: usize,
    /// Granted actions it used.
    pub used: Vec<String>,
    /// Granted actions it never used.
    pub unused: Vec<String>,
}

/// For every user and role of the store, the granted actions the log never shows it using.
pub fn unused(snapshot: &Snapshot, summary: &LogSummary) -> Vec<Unused> {
    let mut out = Vec::new();
    for arn in crate::analysis::principal_arns(snapshot) {
        let Ok(a) = access(snapshot, arn, None) else { continue };
        let granted: BTreeSet<String> = a.permissions.into_iter().map(|p| p.action.into_owned()).collect();
        let logged = summary.allowed.get(&principal_key(arn));
        let was_used = |action: &str| logged.is_some_and(|m| m.contains_key(&action.to_ascii_lowercase()));
        let (used, unused): (Vec<String>, Vec<String>) = granted.iter().cloned().partition(|g| was_used(g));
        out.push(Unused { principal: arn.to_owned(), granted: granted.len(), used, unused });
    }
    out
}

//! `keycard audit`: the IAM best-practice checklist over a store and an IAM credential report.
//!
//! The checklist every IAM guide repeats (no root keys, MFA on root and console users, rotate
//! and remove access keys, one active key per user, permissions through groups and roles, no
//! administrators by accident, no trust policy open to anyone), checked offline against what
//! `aws iam get-account-authorization-details` and `aws iam get-credential-report` return.
//! [`credential_report`] reads the report all or nothing: a malformed line is an error naming
//! it, never a partial audit. `ADMIN_PRINCIPAL` asks the compiled decision index, so a `*` cut
//! by a Deny, a permissions boundary or an SCP is not reported.

pub mod credential_report;

use crate::decide::request::Request;
use crate::decide::snapshot::Snapshot;
use crate::lint::LintSeverity;
use crate::policy::json::Json;
use crate::policy::value::Instant;
use crate::store::Store;
use credential_report::{CredentialReport, Row};

/// Days after which a key should be rotated, and after which a credential counts as unused.
const STALE_DAYS: i64 = 90;
/// The window in which use of the root user is reported.
const ROOT_RECENT_DAYS: i64 = 30;
const DAY: i64 = 86_400;

/// Every audit check with its severity and description.
pub const AUDIT_CHECKS: &[(&str, LintSeverity, &str)] = &[
    ("ROOT_ACCESS_KEY", LintSeverity::Security, "The root user has an active access key."),
    ("ROOT_NO_MFA", LintSeverity::Security, "The root user has no MFA device."),
    ("ROOT_USED_RECENTLY", LintSeverity::Warning, "The root user signed in or used a key within 30 days."),
    ("CONSOLE_USER_NO_MFA", LintSeverity::Security, "A user with a console password has no MFA device."),
    ("ACCESS_KEY_NOT_ROTATED", LintSeverity::Warning, "An active access key is older than 90 days."),
    ("ACCESS_KEY_UNUSED", LintSeverity::Warning, "An active access key was never used, or not for 90 days."),
    ("TWO_ACTIVE_KEYS", LintSeverity::Warning, "A user has two active access keys."),
    ("INACTIVE_USER", LintSeverity::Warning, "A user has used no password or key for 90 days."),
    ("USER_INLINE_POLICY", LintSeverity::Suggestion, "A user has an inline policy; grant through groups or roles."),
    ("USER_ATTACHED_POLICY", LintSeverity::Suggestion, "A user has an attached policy; grant through groups or roles."),
    ("ADMIN_PRINCIPAL", LintSeverity::Security, "The principal's policies allow every action on every resource."),
    ("EMPTY_GROUP", LintSeverity::Suggestion, "A group has no members."),
    ("UNUSED_ROLE", LintSeverity::Warning, "A role has not been used for 90 days."),
    ("ROLE_TRUST_PUBLIC", LintSeverity::Security, "A role's trust policy lets anyone assume it."),
];

/// One audit finding, about one principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFinding {
    /// The stable check ID.
    pub check: &'static str,
    /// How serious it is.
    pub severity: LintSeverity,
    /// The principal's ARN (`arn:aws:iam::ACCOUNT:root` for the root user).
    pub principal: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
    /// Where it was found: a store file and JSON pointer, or the report and its line.
    pub source: Option<Source>,
}

/// Where an audit finding comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A store file and a JSON pointer in it.
    Store {
        /// The file.
        file: String,
        /// The pointer.
        pointer: String,
    },
    /// A line of the credential report.
    Report {
        /// The line, from 1.
        line: u64,
    },
}

/// An audit that could not run: the store or the report is unusable. Nothing partial is shown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditError {
    /// The store did not load.
    #[error("{0}")]
    Store(crate::error::LoadError),
    /// The credential report is malformed.
    #[error("{0}")]
    Report(credential_report::ReportError),
}

/// Parses `--as-of`: an ISO 8601 date or date-time; epoch seconds.
pub fn parse_date(s: &str) -> Option<i64> {
    Instant::parse(s).map(|i| i.secs)
}

fn days(secs: i64) -> i64 {
    secs.div_euclid(DAY)
}

struct Ctx {
    out: Vec<AuditFinding>,
    now: i64,
}

impl Ctx {
    fn push(&mut self, check: &'static str, principal: &str, message: String, fix: &str, source: Option<Source>) {
        let severity = AUDIT_CHECKS.iter().find(|c| c.0 == check).map_or(LintSeverity::Warning, |c| c.1);
        let f = AuditFinding { check, severity, principal: principal.to_owned(), message, fix: fix.to_owned(), source };
        if !self.out.iter().any(|o| o.check == f.check && o.principal == f.principal && o.message == f.message) {
            self.out.push(f);
        }
    }
    fn age_days(&self, t: i64) -> i64 {
        days(self.now - t)
    }
}

/// Audits a store (documents `(name, JSON text)`) and, optionally, a credential report (its
/// text), as of `now` (Unix seconds).
///
/// # Errors
/// [`AuditError::Store`] when the store does not load; [`AuditError::Report`] for a malformed
/// report, naming its line.
pub fn audit(documents: &[(String, String)], report: Option<&str>, now: i64) -> Result<Vec<AuditFinding>, AuditError> {
    let report = report.map(CredentialReport::parse).transpose().map_err(AuditError::Report)?;
    let store =
        Store::from_documents(documents.iter().map(|(n, t)| (n.as_str(), t.as_str()))).map_err(AuditError::Store)?;
    let mut cx = Ctx { out: Vec::new(), now };
    if let Some(r) = &report {
        report_checks(&mut cx, r);
    }
    for (name, text) in documents {
        if let Ok(json) = Json::parse(text) {
            store_checks(&mut cx, name, &json);
        }
    }
    trust_checks(&mut cx, documents);
    let snapshot = Snapshot::new(store);
    admin_checks(&mut cx, &snapshot);
    let order = |c: &str| AUDIT_CHECKS.iter().position(|a| a.0 == c).unwrap_or(usize::MAX);
    cx.out.sort_by(|a, b| (order(a.check), &a.principal).cmp(&(order(b.check), &b.principal)));
    Ok(cx.out)
}

const ROTATE_FIX: &str = "Create a new key, move its users to it, then deactivate and delete the old one.";

fn report_checks(cx: &mut Ctx, r: &CredentialReport) {
    for row in &r.rows {
        let src = Some(Source::Report { line: row.line });
        let keys = [&row.key1, &row.key2];
        if row.is_root() {
            if keys.iter().any(|k| k.active) {
                cx.push(
                    "ROOT_ACCESS_KEY",
                    &row.arn,
                    "the root user has an active access key".to_owned(),
                    "Delete the root user's access keys; use IAM roles or users for programmatic access.",
                    src.clone(),
                );
            }
            if !row.mfa_active {
                cx.push(
                    "ROOT_NO_MFA",
                    &row.arn,
                    "the root user has no MFA device".to_owned(),
                    "Enable MFA on the root user (a hardware key or an authenticator app).",
                    src.clone(),
                );
            }
            let last = [row.password_last_used, row.key1.last_used, row.key2.last_used].into_iter().flatten().max();
            if let Some(t) = last.filter(|t| cx.age_days(*t) <= ROOT_RECENT_DAYS) {
                cx.push(
                    "ROOT_USED_RECENTLY",
                    &row.arn,
                    format!("the root user was used {} days ago", cx.age_days(t).max(0)),
                    "Use the root user only for the tasks that require it; use IAM roles day to day.",
                    src.clone(),
                );
            }
            continue;
        }
        if row.password_enabled && !row.mfa_active {
            cx.push(
                "CONSOLE_USER_NO_MFA",
                &row.arn,
                format!("user {} has a console password and no MFA device", row.user),
                "Enable MFA for the user, or remove the console password if the user does not need it.",
                src.clone(),
            );
        }
        for (i, k) in keys.iter().enumerate() {
            if !k.active {
                continue;
            }
            if let Some(t) = k.last_rotated.filter(|t| cx.age_days(*t) > STALE_DAYS) {
                cx.push(
                    "ACCESS_KEY_NOT_ROTATED",
                    &row.arn,
                    format!("access key {} of user {} is {} days old", i + 1, row.user, cx.age_days(t)),
                    ROTATE_FIX,
                    src.clone(),
                );
            }
            key_unused(cx, &row.arn, &format!("access key {} of user {}", i + 1, row.user), k.last_used, src.clone());
        }
        if keys.iter().all(|k| k.active) {
            cx.push(
                "TWO_ACTIVE_KEYS",
                &row.arn,
                format!("user {} has two active access keys", row.user),
                "Keep one active key per user; deactivate the other once rotation is done.",
                src.clone(),
            );
        }
        inactive_user(cx, row, src);
    }
}

fn key_unused(cx: &mut Ctx, arn: &str, what: &str, last_used: Option<i64>, src: Option<Source>) {
    let msg = match last_used {
        None => format!("{what} has never been used"),
        Some(t) if cx.age_days(t) > STALE_DAYS => format!("{what} was last used {} days ago", cx.age_days(t)),
        Some(_) => return,
    };
    cx.push("ACCESS_KEY_UNUSED", arn, msg, "Deactivate and delete access keys that are not used.", src);
}

fn inactive_user(cx: &mut Ctx, row: &Row, src: Option<Source>) {
    let last = [row.password_last_used, row.key1.last_used, row.key2.last_used].into_iter().flatten().max();
    let since = last.or(row.created);
    let Some(t) = since.filter(|t| cx.age_days(*t) > STALE_DAYS) else { return };
    let what =
        if last.is_some() { "last used a password or key" } else { "has never used a password or key since created" };
    cx.push(
        "INACTIVE_USER",
        &row.arn,
        format!("user {} {what} {} days ago", row.user, cx.age_days(t)),
        "Remove users who no longer need access (or their credentials).",
        src,
    );
}

fn text(node: &Json, key: &str) -> Option<String> {
    node.get(key).and_then(Json::as_str).map(str::to_owned)
}

fn items<'j>(node: &'j Json, key: &str) -> &'j [Json] {
    match node.get(key) {
        Some(Json::Array(items)) => items,
        _ => &[],
    }
}

fn store_checks(cx: &mut Ctx, file: &str, doc: &Json) {
    let account = text(doc, "AccountId");
    let user_arn = |u: &Json| {
        text(u, "Arn").unwrap_or_else(|| {
            let path = text(u, "Path").unwrap_or_else(|| "/".to_owned());
            format!(
                "arn:aws:iam::{}:user{path}{}",
                account.as_deref().unwrap_or(""),
                text(u, "UserName").unwrap_or_default()
            )
        })
    };
    let mut members: Vec<String> = Vec::new();
    for (i, u) in items(doc, "UserDetailList").iter().enumerate() {
        let arn = user_arn(u);
        let name = text(u, "UserName").unwrap_or_default();
        members.extend(items(u, "GroupList").iter().filter_map(|g| g.as_str().map(str::to_ascii_lowercase)));
        let inline = items(u, "UserPolicyList");
        if !inline.is_empty() {
            cx.push(
                "USER_INLINE_POLICY",
                &arn,
                format!("user {name} has {} inline polic{}", inline.len(), if inline.len() == 1 { "y" } else { "ies" }),
                "Move the permissions to a group the user belongs to (or a role the user assumes).",
                Some(Source::Store { file: file.to_owned(), pointer: format!("/UserDetailList/{i}/UserPolicyList") }),
            );
        }
        let attached = items(u, "AttachedManagedPolicies");
        if !attached.is_empty() {
            cx.push(
                "USER_ATTACHED_POLICY",
                &arn,
                format!(
                    "user {name} has {} attached managed polic{}",
                    attached.len(),
                    if attached.len() == 1 { "y" } else { "ies" }
                ),
                "Attach the policies to a group the user belongs to instead.",
                Some(Source::Store {
                    file: file.to_owned(),
                    pointer: format!("/UserDetailList/{i}/AttachedManagedPolicies"),
                }),
            );
        }
    }
    for (i, g) in items(doc, "GroupDetailList").iter().enumerate() {
        let Some(name) = text(g, "GroupName") else { continue };
        if !members.contains(&name.to_ascii_lowercase()) {
            let arn = text(g, "Arn").unwrap_or_else(|| {
                let path = text(g, "Path").unwrap_or_else(|| "/".to_owned());
                format!("arn:aws:iam::{}:group{path}{name}", account.as_deref().unwrap_or(""))
            });
            cx.push(
                "EMPTY_GROUP",
                &arn,
                format!("group {name} has no members"),
                "Delete the group, or add the users it is meant for.",
                Some(Source::Store { file: file.to_owned(), pointer: format!("/GroupDetailList/{i}") }),
            );
        }
    }
    for (i, r) in items(doc, "RoleDetailList").iter().enumerate() {
        let Some(arn) = text(r, "Arn").or_else(|| {
            let path = text(r, "Path").unwrap_or_else(|| "/".to_owned());
            text(r, "RoleName").map(|n| format!("arn:aws:iam::{}:role{path}{n}", account.as_deref().unwrap_or("")))
        }) else {
            continue;
        };
        let last = r.get("RoleLastUsed").and_then(|l| text(l, "LastUsedDate")).and_then(|d| parse_date(&d));
        let created = text(r, "CreateDate").and_then(|d| parse_date(&d));
        let (since, what) = match (last, created) {
            (Some(t), _) => (t, "was last used"),
            (None, Some(t)) => (t, "has not been used since it was created"),
            (None, None) => continue,
        };
        if cx.age_days(since) > STALE_DAYS {
            cx.push(
                "UNUSED_ROLE",
                &arn,
                format!("role {what} {} days ago", cx.age_days(since)),
                "Delete roles that are no longer used.",
                Some(Source::Store { file: file.to_owned(), pointer: format!("/RoleDetailList/{i}") }),
            );
        }
    }
    // The store's own long-term keys.
    let creds = items(doc, "Credentials");
    let mut active_per_user: Vec<(String, usize)> = Vec::new();
    for (i, c) in creds.iter().enumerate() {
        let active = text(c, "Status").is_none_or(|s| s == "Active");
        if !active {
            continue;
        }
        let user = text(c, "UserArn").or_else(|| {
            let name = text(c, "UserName")?;
            items(doc, "UserDetailList")
                .iter()
                .find(|u| text(u, "UserName").as_deref() == Some(name.as_str()))
                .map(user_arn)
                .or_else(|| Some(format!("arn:aws:iam::{}:user/{name}", account.as_deref().unwrap_or(""))))
        });
        let Some(user) = user else { continue };
        let id = text(c, "AccessKeyId").unwrap_or_default();
        let src = Some(Source::Store { file: file.to_owned(), pointer: format!("/Credentials/{i}") });
        if let Some(t) = text(c, "CreateDate").and_then(|d| parse_date(&d)).filter(|t| cx.age_days(*t) > STALE_DAYS) {
            cx.push(
                "ACCESS_KEY_NOT_ROTATED",
                &user,
                format!("access key {id} is {} days old", cx.age_days(t)),
                ROTATE_FIX,
                src.clone(),
            );
        }
        if c.get("LastUsedDate").is_some() {
            let last = text(c, "LastUsedDate").and_then(|d| parse_date(&d));
            key_unused(cx, &user, &format!("access key {id}"), last, src);
        }
        match active_per_user.iter_mut().find(|(u, _)| *u == user) {
            Some((_, n)) => *n += 1,
            None => active_per_user.push((user, 1)),
        }
    }
    for (user, n) in active_per_user {
        if n >= 2 {
            cx.push(
                "TWO_ACTIVE_KEYS",
                &user,
                format!("the user has {n} active access keys in the store"),
                "Keep one active key per user; deactivate the other once rotation is done.",
                None,
            );
        }
    }
}

/// ROLE_TRUST_PUBLIC: lint's PUBLIC_RESOURCE_POLICY on a role's trust policy.
fn trust_checks(cx: &mut Ctx, documents: &[(String, String)]) {
    let Ok(findings) = crate::lint::lint_documents(documents) else { return };
    for f in findings.iter().filter(|f| f.check == "PUBLIC_RESOURCE_POLICY") {
        let Some(rest) = f.pointer.strip_prefix("/RoleDetailList/") else { continue };
        let Some((idx, tail)) = rest.split_once('/') else { continue };
        if !tail.starts_with("AssumeRolePolicyDocument") {
            continue;
        }
        let Some((_, text)) = documents.iter().find(|(n, _)| *n == f.file) else { continue };
        let Ok(doc) = Json::parse(text) else { continue };
        let role = idx.parse::<usize>().ok().and_then(|i| items(&doc, "RoleDetailList").get(i));
        let Some(role) = role else { continue };
        let arn = text_or(role, "Arn", &doc);
        cx.push(
            "ROLE_TRUST_PUBLIC",
            &arn,
            format!("the trust policy lets anyone assume the role: {}", f.message),
            "Name the principals allowed to assume the role, or add an organization or account condition.",
            Some(Source::Store { file: f.file.clone(), pointer: f.pointer.clone() }),
        );
    }
}

fn text_or(role: &Json, key: &str, doc: &Json) -> String {
    text(role, key).unwrap_or_else(|| {
        let path = text(role, "Path").unwrap_or_else(|| "/".to_owned());
        format!(
            "arn:aws:iam::{}:role{path}{}",
            text(doc, "AccountId").unwrap_or_default(),
            text(role, "RoleName").unwrap_or_default()
        )
    })
}

/// The service no policy names: an action of it is matched only by `*`-like patterns.
const PROBE_SERVICE: &str = "zzzkeycardprobe";
/// The action name no policy names.
const PROBE_ACTION: &str = "ZzzKeycardProbe";

/// ADMIN_PRINCIPAL, through the decision index. "Allows `*` on `*`" is read as: allowed an
/// action of a service no policy names, on a resource no policy names, AND, for every service
/// of the catalogue, an action of that service that no policy names, on a resource of that
/// service no policy names. Only `*`-like patterns (`*`, `svc:*`, NotAction/NotResource) allow
/// those, and any Deny, boundary, session policy or SCP that cuts a whole service, or `*`,
/// makes the principal not an administrator. The context carries MFA and TLS: an
/// administrator who must use MFA is still an administrator.
fn admin_checks(cx: &mut Ctx, snapshot: &Snapshot) {
    let store = snapshot.store();
    let principals = store.users.iter().map(|u| (u.arn.as_str(), u.account.as_str()));
    let principals: Vec<(&str, &str)> =
        principals.chain(store.roles.iter().map(|r| (r.arn.as_str(), r.account.as_str()))).collect();
    let context = serde_json::json!({"aws:MultiFactorAuthPresent": true, "aws:MultiFactorAuthAge": 1,
        "aws:SecureTransport": true});
    let allowed = |principal: &str, service: &str, account: &str| {
        let partition = principal.split(':').nth(1).unwrap_or("aws");
        let resource = format!("arn:{partition}:{service}:us-east-1:{account}:{PROBE_SERVICE}/{PROBE_ACTION}");
        Request::new(principal, &format!("{service}:{PROBE_ACTION}"), &resource)
            .and_then(|r| r.with_context(&context))
            .is_ok_and(|r| snapshot.authorize(&r).decision.is_allowed())
    };
    let services: Vec<&str> = crate::catalog::catalog().prefixes().collect();
    for (arn, account) in principals {
        if !allowed(arn, PROBE_SERVICE, account) {
            continue;
        }
        if services.iter().all(|s| allowed(arn, s, account)) {
            cx.push(
                "ADMIN_PRINCIPAL",
                arn,
                "the principal's policies allow every action on every resource".to_owned(),
                "Grant the actions the principal needs; keep administrator access to a few break-glass roles with MFA.",
                None,
            );
        }
    }
}

/// Renders audit findings as `{"findings": [{"check", "severity", "principal", "message", "fix"}]}`.
pub fn to_json(findings: &[AuditFinding]) -> serde_json::Value {
    let items: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            serde_json::json!({"check": f.check, "severity": f.severity.as_str(), "principal": f.principal,
                "message": f.message, "fix": f.fix})
        })
        .collect();
    serde_json::json!({ "findings": items })
}

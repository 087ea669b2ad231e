//! `keycard lint`: what is wrong or risky in a set of policies, the way IAM Access Analyzer's
//! policy validation, Parliament and Cloudsplaining report it, offline.
//!
//! Input is the text of each file: a store document (what `aws iam
//! get-account-authorization-details` prints, plus keycard's extensions) or a bare policy
//! document. Every policy in it is parsed with the same parser as the store (grammar problems
//! become `POLICY_SYNTAX` findings) and then checked statement by statement (`checks`); the
//! privilege-escalation check also looks at each principal's whole set of policies. Findings
//! carry a stable check ID, a severity, the file and a JSON pointer; [`render`] prints them as
//! text, JSON or SARIF 2.1.0 with the pointer resolved to a line and column ([`locate`]).

mod checks;
pub mod locate;
pub mod render;

use crate::policy::ast::PolicyKind;
use crate::policy::json::Json;
use std::fmt;

/// How serious a finding is, most serious first (the order of `--fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LintSeverity {
    /// The policy is invalid: AWS would refuse it.
    Error,
    /// The policy grants more than it likely should (admin, escalation, public access).
    Security,
    /// The policy does not do what it seems to (unknown action, mismatched resource ...).
    Warning,
    /// Could be simpler or tighter.
    Suggestion,
}

impl LintSeverity {
    /// `error`, `security`, `warning` or `suggestion`.
    pub fn as_str(self) -> &'static str {
        match self {
            LintSeverity::Error => "error",
            LintSeverity::Security => "security",
            LintSeverity::Warning => "warning",
            LintSeverity::Suggestion => "suggestion",
        }
    }

    /// Parses `--fail-on`'s value.
    pub fn parse(s: &str) -> Option<LintSeverity> {
        [LintSeverity::Error, LintSeverity::Security, LintSeverity::Warning, LintSeverity::Suggestion]
            .into_iter()
            .find(|l| l.as_str() == s)
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The stable check ID (`ADMIN_ACCESS`).
    pub check: &'static str,
    /// How serious it is.
    pub severity: LintSeverity,
    /// The file, as given.
    pub file: String,
    /// JSON pointer of the offending element inside the file.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} {}: {}: {}", self.severity.as_str(), self.check, self.file, self.pointer, self.message)
    }
}

/// Every check ID with its severity and a one-line description (SARIF rules, docs).
pub const CHECKS: &[(&str, LintSeverity, &str)] = &[
    ("POLICY_SYNTAX", LintSeverity::Error, "The policy breaks IAM's grammar; AWS would refuse it."),
    ("ADMIN_ACCESS", LintSeverity::Security, "Allow of every action on every resource."),
    ("SERVICE_WILDCARD", LintSeverity::Warning, "Allow of every action of a service (svc:*)."),
    ("PASS_ROLE_WILDCARD", LintSeverity::Security, "iam:PassRole on any role, or without iam:PassedToService."),
    ("PRIVILEGE_ESCALATION", LintSeverity::Security, "A principal's policies grant a known privilege escalation."),
    ("CREDENTIALS_EXPOSURE", LintSeverity::Security, "Actions that return credentials, on any resource."),
    ("DATA_EXFILTRATION", LintSeverity::Warning, "Actions that read secrets or data, on any resource."),
    ("RESOURCE_EXPOSURE", LintSeverity::Security, "Permissions-management actions, on any resource."),
    ("PUBLIC_RESOURCE_POLICY", LintSeverity::Security, "Principal * without a condition that narrows it."),
    (
        "TRUST_ANY_ACCOUNT_ROOT",
        LintSeverity::Security,
        "A trust policy trusts another account without ExternalId, MFA or an org condition.",
    ),
    (
        "ALLOW_WITH_NOT_ACTION",
        LintSeverity::Warning,
        "Allow with NotAction grants every other action, present and future.",
    ),
    ("ALLOW_WITH_NOT_RESOURCE", LintSeverity::Warning, "Allow with NotResource grants every other resource."),
    ("ALLOW_WITH_NOT_PRINCIPAL", LintSeverity::Warning, "Allow with NotPrincipal grants every other principal."),
    ("FORALLVALUES_WITH_ALLOW", LintSeverity::Warning, "ForAllValues: is true when the key is missing."),
    ("FORANYVALUE_ON_SINGLE_VALUED_KEY", LintSeverity::Warning, "A set qualifier on a single-valued key."),
    ("SINGLE_VALUED_OPERATOR_ON_MULTIVALUED_KEY", LintSeverity::Warning, "A plain operator on a multivalued key."),
    ("VARIABLES_IN_2008_VERSION", LintSeverity::Warning, "${...} is literal text without Version 2012-10-17."),
    ("UNKNOWN_ACTION", LintSeverity::Warning, "The service or action is not in AWS's catalogue."),
    ("ACTION_MATCHES_NOTHING", LintSeverity::Warning, "The wildcard matches no action of the catalogue."),
    (
        "RESOURCE_TYPE_MISMATCH",
        LintSeverity::Warning,
        "The resource fits none of the statement's actions' resource types.",
    ),
    (
        "CONDITION_KEY_NOT_APPLICABLE",
        LintSeverity::Warning,
        "The condition key applies to none of the statement's actions.",
    ),
    ("REDUNDANT_STATEMENT", LintSeverity::Suggestion, "An Allow fully covered by another Allow of the same policy."),
    ("DENY_NEVER_MATCHES", LintSeverity::Warning, "A Deny whose condition can never hold."),
];

/// The checks that use the AWS service catalogue (the ones `keycard validate` reports).
pub const CATALOGUE_CHECKS: [&str; 4] =
    ["UNKNOWN_ACTION", "ACTION_MATCHES_NOTHING", "RESOURCE_TYPE_MISMATCH", "CONDITION_KEY_NOT_APPLICABLE"];

/// A file that could not be read as JSON: linting stops (exit 2), it does not guess.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct LintError {
    /// The file.
    pub file: String,
    /// What is wrong.
    pub message: String,
}

/// One policy document found in a file.
pub(crate) struct Doc<'j> {
    pub file_index: usize,
    /// Where the document is in its file.
    pub pointer: String,
    pub kind: PolicyKind,
    /// The document (decoded when the file held it as a string).
    pub raw: std::borrow::Cow<'j, Json>,
    /// The document as the file holds it (an object, or a JSON string), for the parser: each
    /// document is parsed, checked and dropped in turn, so a large store is never held parsed
    /// all at once.
    pub node: &'j Json,
    /// The account that owns the document, when the file says.
    pub account: Option<String>,
    /// Written by AWS: checked only as part of a principal's set, never reported itself.
    pub aws_managed: bool,
    /// Used only as a permissions boundary (a ceiling, not a grant): the checks of what a
    /// policy grants do not apply.
    pub boundary_only: bool,
}

/// A principal and the documents of its identity policies (for escalation combinations).
pub(crate) struct PolicySet {
    pub arn: String,
    pub docs: Vec<usize>,
    /// The permissions boundary's document, when it has one in the files.
    pub boundary: Option<usize>,
}

/// Lints documents `(name, JSON text)`.
///
/// # Errors
/// A [`LintError`] when a file is not JSON.
pub fn lint_documents(documents: &[(String, String)]) -> Result<Vec<Finding>, LintError> {
    let jsons = documents
        .iter()
        .map(|(name, text)| {
            Json::parse(text).map_err(|e| LintError { file: name.clone(), message: format!("invalid JSON: {e}") })
        })
        .collect::<Result<Vec<Json>, LintError>>()?;
    let mut w = Walker::default();
    for (i, json) in jsons.iter().enumerate() {
        w.file(i, json);
    }
    let sets = w.sets();
    let mut findings = Vec::new();
    let names: Vec<&str> = documents.iter().map(|(n, _)| n.as_str()).collect();
    checks::run(&names, &w.docs, &sets, &mut findings);
    findings.sort_by(|a, b| {
        (a.file.as_str(), a.pointer.as_str(), a.check).cmp(&(b.file.as_str(), b.pointer.as_str(), b.check))
    });
    findings.dedup();
    Ok(findings)
}

/// Reads `paths` (files, or directories walked for `*.json`) into documents.
///
/// # Errors
/// A [`LintError`] naming the file that cannot be read.
pub fn read_paths(paths: &[std::path::PathBuf]) -> Result<Vec<(String, String)>, LintError> {
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files)?;
    }
    files
        .into_iter()
        .map(|f| {
            let name = f.display().to_string();
            std::fs::read_to_string(&f)
                .map(|t| (name.clone(), t))
                .map_err(|e| LintError { file: name, message: format!("cannot read: {e}") })
        })
        .collect()
}

fn collect(path: &std::path::Path, out: &mut Vec<std::path::PathBuf>) -> Result<(), LintError> {
    let err = |e: std::io::Error| LintError { file: path.display().to_string(), message: format!("cannot read: {e}") };
    if !std::fs::metadata(path).map_err(err)?.is_dir() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut children: Vec<_> = std::fs::read_dir(path)
        .map_err(err)?
        .filter_map(Result::ok)
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .map(|e| e.path())
        .collect();
    children.sort();
    for c in children {
        if c.is_dir() {
            collect(&c, out)?;
        } else if c.extension().is_some_and(|e| e == "json") {
            out.push(c);
        }
    }
    Ok(())
}

struct Entity {
    arn: String,
    account: String,
    inline: Vec<usize>,
    attached: Vec<String>,
    groups: Vec<String>,
    boundary: Option<String>,
}

#[derive(Default)]
struct Walker<'j> {
    docs: Vec<Doc<'j>>,
    managed: std::collections::HashMap<String, usize>,
    /// Group (account, lowercase name) → (inline docs, attached ARNs).
    groups: std::collections::HashMap<(String, String), (Vec<usize>, Vec<String>)>,
    /// Users and roles.
    entities: Vec<Entity>,
    /// Bare policy files: each is its own set.
    bare: Vec<(String, usize)>,
}

fn items<'j>(node: &'j Json, key: &str) -> impl Iterator<Item = (usize, &'j Json)> {
    let list = match node.get(key) {
        Some(Json::Array(items)) => items.as_slice(),
        _ => &[],
    };
    list.iter().enumerate()
}

fn text(node: &Json, key: &str) -> Option<String> {
    node.get(key).and_then(Json::as_str).map(str::to_owned)
}

impl<'j> Walker<'j> {
    fn add(&mut self, file: usize, pointer: String, node: &'j Json, kind: PolicyKind, account: Option<&str>) -> usize {
        let raw = match node {
            Json::String(s) => {
                let decoded = if s.trim_start().starts_with('{') {
                    s.clone()
                } else {
                    percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned()
                };
                std::borrow::Cow::Owned(Json::parse(&decoded).unwrap_or_else(|_| node.clone()))
            }
            other => std::borrow::Cow::Borrowed(other),
        };
        self.docs.push(Doc {
            file_index: file,
            pointer,
            kind,
            raw,
            node,
            account: account.map(str::to_owned),
            aws_managed: kind == PolicyKind::AwsManaged,
            boundary_only: false,
        });
        self.docs.len() - 1
    }

    fn file(&mut self, file: usize, json: &'j Json) {
        if json.get("Statement").is_some() {
            let kind = bare_kind(json);
            let d = self.add(file, String::new(), json, kind, None);
            if kind == PolicyKind::Identity {
                self.bare.push((String::new(), d));
            }
            return;
        }
        let account = text(json, "AccountId");
        let acct = account.as_deref();
        for (i, p) in items(json, "Policies") {
            let Some(arn) = text(p, "Arn") else { continue };
            let default = text(p, "DefaultVersionId");
            let chosen = items(p, "PolicyVersionList").find(|(_, v)| {
                matches!(v.get("IsDefaultVersion"), Some(Json::Bool(true)))
                    || (default.is_some() && text(v, "VersionId") == default)
            });
            let Some((j, v)) = chosen else { continue };
            let Some(doc) = v.get("Document") else { continue };
            let aws = arn.split(':').nth(4) == Some("aws");
            let kind = if aws { PolicyKind::AwsManaged } else { PolicyKind::Identity };
            let d = self.add(file, format!("/Policies/{i}/PolicyVersionList/{j}/Document"), doc, kind, acct);
            self.managed.insert(arn, d);
        }
        for (list, key, kind) in [
            ("GroupDetailList", "GroupPolicyList", "group"),
            ("UserDetailList", "UserPolicyList", "user"),
            ("RoleDetailList", "RolePolicyList", "role"),
        ] {
            for (i, e) in items(json, list) {
                let name_key = match kind {
                    "group" => "GroupName",
                    "user" => "UserName",
                    _ => "RoleName",
                };
                let Some(name) = text(e, name_key) else { continue };
                let entity_account =
                    text(e, "Arn").and_then(|a| a.split(':').nth(4).map(str::to_owned)).or(account.clone());
                let ea = entity_account.as_deref();
                let mut inline = Vec::new();
                for (j, p) in items(e, key) {
                    if let Some(doc) = p.get("PolicyDocument") {
                        inline.push(self.add(
                            file,
                            format!("/{list}/{i}/{key}/{j}/PolicyDocument"),
                            doc,
                            PolicyKind::Identity,
                            ea,
                        ));
                    }
                }
                if let Some(doc) = e.get("AssumeRolePolicyDocument") {
                    self.add(file, format!("/{list}/{i}/AssumeRolePolicyDocument"), doc, PolicyKind::Trust, ea);
                }
                let attached: Vec<String> =
                    items(e, "AttachedManagedPolicies").filter_map(|(_, a)| text(a, "PolicyArn")).collect();
                let path = text(e, "Path").unwrap_or_else(|| "/".to_owned());
                let arn =
                    text(e, "Arn").unwrap_or_else(|| format!("arn:aws:iam::{}:{kind}{path}{name}", ea.unwrap_or("")));
                if kind == "group" {
                    self.groups.insert((ea.unwrap_or("").to_owned(), name.to_ascii_lowercase()), (inline, attached));
                } else {
                    let groups = items(e, "GroupList").filter_map(|(_, g)| g.as_str().map(str::to_owned)).collect();
                    let boundary = e.get("PermissionsBoundary").and_then(|b| text(b, "PermissionsBoundaryArn"));
                    let account = ea.unwrap_or("").to_owned();
                    self.entities.push(Entity { arn, account, inline, attached, groups, boundary });
                }
            }
        }
        for (i, r) in items(json, "ResourcePolicies") {
            if let Some(doc) = r.get("Policy") {
                let owner = text(r, "Account")
                    .or_else(|| text(r, "ResourceArn").and_then(|a| a.split(':').nth(4).map(str::to_owned)))
                    .filter(|a| !a.is_empty())
                    .or(account.clone());
                self.add(file, format!("/ResourcePolicies/{i}/Policy"), doc, PolicyKind::Resource, owner.as_deref());
            }
        }
        if let Some(org) = json.get("Organization") {
            for (key, kind) in
                [("ServiceControlPolicies", PolicyKind::Scp), ("ResourceControlPolicies", PolicyKind::Rcp)]
            {
                for (i, p) in items(org, key) {
                    if let Some(doc) = p.get("Policy") {
                        self.add(file, format!("/Organization/{key}/{i}/Policy"), doc, kind, None);
                    }
                }
            }
        }
    }

    /// Each principal's identity policies (and each bare identity policy on its own); marks
    /// managed policies used only as boundaries.
    fn sets(&mut self) -> Vec<PolicySet> {
        let mut out: Vec<PolicySet> =
            self.bare.iter().map(|(arn, d)| PolicySet { arn: arn.clone(), docs: vec![*d], boundary: None }).collect();
        let mut granting = std::collections::HashSet::new();
        let mut bounding = std::collections::HashSet::new();
        for e in &self.entities {
            let mut docs = e.inline.clone();
            docs.extend(e.attached.iter().filter_map(|a| self.managed.get(a)));
            for g in &e.groups {
                if let Some((gi, ga)) = self.groups.get(&(e.account.clone(), g.to_ascii_lowercase())) {
                    docs.extend(gi);
                    docs.extend(ga.iter().filter_map(|a| self.managed.get(a)));
                }
            }
            granting.extend(docs.iter().copied());
            let boundary = e.boundary.as_ref().and_then(|b| self.managed.get(b)).copied();
            bounding.extend(boundary);
            out.push(PolicySet { arn: e.arn.clone(), docs, boundary });
        }
        for (_, ga) in self.groups.values() {
            granting.extend(ga.iter().filter_map(|a| self.managed.get(a)));
        }
        for d in bounding {
            if !granting.contains(&d) {
                if let Some(doc) = self.docs.get_mut(d) {
                    doc.boundary_only = true;
                }
            }
        }
        out
    }
}

/// The kind of a bare policy file: a trust policy (Principal, no Resource), a resource policy
/// (Principal and Resource) or an identity policy.
fn bare_kind(doc: &Json) -> PolicyKind {
    let statements: Vec<&Json> = match doc.get("Statement") {
        Some(Json::Array(items)) => items.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    let has = |k: &str| statements.iter().any(|s| s.get(k).is_some());
    let principal = has("Principal") || has("NotPrincipal");
    if principal && !has("Resource") && !has("NotResource") {
        PolicyKind::Trust
    } else if principal {
        PolicyKind::Resource
    } else {
        PolicyKind::Identity
    }
}

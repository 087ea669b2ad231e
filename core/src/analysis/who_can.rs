//! `who-can ACTION RESOURCE`: every principal of the store that is allowed, as PMapper's
//! `query "who can do ACTION with RESOURCE"` and IAM Access Analyzer answer it.
//!
//! Each user and role is decided with the compiled index ([`Snapshot::decide`], well under a
//! microsecond each), so the set is exactly what `keycard authorize` answers for every one of
//! them; only the allowed ones are explained by the reference evaluator, for the statements
//! that grant them. A principal that is not allowed itself but may assume (in one or more hops)
//! a role that is, is listed too, `via: "session"`, with the roles it goes through: its role
//! session can do it.

use crate::analysis::{granting, principal_arns, template_request, with_principal, AnalysisError};
use crate::decide::request::Request;
use crate::decide::snapshot::Snapshot;
use crate::{Matched, StatementKind};
use serde::Serialize;
use std::collections::VecDeque;

/// How a principal gets the permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Via {
    /// Its identity policies (user, group or role policies) allow it.
    Identity,
    /// A resource policy names it (and no identity policy is needed or one allows too).
    Resource,
    /// A role's trust policy lets it assume the role (the question was `sts:AssumeRole`).
    Trust,
    /// It may assume a role (through the roles in `through`) whose session is allowed.
    Session,
}

/// One principal that is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grantee {
    /// The user or role ARN.
    pub principal: String,
    /// How it gets the permission.
    pub via: Via,
    /// The statements that allow it: for `session`, those that let it assume each role of
    /// `through`, then those that allow the last role.
    pub matched: Vec<Matched>,
    /// For `session`: the roles assumed, in order; the last one is allowed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub through: Vec<String>,
}

/// The answer: `{"action", "resource", "principals": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WhoCan {
    /// The action asked about.
    pub action: String,
    /// The resource asked about.
    pub resource: String,
    /// The allowed principals: those allowed themselves in store order (users, then roles),
    /// then those that reach an allowed role, nearest first.
    pub principals: Vec<Grantee>,
}

/// Every principal allowed `action` on `resource` with the request context `context` (a JSON
/// object as `docs/http-api.md#a-request` describes, or `None`).
///
/// # Errors
/// [`AnalysisError::Request`] when the action, resource or context is malformed.
pub fn who_can(
    snapshot: &Snapshot,
    action: &str,
    resource: &str,
    context: Option<&str>,
) -> Result<WhoCan, AnalysisError> {
    let mut request = template_request(action, resource, context)?;
    let arns: Vec<&str> = principal_arns(snapshot).collect();
    let mut allowed = vec![false; arns.len()];
    let mut principals = Vec::new();
    for (i, arn) in arns.iter().enumerate() {
        with_principal(&mut request, arn);
        if snapshot.decide(&request).is_allowed() {
            allowed[i] = true;
            let matched = granting(snapshot, &request);
            principals.push(Grantee {
                principal: (*arn).to_owned(),
                via: via_of(&matched),
                matched,
                through: Vec::new(),
            });
        }
    }
    principals.extend(sessions(snapshot, &arns, &allowed, &request));
    Ok(WhoCan { action: action.to_owned(), resource: resource.to_owned(), principals })
}

/// `trust` when a trust policy grants, `resource` when a resource policy does and no identity
/// policy does, else `identity`.
fn via_of(matched: &[Matched]) -> Via {
    let has = |k: StatementKind| matched.iter().any(|m| m.kind == k);
    if has(StatementKind::Trust) {
        Via::Trust
    } else if has(StatementKind::Resource) && !has(StatementKind::Identity) {
        Via::Resource
    } else {
        Via::Identity
    }
}

/// The principals not allowed themselves that can assume, in one or more hops, a role that is:
/// a breadth-first search backwards from the allowed roles over `sts:AssumeRole` decisions.
fn sessions(snapshot: &Snapshot, arns: &[&str], allowed: &[bool], asked: &Request) -> Vec<Grantee> {
    let users = snapshot.store().users.len();
    let is_role = |i: usize| i >= users;
    // `route[i]`: the role index `i` assumes next on its way, once reached.
    let mut route: Vec<Option<usize>> = vec![None; arns.len()];
    let mut queue: VecDeque<usize> = (0..arns.len()).filter(|&i| allowed[i] && is_role(i)).collect();
    if queue.is_empty() {
        return Vec::new();
    }
    let mut found = Vec::new();
    while let Some(role) = queue.pop_front() {
        let Ok(mut assume) = Request::new(arns[0], "sts:AssumeRole", arns[role]) else { continue };
        for p in 0..arns.len() {
            if allowed[p] || route[p].is_some() || p == role {
                continue;
            }
            with_principal(&mut assume, arns[p]);
            if snapshot.decide(&assume).is_allowed() {
                route[p] = Some(role);
                found.push(p);
                if is_role(p) {
                    queue.push_back(p);
                }
            }
        }
    }
    found
        .into_iter()
        .map(|p| {
            let mut through = Vec::new();
            let mut matched = Vec::new();
            let (mut at, mut next) = (p, route[p]);
            while let Some(role) = next {
                if let Ok(mut assume) = Request::new(arns[at], "sts:AssumeRole", arns[role]) {
                    with_principal(&mut assume, arns[at]);
                    matched.extend(granting(snapshot, &assume));
                }
                through.push(arns[role].to_owned());
                at = role;
                next = route[role];
            }
            let mut last = asked.clone();
            with_principal(&mut last, arns[at]);
            matched.extend(granting(snapshot, &last));
            Grantee { principal: arns[p].to_owned(), via: Via::Session, matched, through }
        })
        .collect()
}

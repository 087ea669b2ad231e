//! `escalation`: who can become admin, PMapper's privilege-escalation graph, offline.
//!
//! Nodes are the store's users and roles. An edge A → B means "A can act as B", and every edge
//! is a decision of the compiled index ([`Snapshot::decide`]), so a Deny, a permissions boundary
//! or an SCP that blocks the call blocks the edge:
//! - `assume-role`: A may `sts:AssumeRole` role B (trust policy and identity policy together);
//! - `pass-role`: A may `iam:PassRole` role B to a compute service that B's trust policy lets in
//!   (with `iam:PassedToService` set) and may start that service's compute: `ec2:RunInstances`,
//!   `lambda:CreateFunction`, `cloudformation:CreateStack`, `glue:CreateDevEndpoint`,
//!   `ecs:RunTask`;
//! - `create-access-key`, `create-login-profile`, `update-login-profile`: A may make credentials
//!   for user B;
//! - `update-assume-role-policy`: A may rewrite role B's trust policy (and so let itself in);
//! - `put-user-policy`, `attach-user-policy`, `put-role-policy`, `attach-role-policy`,
//!   `create-policy-version` (of a customer managed policy attached to A), `add-user-to-group`
//!   (of a group whose own policy allows `*` on `*`): A may grant itself anything, an edge
//!   A → A. It counts only when no permissions boundary and no SCP would cap what A grants
//!   itself (a boundary and every SCP level must allow `*` on `*` without conditions, and no
//!   SCP may deny a probe action below without conditions).
//!
//! Admins are the principals allowed `*` on `*`: decided for probe actions of several services,
//! one of them an action no policy can name except through a wildcard. The answer holds every
//! shortest path (breadth first) from each non-admin principal to each admin it can reach, and to
//! itself when it can grant itself anything; each edge carries the statements that allow it.

use crate::analysis::{granting, principal_arns, template_request, AnalysisError};
use crate::decide::principal::{resolve, PolicyRef};
use crate::decide::reference::scp_levels;
use crate::decide::request::Request;
use crate::decide::rules::action_matches;
use crate::decide::snapshot::Snapshot;
use crate::id::PolicyId;
use crate::policy::ast::{Effect, Statement};
use crate::policy::context::Context;
use crate::policy::glob::glob_match;
use crate::Matched;
use rustc_hash::{FxHashMap, FxHashSet};
use serde::Serialize;
use std::collections::VecDeque;

/// One "A can act as B" edge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edge {
    /// The principal that acts.
    pub from: String,
    /// The principal it can act as (itself, for a policy edit).
    pub to: String,
    /// `assume-role`, `pass-role`, `create-access-key`, ... (see the module documentation).
    pub kind: &'static str,
    /// The calls the edge needs, all allowed.
    pub actions: Vec<String>,
    /// The statements that allow them.
    pub matched: Vec<Matched>,
}

/// A path from a non-admin principal to an admin one (or to itself, made admin by a policy edit).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Path {
    /// Where it starts.
    pub from: String,
    /// The admin it ends at.
    pub to: String,
    /// The edges, in order.
    pub edges: Vec<Edge>,
}

/// The graph: `{"admins": [...], "paths": [...]}` (the edges are drawn by [`Escalation::to_dot`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Escalation {
    /// Principals allowed `*` on `*`.
    pub admins: Vec<String>,
    /// Every shortest path from a non-admin principal to an admin.
    pub paths: Vec<Path>,
    /// Every edge of the graph.
    #[serde(skip)]
    pub edges: Vec<Edge>,
}

/// The compute services a role can be passed to: trust principal, the call that starts it, and
/// the resource that call creates.
const COMPUTE: [(&str, &str, &str); 5] = [
    ("ec2.amazonaws.com", "ec2:RunInstances", "arn:aws:ec2:us-east-1:{account}:instance/*"),
    ("lambda.amazonaws.com", "lambda:CreateFunction", "arn:aws:lambda:us-east-1:{account}:function:keycard-escalation"),
    (
        "cloudformation.amazonaws.com",
        "cloudformation:CreateStack",
        "arn:aws:cloudformation:us-east-1:{account}:stack/keycard-escalation/*",
    ),
    ("glue.amazonaws.com", "glue:CreateDevEndpoint", "arn:aws:glue:us-east-1:{account}:devEndpoint/keycard-escalation"),
    ("ecs-tasks.amazonaws.com", "ecs:RunTask", "arn:aws:ecs:us-east-1:{account}:task-definition/keycard-escalation:1"),
];

/// The probes of "allowed `*` on `*`", the one that only a wildcard can grant first (most
/// principals fail it, and the rest are not decided).
const PROBES: [(&str, &str); 5] = [
    ("keycardprobe:Probe", "arn:aws:keycardprobe:us-east-1:{account}:probe/keycard-probe"),
    ("iam:CreateUser", "arn:aws:iam::{account}:user/keycard-probe"),
    ("iam:AttachRolePolicy", "arn:aws:iam::{account}:role/keycard-probe"),
    ("s3:DeleteBucket", "arn:aws:s3:::keycard-probe"),
    ("ec2:TerminateInstances", "arn:aws:ec2:us-east-1:{account}:instance/i-keycardprobe"),
];

/// Edges to another user: the action and the edge kind.
const USER_EDGES: [(&str, &str); 3] = [
    ("iam:CreateAccessKey", "create-access-key"),
    ("iam:CreateLoginProfile", "create-login-profile"),
    ("iam:UpdateLoginProfile", "update-login-profile"),
];

/// Self edits of a user and of a role.
const USER_SELF: [(&str, &str); 2] =
    [("iam:PutUserPolicy", "put-user-policy"), ("iam:AttachUserPolicy", "attach-user-policy")];
const ROLE_SELF: [(&str, &str); 2] =
    [("iam:PutRolePolicy", "put-role-policy"), ("iam:AttachRolePolicy", "attach-role-policy")];

/// A node: a user or a role.
struct Node<'s> {
    arn: &'s str,
    account: &'s str,
    /// Index into `store.users` or `store.roles`.
    user: Option<usize>,
    role: Option<usize>,
}

/// Builds the escalation graph of the whole store, every decision made in the request context
/// `context` (a JSON object as `docs/http-api.md#a-request` describes; `None`: an empty context,
/// so that grants under conditions such as MFA do not count).
///
/// # Errors
/// [`AnalysisError::Request`] when the context is malformed.
pub fn escalation(snapshot: &Snapshot, context: Option<&str>) -> Result<Escalation, AnalysisError> {
    // Read once here (so that the requests of the graph cannot fail on it), with one variant per
    // compute service carrying `iam:PassedToService`; every decision of the graph copies one.
    let base = template_request("sts:GetCallerIdentity", "*", context)?.context;
    // Valid (read just above), so a plain parse reads the same object.
    let map = match context.map(serde_json::from_str::<serde_json::Value>) {
        Some(Ok(serde_json::Value::Object(map))) => map,
        _ => serde_json::Map::new(),
    };
    let mut passed = Vec::with_capacity(COMPUTE.len());
    for (service, _, _) in COMPUTE {
        let mut map = map.clone();
        map.insert("iam:PassedToService".into(), service.into());
        let text = serde_json::Value::Object(map).to_string();
        passed.push((service, template_request("iam:PassRole", "*", Some(&text))?.context));
    }
    let context = Contexts { base, passed };
    let store = snapshot.store();
    let nodes: Vec<Node<'_>> = store
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| Node { arn: &u.arn, account: &u.account, user: Some(i), role: None })
        .chain(store.roles.iter().enumerate().map(|(i, r)| Node {
            arn: &r.arn,
            account: &r.account,
            user: None,
            role: Some(i),
        }))
        .collect();
    debug_assert_eq!(nodes.len(), principal_arns(snapshot).count());
    let by_arn: FxHashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.arn, i)).collect();
    // Users and roles, each sorted by ARN (for [`Graph::targets`]).
    let sorted = |role: bool| {
        let mut v: Vec<(&str, usize)> =
            nodes.iter().enumerate().filter(|(_, n)| n.role.is_some() == role).map(|(i, n)| (n.arn, i)).collect();
        v.sort_unstable();
        v
    };
    let (users, roles) = (sorted(false), sorted(true));

    let trusted = roles
        .iter()
        .filter_map(|&(_, i)| {
            let trust = nodes[i].role.and_then(|r| store.roles.get(r)).and_then(|r| store.policy(r.trust))?;
            let mut everyone = false;
            let mut named = FxHashSet::default();
            for s in trust.policy.statements.iter().filter(|s| s.effect == Effect::Allow) {
                let Some(p) = s.principal.as_ref().filter(|p| !p.not) else { continue };
                everyone |= p.any || p.aws.iter().any(|x| x == "*");
                named.extend(p.aws.iter().map(String::as_str));
            }
            Some((i, everyone, named))
        })
        .collect();
    let g = Graph { snapshot, nodes: &nodes, by_arn: &by_arn, context, by_policy: Default::default(), trusted };
    let admins: Vec<bool> = nodes.iter().map(|n| g.is_admin(n)).collect();
    let mut edges: Vec<Edge> = Vec::new();
    for (a, node) in nodes.iter().enumerate() {
        if admins[a] {
            continue; // an admin can already do anything: its edges lead nowhere new
        }
        let grants = g.grants(a);
        if grants.is_empty() && !g.named_in_some_trust(a) {
            continue;
        }
        // assume-role, update-assume-role-policy, pass-role: towards roles.
        for b in g.targets(&grants, "sts:assumerole", &roles).into_iter().chain(g.trusting(a)).collect::<FxHashSet<_>>()
        {
            if b != a {
                if let Some(e) = g.edge(a, b, "assume-role", &[("sts:AssumeRole", nodes[b].arn, None)]) {
                    edges.push(e);
                }
            }
        }
        for b in g.targets(&grants, "iam:updateassumerolepolicy", &roles) {
            if let Some(e) =
                g.edge(a, b, "update-assume-role-policy", &[("iam:UpdateAssumeRolePolicy", nodes[b].arn, None)])
            {
                edges.push(e);
            }
        }
        for b in g.targets(&grants, "iam:passrole", &roles) {
            let Some(role) = nodes[b].role.and_then(|r| store.roles.get(r)) else { continue };
            for (service, call, resource) in COMPUTE {
                if !trusts_service(snapshot, role.trust, service) {
                    continue;
                }
                let created = resource.replace("{account}", node.account);
                let calls = [("iam:PassRole", nodes[b].arn, Some(service)), (call, created.as_str(), None)];
                if let Some(e) = g.edge(a, b, "pass-role", &calls) {
                    edges.push(e);
                    break;
                }
            }
        }
        // Credentials for another user.
        for (action, kind) in USER_EDGES {
            for b in g.targets(&grants, &action.to_ascii_lowercase(), &users) {
                if b != a {
                    if let Some(e) = g.edge(a, b, kind, &[(action, nodes[b].arn, None)]) {
                        edges.push(e);
                    }
                }
            }
        }
        // Policy edits on oneself.
        if g.uncapped(a) {
            edges.extend(g.self_edits(a, &grants));
        }
    }

    let paths = shortest_paths(&nodes, &admins, &edges);
    let admins = nodes.iter().zip(&admins).filter(|(_, a)| **a).map(|(n, _)| n.arn.to_owned()).collect();
    Ok(Escalation { admins, paths, edges })
}

/// A principal's Allow statements that matter for escalation, by lowercase action.
type Grants<'s> = FxHashMap<&'static str, Vec<&'s Statement>>;

/// The actions escalation looks for in identity policies.
const ACTIONS: [&str; 12] = [
    "sts:assumerole",
    "iam:passrole",
    "iam:updateassumerolepolicy",
    "iam:createaccesskey",
    "iam:createloginprofile",
    "iam:updateloginprofile",
    "iam:putuserpolicy",
    "iam:attachuserpolicy",
    "iam:putrolepolicy",
    "iam:attachrolepolicy",
    "iam:createpolicyversion",
    "iam:addusertogroup",
];

/// The request contexts of the graph's decisions, read once: the caller's, and per compute
/// service the caller's with `iam:PassedToService`.
struct Contexts {
    base: Context,
    passed: Vec<(&'static str, Context)>,
}

struct Graph<'a, 's> {
    snapshot: &'s Snapshot,
    nodes: &'a [Node<'s>],
    by_arn: &'a FxHashMap<&'s str, usize>,
    /// The request context of every decision.
    context: Contexts,
    /// Per policy, its Allow statements for each action of [`ACTIONS`] (policies are shared by
    /// many principals: each is read once).
    by_policy: std::cell::RefCell<FxHashMap<PolicyId, Vec<(&'static str, &'s Statement)>>>,
    /// Per role, whether its trust policy names everyone, and the ARNs and unique IDs it names.
    trusted: Vec<(usize, bool, FxHashSet<&'s str>)>,
}

impl<'s> Graph<'_, 's> {
    fn request(&self, from: usize, action: &str, resource: &str, service: Option<&str>) -> Option<Request> {
        let mut r = Request::new(self.nodes[from].arn, action, resource).ok()?;
        r.context = match service {
            None => self.context.base.clone(),
            Some(s) => self.context.passed.iter().find(|(p, _)| *p == s)?.1.clone(),
        };
        Some(r)
    }

    fn allowed(&self, from: usize, action: &str, resource: &str) -> bool {
        self.request(from, action, resource, None).is_some_and(|r| self.snapshot.decide(&r).is_allowed())
    }

    fn is_admin(&self, n: &Node<'_>) -> bool {
        let i = self.by_arn.get(n.arn).copied().unwrap_or(usize::MAX);
        PROBES.iter().all(|(action, resource)| self.allowed(i, action, &resource.replace("{account}", n.account)))
    }

    /// An edge when every call is allowed, with the statements that allow them.
    fn edge(&self, from: usize, to: usize, kind: &'static str, calls: &[(&str, &str, Option<&str>)]) -> Option<Edge> {
        let mut matched = Vec::new();
        for (action, resource, service) in calls {
            let r = self.request(from, action, resource, *service)?;
            if !self.snapshot.decide(&r).is_allowed() {
                return None;
            }
            for m in granting(self.snapshot, &r) {
                if !matched.contains(&m) {
                    matched.push(m);
                }
            }
        }
        Some(Edge {
            from: self.nodes[from].arn.to_owned(),
            to: self.nodes[to].arn.to_owned(),
            kind,
            actions: calls.iter().map(|(a, _, _)| (*a).to_owned()).collect(),
            matched,
        })
    }

    /// The principal's identity Allow statements for each action of [`ACTIONS`].
    fn grants(&self, i: usize) -> Grants<'s> {
        let store = self.snapshot.store();
        let ids: Vec<PolicyId> = match (self.nodes[i].user, self.nodes[i].role) {
            (Some(u), _) => store.users.get(u).map(|u| u.policy_ids(store).collect()).unwrap_or_default(),
            (_, Some(r)) => store.roles.get(r).map(|r| r.policy_ids().collect()).unwrap_or_default(),
            _ => Vec::new(),
        };
        let mut out: Grants<'s> = FxHashMap::default();
        let mut cache = self.by_policy.borrow_mut();
        for id in ids {
            let list = cache.entry(id).or_insert_with(|| {
                let statements = store.policy(id).map(|p| p.policy.statements.as_slice()).unwrap_or_default();
                statements
                    .iter()
                    .filter(|s| s.effect == Effect::Allow)
                    .flat_map(|s| ACTIONS.iter().filter(|a| action_matches(s, a)).map(move |a| (*a, s)))
                    .collect()
            });
            for (a, s) in list.iter() {
                out.entry(a).or_default().push(s);
            }
        }
        out
    }

    /// The nodes of `among` whose ARN some statement granting `action` might cover (a
    /// pre-filter: the decision is exact). Resources with variables or `NotResource` might cover
    /// any.
    fn targets(&self, grants: &Grants<'_>, action: &str, among: &[(&str, usize)]) -> Vec<usize> {
        let Some(statements) = grants.get(action) else { return Vec::new() };
        let all = || among.iter().map(|(_, i)| *i).collect();
        let mut out = FxHashSet::default();
        for s in statements {
            let Some(block) = &s.resource else { continue };
            if block.not {
                return all();
            }
            for p in &block.patterns {
                // Only ARNs that begin with the pattern's literal head (up to its first wildcard
                // or variable) can match: a range of the sorted ARNs, found by binary search.
                let head = p.raw.split(['*', '?', '$']).next().unwrap_or_default();
                let from = among.partition_point(|(arn, _)| *arn < head);
                let candidates =
                    among.get(from..).unwrap_or_default().iter().take_while(|(arn, _)| arn.starts_with(head));
                if p.has_variables() {
                    // Whatever the variables resolve to, the head stays: every ARN under it
                    // might match (the decision is exact).
                    out.extend(candidates.map(|(_, i)| *i));
                } else {
                    out.extend(candidates.filter(|(arn, _)| glob_match(p.tokens(), arn)).map(|(_, i)| *i));
                }
            }
        }
        let mut v: Vec<usize> = out.into_iter().collect();
        v.sort_unstable();
        v
    }

    /// Whether some role's trust policy names node `a` directly or everyone (it may then assume
    /// the role without an identity policy).
    fn named_in_some_trust(&self, a: usize) -> bool {
        !self.trusting(a).is_empty()
    }

    /// The roles whose trust policy names node `a` (by ARN or unique ID) or everyone.
    fn trusting(&self, a: usize) -> Vec<usize> {
        let store = self.snapshot.store();
        let id = match (self.nodes[a].user, self.nodes[a].role) {
            (Some(u), _) => store.users.get(u).map(|u| u.id.as_str()),
            (_, Some(r)) => store.roles.get(r).map(|r| r.id.as_str()),
            _ => None,
        }
        .filter(|id| !id.is_empty());
        let arn = self.nodes[a].arn;
        self.trusted
            .iter()
            .filter(|(_, everyone, named)| *everyone || named.contains(arn) || id.is_some_and(|i| named.contains(i)))
            .map(|(node, _, _)| *node)
            .collect()
    }

    /// Whether what node `a` grants itself would be in force: no boundary and no SCP level that
    /// lacks an unconditional Allow of `*` on `*`, and no unconditional SCP Deny of a probe action.
    fn uncapped(&self, a: usize) -> bool {
        let store = self.snapshot.store();
        let Some(request) = self.request(a, "sts:GetCallerIdentity", "*", None) else { return false };
        let Ok(caller) = resolve(store, None, &request) else { return false };
        let everything = |p: &PolicyRef<'_>| p.policy.statements.iter().any(allows_everything);
        if let Some(b) = caller.boundary_id().and_then(|id| PolicyRef::of(store, id)) {
            if !everything(&b) {
                return false;
            }
        }
        let blocks_a_probe = |s: &Statement| {
            s.effect == Effect::Deny
                && s.conditions.is_empty()
                && PROBES.iter().any(|(a, _)| action_matches(s, &a.to_ascii_lowercase()))
        };
        scp_levels(store, &caller).iter().all(|level| {
            level.iter().any(|(p, _)| everything(p))
                && level.iter().all(|(p, _)| !p.policy.statements.iter().any(blocks_a_probe))
        })
    }

    /// The edges A → A by which node `a` can grant itself anything.
    fn self_edits(&self, a: usize, grants: &Grants<'_>) -> Vec<Edge> {
        let store = self.snapshot.store();
        let node = &self.nodes[a];
        let mut out = Vec::new();
        let edits: &[(&str, &str)] = if node.user.is_some() { &USER_SELF } else { &ROLE_SELF };
        for (action, kind) in edits {
            if grants.contains_key(action.to_ascii_lowercase().as_str()) {
                out.extend(self.edge(a, a, kind, &[(action, node.arn, None)]));
            }
        }
        // Customer managed policies attached to it (directly or through its groups).
        if grants.contains_key("iam:createpolicyversion") {
            let attached: Vec<PolicyId> = match (node.user.and_then(|u| store.users.get(u)), node.role) {
                (Some(u), _) => u
                    .managed
                    .iter()
                    .copied()
                    .chain(u.groups.iter().filter_map(|&g| store.groups.get(g)).flat_map(|g| g.managed.iter().copied()))
                    .collect(),
                (None, Some(r)) => store.roles.get(r).map(|r| r.managed.clone()).unwrap_or_default(),
                _ => Vec::new(),
            };
            for id in attached {
                let Some(p) = store.policy(id) else { continue };
                if p.name.split(':').nth(4) == Some("aws") {
                    continue; // AWS managed: nobody can add versions
                }
                if let Some(e) = self.edge(a, a, "create-policy-version", &[("iam:CreatePolicyVersion", &p.name, None)])
                {
                    out.push(e);
                    break;
                }
            }
        }
        // Groups whose own policies allow everything.
        if node.user.is_some() && grants.contains_key("iam:addusertogroup") {
            for g in &store.groups {
                let admin = g
                    .inline
                    .iter()
                    .chain(&g.managed)
                    .filter_map(|&id| store.policy(id))
                    .any(|p| p.policy.statements.iter().any(allows_everything));
                if admin {
                    if let Some(e) = self.edge(a, a, "add-user-to-group", &[("iam:AddUserToGroup", &g.arn, None)]) {
                        out.push(e);
                        break;
                    }
                }
            }
        }
        out
    }
}

/// An unconditional Allow of `*` on `*`.
fn allows_everything(s: &Statement) -> bool {
    s.effect == Effect::Allow
        && s.conditions.is_empty()
        && !s.action.not
        && s.action.patterns.iter().any(|p| p.raw == "*")
        && s.resource.as_ref().is_some_and(|r| !r.not && r.patterns.iter().any(|p| p.raw == "*"))
}

/// Whether a trust policy lets `service` (`ec2.amazonaws.com`) assume the role.
fn trusts_service(snapshot: &Snapshot, trust: PolicyId, service: &str) -> bool {
    let Some(p) = snapshot.store().policy(trust) else { return false };
    p.policy.statements.iter().any(|s| {
        s.effect == Effect::Allow
            && action_matches(s, "sts:assumerole")
            && s.principal.as_ref().is_some_and(|b| !b.not && (b.any || b.service.iter().any(|x| x == service)))
    })
}

/// Breadth first from every non-admin node: the shortest path to each admin it reaches, and to
/// each node on the way that can grant itself anything (then ending with that self edge).
fn shortest_paths(nodes: &[Node<'_>], admins: &[bool], edges: &[Edge]) -> Vec<Path> {
    let index: FxHashMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (n.arn, i)).collect();
    let mut out_edges: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    let mut self_edge: Vec<Option<usize>> = vec![None; nodes.len()];
    for (k, e) in edges.iter().enumerate() {
        let (Some(&f), Some(&t)) = (index.get(e.from.as_str()), index.get(e.to.as_str())) else { continue };
        if f == t {
            self_edge[f].get_or_insert(k);
        } else {
            out_edges[f].push(k);
        }
    }
    let mut paths = Vec::new();
    let mut via: Vec<Option<usize>> = vec![None; nodes.len()];
    let mut seen: Vec<bool> = vec![false; nodes.len()];
    for start in (0..nodes.len()).filter(|&i| !admins[i]) {
        if out_edges[start].is_empty() && self_edge[start].is_none() {
            continue;
        }
        let mut visited = vec![start];
        seen[start] = true;
        let mut queue = VecDeque::from([start]);
        while let Some(n) = queue.pop_front() {
            let back = |mut at: usize, via: &[Option<usize>]| {
                let mut chain = Vec::new();
                while let Some(k) = via[at] {
                    chain.push(edges[k].clone());
                    at = index.get(edges[k].from.as_str()).copied().unwrap_or(start);
                }
                chain.reverse();
                chain
            };
            if n != start && admins[n] {
                paths.push(Path {
                    from: nodes[start].arn.to_owned(),
                    to: nodes[n].arn.to_owned(),
                    edges: back(n, &via),
                });
                continue; // an admin is the end of the way
            }
            if let Some(k) = self_edge[n] {
                let mut chain = back(n, &via);
                chain.push(edges[k].clone());
                paths.push(Path { from: nodes[start].arn.to_owned(), to: nodes[n].arn.to_owned(), edges: chain });
            }
            for &k in &out_edges[n] {
                let Some(&t) = index.get(edges[k].to.as_str()) else { continue };
                if !seen[t] {
                    seen[t] = true;
                    via[t] = Some(k);
                    visited.push(t);
                    queue.push_back(t);
                }
            }
        }
        for v in visited {
            seen[v] = false;
            via[v] = None;
        }
    }
    paths
}

impl Escalation {
    /// The graph in Graphviz's DOT language: every principal with an edge, admins filled red,
    /// edges labelled with their kind.
    pub fn to_dot(&self) -> String {
        let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        let quote = |s: &str| format!("\"{}\"", esc(s));
        // `user/dave` over `444455556666`.
        let label = |arn: &str| match crate::arn::arn_fields(arn) {
            Some([_, _, _, _, account, resource]) => format!("\"{}\\n{}\"", esc(resource), esc(account)),
            None => quote(arn),
        };
        let mut out = String::from(
            "digraph escalation {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n  edge [fontname=\"Helvetica\", fontsize=10];\n",
        );
        let mut shown: Vec<&str> = self.admins.iter().map(String::as_str).collect();
        for e in &self.edges {
            for n in [e.from.as_str(), e.to.as_str()] {
                if !shown.contains(&n) {
                    shown.push(n);
                }
            }
        }
        for n in shown {
            let style = if self.admins.iter().any(|a| a == n) {
                ", style=\"rounded,filled\", fillcolor=\"#f4b6b6\", color=\"#b00000\""
            } else {
                ""
            };
            out.push_str(&format!("  {} [label={}{style}];\n", quote(n), label(n)));
        }
        for e in &self.edges {
            out.push_str(&format!("  {} -> {} [label={}];\n", quote(&e.from), quote(&e.to), quote(e.kind)));
        }
        out.push_str("}\n");
        out
    }
}

//! The translation of a generated [`Model`] to Cedar, and the Cedar side of a benchmark request.
//!
//! Entities: every user is `User::"u00042"` whose parents are its groups (`Group::"g0007"`) and
//! the managed policies attached to it (`ManagedPolicy::"arn:aws:iam::...:policy/m0123"`), so an
//! IAM attachment is Cedar group membership and `principal in` sees it through the transitive
//! closure Cedar computes when the entities are built. A request's resource is
//! `Resource::"<ARN>"` with an `arn` attribute.
//!
//! Policies: each IAM statement is one Cedar policy, `permit` for Allow and `forbid` for Deny,
//! scoped to the attachment (`principal == User::"u"` for a user's inline policy, `principal in
//! Group::"g"` and `principal in ManagedPolicy::"arn"` for the shared ones).
//! - Actions match case-insensitively in IAM, so actions are lowercased on both sides. A statement
//!   of literal actions constrains the scope (`action == Action::"s3:getobject"`, `action in
//!   [...]`); a wildcard cannot be an entity, so such a statement tests `context.action like
//!   "s3:get*"` (the request carries its lowercased action in `context.action`); `NotAction` is the
//!   negation of the same test.
//! - Resources are case-sensitive, as in IAM: one literal ARN constrains the scope (`resource ==
//!   Resource::"arn"`), otherwise `resource.arn == "..."` / `resource.arn like "..."` alternatives,
//!   and `"*"` adds nothing.
//! - `${aws:username}` has no Cedar equivalent (no string concatenation): a statement that uses
//!   it is expanded into one policy per user it applies to, with the user's name substituted and
//!   `principal == User::"u"`.
//! - Conditions: keys are lowercased (IAM keys are case-insensitive) and read from the context
//!   with `context has "key" && ...` for the positive operators and `!(context has "key") || ...`
//!   for the negated ones (IAM: a missing key fails a positive operator and passes a negated one).
//!   `IpAddress` → `context["aws:sourceip"].isInRange(ip("10.0.0.0/8"))` (the context holds an `ip`
//!   value), `StringEquals` → `==`, `StringLike` → `like`, `NumericLessThanEquals` → `<=` on a
//!   Long, `Bool` → `== true`; values OR (negated: NOR), operators and keys AND.
//!
//! What this does not express, and the generator therefore never produces: `?` wildcards (Cedar
//! `like` has only `*`), multivalued context keys, case-insensitive string operators, and the
//! parts of IAM evaluation that are not "deny overrides allow overrides default deny" (boundaries,
//! SCPs, resource policies, sessions, cross-account).

use crate::gen::{Cond, Effect, Model, Op, Stmt};
use cedar_policy::{
    Authorizer, Context, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicySet, Request,
    RestrictedExpression,
};
use keycard::Decision;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;

/// A Cedar string literal.
fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A Cedar `like` pattern literal from an IAM pattern: `*` stays a wildcard.
fn like_lit(pattern: &str) -> String {
    assert!(!pattern.contains('?'), "Cedar `like` has no single-character wildcard: {pattern:?}");
    lit(pattern)
}

/// A `Type::"id"` entity reference in policy text.
pub fn uid_text(kind: &str, id: &str) -> String {
    format!("{kind}::{}", lit(id))
}

/// An entity uid.
pub fn uid(kind: &str, id: &str) -> EntityUid {
    #[allow(clippy::expect_used)]
    let type_name = EntityTypeName::from_str(kind).expect("a valid entity type name");
    EntityUid::from_type_name_and_id(type_name, EntityId::new(id))
}

fn condition_text(c: &Cond) -> String {
    let key = lit(&c.key.to_ascii_lowercase());
    let get = format!("context[{key}]");
    let any = |f: &dyn Fn(&str) -> String| c.values.iter().map(|v| f(v)).collect::<Vec<_>>().join(" || ");
    match c.op {
        Op::IpAddress => format!("(context has {key} && ({}))", any(&|v| format!("{get}.isInRange(ip({}))", lit(v)))),
        Op::NotIpAddress => {
            format!("(!(context has {key}) || !({}))", any(&|v| format!("{get}.isInRange(ip({}))", lit(v))))
        }
        Op::StringEquals => format!("(context has {key} && ({}))", any(&|v| format!("{get} == {}", lit(v)))),
        Op::StringNotEquals => format!("(!(context has {key}) || !({}))", any(&|v| format!("{get} == {}", lit(v)))),
        Op::StringLike => format!("(context has {key} && ({}))", any(&|v| format!("{get} like {}", like_lit(v)))),
        Op::NumericLessThanEquals => format!(
            "(context has {key} && ({}))",
            any(&|v| {
                let n: i64 = v.parse().unwrap_or_else(|_| panic!("integer condition value {v:?}"));
                format!("{get} <= {n}")
            })
        ),
        Op::Bool => {
            format!("(context has {key} && ({}))", any(&|v| format!("{get} == {}", v.eq_ignore_ascii_case("true"))))
        }
    }
}

/// One IAM statement as one Cedar policy. `username` substitutes `${aws:username}`.
pub fn statement_text(s: &Stmt, principal: &str, username: Option<&str>) -> String {
    let effect = match s.effect {
        Effect::Allow => "permit",
        Effect::Deny => "forbid",
    };
    let mut when: Vec<String> = Vec::new();
    let actions: Vec<String> = s.actions.iter().map(|a| a.to_ascii_lowercase()).collect();
    let action_scope = if !s.not_action && !s.has_wildcard_action() {
        match actions.as_slice() {
            [one] => format!("action == {}", uid_text("Action", one)),
            many => {
                format!("action in [{}]", many.iter().map(|a| uid_text("Action", a)).collect::<Vec<_>>().join(", "))
            }
        }
    } else {
        let test = actions
            .iter()
            .map(|a| {
                if a.contains('*') {
                    format!("context.action like {}", like_lit(a))
                } else {
                    format!("context.action == {}", lit(a))
                }
            })
            .collect::<Vec<_>>()
            .join(" || ");
        when.push(if s.not_action { format!("!({test})") } else { format!("({test})") });
        "action".to_owned()
    };
    let resources: Vec<String> = s
        .resources
        .iter()
        .map(|r| match username {
            Some(u) => r.replace("${aws:username}", u),
            None => {
                assert!(!r.contains("${"), "a policy variable needs a user to expand: {r:?}");
                r.clone()
            }
        })
        .collect();
    let resource_scope = if resources.iter().any(|r| r == "*") {
        "resource".to_owned()
    } else if let [one] = resources.as_slice() {
        if one.contains('*') {
            when.push(format!("resource.arn like {}", like_lit(one)));
            "resource".to_owned()
        } else {
            format!("resource == {}", uid_text("Resource", one))
        }
    } else {
        let test = resources
            .iter()
            .map(|r| {
                if r.contains('*') {
                    format!("resource.arn like {}", like_lit(r))
                } else {
                    format!("resource.arn == {}", lit(r))
                }
            })
            .collect::<Vec<_>>()
            .join(" || ");
        when.push(format!("({test})"));
        "resource".to_owned()
    };
    when.extend(s.conditions.iter().map(condition_text));
    let body = if when.is_empty() { String::new() } else { format!(" when {{ {} }}", when.join(" && ")) };
    format!("{effect} ({principal}, {action_scope}, {resource_scope}){body};\n")
}

/// The Cedar text of a model, grouped by what each policy is attached to.
#[derive(Debug, Clone, Default)]
pub struct Translation {
    /// Per user: the user's inline statements, plus every `${aws:username}` statement of its
    /// groups and managed policies expanded for it.
    pub users: Vec<String>,
    /// Per group: the group's statements without variables.
    pub groups: Vec<String>,
    /// Per managed policy: its statements without variables.
    pub managed: Vec<String>,
    /// Cedar policies in all (after expansion).
    pub policies: usize,
}

impl Translation {
    /// Translates `model`.
    pub fn new(model: &Model) -> Translation {
        let mut t = Translation {
            users: vec![String::new(); model.users.len()],
            groups: vec![String::new(); model.groups.len()],
            managed: vec![String::new(); model.managed.len()],
            policies: 0,
        };
        let mut group_members: Vec<Vec<usize>> = vec![Vec::new(); model.groups.len()];
        let mut managed_users: Vec<Vec<usize>> = vec![Vec::new(); model.managed.len()];
        for (i, u) in model.users.iter().enumerate() {
            u.groups.iter().for_each(|&g| group_members[g].push(i));
            u.managed.iter().for_each(|&m| managed_users[m].push(i));
        }
        for (i, u) in model.users.iter().enumerate() {
            let principal = format!("principal == {}", uid_text("User", &u.name));
            for s in &u.inline.statements {
                t.users[i].push_str(&statement_text(s, &principal, Some(&u.name)));
                t.policies += 1;
            }
        }
        let shared = model
            .groups
            .iter()
            .enumerate()
            .map(|(i, g)| {
                (&g.inline, format!("principal in {}", uid_text("Group", &g.name)), &group_members[i], i, true)
            })
            .chain(model.managed.iter().enumerate().map(|(i, m)| {
                (&m.doc, format!("principal in {}", uid_text("ManagedPolicy", &m.arn)), &managed_users[i], i, false)
            }));
        for (doc, principal, members, i, is_group) in shared {
            for s in &doc.statements {
                if s.has_variable() {
                    for &u in members {
                        let name = &model.users[u].name;
                        let p = format!("principal == {}", uid_text("User", name));
                        t.users[u].push_str(&statement_text(s, &p, Some(name)));
                        t.policies += 1;
                    }
                } else {
                    let out = if is_group { &mut t.groups[i] } else { &mut t.managed[i] };
                    out.push_str(&statement_text(s, &principal, None));
                    t.policies += 1;
                }
            }
        }
        t
    }

    /// Every policy of the account.
    pub fn full_text(&self) -> String {
        let mut out = String::new();
        for s in self.users.iter().chain(&self.groups).chain(&self.managed) {
            out.push_str(s);
        }
        out
    }

    /// The policies that can apply to `user` (its slice): its own, its groups', its managed
    /// policies'. What a deployment that partitions policies per principal would load.
    pub fn slice_text(&self, model: &Model, user: usize) -> String {
        let u = &model.users[user];
        let mut out = self.users[user].clone();
        u.groups.iter().for_each(|&g| out.push_str(&self.groups[g]));
        u.managed.iter().for_each(|&m| out.push_str(&self.managed[m]));
        out
    }
}

/// Parses policy text.
///
/// # Panics
/// On a translation that Cedar rejects: a bug of this module.
pub fn policy_set(text: &str) -> PolicySet {
    PolicySet::from_str(text).unwrap_or_else(|e| panic!("the Cedar translation does not parse: {e:?}"))
}

/// The entity store: users with their groups and managed policies as parents, and one `Resource`
/// entity (with its `arn` attribute) per ARN in `resources`.
///
/// # Panics
/// When Cedar rejects an entity (a bug of this module).
pub fn entities(model: &Model, resources: &[String]) -> Entities {
    let mut list: Vec<Entity> = Vec::new();
    for u in &model.users {
        let parents: HashSet<EntityUid> = u
            .groups
            .iter()
            .map(|&g| uid("Group", &model.groups[g].name))
            .chain(u.managed.iter().map(|&m| uid("ManagedPolicy", &model.managed[m].arn)))
            .collect();
        list.push(Entity::new_no_attrs(uid("User", &u.name), parents));
    }
    for g in &model.groups {
        list.push(Entity::new_no_attrs(uid("Group", &g.name), HashSet::new()));
    }
    for m in &model.managed {
        list.push(Entity::new_no_attrs(uid("ManagedPolicy", &m.arn), HashSet::new()));
    }
    let mut seen = HashSet::new();
    for r in resources {
        if seen.insert(r.as_str()) {
            let attrs = HashMap::from([("arn".to_owned(), RestrictedExpression::new_string(r.clone()))]);
            list.push(Entity::new(uid("Resource", r), attrs, HashSet::new()).unwrap_or_else(|e| panic!("{e:?}")));
        }
    }
    Entities::from_entities(list, None).unwrap_or_else(|e| panic!("the Cedar entities do not build: {e:?}"))
}

/// A context value of a benchmark request, typed as a Cedar schema would type it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A string.
    Str(String),
    /// An IP address (`aws:SourceIp`): a string in IAM, an `ip` value in Cedar.
    Ip(String),
    /// A boolean.
    Bool(bool),
    /// An integer.
    Long(i64),
}

/// A Cedar request: principal user `user`, the lowercased action (as the action entity and as
/// `context.action`), `Resource::"<resource>"`, and the context keys lowercased.
///
/// # Panics
/// When Cedar rejects the request (a bug of this module).
pub fn request(user: &str, action: &str, resource: &str, context: &[(String, Value)]) -> Request {
    let action_lc = action.to_ascii_lowercase();
    let mut pairs = vec![("action".to_owned(), RestrictedExpression::new_string(action_lc.clone()))];
    for (k, v) in context {
        let v = match v {
            Value::Str(s) => RestrictedExpression::new_string(s.clone()),
            Value::Ip(s) => RestrictedExpression::new_ip(s),
            Value::Bool(b) => RestrictedExpression::new_bool(*b),
            Value::Long(n) => RestrictedExpression::new_long(*n),
        };
        pairs.push((k.to_ascii_lowercase(), v));
    }
    let context = Context::from_pairs(pairs).unwrap_or_else(|e| panic!("{e:?}"));
    Request::new(uid("User", user), uid("Action", &action_lc), uid("Resource", resource), context, None)
        .unwrap_or_else(|e| panic!("{e:?}"))
}

/// Cedar's answer as an IAM decision: `Allow` → allowed; `Deny` because a `forbid` was satisfied →
/// explicit deny; `Deny` with no satisfied policy → implicit deny.
pub fn decide(authorizer: &Authorizer, request: &Request, policies: &PolicySet, entities: &Entities) -> Decision {
    let response = authorizer.is_authorized(request, policies, entities);
    match response.decision() {
        cedar_policy::Decision::Allow => Decision::Allowed,
        cedar_policy::Decision::Deny if response.diagnostics().reason().next().is_some() => Decision::ExplicitDeny,
        cedar_policy::Decision::Deny => Decision::ImplicitDeny,
    }
}

/// Like [`decide`], also returning the evaluation errors (policies Cedar skipped).
pub fn decide_checked(
    authorizer: &Authorizer,
    request: &Request,
    policies: &PolicySet,
    entities: &Entities,
) -> (Decision, Vec<String>) {
    let response = authorizer.is_authorized(request, policies, entities);
    let errors = response.diagnostics().errors().map(|e| e.to_string()).collect();
    let d = match response.decision() {
        cedar_policy::Decision::Allow => Decision::Allowed,
        cedar_policy::Decision::Deny if response.diagnostics().reason().next().is_some() => Decision::ExplicitDeny,
        cedar_policy::Decision::Deny => Decision::ImplicitDeny,
    };
    (d, errors)
}

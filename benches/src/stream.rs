//! Request streams: what a sidecar beside a real service sees, as opposed to one request asked
//! again and again (whose whole decision path sits in the CPU caches).
//!
//! A stream is seeded and deterministic. Every principal of the shape appears (the users are
//! dealt in shuffled rounds until the stream is full), and each request is drawn like this:
//! - 60 %: from one of the statements that can apply to the user (its inline policy, its groups',
//!   its managed policies'): one of the statement's actions (wildcards instantiated, so actions
//!   that no policy names literally occur too, e.g. `s3:GetObjectX` under `s3:Get*`) and one of its
//!   resources, with `${aws:username}` filled (mostly with the caller's own name) and wildcards
//!   filled with the request's number, so that resources are distinct;
//! - 40 %: an action of the vocabulary (ten services) on a resource of that service that no
//!   statement need cover (also numbered);
//! - 20 % of actions are upper-cased (actions match case-insensitively);
//! - the context holds the keys the shapes' conditions read (`aws:SourceIp`,
//!   `aws:RequestedRegion`, `aws:SecureTransport`, `s3:prefix`, `s3:max-keys`), each present with
//!   its own probability, so conditions pass, fail, and meet missing keys.

use crate::cedar::Value;
use crate::fixture::Probe;
use crate::gen::{vocabulary_actions, Model, Rng, Stmt, ACCOUNT};

/// Requests in a stream unless told otherwise.
pub const DEFAULT_LEN: usize = 20_000;

/// Resources per service for requests not drawn from a statement: `{n}` a noise resource
/// number, `{i}` the request's number.
const FREE_RESOURCES: [(&str, &[&str]); 10] = [
    ("s3", &["arn:aws:s3:::data-{n}/obj-{i}", "arn:aws:s3:::data-{n}/logs/{i}.gz", "arn:aws:s3:::other-{i}/x"]),
    (
        "dynamodb",
        &[
            "arn:aws:dynamodb:us-east-1:111122223333:table/data-{n}/index/i{i}",
            "arn:aws:dynamodb:eu-west-1:111122223333:table/t{i}",
        ],
    ),
    ("sqs", &["arn:aws:sqs:us-east-1:111122223333:data-{n}-{i}"]),
    ("lambda", &["arn:aws:lambda:us-east-1:111122223333:function:data-{n}:v{i}"]),
    ("ec2", &["arn:aws:ec2:us-east-1:111122223333:instance/i-{i}"]),
    ("kms", &["arn:aws:kms:us-east-1:111122223333:key/k-{i}"]),
    ("logs", &["arn:aws:logs:us-east-1:111122223333:log-group:data-{n}:log-stream:{i}"]),
    ("cloudwatch", &["arn:aws:cloudwatch:us-east-1:111122223333:alarm:a{i}"]),
    ("sns", &["arn:aws:sns:us-east-1:111122223333:data-{n}-{i}"]),
    ("iam", &["arn:aws:iam::111122223333:role/r{i}", "arn:aws:iam::111122223333:user/data-{n}/{i}"]),
];

/// The statements that can apply to `user`.
pub fn applicable(model: &Model, user: usize) -> Vec<&Stmt> {
    let u = &model.users[user];
    let mut out: Vec<&Stmt> = u.inline.statements.iter().collect();
    for &g in &u.groups {
        out.extend(&model.groups[g].inline.statements);
    }
    for &m in &u.managed {
        out.extend(&model.managed[m].doc.statements);
    }
    out
}

fn instantiate(rng: &mut Rng, pattern: &str, fill: &[&str]) -> String {
    let mut out = String::new();
    for (i, part) in pattern.split('*').enumerate() {
        if i > 0 {
            out.push_str(rng.pick::<&str>(fill));
        }
        out.push_str(part);
    }
    out
}

/// The users in shuffled rounds (each round a permutation of all users) until `len` entries.
fn dealt_users(rng: &mut Rng, users: usize, len: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        let mut round: Vec<usize> = (0..users).collect();
        for i in (1..round.len()).rev() {
            round.swap(i, rng.below(i + 1));
        }
        out.extend(round.into_iter().take(len - out.len()));
    }
    out
}

/// A stream of `len` requests over every user of `model` (seeded by the shape's seed and `seed`).
pub fn generate(model: &Model, len: usize, seed: u64) -> Vec<Probe> {
    let mut rng = Rng::new(model.shape.seed ^ seed ^ 0x5742_ea11);
    let actions = vocabulary_actions();
    let resource_space = (model.shape.statements() / 20).max(50);
    let users = dealt_users(&mut rng, model.users.len(), len);
    let mut out = Vec::with_capacity(len);
    for (i, &user) in users.iter().enumerate() {
        let name = model.users[user].name.clone();
        let tag = format!("{i}");
        let (mut action, resource) = if rng.pct(60) {
            let stmts = applicable(model, user);
            let s = *rng.pick(&stmts);
            let action = if s.not_action || s.actions.iter().any(|a| a == "*") {
                rng.pick(&actions).clone()
            } else {
                let a = rng.pick(&s.actions).clone();
                instantiate(&mut rng, &a, &["Object", "Item", "Instances", "X"])
            };
            let r = rng.pick(&s.resources).clone();
            let who = if rng.pct(80) { name.clone() } else { model.users[rng.below(model.users.len())].name.clone() };
            let r = r.replace("${aws:username}", &who);
            let resource = if r == "*" {
                format!("arn:aws:ec2:us-east-1:{ACCOUNT}:instance/i-{i}")
            } else {
                let fill = [tag.as_str(), "logs/", "2026/q1.csv"];
                instantiate(&mut rng, &r, &fill)
            };
            (action, resource)
        } else {
            let action = rng.pick(&actions).clone();
            let service = action.split(':').next().unwrap_or_default();
            let templates = FREE_RESOURCES.iter().find(|(s, _)| *s == service).map_or(&[][..], |(_, t)| *t);
            let resource = match templates {
                [] => format!("arn:aws:s3:::other-{i}"),
                t => rng.pick(t).replace("{n}", &rng.below(resource_space).to_string()).replace("{i}", &tag),
            };
            (action, resource)
        };
        if rng.pct(20) {
            action = action.to_ascii_uppercase();
        }
        out.push(Probe { user: name, action, resource, context: context(&mut rng, resource_space) });
    }
    out
}

/// A request context with the keys the shapes' conditions read.
fn context(rng: &mut Rng, resource_space: usize) -> Vec<(String, Value)> {
    let mut context = Vec::new();
    if rng.pct(80) {
        let ip = match rng.below(4) {
            0 => format!("10.{}.1.2", rng.below(256)),
            1 => format!("192.168.{}.9", rng.below(256)),
            2 => "203.0.113.50".to_owned(),
            _ => "198.51.100.7".to_owned(),
        };
        context.push(("aws:SourceIp".to_owned(), Value::Ip(ip)));
    }
    if rng.pct(80) {
        let region = *rng.pick(&["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "sa-east-1"]);
        context.push(("aws:RequestedRegion".to_owned(), Value::Str(region.into())));
    }
    if rng.pct(80) {
        context.push(("aws:SecureTransport".to_owned(), Value::Bool(rng.pct(80))));
    }
    if rng.pct(30) {
        let prefix = if rng.pct(50) { "home/me".to_owned() } else { format!("data-{}/y", rng.below(resource_space)) };
        context.push(("s3:prefix".to_owned(), Value::Str(prefix)));
    }
    if rng.pct(30) {
        context.push(("s3:max-keys".to_owned(), Value::Long(rng.below(1200) as i64)));
    }
    context
}

/// The request's context as the JSON object keycard's `context` field takes.
pub fn context_json(p: &Probe) -> String {
    match p.to_json().get("context") {
        Some(c) if c.as_object().is_some_and(|o| !o.is_empty()) => c.to_string(),
        _ => String::new(),
    }
}

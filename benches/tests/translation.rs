//! The Cedar translation is faithful: on random requests drawn from the generated stores (actions
//! and resources instantiated from the statements that apply to a random user, random context),
//! Cedar, keycard's reference evaluator and keycard's snapshot give the same decision. A wrong
//! translation would make the Cedar column of BENCHMARKS.md measure different work.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use cedar_policy::Authorizer;
use keycard::{Decision, Snapshot, Store};
use keycard_benches::cedar::{self, Translation, Value};
use keycard_benches::fixture::Probe;
use keycard_benches::gen::{vocabulary_actions, Model, Rng, Shape, Stmt};
use std::collections::HashMap;

/// A small account with every feature turned up, so that random requests hit them often.
const DENSE: Shape = Shape {
    name: "dense",
    users: 40,
    inline_statements: 4,
    groups: 8,
    group_statements: 10,
    managed: 20,
    managed_statements: 8,
    groups_per_user: 3,
    managed_per_user: 5,
    condition_pct: 45,
    wildcard_pct: 40,
    deny_pct: 20,
    variable_pct: 15,
    not_action_pct: 8,
    seed: 77,
};

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

fn applicable(model: &Model, user: usize) -> Vec<&Stmt> {
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

fn random_probe(rng: &mut Rng, model: &Model, actions: &[String]) -> Probe {
    let user = rng.below(model.users.len());
    let name = model.users[user].name.clone();
    let stmts = applicable(model, user);
    let s = *rng.pick(&stmts);
    let mut action = if rng.pct(75) && !s.not_action {
        let a = rng.pick(&s.actions).clone();
        if a == "*" {
            rng.pick(actions).clone()
        } else {
            instantiate(rng, &a, &["Object", "Item", "Instances", "X"])
        }
    } else {
        rng.pick(actions).clone()
    };
    if rng.pct(20) {
        action = action.to_ascii_uppercase();
    }
    let resource = if rng.pct(85) {
        let r = rng.pick(&s.resources).clone();
        let who = if rng.pct(80) { name.clone() } else { model.users[rng.below(model.users.len())].name.clone() };
        let r = r.replace("${aws:username}", &who);
        if r == "*" {
            "arn:aws:ec2:us-east-1:111122223333:instance/i-0abc".to_owned()
        } else {
            instantiate(rng, &r, &["a", "logs/x", "2026/q1.csv", "", "7"])
        }
    } else {
        format!("arn:aws:s3:::data-{}/x", rng.below(60))
    };
    let mut context = Vec::new();
    if rng.pct(70) {
        let ip = match rng.below(4) {
            0 => format!("10.{}.1.2", rng.below(256)),
            1 => format!("192.168.{}.9", rng.below(256)),
            2 => "203.0.113.50".to_owned(),
            _ => "198.51.100.7".to_owned(),
        };
        context.push(("aws:SourceIp".to_owned(), Value::Ip(ip)));
    }
    if rng.pct(70) {
        let region = *rng.pick(&["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "sa-east-1"]);
        context.push(("aws:RequestedRegion".to_owned(), Value::Str(region.into())));
    }
    if rng.pct(70) {
        context.push(("aws:SecureTransport".to_owned(), Value::Bool(rng.pct(70))));
    }
    if rng.pct(40) {
        let prefix = if rng.pct(50) { "home/me".to_owned() } else { format!("data-{}/y", rng.below(60)) };
        context.push(("s3:prefix".to_owned(), Value::Str(prefix)));
    }
    if rng.pct(40) {
        context.push(("s3:max-keys".to_owned(), Value::Long(i64::try_from(rng.below(1200)).unwrap())));
    }
    Probe { user: name, action, resource, context }
}

fn differential(shape: Shape, requests: usize) {
    let model = Model::generate(shape);
    let store = Store::from_documents(model.documents_text()).unwrap();
    let snapshot = Snapshot::new(store);
    let translation = Translation::new(&model);
    let full = cedar::policy_set(&translation.full_text());
    let slices: Vec<_> =
        (0..model.users.len()).map(|u| cedar::policy_set(&translation.slice_text(&model, u))).collect();
    let actions = vocabulary_actions();
    let mut rng = Rng::new(shape.seed ^ 0xd1ff);
    let probes: Vec<Probe> = (0..requests).map(|_| random_probe(&mut rng, &model, &actions)).collect();
    let resources: Vec<String> = probes.iter().map(|p| p.resource.clone()).collect();
    let entities = cedar::entities(&model, &resources);
    let authorizer = Authorizer::new();
    let mut tally: HashMap<Decision, usize> = HashMap::new();
    let mut failures = Vec::new();
    for p in &probes {
        let kc = p.to_keycard();
        let reference = keycard::reference::authorize(snapshot.store(), &kc).decision();
        let compiled = snapshot.decide(&kc);
        let req = p.to_cedar();
        let user = model.users.iter().position(|u| u.name == p.user).unwrap();
        let (cedar_full, errors) = cedar::decide_checked(&authorizer, &req, &full, &entities);
        let cedar_slice = cedar::decide(&authorizer, &req, &slices[user], &entities);
        *tally.entry(reference).or_default() += 1;
        if !errors.is_empty() || [compiled, cedar_full, cedar_slice].iter().any(|&d| d != reference) {
            failures.push(format!(
                "{}: reference {reference:?}, compiled {compiled:?}, cedar {cedar_full:?}, cedar sliced {cedar_slice:?}, errors {errors:?}",
                p.to_json()
            ));
        }
    }
    println!("{}: {requests} requests, decisions {tally:?}", shape.name);
    assert!(
        failures.is_empty(),
        "{} disagreements, first ones:\n{}",
        failures.len(),
        failures[..failures.len().min(10)].join("\n")
    );
    for d in [Decision::Allowed, Decision::ImplicitDeny, Decision::ExplicitDeny] {
        assert!(
            tally.get(&d).copied().unwrap_or(0) >= requests / 50,
            "too few {d:?} in {tally:?}: the test lost its power"
        );
    }
}

#[test]
fn cedar_agrees_with_keycard_on_the_small_shape() {
    differential(Shape::SMALL, 2_000);
}

#[test]
fn cedar_agrees_with_keycard_on_a_dense_store() {
    differential(DENSE, 3_000);
}

#[test]
fn every_shape_generates_deterministically() {
    assert_eq!(Model::generate(Shape::SMALL), Model::generate(Shape::SMALL));
    assert_eq!(Model::generate(DENSE).documents_text(), Model::generate(DENSE).documents_text());
}

#[test]
fn the_fixtures_of_small_decide_as_expected() {
    // Fixture::new asserts every engine's decision on every benchmark request.
    let fx = keycard_benches::Fixture::new(Shape::SMALL);
    assert_eq!(fx.requests.len(), 5);
}

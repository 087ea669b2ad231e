//! A loaded shape: the keycard snapshot, the Cedar policy sets and entities, and the benchmark
//! requests with their expected decisions.
//!
//! The five request kinds, all by the bench user and all with the same request context
//! (`aws:SourceIp` 10.20.30.40, `aws:RequestedRegion` us-east-1, `aws:SecureTransport` true):
//!
//! | kind | request | decided by (planted statement) | expected |
//! | --- | --- | --- | --- |
//! | `allowed` | `s3:GetObject` on `bench-reports/2026/q1.csv` | managed policy: Allow `s3:Get*` | allowed |
//! | `implicit_deny` | `s3:PutObject` on `bench-reports/2026/q1.csv` | nothing allows it | implicitDeny |
//! | `explicit_deny` | `s3:DeleteObject` on `bench-archive/2019/old.csv` | user: Allow `s3:*`; group: Deny `s3:DeleteObject*` | explicitDeny |
//! | `condition` | `dynamodb:Query` on `table/bench-orders` | user: Allow with IpAddress, StringEquals, Bool | allowed |
//! | `variable` | `s3:PutObject` on `bench-home/<user>/notes.txt` | group: Allow on `bench-home/${aws:username}/*` | allowed |

use crate::cedar::{self, Translation, Value};
use crate::gen::{planted, Mix, Model, Shape, ACCOUNT};
use cedar_policy::{Authorizer, Entities, PolicySet};
use keycard::{Decision, Snapshot, Store};
use std::time::{Duration, Instant};

/// The kinds of benchmark request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Allowed by a wildcard action in a managed policy.
    Allowed,
    /// No statement allows it.
    ImplicitDeny,
    /// A group's Deny overrides the user's Allow.
    ExplicitDeny,
    /// Allowed by a statement with three condition operators.
    Condition,
    /// Allowed by a group statement with `${aws:username}`.
    Variable,
}

impl Kind {
    /// Every kind, in table order.
    pub const ALL: [Kind; 5] = [Kind::Allowed, Kind::ImplicitDeny, Kind::ExplicitDeny, Kind::Condition, Kind::Variable];

    /// The name used in bench ids and tables.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Allowed => "allowed",
            Kind::ImplicitDeny => "implicit_deny",
            Kind::ExplicitDeny => "explicit_deny",
            Kind::Condition => "condition",
            Kind::Variable => "variable",
        }
    }

    /// The decision the planted statements force.
    pub fn expected(self) -> Decision {
        match self {
            Kind::Allowed | Kind::Condition | Kind::Variable => Decision::Allowed,
            Kind::ImplicitDeny => Decision::ImplicitDeny,
            Kind::ExplicitDeny => Decision::ExplicitDeny,
        }
    }
}

/// The engines compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    /// `keycard::reference::authorize`.
    Reference,
    /// `keycard::Snapshot` (the compiled index).
    Compiled,
    /// `cedar-policy` with every policy of the account in one `PolicySet`.
    Cedar,
    /// `cedar-policy` with only the principal's slice of policies.
    CedarSliced,
}

impl Engine {
    /// Every engine, in table order.
    pub const ALL: [Engine; 4] = [Engine::Reference, Engine::Compiled, Engine::Cedar, Engine::CedarSliced];

    /// The name used in bench ids and tables.
    pub fn name(self) -> &'static str {
        match self {
            Engine::Reference => "reference",
            Engine::Compiled => "compiled",
            Engine::Cedar => "cedar",
            Engine::CedarSliced => "cedar_sliced",
        }
    }
}

/// An engine-neutral request: the bench builds both keycard's and Cedar's from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The caller's user name.
    pub user: String,
    /// `service:Action`.
    pub action: String,
    /// The resource ARN.
    pub resource: String,
    /// Context keys with typed values.
    pub context: Vec<(String, Value)>,
}

impl Probe {
    /// The context every benchmark request carries.
    pub fn standard_context() -> Vec<(String, Value)> {
        vec![
            ("aws:SourceIp".into(), Value::Ip("10.20.30.40".into())),
            ("aws:RequestedRegion".into(), Value::Str("us-east-1".into())),
            ("aws:SecureTransport".into(), Value::Bool(true)),
        ]
    }

    /// The request JSON of `docs/http-api.md#a-request`.
    pub fn to_json(&self) -> serde_json::Value {
        let context: serde_json::Map<String, serde_json::Value> = self
            .context
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::Str(s) | Value::Ip(s) => serde_json::Value::String(s.clone()),
                    Value::Bool(b) => serde_json::Value::Bool(*b),
                    Value::Long(n) => serde_json::Value::from(*n),
                };
                (k.clone(), v)
            })
            .collect();
        serde_json::json!({
            "principal": format!("arn:aws:iam::{ACCOUNT}:user/{}", self.user),
            "action": self.action,
            "resource": self.resource,
            "context": context,
        })
    }

    /// keycard's request.
    ///
    /// # Panics
    /// When keycard rejects the request (a bug of the generator).
    pub fn to_keycard(&self) -> keycard::Request {
        keycard::Request::from_json(&self.to_json().to_string())
            .unwrap_or_else(|e| panic!("keycard rejects {}: {e}", self.to_json()))
    }

    /// Cedar's request.
    pub fn to_cedar(&self) -> cedar_policy::Request {
        cedar::request(&self.user, &self.action, &self.resource, &self.context)
    }
}

/// One benchmark request in both engines' forms.
#[derive(Debug, Clone)]
pub struct BenchRequest {
    /// Which kind.
    pub kind: Kind,
    /// The decision every engine must give.
    pub expected: Decision,
    /// The neutral form.
    pub probe: Probe,
    /// keycard's form.
    pub keycard: keycard::Request,
    /// Cedar's form.
    pub cedar: cedar_policy::Request,
}

/// How long the setup steps took (not part of any timed benchmark).
#[derive(Debug, Clone, Copy, Default)]
pub struct SetupTimes {
    /// Generating the model and its JSON.
    pub generate: Duration,
    /// `Store::from_documents`.
    pub load: Duration,
    /// `Snapshot::new`.
    pub compile: Duration,
    /// Translating to Cedar and parsing the full policy set.
    pub cedar: Duration,
}

/// A shape ready to benchmark.
pub struct Fixture {
    /// The shape.
    pub shape: Shape,
    /// The generated model.
    pub model: Model,
    /// Its statement mix.
    pub mix: Mix,
    /// The keycard snapshot of the model's store.
    pub snapshot: Snapshot,
    /// Cedar's authorizer.
    pub authorizer: Authorizer,
    /// Every Cedar policy of the account.
    pub cedar_full: PolicySet,
    /// The bench user's slice of Cedar policies.
    pub cedar_slice: PolicySet,
    /// Cedar's entities.
    pub entities: Entities,
    /// Policies in `cedar_full`.
    pub cedar_policies: usize,
    /// Policies in `cedar_slice`.
    pub cedar_slice_policies: usize,
    /// One request per [`Kind`], in [`Kind::ALL`] order.
    pub requests: Vec<BenchRequest>,
    /// Setup timings.
    pub times: SetupTimes,
}

/// The benchmark requests of a model.
pub fn probes(model: &Model) -> Vec<(Kind, Probe)> {
    let user = model.bench().name.clone();
    let probe = |action: &str, resource: String| Probe {
        user: user.clone(),
        action: action.into(),
        resource,
        context: Probe::standard_context(),
    };
    Kind::ALL
        .into_iter()
        .map(|kind| {
            let p = match kind {
                Kind::Allowed => probe("s3:GetObject", format!("{}/2026/q1.csv", planted::REPORTS)),
                Kind::ImplicitDeny => probe("s3:PutObject", format!("{}/2026/q1.csv", planted::REPORTS)),
                Kind::ExplicitDeny => probe("s3:DeleteObject", format!("{}/2019/old.csv", planted::ARCHIVE)),
                Kind::Condition => probe("dynamodb:Query", planted::ORDERS.to_owned()),
                Kind::Variable => probe("s3:PutObject", format!("{}/{user}/notes.txt", planted::HOME)),
            };
            (kind, p)
        })
        .collect()
}

impl Fixture {
    /// Generates, loads, compiles and translates `shape`, then checks every engine's decision on
    /// every request (see [`Fixture::check`]).
    ///
    /// # Panics
    /// When the store does not load or an engine gives a wrong decision.
    pub fn new(shape: Shape) -> Fixture {
        let t = Instant::now();
        let model = Model::generate(shape);
        let docs = model.documents_text();
        let generate = t.elapsed();

        let t = Instant::now();
        let store =
            Store::from_documents(docs).unwrap_or_else(|e| panic!("the {} store does not load: {e}", shape.name));
        let load = t.elapsed();
        let stats = store.stats();
        assert_eq!(stats.statements, shape.statements(), "statements in the {} store", shape.name);
        assert_eq!(stats.policies, shape.policies(), "policies in the {} store", shape.name);
        let t = Instant::now();
        let snapshot = Snapshot::new(store);
        let compile = t.elapsed();

        let t = Instant::now();
        let translation = Translation::new(&model);
        let cedar_full = cedar::policy_set(&translation.full_text());
        let cedar_slice = cedar::policy_set(&translation.slice_text(&model, model.bench_user));
        let probes = probes(&model);
        let resources: Vec<String> = probes.iter().map(|(_, p)| p.resource.clone()).collect();
        let entities = cedar::entities(&model, &resources);
        let cedar_time = t.elapsed();

        let requests = probes
            .into_iter()
            .map(|(kind, probe)| BenchRequest {
                kind,
                expected: kind.expected(),
                keycard: probe.to_keycard(),
                cedar: probe.to_cedar(),
                probe,
            })
            .collect();
        let fx = Fixture {
            shape,
            mix: model.mix(),
            model,
            snapshot,
            authorizer: Authorizer::new(),
            cedar_policies: cedar_full.num_of_policies(),
            cedar_slice_policies: cedar_slice.num_of_policies(),
            cedar_full,
            cedar_slice,
            entities,
            requests,
            times: SetupTimes { generate, load, compile, cedar: cedar_time },
        };
        assert_eq!(fx.cedar_policies, translation.policies);
        fx.check();
        fx
    }

    /// The request of `kind`.
    pub fn request(&self, kind: Kind) -> &BenchRequest {
        &self.requests[Kind::ALL.iter().position(|&k| k == kind).unwrap_or_default()]
    }

    /// keycard's reference evaluator.
    #[inline]
    pub fn reference(&self, r: &keycard::Request) -> Decision {
        keycard::reference::authorize(self.snapshot.store(), r).decision()
    }

    /// keycard's compiled snapshot (the decision index).
    #[inline]
    pub fn compiled(&self, r: &keycard::Request) -> Decision {
        self.snapshot.decide(r)
    }

    /// Cedar on the full policy set.
    #[inline]
    pub fn cedar(&self, r: &cedar_policy::Request) -> Decision {
        cedar::decide(&self.authorizer, r, &self.cedar_full, &self.entities)
    }

    /// Cedar on the bench user's slice.
    #[inline]
    pub fn cedar_sliced(&self, r: &cedar_policy::Request) -> Decision {
        cedar::decide(&self.authorizer, r, &self.cedar_slice, &self.entities)
    }

    /// `engine`'s decision on `r`.
    pub fn decide(&self, engine: Engine, r: &BenchRequest) -> Decision {
        match engine {
            Engine::Reference => self.reference(&r.keycard),
            Engine::Compiled => self.compiled(&r.keycard),
            Engine::Cedar => self.cedar(&r.cedar),
            Engine::CedarSliced => self.cedar_sliced(&r.cedar),
        }
    }

    /// Asserts that every engine gives every request its expected decision, and that Cedar
    /// evaluated every policy without error (an erroring Cedar policy is skipped, which would make
    /// a `forbid` silently vanish).
    ///
    /// # Panics
    /// On the first disagreement.
    pub fn check(&self) {
        for r in &self.requests {
            for engine in Engine::ALL {
                let got = self.decide(engine, r);
                assert_eq!(
                    got,
                    r.expected,
                    "{} / {} / {}: expected {:?}, got {got:?} for {}",
                    self.shape.name,
                    r.kind.name(),
                    engine.name(),
                    r.expected,
                    r.probe.to_json()
                );
            }
            for set in [&self.cedar_full, &self.cedar_slice] {
                let (_, errors) = cedar::decide_checked(&self.authorizer, &r.cedar, set, &self.entities);
                assert!(errors.is_empty(), "{} / {}: Cedar errors {errors:?}", self.shape.name, r.kind.name());
            }
        }
    }
}

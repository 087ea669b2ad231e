//! Helpers shared by keycard's fuzz targets (see README.md).
//!
//! Every target rejects inputs over [`MAX_INPUT`] bytes before doing any work, and the structured
//! targets wrap their input in a type whose `Debug` prints a reproducer: the rendered store and
//! request JSON, in the format `core/tests/fuzz_regressions.rs` replays.

use arbitrary::{Arbitrary, Unstructured};
use keycard::{Decision, Request, Snapshot, Store};
use serde_json::Value;

/// Inputs larger than this are rejected (libFuzzer is told not to keep them).
pub const MAX_INPUT: usize = 64 * 1024;

/// A structured input built from at most [`MAX_INPUT`] bytes; larger inputs fail to build, which
/// libfuzzer-sys reports to libFuzzer as a rejected input.
pub fn bounded<'a, T: Arbitrary<'a>>(u: Unstructured<'a>) -> arbitrary::Result<T> {
    if u.len() > MAX_INPUT {
        return Err(arbitrary::Error::IncorrectFormat);
    }
    T::arbitrary_take_rest(u)
}

/// A rendered case: store documents `(name, JSON)` and a request, as the regression files hold
/// them (`{"store": {"name.json": {...}}, "request": {...}}`, plus `"expect"` when an oracle knows
/// the decision).
#[derive(Clone)]
pub struct Rendered {
    /// Store documents in load order.
    pub documents: Vec<(String, Value)>,
    /// The request, as `Request::from_value` reads it.
    pub request: Value,
    /// The decision an oracle expects, when there is one.
    pub expect: Option<Decision>,
}

impl Rendered {
    /// The regression-file JSON of this case.
    pub fn to_json(&self) -> Value {
        let mut store = serde_json::Map::new();
        for (name, doc) in &self.documents {
            store.insert(name.clone(), doc.clone());
        }
        let mut out = serde_json::Map::new();
        out.insert("store".into(), Value::Object(store));
        out.insert("request".into(), self.request.clone());
        if let Some(d) = self.expect {
            out.insert("expect".into(), Value::String(d.as_str().into()));
        }
        Value::Object(out)
    }

    /// Loads the store and parses the request.
    pub fn load(&self) -> (Result<Store, keycard::LoadError>, Result<Request, keycard::RequestError>) {
        let store = Store::from_documents(self.documents.iter().map(|(n, d)| (n.clone(), d.to_string())));
        (store, Request::from_value(&self.request))
    }
}

impl std::fmt::Debug for Rendered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The reproducer: save this JSON as core/tests/fuzz_regressions/<target>/<name>.json.
        let text = serde_json::to_string_pretty(&self.to_json()).map_err(|_| std::fmt::Error)?;
        write!(f, "{text}")
    }
}

/// The compiled snapshot and the reference evaluator must agree; returns the decision.
pub fn check_agreement(snapshot: &Snapshot, request: &Request, case: &dyn std::fmt::Debug) -> Decision {
    let compiled = snapshot.authorize(request).decision();
    let reference = keycard::reference::authorize(snapshot.store(), request).decision();
    assert_eq!(compiled, reference, "snapshot (left) and reference (right) disagree; reproducer:\n{case:?}");
    compiled
}

/// A store that loads was read from valid JSON: every document also parses as a
/// `serde_json::Value`. (keycard reads documents with its own visitor to keep duplicate keys and
/// number text; it must not accept anything plain serde_json rejects.)
pub fn check_loaded_documents_are_json<'a>(documents: impl IntoIterator<Item = &'a str>) {
    for doc in documents {
        if let Err(e) = serde_json::from_str::<Value>(doc) {
            panic!("a store loaded from a document serde_json rejects ({e}): {doc:?}");
        }
    }
}

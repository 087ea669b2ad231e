//! # keycard-benches
//!
//! The benchmark crate of issue 3: deterministic generated stores in three shapes, the same
//! stores translated to Cedar, a fixed set of benchmark requests per shape with their expected
//! decisions, and the engines that answer them (keycard's reference evaluator, keycard's compiled
//! snapshot, and `cedar-policy` on the full and on a per-principal policy set).
//!
//! Not a member of the main workspace, so `cargo test --workspace` never builds cedar. Run it
//! with `benches/run.sh` (see BENCHMARKS.md at the repository root).
//!
//! - [`gen`]: the seeded generator ([`gen::Shape`], [`gen::Model`]) and its AWS
//!   `get-account-authorization-details` JSON.
//! - [`cedar`]: the translation of a [`gen::Model`] to Cedar policies and entities.
//! - [`fixture`]: a loaded shape with its requests and one `decide` function per engine.
//! - [`stats`]: percentiles and the small timing loop used for p99.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod cedar;
pub mod fixture;
pub mod gen;
pub mod stats;
pub mod stream;

pub use fixture::{Engine, Fixture, Kind};
pub use gen::{Model, Shape};

/// Where the bench binaries write their own outputs (latency samples, memory figures):
/// `$CARGO_TARGET_DIR/keycard-bench`, else `target/keycard-bench` below the current directory.
pub fn out_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| std::path::PathBuf::from("target"), Into::into);
    target.join("keycard-bench")
}

//! Attacks on the `keycard` binary over real HTTP, replayed: each module reproduces a bypass that
//! an adversarial review found, so that it stays closed.

#[path = "../common/mod.rs"]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

mod gate;

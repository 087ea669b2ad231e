//! Attacks on `keycard serve` over real HTTP, each reproducing what an adversarial review found;
//! every test here failed before its fix.

#[path = "../common/mod.rs"]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]
mod common;

mod cpu;

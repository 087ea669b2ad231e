//! Attacks on `keycard serve` over real HTTP, replayed: each module reproduces what an
//! adversarial review found, so that it stays closed. Every test here failed before its fix.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../common/mod.rs"]
mod common;

mod cpu;
mod gate;
mod sts;

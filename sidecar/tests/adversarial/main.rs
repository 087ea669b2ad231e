//! Adversarial tests over HTTP: each reproduces an attack on `keycard serve` as an attacker on
//! the network would mount it, and checks that it now fails closed. One module per area.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "../common/mod.rs"]
mod common;

mod sts;

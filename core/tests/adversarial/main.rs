//! Adversarial tests: each reproduces an attack on keycard as an attacker would mount it, and
//! checks that it now fails closed. One module per area.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod auth;

//! Attacks on `keycard serve` over real HTTP, each reproducing what an adversarial review found;
//! every test here failed before its fix.

#[path = "../common/mod.rs"]
mod common;

mod cpu;

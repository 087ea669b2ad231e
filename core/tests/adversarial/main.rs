//! Attacks on keycard through its public API, each reproducing a bypass or exhaustion an
//! adversarial review found; every test here failed (or hung) before its fix.

mod input;

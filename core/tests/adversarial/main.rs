//! Attacks on the library, replayed: each module reproduces a bypass that an adversarial review
//! found, through the public API alone, so that it stays closed.

mod gateway;

//! The IAM policy language: JSON text in, checked plain data out, and the matching rules
//! (wildcards, condition operators, request context) that every evaluator shares.
//!
//! Stages, in the order data flows: [`json`] (a duplicate-aware reader that keeps numbers as
//! text) → [`parse`] (grammar and per-kind rules, a JSON pointer on every problem) → [`ast`]
//! (plain data). [`glob`], [`cond`] and [`context`] are what a decision reads of it.

pub(crate) mod ast;
pub(crate) mod cond;
pub(crate) mod context;
pub(crate) mod glob;
pub(crate) mod json;
pub(crate) mod parse;
pub(crate) mod value;

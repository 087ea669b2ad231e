//! Tests that need a program from outside Rust (valgrind, nginx, openssl, Python with pytest,
//! the AWS CLI and boto3) ask here whether it is installed. Without it a test says it skipped,
//! unless `KEYCARD_REQUIRE_TOOLS=1` (or `CI`) is set, as `.ci/run` sets it: then the test fails,
//! so that CI never passes a test that did not run.
//!
//! One file for the sidecar's tests (`common/mod.rs` declares it) and the C ABI's
//! (`ffi/tests/c_api.rs` includes it by path).

#![allow(dead_code)]

use std::process::{Command, Stdio};

/// Whether a missing tool fails the test (`KEYCARD_REQUIRE_TOOLS=1`, or `CI` set).
pub fn required() -> bool {
    std::env::var("KEYCARD_REQUIRE_TOOLS").is_ok_and(|v| v == "1") || std::env::var_os("CI").is_some()
}

/// Whether `program args...` runs and exits with success (its output discarded).
pub fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Reports `what` missing: fails the test when tools are required, else prints a skip line
/// naming how to install it. A test calls it, then returns.
#[track_caller]
pub fn missing(what: &str, install: &str) {
    assert!(!required(), "{what} is missing and KEYCARD_REQUIRE_TOOLS=1 (or CI) requires it: {install}");
    println!("skipped: {what} is missing ({install})");
}

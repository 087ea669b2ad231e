//! The STS endpoint against the real AWS clients (the AWS CLI and boto3, from PyPI): runs
//! `tests/aws/test_aws_clients.py` with pytest against this build's `keycard` binary.
//!
//! `.ci/run` installs the clients and sets `KEYCARD_REQUIRE_TOOLS=1`, so there a missing client
//! (or the openssl CLI, which signs the web identity tokens) is a failure; elsewhere the test
//! says it skipped (`common/tools.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

mod common;

use common::tools;
use std::path::Path;
use std::process::Command;

#[test]
fn the_aws_cli_and_boto3_work_against_keycard_sts() {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let missing: Vec<&str> = ["pytest", "boto3", "awscli"]
        .into_iter()
        .filter(|m| !tools::runs(&python, &["-c", &format!("import {m}")]))
        .collect();
    if !missing.is_empty() {
        tools::missing(&format!("the Python modules {missing:?} of {python}"), "pip install awscli boto3 pytest");
        return;
    }
    let test = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/aws/test_aws_clients.py");
    let output = Command::new(&python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"])
        .arg(&test)
        .env("KEYCARD_BIN", env!("CARGO_BIN_EXE_keycard"))
        .env("KEYCARD_REQUIRE_OPENSSL", if tools::required() { "1" } else { "" })
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run pytest");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}\n{stderr}");
    assert!(output.status.success(), "the AWS client tests failed ({})\n{stdout}\n{stderr}", output.status);
}

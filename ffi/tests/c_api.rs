//! The C ABI from C and from Python, run by `cargo test`: builds `tests/c/test_keycard.c` with the
//! system `cc` against the `libkeycard.so` cargo built for this test run, runs it (natively, then
//! under valgrind when it is on `PATH`), runs the Python binding's tests, and checks that the
//! Rust API gives the answers all of them expect (`tests/cases.tsv`).
//!
//! `KEYCARD_TEST_DECISIONS` sets the multi-threaded run's decision count: 1,000,000 in a release
//! build (`cargo test --release`), 250,000 in a debug build (debug code is about 30x slower);
//! `ffi/valgrind.sh` runs the full million. `KEYCARD_SKIP_VALGRIND=1` skips the valgrind run.
//! Without valgrind, Python or pytest the test that needs it says it skipped (pytest missing: the
//! Python tests run as a plain script), unless `KEYCARD_REQUIRE_TOOLS=1` (`.ci/run`): then it
//! fails (`sidecar/tests/common/tools.rs`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use kc::{Decision, Request, Snapshot, Store};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

#[path = "../../sidecar/tests/common/tools.rs"]
mod tools;

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `target/<profile>/`, with `libkeycard.so` in it. `cargo test` does not build a cdylib for a
/// crate's integration tests (they link no library), so the first test to ask runs
/// `cargo build -p keycard-ffi` with the same cargo, profile and target directory (quick: the
/// test build already compiled everything it needs but the final link).
fn lib_dir() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().unwrap();
            let dir = exe.parent().and_then(Path::parent).unwrap().to_path_buf(); // target/<profile>
            let target = dir.parent().unwrap();
            let mut cargo = Command::new(env!("CARGO"));
            cargo.args(["build", "--quiet", "-p", "keycard-ffi", "--target-dir"]).arg(target);
            if !cfg!(debug_assertions) {
                cargo.arg("--release");
            }
            let status = cargo.current_dir(manifest_dir()).status().expect("cargo runs");
            assert!(status.success(), "cargo build -p keycard-ffi failed");
            assert!(dir.join("libkeycard.so").is_file(), "{} has no libkeycard.so", dir.display());
            dir
        })
        .clone()
}

struct Case {
    expected: i32,
    principal: String,
    action: String,
    resource: String,
    context: Option<String>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(manifest_dir().join("tests/cases.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "{l}");
            Case {
                expected: f[0].parse().unwrap(),
                principal: f[1].into(),
                action: f[2].into(),
                resource: f[3].into(),
                context: (f[4] != "-").then(|| f[4].into()),
            }
        })
        .collect()
}

fn policies() -> PathBuf {
    manifest_dir().join("../policies")
}

/// A scratch copy of the default store, for the tests that edit it.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("keycard-ffi-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for entry in std::fs::read_dir(policies()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    dir
}

/// Compiles the C test once per test binary run (each test that needs it asks).
fn c_test_binary(name: &str) -> PathBuf {
    c_binary("test_keycard", name)
}

/// Compiles `tests/c/SOURCE.c` against libkeycard into a binary called `name`.
fn c_binary(source: &str, name: &str) -> PathBuf {
    let lib = lib_dir();
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let status = Command::new(std::env::var("CC").unwrap_or_else(|_| "cc".into()))
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1", "-I"])
        .arg(manifest_dir().join("include"))
        .arg(manifest_dir().join(format!("tests/c/{source}.c")))
        .arg("-o")
        .arg(&out)
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .args(["-lkeycard", "-lpthread"])
        .status()
        .expect("the system C compiler (cc) runs");
    assert!(status.success(), "cc failed to build tests/c/{source}.c");
    out
}

fn decisions() -> String {
    std::env::var("KEYCARD_TEST_DECISIONS")
        .unwrap_or_else(|_| if cfg!(debug_assertions) { "250000" } else { "1000000" }.into())
}

fn run_c(mut command: Command, scratch: &Path) {
    let cases = manifest_dir().join("tests/cases.tsv");
    let output = command.arg(&cases).arg(policies()).arg(scratch).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(output.status.success(), "the C test failed ({})", output.status);
    assert!(stdout.contains(" passed, 0 failed"), "no summary line");
}

#[test]
fn the_rust_api_gives_the_answers_the_c_and_python_tests_expect() {
    let snapshot = Snapshot::new(Store::load(policies()).unwrap());
    for c in cases() {
        let mut request = Request::new(&c.principal, &c.action, &c.resource).unwrap();
        if let Some(ctx) = &c.context {
            request = request.with_context_json(ctx).unwrap();
        }
        let got = match snapshot.decide(&request) {
            Decision::Allowed => 1,
            Decision::ImplicitDeny => 0,
            Decision::ExplicitDeny => 2,
        };
        assert_eq!(got, c.expected, "{} {} {}", c.principal, c.action, c.resource);
    }
}

#[test]
fn the_c_test_passes() {
    let binary = c_test_binary("test_keycard");
    let dir = scratch("c");
    let mut command = Command::new(&binary);
    command.env("KEYCARD_TEST_DECISIONS", decisions());
    run_c(command, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&binary);
}

#[test]
fn the_c_test_is_clean_under_valgrind() {
    if std::env::var_os("KEYCARD_SKIP_VALGRIND").is_some() {
        println!("skipped: KEYCARD_SKIP_VALGRIND is set");
        return;
    }
    if !tools::runs("valgrind", &["--version"]) {
        tools::missing("valgrind", "apt-get install valgrind; .ci/run installs it");
        return;
    }
    let binary = c_test_binary("test_keycard_vg");
    let dir = scratch("valgrind");
    let mut command = Command::new("valgrind");
    command
        .args([
            "-q",
            "--leak-check=full",
            "--show-leak-kinds=definite,indirect",
            "--errors-for-leak-kinds=definite,indirect",
            "--error-exitcode=1",
        ])
        .arg(&binary)
        // Valgrind runs threads one at a time, about 50x slower: fewer decisions, every path.
        .env("KEYCARD_TEST_DECISIONS", std::env::var("KEYCARD_VALGRIND_DECISIONS").unwrap_or_else(|_| "8000".into()));
    run_c(command, &dir);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&binary);
}

#[test]
fn the_python_binding_passes() {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    if !tools::runs(&python, &["--version"]) {
        tools::missing(&python, "apt-get install python3");
        return;
    }
    let lib = lib_dir().join("libkeycard.so");
    let test = manifest_dir().join("python/test_keycard.py");
    let has_pytest = tools::runs(&python, &["-c", "import pytest"]);
    if !has_pytest && tools::required() {
        tools::missing(&format!("pytest for {python}"), "pip install pytest");
    }
    let mut command = Command::new(&python);
    if has_pytest {
        command.args(["-m", "pytest", "-q", "-p", "no:cacheprovider"]).arg(&test);
    } else {
        println!("pytest is not installed: running {} as a script", test.display());
        command.arg(&test);
    }
    let dir = scratch("python");
    let output = command
        .env("KEYCARD_LIB", &lib)
        .env("KEYCARD_POLICIES", policies())
        .env("KEYCARD_SCRATCH", &dir)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    println!("{}", String::from_utf8_lossy(&output.stdout));
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the Python tests failed ({})", output.status);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bundle_opens_only_when_its_signature_verifies() {
    use kc::bundle::SigningKey;
    let dir = scratch("bundle");
    let store = dir.join("store");
    std::fs::create_dir_all(&store).unwrap();
    std::fs::write(
        store.join("account.json"),
        r#"{"AccountId": "111122223333", "UserDetailList": [{"UserName": "alice", "Path": "/",
          "UserPolicyList": [{"PolicyName": "Read", "PolicyDocument": {"Version": "2012-10-17",
            "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b1/*"}}}]}]}"#,
    )
    .unwrap();
    let (key, _) = SigningKey::generate().unwrap();
    let (other, _) = SigningKey::generate().unwrap();
    std::fs::write(dir.join("key.pub.pem"), key.public().to_pem()).unwrap();
    for (name, signer) in [("signed", Some(&key)), ("other", Some(&other)), ("unsigned", None)] {
        let built = kc::bundle::build(&store, Some("r1"), signer, true).unwrap();
        std::fs::write(dir.join(format!("{name}.tar.gz")), built.bytes).unwrap();
    }
    let binary = c_binary("test_bundle", "test_bundle");
    let output = Command::new(&binary)
        .arg(dir.join("key.pub.pem"))
        .args(["signed", "other", "unsigned"].map(|n| dir.join(format!("{n}.tar.gz"))))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{}", String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success() && stdout.contains(" passed, 0 failed"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&binary);
}

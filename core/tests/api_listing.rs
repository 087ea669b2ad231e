//! Pins the public API of the facade: the `pub` items (with their whole signatures) of the files
//! that define it must equal the checked-in `tests/api.txt`, so that an accidental change to the
//! API fails the build's tests. An intended change: `KEYCARD_BLESS_API=1 cargo test -p
//! keycard-core --test api_listing`, then review and commit `tests/api.txt`.
//!
//! This reads the source rather than rustdoc's JSON (which needs a nightly toolchain), so it runs
//! offline in milliseconds; a `pub` item is listed with everything up to its body (`{`) or `;`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;

/// The files that define the facade's items (`src/lib.rs` re-exports them).
const FACADE: [&str; 9] = [
    "src/lib.rs",
    "src/error.rs",
    "src/live.rs",
    "src/auth/mod.rs",
    "src/decide/answer.rs",
    "src/decide/request.rs",
    "src/decide/snapshot.rs",
    "src/store.rs",
    "src/policy/ast.rs",
];

/// Every `pub` item of `text` (not `pub(crate)`), outside test modules, one line each: the
/// signature's tokens joined by single spaces. Enum variants of a `pub enum` are listed too.
fn listing(file: &str, text: &str) -> Vec<String> {
    let body = text.split("#[cfg(test)]").next().unwrap_or_default();
    let lines: Vec<&str> = body.lines().collect();
    let mut out = Vec::new();
    // Whether the struct being read is itself public: only its `pub` fields are API.
    let mut public_struct = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim();
        if line.contains("struct ") && !line.starts_with("//") {
            public_struct = line.starts_with("pub struct");
        }
        let field = line
            .strip_prefix("pub ")
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(name, _)| !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_'));
        if field {
            if public_struct {
                out.push(format!("{file}:   field {}", line.trim_end_matches(',')));
            }
        } else if line.starts_with("pub ") && !line.starts_with("pub(") {
            let mut signature = String::new();
            let is_use = line.starts_with("pub use");
            let is_const = line.starts_with("pub const") || line.starts_with("pub static");
            while i < lines.len() {
                let part = lines[i].trim();
                let end = if is_use {
                    part.find(';')
                } else if is_const {
                    part.find(" =").or_else(|| part.find(';'))
                } else {
                    part.find(['{', ';'])
                };
                let end = end.map(|n| (n, part.as_bytes()[n] == b'{'));
                signature.push(' ');
                signature.push_str(end.map_or(part, |(n, _)| &part[..n]));
                if let Some((_, opens)) = end {
                    if opens && signature.trim_start().starts_with("pub enum") {
                        i = variants(&lines, i + 1, &mut signature);
                    }
                    break;
                }
                i += 1;
            }
            out.push(format!("{file}: {}", signature.split_whitespace().collect::<Vec<_>>().join(" ")));
        }
        i += 1;
    }
    out
}

/// Appends the variant names of the enum whose body starts at line `i`; returns its last line.
fn variants(lines: &[&str], mut i: usize, signature: &mut String) -> usize {
    let mut names = Vec::new();
    let mut depth = 0i32;
    while i < lines.len() {
        let line = lines[i].trim();
        if depth == 0 && line.starts_with('}') {
            break;
        }
        if depth == 0 && !line.starts_with("//") && !line.starts_with('#') {
            let name: String = line.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                names.push(name);
            }
        }
        depth += line.matches(['{', '(']).count() as i32 - line.matches(['}', ')']).count() as i32;
        i += 1;
    }
    signature.push_str(&format!(" {{ {} }}", names.join(", ")));
    i
}

#[test]
fn the_public_api_is_the_checked_in_listing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Vec::new();
    for file in FACADE {
        let text = std::fs::read_to_string(root.join(file)).unwrap();
        all.extend(listing(file, &text));
    }
    let generated = all.join("\n") + "\n";
    let path = root.join("tests/api.txt");
    if std::env::var_os("KEYCARD_BLESS_API").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    if checked_in != generated {
        let added: Vec<&str> = generated.lines().filter(|l| !checked_in.lines().any(|c| c == *l)).collect();
        let removed: Vec<&str> = checked_in.lines().filter(|l| !generated.lines().any(|g| g == *l)).collect();
        panic!(
            "the public API changed; if intended, run `KEYCARD_BLESS_API=1 cargo test -p keycard-core --test \
             api_listing` and commit tests/api.txt\nadded:\n  {}\nremoved:\n  {}",
            added.join("\n  "),
            removed.join("\n  ")
        );
    }
}

#[test]
fn the_listing_sees_signatures_variants_and_skips_crate_items() {
    let text = "pub enum E {\n    /// doc\n    A,\n    B { x: u8 },\n    C(u8),\n}\npub(crate) fn hidden() {}\n\
                pub fn f(\n    a: u8,\n) -> u8 {\n}\npub struct S {\n    pub n: usize,\n}\npub use m::{A, B};\npub const N: [&str; 2] = [\"a\", \"b\"];\n\
                pub(crate) struct T {\n    pub hidden: u8,\n}\n\
                #[cfg(test)]\npub fn in_tests() {}\n";
    assert_eq!(
        listing("x.rs", text),
        [
            "x.rs: pub enum E { A, B, C }",
            "x.rs: pub fn f( a: u8, ) -> u8",
            "x.rs: pub struct S",
            "x.rs:   field pub n: usize",
            "x.rs: pub use m::{A, B}",
            "x.rs: pub const N: [&str; 2]"
        ]
    );
}

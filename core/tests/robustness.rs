//! Bad input never panics: every corpus store and request, mutated byte by byte (deterministic
//! xorshift, no extra crates), either loads/parses and is decided, or is reported as an error.
//! The fuzz targets of the compiled-index issue go further; this runs in plain `cargo test`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use keycard::{Request, Snapshot, Store};
use std::path::PathBuf;

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap()).unwrap()
    }
}

/// Bytes that matter to JSON and to IAM patterns.
const INTERESTING: &[u8] = b"{}[]\",:*?$/\\ 0aZ-.%";

fn mutate(rng: &mut XorShift, text: &str) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(bytes.len());
        match rng.below(3) {
            0 if !bytes.is_empty() => {
                bytes.remove(at.min(bytes.len() - 1));
            }
            1 => bytes.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            _ => {
                if let Some(b) = bytes.get_mut(at) {
                    *b = INTERESTING[rng.below(INTERESTING.len())];
                }
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn corpus_dirs() -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance");
    let mut dirs: Vec<PathBuf> =
        std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
    dirs.sort();
    dirs
}

#[test]
fn mutated_stores_load_or_report_errors() {
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    let mut loaded = 0;
    let mut rejected = 0;
    for dir in corpus_dirs() {
        let store_text = std::fs::read_to_string(dir.join("store/account.json")).unwrap();
        let cases = std::fs::read_to_string(dir.join("cases.jsonl")).unwrap();
        let requests: Vec<Request> = cases
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| Request::from_value(&serde_json::from_str::<serde_json::Value>(l).unwrap()["request"]).unwrap())
            .collect();
        for _ in 0..150 {
            match Store::from_documents([("account.json", mutate(&mut rng, &store_text))]) {
                Ok(store) => {
                    loaded += 1;
                    let snapshot = Snapshot::new(store);
                    for r in &requests {
                        let _ = snapshot.authorize(r);
                    }
                }
                Err(e) => {
                    rejected += 1;
                    assert!(e.errors().next().is_some(), "a LoadError carries at least one error");
                    assert!(e.errors().all(|p| p.file() == "account.json" && !p.message().is_empty()), "{e}");
                }
            }
        }
    }
    assert!(
        loaded > 0 && rejected > 0,
        "mutations should both keep and break stores ({loaded} loaded, {rejected} rejected)"
    );
}

#[test]
fn mutated_requests_parse_or_report_errors() {
    let mut rng = XorShift(0xD1B5_4A32_D192_ED03);
    for dir in corpus_dirs() {
        let snapshot = Snapshot::new(Store::load(dir.join("store")).unwrap());
        let cases = std::fs::read_to_string(dir.join("cases.jsonl")).unwrap();
        for line in cases.lines().filter(|l| !l.trim().is_empty()) {
            let request = serde_json::from_str::<serde_json::Value>(line).unwrap()["request"].to_string();
            for _ in 0..40 {
                match Request::from_json(&mutate(&mut rng, &request)) {
                    Ok(r) => {
                        let _ = snapshot.authorize(&r);
                    }
                    Err(e) => assert!(!e.message().is_empty()),
                }
            }
        }
    }
}

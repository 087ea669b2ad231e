//! The checked-in `include/keycard.h` is exactly what cbindgen generates from `src/lib.rs`.
//! `KEYCARD_BLESS_HEADER=1 cargo test -p keycard-ffi --test header` rewrites it.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::path::Path;

#[test]
fn the_checked_in_header_is_what_cbindgen_generates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).unwrap();
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(dir.join("src/lib.rs"))
        .generate()
        .expect("cbindgen generates the header");
    let mut generated = Vec::new();
    bindings.write(&mut generated);
    let generated = String::from_utf8(generated).unwrap();
    let path = dir.join("include/keycard.h");
    if std::env::var_os("KEYCARD_BLESS_HEADER").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "ffi/include/keycard.h is not what cbindgen generates from ffi/src/lib.rs; \
         run `KEYCARD_BLESS_HEADER=1 cargo test -p keycard-ffi --test header` and commit it"
    );
}

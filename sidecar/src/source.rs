//! Where a command's store comes from: `--policies PATH` (a directory of `*.json` files or one
//! file), or the default store (`policies/`) embedded into the binary at build time, so that
//! `keycard` answers from any directory when no `--policies` is given.

use keycard::live::Source;
use std::path::Path;
use std::sync::Arc;

include!(concat!(env!("OUT_DIR"), "/default_store.rs"));

/// The store named by `--policies`, or the embedded default store.
pub(crate) fn source(path: Option<&Path>) -> Source {
    match path {
        Some(p) => Source::Path(p.to_path_buf()),
        None => Source::Documents(
            DEFAULT_STORE.iter().map(|(n, t)| ((*n).to_owned(), (*t).to_owned())).collect::<Arc<[_]>>(),
        ),
    }
}

/// How `/v1/snapshot` and the logs name a source.
pub(crate) fn describe(source: &Source) -> String {
    match source {
        Source::Documents(_) => "embedded default store (policies/)".to_owned(),
        path => path.describe(),
    }
}

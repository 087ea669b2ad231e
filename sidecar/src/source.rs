//! Where a command's store comes from: `--policies PATH` (a directory of `*.json` files, one
//! file, or a bundle from `keycard bundle build`, recognised by its first bytes), or the default store (`policies/`) embedded into the binary at build time, so that
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

/// The store named by `--policies`, read as a bundle when it is one (then `trust` must say how
/// to verify it), or the embedded default store.
pub(crate) fn source_of(path: Option<&Path>, trust: &crate::bundle_cmd::TrustArgs) -> Result<Source, String> {
    match path {
        Some(p) if keycard::bundle::is_bundle_file(p) => {
            if trust.insecure_unsigned {
                eprintln!("keycard: warning: {}", crate::bundle_cmd::UNVERIFIED);
            }
            Ok(Source::Bundle { path: p.to_path_buf(), trust: Arc::new(trust.require(p)?) })
        }
        _ => Ok(source(path)),
    }
}

/// How `/v1/snapshot` and the logs name a source.
pub(crate) fn describe(source: &Source) -> String {
    match source {
        Source::Documents(_) => "embedded default store (policies/)".to_owned(),
        path => path.describe(),
    }
}

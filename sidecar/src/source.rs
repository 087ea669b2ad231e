//! Where a store comes from: a path on disk (a directory of `*.json` files or one file), or the
//! default store (`policies/`) embedded into the binary at build time, so that `keycard` answers
//! from any directory when no `--policies` is given.

use keycard::{LoadError, Store};
use std::path::{Path, PathBuf};

include!(concat!(env!("OUT_DIR"), "/default_store.rs"));

/// The store a command loads, and reloads.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// The embedded default store.
    Embedded,
    /// A directory or file on disk (absolute once the server has resolved it).
    Path(PathBuf),
}

impl Source {
    /// `--policies PATH`, or the embedded store without it.
    pub(crate) fn new(path: Option<&Path>) -> Source {
        match path {
            Some(p) => Source::Path(p.to_path_buf()),
            None => Source::Embedded,
        }
    }

    /// Loads the store, all or nothing.
    pub(crate) fn load(&self) -> Result<Store, LoadError> {
        match self {
            Source::Path(p) => Store::load(p),
            Source::Embedded => Store::from_documents(DEFAULT_STORE.iter().map(|(n, t)| (*n, *t))),
        }
    }

    /// The path on disk, if any.
    pub(crate) fn path(&self) -> Option<&Path> {
        match self {
            Source::Path(p) => Some(p),
            Source::Embedded => None,
        }
    }

    /// A human description for logs and `/v1/snapshot`.
    pub(crate) fn describe(&self) -> String {
        match self {
            Source::Path(p) => p.display().to_string(),
            Source::Embedded => "embedded default store (policies/)".to_owned(),
        }
    }
}

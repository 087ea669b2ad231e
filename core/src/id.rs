//! Index newtypes: compiled structures refer to policies and statements by small integers
//! instead of references, so a snapshot is one flat, immutable, `Send + Sync` value.

/// A policy document in [`crate::Store`]'s policy table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct PolicyId(pub u32);

impl PolicyId {
    pub(crate) fn index(self) -> usize {
        self.0 as usize
    }
}

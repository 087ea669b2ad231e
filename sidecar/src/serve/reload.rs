//! Hot swap: watches the store on disk, debounces bursts of changes into one reload, loads and
//! compiles the new store on its own thread (never on a request's), and publishes it through
//! [`State::publish`]. A store that fails to load leaves the last good snapshot serving.
//!
//! What the watcher has to survive, and how:
//! - a file edited in place, or written to a temporary file and renamed over (editors): the
//!   store directory is watched recursively (for a single-file store, its directory);
//! - files added or deleted: the same watch;
//! - the whole directory replaced (`mv new store`): the store's parent is watched too, for events
//!   naming the store path, and the store directory's watch is set up again after every reload;
//! - a Kubernetes ConfigMap volume update (`..data` symlink swapped atomically): a rename inside
//!   the watched directory.
//!
//! `SIGHUP` (see `serve::run`) sends [`Trigger::Force`] down the same channel.

use super::clock::unix_seconds;
use super::state::{Loaded, State};
use crate::source::Source;
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// A burst of file events ends after this long without another.
const QUIET: Duration = Duration::from_millis(150);
/// A burst that never goes quiet still reloads after this long.
const MAX_DELAY: Duration = Duration::from_secs(2);

/// Why a reload is wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// A file event on the store.
    Changed,
    /// `SIGHUP`: reload now.
    Force,
}

/// The handle the server keeps: sends triggers to the reload thread.
#[derive(Clone)]
pub(crate) struct Reloader {
    tx: Sender<Trigger>,
}

impl Reloader {
    /// Asks for a reload.
    pub(crate) fn trigger(&self, why: Trigger) {
        let _ = self.tx.send(why);
    }
}

/// Starts the reload thread: it loads the store once (the server is not ready until then), then
/// reloads on every debounced change.
pub(crate) fn start(source: Source, state: Arc<State>) -> std::io::Result<Reloader> {
    let (tx, rx) = mpsc::channel();
    let watcher_tx = tx.clone();
    std::thread::Builder::new().name("keycard-reload".into()).spawn(move || {
        // Watch first, then read: a change made while loading triggers another reload instead
        // of being missed.
        let mut watch = source.path().map(|p| StoreWatch::new(p.to_path_buf(), watcher_tx));
        if let Some(w) = &mut watch {
            w.rewatch();
        }
        reload(&source, &state);
        while let Ok(first) = rx.recv() {
            let forced = debounce(first, &rx);
            tracing::debug!(forced, "store changed; reloading");
            if let Some(w) = &mut watch {
                w.rewatch();
            }
            reload(&source, &state);
        }
    })?;
    Ok(Reloader { tx })
}

/// Waits until the burst that began with `first` goes quiet; whether any trigger was `Force`.
fn debounce(first: Trigger, rx: &Receiver<Trigger>) -> bool {
    let start = Instant::now();
    let mut forced = first == Trigger::Force;
    loop {
        let left = MAX_DELAY.saturating_sub(start.elapsed());
        if left.is_zero() {
            return forced;
        }
        match rx.recv_timeout(QUIET.min(left)) {
            Ok(t) => forced |= t == Trigger::Force,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return forced,
        }
    }
}

/// Loads and compiles the store, then publishes it, or records why it could not.
fn reload(source: &Source, state: &State) {
    let started = Instant::now();
    // Loading never panics by design; should it, the last good snapshot must still serve.
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        source.load().map(|store| {
            let stats = store.stats();
            let files = store.files().to_vec();
            Loaded { snapshot: keycard::Snapshot::new(store), loaded_at: SystemTime::now(), stats, files }
        })
    }));
    match result {
        Ok(Ok(loaded)) => {
            tracing::info!(
                snapshot = loaded.snapshot.id(),
                files = loaded.stats.files,
                principals = loaded.stats.principals,
                policies = loaded.stats.policies,
                statements = loaded.stats.statements,
                took_ms = started.elapsed().as_millis() as u64,
                "snapshot loaded"
            );
            let at = unix_seconds(loaded.loaded_at);
            state.publish(loaded);
            state.metrics.reloaded(at);
        }
        Ok(Err(e)) => {
            let message = e.problems().iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
            for p in e.problems() {
                tracing::error!(source = %source.describe(), problem = %p, "store failed to load; keeping the last good snapshot");
            }
            state.fail(if message.is_empty() { e.to_string() } else { message });
            state.metrics.reload_failed();
        }
        Err(_) => {
            tracing::error!(source = %source.describe(), "store loading panicked; keeping the last good snapshot");
            state.fail("internal error while loading the store".to_owned());
            state.metrics.reload_failed();
        }
    }
}

/// The notify watches on a store path.
struct StoreWatch {
    path: PathBuf,
    watcher: Option<RecommendedWatcher>,
    /// What is watched now: the store path (recursively, if a directory) is re-added after every
    /// reload, because a replaced directory is a new inode.
    watching_store: bool,
}

impl StoreWatch {
    fn new(path: PathBuf, tx: Sender<Trigger>) -> StoreWatch {
        let filter_path = path.clone();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
            Ok(event) if relevant(&event, &filter_path) => {
                let _ = tx.send(Trigger::Changed);
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "file watcher error; reloading to be safe");
                let _ = tx.send(Trigger::Changed);
            }
        });
        let mut watcher = match watcher {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::error!(error = %e, "cannot watch the store; changes need SIGHUP");
                None
            }
        };
        if let (Some(w), Some(parent)) = (&mut watcher, path.parent()) {
            if let Err(e) = w.watch(parent, RecursiveMode::NonRecursive) {
                tracing::warn!(path = %parent.display(), error = %e, "cannot watch the store's parent directory");
            }
        }
        StoreWatch { path, watcher, watching_store: false }
    }

    /// (Re)establishes the watch on the store path itself.
    fn rewatch(&mut self) {
        let Some(w) = &mut self.watcher else { return };
        if self.watching_store {
            let _ = w.unwatch(&self.path);
            self.watching_store = false;
        }
        if self.path.is_dir() {
            match w.watch(&self.path, RecursiveMode::Recursive) {
                Ok(()) => self.watching_store = true,
                Err(e) => tracing::warn!(path = %self.path.display(), error = %e, "cannot watch the store"),
            }
        }
    }
}

/// Whether a file event can change the store at `store`: anything but a read, on a path at or
/// below the store (the parent's watch also reports the store's siblings, which do not matter).
fn relevant(event: &notify::Event, store: &Path) -> bool {
    if matches!(event.kind, EventKind::Access(_)) {
        return false;
    }
    event.need_rescan() || event.paths.iter().any(|p| p.starts_with(store))
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, CreateKind, ModifyKind};

    fn event(kind: EventKind, path: &str) -> notify::Event {
        notify::Event::new(kind).add_path(PathBuf::from(path))
    }

    #[test]
    fn only_changes_at_or_below_the_store_matter() {
        let store = Path::new("/etc/keycard/policies");
        assert!(relevant(&event(EventKind::Modify(ModifyKind::Any), "/etc/keycard/policies/a.json"), store));
        assert!(relevant(&event(EventKind::Create(CreateKind::Folder), "/etc/keycard/policies"), store));
        assert!(!relevant(&event(EventKind::Create(CreateKind::File), "/etc/keycard/other.json"), store));
        assert!(!relevant(&event(EventKind::Create(CreateKind::File), "/etc/keycard/policies-old/a.json"), store));
        assert!(!relevant(&event(EventKind::Access(AccessKind::Any), "/etc/keycard/policies/a.json"), store));
    }

    #[test]
    fn a_burst_becomes_one_reload_and_remembers_a_force() {
        let (tx, rx) = mpsc::channel();
        for t in [Trigger::Changed, Trigger::Force, Trigger::Changed] {
            tx.send(t).unwrap();
        }
        assert!(debounce(Trigger::Changed, &rx));
        assert!(rx.try_recv().is_err(), "the burst was drained");
        assert!(!debounce(Trigger::Changed, &rx));
    }
}

//! A live store: the current [`Snapshot`] of a store, reloaded when its files change and swapped
//! atomically, so that a reader always holds one whole snapshot, old or new, never a mix, and a
//! store that fails to load never replaces the last good one. The sidecar (`keycard serve`) and
//! the C ABI (`KEYCARD_WATCH`) both run on this; a Rust program can too. A source is a path, a
//! bundle file (verified at every load, `crate::bundle`), documents in memory, or external: a
//! caller that fetches stores itself (the sidecar's bundle poller) hands each one to
//! [`Live::publish`], which swaps it in exactly as a reload does.
//!
//! One thread per [`Live`] owns the file watcher (`notify`), debounces bursts of events into one
//! reload, loads and compiles off every reader's path, and publishes with `arc-swap`. What it
//! survives, and how:
//! - a file edited in place, or written to a temporary file and renamed over (editors), files
//!   added or deleted: the store directory is watched recursively (a single-file store: its
//!   directory);
//! - the whole directory replaced (`mv new store`): the store's parent is watched too, for events
//!   naming the store path, and the store's own watch is set up again before every reload;
//! - a Kubernetes ConfigMap volume update (`..data` symlink swapped): a rename in the directory.
//!
//! The watch is (re)established *before* each read, so a change made while loading triggers
//! another reload instead of being missed.

use crate::bundle::BundleInfo;
use crate::decide::snapshot::Snapshot;
use crate::error::LoadError;
use crate::store::{Store, StoreStats};
use arc_swap::{ArcSwapOption, Guard};
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

/// Where a live store's documents come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A directory of `*.json` files, or one file, on disk (watched when asked).
    Path(PathBuf),
    /// Documents in memory, `(name, JSON text)`: e.g. a store embedded in a binary.
    Documents(Arc<[(String, String)]>),
    /// A bundle file (`keycard bundle build`), opened only when `trust` accepts it; watched like
    /// a single-file store.
    Bundle {
        /// The bundle file.
        path: PathBuf,
        /// The keys it must be signed with (or an explicit unsigned allowance).
        trust: Arc<crate::bundle::Trust>,
    },
    /// Snapshots published by the caller with [`Live::publish`] (e.g. a bundle poller); a reload
    /// has nothing to read and does nothing. The text describes the source, for logs.
    External(String),
}

impl Source {
    /// Loads the store, all or nothing.
    ///
    /// # Errors
    /// Every problem found, as [`Store::load`] reports them.
    pub fn load(&self) -> Result<Store, LoadError> {
        self.load_with_info().map(|(store, _)| store)
    }

    /// Loads the store, and says which bundle it came from (for a bundle source).
    fn load_with_info(&self) -> Result<(Store, Option<BundleInfo>), LoadError> {
        match self {
            Source::Path(p) => Store::load(p).map(|s| (s, None)),
            Source::Documents(docs) => {
                Store::from_documents(docs.iter().map(|(n, t)| (n.as_str(), t.as_str()))).map(|s| (s, None))
            }
            Source::Bundle { path, trust } => {
                crate::bundle::load_file(path, trust, &crate::bundle::Limits::default()).map(|(s, i)| (s, Some(i)))
            }
            Source::External(what) => Err(LoadError::single(format!("{what}: published by its poller, not loaded"))),
        }
    }

    /// A human description, for logs.
    pub fn describe(&self) -> String {
        match self {
            Source::Path(p) => p.display().to_string(),
            Source::Documents(docs) => format!("{} documents in memory", docs.len()),
            Source::Bundle { path, .. } => format!("bundle {}", path.display()),
            Source::External(what) => what.clone(),
        }
    }
}

/// A published snapshot and what was loaded.
#[derive(Debug)]
pub struct Loaded {
    /// The compiled snapshot.
    pub snapshot: Snapshot,
    /// When it was published.
    pub loaded_at: SystemTime,
    /// Counts of what it holds.
    pub stats: StoreStats,
    /// The files it was loaded from, as named in problems.
    pub files: Vec<String>,
    /// The bundle it came from, when it came from one.
    pub bundle: Option<BundleInfo>,
}

/// A load that failed; the last good snapshot kept serving.
#[derive(Debug, Clone)]
pub struct LoadFailure {
    /// Every problem, one per line, with file and JSON pointer.
    pub message: String,
    /// When it failed.
    pub at: SystemTime,
}

/// What the reload thread reports to the [`Live`]'s observer (for metrics and logs).
#[derive(Debug)]
pub enum Event<'a> {
    /// A snapshot was loaded and published.
    Published {
        /// What was published.
        loaded: &'a Loaded,
        /// How long loading and compiling took.
        took: Duration,
    },
    /// A load failed; the previous snapshot (if any) still serves.
    Failed {
        /// The error, when there is one to show (a panic while loading has none).
        error: Option<&'a LoadError>,
        /// What `last_error` now says.
        failure: &'a LoadFailure,
    },
    /// The file watcher could not watch something; changes may need an explicit reload.
    WatchProblem(String),
}

/// The observer: called on the reload thread after each load.
pub type Observer = Box<dyn Fn(&Event<'_>) + Send + Sync>;

/// Why the reload thread wakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trigger {
    Changed,
    Force,
    Stop,
}

struct Shared {
    /// Held while loading and publishing, so that a [`Live::reload_now`] and the reload thread
    /// never publish out of order.
    reloading: std::sync::Mutex<()>,
    current: ArcSwapOption<Loaded>,
    last_error: ArcSwapOption<LoadFailure>,
    observer: Observer,
}

/// The current snapshot of a store, kept up to date by a reload thread. Dropping it stops the
/// thread and the watcher.
pub struct Live {
    shared: Arc<Shared>,
    source: Source,
    tx: Sender<Trigger>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live").field("ready", &self.current().is_some()).finish_non_exhaustive()
    }
}

impl Live {
    /// Starts the reload thread, which loads the store first (so [`Live::current`] is `None`
    /// until then: "not ready until loaded") and then, with `watch`, on every change. A store
    /// that fails to load (or does not exist yet) is reported, never fatal: the next good
    /// change loads.
    ///
    /// # Errors
    /// Only when the thread cannot be started.
    pub fn start(source: Source, watch: bool, observer: Observer) -> std::io::Result<Live> {
        let (shared, tx, rx, store_watch) = Live::prepare(&source, watch, observer);
        Live::spawn(source, shared, tx, rx, store_watch, true)
    }

    /// Loads the store now, on the caller's thread, and fails if it does not load; then keeps it
    /// up to date like [`Live::start`].
    ///
    /// # Errors
    /// The load error (a thread that cannot start is reported as a load error too).
    pub fn open(source: Source, watch: bool, observer: Observer) -> Result<Live, LoadError> {
        let (shared, tx, rx, store_watch) = Live::prepare(&source, watch, observer);
        reload(&source, &shared)?;
        Live::spawn(source, shared, tx, rx, store_watch, false)
            .map_err(|e| LoadError::single(format!("cannot start the reload thread: {e}")))
    }

    /// The shared state, the trigger channel and the watch, set up before the first read so
    /// that no change after it is missed.
    fn prepare(
        source: &Source,
        watch: bool,
        observer: Observer,
    ) -> (Arc<Shared>, Sender<Trigger>, Receiver<Trigger>, Option<StoreWatch>) {
        let shared = Arc::new(Shared {
            reloading: std::sync::Mutex::new(()),
            current: ArcSwapOption::empty(),
            last_error: ArcSwapOption::empty(),
            observer,
        });
        let (tx, rx) = mpsc::channel();
        let store_watch = match source {
            Source::Path(p) | Source::Bundle { path: p, .. } if watch => {
                let mut w = StoreWatch::new(p.clone(), tx.clone(), &shared);
                w.rewatch(&shared);
                Some(w)
            }
            _ => None,
        };
        (shared, tx, rx, store_watch)
    }

    fn spawn(
        source: Source,
        shared: Arc<Shared>,
        tx: Sender<Trigger>,
        rx: Receiver<Trigger>,
        mut store_watch: Option<StoreWatch>,
        load_first: bool,
    ) -> std::io::Result<Live> {
        let thread_shared = Arc::clone(&shared);
        let thread_source = source.clone();
        let thread = std::thread::Builder::new().name("keycard-reload".into()).spawn(move || {
            let (shared, source) = (thread_shared, thread_source);
            if load_first {
                let _ = reload(&source, &shared);
            }
            while let Ok(first) = rx.recv() {
                if first == Trigger::Stop {
                    return;
                }
                let Some(_forced) = debounce(first, &rx) else { return };
                if let Some(w) = &mut store_watch {
                    w.rewatch(&shared);
                }
                let _ = reload(&source, &shared);
            }
        })?;
        Ok(Live { shared, source, tx, thread: Some(thread) })
    }

    /// The snapshot serving now, if one has loaded. Hold the guard for one request (or one
    /// batch) so that everything it answers comes from the same snapshot.
    pub fn current(&self) -> Guard<Option<Arc<Loaded>>> {
        self.shared.current.load()
    }

    /// The snapshot serving now, as an owned handle.
    pub fn current_arc(&self) -> Option<Arc<Loaded>> {
        self.shared.current.load_full()
    }

    /// The last load error, until a load succeeds.
    pub fn last_error(&self) -> Option<Arc<LoadFailure>> {
        self.shared.last_error.load_full()
    }

    /// Asks for a reload now (e.g. on `SIGHUP`), whatever the watcher saw; returns at once.
    pub fn reload(&self) {
        let _ = self.tx.send(Trigger::Force);
    }

    /// Reloads now, on the caller's thread, and returns once the new snapshot is published (the
    /// observer has been told either way). A store that fails to load leaves the last good
    /// snapshot serving, as any reload does.
    ///
    /// # Errors
    /// The load error.
    pub fn reload_now(&self) -> Result<(), LoadError> {
        reload(&self.source, &self.shared)
    }

    /// Publishes a store loaded by the caller (a [`Source::External`] source, e.g. a bundle
    /// fetched over HTTP and verified): compiles it on the caller's thread, swaps it in and
    /// tells the observer, exactly as a reload does.
    pub fn publish(&self, store: Store, bundle: Option<BundleInfo>) {
        let _serial = serial(&self.shared);
        let started = Instant::now();
        let _ = settle(&self.shared, started, Ok(Ok(compile(store, bundle))));
    }

    /// Forgets the last error: the caller's source is healthy again with nothing new to publish
    /// (e.g. a poll answered `304 Not Modified` after a failed one).
    pub fn clear_error(&self) {
        self.shared.last_error.store(None);
    }

    /// Records that the caller could not produce a store: the last good snapshot keeps serving,
    /// `last_error` says why and the observer is told, as for a failed reload.
    pub fn fail(&self, error: LoadError) {
        let _serial = serial(&self.shared);
        let _ = settle(&self.shared, Instant::now(), Ok(Err(error)));
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let _ = self.tx.send(Trigger::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Waits until the burst that began with `first` goes quiet: `Some(forced)`, or `None` to stop.
fn debounce(first: Trigger, rx: &Receiver<Trigger>) -> Option<bool> {
    let start = Instant::now();
    let mut forced = first == Trigger::Force;
    loop {
        let left = MAX_DELAY.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Some(forced);
        }
        match rx.recv_timeout(QUIET.min(left)) {
            Ok(Trigger::Stop) => return None,
            Ok(t) => forced |= t == Trigger::Force,
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => return Some(forced),
        }
    }
}

/// Loads and compiles the store, then publishes it, or records why it could not.
fn reload(source: &Source, shared: &Shared) -> Result<(), LoadError> {
    if matches!(source, Source::External(_)) {
        return Ok(()); // its snapshots arrive through Live::publish
    }
    let _serial = serial(shared);
    let started = Instant::now();
    // Loading never panics by design; should it, the last good snapshot must still serve.
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
        source.load_with_info().map(|(store, bundle)| compile(store, bundle))
    }));
    settle(shared, started, result)
}

/// Held while loading and publishing. A poisoned lock only means an observer panicked
/// mid-reload: the state is still whole.
fn serial(shared: &Shared) -> std::sync::MutexGuard<'_, ()> {
    shared.reloading.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Compiles a loaded store into what gets published.
fn compile(store: Store, bundle: Option<BundleInfo>) -> Loaded {
    let stats = store.stats();
    let files = store.files().to_vec();
    Loaded { snapshot: Snapshot::new(store), loaded_at: SystemTime::now(), stats, files, bundle }
}

/// Publishes a load's result, or records why it failed, and tells the observer.
fn settle(
    shared: &Shared,
    started: Instant,
    result: std::thread::Result<Result<Loaded, LoadError>>,
) -> Result<(), LoadError> {
    match result {
        Ok(Ok(loaded)) => {
            let loaded = Arc::new(loaded);
            shared.current.store(Some(Arc::clone(&loaded)));
            shared.last_error.store(None);
            (shared.observer)(&Event::Published { loaded: &loaded, took: started.elapsed() });
            Ok(())
        }
        Ok(Err(e)) => {
            let message = e.problems().iter().map(ToString::to_string).collect::<Vec<_>>().join("\n");
            let failure = LoadFailure {
                message: if message.is_empty() { e.to_string() } else { message },
                at: SystemTime::now(),
            };
            shared.last_error.store(Some(Arc::new(failure.clone())));
            (shared.observer)(&Event::Failed { error: Some(&e), failure: &failure });
            Err(e)
        }
        Err(_) => {
            let failure =
                LoadFailure { message: "internal error while loading the store".into(), at: SystemTime::now() };
            shared.last_error.store(Some(Arc::new(failure.clone())));
            (shared.observer)(&Event::Failed { error: None, failure: &failure });
            Err(LoadError::single(failure.message))
        }
    }
}

/// The notify watches on a store path.
struct StoreWatch {
    path: PathBuf,
    watcher: Option<RecommendedWatcher>,
    watching_store: bool,
}

impl StoreWatch {
    fn new(path: PathBuf, tx: Sender<Trigger>, shared: &Shared) -> StoreWatch {
        let filter_path = path.clone();
        let watcher = notify::recommended_watcher(move |res: notify::Result<notify::Event>| match res {
            Ok(event) if relevant(&event, &filter_path) => {
                let _ = tx.send(Trigger::Changed);
            }
            Ok(_) => {}
            // An error from the watcher may mean lost events: reload to be safe.
            Err(_) => {
                let _ = tx.send(Trigger::Changed);
            }
        });
        let mut watcher = match watcher {
            Ok(w) => Some(w),
            Err(e) => {
                (shared.observer)(&Event::WatchProblem(format!("cannot watch the store: {e}")));
                None
            }
        };
        if let (Some(w), Some(parent)) = (&mut watcher, path.parent()) {
            if let Err(e) = w.watch(parent, RecursiveMode::NonRecursive) {
                (shared.observer)(&Event::WatchProblem(format!("cannot watch {}: {e}", parent.display())));
            }
        }
        StoreWatch { path, watcher, watching_store: false }
    }

    /// (Re)establishes the watch on the store path itself: a replaced directory is a new inode.
    fn rewatch(&mut self, shared: &Shared) {
        let Some(w) = &mut self.watcher else { return };
        if self.watching_store {
            let _ = w.unwatch(&self.path);
            self.watching_store = false;
        }
        if self.path.is_dir() {
            match w.watch(&self.path, RecursiveMode::Recursive) {
                Ok(()) => self.watching_store = true,
                Err(e) => (shared.observer)(&Event::WatchProblem(format!("cannot watch {}: {e}", self.path.display()))),
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
        assert_eq!(debounce(Trigger::Changed, &rx), Some(true));
        assert!(rx.try_recv().is_err(), "the burst was drained");
        assert_eq!(debounce(Trigger::Changed, &rx), Some(false));
        tx.send(Trigger::Stop).unwrap();
        assert_eq!(debounce(Trigger::Changed, &rx), None);
    }
}

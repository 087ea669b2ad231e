//! A live store: the current [`Snapshot`] of a store, reloaded when its files change and swapped
//! atomically, so that a reader always holds one whole snapshot, old or new, never a mix, and a
//! store that fails to load never replaces the last good one. The sidecar (`keycard serve`) and
//! the C ABI (`KEYCARD_WATCH`) both run on this; a Rust program can too. A source is a path, a
//! bundle file (verified at every load, `crate::bundle`), documents in memory, or external: a
//! caller that fetches stores itself (the sidecar's bundle poller) hands each one to
//! [`Live::publish`], which swaps it in exactly as a reload does.
//!
//! A [`Config`] says whether to watch, how to debounce and whom to tell (regex-automata-style:
//! `Config::new().watch(true).observer(...)`); [`Live::current`] hands out the serving snapshot as
//! a [`Current`], cheap to take and hold for one request.
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
use crate::error::{LoadError, ProblemKind};
use crate::store::{Store, StoreStats};
use arc_swap::{ArcSwapOption, Guard};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// The default quiet time that ends a burst of file events.
const QUIET: Duration = Duration::from_millis(150);
/// The default longest wait before a burst that never goes quiet still reloads.
const MAX_DELAY: Duration = Duration::from_secs(2);

/// How a [`Live`] runs: whether it watches the store's files, how it debounces their events, and
/// the observer it tells of each load. Built by value, each setter returning the new config.
#[derive(Clone)]
#[must_use]
pub struct Config {
    watch: bool,
    quiet: Duration,
    max_delay: Duration,
    observer: Option<Observer>,
}

/// The observer: called on the reload thread after each load.
type Observer = Arc<dyn Fn(&Event<'_>) + Send + Sync>;

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("watch", &self.watch)
            .field("quiet", &self.quiet)
            .field("max_delay", &self.max_delay)
            .field("observer", &self.observer.is_some())
            .finish()
    }
}

impl Config {
    /// No watching (reload on request only), a 150 ms quiet time, at most 2 s of delay, no
    /// observer.
    pub fn new() -> Config {
        Config { watch: false, quiet: QUIET, max_delay: MAX_DELAY, observer: None }
    }

    /// Reload when the store's files change (a path or bundle source).
    pub fn watch(self, watch: bool) -> Config {
        Config { watch, ..self }
    }

    /// A burst of file events ends after `quiet` without another, and then the store reloads.
    pub fn debounce(self, quiet: Duration) -> Config {
        Config { quiet, ..self }
    }

    /// A burst that never goes quiet still reloads after `max_delay`.
    pub fn max_delay(self, max_delay: Duration) -> Config {
        Config { max_delay, ..self }
    }

    /// Called on the reload thread after each load, and when the watcher has a problem (for
    /// metrics and logs). It must not block for long: reloads wait for it.
    pub fn observer(self, observer: impl Fn(&Event<'_>) + Send + Sync + 'static) -> Config {
        Config { observer: Some(Arc::new(observer)), ..self }
    }

    /// Whether the store's files are watched.
    pub fn get_watch(&self) -> bool {
        self.watch
    }

    /// The quiet time that ends a burst of file events.
    pub fn get_debounce(&self) -> Duration {
        self.quiet
    }

    /// The longest a burst delays a reload.
    pub fn get_max_delay(&self) -> Duration {
        self.max_delay
    }
}

/// Where a live store's documents come from.
#[derive(Debug, Clone)]
#[non_exhaustive]
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
            Source::External(what) => {
                Err(LoadError::single(ProblemKind::Internal, format!("{what}: published by its poller, not loaded")))
            }
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
#[non_exhaustive]
pub struct Loaded {
    snapshot: Snapshot,
    loaded_at: SystemTime,
    stats: StoreStats,
    files: Vec<String>,
    bundle: Option<BundleInfo>,
}

impl Loaded {
    /// The compiled snapshot.
    pub fn snapshot(&self) -> &Snapshot {
        &self.snapshot
    }

    /// When it was published.
    pub fn loaded_at(&self) -> SystemTime {
        self.loaded_at
    }

    /// Counts of what it holds.
    pub fn stats(&self) -> &StoreStats {
        &self.stats
    }

    /// The files it was loaded from, as named in problems.
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// The bundle it came from, when it came from one.
    pub fn bundle(&self) -> Option<&BundleInfo> {
        self.bundle.as_ref()
    }
}

/// A load that failed; the last good snapshot kept serving.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LoadFailure {
    error: LoadError,
    at: SystemTime,
}

impl LoadFailure {
    /// Why: every problem, with its kind, file and JSON pointer.
    pub fn error(&self) -> &LoadError {
        &self.error
    }

    /// When it failed.
    pub fn at(&self) -> SystemTime {
        self.at
    }

    /// Every problem, one per line, with file and JSON pointer (as `/readyz` shows it).
    pub fn message(&self) -> String {
        self.error.problems().iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")
    }
}

/// The serving snapshot, as [`Live::current`] hands it out: `None` until the first load. Cheap to
/// take; hold it for one request (or one batch) so that everything it answers comes from the
/// same snapshot, and drop it soon (a held `Current` keeps its snapshot alive).
pub struct Current(Guard<Option<Arc<Loaded>>>);

impl std::ops::Deref for Current {
    type Target = Option<Arc<Loaded>>;
    fn deref(&self) -> &Option<Arc<Loaded>> {
        &self.0
    }
}

impl std::fmt::Debug for Current {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Current").field(&*self.0).finish()
    }
}

/// What the reload thread reports to the [`Live`]'s observer (for metrics and logs).
#[derive(Debug)]
#[non_exhaustive]
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
        /// What `last_error` now says (a panic while loading is a [`ProblemKind::Internal`]).
        failure: &'a LoadFailure,
    },
    /// The file watcher could not watch something; changes may need an explicit reload.
    WatchProblem(String),
}

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
    observer: Option<Observer>,
    quiet: Duration,
    max_delay: Duration,
}

impl Shared {
    fn tell(&self, event: &Event<'_>) {
        if let Some(observer) = &self.observer {
            observer(event);
        }
    }
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
    /// until then: "not ready until loaded") and then, as `config` says, on every change. A
    /// store that fails to load (or does not exist yet) is reported, never fatal: the next good
    /// change loads.
    ///
    /// # Errors
    /// Only when the thread cannot be started.
    pub fn start(source: Source, config: Config) -> std::io::Result<Live> {
        let (shared, tx, rx, store_watch) = Live::prepare(&source, config);
        Live::spawn(source, shared, tx, rx, store_watch, true)
    }

    /// Loads the store now, on the caller's thread, and fails if it does not load; then keeps it
    /// up to date like [`Live::start`].
    ///
    /// # Errors
    /// The load error (a thread that cannot start is a [`ProblemKind::Internal`] load error).
    pub fn open(source: Source, config: Config) -> Result<Live, LoadError> {
        let (shared, tx, rx, store_watch) = Live::prepare(&source, config);
        reload(&source, &shared)?;
        Live::spawn(source, shared, tx, rx, store_watch, false)
            .map_err(|e| LoadError::single(ProblemKind::Internal, format!("cannot start the reload thread: {e}")))
    }

    /// The shared state, the trigger channel and the watch, set up before the first read so
    /// that no change after it is missed.
    fn prepare(
        source: &Source,
        config: Config,
    ) -> (Arc<Shared>, Sender<Trigger>, Receiver<Trigger>, Option<StoreWatch>) {
        let shared = Arc::new(Shared {
            reloading: std::sync::Mutex::new(()),
            current: ArcSwapOption::empty(),
            last_error: ArcSwapOption::empty(),
            observer: config.observer,
            quiet: config.quiet,
            max_delay: config.max_delay,
        });
        let (tx, rx) = mpsc::channel();
        let store_watch = match source {
            Source::Path(p) | Source::Bundle { path: p, .. } if config.watch => {
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
                let Some(_forced) = debounce(first, &rx, shared.quiet, shared.max_delay) else { return };
                if let Some(w) = &mut store_watch {
                    w.rewatch(&shared);
                }
                let _ = reload(&source, &shared);
            }
        })?;
        Ok(Live { shared, source, tx, thread: Some(thread) })
    }

    /// The snapshot serving now, if one has loaded. Hold it for one request (or one batch) so
    /// that everything it answers comes from the same snapshot.
    pub fn current(&self) -> Current {
        Current(self.shared.current.load())
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
fn debounce(first: Trigger, rx: &Receiver<Trigger>, quiet: Duration, max_delay: Duration) -> Option<bool> {
    let start = Instant::now();
    let mut forced = first == Trigger::Force;
    loop {
        let left = max_delay.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Some(forced);
        }
        match rx.recv_timeout(quiet.min(left)) {
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
            shared.tell(&Event::Published { loaded: &loaded, took: started.elapsed() });
            Ok(())
        }
        Ok(Err(e)) => fail(shared, e),
        Err(_) => fail(shared, LoadError::single(ProblemKind::Internal, "internal error while loading the store")),
    }
}

/// Records a failed load as `last_error` and tells the observer.
fn fail(shared: &Shared, error: LoadError) -> Result<(), LoadError> {
    let failure = Arc::new(LoadFailure { error, at: SystemTime::now() });
    shared.last_error.store(Some(Arc::clone(&failure)));
    shared.tell(&Event::Failed { failure: &failure });
    Err(failure.error.clone())
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
                shared.tell(&Event::WatchProblem(format!("cannot watch the store: {e}")));
                None
            }
        };
        if let (Some(w), Some(parent)) = (&mut watcher, path.parent()) {
            if let Err(e) = w.watch(parent, RecursiveMode::NonRecursive) {
                shared.tell(&Event::WatchProblem(format!("cannot watch {}: {e}", parent.display())));
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
                Err(e) => shared.tell(&Event::WatchProblem(format!("cannot watch {}: {e}", self.path.display()))),
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
        assert_eq!(debounce(Trigger::Changed, &rx, QUIET, MAX_DELAY), Some(true));
        assert!(rx.try_recv().is_err(), "the burst was drained");
        assert_eq!(debounce(Trigger::Changed, &rx, QUIET, MAX_DELAY), Some(false));
        tx.send(Trigger::Stop).unwrap();
        assert_eq!(debounce(Trigger::Changed, &rx, QUIET, MAX_DELAY), None);
    }
}

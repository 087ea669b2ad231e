//! Where a loaded store's memory goes: a counting global allocator around `Store::load` and
//! `Snapshot::new`, so the heap held by the store and by the compiled index are read apart from
//! what the allocator keeps (RSS). Used to decide what to make compact; not part of the tables.
//!
//! ```text
//! memory STORE_DIR [load]    # live heap bytes and allocations after load and after compile
//!                             # ("load": stop after loading, for profiling the load alone)
//! ```

use keycard::{Snapshot, Store};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::time::Instant;

/// The system allocator, counting live bytes, live blocks and the peak of live bytes.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static BLOCKS: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; the counters are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed) + layout.size() as isize;
        BLOCKS.fetch_add(1, Ordering::Relaxed);
        PEAK.fetch_max(live.max(0) as usize, Ordering::Relaxed);
        // SAFETY: the caller's layout is passed through.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        BLOCKS.fetch_sub(1, Ordering::Relaxed);
        // SAFETY: as allocated by `alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let live = LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed) + new_size as isize
            - layout.size() as isize;
        PEAK.fetch_max(live.max(0) as usize, Ordering::Relaxed);
        // SAFETY: as allocated by `alloc` with this layout.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

extern "C" {
    /// glibc: returns free heap memory to the system.
    fn malloc_trim(pad: usize) -> i32;
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .unwrap_or(0.0);
    kb / 1000.0
}

fn report(what: &str, base: isize, statements: usize) {
    let live = LIVE.load(Ordering::Relaxed) - base;
    println!(
        "{what:<24} live heap {:>8.1} MB ({:>6.0} B/statement) in {:>9} blocks; peak {:>8.1} MB; RSS {:>8.1} MB",
        live as f64 / 1e6,
        live as f64 / statements.max(1) as f64,
        BLOCKS.load(Ordering::Relaxed),
        PEAK.load(Ordering::Relaxed) as f64 / 1e6,
        rss_mb()
    );
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| panic!("usage: memory STORE_DIR"));
    let base = LIVE.load(Ordering::Relaxed);
    let t = Instant::now();
    let store = Store::load(&dir).unwrap_or_else(|e| panic!("{e}"));
    let load = t.elapsed();
    let statements = store.stats().statements;
    println!("{statements} statements; load {:.0} ms", load.as_secs_f64() * 1e3);
    report("after load (store)", base, statements);
    if std::env::args().nth(2).as_deref() == Some("load") {
        return;
    }
    let after_store = LIVE.load(Ordering::Relaxed);
    let t = Instant::now();
    let snapshot = Snapshot::new(store);
    println!("compile {:.0} ms", t.elapsed().as_secs_f64() * 1e3);
    report("after compile (total)", base, statements);
    report("  of which the index", after_store, statements);
    // What the allocator keeps of freed memory: the RSS once glibc returns its free pages (a
    // diagnosis only: the library cannot ask for this, and a sidecar need not).
    // SAFETY: `malloc_trim` only releases free memory of glibc's heap; nothing is in flight.
    let trimmed = unsafe { malloc_trim(0) };
    println!("{:<24} RSS {:>8.1} MB (malloc_trim returned {trimmed})", "after malloc_trim", rss_mb());
    drop(snapshot);
}

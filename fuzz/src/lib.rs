//! Harness of the `stt` fuzz targets (see `harness`) and a counting global
//! allocator the targets use to prove memory stays bounded.

pub mod harness;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Largest live heap any single input may reach on top of what was live
/// before it started.
pub const MEMORY_LIMIT: usize = 96 << 20;

/// The system allocator, counting live bytes and their peak.
pub struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
            let live = LIVE.fetch_add(new_size, Ordering::Relaxed) + new_size;
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }
}

/// Runs `f` on `data` and panics if the heap grew by more than
/// [`MEMORY_LIMIT`] at any point during it. Picks the input's trace sink
/// first (see [`harness::trace::choose`]).
pub fn bounded(data: &[u8], f: fn(&[u8])) {
    harness::trace::choose(data);
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    f(data);
    let peak = PEAK.load(Ordering::Relaxed);
    assert!(
        peak.saturating_sub(base) <= MEMORY_LIMIT,
        "heap grew by {} bytes for one input",
        peak - base
    );
}

/// Declares a fuzz target running `harness::$name::run` under the counting
/// allocator.
#[macro_export]
macro_rules! target {
    ($name:ident) => {
        #[global_allocator]
        static ALLOC: $crate::Counting = $crate::Counting;
        libfuzzer_sys::fuzz_target!(|data: &[u8]| {
            $crate::bounded(data, $crate::harness::$name::run);
        });
    };
}

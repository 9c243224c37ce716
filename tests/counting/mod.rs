//! A global allocator that counts the bytes live on the heap, the
//! allocations made and the live allocations of each size, for the tests that measure what idle streams and
//! sessions cost and for `examples/pair` (idle memory, allocations per
//! datagram). A binary that wants it declares it as its allocator:
//!
//! ```ignore
//! mod counting;
//! #[global_allocator]
//! static A: counting::Counting = counting::Counting;
//! ```
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicU64, Ordering};

/// The system allocator, counting.
pub struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicU64 = AtomicU64::new(0);

/// Sizes below this are counted one by one in [`by_size`]; larger ones
/// share the last bucket.
pub const SIZES: usize = 4096;

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicIsize = AtomicIsize::new(0);
static BY_SIZE: [AtomicIsize; SIZES + 1] = [ZERO; SIZES + 1];

/// Bytes live in allocations of [`SIZES`] bytes or more.
static BIG: AtomicIsize = AtomicIsize::new(0);

fn bucket(size: usize) -> &'static AtomicIsize {
    if size >= SIZES {
        BIG.fetch_add(0, Ordering::Relaxed);
    }
    &BY_SIZE[size.min(SIZES)]
}

fn big(delta: isize) {
    if delta.unsigned_abs() >= SIZES {
        BIG.fetch_add(delta, Ordering::Relaxed);
    }
}

/// Bytes live in allocations of [`SIZES`] bytes or more (the last entry of
/// [`by_size`] counts them).
pub fn big_live() -> isize {
    BIG.load(Ordering::Relaxed)
}

/// Live allocations of each size (index = bytes; the last entry counts
/// every allocation of [`SIZES`] bytes or more). Subtract two snapshots to
/// see what a piece of work left on the heap.
pub fn by_size() -> Vec<isize> {
    BY_SIZE.iter().map(|c| c.load(Ordering::Relaxed)).collect()
}

/// Bytes allocated and not yet freed.
pub fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Allocations (and reallocations) made so far.
pub fn allocations() -> u64 {
    ALLOCS.load(Ordering::Relaxed)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        bucket(l.size()).fetch_add(1, Ordering::Relaxed);
        big(l.size() as isize);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        bucket(l.size()).fetch_sub(1, Ordering::Relaxed);
        big(-(l.size() as isize));
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        bucket(l.size()).fetch_sub(1, Ordering::Relaxed);
        bucket(new).fetch_add(1, Ordering::Relaxed);
        big(-(l.size() as isize));
        big(new as isize);
        unsafe { System.realloc(p, l, new) }
    }
}

/// What changed between two [`by_size`] snapshots, taken in that order:
/// (size, live allocations gained), largest first, without the snapshots'
/// own buffers. The last bucket stands for [`SIZES`] bytes or more.
pub fn grown(before: &[isize], after: &[isize]) -> Vec<(usize, isize)> {
    let mut out: Vec<(usize, isize)> = before
        .iter()
        .zip(after)
        .enumerate()
        .map(|(size, (b, a))| (size, a - b - isize::from(size == SIZES)))
        .filter(|&(_, n)| n != 0)
        .collect();
    out.sort_by_key(|&(size, n)| core::cmp::Reverse(size as isize * n));
    out
}

/// Bytes in allocations of [`SIZES`] bytes or more gained between two
/// [`big_live`] readings taken around two [`by_size`] snapshots (whose own
/// buffers are left out).
pub fn big_grown(before: isize, after: isize) -> isize {
    after - before - 2 * ((SIZES + 1) * core::mem::size_of::<isize>()) as isize
}

//! No allocation per packet on the steady-state send and receive paths.
//!
//! A counting global allocator watches a stretch of a bulk transfer through
//! the in-memory pair of `examples/pair` (deterministic clock), after a
//! warm-up that lets windows, queues and pools reach their working size.
//! Allocations the size of a message (the receiver assembling a 64 KiB
//! segment) are expected, one per message, and counted apart; everything
//! else must stay below one per hundred packets. One test in this binary, so
//! nothing else allocates while it counts.

#[path = "../examples/pair/driver.rs"]
mod driver;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use driver::{Clock, Opts, Pair, SEGMENT};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static SMALL: AtomicU64 = AtomicU64::new(0);
static MESSAGE: AtomicU64 = AtomicU64::new(0);
/// Small allocations by size class (power of two), for the failure message.
static CLASSES: [AtomicU64; 16] = [const { AtomicU64::new(0) }; 16];

fn count(size: usize) {
    if !COUNTING.load(Ordering::Relaxed) {
        return;
    }
    if size >= SEGMENT / 2 {
        MESSAGE.fetch_add(1, Ordering::Relaxed);
    } else {
        SMALL.fetch_add(1, Ordering::Relaxed);
        let class = (usize::BITS - size.leading_zeros()).min(15) as usize;
        CLASSES[class].fetch_add(1, Ordering::Relaxed);
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        count(l.size());
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        count(new);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

#[test]
fn steady_state_transfer_allocates_per_message_not_per_packet() {
    let opts = Opts {
        clock: Clock::Sim { link_gbps: 10 },
        ..Opts::default()
    };
    let mut p = Pair::new(&opts);
    p.connect(1);
    p.transfer(16 << 20);

    let bytes: u64 = 32 << 20;
    COUNTING.store(true, Ordering::Relaxed);
    let m = p.transfer(bytes);
    COUNTING.store(false, Ordering::Relaxed);

    let packets = m.datagrams_ab + m.datagrams_ba;
    let messages = bytes / SEGMENT as u64;
    let small = SMALL.load(Ordering::Relaxed);
    let message = MESSAGE.load(Ordering::Relaxed);
    let classes: Vec<(usize, u64)> = CLASSES
        .iter()
        .enumerate()
        .map(|(i, c)| (1usize << i, c.load(Ordering::Relaxed)))
        .filter(|&(_, n)| n > 0)
        .collect();
    println!(
        "packets={packets} messages={messages} small_allocs={small} message_allocs={message} \
         small_by_size_class={classes:?}"
    );
    assert!(packets > 20_000, "only {packets} packets");
    assert!(
        small * 100 < packets,
        "{small} small allocations for {packets} packets (by size class: {classes:?})"
    );
    assert!(
        message <= 2 * messages,
        "{message} message-sized allocations for {messages} messages"
    );
}

//! What an idle session costs in memory, both ends, counted by a global
//! allocator. One test in this binary, so nothing else allocates while it
//! counts.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use common::Pair;
use stt::Event;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        LIVE.fetch_add(new as isize - l.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(p, l, new) }
    }
}

#[global_allocator]
static A: Counting = Counting;

const K: usize = 200;

fn accepted(p: &Pair) -> usize {
    p.events_b
        .iter()
        .filter(|e| matches!(e, Event::Accepted { .. }))
        .count()
}

#[test]
fn an_idle_session_costs_under_4_kib_per_side() {
    let mut p = Pair::default_pair();
    // A first session warms up what the endpoints and the harness keep
    // regardless of the session count.
    p.connect();
    p.drive_until(Duration::from_secs(1), |_| false);
    p.sent = Vec::new();
    p.events_a = Vec::new();
    p.events_b = Vec::new();
    let before = LIVE.load(Ordering::Relaxed);
    for _ in 0..K {
        p.a.connect(p.now, p.b_addr).unwrap();
    }
    let ok = p.drive_until(Duration::from_secs(10), |p| accepted(p) == K);
    assert!(ok, "{} of {K} sessions accepted", accepted(&p));
    // Idle: what the handshakes owed (confirmations, acknowledgements)
    // is sent and acknowledged.
    p.drive_until(Duration::from_secs(1), |_| false);
    assert_eq!(p.a.sessions().count(), K + 1);
    assert_eq!(p.b.sessions().count(), K + 1);
    // The harness's own logs are not the endpoints' memory.
    p.sent = Vec::new();
    p.events_a = Vec::new();
    p.events_b = Vec::new();
    let per_side = (LIVE.load(Ordering::Relaxed) - before) as f64 / (2 * K) as f64;
    println!("idle_session_bytes={per_side:.1}");
    assert!(
        per_side < 4096.0,
        "an idle session costs {per_side:.1} bytes a side"
    );
}

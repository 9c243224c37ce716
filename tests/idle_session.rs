//! What an idle session costs in memory, both ends, counted by a global
//! allocator. One test in this binary, so nothing else allocates while it
//! counts.

mod common;
mod counting;

use common::Pair;
use std::time::Duration;

use stt::Event;

#[global_allocator]
static A: counting::Counting = counting::Counting;

const K: usize = 200;

fn accepted(p: &Pair) -> usize {
    p.events_b
        .iter()
        .filter(|e| matches!(e, Event::Accepted { .. }))
        .count()
}

#[test]
// The bound is the target, under WireGuard's 1,856 bytes a peer (today's
// figure with every feature compiled in and the breakdown the test prints
// are in docs/PERFORMANCE.md), so whatever grows an idle session's state
// past it does so on purpose.
fn an_idle_session_costs_under_1_800_bytes_a_side() {
    let mut p = Pair::default_pair();
    // A first session warms up what the endpoints and the harness keep
    // regardless of the session count.
    p.connect();
    p.drive_until(Duration::from_secs(1), |_| false);
    p.forget_logs();
    let big0 = counting::big_live();
    let hist0 = counting::by_size();
    let before = counting::live();
    for _ in 0..K {
        p.a.connect(p.now, p.b_addr).unwrap();
    }
    let ok = p.drive_until(Duration::from_secs(10), |p| accepted(p) == K);
    assert!(ok, "{} of {K} sessions accepted", accepted(&p));
    // Idle: what the handshakes owed (confirmations, acknowledgements)
    // is sent and acknowledged, the sessions give back what only a busy
    // session holds, and the endpoints free the spares of it that no
    // session took again (within two seconds of the last).
    p.drive_until(Duration::from_secs(3), |_| false);
    assert_eq!(p.a.sessions().count(), K + 1);
    assert_eq!(p.b.sessions().count(), K + 1);
    // The harness's own logs are not the endpoints' memory.
    p.forget_logs();
    let after = counting::live();
    let hist1 = counting::by_size();
    let big = counting::big_grown(big0, counting::big_live());
    // What the growth is made of: live allocations by size, a session's
    // share of each (matched to the parts listed below by their size).
    for (size, n) in counting::grown(&hist0, &hist1) {
        if size < counting::SIZES {
            let share = (size as isize * n) as f64 / (2 * K) as f64;
            println!("  {size:>5} B x {n:>4} = {share:>7.1} B a side");
        }
    }
    let share = big as f64 / (2 * K) as f64;
    println!("  4 KiB or more   = {share:>7.1} B a side");
    let per_side = (after - before) as f64 / (2 * K) as f64;
    for (part, bytes) in stt::__private::layout::session_parts() {
        println!("  {bytes:>5} B  {part}");
    }
    println!("idle_session_bytes={per_side:.1}");
    assert!(
        per_side < 1800.0,
        "an idle session costs {per_side:.1} bytes a side"
    );
}

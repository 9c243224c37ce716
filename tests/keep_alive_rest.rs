//! A keep-alive exchange between two idle sessions: the PING is
//! acknowledged at once, and both sides are at rest as soon as the
//! acknowledgement is in (what only a busy session holds released then,
//! not after the idle trim's quiet period).
//! Counted by a global allocator; one test in this binary, so nothing
//! else allocates while it counts.

mod common;
mod counting;

use common::Pair;
use std::time::Duration;

#[global_allocator]
static A: counting::Counting = counting::Counting;

/// Datagrams both sides took in.
fn received(p: &Pair) -> u64 {
    p.a.stats().datagrams_received + p.b.stats().datagrams_received
}

#[test]
fn a_keep_alive_exchange_ends_at_rest() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    // Quiet past the idle trim: both sides rest.
    p.drive_until(Duration::from_secs(2), |_| false);
    p.forget_logs();
    let at_rest = counting::live();
    let rx0 = received(&p);
    // The first keep-alive (10 s by default) and its acknowledgement.
    assert!(p.drive_until(Duration::from_secs(11), |p| received(p) == rx0 + 1));
    assert!(p.drive_until(Duration::from_secs(1), |p| received(p) == rx0 + 2));
    // A lone PING to a resting session is answered at once, without the
    // acknowledgement delay (25 ms by default): the keep-alive's sample is
    // the path's round trip itself.
    let sample = |s: Option<&stt::Session>| s.unwrap().congestion_stats().latest_rtt;
    let (ra, rb) = (sample(p.a.session(sa)), sample(p.b.session(sb)));
    assert!(
        ra == 2 * p.latency || rb == 2 * p.latency,
        "latest round trips {ra:?} / {rb:?}"
    );
    p.forget_logs();
    let held = counting::live() - at_rest;
    // The busy parts (controller, pacer, ledger, buffers) are over 600
    // bytes a side; what may remain is a few bytes of bookkeeping.
    assert!(
        held < 64,
        "{held} bytes still held after the keep-alive was acknowledged"
    );
    assert!(p.a.session(sa).unwrap().is_established());
    assert!(p.b.session(sb).unwrap().is_established());
}

//! Unreliable datagrams through the simulator: beside a bulk stream on a
//! lossy path (none resent, delivery near `1 - loss`, the bulk stream keeps
//! the rest of the link) and a sender queuing far faster than the link
//! (memory held to the queue's bound, drops counted).
//!
//! Virtual time is deterministic: these are not timing assertions.
#![cfg(feature = "sim")]

use std::time::Duration;

use stt::sim::{run_game, GameConfig, LinkConfig};

const RATE: u64 = 10_000_000;
const RTT: Duration = Duration::from_millis(40);
/// Bandwidth-delay product in bytes: 50 kB.
const BDP: usize = (RATE / 8 * 40 / 1000) as usize;

fn path(loss: f64) -> LinkConfig {
    LinkConfig::default()
        .with_latency(RTT / 2)
        .with_rate(RATE)
        .with_queue_bytes(BDP)
        .with_loss(loss)
}

#[test]
fn datagrams_beside_bulk_at_one_percent_loss() {
    let cfg = GameConfig {
        link: path(0.01),
        duration: Duration::from_secs(6),
        bulk_send_ahead: 1 << 20,
        ..GameConfig::default()
    };
    let r = run_game(&cfg).expect("runs");
    eprintln!(
        "offered {} sent {} received {} lost {} dropped {} p50 {:?} p99 {:?} max {:?} bulk share {:.3}",
        r.offered,
        r.sent,
        r.received,
        r.lost,
        r.dropped,
        r.delay_percentile(50),
        r.delay_percentile(99),
        r.delays.last(),
        r.bulk_share(cfg.size)
    );
    assert!(r.offered >= 350, "{r:?}");
    // Never resent: each went out once, and none arrived twice.
    assert!(r.sent <= r.offered);
    assert_eq!(r.duplicates, 0);
    let f = r.delivered_fraction();
    assert!((0.97..=1.0).contains(&f), "delivered {f}");
    assert!(r.bulk_share(cfg.size) >= 0.75, "{}", r.bulk_share(cfg.size));
}

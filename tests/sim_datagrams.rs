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

/// Beside bulk, a datagram crosses the bulk flow's queue at the bottleneck:
/// a session that carries datagrams keeps that queue small (its controller
/// in low-delay mode) and leaves room in its window for them, so after
/// start-up their delay stays within a few milliseconds of the path's.
#[test]
fn datagrams_beside_bulk_cross_a_small_queue() {
    let cfg = GameConfig {
        link: path(0.01),
        duration: Duration::from_secs(8),
        warmup: Duration::from_secs(2),
        ..GameConfig::default()
    };
    let r = run_game(&cfg).expect("runs");
    let p99 = r.steady_delay_percentile(99);
    eprintln!(
        "after warm-up p50 {:?} p99 {:?}, path {:?}, bulk share {:.3}",
        r.steady_delay_percentile(50),
        p99,
        r.one_way_delay,
        r.bulk_share(cfg.size)
    );
    // A 20 ms allowance and 1.25x probes leave about 22 ms of queue at
    // the 99th percentile here; low-delay mode under 10.
    assert!(
        p99 <= r.one_way_delay + Duration::from_millis(12),
        "p99 {p99:?}"
    );
    assert!(r.bulk_share(cfg.size) >= 0.85, "{}", r.bulk_share(cfg.size));
}

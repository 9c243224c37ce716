//! Goodput targets, pinned in virtual time: a simulated 100 Mbit/s path
//! with a 40 ms round trip and a one-BDP drop-tail queue.
//!
//! - one bulk session reaches at least 90 % of the link rate;
//! - two sessions sharing it each get within 20 % of a fair share;
//! - with 1 % random loss, one session still reaches at least 50 %.
//!
//! Virtual time is deterministic: these are not timing assertions, and a
//! run replays to the same figures on every machine. Goodput counts payload
//! bytes the receiving application read, over the whole run (handshake and
//! slow start included), against the bottleneck's rate in UDP payload bits.
#![cfg(feature = "sim")]

use std::time::Duration;

use stt::recovery::ControllerKind;
use stt::sim::{run_bulk, BulkConfig, BulkReport, LinkConfig};

const RATE: u64 = 100_000_000;
const RTT: Duration = Duration::from_millis(40);
/// Bandwidth-delay product in bytes: 500 kB.
const BDP: usize = (RATE / 8 * 40 / 1000) as usize;
const SECONDS: u64 = 10;

fn path(loss: f64) -> LinkConfig {
    LinkConfig::default()
        .with_latency(RTT / 2)
        .with_rate(RATE)
        .with_queue_bytes(BDP)
        .with_loss(loss)
}

fn bulk(loss: f64, sessions: usize) -> BulkReport {
    let cfg = BulkConfig {
        link: path(loss),
        sessions,
        duration: Duration::from_secs(SECONDS),
        seed: 1,
        ..BulkConfig::default()
    };
    run_bulk(&cfg).expect("simulation runs")
}

#[test]
fn one_session_fills_the_link() {
    let r = bulk(0.0, 1);
    let f = r.goodput_fraction();
    assert!(f >= 0.90, "goodput {f:.3} of link rate; {r:?}");
    // Losses are only the queue overflowing, while probing.
    assert_eq!(r.packets_lost[0], r.queue_drops, "{r:?}");
}

#[test]
fn two_sessions_share_the_link_fairly() {
    let r = bulk(0.0, 2);
    let total = r.goodput_fraction();
    assert!(total >= 0.90, "together {total:.3} of link rate; {r:?}");
    let fair = r.goodput() / 2.0;
    for (i, g) in r.session_goodput().iter().enumerate() {
        let off = (g - fair).abs() / fair;
        assert!(off <= 0.20, "session {i}: {g:.0} bit/s, {off:.3} off fair");
    }
    assert!(r.jain_index() >= 0.96, "{}", r.jain_index());
}

#[test]
fn one_percent_random_loss_keeps_half_the_link() {
    let r = bulk(0.01, 1);
    let f = r.goodput_fraction();
    assert!(
        f >= 0.50,
        "goodput {f:.3} of link rate with 1 % loss; {r:?}"
    );
    assert!(r.packets_lost[0] > 0);
}

#[test]
fn cubic_and_newreno_both_meet_the_clean_target() {
    // The default controller is compared with the other in the README; both
    // must fill a clean path.
    for cc in [ControllerKind::Cubic, ControllerKind::NewReno] {
        let mut cfg = BulkConfig {
            link: path(0.0),
            duration: Duration::from_secs(5),
            ..BulkConfig::default()
        };
        cfg.recovery.controller = cc;
        let f = run_bulk(&cfg).unwrap().goodput_fraction();
        assert!(f >= 0.85, "{cc:?}: {f:.3}");
    }
}

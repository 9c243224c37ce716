//! Goodput, delay and fairness targets of issue 15, pinned in virtual time:
//! a simulated 100 Mbit/s path with a 40 ms round trip and a drop-tail
//! queue of one BDP unless a row says otherwise, default controller (BBR)
//! unless a row names one.
//!
//! Rows (docs/PERFORMANCE.md has the full 20 s runs for two seeds):
//! - clean: one session at least 0.90 of the link (0.93 over 20 s);
//! - random loss 1 / 5 / 10 / 20 %: goodput over `1 - loss` of the link at
//!   least 0.90 / 0.85 / 0.75 / 0.50 over 20 s;
//! - an 8-BDP queue: 95th-percentile RTT at most 1.5x the base RTT;
//! - a 0.1-BDP queue: goodput at least 0.80, retransmissions under 5 %;
//! - two default sessions within 20 % of fair; BBR against CUBIC each
//!   between a third and two thirds;
//! - a 10 Mbit/s application-limited phase leaves a window at most twice
//!   what it had in flight, for every controller, and the bulk send after
//!   it loses no more than a clean start-up;
//! - a long fat path, 1 Gbit/s x 100 ms (12.5 MB in flight), filled with
//!   the default stream limits, the receive side holding no more than its
//!   budget.
//!
//! Virtual time is deterministic: these are not timing assertions, and a
//! run replays to the same figures on every machine. Goodput counts payload
//! bytes the receiving application read, over the whole run (handshake and
//! start-up included), against the bottleneck's rate in UDP payload bits.
#![cfg(feature = "sim")]

use std::time::Duration;

use stt::sim::{run_bulk, AppLimited, BulkConfig, BulkReport, LinkConfig};
use stt::{ControllerKind, StreamLimits};

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

fn config(link: LinkConfig, sessions: usize, seconds: u64) -> BulkConfig {
    BulkConfig {
        link,
        sessions,
        duration: Duration::from_secs(seconds),
        seed: 1,
        ..BulkConfig::default()
    }
}

fn bulk(loss: f64, sessions: usize) -> BulkReport {
    run_bulk(&config(path(loss), sessions, SECONDS)).expect("simulation runs")
}

#[test]
fn one_session_fills_the_link() {
    let r = bulk(0.0, 1);
    let f = r.goodput_fraction();
    assert!(f >= 0.90, "goodput {f:.3} of link rate; {r:?}");
    // Losses are only the queue overflowing, while probing.
    assert_eq!(r.packets_lost[0], r.queue_drops, "{r:?}");
    assert!(r.retransmit_fraction < 0.01, "{}", r.retransmit_fraction);
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
fn random_loss_costs_little_more_than_the_loss() {
    // The 20 s: sessions start at 1,200-byte datagrams, and at 5 %
    // loss 10 s leave the start-up too much weight (0.838).
    for (loss, target) in [(0.01, 0.90), (0.05, 0.85)] {
        let r = run_bulk(&config(path(loss), 1, 20)).expect("simulation runs");
        let f = r.goodput_fraction() / (1.0 - loss);
        assert!(f >= target, "{loss}: {f:.3} of what the loss leaves");
        assert!(r.packets_lost[0] > 0);
    }
}

#[test]
fn heavy_random_loss_keeps_most_of_the_link() {
    // The model needs a few probing cycles to learn the loss is random:
    // this row runs the 20 s of docs/PERFORMANCE.md's table.
    let (loss, target) = (0.10, 0.75);
    let r = run_bulk(&config(path(loss), 1, 20)).unwrap();
    let f = r.goodput_fraction() / (1.0 - loss);
    assert!(f >= target, "{loss}: {f:.3} of what the loss leaves");
}

/// Issue 15's 20 % row. It collapsed (seed 1: 0.25 of what the loss
/// leaves) once sessions started at 1,200 bytes, but the datagram size was
/// not the cause; two were:
/// - start-up ended in its second round: a lone packet's acknowledgement
///   waits out the peer's ack delay, BBR read the longer sample as a queue,
///   and a round with 20 % loss and "a queue" was congestive; BBR now reads
///   queues from samples with the ack delay removed;
/// - the receive window never grew: every lost packet holds credit back
///   until its repair arrives, so half a window was never released within
///   two round trips and the window stayed at 256 KiB (half a BDP) while
///   the sender sat on the limit; the window now also doubles when the
///   peer used the whole limit and the reader is caught up.
#[test]
fn twenty_percent_random_loss_keeps_half_of_the_link() {
    let (loss, target) = (0.20, 0.50);
    let r = run_bulk(&config(path(loss), 1, 20)).unwrap();
    let f = r.goodput_fraction() / (1.0 - loss);
    assert!(f >= target, "{loss}: {f:.3} of what the loss leaves");
}

#[test]
fn a_deep_buffer_does_not_fill() {
    let r = run_bulk(&config(path(0.0).with_queue_bytes(8 * BDP), 1, SECONDS)).unwrap();
    assert!(r.goodput_fraction() >= 0.90, "{}", r.goodput_fraction());
    assert!(
        r.rtt_p95 <= RTT * 3 / 2,
        "p95 RTT {:?} against a base of {RTT:?}",
        r.rtt_p95
    );
    // The median sits at the base: the queue is empty most of the time.
    assert!(
        r.rtt_p50 <= RTT + Duration::from_millis(2),
        "{:?}",
        r.rtt_p50
    );
}

#[test]
fn a_shallow_buffer_is_filled_without_loss() {
    let r = run_bulk(&config(path(0.0).with_queue_bytes(BDP / 10), 1, SECONDS)).unwrap();
    assert!(r.goodput_fraction() >= 0.80, "{}", r.goodput_fraction());
    assert!(r.retransmit_fraction < 0.05, "{}", r.retransmit_fraction);
}

#[test]
fn bbr_and_cubic_share_a_bottleneck_without_starving() {
    let mut cfg = config(path(0.0), 2, SECONDS);
    cfg.controllers = vec![ControllerKind::Bbr, ControllerKind::Cubic];
    let r = run_bulk(&cfg).unwrap();
    let total = r.goodput();
    for (i, g) in r.session_goodput().iter().enumerate() {
        let share = g / total;
        assert!(
            (1.0 / 3.0..=2.0 / 3.0).contains(&share),
            "session {i} ({:?}): {share:.3} of the goodput",
            cfg.controllers[i]
        );
    }
}

#[test]
fn an_application_limited_sender_does_not_earn_window() {
    for cc in [
        ControllerKind::Bbr,
        ControllerKind::Cubic,
        ControllerKind::NewReno,
    ] {
        let mut cfg = config(path(0.0), 1, 6);
        cfg.recovery.controller = cc;
        cfg.app_limited = Some(AppLimited {
            rate: 10_000_000,
            duration: Duration::from_secs(4),
        });
        let r = run_bulk(&cfg).unwrap();
        let phase = r.app_phase.as_ref().unwrap();
        let (cwnd, flight) = (phase.cwnd_at_end[0], phase.max_in_flight[0]);
        assert!(
            flight > 0 && cwnd <= 2 * flight,
            "{cc:?}: window {cwnd}, most in flight {flight}"
        );
        assert_eq!(
            phase.lost_at_end[0], 0,
            "{cc:?}: 10 % of the link loses nothing"
        );
        // The bulk transfer after it still fills the link.
        let bulk_bytes = r.delivered[0] as f64 - 10e6 / 8.0 * 4.0;
        let f = bulk_bytes * 8.0 / 2.0 / RATE as f64;
        assert!(
            f >= 0.70,
            "{cc:?}: bulk after the phase at {f:.3} of the link"
        );
    }
}

#[test]
fn every_controller_meets_the_clean_target() {
    for cc in [
        ControllerKind::Cubic,
        ControllerKind::NewReno,
        ControllerKind::Bbr,
    ] {
        let mut cfg = config(path(0.0), 1, 5);
        cfg.recovery.controller = cc;
        let f = run_bulk(&cfg).unwrap().goodput_fraction();
        assert!(f >= 0.85, "{cc:?}: {f:.3}");
    }
}

#[test]
fn a_bulk_send_after_an_application_limited_phase_loses_no_more_than_a_clean_start() {
    // The run: 10 Mbit/s for 10 s, then bulk for 10 s, against a
    // clean 10 s bulk run. Both start-ups end in a 1-BDP queue; the one
    // after the phase used to run three more rounds into it (24 packets
    // lost against 6), because a late 25 % step of the estimate restarted
    // the plateau count.
    for cc in [ControllerKind::Bbr, ControllerKind::Cubic] {
        let mut clean = config(path(0.0), 1, 10);
        clean.recovery.controller = cc;
        let clean = run_bulk(&clean).unwrap();
        let mut cfg = config(path(0.0), 1, 20);
        cfg.recovery.controller = cc;
        cfg.app_limited = Some(AppLimited {
            rate: 10_000_000,
            duration: Duration::from_secs(10),
        });
        let r = run_bulk(&cfg).unwrap();
        let phase = r.app_phase.as_ref().unwrap();
        let after = r.packets_lost[0] - phase.lost_at_end[0];
        assert!(
            clean.packets_lost[0] > 0,
            "{cc:?}: the clean start-up fills the queue"
        );
        assert!(
            after <= clean.packets_lost[0],
            "{cc:?}: {after} lost after the phase, {} in a clean start-up",
            clean.packets_lost[0]
        );
    }
}

/// 1 Gbit/s x 100 ms with a one-BDP queue: 12.5 MB must be in flight, more
/// than fixed windows of a few MiB allow. The windows grow from their small
/// initial sizes to what the path needs by themselves. Datagrams of 60,000
/// bytes keep the packet count (what a debug build pays for) low: flow
/// control counts bytes, so the windows face the same path as with 1,452.
#[test]
fn a_long_fat_path_is_filled_with_the_default_limits() {
    const GBIT: u64 = 1_000_000_000;
    const LFN_BDP: usize = (GBIT / 8 / 10) as usize;
    let link = LinkConfig::default()
        .with_latency(Duration::from_millis(50))
        .with_rate(GBIT)
        .with_queue_bytes(LFN_BDP);
    let cfg = BulkConfig {
        datagram_sizes: Some((60_000, 60_000)),
        ..config(link, 1, 10)
    };
    let r = run_bulk(&cfg).expect("simulation runs");
    let f = r.goodput_fraction();
    assert!(f >= 0.85, "goodput {f:.3} of link rate; {r:?}");
    let limits = StreamLimits::default();
    assert!(
        r.receive_buffered_peak <= limits.max_session_buffer,
        "{} held",
        r.receive_buffered_peak
    );
}

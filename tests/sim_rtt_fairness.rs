//! RTT fairness (issue 15): sessions with different round trips crossing one
//! bottleneck, and the shared bottleneck the simulator builds for it.
//!
//! The scenario: 100 Mbit/s, one drop-tail queue sized to the bandwidth-delay
//! product of the longer round trip (80 ms: 1 MB), one session with a 20 ms
//! and one with an 80 ms round trip, default controller, 60 s from connect.
//! docs/PERFORMANCE.md ("Simulated networks") has the split for every controller
//! and two seeds. Virtual time: deterministic, not a timing assertion.
#![cfg(feature = "sim")]

use std::time::Duration;

use stt::sim::{run_bulk, BulkConfig, LinkConfig, Network};
use stt::Instant;

const RATE: u64 = 100_000_000;

/// One session per round trip, all through one bottleneck whose queue is
/// one BDP of the longest round trip.
fn rtt_mix(rtts_ms: &[u64], seed: u64, seconds: u64) -> BulkConfig {
    let min = rtts_ms.iter().copied().min().unwrap_or(0);
    let max = rtts_ms.iter().copied().max().unwrap_or(0);
    let bdp = (RATE / 8 * max / 1000) as usize;
    BulkConfig {
        link: LinkConfig::default()
            .with_latency(Duration::from_micros(min * 500))
            .with_rate(RATE)
            .with_queue_bytes(bdp),
        sessions: rtts_ms.len(),
        duration: Duration::from_secs(seconds),
        seed,
        extra_delays: rtts_ms
            .iter()
            .map(|r| Duration::from_micros((r - min) * 500))
            .collect(),
        ..BulkConfig::default()
    }
}

#[test]
fn twenty_and_eighty_ms_sessions_split_within_three_times() {
    // 60 s: the split drifts after start-up (with a 2-BDP window in the
    // probing cycle it was 1.6x over 20 s but 3.2x over 60 s, and 6.8x over
    // the last 40 s alone), so both the whole run and its last 40 s count.
    let cfg = BulkConfig {
        sample_every: Duration::from_secs(1),
        ..rtt_mix(&[20, 80], 1, 60)
    };
    let r = run_bulk(&cfg).expect("simulation runs");
    let g = r.session_goodput();
    assert_eq!(g.len(), 2, "{r:?}");
    assert!(g.iter().all(|&x| x > 0.0), "both sessions deliver: {g:?}");
    let ratio = |a: f64, b: f64| a.max(b) / a.min(b).max(f64::MIN_POSITIVE);
    let whole = ratio(g[0], g[1]);
    assert!(whole <= 3.0, "max/min {whole:.2} over 60 s: {g:?}");
    let at = |secs: u64| {
        r.samples
            .iter()
            .find(|s| s.at >= Instant::from_millis(secs * 1000))
            .map(|s| s.delivered.clone())
            .expect("sampled")
    };
    let (from, to) = (at(20), at(60));
    let late = ratio((to[0] - from[0]) as f64, (to[1] - from[1]) as f64);
    assert!(
        late <= 3.0,
        "max/min {late:.2} from 20 s to 60 s: {from:?} {to:?}"
    );
    // The two together still fill the link.
    assert!(r.goodput_fraction() >= 0.90, "{}", r.goodput_fraction());
    // Each session saw its own round trip: the samples span both.
    assert!(r.rtt_p50 >= Duration::from_millis(20), "{:?}", r.rtt_p50);
    assert!(r.rtt_p95 >= Duration::from_millis(80), "{:?}", r.rtt_p95);
}

#[test]
fn sessions_on_their_own_paths_replay_and_keep_their_delays() {
    let cfg = rtt_mix(&[10, 60], 3, 2);
    let r = run_bulk(&cfg).unwrap();
    assert_eq!(run_bulk(&cfg).unwrap(), r, "a config replays bit for bit");
    assert!(r.delivered.iter().all(|&d| d > 0), "{r:?}");
    // Without the extra delays both sessions share one 10 ms path: the
    // samples never reach 60 ms, unlike the mixed run.
    let same = run_bulk(&BulkConfig {
        extra_delays: Vec::new(),
        ..cfg.clone()
    })
    .unwrap();
    assert!(
        same.rtt_p95 < Duration::from_millis(60),
        "{:?}",
        same.rtt_p95
    );
    assert!(r.rtt_p95 >= Duration::from_millis(60), "{:?}", r.rtt_p95);
}

fn addr(n: u8) -> std::net::SocketAddr {
    std::net::SocketAddr::from(([10, 0, 0, n], 4000 + u16::from(n)))
}

/// Offers `count` 1250-byte datagrams at instant 0, alternating between the
/// links from `addr(1)` and `addr(3)` to `addr(2)`; returns the arrival
/// instants in ms, by sender.
fn alternate(net: &mut Network, count: u8) -> (Vec<u64>, Vec<u64>) {
    for i in 0..count {
        let from = if i % 2 == 0 { addr(1) } else { addr(3) };
        net.send(Instant::ZERO, from, addr(2), &[i; 1250]);
    }
    let (mut one, mut three) = (Vec::new(), Vec::new());
    while let Some(d) = net.poll_arrival(Instant::MAX) {
        let ms = d.at.as_micros() / 1000;
        if d.from == addr(1) {
            one.push(ms);
        } else {
            three.push(ms);
        }
    }
    (one, three)
}

#[test]
fn links_sharing_a_bottleneck_queue_and_serialise_together() {
    // 1250 bytes at 10 Mbit/s: 1 ms each; a queue of ten datagrams.
    let link = |ms| {
        LinkConfig::default()
            .with_latency(Duration::from_millis(ms))
            .with_rate(10_000_000)
            .with_queue_bytes(12_500)
    };
    let build = |shared: bool| {
        let mut net = Network::new([1; 32]);
        net.set_link(addr(1), addr(2), link(5)).unwrap();
        net.set_link(addr(3), addr(2), link(30)).unwrap();
        if shared {
            net.share_bottleneck(&[(addr(1), addr(2)), (addr(3), addr(2))]);
        }
        net
    };
    // Apart: each link serialises its own five at 1, 2, .. 5 ms.
    let mut net = build(false);
    assert_eq!(
        alternate(&mut net, 10),
        (vec![6, 7, 8, 9, 10], vec![31, 32, 33, 34, 35])
    );
    // Shared: one queue, taken in offer order, each after its own delay.
    let mut net = build(true);
    assert_eq!(
        alternate(&mut net, 10),
        (vec![6, 8, 10, 12, 14], vec![32, 34, 36, 38, 40])
    );
    // One queue of ten datagrams for both: of 30 offered, 10 pass.
    let mut net = build(true);
    let (one, three) = alternate(&mut net, 30);
    assert_eq!(one.len() + three.len(), 10);
    let drops =
        net.stats(addr(1), addr(2)).dropped_queue + net.stats(addr(3), addr(2)).dropped_queue;
    assert_eq!(drops, 20);
    // Apart, each link has a queue of its own: 20 pass.
    let mut net = build(false);
    let (one, three) = alternate(&mut net, 30);
    assert_eq!(one.len() + three.len(), 20);
}

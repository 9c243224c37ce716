//! The trace of application datagrams against the session's counters: a
//! sender queueing datagrams far faster than a lossy link takes them, with
//! deadlines, beside a bulk stream, traced on the sending endpoint.
//!
//! - every datagram the session sent has one `app_datagram_sent` event,
//!   and every packet that carried some is resolved once, acknowledged or
//!   lost, with the count the sent events gave it;
//! - lost events add up to the session's lost counter, and expired plus
//!   dropped events to its expired and dropped counters.
#![cfg(all(feature = "sim", feature = "trace"))]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use stt::sim::{run_game_with, GameConfig, LinkConfig};
use stt::trace::{TraceEvent, TraceSink};
use stt::{DatagramLimits, Instant, SessionId};

#[derive(Default)]
struct Fates {
    /// Datagrams sent per packet number.
    sent: BTreeMap<u64, u8>,
    /// Packets resolved: (acknowledged?, count).
    resolved: BTreeMap<u64, (bool, u8)>,
    twice: u64,
    expired: u64,
    dropped: u64,
}

struct Recorder(Arc<Mutex<Fates>>);

impl TraceSink for Recorder {
    fn event(&mut self, _: Instant, _: Option<SessionId>, ev: &TraceEvent<'_>) {
        let mut f = self.0.lock().unwrap();
        match *ev {
            TraceEvent::AppDatagramSent { pn, .. } => *f.sent.entry(pn).or_default() += 1,
            TraceEvent::AppDatagramsAcked { pn, count } => {
                let again = f.resolved.insert(pn, (true, count)).is_some();
                f.twice += u64::from(again);
            }
            TraceEvent::AppDatagramsLost { pn, count } => {
                let again = f.resolved.insert(pn, (false, count)).is_some();
                f.twice += u64::from(again);
            }
            TraceEvent::AppDatagramExpired { .. } => f.expired += 1,
            TraceEvent::AppDatagramDropped { .. } => f.dropped += 1,
            _ => {}
        }
    }
}

/// Runs `cfg` traced; returns (lost, expired, dropped, acknowledged packets)
/// once the trace has been checked against the report.
fn traced_run(cfg: &GameConfig) -> (u64, u64, u64, usize) {
    let log = Arc::new(Mutex::new(Fates::default()));
    let sink = Recorder(log.clone());
    let r = run_game_with(cfg, |client, _| {
        client.set_trace_sink(Some(Box::new(sink)));
    })
    .unwrap();
    let f = log.lock().unwrap();
    let sent: u64 = f.sent.values().map(|&n| u64::from(n)).sum();
    assert_eq!(sent, r.sent);
    assert_eq!(f.twice, 0, "a packet resolved twice");
    for (pn, (_, count)) in &f.resolved {
        assert_eq!(f.sent.get(pn), Some(count), "packet {pn}");
    }
    let lost: u64 = f
        .resolved
        .values()
        .filter(|(acked, _)| !acked)
        .map(|&(_, n)| u64::from(n))
        .sum();
    assert_eq!(lost, r.lost);
    assert_eq!(f.expired + f.dropped, r.dropped);
    let acked = f.resolved.values().filter(|&&(a, _)| a).count();
    (lost, f.expired, f.dropped, acked)
}

#[test]
fn datagram_fates_are_traced_once_each() {
    let mut datagrams = DatagramLimits::default();
    datagrams.send_queue_len = 4;
    let base = GameConfig {
        link: LinkConfig::default()
            .with_latency(Duration::from_millis(15))
            .with_rate(2_000_000)
            .with_queue_bytes(20_000)
            .with_loss(0.05),
        duration: Duration::from_secs(2),
        rate_hz: 2000,
        size: 300,
        bulk_send_ahead: 256 << 10,
        warmup: Duration::ZERO,
        ..GameConfig::default()
    };
    // A short queue: datagrams pushed out.
    let short = GameConfig {
        datagrams,
        ..base.clone()
    };
    let (lost, expired, dropped, acked) = traced_run(&short);
    assert!(lost > 0 && dropped > 0 && acked > 0);
    assert_eq!(expired, 0);
    // Deadlines shorter than the queue takes to fill: datagrams expire.
    let late = GameConfig {
        deadline: Some(Duration::from_millis(3)),
        ..base
    };
    let (lost, expired, dropped, acked) = traced_run(&late);
    assert!(lost > 0 && expired > 0 && acked > 0);
    assert_eq!(dropped, 0);
}

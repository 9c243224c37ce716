//! The trace against the run it describes: a lossy, duplicating,
//! reordering simulated bulk transfer with a sink on both endpoints, then
//! every event checked against the sessions' and endpoints' own counters.
//!
//! - every acknowledged and every lost packet was sent before, by that
//!   session, and each is resolved once;
//! - times never go backwards;
//! - the last congestion window traced is the one `SessionStats` reports;
//! - every datagram a counter says was dropped has its event, with the
//!   counter's reason (and no more);
//! - packets sent and lost match the session's counts.
#![cfg(all(feature = "sim", feature = "trace"))]

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use stt::sim::{run_until, BulkReceiver, BulkSender, EndpointNode, LinkConfig, Network, Node};
use stt::trace::{DropReason, TraceEvent, TraceSink};
use stt::{Config, Endpoint, Instant, SessionId};

const NET: &[u8] = b"trace test network key..........";

fn addr(n: u8) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, n], 9000 + u16::from(n)))
}

/// What the test keeps of an event.
#[derive(Debug, Clone, PartialEq)]
enum Rec {
    Sent(u64),
    HandshakeSent,
    Acked(u64),
    Lost(u64),
    Window(u64),
    Dropped(DropReason),
    Other(&'static str),
}

type Log = Arc<Mutex<Vec<(Instant, Option<SessionId>, Rec)>>>;

struct Recorder(Log);

impl TraceSink for Recorder {
    fn event(&mut self, at: Instant, session: Option<SessionId>, ev: &TraceEvent<'_>) {
        let r = match *ev {
            TraceEvent::PacketSent { pn, .. } => Rec::Sent(pn),
            TraceEvent::HandshakeSent { .. } => Rec::HandshakeSent,
            TraceEvent::PacketAcked { pn, .. } => Rec::Acked(pn),
            TraceEvent::PacketLost { pn, .. } => Rec::Lost(pn),
            TraceEvent::MetricsUpdated(m) => Rec::Window(m.congestion_window),
            TraceEvent::DatagramDropped { reason, .. } => Rec::Dropped(reason),
            ref other => Rec::Other(other.name()),
        };
        self.0.lock().unwrap().push((at, session, r));
    }
}

fn endpoint(name: &[u8], seed: u8, log: &Log) -> Endpoint {
    let mut ep = Endpoint::new(Config::builder(name, NET).build().unwrap(), [seed; 32]);
    ep.set_trace_sink(Some(Box::new(Recorder(log.clone()))));
    ep
}

/// Checks one endpoint's log against its sessions and counters.
fn check(log: &[(Instant, Option<SessionId>, Rec)], ep: &Endpoint, sessions: &[SessionId]) {
    assert!(
        log.windows(2).all(|w| w[0].0 <= w[1].0),
        "trace times go backwards"
    );
    for &id in sessions {
        let st = ep.session(id).expect("session still open").stats();
        let mine: Vec<&Rec> = log
            .iter()
            .filter(|(_, s, _)| *s == Some(id))
            .map(|(_, _, r)| r)
            .collect();
        let mut sent = BTreeSet::new();
        let mut resolved = BTreeSet::new();
        let (mut lost, mut handshake) = (0u64, 0u64);
        let mut window = None;
        let mut drops: BTreeMap<String, u64> = BTreeMap::new();
        for r in &mine {
            match r {
                Rec::Sent(pn) => assert!(sent.insert(*pn), "packet {pn} sent twice"),
                Rec::HandshakeSent => handshake += 1,
                Rec::Acked(pn) | Rec::Lost(pn) => {
                    assert!(sent.contains(pn), "{r:?} of a packet never sent");
                    assert!(resolved.insert(*pn), "packet {pn} resolved twice");
                    if matches!(r, Rec::Lost(_)) {
                        lost += 1;
                    }
                }
                Rec::Window(w) => window = Some(*w),
                Rec::Dropped(d) => *drops.entry(format!("{d:?}")).or_default() += 1,
                Rec::Other(_) => {}
            }
        }
        assert_eq!(sent.len() as u64 + handshake, st.packets_sent, "{id}");
        assert_eq!(lost, st.packets_lost, "{id}");
        assert_eq!(window, Some(st.congestion_window), "{id}: last window");
        let n = |k: &str| drops.get(k).copied().unwrap_or(0);
        assert_eq!(n("Replay"), st.replays_dropped, "{id}");
        assert_eq!(n("AuthFailure"), st.decrypt_failures, "{id}");
        assert_eq!(n("StaleKey"), st.stale_key_drops, "{id}");
    }
    let mut endpoint_drops: BTreeMap<String, u64> = BTreeMap::new();
    for (_, s, r) in log {
        if let (None, Rec::Dropped(d)) = (s, r) {
            *endpoint_drops.entry(format!("{d:?}")).or_default() += 1;
        }
    }
    let n = |k: &str| endpoint_drops.get(k).copied().unwrap_or(0);
    let es = ep.stats();
    assert_eq!(n("Malformed"), es.malformed);
    assert_eq!(n("UnknownSession"), es.unknown_session);
    assert_eq!(n("HandshakeRejected"), es.handshakes_rejected);
    assert_eq!(n("OverBudget"), es.initials_dropped);
}

#[test]
fn a_lossy_transfer_is_traced_faithfully() {
    let (client_log, server_log) = (Log::default(), Log::default());
    let client = endpoint(b"trace client seed.....", 1, &client_log);
    let server = endpoint(b"trace server seed.....", 2, &server_log);
    let mut net = Network::new([7; 32]);
    let link = LinkConfig::default()
        .with_latency(Duration::from_millis(15))
        .with_rate(20_000_000)
        .with_queue_bytes(60_000)
        .with_loss(0.02)
        .with_duplicate(0.01)
        .with_reorder(0.01, Duration::from_millis(3));
    net.set_path(addr(1), addr(2), link).unwrap();
    let mut client = EndpointNode::new(client, addr(1), BulkSender::new(16 * 1024, 1 << 20));
    let mut server = EndpointNode::new(server, addr(2), BulkReceiver::default());
    for _ in 0..2 {
        client
            .with(|ep, app| app.connect(Instant::ZERO, ep, addr(2)))
            .unwrap();
    }
    // A short side stream, opened and closed by the application.
    let first = client.app.sessions[0];
    client.with(|ep, _| {
        let s = ep.session_mut(first).unwrap();
        s.create_stream(5).unwrap();
        s.send(5, &b"side"[..]).unwrap();
        s.close_stream(5).unwrap();
    });
    // Hostile strays the endpoints must drop, each with its event: garbage,
    // a short header for no session, an Initial under the wrong key.
    let stranger = addr(9);
    net.send(Instant::ZERO, stranger, addr(2), &[0xff; 3]);
    net.send(Instant::ZERO, stranger, addr(2), &[0x40; 64]);
    let mut wrong = Endpoint::new(
        Config::builder(
            b"wrong network node....",
            b"another network key.............",
        )
        .build()
        .unwrap(),
        [3; 32],
    );
    wrong.connect(Instant::ZERO, addr(2)).unwrap();
    let mut buf = [0u8; 2048];
    let t = wrong.poll_transmit(Instant::ZERO, &mut buf).unwrap();
    net.send(Instant::ZERO, stranger, addr(2), &buf[..t.len]);

    let end = Instant::ZERO + Duration::from_secs(4);
    let mut nodes: [&mut dyn Node; 2] = [&mut client, &mut server];
    run_until(&mut net, &mut nodes, Instant::ZERO, end, |_, _| false).unwrap();

    let client_sessions = client.app.sessions.clone();
    let server_sessions: Vec<SessionId> = server.endpoint().sessions().collect();
    assert_eq!(server_sessions.len(), 2);
    let clog = client_log.lock().unwrap();
    let slog = server_log.lock().unwrap();
    let lost: u64 = client_sessions
        .iter()
        .map(|&id| client.endpoint().session(id).unwrap().stats().packets_lost)
        .sum();
    assert!(lost > 10, "a lossy run loses packets: {lost}");
    let replays: u64 = server_sessions
        .iter()
        .map(|&id| {
            server
                .endpoint()
                .session(id)
                .unwrap()
                .stats()
                .replays_dropped
        })
        .sum();
    assert!(replays > 0, "duplicates are dropped as replays");
    let es = server.endpoint().stats();
    assert!(es.malformed + es.unknown_session >= 2 && es.handshakes_rejected == 1);
    check(&clog, client.endpoint(), &client_sessions);
    check(&slog, server.endpoint(), &server_sessions);
    // Session and stream steps are there too, on both sides.
    for name in [
        "session_started",
        "established",
        "stream_opened",
        "stream_closed",
    ] {
        for (side, log) in [("client", &clog), ("server", &slog)] {
            assert!(
                log.iter().any(|(_, _, r)| *r == Rec::Other(name)),
                "no {name} in the {side}'s trace"
            );
        }
    }
}

#[test]
fn tracing_switches_off_at_run_time() {
    let log = Log::default();
    let mut a = endpoint(b"switch a seed.........", 4, &log);
    assert!(a.is_tracing());
    let old = a.set_trace_sink(None);
    assert!(old.is_some() && !a.is_tracing());
    a.connect(Instant::ZERO, addr(2)).unwrap();
    let mut buf = [0u8; 2048];
    assert!(a.poll_transmit(Instant::ZERO, &mut buf).is_some());
    assert!(log.lock().unwrap().is_empty(), "no sink, no events");
    a.set_trace_sink(old);
    a.handle_datagram(Instant::ZERO, addr(3), &mut [0xff; 2]);
    assert_eq!(log.lock().unwrap().len(), 1);
}

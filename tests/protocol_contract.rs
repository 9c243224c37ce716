//! The behaviours `docs/PROTOCOL.md` promises an independent implementation,
//! each pinned where it is observable from outside: close codes on the wire
//! both ways, closing without a CLOSE ping-pong, stream 0 open from the
//! start without an "opened" event, and data sent before HANDSHAKE_DONE
//! surviving a lost Finish (in the simulator).

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::Pair;
use stt::{CloseReason, Event, Instant, StreamEvent};

/// Header, tag and the CLOSE frame's fixed bytes around its code: a CLOSE
/// alone in a packet, with an empty reason, is this plus the code's varint.
const CLOSE_PACKET_BASE: usize = 13 + 16 + 1 + 1;

/// Datagrams `from_a` (or from b) sent from index `since` of `p.sent` on.
fn sent_since(p: &Pair, since: usize, from_a: bool) -> Vec<Vec<u8>> {
    p.sent[since..]
        .iter()
        .filter(|(a, _)| *a == from_a)
        .map(|(_, d)| d.clone())
        .collect()
}

#[test]
fn an_orderly_close_goes_out_as_application_code_0() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    p.drive();
    let before = p.sent.len();
    p.a.session_mut(sa).unwrap().close(0, b"");
    p.drive_until(Duration::from_secs(5), |p| {
        p.events_b.iter().any(|e| matches!(e, Event::Closed { .. }))
    });
    // One packet, the CLOSE alone: its code is a 2-byte varint, so the
    // wire code is 64..=16383, and the receiver reads application code 0
    // from it: 0x100 + 0 is the only such value.
    let closes = sent_since(&p, before, true);
    assert_eq!(closes.len(), 1, "one CLOSE: {closes:?}");
    assert_eq!(closes[0].len(), CLOSE_PACKET_BASE + 2);
    assert!(p.events_a.contains(&Event::Closed {
        session: sa,
        reason: CloseReason::Local { code: 0 }
    }));
    let why = p
        .events_b
        .iter()
        .find_map(|e| match e {
            Event::Closed { session, reason } if *session == sb => Some(reason.clone()),
            _ => None,
        })
        .expect("b saw the close");
    assert_eq!(
        why,
        CloseReason::Peer {
            code: 0,
            reason: Default::default()
        }
    );
}

/// A peer that follows the close-code table and closes with 0 (NoError):
/// an orderly close, reported like the application code 0, never as a
/// protocol error. The peer is the fuzz harness's [`RawPeer`], which runs
/// the real handshake and seals the CLOSE with the real packet key.
#[test]
fn a_received_close_code_0_is_an_orderly_close() {
    let now = Instant::from_millis(1_000);
    let a_addr: SocketAddr = "10.0.0.1:1000".parse().unwrap();
    let (mut b, mut peer) = common::raw_session(now, a_addr);
    peer.drain(&mut b, now);
    // CLOSE, code 0, empty reason.
    let mut close = peer.seal(&[0x04, 0x00, 0x00]);
    b.handle_datagram(now, a_addr, &mut close);
    let mut sb = None;
    let mut why = None;
    while let Some(e) = b.poll_event() {
        match e {
            Event::Accepted { session, .. } => sb = Some(session),
            Event::Closed { session, reason } if Some(session) == sb => why = Some(reason),
            _ => {}
        }
    }
    let sb = sb.expect("b accepted the raw peer");
    let why = why.expect("b closed");
    assert_eq!(
        why,
        CloseReason::Peer {
            code: 0,
            reason: Default::default()
        }
    );
    assert!(!why.to_string().contains("error"), "{why}");
    assert!(b.session(sb).is_none_or(|s| s.is_closed()), "b is draining");
}

#[test]
fn two_sides_closing_at_once_each_send_one_close() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    p.drive();
    let before = p.sent.len();
    p.a.session_mut(sa).unwrap().close(1, b"");
    p.b.session_mut(sb).unwrap().close(2, b"");
    // Until both sessions are gone: the closing period (three PTO).
    let gone = p.drive_until(Duration::from_secs(10), |p| {
        p.a.session(sa).is_none() && p.b.session(sb).is_none()
    });
    assert!(gone, "the sessions outlived their closing period");
    assert_eq!(sent_since(&p, before, true).len(), 1, "a sent one CLOSE");
    assert_eq!(sent_since(&p, before, false).len(), 1, "b sent one CLOSE");
    assert!(p.events_a.contains(&Event::Closed {
        session: sa,
        reason: CloseReason::Local { code: 1 }
    }));
}

#[test]
fn a_closing_side_answers_late_packets_with_its_close() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    p.drive();
    // b has data in flight when a closes: the packets that reach a after
    // its CLOSE each get the CLOSE again; b, once it has one, is silent.
    p.b.session_mut(sb)
        .unwrap()
        .send(0, vec![1u8; 20_000])
        .unwrap();
    let before = p.sent.len();
    p.a.session_mut(sa).unwrap().close(0, b"");
    let gone = p.drive_until(Duration::from_secs(10), |p| {
        p.a.session(sa).is_none() && p.b.session(sb).is_none()
    });
    assert!(gone);
    let from_b = sent_since(&p, before, false);
    let from_a = sent_since(&p, before, true);
    assert!(from_b.len() > 1, "b's data was in flight: {}", from_b.len());
    assert!(
        from_a.len() > 1 && from_a.len() <= from_b.len() + 1,
        "a answers each late packet at most once: {} for {}",
        from_a.len(),
        from_b.len()
    );
    assert!(from_a
        .iter()
        .all(|d| d.len() == CLOSE_PACKET_BASE + 2 && d[0] & 0x80 == 0));
    assert!(p.events_b.contains(&Event::Closed {
        session: sb,
        reason: CloseReason::Peer {
            code: 0,
            reason: Default::default()
        }
    }));
}

#[test]
fn stream_0_is_open_from_the_start_and_raises_no_opened_event() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    // Both sides have stream 0 before anything was sent on it.
    assert_eq!(p.a.session(sa).unwrap().stream_ids(), vec![0]);
    assert_eq!(p.b.session(sb).unwrap().stream_ids(), vec![0]);
    let s = p.a.session_mut(sa).unwrap();
    s.send(0, &b"on zero"[..]).unwrap();
    s.send(5, &b"on five"[..]).unwrap();
    p.drive();
    let stream_events: Vec<StreamEvent> = p
        .events_b
        .iter()
        .filter_map(|e| match e {
            Event::Stream { event, .. } => Some(*event),
            _ => None,
        })
        .collect();
    assert!(stream_events.contains(&StreamEvent::Opened(5)));
    assert!(!stream_events.contains(&StreamEvent::Opened(0)));
    assert!(stream_events.contains(&StreamEvent::Readable(0)));
    assert_eq!(p.recv_all_b(sb, 0), vec![b"on zero".to_vec()]);
    assert_eq!(p.recv_all_b(sb, 5), vec![b"on five".to_vec()]);
}

/// The initiator sends stream data as soon as it has keys, right behind
/// its Finish. With that Finish lost, the responder has no keys for those
/// packets and drops them unread; the initiator resends the Finish on its
/// timer and the data as lost data. Nothing is delivered twice, nothing
/// out of order, and no side closes.
#[cfg(feature = "sim")]
mod early_data {
    use std::collections::BTreeMap;
    use std::net::SocketAddr;
    use std::time::Duration;

    use bytes::Bytes;
    use stt::sim::{run_until, App, EndpointNode, LinkConfig, Network, Node};
    use stt::{Config, Endpoint, Event, Instant, StreamEvent, StreamId};

    const NET: &[u8] = b"protocol contract network key...";
    /// First byte of a Finish: long form, fixed bit, type 3.
    const FINISH: u8 = 0xc3;

    /// Records events and reads every message as it becomes readable.
    #[derive(Default)]
    struct Reader {
        events: Vec<Event>,
        got: BTreeMap<StreamId, Vec<Bytes>>,
    }

    impl App for Reader {
        fn on_wake(&mut self, _now: Instant, ep: &mut Endpoint) {
            while let Some(e) = ep.poll_event() {
                if let Event::Stream {
                    session,
                    event: StreamEvent::Readable(id),
                } = e
                {
                    if let Some(s) = ep.session_mut(session) {
                        while let Ok(Some(m)) = s.recv(id) {
                            self.got.entry(id).or_default().push(m);
                        }
                    }
                }
                self.events.push(e);
            }
        }
    }

    /// A node whose first Finish is lost on the way out, and which counts
    /// the short packets it sends before its next Finish.
    struct LoseFirstFinish {
        inner: EndpointNode<Reader>,
        finishes: u32,
        shorts_while_lost: u32,
    }

    impl Node for LoseFirstFinish {
        fn addr(&self) -> SocketAddr {
            self.inner.addr()
        }
        fn handle(&mut self, now: Instant, from: SocketAddr, data: Bytes) {
            self.inner.handle(now, from, data)
        }
        fn poll_send(&mut self, now: Instant) -> Option<(SocketAddr, Vec<u8>)> {
            loop {
                let (to, d) = self.inner.poll_send(now)?;
                if d[0] == FINISH {
                    self.finishes += 1;
                    if self.finishes == 1 {
                        continue;
                    }
                } else if d[0] & 0x80 == 0 && self.finishes == 1 {
                    self.shorts_while_lost += 1;
                }
                return Some((to, d));
            }
        }
        fn next_timeout(&self) -> Option<Instant> {
            self.inner.next_timeout()
        }
        fn on_timeout(&mut self, now: Instant) {
            self.inner.on_timeout(now)
        }
    }

    fn addr(n: u8) -> SocketAddr {
        SocketAddr::from(([10, 0, 0, n], 7000 + u16::from(n)))
    }

    fn node(seed: u8, at: SocketAddr) -> LoseFirstFinish {
        let cfg = Config::builder(&[seed; 32], NET).build().unwrap();
        LoseFirstFinish {
            inner: EndpointNode::new(Endpoint::new(cfg, [seed; 32]), at, Reader::default()),
            finishes: 0,
            shorts_while_lost: 0,
        }
    }

    fn message(stream: StreamId, i: usize) -> Bytes {
        let len = 700 + (i * 397) % 2500;
        (0..len)
            .map(|k| (k + i * 31 + stream as usize) as u8)
            .collect::<Vec<u8>>()
            .into()
    }

    #[test]
    fn data_queued_before_handshake_done_survives_a_lost_finish() {
        let (a, b) = (addr(1), addr(2));
        let mut net = Network::new([3; 32]);
        net.set_default_link(LinkConfig::default().with_latency(Duration::from_millis(20)))
            .unwrap();
        let mut nodes = [node(1, a), node(2, b)];
        // Queued at connect time: everything goes out right behind the
        // Finish, on stream 0 and on two streams the initiator opens.
        let mut sent: BTreeMap<StreamId, Vec<Bytes>> = BTreeMap::new();
        let sa = nodes[0].inner.with(|ep, _| {
            let sa = ep.connect(Instant::ZERO, b).unwrap();
            let s = ep.session_mut(sa).unwrap();
            for i in 0..30 {
                for id in [0, 3, 8] {
                    let m = message(id, i);
                    s.send(id, m.clone()).unwrap();
                    sent.entry(id).or_default().push(m);
                }
            }
            sa
        });
        let total: usize = sent.values().map(Vec::len).sum();
        let end = run_until(
            &mut net,
            &mut nodes,
            Instant::ZERO,
            Instant::from_millis(30_000),
            |_, n| {
                let got: usize = n[1].inner.app.got.values().map(Vec::len).sum();
                got >= total
                    && n[0]
                        .inner
                        .endpoint()
                        .session(sa)
                        .is_some_and(|s| s.is_flushed())
            },
        )
        .unwrap();
        let [na, nb] = &nodes;
        assert!(na.finishes >= 2, "the Finish was resent: {}", na.finishes);
        assert!(
            na.shorts_while_lost > 0,
            "data went out behind the lost Finish"
        );
        assert_eq!(nb.inner.app.got, sent, "every message once, in order");
        assert!(end < Instant::from_millis(30_000), "finished at {end}");
        for (who, n) in [("initiator", na), ("responder", nb)] {
            assert!(
                !n.inner
                    .app
                    .events
                    .iter()
                    .any(|e| matches!(e, Event::Closed { .. } | Event::ConnectFailed { .. })),
                "{who} closed: {:?}",
                n.inner.app.events
            );
        }
        assert!(na.inner.endpoint().session(sa).unwrap().is_established());
        let sb = nb.inner.endpoint().sessions().next().unwrap();
        assert!(nb.inner.endpoint().session(sb).unwrap().is_established());
    }
}

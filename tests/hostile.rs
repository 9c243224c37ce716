//! Adversarial peers against a real endpoint. Each attack has a typed
//! outcome: the datagram is dropped and counted, or the session closes with
//! a `CloseReason::Violation` the application reads (and the attacker gets a
//! CLOSE with the matching wire code).
//!
//! The attacker holds the network key and runs the real handshake by hand
//! (`RawPeer`, shared with the fuzz harness), then seals whatever frames it
//! likes with the real keys: no test hook in the core is involved.

#[path = "../fuzz/src/harness/raw_peer.rs"]
#[allow(dead_code)]
mod raw_peer;

use std::net::SocketAddr;
use std::time::Duration;

use raw_peer::{close_codes, encode_frames, initial, initial_with_token, RawPeer};
use stt::__private::wire::{
    Frame, Frames, LongType, Packet, StreamHeader, TransportParams, Writer,
};
use stt::{
    CloseReason, Config, Endpoint, Event, Instant, SessionId, StreamError, StreamEvent,
    StreamLimits, Violation,
};

const NET: &[u8] = b"hostile-test-network-seed-32byte";
const ATTACKER: &[u8] = b"attacker-node-seed-32-bytes.....";

fn limits() -> StreamLimits {
    let mut limits = StreamLimits::default();
    limits.max_streams = 8;
    limits.max_message_size = 10_000;
    limits.stream_window = 16_000;
    limits.max_stream_window = 16_000;
    limits.session_window = 40_000;
    limits.max_session_window = 40_000;
    limits.max_send_queue = 1 << 20;
    limits.max_session_buffer = 40_000 + 10_000;
    limits
}

fn config() -> stt::ConfigBuilder {
    Config::builder(b"server-node-seed-32-bytes.......", NET)
        .streams(limits())
        .max_sessions(8)
        .max_half_open(2)
        .handshake_timeout(Duration::from_secs(2))
}

fn addr(i: u32) -> SocketAddr {
    let [_, b, c, d] = i.to_be_bytes();
    SocketAddr::from(([10, b, c, d], 4000))
}

fn t0() -> Instant {
    Instant::from_millis(1_000)
}

/// The attacked endpoint, its session with the attacker, and the attacker.
struct Scene {
    ep: Endpoint,
    sb: SessionId,
    peer: RawPeer,
    now: Instant,
    events: Vec<Event>,
}

impl Scene {
    fn new() -> Scene {
        Scene::with(config().build().unwrap(), TransportParams::DEFAULT)
    }

    fn with(cfg: Config, params: TransportParams) -> Scene {
        let mut ep = Endpoint::new(cfg, [9; 32]);
        let peer = RawPeer::connect(&mut ep, t0(), addr(1), ATTACKER, NET, params).unwrap();
        let mut s = Scene {
            ep,
            sb: SessionId(0),
            peer,
            now: t0(),
            events: Vec::new(),
        };
        s.pump();
        s.sb = s
            .events
            .iter()
            .find_map(|e| match e {
                Event::Accepted { session, .. } => Some(*session),
                _ => None,
            })
            .expect("accepted");
        s
    }

    /// Lets the endpoint transmit (to the attacker) and collects events;
    /// returns the frames the attacker received.
    fn pump(&mut self) -> Vec<Vec<u8>> {
        let got = self.peer.drain(&mut self.ep, self.now);
        while let Some(e) = self.ep.poll_event() {
            self.events.push(e);
        }
        got
    }

    fn send(&mut self, frames: &[Frame<'_>]) -> Vec<Vec<u8>> {
        self.peer.send(&mut self.ep, self.now, frames);
        self.pump()
    }

    fn send_raw(&mut self, plain: &[u8]) -> Vec<Vec<u8>> {
        let mut d = self.peer.seal(plain);
        self.ep.handle_datagram(self.now, self.peer.addr, &mut d);
        self.pump()
    }

    fn closed(&self) -> Option<&CloseReason> {
        self.events.iter().find_map(|e| match e {
            Event::Closed { session, reason } if *session == self.sb => Some(reason),
            _ => None,
        })
    }

    /// Asserts the session closed for `v` and the attacker was told.
    fn assert_violation(&self, v: Violation, sent_to_attacker: &[Vec<u8>]) {
        assert_eq!(
            self.closed(),
            Some(&CloseReason::Violation(v)),
            "{:?}",
            self.events
        );
        assert_eq!(close_codes(sent_to_attacker), vec![v.wire_code()]);
        assert!(self.ep.session(self.sb).is_some_and(|s| s.is_closed()));
    }

    fn advance(&mut self, d: Duration) {
        let end = self.now + d;
        while let Some(t) = self.ep.poll_timeout().filter(|t| *t <= end) {
            self.now = self.now.max(t);
            self.ep.handle_timeout(self.now);
            self.pump();
        }
        self.now = end;
        self.ep.handle_timeout(self.now);
        self.pump();
    }
}

/// A STREAM frame: `data` at `frag_offset` of message `seq` (`msg_len`
/// bytes) starting at stream offset `start`.
fn fragment(
    stream: u32,
    start: u64,
    seq: u64,
    msg_len: u64,
    frag_offset: u64,
    data: &[u8],
) -> Vec<u8> {
    let h = StreamHeader {
        stream_id: stream,
        offset: start + frag_offset,
        seq,
        msg_len,
        frag_offset,
    };
    let mut out = vec![0u8; h.encoded_len(data.len(), true)];
    h.encode(&mut Writer::new(&mut out), data, true).unwrap();
    out
}

#[test]
fn honest_raw_peer_is_served() {
    let mut s = Scene::new();
    let got = s.send_raw(&fragment(3, 0, 0, 5, 0, b"hello"));
    assert!(close_codes(&got).is_empty());
    let sess = s.ep.session_mut(s.sb).unwrap();
    assert_eq!(sess.recv(3).unwrap().as_deref(), Some(&b"hello"[..]));
    assert!(s.events.contains(&Event::Stream {
        session: s.sb,
        event: StreamEvent::Opened(3)
    }));
}

#[test]
fn data_past_the_stream_window_is_a_flow_control_violation() {
    let mut s = Scene::new();
    // Window 16 000 units; a fragment ending at 16 001 crosses it.
    let got = s.send_raw(&fragment(1, 0, 0, 10_000, 9_000, &[1; 1000]));
    assert!(close_codes(&got).is_empty(), "within the window");
    let got = s.send_raw(&fragment(1, 10_001, 1, 6_000, 0, &[2; 6_000]));
    s.assert_violation(Violation::FlowControl, &got);
}

#[test]
fn data_past_the_session_window_is_a_flow_control_violation() {
    let mut s = Scene::new();
    // Five streams of 9 000 units each stay under each stream's window but
    // cross the session's 40 000.
    let mut got = Vec::new();
    for id in 1..=5 {
        got = s.send_raw(&fragment(id, 0, 0, 9_000, 0, &[id as u8; 9_000]));
        if s.closed().is_some() {
            break;
        }
    }
    s.assert_violation(Violation::FlowControl, &got);
}

#[test]
fn opening_streams_past_the_limit_is_a_stream_limit_violation() {
    let mut s = Scene::new();
    let mut got = Vec::new();
    for id in 1..=20u32 {
        got = s.send_raw(&fragment(id, 0, 0, 1, 0, b"x"));
        if s.closed().is_some() {
            // Stream 0 plus seven opened ones fill the limit of 8.
            assert_eq!(id, 8);
            break;
        }
        assert!(s.ep.session(s.sb).unwrap().stats().streams <= 8);
    }
    s.assert_violation(Violation::StreamLimit, &got);
}

#[test]
fn overlapping_fragments_with_different_bytes_are_inconsistent() {
    // The same bytes twice are fine.
    let mut s = Scene::new();
    s.send_raw(&fragment(1, 0, 0, 100, 0, &[b'a'; 60]));
    let got = s.send_raw(&fragment(1, 0, 0, 100, 40, &[b'a'; 60]));
    assert!(close_codes(&got).is_empty());
    assert_eq!(
        s.ep.session_mut(s.sb)
            .unwrap()
            .recv(1)
            .unwrap()
            .unwrap()
            .len(),
        100
    );
    // Different bytes over the overlap are not.
    let mut s = Scene::new();
    s.send_raw(&fragment(1, 0, 0, 100, 0, &[b'a'; 60]));
    let got = s.send_raw(&fragment(1, 0, 0, 100, 40, &[b'b'; 60]));
    s.assert_violation(Violation::Inconsistent, &got);
}

#[test]
fn fragments_disagreeing_on_the_message_are_inconsistent() {
    let mut s = Scene::new();
    s.send_raw(&fragment(1, 0, 0, 100, 0, &[1; 10]));
    let got = s.send_raw(&fragment(1, 0, 0, 120, 50, &[1; 10]));
    s.assert_violation(Violation::Inconsistent, &got);
}

#[test]
fn acknowledging_packets_never_sent_is_an_invalid_ack() {
    let mut s = Scene::new();
    let never_sent = std::iter::once(0..1001u64).collect::<Vec<_>>();
    let mut ack = vec![0u8; stt::__private::wire::ack_len(0, &never_sent)];
    stt::__private::wire::encode_ack(&mut Writer::new(&mut ack), 0, &never_sent).unwrap();
    let got = s.send_raw(&ack);
    s.assert_violation(Violation::InvalidAck, &got);
}

#[test]
fn message_over_the_size_limit_is_refused_both_ways() {
    // Peer to us: a fragment of an 10 001-byte message.
    let mut s = Scene::new();
    let got = s.send_raw(&fragment(1, 0, 0, 10_001, 0, &[0; 100]));
    s.assert_violation(Violation::MessageTooLarge, &got);
    // Us to the peer: its announced maximum holds on send.
    let params = TransportParams {
        max_message_size: 1_000,
        ..TransportParams::DEFAULT
    };
    let mut s = Scene::with(config().build().unwrap(), params);
    let sess = s.ep.session_mut(s.sb).unwrap();
    assert_eq!(
        sess.send(0, vec![0u8; 1_001]),
        Err(StreamError::MessageTooLarge {
            size: 1_001,
            max: 1_000
        })
    );
    assert!(sess.send(0, vec![0u8; 1_000]).is_ok());
}

#[test]
fn unknown_frames_and_forbidden_frames_are_protocol_violations() {
    let mut s = Scene::new();
    let got = s.send_raw(&[0x3f]);
    s.assert_violation(Violation::Protocol, &got);
    // HANDSHAKE_DONE may only come from the responder; the endpoint is it.
    let mut s = Scene::new();
    let got = s.send(&[Frame::HandshakeDone]);
    s.assert_violation(Violation::Protocol, &got);
}

#[test]
fn replayed_and_too_old_packets_are_dropped_and_counted() {
    let mut s = Scene::new();
    let ping = encode_frames(&[Frame::Ping]);
    let early = s.peer.seal_pn(5, &ping);
    for pn in 0..10 {
        let mut d = s.peer.seal_pn(pn, &ping);
        s.ep.handle_datagram(s.now, s.peer.addr, &mut d);
    }
    // Far ahead (a gap is legal), then the old and the duplicate.
    let far = s.peer.seal_pn(3_000, &ping);
    s.ep.handle_datagram(s.now, s.peer.addr, &mut far.clone());
    let before = s.ep.session(s.sb).unwrap().stats();
    s.ep.handle_datagram(s.now, s.peer.addr, &mut early.clone());
    s.ep.handle_datagram(s.now, s.peer.addr, &mut far.clone());
    let after = s.ep.session(s.sb).unwrap().stats();
    assert_eq!(after.replays_dropped, before.replays_dropped + 2);
    assert_eq!(after.packets_received, before.packets_received);
    s.pump();
    assert!(s.closed().is_none(), "the session goes on");
    // Tampered: dropped and counted as a decrypt failure.
    let mut bad = s.peer.seal_pn(3_001, &ping);
    let last = bad.len() - 1;
    bad[last] ^= 1;
    s.ep.handle_datagram(s.now, s.peer.addr, &mut bad);
    assert_eq!(s.ep.session(s.sb).unwrap().stats().decrypt_failures, 1);
}

#[test]
fn sending_after_close_changes_nothing() {
    // The application closes: the attacker's data is answered with CLOSE only.
    let mut s = Scene::new();
    s.ep.session_mut(s.sb).unwrap().close(4, b"go away");
    let got = s.pump();
    assert_eq!(close_codes(&got), vec![0x104]);
    let events = s.events.len();
    let got = s.send_raw(&fragment(2, 0, 0, 3, 0, b"hey"));
    assert_eq!(close_codes(&got), vec![0x104], "told again");
    assert_eq!(
        s.events.len(),
        events,
        "no stream opened, nothing delivered"
    );
    // Once the closing period is over the session is forgotten, and what
    // the attacker sends is counted as for no session.
    s.advance(Duration::from_secs(5));
    assert!(s.ep.session(s.sb).is_none());
    let unknown = s.ep.stats().unknown_session;
    s.send_raw(&fragment(2, 0, 0, 3, 0, b"hey"));
    assert_eq!(s.ep.stats().unknown_session, unknown + 1);

    // The attacker closes: the endpoint drains silently.
    let mut s = Scene::new();
    let got = s.send(&[Frame::Close {
        code: 0x100 + 7,
        reason: b"bye",
    }]);
    assert!(got.is_empty());
    assert!(matches!(
        s.closed(),
        Some(CloseReason::Peer { code: 7, .. })
    ));
    let events = s.events.len();
    let got = s.send_raw(&fragment(2, 0, 0, 3, 0, b"hey"));
    assert!(got.is_empty(), "silent while draining");
    assert_eq!(s.events.len(), events);
}

#[test]
fn late_acknowledgements_do_not_keep_a_closed_session_past_the_idle_timeout() {
    // The attacker acknowledges a packet only 25 s after it was sent (with
    // PINGs meanwhile, so the session stays alive): the round-trip estimate
    // and with it three PTO grow past a minute. Once closed, the session is
    // still forgotten within the 30 s idle timeout, not held for 3 PTO.
    let mut s = Scene::new();
    s.ep.session_mut(s.sb)
        .unwrap()
        .send(1, &b"ping me"[..])
        .unwrap();
    s.pump();
    let first = *s.peer.received.iter().max().unwrap();
    for _ in 0..25 {
        s.now += Duration::from_secs(1);
        s.send(&[Frame::Ping]);
    }
    let only_first = first..first + 1;
    let ranges = [only_first];
    let mut ack = vec![0u8; stt::__private::wire::ack_len(0, &ranges)];
    stt::__private::wire::encode_ack(&mut Writer::new(&mut ack), 0, &ranges).unwrap();
    s.send_raw(&ack);
    let rtt = s.ep.session(s.sb).unwrap().stats().rtt;
    assert!(rtt >= Duration::from_secs(20), "rtt {rtt:?}");
    let got = s.send_raw(&[0x3f]); // an unknown frame type
    s.assert_violation(Violation::Protocol, &got);
    s.advance(Duration::from_secs(31));
    assert!(s.ep.session(s.sb).is_none(), "gone after the idle timeout");
}

/// Copies of one real Initial under different source session ids (the id
/// sits outside the Noise message, so one message 1 serves them all).
fn flood(n: u32) -> impl Iterator<Item = (SocketAddr, Vec<u8>)> {
    let template = initial(ATTACKER, NET, SessionId(1), [5; 32]);
    (0..n).map(move |i| {
        let mut d = template.clone();
        d[13..21].copy_from_slice(&(u64::from(i) + 1).to_be_bytes());
        (addr(i), d)
    })
}

#[test]
fn initials_under_another_network_key_leave_no_state() {
    let mut ep = Endpoint::new(config().build().unwrap(), [9; 32]);
    let other = b"some-other-network-seed-32-bytes";
    let mut d = initial(ATTACKER, other, SessionId(77), [3; 32]);
    ep.handle_datagram(t0(), addr(1), &mut d);
    assert_eq!(ep.stats().handshakes_rejected, 1);
    assert_eq!(ep.sessions().count(), 0);
    assert!(
        ep.poll_transmit(t0(), &mut [0u8; 2048]).is_none(),
        "no answer"
    );
}

#[test]
fn initial_flood_from_many_addresses_stays_within_the_caps() {
    let cfg = config().build().unwrap();
    let mut ep = Endpoint::new(cfg, [9; 32]);
    let now = t0();
    let mut buf = vec![0u8; 2048];
    let mut retries = Vec::new();
    let (mut in_bytes, mut out_bytes) = (0, 0);
    for (from, mut d) in flood(1_000) {
        in_bytes += d.len();
        ep.handle_datagram(now, from, &mut d);
        while let Some(t) = ep.poll_transmit(now, &mut buf) {
            out_bytes += t.len;
            if let Ok(Packet::Long { header, .. }) = Packet::parse(&buf[..t.len]) {
                if header.ty == LongType::Retry {
                    retries.push((t.destination, header.dst, header.token.to_vec()));
                }
            }
        }
        assert!(ep.sessions().count() <= 2, "half-open cap");
    }
    let st = ep.stats();
    assert_eq!(st.sessions_accepted, 2);
    assert_eq!(st.retries_sent, 998);
    assert_eq!(retries.len(), 998);
    assert!(
        out_bytes < in_bytes,
        "answers are smaller than the flood: {out_bytes} vs {in_bytes}"
    );
    // Flooders that echo their cookies (they own their addresses) get state
    // up to twice the cap, then nothing.
    for (to, src, token) in retries.iter().take(10) {
        let mut d = initial_with_token(ATTACKER, NET, *src, [1; 32], token);
        ep.handle_datagram(now, *to, &mut d);
        while ep.poll_transmit(now, &mut buf).is_some() {}
        assert!(ep.sessions().count() <= 4, "twice the cap with cookies");
    }
    assert_eq!(ep.sessions().count(), 4);
    assert_eq!(ep.stats().initials_dropped, 8);
    // A forged or stale cookie earns another Retry, not state.
    let (to, src, mut token) = retries[500].clone();
    token[5] ^= 1;
    let mut d = initial_with_token(ATTACKER, NET, src, [1; 32], &token);
    ep.handle_datagram(now, to, &mut d);
    assert_eq!(ep.stats().retries_sent, 999);
    // Half-open sessions expire with the handshake timeout.
    ep.handle_timeout(now + Duration::from_secs(3));
    assert_eq!(ep.sessions().count(), 0, "half-open state is freed");
}

#[test]
fn legitimate_client_connects_through_a_flood_with_a_cookie() {
    let server = config().build().unwrap();
    let mut ep = Endpoint::new(server, [9; 32]);
    let mut buf = vec![0u8; 2048];
    let now = t0();
    for (from, mut d) in flood(100) {
        ep.handle_datagram(now, from, &mut d);
        while ep.poll_transmit(now, &mut buf).is_some() {}
    }
    assert_eq!(ep.sessions().count(), 2);
    // A real client: its first Initial gets a Retry, the second gets in.
    let client_cfg = Config::builder(b"client-node-seed-32-bytes.......", NET)
        .build()
        .unwrap();
    let mut client = Endpoint::new(client_cfg, [4; 32]);
    let (caddr, saddr) = (addr(9_999), addr(20_000));
    let sc = client.connect(now, saddr).unwrap();
    let mut t = now;
    for _ in 0..50 {
        while let Some(x) = client.poll_transmit(t, &mut buf) {
            ep.handle_datagram(t, caddr, &mut buf[..x.len].to_vec());
        }
        while let Some(x) = ep.poll_transmit(t, &mut buf) {
            if x.destination == caddr {
                client.handle_datagram(t, saddr, &mut buf[..x.len].to_vec());
            }
        }
        t += Duration::from_millis(10);
        client.handle_timeout(t);
        ep.handle_timeout(t);
    }
    assert!(client.session(sc).is_some_and(|s| s.is_established()));
    assert_eq!(ep.stats().retries_sent, 99);
    assert!(ep.sessions().count() <= 4);
}

#[test]
fn partial_messages_past_the_session_budget_are_a_flow_control_violation() {
    // A peer leaves an unfinished message on every stream: 9 000 bytes of
    // 10 000 on each, every fragment in order and within both windows
    // (head progress releases credit, so flow control alone would let
    // 7 x 9 000 = 63 000 bytes in). The session's receive budget of 50 000
    // bytes closes the session at the first byte past it.
    let mut s = Scene::new();
    let l = limits();
    let chunk = vec![0x5a; 1_000];
    let mut crossed = None;
    'attack: for id in 1..l.max_streams as u32 {
        for k in 0..9u64 {
            let got = s.send_raw(&fragment(id, 0, 0, l.max_message_size, k * 1_000, &chunk));
            if s.closed().is_some() {
                s.assert_violation(Violation::FlowControl, &got);
                crossed = Some((id, k));
                break 'attack;
            }
            let sess = s.ep.session(s.sb).unwrap();
            let st = sess.stats();
            assert!(st.receive_buffered <= l.max_session_buffer);
            let per_stream: u64 = sess
                .stream_ids()
                .iter()
                .filter_map(|id| sess.stream_stats(*id))
                .map(|st| st.out_of_order.bytes)
                .sum();
            assert_eq!(st.receive_buffered, per_stream);
            if id == 5 && k == 8 {
                assert!(
                    st.receive_buffered > l.max_session_window,
                    "past the window"
                );
            }
        }
    }
    // 5 x 9 000 + 5 000 = 50 000 is the limit itself; the next 1 000 cross it.
    assert_eq!(crossed, Some((6, 5)));
}

/// Runs `f` on another thread; fails if it does not finish in 20 s.
fn within_20s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("did not finish: the endpoint spins")
}

#[test]
fn credit_ending_between_a_message_and_its_end_does_not_hang_the_sender() {
    // A peer whose credit covers a message's bytes but not its end unit
    // (1 001 bytes against 1 001 units) must not make poll_transmit spin,
    // whether the stream's or the session's credit ends there.
    for session_level in [false, true] {
        let sent = within_20s(move || {
            let params = if session_level {
                TransportParams {
                    max_data: 1_001,
                    ..TransportParams::DEFAULT
                }
            } else {
                TransportParams {
                    max_stream_data: 1_001,
                    ..TransportParams::DEFAULT
                }
            };
            let mut s = Scene::with(config().build().unwrap(), params);
            s.ep.session_mut(s.sb)
                .unwrap()
                .send(0, vec![7u8; 1_001])
                .unwrap();
            let mut bytes = stream_bytes(&s.pump());
            assert!(bytes < 1_001, "the last byte waits for credit");
            // More credit lets the rest go.
            let more = if session_level {
                Frame::MaxData(5_000)
            } else {
                Frame::MaxStreamData {
                    stream_id: 0,
                    max: 5_000,
                }
            };
            bytes += stream_bytes(&s.send(&[more]));
            bytes
        });
        assert_eq!(sent, 1_001, "session level: {session_level}");
    }
}

/// Data bytes in the STREAM frames of `plaintexts`.
fn stream_bytes(plaintexts: &[Vec<u8>]) -> usize {
    plaintexts
        .iter()
        .flat_map(|p| Frames::new(p).filter_map(Result::ok).collect::<Vec<_>>())
        .map(|f| match f {
            Frame::Stream(s) => s.data.len(),
            _ => 0,
        })
        .sum()
}

#[test]
fn stream_reset_by_the_peer_leaves_nothing_unacknowledged() {
    // The peer abandons a stream we are sending on: what we had queued will
    // never be acknowledged, and the session must not wait for it.
    let params = TransportParams {
        max_stream_data: 2_000,
        ..TransportParams::DEFAULT
    };
    let mut s = Scene::with(config().build().unwrap(), params);
    s.ep.session_mut(s.sb)
        .unwrap()
        .send(5, vec![1u8; 9_000])
        .unwrap();
    s.pump();
    assert!(
        !s.ep.session(s.sb).unwrap().is_flushed(),
        "blocked by credit"
    );
    s.send(&[Frame::StreamReset {
        stream_id: 5,
        code: 9,
        final_offset: 0,
        final_seq: 0,
    }]);
    assert!(s.events.contains(&Event::Stream {
        session: s.sb,
        event: StreamEvent::Reset(5, 9)
    }));
    let ack = s.peer.ack_plaintext();
    s.send_raw(&ack);
    let sess = s.ep.session(s.sb).unwrap();
    assert_eq!(sess.stream_stats(5).map(|x| x.unacked), Some(0));
    assert!(sess.is_flushed(), "nothing left to wait for");
}

#[test]
fn closing_a_stream_keeps_the_senders_credit_moving() {
    // The application closes a stream the peer is still sending a large
    // message on. What arrives is dropped, but the peer must get credit to
    // finish (there is no STOP_SENDING), or it would block for ever.
    let mut s = Scene::new();
    let msg = 10_000u64;
    let mut at = 0;
    // Fill most of the 16 000-unit window with message 0 and part of 1.
    s.send_raw(&fragment(1, 0, 0, msg, 0, &[1; 1_000]));
    s.send_raw(&fragment(1, 0, 0, msg, 1_000, &[1; 9_000]));
    s.send_raw(&fragment(1, msg + 1, 1, msg, 0, &[2; 5_000]));
    s.ep.session_mut(s.sb).unwrap().close_stream(1).unwrap();
    let got = s.pump();
    let credit = got
        .iter()
        .flat_map(|p| Frames::new(p).filter_map(Result::ok).collect::<Vec<_>>())
        .filter_map(|f| match f {
            Frame::MaxStreamData { stream_id: 1, max } => Some(max),
            _ => None,
        })
        .max()
        .expect("credit for the closed stream");
    assert!(credit > 16_000, "past the initial window: {credit}");
    // The rest of message 1 (up to the new credit) is taken and dropped.
    while at < 5_000 {
        let got = s.send_raw(&fragment(1, msg + 1, 1, msg, 5_000 + at, &[2; 1_000]));
        assert!(close_codes(&got).is_empty(), "no violation");
        at += 1_000;
    }
    assert!(s.closed().is_none());
    assert!(
        s.ep.session(s.sb).unwrap().stream(1).is_none(),
        "closed for the application"
    );
}

fn skip(stream_id: u32, offset: u64, seq: u64) -> Frame<'static> {
    Frame::StreamSkip {
        stream_id,
        offset,
        seq,
    }
}

#[test]
fn a_skip_past_a_gap_delivers_what_follows_and_counts_the_skipped() {
    let mut s = Scene::new();
    // Message 0 (10 bytes, units 0..11) arrives in part; message 1 whole.
    s.send_raw(&fragment(1, 0, 0, 10, 0, &[1; 4]));
    let got = s.send_raw(&fragment(1, 11, 1, 3, 0, b"one"));
    assert!(close_codes(&got).is_empty());
    let sess = s.ep.session_mut(s.sb).unwrap();
    assert_eq!(sess.recv(1).unwrap(), None, "held behind the gap");
    let got = s.send(&[skip(1, 11, 1)]);
    assert!(close_codes(&got).is_empty());
    let sess = s.ep.session_mut(s.sb).unwrap();
    assert_eq!(sess.recv(1).unwrap().as_deref(), Some(&b"one"[..]));
    let st = sess.stream_stats(1).unwrap();
    assert_eq!((st.messages_received, st.messages_skipped), (1, 1));
    assert_eq!(st.out_of_order.bytes, 0, "the abandoned bytes are dropped");
    // The same skip again, or an older one, is stale: ignored.
    let got = s.send(&[skip(1, 11, 1), skip(1, 0, 0)]);
    assert!(close_codes(&got).is_empty());
    assert!(s.closed().is_none());
}

#[test]
fn a_skip_beyond_the_final_offset_is_inconsistent() {
    let mut s = Scene::new();
    s.send(&[Frame::StreamFin {
        stream_id: 1,
        final_offset: 10,
        final_seq: 2,
    }]);
    let got = s.send(&[skip(1, 11, 2)]);
    s.assert_violation(Violation::Inconsistent, &got);
    // Past the final sequence number, too.
    let mut s = Scene::new();
    s.send(&[Frame::StreamFin {
        stream_id: 1,
        final_offset: 10,
        final_seq: 2,
    }]);
    let got = s.send(&[skip(1, 10, 3)]);
    s.assert_violation(Violation::Inconsistent, &got);
}

#[test]
fn a_skip_backwards_is_inconsistent() {
    let mut s = Scene::new();
    // Message 0 (units 0..6) delivered and read; a skip to message 2 at
    // offset 3 would put two messages inside units already consumed.
    s.send_raw(&fragment(1, 0, 0, 5, 0, b"hello"));
    assert!(s.ep.session_mut(s.sb).unwrap().recv(1).unwrap().is_some());
    let got = s.send(&[skip(1, 3, 2)]);
    s.assert_violation(Violation::Inconsistent, &got);
}

#[test]
fn a_skip_on_an_unknown_stream_opens_it_within_its_window() {
    let mut s = Scene::new();
    let got = s.send(&[skip(7, 100, 5)]);
    assert!(close_codes(&got).is_empty());
    assert!(s.events.contains(&Event::Stream {
        session: s.sb,
        event: StreamEvent::Opened(7)
    }));
    // Delivery goes on at message 5.
    s.send_raw(&fragment(7, 100, 5, 2, 0, b"ok"));
    let sess = s.ep.session_mut(s.sb).unwrap();
    assert_eq!(sess.recv(7).unwrap().as_deref(), Some(&b"ok"[..]));
    assert_eq!(sess.stream_stats(7).unwrap().messages_skipped, 5);
    // Past the stream's window it is a flow-control violation.
    let got = s.send(&[skip(8, 16_001, 1)]);
    s.assert_violation(Violation::FlowControl, &got);
}

#[test]
fn a_skip_to_more_messages_than_units_is_a_protocol_violation() {
    let mut s = Scene::new();
    // STREAM_SKIP stream 1, offset 1, sequence 2: malformed on its face.
    let got = s.send_raw(&[0x32, 0x01, 0x01, 0x02]);
    s.assert_violation(Violation::Protocol, &got);
}

#[test]
fn a_peer_that_reads_no_skips_gets_deadline_messages_reliably() {
    // The attacker's parameters leave `stream_skip` out.
    let mut s = Scene::new();
    let now = s.now;
    let sess = s.ep.session_mut(s.sb).unwrap();
    sess.send_with(1, &b"late"[..], stt::SendOptions::new().deadline(now))
        .unwrap();
    let got = s.pump();
    assert_eq!(stream_bytes(&got), 4, "sent although its deadline passed");
    s.advance(Duration::from_millis(300));
    assert!(!s.events.iter().any(|e| matches!(
        e,
        Event::Stream {
            event: StreamEvent::MessageExpired { .. },
            ..
        }
    )));
}

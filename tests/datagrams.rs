//! Unreliable datagrams between two endpoints in memory: negotiation and
//! its typed errors, delivery and fate reports, the bounded queues, and a
//! hostile peer sending DATAGRAM frames it was not offered.

mod common;

use std::time::Duration;

use common::raw_peer::{close_codes, RawPeer};
use common::{config, Fate, Pair, NET};
use stt::__private::wire::{Frame, Frames, TransportParams};
use stt::{
    close_code, CloseReason, DatagramError, DatagramEvent, DatagramLimits, DatagramOptions,
    Endpoint, Event, Instant, Violation,
};

fn no_datagrams() -> DatagramLimits {
    let mut l = DatagramLimits::default();
    l.max_frame_size = 0;
    l
}

fn datagram_events(events: &[Event]) -> Vec<DatagramEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Datagram { event, .. } => Some(*event),
            _ => None,
        })
        .collect()
}

#[test]
fn datagrams_arrive_and_their_fates_are_reported() {
    let mut p = Pair::default_pair();
    let sa = p.a.connect(p.now, p.b_addr).unwrap();
    assert_eq!(
        p.a.session_mut(sa).unwrap().send_datagram(&b"early"[..]),
        Err(DatagramError::NotEstablished)
    );
    assert_eq!(p.a.session(sa).unwrap().max_datagram_payload(), None);
    p.a.session_mut(sa).unwrap().close(0, b"");
    p.drive();
    p.events_a.clear();
    p.events_b.clear();
    let (sa, sb) = p.connect();
    let a = p.a.session_mut(sa).unwrap();
    let max = a.max_datagram_payload().unwrap();
    // One packet at the base size (1200) less header, tag and frame.
    assert!((1100..1200).contains(&max), "{max}");
    let followed = DatagramOptions::new().report_fate(true);
    let id0 = a.send_datagram_with(&b"one"[..], followed).unwrap();
    let id1 = a.send_datagram(&b"two"[..]).unwrap();
    assert_eq!((id0.get(), id1.get()), (0, 1));
    let full = vec![7u8; max];
    a.send_datagram(full.clone()).unwrap();
    assert_eq!(
        a.send_datagram(vec![0u8; max + 1]),
        Err(DatagramError::TooLarge { size: max + 1, max })
    );
    p.drive();
    let b = p.b.session_mut(sb).unwrap();
    let got: Vec<_> = std::iter::from_fn(|| b.recv_datagram()).collect();
    assert_eq!(got, [&b"one"[..], &b"two"[..], &full[..]]);
    assert_eq!(datagram_events(&p.events_b), [DatagramEvent::Readable]);
    assert_eq!(
        datagram_events(&p.events_a),
        [DatagramEvent::Acknowledged(id0)],
        "only the followed one is reported"
    );
    let sa_stats = p.a.session(sa).unwrap().stats();
    assert_eq!((sa_stats.datagrams_sent, sa_stats.datagrams_acked), (3, 3));
    assert_eq!(p.b.session(sb).unwrap().stats().datagrams_received, 3);
    // The rate and RTT an encoder would follow.
    let a = p.a.session(sa).unwrap();
    assert!(a.rtt() >= Duration::from_millis(20), "{:?}", a.rtt());
    assert!(a.delivery_rate() > 0);
    assert_eq!(a.stats().delivery_rate, a.delivery_rate());
}

#[test]
fn a_lost_datagram_is_reported_and_never_resent() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    // Drop a->b packets carrying a DATAGRAM frame of 300 bytes (the ones
    // this test sends) for as long as the filter is in place.
    p.filter = Some(Box::new(|a_to_b, d| {
        if a_to_b && d.len() > 300 {
            Fate::Drop
        } else {
            Fate::Deliver
        }
    }));
    let followed = DatagramOptions::new().report_fate(true);
    let id =
        p.a.session_mut(sa)
            .unwrap()
            .send_datagram_with(vec![1u8; 300], followed)
            .unwrap();
    // A stream message after it, so acknowledgements show the loss.
    p.a.session_mut(sa).unwrap().send(0, &b"after"[..]).unwrap();
    p.drive();
    p.filter = None;
    p.drive();
    assert_eq!(datagram_events(&p.events_a), [DatagramEvent::Lost(id)]);
    assert_eq!(p.b.session_mut(sb).unwrap().recv_datagram(), None);
    let s = p.a.session(sa).unwrap().stats();
    assert_eq!(
        (s.datagrams_sent, s.datagrams_lost, s.datagrams_acked),
        (1, 1, 0)
    );
    assert_eq!(p.recv_all_b(sb, 0), [b"after".to_vec()]);
}

#[test]
fn a_peer_that_accepts_none_gets_a_typed_error() {
    let b = config("b").datagrams(no_datagrams()).build().unwrap();
    let mut p = Pair::new(config("a").build().unwrap(), b);
    let (sa, sb) = p.connect();
    let a = p.a.session_mut(sa).unwrap();
    assert_eq!(a.max_datagram_payload(), None);
    assert_eq!(a.send_datagram(&b"x"[..]), Err(DatagramError::NotAccepted));
    // The other direction was offered: b may send to a.
    let b = p.b.session_mut(sb).unwrap();
    b.send_datagram(&b"back"[..]).unwrap();
    p.drive();
    assert_eq!(
        p.a.session_mut(sa).unwrap().recv_datagram().as_deref(),
        Some(&b"back"[..])
    );
    p.a.session_mut(sa).unwrap().close(0, b"");
    assert_eq!(
        p.a.session_mut(sa).unwrap().send_datagram(&b"x"[..]),
        Err(DatagramError::SessionClosed)
    );
}

#[test]
fn a_sender_far_faster_than_the_link_holds_only_the_bound() {
    let mut limits = DatagramLimits::default();
    limits.send_queue_len = 64;
    limits.send_queue_bytes = 32 << 10;
    let a = config("a").datagrams(limits).build().unwrap();
    let mut p = Pair::new(a, config("b").build().unwrap());
    let (sa, sb) = p.connect();
    let followed = DatagramOptions::new().report_fate(true);
    let mut ids = Vec::new();
    for i in 0..10_000u32 {
        let s = p.a.session_mut(sa).unwrap();
        ids.push(s.send_datagram_with(vec![i as u8; 1000], followed).unwrap());
        let st = s.stats();
        assert!(st.datagrams_queued <= 64 && st.datagram_queue_bytes <= 32 << 10);
        // An application that reads its events as it goes.
        p.events_a.extend(std::iter::from_fn(|| p.a.poll_event()));
    }
    let st = p.a.session(sa).unwrap().stats();
    assert_eq!(st.datagrams_queued, 32, "32 KiB of 1000-byte datagrams");
    assert_eq!(st.datagrams_send_dropped, 10_000 - 32);
    // Deliver what is queued; then every datagram has exactly one fate.
    p.drive_until(Duration::from_secs(5), |p| {
        p.a.session(sa).unwrap().stats().datagrams_queued == 0
    });
    p.drive();
    let fates = datagram_events(&p.events_a);
    assert_eq!(fates.len(), 10_000);
    assert!(fates[..10_000 - 32]
        .iter()
        .zip(&ids)
        .all(|(f, id)| *f == DatagramEvent::Dropped(*id)));
    let b = p.b.session_mut(sb).unwrap();
    let got: Vec<_> = std::iter::from_fn(|| b.recv_datagram()).collect();
    assert_eq!(got.len(), 32);
    assert_eq!(
        got[0][0],
        ((10_000 - 32) % 256) as u8,
        "the newest were kept"
    );
}

#[test]
fn expired_datagrams_are_dropped_unsent() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    let now = p.now;
    let a = p.a.session_mut(sa).unwrap();
    let late = DatagramOptions::new()
        .deadline(now + Duration::from_millis(5))
        .report_fate(true);
    // Nothing is transmitted between these calls: the deadline passes
    // while the datagram waits.
    let id = a.send_datagram_with(&b"stale"[..], late).unwrap();
    p.now = now + Duration::from_millis(6);
    p.a.handle_timeout(p.now);
    p.drive();
    assert_eq!(datagram_events(&p.events_a), [DatagramEvent::Expired(id)]);
    assert_eq!(p.a.session(sa).unwrap().stats().datagrams_expired, 1);
    assert_eq!(p.a.session(sa).unwrap().stats().datagrams_sent, 0);
    assert_eq!(p.b.session_mut(sb).unwrap().recv_datagram(), None);
}

#[test]
fn the_receive_queue_drops_the_oldest_past_its_bound() {
    let mut limits = DatagramLimits::default();
    limits.recv_queue_len = 4;
    let b = config("b").datagrams(limits).build().unwrap();
    let mut p = Pair::new(config("a").build().unwrap(), b);
    let (sa, sb) = p.connect();
    for i in 0..10u8 {
        p.a.session_mut(sa).unwrap().send_datagram(vec![i]).unwrap();
    }
    p.drive_until(Duration::from_secs(5), |p| {
        p.b.session(sb).unwrap().stats().datagrams_received == 10
    });
    let b = p.b.session_mut(sb).unwrap();
    let got: Vec<_> = std::iter::from_fn(|| b.recv_datagram()).collect();
    assert_eq!(got, [vec![6], vec![7], vec![8], vec![9]]);
    assert_eq!(b.stats().datagrams_recv_dropped, 6);
}

#[test]
fn priority_puts_datagrams_ahead_of_a_bulk_stream() {
    let mut p = Pair::default_pair();
    let (sa, _) = p.connect();
    let a = p.a.session_mut(sa).unwrap();
    a.send(0, vec![0u8; 200_000]).unwrap();
    a.set_datagram_priority(1000).unwrap();
    assert_eq!(
        a.set_datagram_priority(1001),
        Err(DatagramError::InvalidPriority(1001))
    );
    a.send_datagram(&b"urgent"[..]).unwrap();
    // The first packet that carries payload carries the datagram.
    let mut buf = vec![0u8; 2000];
    while p.a.session(sa).unwrap().stats().datagrams_sent == 0 {
        p.a.poll_transmit(p.now, &mut buf)
            .expect("the window has room");
    }
    // Stream credit used so far: at most the rest of that one packet.
    let st = p.a.session(sa).unwrap().stream_stats(0).unwrap();
    let window = stt::StreamLimits::default().stream_window;
    assert!(window - st.send_window < 1200, "{st:?}");
}

/// An endpoint whose session with a raw peer is established; `limits` are
/// the endpoint's, `params` what the peer announces.
fn raw(limits: DatagramLimits, params: TransportParams) -> (Endpoint, RawPeer, Instant) {
    let now = Instant::from_millis(1_000);
    let cfg = config("b").datagrams(limits).build().unwrap();
    let mut ep = Endpoint::new(cfg, [2; 32]);
    let seed = format!("{:-<32}", "a");
    let addr = "10.9.0.1:4000".parse().unwrap();
    let peer = RawPeer::connect(&mut ep, now, addr, seed.as_bytes(), NET, params).unwrap();
    (ep, peer, now)
}

fn closed_for(ep: &mut Endpoint) -> Option<CloseReason> {
    std::iter::from_fn(|| ep.poll_event()).find_map(|e| match e {
        Event::Closed { reason, .. } => Some(reason),
        _ => None,
    })
}

#[test]
fn hostile_datagram_not_offered_is_a_protocol_violation() {
    let (mut ep, mut peer, now) = raw(no_datagrams(), TransportParams::DEFAULT);
    peer.drain(&mut ep, now);
    peer.send(&mut ep, now, &[Frame::Datagram(b"unasked")]);
    let out = peer.drain(&mut ep, now);
    assert_eq!(close_codes(&out), [close_code::PROTOCOL_VIOLATION]);
    assert_eq!(
        closed_for(&mut ep),
        Some(CloseReason::Violation(Violation::Protocol))
    );
}

#[test]
fn hostile_datagram_larger_than_offered_is_a_protocol_violation() {
    let mut small = DatagramLimits::default();
    small.max_frame_size = 100;
    let (mut ep, mut peer, now) = raw(small, TransportParams::DEFAULT);
    peer.drain(&mut ep, now);
    // 97 bytes: a 100-byte frame (type, 1-byte... 2-byte length, data) is
    // within the limit; 98 is not.
    peer.send(&mut ep, now, &[Frame::Datagram(&[1; 97])]);
    assert!(close_codes(&peer.drain(&mut ep, now)).is_empty());
    peer.send(&mut ep, now, &[Frame::Datagram(&[1; 98])]);
    assert_eq!(
        close_codes(&peer.drain(&mut ep, now)),
        [close_code::PROTOCOL_VIOLATION]
    );
    assert_eq!(
        closed_for(&mut ep),
        Some(CloseReason::Violation(Violation::Protocol))
    );
}

#[test]
fn sending_to_a_peer_that_did_not_announce_datagrams_is_an_error_not_a_frame() {
    // The raw peer's parameters leave the datagram size out: 0, none.
    let (mut ep, mut peer, now) = raw(DatagramLimits::default(), TransportParams::DEFAULT);
    let id = ep.sessions().next().unwrap();
    let s = ep.session_mut(id).unwrap();
    assert_eq!(s.send_datagram(&b"x"[..]), Err(DatagramError::NotAccepted));
    let sent = peer.drain(&mut ep, now);
    assert!(sent
        .iter()
        .flat_map(|p| Frames::new(p).filter_map(Result::ok).collect::<Vec<_>>())
        .all(|f| !matches!(f, Frame::Datagram(_))));
    // With the parameter, the same call goes through.
    let params = TransportParams {
        max_datagram_frame_size: 500,
        ..TransportParams::DEFAULT
    };
    let (mut ep, mut peer, now) = raw(DatagramLimits::default(), params);
    let id = ep.sessions().next().unwrap();
    let s = ep.session_mut(id).unwrap();
    assert_eq!(s.max_datagram_payload(), Some(497), "the peer's limit");
    s.send_datagram(&b"x"[..]).unwrap();
    let sent = peer.drain(&mut ep, now);
    assert!(sent
        .iter()
        .flat_map(|p| Frames::new(p).filter_map(Result::ok).collect::<Vec<_>>())
        .any(|f| f == Frame::Datagram(b"x")));
}

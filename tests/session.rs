//! Sessions end to end: handshake, a message each way, close, wrong keys,
//! tampering, replay and determinism, on two endpoints in memory.

mod common;

use std::time::Duration;

use common::{config, Fate, Pair};
use stt::{CloseReason, Config, Event};

#[test]
fn handshake_message_each_way_and_close_seen_by_both() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    let a_node = p.a.node_id();
    let b_node = p.b.node_id();
    assert_eq!(p.a.session(sa).unwrap().remote_node(), Some(b_node));
    assert_eq!(p.b.session(sb).unwrap().remote_node(), Some(a_node));

    p.a.session_mut(sa)
        .unwrap()
        .send(0, &b"hello from a"[..])
        .unwrap();
    p.b.session_mut(sb)
        .unwrap()
        .send(0, &b"hello from b"[..])
        .unwrap();
    p.drive();
    assert_eq!(p.recv_all_b(sb, 0), vec![b"hello from a".to_vec()]);
    assert_eq!(p.recv_all_a(sa, 0), vec![b"hello from b".to_vec()]);

    p.a.session_mut(sa).unwrap().close(7, b"bye");
    p.drive_until(Duration::from_secs(5), |p| {
        p.b.session(sb).is_none() && p.a.session(sa).is_none()
    });
    assert!(p.events_a.contains(&Event::Closed {
        session: sa,
        reason: CloseReason::Local { code: 7 }
    }));
    assert!(p.events_b.iter().any(|e| matches!(e,
        Event::Closed { session, reason: CloseReason::Peer { code: 7, reason } }
            if *session == sb && &reason[..] == b"bye")));
    assert!(
        p.a.session(sa).is_none() && p.b.session(sb).is_none(),
        "both sides forget the session"
    );
}

#[test]
fn wrong_shared_seed_fails_cleanly() {
    let a = Config::builder(b"node-a--------------------------", b"one network key!!!!!")
        .build()
        .unwrap();
    let b = config("b").build().unwrap();
    let mut p = Pair::new(a, b);
    let sa = p.a.connect(p.now, p.b_addr).unwrap();
    p.drive_until(Duration::from_secs(30), |p| !p.events_a.is_empty());
    assert_eq!(
        p.events_a,
        vec![Event::ConnectFailed {
            session: sa,
            reason: CloseReason::HandshakeTimeout
        }]
    );
    assert!(p.events_b.is_empty());
    assert_eq!(p.b.sessions().count(), 0, "the responder kept no state");
    assert!(p.b.stats().handshakes_rejected >= 1);
    assert!(p.a.session(sa).is_none());
}

#[test]
fn tampered_packet_is_dropped_and_counted_session_goes_on() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    // Flip one ciphertext bit of the next short packet a sends.
    let mut armed = true;
    p.filter = Some(Box::new(move |a_to_b, d| {
        if a_to_b && armed && d[0] & 0x80 == 0 && d.len() > 20 {
            armed = false;
            d[15] ^= 1;
        }
        Fate::Deliver
    }));
    p.a.session_mut(sa).unwrap().send(0, &b"first"[..]).unwrap();
    p.drive();
    assert_eq!(p.b.session(sb).unwrap().stats().decrypt_failures, 1);
    assert_eq!(
        p.recv_all_b(sb, 0),
        vec![b"first".to_vec()],
        "retransmitted after the loss"
    );
    p.a.session_mut(sa)
        .unwrap()
        .send(0, &b"second"[..])
        .unwrap();
    p.drive();
    assert_eq!(p.recv_all_b(sb, 0), vec![b"second".to_vec()]);
}

#[test]
fn replayed_packet_is_dropped_and_counted_session_goes_on() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    p.a.session_mut(sa).unwrap().send(0, &b"once"[..]).unwrap();
    p.drive();
    assert_eq!(p.recv_all_b(sb, 0), vec![b"once".to_vec()]);
    let replay: Vec<Vec<u8>> = p
        .sent
        .iter()
        .filter(|(a_to_b, d)| *a_to_b && d[0] & 0x80 == 0)
        .map(|(_, d)| d.clone())
        .collect();
    assert!(!replay.is_empty());
    for d in replay {
        p.inject(true, d);
    }
    let stats = p.b.session(sb).unwrap().stats();
    assert!(stats.replays_dropped >= 1, "{stats:?}");
    assert_eq!(
        p.recv_all_b(sb, 0),
        Vec::<Vec<u8>>::new(),
        "delivered exactly once"
    );
    p.a.session_mut(sa).unwrap().send(0, &b"after"[..]).unwrap();
    p.drive();
    assert_eq!(p.recv_all_b(sb, 0), vec![b"after".to_vec()]);
}

fn run_exchange() -> Vec<(bool, Vec<u8>)> {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    p.a.session_mut(sa)
        .unwrap()
        .send(0, vec![5u8; 5000])
        .unwrap();
    p.b.session_mut(sb).unwrap().send(0, &b"pong"[..]).unwrap();
    p.drive();
    p.a.session_mut(sa).unwrap().close(0, b"");
    p.drive();
    p.sent
}

#[test]
fn same_seeds_same_inputs_give_identical_datagrams() {
    let first = run_exchange();
    let second = run_exchange();
    assert!(first.len() > 6);
    assert_eq!(first, second);
}

#[test]
fn idle_session_times_out_on_both_sides() {
    let a = config("a")
        .idle_timeout(Duration::from_secs(2))
        .keep_alive(None)
        .build()
        .unwrap();
    let b = config("b")
        .idle_timeout(Duration::from_secs(2))
        .keep_alive(None)
        .build()
        .unwrap();
    let mut p = Pair::new(a, b);
    let (sa, sb) = p.connect();
    p.drive_until(Duration::from_secs(10), |p| {
        p.a.session(sa).is_none() && p.b.session(sb).is_none()
    });
    assert!(p.events_a.contains(&Event::Closed {
        session: sa,
        reason: CloseReason::IdleTimeout
    }));
    assert!(p.events_b.contains(&Event::Closed {
        session: sb,
        reason: CloseReason::IdleTimeout
    }));
}

#[test]
fn keep_alive_holds_an_idle_session_open() {
    let a = config("a")
        .idle_timeout(Duration::from_secs(3))
        .keep_alive(Some(Duration::from_secs(1)))
        .build()
        .unwrap();
    let b = config("b")
        .idle_timeout(Duration::from_secs(3))
        .build()
        .unwrap();
    let mut p = Pair::new(a, b);
    let (sa, sb) = p.connect();
    p.drive_until(Duration::from_secs(20), |_| false);
    assert!(p.a.session(sa).unwrap().is_established());
    assert!(p.b.session(sb).unwrap().is_established());
}

//! Stateless reset in simulated time: a node restarted with the same
//! identity ends its peer's session within a round trip; forged tokens end
//! nothing; two nodes that both lost state do not answer each other's
//! resets; the rate limit holds; handshake packets are never answered.

mod common;

use std::time::Duration;

use common::{config, Pair};
use stt::__private::wire::{peek_dst, MAX_RESET_LEN, MIN_RESET_LEN};
use stt::{CloseReason, Endpoint, Event, SessionId};

/// A connected pair that exchanged one message (latency 10 ms each way).
fn connected() -> (Pair, SessionId, SessionId) {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    p.a.session_mut(sa).unwrap().send(0, &b"hello"[..]).unwrap();
    assert_eq!(p.drive_reading_b(sb, 0), [b"hello".to_vec()]);
    (p, sa, sb)
}

/// b loses every session: a new endpoint with the same configuration
/// (identity, hence reset key) and another seed takes its place.
fn restart_b(p: &mut Pair) {
    p.b = Endpoint::new(config("b").build().unwrap(), [9; 32]);
}

fn closed_reason(events: &[Event], session: SessionId) -> Option<CloseReason> {
    events.iter().find_map(|e| match e {
        Event::Closed { session: s, reason } if *s == session => Some(reason.clone()),
        _ => None,
    })
}

#[test]
fn a_restarted_peer_ends_the_session_within_one_round_trip() {
    let (mut p, sa, _) = connected();
    restart_b(&mut p);
    let restart = p.now;
    let sent_before = p.sent.len();
    p.a.session_mut(sa)
        .unwrap()
        .send(0, vec![7u8; 100_000])
        .unwrap();
    let ended = p.drive_until(Duration::from_secs(5), |p| {
        closed_reason(&p.events_a, sa).is_some()
    });
    assert!(ended, "a's session still up: {:?}", p.events_a);
    assert_eq!(
        closed_reason(&p.events_a, sa),
        Some(CloseReason::StatelessReset)
    );
    let took = p.now.saturating_duration_since(restart);
    let rtt = p.latency * 2;
    assert!(
        took <= rtt,
        "closed {took:?} after the restart (RTT {rtt:?})"
    );
    assert!(p.a.session(sa).is_none(), "gone at once, no close period");
    assert!(p.b.stats().stateless_resets_sent >= 1);
    // What b sent: resets only, each PING/ACK-sized and shorter than
    // anything a sent it.
    let from_b: Vec<usize> = p.sent[sent_before..]
        .iter()
        .filter(|(a_to_b, _)| !a_to_b)
        .map(|(_, d)| d.len())
        .collect();
    assert!(!from_b.is_empty());
    assert!(from_b
        .iter()
        .all(|n| (MIN_RESET_LEN..=MAX_RESET_LEN).contains(n)));
    // a says nothing more to b once the session is gone.
    let quiet_from = p.sent.len();
    p.drive_until(Duration::from_secs(1), |_| false);
    assert!(p.sent[quiet_from..].iter().all(|(a_to_b, _)| !a_to_b));
}

#[test]
fn a_reset_that_names_the_session_is_recognised_too() {
    // A reset whose header happens to name the session's id reaches the
    // session itself, fails to open, and is recognised by its tail.
    let (mut p, sa, _) = connected();
    let old = p
        .sent
        .iter()
        .rev()
        .find(|(a_to_b, d)| *a_to_b && d[0] & 0x80 == 0 && d.len() > MAX_RESET_LEN)
        .map(|(_, d)| d.clone())
        .unwrap();
    restart_b(&mut p);
    p.inject(true, old);
    let mut buf = vec![0u8; 2048];
    let t = p.b.poll_transmit(p.now, &mut buf).expect("a reset");
    let mut reset = buf[..t.len].to_vec();
    reset[1..9].copy_from_slice(&sa.0.to_be_bytes());
    assert!(p.a.session(sa).unwrap().is_established());
    p.inject(false, reset);
    assert_eq!(
        closed_reason(&p.events_a, sa),
        Some(CloseReason::StatelessReset)
    );
    assert!(p.a.session(sa).is_none());
}

#[test]
fn an_idle_session_learns_of_the_restart_from_its_keep_alive() {
    let keep_alive = Duration::from_secs(1);
    let a = config("a").keep_alive(Some(keep_alive)).build().unwrap();
    let mut p = Pair::new(a, config("b").build().unwrap());
    let (sa, _) = p.connect();
    p.drive();
    restart_b(&mut p);
    let restart = p.now;
    // Nothing to send: only a's keep-alive reaches the restarted b. A
    // step runs at the time `p.now` had when the last check saw it (the
    // step then moves the clock on to the next thing due).
    let mut stepped_at = p.now;
    p.drive_until(Duration::from_secs(10), |p| {
        let closed = closed_reason(&p.events_a, sa).is_some();
        if !closed {
            stepped_at = p.now;
        }
        closed
    });
    assert_eq!(
        closed_reason(&p.events_a, sa),
        Some(CloseReason::StatelessReset)
    );
    let took = stepped_at.saturating_duration_since(restart);
    assert!(took <= keep_alive + p.latency * 2, "{took:?}");
    // The keep-alive was the smallest datagram b answers.
    let (_, ping) = p.sent.iter().rev().find(|(a_to_b, _)| *a_to_b).unwrap();
    assert_eq!(ping.len(), MAX_RESET_LEN + 1);
}

#[test]
fn the_reset_key_can_be_set_and_must_match_across_the_restart() {
    // With a stored reset key on both runs, the restart is recognised.
    let key = [0x42; 32];
    let cfg_b = || config("b").reset_key(key).build().unwrap();
    let mut p = Pair::new(config("a").build().unwrap(), cfg_b());
    let (sa, _) = p.connect();
    p.b = Endpoint::new(cfg_b(), [9; 32]);
    p.a.session_mut(sa)
        .unwrap()
        .send(0, vec![1u8; 5_000])
        .unwrap();
    p.drive_until(Duration::from_secs(1), |p| {
        closed_reason(&p.events_a, sa).is_some()
    });
    assert_eq!(
        closed_reason(&p.events_a, sa),
        Some(CloseReason::StatelessReset)
    );

    // Restarted with another key, b's resets mean nothing to a, whose
    // session ends only by its idle timeout.
    let mut p = Pair::new(config("a").build().unwrap(), cfg_b());
    let (sa, _) = p.connect();
    p.b = Endpoint::new(config("b").reset_key([0x43; 32]).build().unwrap(), [9; 32]);
    p.a.session_mut(sa)
        .unwrap()
        .send(0, vec![1u8; 5_000])
        .unwrap();
    p.drive_until(Duration::from_secs(5), |p| {
        closed_reason(&p.events_a, sa).is_some()
    });
    assert!(p.b.stats().stateless_resets_sent >= 1);
    assert_eq!(closed_reason(&p.events_a, sa), None, "still waiting");
    assert!(p.a.session(sa).unwrap().is_established());
}

#[test]
fn forged_tokens_end_nothing() {
    let (mut p, sa, sb) = connected();
    // An off-path attacker who knows the addresses and even both session
    // ids guesses tokens: reset-shaped datagrams, from b's address, with a
    // random dst or a's id in the header.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..20_000u32 {
        let len = MIN_RESET_LEN + (i as usize % 30);
        let mut d: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        d[0] = 0x40 | (d[0] & 0x20);
        if i % 2 == 0 {
            d[1..9].copy_from_slice(&sa.0.to_be_bytes());
        }
        p.inject(false, d);
    }
    assert!(p.a.session(sa).unwrap().is_established());
    assert_eq!(closed_reason(&p.events_a, sa), None);
    // The session still carries data both ways.
    p.a.session_mut(sa)
        .unwrap()
        .send(0, &b"still here"[..])
        .unwrap();
    assert_eq!(p.drive_reading_b(sb, 0), [b"still here".to_vec()]);
}

#[test]
fn two_nodes_that_lost_state_do_not_answer_each_others_resets() {
    let (mut p, sa, _) = connected();
    p.a.session_mut(sa)
        .unwrap()
        .send(0, vec![3u8; 20_000])
        .unwrap();
    p.drive();
    // A large packet of the old session, as a replaying attacker or a late
    // copy would deliver it, once both sides restarted.
    let old = p
        .sent
        .iter()
        .find(|(a_to_b, d)| *a_to_b && d.len() > 1000 && d[0] & 0x80 == 0)
        .map(|(_, d)| d.clone())
        .unwrap();
    p.a = Endpoint::new(config("a").build().unwrap(), [8; 32]);
    restart_b(&mut p);
    let before = p.sent.len();
    p.inject(true, old);
    p.drive_until(Duration::from_secs(5), |_| false);
    let after: Vec<(bool, usize)> = p.sent[before..]
        .iter()
        .map(|(a_to_b, d)| (*a_to_b, d.len()))
        .collect();
    // b answers once; a, which knows no session either, answers nothing.
    assert_eq!(after.len(), 1, "{after:?}");
    assert!(!after[0].0);
    assert!(after[0].1 <= MAX_RESET_LEN);
    assert_eq!(p.a.stats().stateless_resets_sent, 0);
    assert_eq!(p.a.stats().unknown_session, 1);
}

#[test]
fn datagrams_that_could_be_resets_are_never_answered() {
    let mut p = Pair::default_pair();
    for len in MIN_RESET_LEN - 5..=MAX_RESET_LEN + 1 {
        let mut d = vec![0x40u8; len];
        d[1..9].copy_from_slice(&0x1234u64.to_be_bytes());
        p.inject(true, d);
    }
    let mut buf = vec![0u8; 2048];
    let t = p.b.poll_transmit(p.now, &mut buf).expect("the 41-byte one");
    assert!(t.len <= MAX_RESET_LEN);
    assert_eq!(buf[0] & 0xc0, 0x40, "a short header");
    assert!(p.b.poll_transmit(p.now, &mut buf).is_none());
    assert_eq!(p.b.stats().stateless_resets_sent, 1);
}

#[test]
fn handshake_packets_for_unknown_sessions_are_never_answered() {
    let (mut p, _, _) = connected();
    // Every long-header packet of the handshake, after b lost the session.
    let long: Vec<Vec<u8>> = p
        .sent
        .iter()
        .filter(|(_, d)| d[0] & 0x80 != 0)
        .map(|(_, d)| d.clone())
        .collect();
    assert!(long.len() >= 3);
    restart_b(&mut p);
    p.a = Endpoint::new(config("a").build().unwrap(), [8; 32]);
    for d in long {
        let (_, dst) = peek_dst(&d).unwrap();
        if dst.0 != 0 {
            // Response and Finish name a session; the Initial would start one.
            p.inject(true, d.clone());
            p.inject(false, d);
        }
    }
    assert_eq!(p.a.stats().stateless_resets_sent, 0);
    assert_eq!(p.b.stats().stateless_resets_sent, 0);
}

#[test]
fn resets_are_rate_limited() {
    let cfg = config("b").stateless_resets_per_sec(10).build().unwrap();
    let mut p = Pair::new(config("a").build().unwrap(), cfg);
    let unknown = |i: u64| {
        let mut d = vec![0x40u8; 1200];
        d[1..9].copy_from_slice(&(0x5000 + i).to_be_bytes());
        d
    };
    for i in 0..1_000 {
        p.inject(true, unknown(i));
    }
    assert_eq!(p.b.stats().stateless_resets_sent, 10);
    assert_eq!(p.b.stats().unknown_session, 1_000);
    // A second later, another second's worth.
    p.now += Duration::from_secs(1);
    for i in 0..1_000 {
        p.inject(true, unknown(i));
    }
    assert_eq!(p.b.stats().stateless_resets_sent, 20);
    // Rate 0: never.
    let cfg = config("b").stateless_resets_per_sec(0).build().unwrap();
    let mut p = Pair::new(config("a").build().unwrap(), cfg);
    p.inject(true, unknown(1));
    assert_eq!(p.b.stats().stateless_resets_sent, 0);
}

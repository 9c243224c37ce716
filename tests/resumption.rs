//! Session tickets and the resumed handshake, end to end over the
//! in-memory pair: a ticket after a full handshake, a resumed session
//! with the same identities, single use, and the fallback to the full
//! handshake inside the same exchange when a ticket is refused.

mod common;

use common::{config, Fate, Pair};
use std::time::Duration;

use stt::{Event, SessionId};

/// Connects and waits until a's ticket store has the ticket b sent (the
/// handshake's confirmations are acknowledged).
fn connect_and_settle(p: &mut Pair) -> (SessionId, SessionId) {
    p.events_a.clear();
    p.events_b.clear();
    let ids = p.connect();
    p.drive_until(Duration::from_millis(500), |_| false);
    ids
}

fn long_types(p: &Pair, from_a: bool) -> Vec<u8> {
    p.sent
        .iter()
        .filter(|(a, d)| *a == from_a && d[0] & 0x80 != 0)
        .map(|(_, d)| d[0] & 0x0f)
        .collect()
}

#[test]
fn a_ticket_resumes_the_next_session_with_the_same_identities() {
    let mut p = Pair::default_pair();
    let (sa, sb) = connect_and_settle(&mut p);
    assert_eq!(p.b.stats().tickets_issued, 1);
    assert!(!p.a.session(sa).unwrap().is_resumed());
    let node_b = p.a.session(sa).unwrap().remote_node();
    let node_a = p.b.session(sb).unwrap().remote_node();
    p.sent.clear();
    let (sa2, sb2) = connect_and_settle(&mut p);
    assert_eq!(p.a.stats().resumptions_attempted, 1);
    assert_eq!(p.b.stats().sessions_resumed, 1);
    assert_eq!(long_types(&p, true), vec![5], "one Resume, no Finish");
    assert_eq!(long_types(&p, false), vec![6], "one Resumed");
    let a2 = p.a.session(sa2).unwrap();
    let b2 = p.b.session(sb2).unwrap();
    assert!(a2.is_resumed() && b2.is_resumed());
    assert_eq!(a2.remote_node(), node_b);
    assert_eq!(b2.remote_node(), node_a);
    // Data flows both ways.
    p.a.session_mut(sa2).unwrap().send(0, &b"ping"[..]).unwrap();
    p.drive_until(Duration::from_millis(200), |_| false);
    assert_eq!(p.recv_all_b(sb2, 0), vec![b"ping".to_vec()]);
    p.b.session_mut(sb2).unwrap().send(0, &b"pong"[..]).unwrap();
    p.drive_until(Duration::from_millis(200), |_| false);
    assert_eq!(p.recv_all_a(sa2, 0), vec![b"pong".to_vec()]);
    // The resumed session gave a fresh ticket: a third session resumes too.
    assert_eq!(p.b.stats().tickets_issued, 2);
    let (sa3, _) = connect_and_settle(&mut p);
    assert!(p.a.session(sa3).unwrap().is_resumed());
    assert_eq!(p.b.stats().sessions_resumed, 2);
    assert_eq!(p.b.stats().tickets_refused, 0);
}

#[test]
fn a_restarted_responder_refuses_the_ticket_and_the_full_handshake_goes_on_at_once() {
    let mut p = Pair::default_pair();
    connect_and_settle(&mut p);
    // b restarts: a new endpoint (new seed, so new ticket keys) on the
    // same address.
    p.b = stt::Endpoint::new(config("b").build().unwrap(), [9; 32]);
    p.sent.clear();
    let (sa, sb) = connect_and_settle(&mut p);
    assert_eq!(p.a.stats().resumptions_attempted, 1);
    assert_eq!(p.b.stats().tickets_refused, 1);
    assert_eq!(p.b.stats().sessions_resumed, 0);
    // Resume, then Finish: the Response answered the full handshake the
    // Resume carried, no extra round trip.
    assert_eq!(long_types(&p, true), vec![5, 3]);
    assert_eq!(long_types(&p, false), vec![2]);
    assert!(!p.a.session(sa).unwrap().is_resumed());
    assert!(p.b.session(sb).unwrap().remote_node().is_some());
    // And it left a fresh ticket behind.
    assert_eq!(p.b.stats().tickets_issued, 1);
}

#[test]
fn a_replayed_resume_is_refused_by_the_strike_register() {
    let mut p = Pair::default_pair();
    connect_and_settle(&mut p);
    p.sent.clear();
    connect_and_settle(&mut p);
    let resume = p
        .sent
        .iter()
        .find(|(a, d)| *a && d[0] == 0xc5)
        .map(|(_, d)| d.clone())
        .expect("a Resume was sent");
    let before = p.b.stats();
    // The same bytes from another address (the duplicate map is per
    // address): the ticket was used.
    let mut d = resume.clone();
    p.b.handle_datagram(p.now, "10.9.9.9:9".parse().unwrap(), &mut d);
    let after = p.b.stats();
    assert_eq!(after.sessions_resumed, before.sessions_resumed);
    assert_eq!(after.tickets_refused, before.tickets_refused + 1);
}

#[test]
fn a_lost_resumed_answer_is_sent_again_and_only_one_session_results() {
    let mut p = Pair::default_pair();
    connect_and_settle(&mut p);
    let mut dropped = false;
    p.filter = Some(Box::new(move |from_a, d: &mut Vec<u8>| {
        if !from_a && d[0] == 0xc6 && !dropped {
            dropped = true;
            return Fate::Drop;
        }
        Fate::Deliver
    }));
    let (sa, _) = connect_and_settle(&mut p);
    assert!(p.a.session(sa).unwrap().is_resumed());
    assert_eq!(p.b.stats().sessions_resumed, 1);
    assert_eq!(p.b.stats().tickets_refused, 0);
    let accepted = p
        .events_b
        .iter()
        .filter(|e| matches!(e, Event::Accepted { .. }))
        .count();
    assert_eq!(accepted, 1);
}

#[test]
fn tickets_off_means_full_handshakes() {
    let mut t = stt::TicketConfig::default();
    t.issue = false;
    let b = config("b").tickets(t).build().unwrap();
    let mut p = Pair::new(config("a").build().unwrap(), b);
    connect_and_settle(&mut p);
    let (sa, _) = connect_and_settle(&mut p);
    assert!(!p.a.session(sa).unwrap().is_resumed());
    assert_eq!(p.b.stats().tickets_issued, 0);
    assert_eq!(p.a.stats().resumptions_attempted, 0);
}

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

/// Connects with one early message on stream 0 and waits for b to read
/// it; returns a's session and b's events of this session.
fn connect_early(p: &mut Pair, msg: &'static [u8]) -> (SessionId, usize) {
    p.events_a.clear();
    p.events_b.clear();
    let c =
        p.a.connect_with_early(p.now, p.b_addr, &[(0, bytes::Bytes::from_static(msg))])
            .unwrap();
    p.drive_until(Duration::from_millis(500), |_| false);
    (c.session, c.early)
}

fn b_reads_all(p: &mut Pair) -> Vec<Vec<u8>> {
    let ids: Vec<SessionId> = p.b.sessions().collect();
    let mut out = Vec::new();
    for id in ids {
        out.extend(p.recv_all_b(id, 0));
    }
    out
}

#[test]
fn early_messages_arrive_flagged_once_and_a_replay_delivers_nothing() {
    let mut p = Pair::default_pair();
    connect_and_settle(&mut p);
    b_reads_all(&mut p);
    p.sent.clear();
    let (sa, early) = connect_early(&mut p, b"early request");
    assert_eq!(early, 1);
    assert!(p.a.session(sa).unwrap().is_resumed());
    let flagged: Vec<_> = p
        .events_b
        .iter()
        .filter_map(|e| match e {
            Event::EarlyMessages {
                stream, messages, ..
            } => Some((*stream, *messages)),
            _ => None,
        })
        .collect();
    assert_eq!(flagged, vec![(0, 1)]);
    assert_eq!(b_reads_all(&mut p), vec![b"early request".to_vec()]);
    // The same first flight again, from the same address and from another:
    // the ticket was used, so nothing is delivered and nothing flagged.
    let resume = p
        .sent
        .iter()
        .find(|(a, d)| *a && d[0] == 0xc5)
        .map(|(_, d)| d.clone())
        .unwrap();
    p.events_b.clear();
    for from in [p.a_addr, "10.9.9.9:9".parse().unwrap()] {
        let mut d = resume.clone();
        p.b.handle_datagram(p.now, from, &mut d);
    }
    p.drive_until(Duration::from_millis(500), |_| false);
    assert!(b_reads_all(&mut p).is_empty(), "delivered twice");
    assert!(!p
        .events_b
        .iter()
        .any(|e| matches!(e, Event::EarlyMessages { .. })));
}

#[test]
fn refused_early_messages_are_reported_and_sent_after_the_handshake() {
    let mut p = Pair::default_pair();
    connect_and_settle(&mut p);
    b_reads_all(&mut p);
    // A restart (default ticket keys, drawn from the seed): the ticket
    // and with it the early message are refused.
    p.b = stt::Endpoint::new(config("b").build().unwrap(), [9; 32]);
    let (sa, early) = connect_early(&mut p, b"early request");
    assert_eq!(early, 1, "it went early");
    assert!(!p.a.session(sa).unwrap().is_resumed());
    assert!(p.events_a.iter().any(|e| matches!(
        e,
        Event::EarlyRefused {
            stream: 0,
            messages: 1,
            ..
        }
    )));
    assert!(!p
        .events_b
        .iter()
        .any(|e| matches!(e, Event::EarlyMessages { .. })));
    assert_eq!(b_reads_all(&mut p), vec![b"early request".to_vec()]);
}

#[test]
fn with_a_stored_ticket_secret_a_restart_accepts_one_replay_flagged_as_early() {
    // The documented cost of honouring tickets across restarts.
    let secret = [42u8; 32];
    let b = || config("b").ticket_secret(secret).build().unwrap();
    let mut p = Pair::new(config("a").build().unwrap(), b());
    connect_and_settle(&mut p);
    b_reads_all(&mut p);
    p.sent.clear();
    connect_early(&mut p, b"early request");
    assert_eq!(b_reads_all(&mut p), vec![b"early request".to_vec()]);
    let resume = p
        .sent
        .iter()
        .find(|(a, d)| *a && d[0] == 0xc5)
        .map(|(_, d)| d.clone())
        .unwrap();
    // Restart with the same secret: the register is empty.
    p.b = stt::Endpoint::new(b(), [9; 32]);
    p.events_b.clear();
    let mut d = resume.clone();
    p.b.handle_datagram(p.now, p.a_addr, &mut d);
    assert!(p
        .events_b
        .iter()
        .chain(
            std::iter::from_fn(|| p.b.poll_event())
                .collect::<Vec<_>>()
                .iter()
        )
        .any(|e| matches!(e, Event::EarlyMessages { messages: 1, .. })));
    assert_eq!(b_reads_all(&mut p), vec![b"early request".to_vec()]);
    // Once: the restarted node's register now holds it.
    let mut d = resume;
    p.b.handle_datagram(p.now, "10.9.9.9:9".parse().unwrap(), &mut d);
    assert!(b_reads_all(&mut p).is_empty());
}

#[test]
fn a_ticket_seen_on_the_wire_cannot_be_burnt_or_used_by_a_forger() {
    let mut p = Pair::default_pair();
    connect_and_settle(&mut p);
    // Hold a's Resume back, forge one from its ticket, then deliver it.
    p.filter = Some(Box::new(|from_a, d: &mut Vec<u8>| {
        if from_a && d[0] == 0xc5 {
            Fate::Drop
        } else {
            Fate::Deliver
        }
    }));
    p.sent.clear();
    let sa = p.a.connect(p.now, p.b_addr).unwrap();
    p.drive_until(Duration::from_millis(1), |_| false);
    let real = p
        .sent
        .iter()
        .find(|(a, d)| *a && d[0] == 0xc5)
        .unwrap()
        .1
        .clone();
    // The Resume payload starts after the 21-byte header: ticket length
    // (2-byte varint), the ticket, then the resume message. Flip a bit of
    // the resume message: the ticket is intact, the proof of its secret
    // is not.
    let mut forged = real.clone();
    let msg_at = 21 + 2 + 132 + 2;
    forged[msg_at + 40] ^= 1;
    let before = p.b.stats();
    p.b.handle_datagram(p.now, "10.9.9.9:9".parse().unwrap(), &mut forged);
    let after = p.b.stats();
    assert_eq!(after.sessions_resumed, before.sessions_resumed);
    assert_eq!(after.tickets_refused, before.tickets_refused + 1);
    // Garbage in place of the ticket: refused, and the XX part from a
    // stranger's address builds at most a half-open handshake.
    let mut junk = real.clone();
    junk[24..40].fill(0x55);
    p.b.handle_datagram(p.now, "10.9.9.8:9".parse().unwrap(), &mut junk);
    assert_eq!(p.b.stats().tickets_refused, before.tickets_refused + 2);
    // What b answered went to the forgers' addresses: lost to a here.
    let mut buf = vec![0u8; 2048];
    while p.b.poll_transmit(p.now, &mut buf).is_some() {}
    // The real one still resumes: the forgeries burnt nothing.
    let mut d = real;
    p.b.handle_datagram(p.now, p.a_addr, &mut d);
    assert_eq!(p.b.stats().sessions_resumed, before.sessions_resumed + 1);
    assert_eq!(p.b.stats().tickets_refused, before.tickets_refused + 2);
    p.filter = None;
    p.drive_until(Duration::from_millis(500), |_| false);
    assert!(p.a.session(sa).unwrap().is_resumed());
}

/// Stream data bytes a's protected packets carried, per stream, from
/// the trace.
#[cfg(feature = "trace")]
mod wire_count {
    use std::sync::{Arc, Mutex};
    use stt::trace::{FrameInfo, TraceEvent, TraceSink};
    use stt::{Instant, SessionId};

    pub type Bytes = Arc<Mutex<u64>>;

    pub struct StreamBytes(pub Bytes);

    impl TraceSink for StreamBytes {
        fn event(&mut self, _: Instant, _: Option<SessionId>, ev: &TraceEvent<'_>) {
            if let TraceEvent::PacketSent { frames, .. } = ev {
                for f in frames.frames.iter() {
                    if let FrameInfo::Stream { stream: 0, len, .. } = f {
                        *self.0.lock().unwrap() += *len as u64;
                    }
                }
            }
        }
    }
}

#[cfg(feature = "trace")]
#[test]
fn an_accepted_early_message_goes_once_a_refused_one_once_after_the_handshake() {
    const MSG: &[u8] = &[7u8; 300];
    for refused in [false, true] {
        let mut p = Pair::default_pair();
        connect_and_settle(&mut p);
        b_reads_all(&mut p);
        if refused {
            p.b = stt::Endpoint::new(config("b").build().unwrap(), [9; 32]);
        }
        let counted = wire_count::Bytes::default();
        p.a.set_trace_sink(Some(Box::new(wire_count::StreamBytes(counted.clone()))));
        p.sent.clear();
        let (sa, early) = connect_early(&mut p, MSG);
        assert_eq!(early, 1);
        assert_eq!(p.a.session(sa).unwrap().is_resumed(), !refused);
        // The Resume carried the message in both cases.
        let resume = p.sent.iter().find(|(a, d)| *a && d[0] == 0xc5).unwrap();
        assert!(resume.1.len() > MSG.len());
        let after = *counted.lock().unwrap();
        if refused {
            assert_eq!(after, MSG.len() as u64, "sent again once, in 1-RTT");
        } else {
            assert_eq!(after, 0, "the accepting answer acknowledged it");
        }
        assert_eq!(b_reads_all(&mut p), vec![MSG.to_vec()], "delivered once");
        // Nothing of it is left to send, and the stream goes on from it.
        let s = p.a.session_mut(sa).unwrap();
        assert!(s.is_flushed());
        s.send(0, &b"next"[..]).unwrap();
        p.drive_until(Duration::from_millis(200), |_| false);
        assert_eq!(b_reads_all(&mut p), vec![b"next".to_vec()]);
    }
}

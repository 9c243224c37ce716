//! Endpoint tests that look inside: session ids, slot reuse, and the work
//! lists, driven by two endpoints passing datagrams in memory.

use alloc::vec::Vec;
use core::net::SocketAddr;
use core::time::Duration;

use super::*;

const A: &str = "10.0.0.1:1000";
const B: &str = "10.0.0.2:2000";

fn endpoint(seed: u8, max_sessions: usize) -> Endpoint {
    let cfg = Config::builder(&[seed; 32], &[9; 32])
        .max_sessions(max_sessions)
        .build()
        .unwrap();
    Endpoint::new(cfg, [seed; 32])
}

struct Two {
    a: Endpoint,
    b: Endpoint,
    now: Instant,
    /// Every datagram a sent, for replays.
    sent_by_a: Vec<Vec<u8>>,
}

impl Two {
    /// `n` sessions from a to b, not yet run.
    fn connect(&mut self, n: usize) -> Vec<SessionId> {
        let b_addr = B.parse().unwrap();
        (0..n)
            .map(|_| self.a.connect(self.now, b_addr).unwrap())
            .collect()
    }

    fn new(max_sessions: usize) -> Self {
        Two {
            a: endpoint(1, max_sessions),
            b: endpoint(2, max_sessions),
            now: Instant::ZERO,
            sent_by_a: Vec::new(),
        }
    }

    /// Moves datagrams both ways and runs timers, 1 ms a step, for `span`.
    fn run(&mut self, span: Duration) {
        let (a_addr, b_addr): (SocketAddr, SocketAddr) = (A.parse().unwrap(), B.parse().unwrap());
        let end = self.now + span;
        let mut buf = alloc::vec![0u8; 2048];
        while self.now < end {
            while let Some(t) = self.a.poll_transmit(self.now, &mut buf) {
                assert_eq!(t.destination, b_addr);
                self.sent_by_a.push(buf[..t.len].to_vec());
                self.b.handle_datagram(self.now, a_addr, &mut buf[..t.len]);
            }
            while let Some(t) = self.b.poll_transmit(self.now, &mut buf) {
                self.a.handle_datagram(self.now, b_addr, &mut buf[..t.len]);
            }
            for ep in [&mut self.a, &mut self.b] {
                if ep.poll_timeout().is_some_and(|t| t <= self.now) {
                    ep.handle_timeout(self.now);
                }
            }
            self.now += Duration::from_millis(1);
        }
    }
}

#[test]
fn ids_carry_their_slot_and_sessions_lists_them_ascending() {
    let mut p = Two::new(8);
    let b_addr = B.parse().unwrap();
    let ids = p.connect(8);
    assert_eq!(
        p.a.connect(p.now, b_addr).unwrap_err(),
        ConnectError::TooManySessions
    );
    for (slot, id) in ids.iter().enumerate() {
        assert_ne!(id.0, 0);
        assert_eq!(id.0 & 7, slot as u64);
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(p.a.sessions().collect::<Vec<_>>(), sorted);
    p.run(Duration::from_millis(200));
    assert_eq!(p.b.sessions().count(), 8);
    assert_eq!(p.b.stats().sessions_accepted, 8);
}

#[test]
fn an_ended_sessions_id_never_reaches_the_one_in_its_slot() {
    let mut p = Two::new(4);
    let b_addr = B.parse().unwrap();
    let old = p.a.connect(p.now, b_addr).unwrap();
    p.a.session_mut(old)
        .unwrap()
        .send(0, &b"first"[..])
        .unwrap();
    p.run(Duration::from_millis(200));
    let old_b = p.b.sessions().next().unwrap();
    assert_eq!(
        p.b.session_mut(old_b).unwrap().recv(0).unwrap().as_deref(),
        Some(&b"first"[..])
    );
    // Close, let both sides forget it, and open another: same slot.
    p.a.session_mut(old).unwrap().close(0, b"");
    p.run(Duration::from_secs(30));
    assert_eq!(p.a.sessions().count(), 0);
    assert_eq!(p.b.sessions().count(), 0);
    let new = p.a.connect(p.now, b_addr).unwrap();
    assert_eq!(new.0 & 3, old.0 & 3, "the slot is reused");
    assert_ne!(new, old);
    assert!(p.a.session(old).is_none());
    assert!(p.a.session_mut(old).is_none());
    p.run(Duration::from_millis(200));
    let new_b = p.b.sessions().next().unwrap();
    assert_eq!(new_b.0 & 3, old_b.0 & 3);
    assert_ne!(new_b, old_b);
    // The old session's datagrams, replayed, are for no session.
    let unknown = p.b.stats().unknown_session;
    let replays: Vec<Vec<u8>> = p
        .sent_by_a
        .iter()
        .filter(|d| peek_dst(d).is_ok_and(|(_, dst)| dst == old_b))
        .cloned()
        .collect();
    assert!(!replays.is_empty());
    for mut d in replays.iter().cloned() {
        p.b.handle_datagram(p.now, A.parse().unwrap(), &mut d);
    }
    assert_eq!(p.b.stats().unknown_session, unknown + replays.len() as u64);
    // The new session works.
    p.a.session_mut(new)
        .unwrap()
        .send(0, &b"second"[..])
        .unwrap();
    p.run(Duration::from_millis(200));
    assert_eq!(
        p.b.session_mut(new_b).unwrap().recv(0).unwrap().as_deref(),
        Some(&b"second"[..])
    );
}

#[test]
fn work_lists_hold_each_session_once() {
    let mut p = Two::new(16);
    let ids = p.connect(3);
    p.run(Duration::from_millis(200));
    for _ in 0..5 {
        for &id in &ids {
            p.a.session_mut(id).unwrap();
        }
    }
    assert_eq!(p.a.book.dirty.len(), 3);
    let mut buf = alloc::vec![0u8; 2048];
    let _ = p.a.poll_transmit(p.now, &mut buf);
    assert!(p.a.book.dirty.is_empty());
    assert!(p.a.book.ready.len() <= 3);
    assert!(p.a.book.stale.len() <= 3);
}

#[test]
fn reset_tokens_are_indexed_while_their_sessions_live() {
    let mut p = Two::new(8);
    p.connect(3);
    p.run(Duration::from_millis(200));
    assert_eq!(p.a.resets.indexed(), 3);
    assert_eq!(p.b.resets.indexed(), 3);
    p.a.close_all(0, b"");
    p.run(Duration::from_secs(30));
    assert_eq!(p.a.sessions().count(), 0);
    assert_eq!(p.b.sessions().count(), 0);
    assert_eq!(p.a.resets.indexed(), 0);
    assert_eq!(p.b.resets.indexed(), 0);
}

#[test]
fn a_waking_session_takes_what_a_resting_one_gave_back_and_unused_spares_are_freed() {
    let mut p = Two::new(16);
    let ids = p.connect(4);
    // Handshakes, then the idle trim: every session on each side rests
    // and gives its busy part to its endpoint.
    p.run(Duration::from_millis(1_200));
    assert_eq!(p.a.spares.busy_kept(), 4);
    assert_eq!(p.b.spares.busy_kept(), 4);
    // One session sends: it wakes into a spare, as its peer does to
    // acknowledge, and both rest again after the trim's quiet period.
    p.a.session_mut(ids[0])
        .unwrap()
        .send(0, &b"ping"[..])
        .unwrap();
    p.run(Duration::from_millis(20));
    assert_eq!(p.a.spares.busy_kept(), 3);
    assert_eq!(p.b.spares.busy_kept(), 3);
    p.run(Duration::from_millis(600));
    assert_eq!(p.a.spares.busy_kept(), 4);
    // Untaken for a whole period, they are freed, and the endpoint asks
    // to be woken for nothing but its sessions' timers.
    p.run(Duration::from_secs(3));
    for ep in [&mut p.a, &mut p.b] {
        assert_eq!(ep.spares.busy_kept(), 0);
        assert_eq!(ep.spares.forget_at(), None);
    }
    // Delivery was unaffected.
    let on_b: Vec<_> = p.b.sessions().collect();
    let got: Vec<_> = on_b
        .into_iter()
        .filter_map(|id| p.b.session_mut(id).unwrap().recv(0).unwrap())
        .collect();
    assert_eq!(got.len(), 1);
    assert_eq!(&got[0][..], b"ping");
}

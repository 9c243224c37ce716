//! Key update end to end: sessions rotate their packet keys after a
//! configured number of packets without losing anything, reordered packets
//! from the previous key still open within the grace period, and a packet
//! sealed under a key retired past its grace period is dropped and counted.

mod common;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use common::{config, Fate, Pair};
use stt::Instant;

const SHORT: u8 = 0x80;
const KEY_PHASE: u8 = 0x20;

/// A datagram held back: when, its key-phase bit, its bytes.
type Held = (Instant, bool, Vec<u8>);

fn pair(after: u64) -> Pair {
    let a = config("a").key_update_after_packets(after).build().unwrap();
    let b = config("b").key_update_after_packets(after).build().unwrap();
    Pair::new(a, b)
}

/// Key-phase bits of every short datagram a sent to b, in order.
fn phases(p: &Pair) -> Vec<bool> {
    p.sent
        .iter()
        .filter(|(a_to_b, d)| *a_to_b && d[0] & SHORT == 0)
        .map(|(_, d)| d[0] & KEY_PHASE != 0)
        .collect()
}

#[test]
fn transfer_across_key_updates_with_reordering_delivers_everything() {
    let mut p = pair(16);
    let (sa, sb) = p.connect();
    // Hold back every 5th short datagram from a and release it 15 ms late,
    // behind newer ones (often across a key update).
    let held: Rc<RefCell<Vec<Held>>> = Rc::default();
    let now = Rc::new(RefCell::new(p.now));
    let (h, t) = (held.clone(), now.clone());
    let mut n = 0u32;
    p.filter = Some(Box::new(move |a_to_b, d| {
        if a_to_b && d[0] & SHORT == 0 {
            n += 1;
            if n % 5 == 0 {
                h.borrow_mut()
                    .push((*t.borrow(), d[0] & KEY_PHASE != 0, d.clone()));
                return Fate::Drop;
            }
        }
        Fate::Deliver
    }));
    let data: Vec<u8> = (0..400_000u32).map(|i| (i % 251) as u8).collect();
    p.a.session_mut(sa)
        .unwrap()
        .send_all_with(0, data.clone(), 10_000)
        .unwrap();
    let mut got = Vec::new();
    let mut late_across_phase = 0;
    let ok = p.drive_until(Duration::from_secs(60), |p| {
        *now.borrow_mut() = p.now;
        let current = phases(p).last().copied();
        let due: Vec<_> = {
            let mut held = held.borrow_mut();
            let (due, keep) = held
                .drain(..)
                .partition(|(at, _, _)| p.now >= *at + Duration::from_millis(15));
            *held = keep;
            due
        };
        for (_, phase, d) in due {
            if Some(phase) != current {
                late_across_phase += 1;
            }
            p.inject(true, d);
        }
        got.extend(p.recv_all_b(sb, 0).into_iter().flatten());
        got.len() == data.len() && held.borrow().is_empty()
    });
    assert!(
        ok,
        "transfer incomplete: {} of {} bytes\n{:?}\n{:?}\n{:?}",
        got.len(),
        data.len(),
        p.a.session(sa).map(|s| s.stats()),
        p.b.session(sb).map(|s| s.stats()),
        p.a.session(sa).and_then(|s| s.stream_stats(0)),
    );
    assert_eq!(got, data, "every byte, once, in order");
    // Let the last packets (acknowledgements, perhaps the first under a new
    // key) land before comparing counters.
    p.filter = None;
    p.drive();
    let a = p.a.session(sa).unwrap().stats();
    let b = p.b.session(sb).unwrap().stats();
    assert!(a.key_updates_sent >= 3, "{a:?}");
    assert_eq!(b.key_updates_received, a.key_updates_sent);
    let flips = phases(&p).windows(2).filter(|w| w[0] != w[1]).count() as u64;
    assert_eq!(flips, a.key_updates_sent, "the bit flips once per update");
    assert!(late_across_phase > 0, "some late packets crossed an update");
    assert_eq!(b.decrypt_failures, 0, "old-key packets opened in grace");
    assert_eq!(b.stale_key_drops, 0);
}

#[test]
fn old_key_packet_after_the_grace_period_is_dropped_and_counted() {
    let mut p = pair(20);
    let (sa, sb) = p.connect();
    // Keep the 10th short datagram from a (sealed under the first key).
    let held: Rc<RefCell<Option<Vec<u8>>>> = Rc::default();
    let h = held.clone();
    let mut n = 0u32;
    p.filter = Some(Box::new(move |a_to_b, d| {
        if a_to_b && d[0] & SHORT == 0 {
            n += 1;
            if n == 10 {
                *h.borrow_mut() = Some(d.clone());
                return Fate::Drop;
            }
        }
        Fate::Deliver
    }));
    // About 24 datagrams: one key update, not two.
    for i in 0..24u8 {
        p.a.session_mut(sa).unwrap().send(0, vec![i; 1200]).unwrap();
    }
    p.drive();
    assert_eq!(p.recv_all_b(sb, 0).len(), 24);
    let stats = p.b.session(sb).unwrap().stats();
    assert_eq!(stats.key_updates_received, 1, "{stats:?}");
    let old = held.borrow_mut().take().expect("a datagram was held");
    assert_eq!(old[0] & KEY_PHASE, 0, "sealed under the first key");
    // Wait well past the grace period (three probe timeouts).
    let until = p.now + Duration::from_secs(3);
    p.drive_until(Duration::from_secs(5), |p| p.now >= until);
    let before = p.b.session(sb).unwrap().stats();
    p.inject(true, old);
    let after = p.b.session(sb).unwrap().stats();
    assert_eq!(after.stale_key_drops, 1);
    assert_eq!(after.decrypt_failures, 0);
    assert_eq!(after.packets_received, before.packets_received, "not taken");
    // The session goes on.
    p.a.session_mut(sa)
        .unwrap()
        .send(0, &b"still here"[..])
        .unwrap();
    p.drive();
    assert_eq!(p.recv_all_b(sb, 0), vec![b"still here".to_vec()]);
}

#[test]
fn default_config_never_updates_in_a_short_session() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    p.a.session_mut(sa)
        .unwrap()
        .send_all(0, vec![1u8; 200_000])
        .unwrap();
    p.drive();
    assert_eq!(p.a.session(sa).unwrap().stats().key_updates_sent, 0);
    assert!(phases(&p).iter().all(|b| !b));
    let _ = sb;
}

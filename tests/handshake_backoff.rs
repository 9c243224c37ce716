//! The handshake after a run of lost datagrams: once the responder is heard
//! from, the initiator's Finish is resent on a fresh timer, not on the
//! backoff its lost Initials built up.

mod common;

use std::time::Duration;

use common::{Fate, Pair};
use stt::{Event, Instant};

#[test]
fn finish_is_resent_promptly_after_lost_responses() {
    let mut p = Pair::default_pair();
    let start = p.now;
    // The first five Responses are lost, then the first Finish.
    let (mut responses_lost, mut finish_lost, mut heard) = (0, false, false);
    p.filter = Some(Box::new(move |a_to_b, d| {
        let long = d[0] & 0x80 != 0;
        if !long {
            return Fate::Deliver;
        }
        if !a_to_b && responses_lost < 5 {
            responses_lost += 1;
            return Fate::Drop;
        }
        if !a_to_b {
            heard = true;
        } else if heard && !finish_lost {
            finish_lost = true;
            return Fate::Drop;
        }
        Fate::Deliver
    }));
    p.a.connect(p.now, p.b_addr).unwrap();
    let accepted = |p: &mut Pair| {
        p.events_b
            .iter()
            .any(|e| matches!(e, Event::Accepted { .. }))
    };
    assert!(p.drive_until(Duration::from_secs(60), accepted));
    let connected_at = p.now - start;
    // Initials at 0, 0.3, 0.9, 2.1, 4.5 and 9.3 s (doubling backoff); the
    // sixth is answered, its Finish lost and resent 0.3 s later, not 9.6 s.
    assert!(
        connected_at < Duration::from_secs(10),
        "responder accepted only after {connected_at:?}"
    );
    assert!(p.now > Instant::from_millis(1_000));
}

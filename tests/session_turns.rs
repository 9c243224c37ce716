//! Several sessions with data to send share an endpoint's transmits in
//! turns of several datagrams each, and every one of them progresses.

mod common;

use std::time::Duration;

use common::Pair;
use stt::__private::wire::peek_dst;
use stt::Event;

#[test]
fn sessions_take_turns_in_bursts_and_all_progress() {
    let mut p = Pair::default_pair();
    let mut ids = vec![p.connect().0];
    for _ in 0..2 {
        ids.push(p.a.connect(p.now, p.b_addr).unwrap());
    }
    let ok = p.drive_until(Duration::from_secs(5), |p| {
        p.events_b
            .iter()
            .filter(|e| matches!(e, Event::Accepted { .. }))
            .count()
            == 3
    });
    assert!(ok, "three sessions up");
    for &s in &ids {
        p.a.session_mut(s)
            .unwrap()
            .send_all(1, vec![7u8; 1 << 20])
            .unwrap();
    }
    // Take what a sends now, in order, and note whose each datagram is.
    let mut buf = vec![0u8; 2048];
    let mut runs: Vec<(stt::SessionId, usize)> = Vec::new();
    while let Some(t) = p.a.poll_transmit(p.now, &mut buf) {
        let (_, dst) = peek_dst(&buf[..t.len]).unwrap();
        match runs.last_mut() {
            Some((id, n)) if *id == dst => *n += 1,
            _ => runs.push((dst, 1)),
        }
    }
    let mut seen: Vec<_> = runs.iter().map(|r| r.0).collect();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 3, "every session sent: {runs:?}");
    assert!(
        runs.iter().all(|&(_, n)| n > 1),
        "turns of one datagram: {runs:?}"
    );
    assert!(runs.len() >= 3, "{runs:?}");
}

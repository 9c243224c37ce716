//! Tickets across restarts of the initiator: an endpoint's tickets
//! exported, a new endpoint with the same node seed (a new process: its
//! own clock epoch, its own random seed) importing them, and its next
//! session to the peer resuming, early data included.

mod common;

use common::{config, Pair};
use std::time::Duration;

use stt::{Endpoint, Event, Instant, TicketImportError};

/// Wall-clock time of the first run (any fixed value: the core reads none).
const WALL: Duration = Duration::from_secs(1_800_000_000);

fn settle(p: &mut Pair) {
    p.events_a.clear();
    p.events_b.clear();
    p.connect();
    p.drive_until(Duration::from_millis(500), |_| false);
}

#[test]
fn a_restarted_initiator_resumes_with_the_tickets_it_exported() {
    let mut p = Pair::default_pair();
    settle(&mut p);
    assert!(p.a.has_ticket(p.b_addr, p.now));
    let file = p.a.export_tickets(p.now, WALL);
    // The process ends; a new one starts 30 s later (wall clock) with a
    // clock of its own that starts again near zero.
    let mut a = Endpoint::new(config("a").build().unwrap(), [77; 32]);
    let restart_at = Instant::from_millis(2);
    assert!(!a.has_ticket(p.b_addr, restart_at));
    assert_eq!(
        a.import_tickets(restart_at, WALL + Duration::from_secs(30), &file),
        Ok(1)
    );
    assert!(a.has_ticket(p.b_addr, restart_at));
    p.a = a;
    p.now = p.now.max(restart_at);
    let before = p.b.stats();
    p.events_a.clear();
    let c =
        p.a.connect_with_early(
            p.now,
            p.b_addr,
            &[(0, bytes::Bytes::from_static(b"hello again"))],
        )
        .unwrap();
    assert_eq!(c.early, 1);
    p.drive_until(Duration::from_millis(500), |_| false);
    assert!(p.a.session(c.session).unwrap().is_resumed());
    assert_eq!(p.b.stats().sessions_resumed, before.sessions_resumed + 1);
    assert_eq!(p.b.stats().tickets_refused, before.tickets_refused);
    let early = p
        .events_b
        .iter()
        .any(|e| matches!(e, Event::EarlyMessages { messages: 1, .. }));
    assert!(early, "the request went as 0-RTT data");
    let sb = p.b.sessions().last().unwrap();
    assert_eq!(p.recv_all_b(sb, 0), vec![b"hello again".to_vec()]);
}

#[test]
fn a_file_is_read_only_by_its_node_and_only_while_its_tickets_live() {
    let mut p = Pair::default_pair();
    settle(&mut p);
    let file = p.a.export_tickets(p.now, WALL);
    // Another node (another seed) cannot open it.
    let mut other = Endpoint::new(config("c").build().unwrap(), [5; 32]);
    assert_eq!(
        other.import_tickets(Instant::ZERO, WALL, &file),
        Err(TicketImportError::Auth)
    );
    // Two hours later (the default lifetime is one): nothing to import,
    // and the next session runs the full handshake.
    let mut a = Endpoint::new(config("a").build().unwrap(), [78; 32]);
    assert_eq!(
        a.import_tickets(Instant::ZERO, WALL + Duration::from_secs(7200), &file),
        Ok(0)
    );
    p.a = a;
    settle(&mut p);
    let sa = p.a.sessions().last().unwrap();
    assert!(!p.a.session(sa).unwrap().is_resumed());
}

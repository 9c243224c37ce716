//! `StreamEvent::Writable` end to end: a stream whose send queue refused a
//! send (`WouldBlock`) is told once acknowledgements make room, on two
//! endpoints in memory; a stream that ends while refused is not.

mod common;

use std::time::Duration;

use common::{config, Fate, Pair};
use stt::{Event, SessionId, StreamError, StreamEvent, StreamLimits};

/// Unacknowledged bytes a stream of the sender may hold.
const QUEUE: u64 = 64 << 10;
const MSG: usize = 16 << 10;

/// A pair whose side a refuses sends past `QUEUE` unacknowledged bytes.
fn pair() -> Pair {
    let limits = {
        let mut limits = StreamLimits::default();
        limits.max_send_queue = QUEUE;
        limits
    };
    let a = config("a").streams(limits).build().unwrap();
    Pair::new(a, config("b").build().unwrap())
}

/// Sends messages on `stream` until the queue refuses one; how many went.
fn fill(p: &mut Pair, sa: SessionId, stream: u32) -> usize {
    let s = p.a.session_mut(sa).unwrap();
    for n in 0..1000 {
        match s.send(stream, vec![n as u8; MSG]) {
            Ok(_) => {}
            Err(StreamError::WouldBlock(id)) => {
                assert_eq!(id, stream);
                return n;
            }
            Err(e) => panic!("send failed: {e}"),
        }
    }
    panic!("the send queue never filled");
}

fn writable(events: &[Event], stream: u32) -> usize {
    events
        .iter()
        .filter(|e| {
            matches!(e, Event::Stream { event: StreamEvent::Writable(id), .. } if *id == stream)
        })
        .count()
}

#[test]
fn a_refused_stream_becomes_writable_once_acks_return_and_then_takes_more() {
    let mut p = pair();
    let (sa, sb) = p.connect();
    // Stream 2 sends a little and is never refused.
    p.a.session_mut(sa).unwrap().send(2, &b"small"[..]).unwrap();
    let queued = fill(&mut p, sa, 1);
    assert!(
        queued >= 4,
        "only {queued} messages before the queue filled"
    );
    // A second refusal before any ack: still one event owed.
    let refused = p.a.session_mut(sa).unwrap().send(1, vec![0u8; MSG]);
    assert_eq!(refused, Err(StreamError::WouldBlock(1)));
    assert_eq!(writable(&p.events_a, 1), 0);
    let ok = p.drive_until(Duration::from_secs(10), |p| writable(&p.events_a, 1) > 0);
    assert!(ok, "no Writable: {:?}", p.events_a);
    // The send that was refused goes now.
    let seq = p.a.session_mut(sa).unwrap().send(1, vec![0xee; MSG]);
    assert_eq!(seq, Ok(queued as u64));
    let got = p.drive_reading_b(sb, 1);
    assert_eq!(got.len(), queued + 1);
    assert_eq!(got[queued], vec![0xee; MSG]);
    // Once for the refusals before it, never for the stream not refused.
    assert_eq!(writable(&p.events_a, 1), 1);
    assert_eq!(writable(&p.events_a, 2), 0);
}

#[test]
fn a_stream_refused_again_is_told_again() {
    let mut p = pair();
    let (sa, sb) = p.connect();
    for round in 1..=3 {
        fill(&mut p, sa, 1);
        let ok = p.drive_until(Duration::from_secs(10), |p| {
            writable(&p.events_a, 1) == round
        });
        assert!(ok, "round {round}: no Writable");
        p.recv_all_b(sb, 1);
    }
    p.drive_reading_b(sb, 1);
    assert_eq!(writable(&p.events_a, 1), 3);
}

#[test]
fn a_refused_stream_the_peer_resets_is_not_writable() {
    let mut p = pair();
    let (sa, sb) = p.connect();
    p.a.session_mut(sa).unwrap().send(1, &b"hello"[..]).unwrap();
    p.drive();
    assert_eq!(p.recv_all_b(sb, 1), vec![b"hello".to_vec()]);
    // a's data is lost for a while: the queue fills and stays full.
    p.filter = Some(Box::new(
        |a_to_b, _| {
            if a_to_b {
                Fate::Drop
            } else {
                Fate::Deliver
            }
        },
    ));
    fill(&mut p, sa, 1);
    p.b.session_mut(sb).unwrap().reset_stream(1, 7).unwrap();
    p.drive_until(Duration::from_millis(200), |_| false);
    p.filter = None;
    p.drive();
    let resets = p.events_a.iter().any(|e| {
        matches!(
            e,
            Event::Stream {
                event: StreamEvent::Reset(1, 7),
                ..
            }
        )
    });
    assert!(resets, "no reset: {:?}", p.events_a);
    assert_eq!(writable(&p.events_a, 1), 0);
    let again = p.a.session_mut(sa).unwrap().send(1, &b"more"[..]);
    assert_eq!(again, Err(StreamError::Reset(1)));
}

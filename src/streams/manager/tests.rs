//! Tests of the stream manager across both ends of a stream: frames are
//! handed from one manager to the other by hand, in whatever order a bad
//! network would deliver them.

use super::*;
use crate::streams::recv::Fragment;
use crate::streams::send::Chunk;
use alloc::vec;

const RTT: Duration = Duration::from_millis(40);

fn pair() -> (StreamManager, StreamManager) {
    pair_with(StreamLimits::default())
}

/// Two managers with `limits`, each told the other's windows.
fn pair_with(limits: StreamLimits) -> (StreamManager, StreamManager) {
    let mut a = StreamManager::new(limits, Instant::ZERO);
    let mut b = StreamManager::new(limits, Instant::ZERO);
    for m in [&mut a, &mut b] {
        m.set_peer_limits(
            limits.session_window,
            limits.stream_window,
            limits.max_message_size,
        );
    }
    (a, b)
}

fn chunks(m: &mut StreamManager) -> Vec<(StreamId, Chunk)> {
    core::iter::from_fn(|| m.next_chunk(|_, _| Some(1000))).collect()
}

fn deliver(to: &mut StreamManager, (id, c): &(StreamId, Chunk)) {
    let f = Fragment {
        offset: c.offset,
        seq: c.seq,
        msg_len: c.msg_len,
        frag_offset: c.frag_offset,
        data: &c.data,
    };
    to.on_stream_frame(Instant::ZERO, RTT, *id, f).unwrap();
}

#[test]
fn fin_ahead_of_lost_data_does_not_retire_the_stream() {
    let (mut a, mut b) = pair();
    a.create(Instant::ZERO, 1).unwrap();
    a.send(Instant::ZERO, 1, Bytes::from_static(b"first"))
        .unwrap();
    a.send(Instant::ZERO, 1, Bytes::from_static(b"second"))
        .unwrap();
    a.close(1).unwrap();
    let sent = chunks(&mut a);
    assert_eq!(sent.len(), 2);
    let Some((Control::Fin(1), ControlFrame::Fin(1, offset, seq))) = a.next_control() else {
        panic!("FIN owed");
    };
    // The first message and the FIN arrive; the second message is lost.
    deliver(&mut b, &sent[0]);
    b.on_fin(Instant::ZERO, 1, offset, seq).unwrap();
    assert_eq!(
        b.recv(Instant::ZERO, RTT, 1).unwrap().as_deref(),
        Some(&b"first"[..])
    );
    // b's own end of the stream goes out and is acknowledged.
    let Some((c, ControlFrame::Fin(1, 0, 0))) = b.next_control() else {
        panic!("b closes its side too");
    };
    b.on_control_acked(c);
    // The retransmission must still be accepted and delivered.
    assert!(b.get(1).is_some(), "stream retired with data missing");
    deliver(&mut b, &sent[1]);
    assert_eq!(
        b.recv(Instant::ZERO, RTT, 1).unwrap().as_deref(),
        Some(&b"second"[..])
    );
    // Both ends are done: the stream is retired on that last read, and it
    // keeps reading as finished.
    assert_eq!(b.recv(Instant::ZERO, RTT, 1), Err(StreamError::Finished(1)));
    assert!(b.get(1).is_none());
    assert_eq!(b.recv(Instant::ZERO, RTT, 1), Err(StreamError::Finished(1)));
    assert_eq!(b.poll_event(), Some(StreamEvent::Opened(1)));
    assert_eq!(b.poll_event(), Some(StreamEvent::Readable(1)));
    assert_eq!(b.poll_event(), Some(StreamEvent::Finished(1)));
    assert_eq!(b.poll_event(), None);
}

fn narrow_pair(window: u64) -> (StreamManager, StreamManager) {
    let limits = StreamLimits {
        stream_window: window,
        ..StreamLimits::default()
    };
    let mut a = StreamManager::new(limits, Instant::ZERO);
    let mut b = StreamManager::new(limits, Instant::ZERO);
    for m in [&mut a, &mut b] {
        m.set_peer_limits(limits.session_window, window, limits.max_message_size);
    }
    (a, b)
}

#[test]
fn credit_lost_after_the_peers_fin_is_still_resent() {
    let (mut a, mut b) = narrow_pair(1000);
    a.create(Instant::ZERO, 1).unwrap();
    let msg = Bytes::from(alloc::vec![7u8; 1500]);
    a.send(Instant::ZERO, 1, msg.clone()).unwrap();
    a.close(1).unwrap();
    // The first 1000 units go; the rest waits for credit.
    let first = chunks(&mut a);
    assert!(first.iter().all(|(_, c)| c.units().end <= 1000));
    for c in &first {
        deliver(&mut b, c);
    }
    // b raises the limit as the head message progresses; that frame is
    // lost.
    let (c, frame) = b.next_control().unwrap();
    assert!(matches!(frame, ControlFrame::MaxStreamData(1, max) if max > 1000));
    b.requeue_control(c);
    // A peer may announce its end before sending all (this crate's sender
    // waits, see below): final offset 1501 is within b's raised limit.
    assert_eq!(a.next_control(), None);
    b.on_fin(Instant::ZERO, 1, 1501, 1).unwrap();
    // The credit must go out again, or the rest never can.
    let mut credit = None;
    while let Some((_, f)) = b.next_control() {
        if let ControlFrame::MaxStreamData(1, max) = f {
            credit = Some(max);
        }
    }
    let max = credit.expect("credit resent after the FIN");
    a.on_max_stream_data(Instant::ZERO, 1, max).unwrap();
    for c in &chunks(&mut a) {
        deliver(&mut b, c);
    }
    assert_eq!(b.recv(Instant::ZERO, RTT, 1).unwrap(), Some(msg));
}

#[test]
fn a_closed_stream_with_unacknowledged_data_is_not_flushed() {
    let (mut a, _) = pair();
    a.create(Instant::ZERO, 1).unwrap();
    a.send(Instant::ZERO, 1, Bytes::from_static(b"pending"))
        .unwrap();
    a.close(1).unwrap();
    assert!(
        a.get(1).is_none(),
        "hidden from the application once closed"
    );
    let sent = chunks(&mut a);
    while a.next_control().is_some() {}
    assert!(!a.is_flushed(), "its message is not acknowledged yet");
    for (id, c) in &sent {
        a.on_chunk_acked(*id, c.units());
    }
    assert!(a.is_flushed());
}

#[test]
fn fin_waits_until_the_data_it_ends_was_sent() {
    let (mut a, mut b) = narrow_pair(1000);
    a.create(Instant::ZERO, 1).unwrap();
    let msg = Bytes::from(alloc::vec![7u8; 1500]);
    a.send(Instant::ZERO, 1, msg.clone()).unwrap();
    a.close(1).unwrap();
    let first = chunks(&mut a);
    // 1501 units queued, 1000 of credit: a FIN now would announce a final
    // offset past the limit, which b must refuse.
    assert_eq!(a.next_control(), None, "FIN held back");
    for c in &first {
        deliver(&mut b, c);
    }
    let mut credit = None;
    while let Some((_, f)) = b.next_control() {
        if let ControlFrame::MaxStreamData(1, max) = f {
            credit = Some(max);
        }
    }
    a.on_max_stream_data(Instant::ZERO, 1, credit.unwrap())
        .unwrap();
    let rest = chunks(&mut a);
    let Some((_, ControlFrame::Fin(1, offset, seq))) = a.next_control() else {
        panic!("FIN owed once everything went out");
    };
    assert_eq!((offset, seq), (1501, 1));
    b.on_fin(Instant::ZERO, 1, offset, seq).unwrap();
    for c in &rest {
        deliver(&mut b, c);
    }
    assert_eq!(b.recv(Instant::ZERO, RTT, 1).unwrap(), Some(msg));
}

fn budget_pair(budget: u64) -> (StreamManager, StreamManager) {
    pair_with(StreamLimits {
        max_session_buffer: budget,
        ..StreamLimits::default()
    })
}

/// What every stream holds, summed the slow way.
fn held_sum(m: &StreamManager) -> u64 {
    m.streams.values().map(held).sum()
}

#[test]
fn the_budget_counts_what_every_stream_holds() {
    let (mut a, mut b) = budget_pair(1 << 20);
    for id in 1..=4 {
        for _ in 0..2 {
            a.send(Instant::ZERO, id, Bytes::from(alloc::vec![id as u8; 2_500]))
                .unwrap();
        }
    }
    // Reversed: everything arrives out of order, some of it twice.
    let mut sent = chunks(&mut a);
    sent.reverse();
    for (i, c) in sent.iter().enumerate() {
        deliver(&mut b, c);
        if i % 3 == 0 {
            deliver(&mut b, c);
        }
        assert_eq!(b.recv_buffered(), held_sum(&b));
    }
    assert_eq!(b.recv_buffered(), 4 * 2 * 2_500);
    b.recv(Instant::ZERO, RTT, 1).unwrap().unwrap();
    assert_eq!(b.recv_buffered(), 7 * 2_500);
    b.close(2).unwrap();
    b.reset(3, 9).unwrap();
    b.on_reset(Instant::ZERO, 4, 0, 2 * 2_501).unwrap();
    assert_eq!(b.recv_buffered(), 2_500, "stream 1's second message");
    assert_eq!(b.recv_buffered(), held_sum(&b));
    // Data for a stream the application closed is dropped, not counted.
    a.send(Instant::ZERO, 2, Bytes::from_static(b"late"))
        .unwrap();
    for c in chunks(&mut a) {
        deliver(&mut b, &c);
    }
    assert_eq!(b.recv_buffered(), 2_500);
    b.recv(Instant::ZERO, RTT, 1).unwrap().unwrap();
    assert_eq!(b.recv_buffered(), 0);
}

#[test]
fn holding_more_than_the_budget_is_a_flow_control_violation() {
    let (_, mut b) = budget_pair(5_500);
    let m = alloc::vec![7u8; 3_000];
    let frag = |at: usize, len: usize| Fragment {
        offset: at as u64,
        seq: 0,
        msg_len: 3_000,
        frag_offset: at as u64,
        data: &m[at..at + len],
    };
    // Unfinished messages on two streams, then one completes: 5 500 bytes
    // is the limit itself.
    b.on_stream_frame(Instant::ZERO, RTT, 1, frag(0, 2_500))
        .unwrap();
    b.on_stream_frame(Instant::ZERO, RTT, 2, frag(0, 2_500))
        .unwrap();
    b.on_stream_frame(Instant::ZERO, RTT, 1, frag(2_500, 500))
        .unwrap();
    assert_eq!(b.recv_buffered(), 5_500);
    // A read makes room again.
    assert_eq!(b.recv(Instant::ZERO, RTT, 1).unwrap().unwrap().len(), 3_000);
    b.on_stream_frame(Instant::ZERO, RTT, 3, frag(0, 3_000))
        .unwrap();
    assert_eq!(b.recv_buffered(), 5_500);
    // One byte more is one too many.
    assert_eq!(
        b.on_stream_frame(Instant::ZERO, RTT, 4, frag(0, 1)),
        Err(Violation::FlowControl)
    );
}

/// A manager whose streams refuse sends past 100 unacknowledged units.
fn small_queue() -> StreamManager {
    let limits = StreamLimits {
        max_send_queue: 100,
        ..StreamLimits::default()
    };
    let (a, _) = pair_with(limits);
    a
}

fn events(m: &mut StreamManager) -> Vec<StreamEvent> {
    core::iter::from_fn(|| m.poll_event()).collect()
}

fn ack_all(m: &mut StreamManager, sent: &[(StreamId, Chunk)]) {
    for (id, c) in sent {
        m.on_chunk_acked(*id, c.units());
    }
}

#[test]
fn a_refused_stream_is_told_once_when_acks_drain_it() {
    let mut a = small_queue();
    let msg = Bytes::from(vec![7u8; 60]);
    a.send(Instant::ZERO, 1, msg.clone()).unwrap();
    a.send(Instant::ZERO, 1, msg.clone()).unwrap();
    // 122 units unacknowledged: refused, twice, and nothing queued.
    assert_eq!(
        a.send(Instant::ZERO, 1, msg.clone()),
        Err(StreamError::WouldBlock(1))
    );
    assert_eq!(
        a.send_all(Instant::ZERO, 1, msg.clone(), 10),
        Err(StreamError::WouldBlock(1))
    );
    let sent = chunks(&mut a);
    assert!(events(&mut a).is_empty());
    // The first message acknowledged: 61 units left, under the bound.
    a.on_chunk_acked(1, sent[0].1.units());
    assert_eq!(events(&mut a), [StreamEvent::Writable(1)]);
    // More acknowledgements: no second event for the same refusal.
    ack_all(&mut a, &sent[1..]);
    assert!(events(&mut a).is_empty());
    assert_eq!(a.send(Instant::ZERO, 1, msg), Ok(2));
}

#[test]
fn a_stream_never_refused_gets_no_writable() {
    let mut a = small_queue();
    a.send(Instant::ZERO, 1, Bytes::from(vec![1u8; 50]))
        .unwrap();
    let sent = chunks(&mut a);
    ack_all(&mut a, &sent);
    assert!(events(&mut a).is_empty());
}

#[test]
fn each_refusal_is_answered_by_its_own_writable() {
    let mut a = small_queue();
    let msg = Bytes::from(vec![7u8; 99]);
    for round in 0..3 {
        a.send(Instant::ZERO, 1, msg.clone()).unwrap();
        assert_eq!(
            a.send(Instant::ZERO, 1, msg.clone()),
            Err(StreamError::WouldBlock(1))
        );
        let sent = chunks(&mut a);
        ack_all(&mut a, &sent);
        assert_eq!(events(&mut a), [StreamEvent::Writable(1)], "round {round}");
    }
}

#[test]
fn a_refused_stream_closed_or_reset_gets_no_writable() {
    let msg = Bytes::from(vec![7u8; 120]);
    // Closed by the application: queued data still goes and is acked.
    let mut a = small_queue();
    a.send(Instant::ZERO, 1, msg.clone()).unwrap();
    assert!(a.send(Instant::ZERO, 1, msg.clone()).is_err());
    a.close(1).unwrap();
    let sent = chunks(&mut a);
    ack_all(&mut a, &sent);
    assert!(events(&mut a).is_empty());
    // Reset by the application: nothing more is acked that matters.
    let mut a = small_queue();
    a.send(Instant::ZERO, 2, msg.clone()).unwrap();
    let sent = chunks(&mut a);
    assert!(a.send(Instant::ZERO, 2, msg.clone()).is_err());
    a.reset(2, 9).unwrap();
    ack_all(&mut a, &sent);
    assert!(events(&mut a).is_empty());
    // Ended by the peer (its FIN closes our side too).
    let mut a = small_queue();
    a.send(Instant::ZERO, 3, msg.clone()).unwrap();
    let sent = chunks(&mut a);
    assert!(a.send(Instant::ZERO, 3, msg).is_err());
    a.on_fin(Instant::ZERO, 3, 0, 0).unwrap();
    ack_all(&mut a, &sent);
    assert_eq!(events(&mut a), [StreamEvent::Finished(3)]);
}

/// The skips `a` owes now, after one expiry pass at `ms`.
fn skips_after_pass(a: &mut StreamManager, ms: u64) -> Vec<(Control, ControlFrame)> {
    a.expire(crate::streams::deadline::Clock::new(
        Instant::from_millis(ms),
        Duration::from_millis(60),
        Duration::ZERO,
        0,
    ));
    core::iter::from_fn(|| a.next_control()).collect()
}

#[test]
fn a_skip_goes_at_once_with_a_copy_in_each_of_the_next_two_packets() {
    let (mut a, _) = pair();
    a.create(Instant::ZERO, 1).unwrap();
    let due = |ms| crate::streams::SendOptions::new().deadline(Instant::from_millis(ms));
    for at in [100, 200] {
        a.send_with(Instant::ZERO, 1, Bytes::from_static(b"frame"), due(at))
            .unwrap();
    }
    let sent = chunks(&mut a);
    assert_eq!(sent.len(), 2);
    // 30 ms reach: message 0, in flight, is given up at 70 ms.
    assert!(skips_after_pass(&mut a, 69).is_empty());
    let skip = (Control::Skip(1), ControlFrame::Skip(1, 6, 1));
    assert_eq!(skips_after_pass(&mut a, 70), [skip]);
    assert_eq!(skips_after_pass(&mut a, 71), [skip], "first copy");
    // Message 1 is given up too before any skip is acknowledged: the next
    // skip goes at once, and copies carry the newest point.
    let newer = (Control::Skip(1), ControlFrame::Skip(1, 12, 2));
    assert_eq!(skips_after_pass(&mut a, 170), [newer]);
    assert_eq!(skips_after_pass(&mut a, 171), [newer]);
    assert_eq!(skips_after_pass(&mut a, 172), [newer]);
    assert!(skips_after_pass(&mut a, 173).is_empty(), "two copies each");
    // Five skips in flight: the stream is held until every one is settled.
    let s = |a: &StreamManager| a.streams.get(&1).is_some_and(|s| s.has(flag::SKIP_QUEUED));
    for _ in 0..4 {
        a.on_control_acked(Control::Skip(1));
        assert!(s(&a));
    }
    a.on_control_acked(Control::Skip(1));
    assert!(!s(&a));
}

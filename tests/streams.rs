//! Streams end to end: every behaviour of the STT streams chapter on two
//! endpoints in memory.

mod common;

use std::time::Duration;

use common::{config, Fate, Pair};
use stt::{CloseReason, Event, StreamError, StreamEvent, StreamLimits, Violation};

fn stream_events(events: &[Event]) -> Vec<StreamEvent> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Stream { event, .. } => Some(*event),
            _ => None,
        })
        .collect()
}

#[test]
fn stream_zero_is_implicit_and_others_open_on_demand_from_either_side() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    assert_eq!(p.a.session(sa).unwrap().stream_ids(), vec![0]);
    let s = p.a.session_mut(sa).unwrap();
    s.create_stream(1).unwrap();
    s.create_stream(u32::MAX).unwrap();
    assert_eq!(s.create_stream(1), Err(StreamError::AlreadyExists(1)));
    assert_eq!(s.create_stream(0), Err(StreamError::AlreadyExists(0)));
    s.send(1, &b"one"[..]).unwrap();
    s.send(u32::MAX, &b"max"[..]).unwrap();
    p.b.session_mut(sb).unwrap().create_stream(7).unwrap();
    p.b.session_mut(sb).unwrap().send(7, &b"seven"[..]).unwrap();
    p.drive();
    let opened_b: Vec<_> = stream_events(&p.events_b)
        .into_iter()
        .filter(|e| matches!(e, StreamEvent::Opened(_)))
        .collect();
    assert_eq!(
        opened_b,
        vec![StreamEvent::Opened(1), StreamEvent::Opened(u32::MAX)]
    );
    assert!(stream_events(&p.events_a).contains(&StreamEvent::Opened(7)));
    assert_eq!(p.recv_all_b(sb, u32::MAX), vec![b"max".to_vec()]);
    assert_eq!(p.recv_all_a(sa, 7), vec![b"seven".to_vec()]);
    assert_eq!(
        p.b.session(sb).unwrap().stream_ids(),
        vec![0, 1, 7, u32::MAX]
    );
}

#[test]
fn one_large_message_is_fragmented_and_delivered_whole() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    let big: Vec<u8> = (0..5_000_000u32).map(|i| (i % 251) as u8).collect();
    p.a.session_mut(sa).unwrap().send(3, big.clone()).unwrap();
    p.drive();
    let got = p.recv_all_b(sb, 3);
    assert_eq!(got.len(), 1);
    assert!(got[0] == big, "message altered");
    let st = p.b.session(sb).unwrap().stream_stats(3).unwrap();
    assert_eq!((st.messages_received, st.bytes_received), (1, 5_000_000));
}

#[test]
fn message_over_the_limit_is_refused_with_a_typed_error() {
    let limits = {
        let mut limits = StreamLimits::default();
        limits.max_message_size = 1000;
        limits
    };
    let a = config("a").streams(limits).build().unwrap();
    let mut p = Pair::new(a, config("b").build().unwrap());
    let (sa, _) = p.connect();
    let e =
        p.a.session_mut(sa)
            .unwrap()
            .send(0, vec![0u8; 1001])
            .unwrap_err();
    assert_eq!(
        e,
        StreamError::MessageTooLarge {
            size: 1001,
            max: 1000
        }
    );
}

#[test]
fn send_all_segments_64k_by_default_and_per_call() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    let data: Vec<u8> = (0..1_000_000u32).map(|i| i as u8).collect();
    let seqs =
        p.a.session_mut(sa)
            .unwrap()
            .send_all(10, data.clone())
            .unwrap();
    assert_eq!(seqs, 0..16, "1 MB in 64 KiB segments is 16 messages");
    let segs = p.drive_reading_b(sb, 10);
    assert_eq!(segs.len(), 16);
    assert!(segs[..15].iter().all(|s| s.len() == 65_536));
    assert_eq!(segs.concat(), data);
    let st = p.a.session(sa).unwrap().stream_stats(10).unwrap();
    assert_eq!(
        (st.bytes_sent, st.messages_sent, st.sequence),
        (1_000_000, 16, 16)
    );

    let seqs =
        p.a.session_mut(sa)
            .unwrap()
            .send_all_with(10, vec![1u8; 100_000], 32_768)
            .unwrap();
    assert_eq!(seqs, 16..20);
    assert_eq!(
        p.drive_reading_b(sb, 10)
            .iter()
            .map(Vec::len)
            .collect::<Vec<_>>(),
        vec![32_768, 32_768, 32_768, 1_696]
    );
    assert_eq!(
        p.a.session_mut(sa)
            .unwrap()
            .send_all_with(10, vec![1u8; 10], 0),
        Err(StreamError::InvalidSegmentSize)
    );
}

#[test]
fn endpoint_segment_size_is_configurable() {
    let a = config("a").segment_size(10_000).build().unwrap();
    let mut p = Pair::new(a, config("b").build().unwrap());
    let (sa, sb) = p.connect();
    assert_eq!(
        p.a.session_mut(sa)
            .unwrap()
            .send_all(1, vec![9u8; 25_000])
            .unwrap(),
        0..3
    );
    p.drive();
    assert_eq!(
        p.recv_all_b(sb, 1).iter().map(Vec::len).collect::<Vec<_>>(),
        vec![10_000, 10_000, 5_000]
    );
}

#[test]
fn messages_arrive_in_order_and_readable_is_signalled_once_per_drain() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    for i in 0..50u32 {
        p.a.session_mut(sa)
            .unwrap()
            .send(1, i.to_be_bytes().to_vec())
            .unwrap();
    }
    p.drive();
    let readable = stream_events(&p.events_b)
        .iter()
        .filter(|e| **e == StreamEvent::Readable(1))
        .count();
    assert!(readable >= 1);
    let got = p.recv_all_b(sb, 1);
    let want: Vec<Vec<u8>> = (0..50u32).map(|i| i.to_be_bytes().to_vec()).collect();
    assert_eq!(got, want);
    assert_eq!(p.b.session_mut(sb).unwrap().recv(1), Ok(None));
}

#[test]
fn a_gap_on_one_stream_never_holds_another_and_the_buffer_is_inspectable() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    // Drop the packet carrying stream 1's first message.
    p.filter = Some(Box::new(
        |a_to_b, _| if a_to_b { Fate::Drop } else { Fate::Deliver },
    ));
    p.a.session_mut(sa).unwrap().send(1, &b"s1-m0"[..]).unwrap();
    p.step();
    p.filter = None;
    p.a.session_mut(sa).unwrap().send(1, &b"s1-m1"[..]).unwrap();
    p.a.session_mut(sa).unwrap().send(2, &b"s2-m0"[..]).unwrap();
    // Deliver only what is in flight now: less than a probe timeout.
    p.drive_until(Duration::from_millis(30), |_| false);
    assert_eq!(
        p.recv_all_b(sb, 2),
        vec![b"s2-m0".to_vec()],
        "stream 2 is not held back"
    );
    assert_eq!(
        p.recv_all_b(sb, 1),
        Vec::<Vec<u8>>::new(),
        "stream 1 waits for its gap"
    );
    let ooo = p.b.session(sb).unwrap().stream(1).unwrap().out_of_order();
    assert_eq!((ooo.waiting_for, ooo.messages, ooo.bytes), (0, 1, 5));
    p.drive();
    assert_eq!(
        p.recv_all_b(sb, 1),
        vec![b"s1-m0".to_vec(), b"s1-m1".to_vec()]
    );
    assert_eq!(
        p.b.session(sb)
            .unwrap()
            .stream(1)
            .unwrap()
            .out_of_order()
            .messages,
        0
    );
}

#[test]
fn manager_get_list_close_one_and_all() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    let s = p.a.session_mut(sa).unwrap();
    assert!(s.stream(5).is_none(), "missing stream is None");
    for id in [1, 2, 3] {
        s.create_stream(id).unwrap();
        s.send(id, format!("hi {id}").into_bytes()).unwrap();
    }
    assert_eq!(s.stream_ids(), vec![0, 1, 2, 3]);
    s.close_stream(2).unwrap();
    assert!(s.stream(2).is_none(), "closed stream is gone from get");
    assert_eq!(s.stream_ids(), vec![0, 1, 3]);
    assert_eq!(s.send(2, &b"x"[..]), Err(StreamError::Closed(2)));
    p.drive();
    // The close flushed what was queued, then the peer saw the end.
    assert!(stream_events(&p.events_b).contains(&StreamEvent::Finished(2)));
    let b = p.b.session_mut(sb).unwrap();
    assert!(!b.stream(2).unwrap().is_active());
    assert_eq!(b.send(2, &b"late"[..]), Err(StreamError::ClosedByPeer(2)));
    assert_eq!(b.recv(2).unwrap().as_deref(), Some(&b"hi 2"[..]));
    assert_eq!(b.recv(2), Err(StreamError::Finished(2)));
    assert!(b.stream(2).is_none(), "gone once the end was read");
    assert_eq!(
        b.recv(2),
        Err(StreamError::Finished(2)),
        "and it stays finished"
    );
    assert_eq!(b.send(2, &b"x"[..]), Err(StreamError::ClosedByPeer(2)));

    p.a.session_mut(sa).unwrap().close_all_streams();
    assert!(p.a.session(sa).unwrap().stream_ids().is_empty());
    p.drive();
    for id in [0, 1, 3] {
        assert!(
            stream_events(&p.events_b).contains(&StreamEvent::Finished(id)),
            "stream {id}"
        );
    }
}

#[test]
fn closed_ids_are_not_silently_reused() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    p.a.session_mut(sa).unwrap().send(4, &b"x"[..]).unwrap();
    p.a.session_mut(sa).unwrap().close_stream(4).unwrap();
    p.drive();
    p.b.session_mut(sb).unwrap().recv(4).unwrap();
    p.b.session_mut(sb).unwrap().close_stream(4).unwrap();
    p.drive();
    let e = p.a.session_mut(sa).unwrap().create_stream(4);
    assert_eq!(e, Err(StreamError::Closed(4)));
    assert_eq!(
        p.a.session_mut(sa).unwrap().send(4, &b"y"[..]),
        Err(StreamError::Closed(4))
    );
}

#[test]
fn reset_abandons_at_once_and_the_peer_is_told() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    p.a.session_mut(sa)
        .unwrap()
        .send(6, vec![1u8; 2_000_000])
        .unwrap();
    p.drive_until(Duration::from_millis(15), |_| false);
    p.a.session_mut(sa).unwrap().reset_stream(6, 42).unwrap();
    p.drive();
    assert!(stream_events(&p.events_b).contains(&StreamEvent::Reset(6, 42)));
    assert_eq!(
        p.b.session_mut(sb).unwrap().recv(6),
        Err(StreamError::Reset(6))
    );
    assert_eq!(
        p.a.session_mut(sa).unwrap().send(6, &b"z"[..]),
        Err(StreamError::Closed(6))
    );
    p.drive_until(Duration::from_secs(1), |_| false);
    assert_eq!(
        p.a.session(sa).unwrap().stats().bytes_in_flight,
        0,
        "nothing resent"
    );
}

#[test]
fn priority_900_messages_overtake_a_queued_priority_100_bulk_transfer() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    let s = p.a.session_mut(sa).unwrap();
    s.create_stream(1).unwrap();
    s.create_stream(2).unwrap();
    s.set_priority(1, 100).unwrap();
    s.set_priority(2, 900).unwrap();
    assert_eq!(
        s.set_priority(2, 1001),
        Err(StreamError::InvalidPriority(1001))
    );
    assert_eq!(s.stream(0).unwrap().priority(), 500, "default priority");
    s.send_all(1, vec![0u8; 8 << 20]).unwrap();
    // Let the bulk transfer get going, then queue urgent messages.
    p.drive_until(Duration::from_millis(100), |_| false);
    for i in 0..20u8 {
        p.a.session_mut(sa).unwrap().send(2, vec![i; 1000]).unwrap();
    }
    let mut bulk_when_urgent_done = None;
    p.drive_until(Duration::from_secs(30), |p| {
        let st = p.b.session(sb).unwrap();
        let urgent = st.stream_stats(2).map_or(0, |s| s.messages_received);
        let bulk = st.stream_stats(1).map_or(0, |s| s.bytes_received);
        if urgent == 20 && bulk_when_urgent_done.is_none() {
            bulk_when_urgent_done = Some(bulk);
        }
        // The reader keeps up with the bulk stream.
        let _ = p.recv_all_b(sb, 1);
        bulk == 8 << 20
    });
    let bulk_at = bulk_when_urgent_done.expect("urgent messages arrived");
    assert!(
        bulk_at < 4 << 20,
        "urgent messages waited for {bulk_at} bulk bytes"
    );
    assert_eq!(p.recv_all_b(sb, 2).len(), 20);
}

#[test]
fn equal_priorities_share_fairly() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    for id in [1, 2] {
        p.a.session_mut(sa)
            .unwrap()
            .send_all(id, vec![0u8; 4 << 20])
            .unwrap();
    }
    p.drive_until(Duration::from_secs(60), |p| {
        let st = p.b.session(sb).unwrap();
        st.stream_stats(1).map_or(0, |s| s.bytes_received)
            + st.stream_stats(2).map_or(0, |s| s.bytes_received)
            >= 4 << 20
    });
    let st = p.b.session(sb).unwrap();
    let (x, y) = (
        st.stream_stats(1).unwrap().bytes_received,
        st.stream_stats(2).unwrap().bytes_received,
    );
    let ratio = x.min(y) as f64 / x.max(y) as f64;
    assert!(ratio > 0.8, "unfair split {x} vs {y}");
}

#[test]
fn slow_reader_pushes_back_without_blocking_other_streams() {
    let limits = {
        let mut limits = StreamLimits::default();
        limits.stream_window = 64 << 10;
        limits.max_stream_window = 64 << 10;
        limits
    };
    let b = config("b").streams(limits).build().unwrap();
    let mut p = Pair::new(config("a").build().unwrap(), b);
    let (sa, sb) = p.connect();
    p.a.session_mut(sa)
        .unwrap()
        .send_all_with(1, vec![3u8; 2 << 20], 16 << 10)
        .unwrap();
    p.drive_until(Duration::from_secs(2), |_| false);
    let st = p.b.session(sb).unwrap().stream(1).unwrap();
    assert!(
        st.buffered_bytes() <= 64 << 10,
        "buffered {} past the window",
        st.buffered_bytes()
    );
    let sent = p.a.session(sa).unwrap().stream(1).unwrap();
    assert_eq!(sent.send_window(), 0, "the sender is out of credit");
    // Another stream still flows.
    p.a.session_mut(sa).unwrap().send(2, &b"other"[..]).unwrap();
    p.drive_until(Duration::from_millis(200), |_| false);
    assert_eq!(p.recv_all_b(sb, 2), vec![b"other".to_vec()]);
    // Reading releases credit and the rest arrives.
    let mut total = 0;
    p.drive_until(Duration::from_secs(30), |p| {
        total += p.recv_all_b(sb, 1).iter().map(Vec::len).sum::<usize>();
        total == 2 << 20
    });
    assert_eq!(total, 2 << 20);
}

#[test]
fn windows_grow_when_the_reader_keeps_up() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    let initial = p.b.session(sb).unwrap().stream(0).unwrap().receive_window();
    p.a.session_mut(sa)
        .unwrap()
        .send_all(0, vec![0u8; 32 << 20])
        .unwrap();
    let mut total = 0;
    p.drive_until(Duration::from_secs(60), |p| {
        total += p.recv_all_b(sb, 0).iter().map(Vec::len).sum::<usize>();
        total == 32 << 20
    });
    assert_eq!(total, 32 << 20);
    let grown = p.b.session(sb).unwrap().stream(0).unwrap().receive_window();
    // The receiver sent thousands of pure ACKs; their records are freed
    // because it elicits an acknowledgement now and then (at the latest
    // with the next keep-alive).
    p.drive_until(Duration::from_secs(11), |_| false);
    let tracked = p.b.session(sb).unwrap().stats().packets_tracked;
    assert!(tracked < 64, "receiver tracks {tracked} sent packets");
    assert!(grown > initial, "window stayed at {initial}");
    assert!(grown <= StreamLimits::default().max_stream_window);
}

#[test]
fn a_reader_that_falls_behind_does_not_grow_the_window() {
    // The sender sits on the limit the whole time, but the reader has
    // whole messages left unread after every read: the window is not what
    // holds the transfer back, so it must not grow (only a reader that is
    // caught up lets a blocked peer earn more window).
    let limits = {
        let mut limits = StreamLimits::default();
        limits.stream_window = 64 << 10;
        limits
    };
    let b = config("b").streams(limits).build().unwrap();
    let mut p = Pair::new(config("a").build().unwrap(), b);
    let (sa, sb) = p.connect();
    for _ in 0..400 {
        p.a.session_mut(sa)
            .unwrap()
            .send(1, vec![7u8; 4 << 10])
            .unwrap();
    }
    // One message every 100 ms for 5 s (the clock is moved on by hand
    // while nothing is pending: the sender waits for credit).
    let mut read = 0;
    for _ in 0..50 {
        if let Ok(Some(_)) = p.b.session_mut(sb).unwrap().recv(1) {
            read += 1;
        }
        let tick = p.now + Duration::from_millis(100);
        p.drive_until(Duration::from_millis(100), |_| false);
        p.now = p.now.max(tick);
    }
    assert!(read >= 40, "read {read}");
    let st = p.b.session(sb).unwrap().stream(1).unwrap();
    assert_eq!(st.receive_window(), 64 << 10, "the window grew");
    assert!(st.buffered_bytes() >= 32 << 10, "the reader fell behind");
}

#[test]
fn statistics_have_every_chapter_field() {
    let mut p = Pair::default_pair();
    let before = p.now;
    let (sa, sb) = p.connect();
    p.a.session_mut(sa)
        .unwrap()
        .send(1, vec![0u8; 1000])
        .unwrap();
    p.a.session_mut(sa).unwrap().send(1, vec![0u8; 24]).unwrap();
    p.drive();
    p.b.session_mut(sb)
        .unwrap()
        .send(1, vec![0u8; 500])
        .unwrap();
    p.drive();
    let _ = p.recv_all_a(sa, 1);
    let st = p.a.session(sa).unwrap().stream_stats(1).unwrap();
    assert_eq!(st.stream_id, 1);
    assert_eq!(st.session_id, sa);
    assert!(st.is_active);
    assert_eq!((st.bytes_sent, st.bytes_received), (1024, 500));
    assert_eq!((st.messages_sent, st.messages_received), (2, 1));
    assert_eq!((st.sequence, st.expected_sequence), (2, 1));
    // App calls are stamped with the latest time the endpoint was given.
    assert!(st.created_at > before && st.created_at <= p.now);
    assert!(st.last_activity > st.created_at);
    assert!(st.uptime >= st.last_activity - st.created_at);
    assert_eq!(st.priority, 500);
    let ss = p.a.session(sa).unwrap().stats();
    assert_eq!(ss.session_id, sa);
    assert!(ss.is_established && ss.packets_sent > 0 && ss.packets_received > 0);
    assert!(ss.rtt >= Duration::from_millis(20), "rtt {:?}", ss.rtt);
}

#[test]
fn send_to_sessions_uses_each_sessions_stream_zero() {
    let mut p = Pair::default_pair();
    let (sa1, sb1) = p.connect();
    p.events_b.clear();
    let (sa2, sb2) = p.connect();
    let results = p.a.send_to_sessions(&[sa1, sa2], &b"to all"[..]);
    assert!(results.iter().all(|(_, r)| r.is_ok()));
    p.drive();
    assert_eq!(p.recv_all_b(sb1, 0), vec![b"to all".to_vec()]);
    assert_eq!(p.recv_all_b(sb2, 0), vec![b"to all".to_vec()]);
}

#[test]
fn a_peer_opening_too_many_streams_gets_the_session_closed() {
    let limits = {
        let mut limits = StreamLimits::default();
        limits.max_streams = 4;
        limits
    };
    let b = config("b").streams(limits).build().unwrap();
    let mut p = Pair::new(config("a").build().unwrap(), b);
    let (sa, sb) = p.connect();
    for id in 1..=5 {
        p.a.session_mut(sa).unwrap().send(id, &b"x"[..]).unwrap();
    }
    p.drive_until(Duration::from_secs(5), |p| p.b.session(sb).is_none());
    assert!(p.events_b.contains(&Event::Closed {
        session: sb,
        reason: CloseReason::Violation(Violation::StreamLimit)
    }));
    assert!(p.events_a.iter().any(|e| matches!(
        e,
        Event::Closed {
            reason: CloseReason::PeerError { code: 4, .. },
            ..
        }
    )));
}

#[test]
fn sends_on_a_closed_session_are_refused() {
    let mut p = Pair::default_pair();
    let (sa, _) = p.connect();
    p.a.session_mut(sa).unwrap().close(0, b"");
    assert_eq!(
        p.a.session_mut(sa).unwrap().send(0, &b"x"[..]),
        Err(StreamError::SessionClosed)
    );
}

#[test]
fn an_honest_peer_stays_within_the_session_budget_its_limits_imply() {
    // The budget's floor is the session window plus one message per
    // stream: what an honest peer can make a session hold when every
    // stream carries an unfinished (or unread) message. Three streams of
    // 200 KB messages against a reader that reads only after a while:
    // the session holds more than its window, never more than the budget,
    // and is not closed.
    let limits = {
        let mut limits = StreamLimits::default();
        limits.max_streams = 4;
        limits.max_message_size = 200_000;
        limits.stream_window = 64 << 10;
        limits.max_stream_window = 64 << 10;
        limits.session_window = 256 << 10;
        limits.max_session_window = 256 << 10;
        limits.max_session_buffer = (256 << 10) + 3 * 200_000;
        limits
    };
    let b = config("b").streams(limits).build().unwrap();
    let mut p = Pair::new(config("a").build().unwrap(), b);
    let (sa, sb) = p.connect();
    for id in 1..=3u32 {
        for k in 0..3u8 {
            p.a.session_mut(sa)
                .unwrap()
                .send(id, vec![k; 200_000])
                .unwrap();
        }
    }
    let mut peak = 0;
    p.drive_until(Duration::from_secs(3), |p| {
        peak = peak.max(p.b.session(sb).unwrap().stats().receive_buffered);
        false
    });
    let mut got = 0;
    p.drive_until(Duration::from_secs(60), |p| {
        peak = peak.max(p.b.session(sb).unwrap().stats().receive_buffered);
        got += (1..=3).map(|id| p.recv_all_b(sb, id).len()).sum::<usize>();
        got == 9
    });
    assert_eq!(got, 9);
    assert!(
        peak > limits.session_window,
        "peak {peak}: the window was not what bounded it"
    );
    assert!(peak <= limits.max_session_buffer, "peak {peak}");
    assert!(!p.b.session(sb).unwrap().is_closed());
}

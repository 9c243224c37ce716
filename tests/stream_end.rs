//! A stream the peer ended reads as finished, however the reader's calls
//! and the acknowledgements interleave.

mod common;

use common::Pair;
use stt::StreamError;

#[test]
fn a_finished_stream_reads_finished_even_after_it_was_retired() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    let a = p.a.session_mut(sa).unwrap();
    a.create_stream(3).unwrap();
    a.send(3, &b"last words"[..]).unwrap();
    a.close_stream(3).unwrap();
    // Everything arrives and is acknowledged before b reads: once b takes
    // the message, nothing is left of the stream on b's side.
    p.drive();
    let b = p.b.session_mut(sb).unwrap();
    assert_eq!(b.recv(3).unwrap().as_deref(), Some(&b"last words"[..]));
    p.drive();
    let b = p.b.session_mut(sb).unwrap();
    assert_eq!(b.recv(3), Err(StreamError::Finished(3)));
    assert_eq!(b.recv(3), Err(StreamError::Finished(3)), "and stays so");
}

#[test]
fn closing_a_stream_with_data_beyond_the_peers_window_waits_for_the_data() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    let data: Vec<u8> = (0..1u32 << 20).map(|i| i as u8).collect();
    let a = p.a.session_mut(sa).unwrap();
    a.create_stream(1).unwrap();
    a.send_all(1, data.clone()).unwrap();
    // Far more than the receiver's initial window is still unsent here.
    a.close_stream(1).unwrap();
    let mut got = Vec::new();
    p.drive_until(std::time::Duration::from_secs(30), |p| {
        let b = p.b.session_mut(sb).unwrap();
        loop {
            match b.recv(1) {
                Ok(Some(m)) => got.extend_from_slice(&m),
                Ok(None) | Err(StreamError::NotFound(1)) => return false,
                Err(StreamError::Finished(1)) => return true,
                Err(e) => panic!("{e}"),
            }
        }
    });
    assert!(got == data, "got {} bytes", got.len());
    assert!(p.b.session(sb).unwrap().is_established());
    assert!(p.a.session(sa).unwrap().is_established());
}

#[test]
fn resetting_a_stream_with_data_beyond_the_peers_window_keeps_the_session() {
    let mut p = Pair::default_pair();
    let (sa, sb) = p.connect();
    let a = p.a.session_mut(sa).unwrap();
    a.create_stream(1).unwrap();
    a.send_all(1, vec![9u8; 1 << 20]).unwrap();
    a.reset_stream(1, 42).unwrap();
    p.drive();
    assert!(p.b.session(sb).unwrap().is_established());
    assert!(p.a.session(sa).unwrap().is_established());
    assert!(p.events_b.iter().any(|e| matches!(
        e,
        stt::Event::Stream {
            event: stt::StreamEvent::Reset(1, 42),
            ..
        }
    )));
}

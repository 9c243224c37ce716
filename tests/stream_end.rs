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

//! The blocking adapter of examples/adapters/ over real loopback sockets.
//! Each test runs the server node in a thread of its own: a blocking node
//! only works while a call runs the loop.

#[path = "../examples/adapters/blocking_node.rs"]
mod blocking_node;

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use blocking_node::{BlockingNode, Error};
use stt::{CloseReason, Config, SessionId, StreamError};

const NET: &[u8] = b"shared_secret_32bytes_minimum!";
const WAIT: Duration = Duration::from_secs(10);

fn node(name: &str, net: &[u8]) -> BlockingNode {
    let cfg = Config::builder(format!("{name:-<32}").as_bytes(), net)
        .handshake_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    BlockingNode::bind("127.0.0.1:0", cfg).unwrap()
}

/// A server thread that accepts one session and runs `serve` on it.
fn server<R: Send + 'static>(
    serve: impl FnOnce(&mut BlockingNode, SessionId) -> R + Send + 'static,
) -> (std::net::SocketAddr, stt::NodeId, JoinHandle<R>) {
    let mut n = node("server", NET);
    let addr = n.local_addr().unwrap();
    let id = n.node_id();
    let h = std::thread::spawn(move || {
        let s = n.accept_timeout(WAIT).unwrap();
        serve(&mut n, s)
    });
    (addr, id, h)
}

#[test]
fn handshake_and_a_message_each_way() {
    let (addr, server_id, h) = server(|n, s| {
        let remote = n.session_stats(s).unwrap().remote_node;
        let m = n.receive_timeout(s, 0, WAIT).unwrap().unwrap();
        n.send(s, 0, [&b"re: "[..], &m].concat()).unwrap();
        // Serve until the client is done.
        n.closed_timeout(s, WAIT).unwrap();
        remote
    });
    let mut c = node("client", NET);
    let s = c.connect(addr).unwrap();
    assert_eq!(c.session_stats(s).unwrap().remote_node, Some(server_id));
    c.send(s, 0, &b"hello"[..]).unwrap();
    let answer = c.receive_timeout(s, 0, WAIT).unwrap().unwrap();
    assert_eq!(answer, &b"re: hello"[..]);
    c.flush_session(s, WAIT).unwrap();
    c.close(s, 0, b"").unwrap();
    assert_eq!(h.join().unwrap(), Some(c.node_id()));
}

#[test]
fn receive_timeout_is_a_typed_error() {
    let (addr, _, h) = server(|n, s| n.closed_timeout(s, WAIT).unwrap());
    let mut c = node("client", NET);
    let s = c.connect(addr).unwrap();
    let started = Instant::now();
    let r = c.receive_timeout(s, 0, Duration::from_millis(150));
    assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
    assert!(started.elapsed() >= Duration::from_millis(150));
    c.close(s, 0, b"").unwrap();
    h.join().unwrap();
}

#[test]
fn send_all_of_1_mib_is_reassembled_and_the_end_seen() {
    let (addr, _, h) = server(|n, s| {
        let id = n.accept_stream_timeout(s, WAIT).unwrap();
        let mut got = Vec::new();
        let mut messages = 0;
        while let Some(m) = n.receive_timeout(s, id, WAIT).unwrap() {
            got.extend_from_slice(&m);
            messages += 1;
        }
        n.closed_timeout(s, WAIT).unwrap();
        (id, messages, got)
    });
    let data: Vec<u8> = (0..1u32 << 20).map(|i| (i % 253) as u8).collect();
    let mut c = node("client", NET);
    let s = c.connect(addr).unwrap();
    c.create_stream(s, 4).unwrap();
    assert_eq!(c.streams(s).unwrap(), [0, 4]);
    assert_eq!(c.send_all(s, 4, data.clone()).unwrap(), 0..16);
    c.flush(s, 4, WAIT).unwrap();
    let st = c.stream_stats(s, 4).unwrap();
    assert_eq!(
        (st.bytes_sent, st.messages_sent, st.unacked),
        (1 << 20, 16, 0)
    );
    c.close_stream(s, 4).unwrap();
    assert!(!c.has_stream(s, 4));
    c.flush_session(s, WAIT).unwrap();
    c.close(s, 0, b"").unwrap();
    let (id, messages, got) = h.join().unwrap();
    assert_eq!((id, messages), (4, 16));
    assert!(got == data, "reassembled data differs");
}

#[test]
fn session_close_is_seen_by_the_peer() {
    let (addr, _, h) = server(|n, s| {
        // A receive waiting on the session learns why it ended.
        let r = n.receive_timeout(s, 0, WAIT);
        let why = n.closed_timeout(s, WAIT).unwrap();
        (r, why)
    });
    let mut c = node("client", NET);
    let s = c.connect(addr).unwrap();
    c.close(s, 7, b"bye").unwrap();
    assert!(matches!(
        c.send(s, 0, &b"late"[..]),
        Err(Error::SessionClosed(CloseReason::Local { code: 7 }))
    ));
    let (r, why) = h.join().unwrap();
    let want = CloseReason::Peer {
        code: 7,
        reason: bytes::Bytes::from_static(b"bye"),
    };
    assert_eq!(why, Some(want.clone()));
    match r {
        Err(Error::SessionClosed(r)) => assert_eq!(r, want),
        other => panic!("{other:?}"),
    }
}

#[test]
fn wrong_shared_seed_fails_the_handshake() {
    let mut server = node("server", NET);
    let addr = server.local_addr().unwrap();
    let h = std::thread::spawn(move || {
        let r = server.accept_timeout(Duration::from_secs(3));
        (r.map(|_| ()), server.endpoint().stats().handshakes_rejected)
    });
    let mut c = node("client", b"another network's seed!!");
    let started = Instant::now();
    match c.connect(addr) {
        Err(Error::ConnectFailed(CloseReason::HandshakeTimeout)) => {}
        other => panic!("{other:?}"),
    }
    assert!(started.elapsed() >= Duration::from_secs(2));
    let (accepted, rejected) = h.join().unwrap();
    assert!(matches!(accepted, Err(Error::Timeout)), "{accepted:?}");
    assert!(rejected > 0);
}

#[test]
fn unknown_streams_and_sessions_are_typed_errors() {
    let mut c = node("client", NET);
    let nobody = SessionId(12345);
    assert!(matches!(
        c.send(nobody, 0, &b"x"[..]),
        Err(Error::Stream(StreamError::SessionClosed))
    ));
    let (addr, _, h) = server(|n, s| n.closed_timeout(s, WAIT).unwrap());
    let s = c.connect(addr).unwrap();
    assert!(matches!(
        c.receive_timeout(s, 99, Duration::from_millis(10)),
        Err(Error::Stream(StreamError::NotFound(99)))
    ));
    assert!(matches!(
        c.set_priority(s, 0, 1001),
        Err(Error::Stream(StreamError::InvalidPriority(1001)))
    ));
    c.close(s, 0, b"").unwrap();
    h.join().unwrap();
}

/// Unacknowledged bytes the writers below may hold on a stream.
const SEND_QUEUE: u64 = 64 << 10;
const PIECE: usize = 16 << 10;

/// A client whose streams refuse sends past `SEND_QUEUE`.
fn small_queue_client() -> BlockingNode {
    let limits = {
        let mut limits = stt::StreamLimits::default();
        limits.max_send_queue = SEND_QUEUE;
        limits
    };
    let cfg = Config::builder(format!("{:-<32}", "client").as_bytes(), NET)
        .handshake_timeout(Duration::from_secs(2))
        .streams(limits)
        .build()
        .unwrap();
    BlockingNode::bind("127.0.0.1:0", cfg).unwrap()
}

#[test]
fn a_writer_blocked_on_a_full_stream_resumes_once_acks_return() {
    let pieces = 64u8;
    let (addr, _, h) = server(move |n, s| {
        let id = n.accept_stream_timeout(s, WAIT).unwrap();
        let got: Vec<_> = (0..pieces)
            .map(|_| n.receive_timeout(s, id, WAIT).unwrap().unwrap())
            .collect();
        n.closed_timeout(s, WAIT).unwrap();
        got
    });
    let mut c = small_queue_client();
    let s = c.connect(addr).unwrap();
    // Nothing runs the loop between these calls, so no acknowledgement is
    // taken in: every fifth call or so finds the stream full and waits for
    // it to become writable.
    for i in 0..pieces {
        c.send(s, 1, vec![i; PIECE]).unwrap();
        let unacked = c.stream_stats(s, 1).unwrap().unacked;
        assert!(unacked <= SEND_QUEUE + PIECE as u64 + 1, "{unacked}");
    }
    c.flush_session(s, WAIT).unwrap();
    c.close(s, 0, b"").unwrap();
    let got = h.join().unwrap();
    for (i, m) in got.iter().enumerate() {
        assert_eq!(m, &vec![i as u8; PIECE]);
    }
}

#[test]
fn a_writer_blocked_on_a_full_stream_fails_when_the_session_ends() {
    let (addr, _, h) = server(|n, s| {
        // Not running the loop: nothing the client sends is acknowledged.
        std::thread::sleep(Duration::from_millis(300));
        n.close(s, 7, b"bye").unwrap();
    });
    let mut c = small_queue_client();
    let s = c.connect(addr).unwrap();
    let mut sent = 0;
    let e = loop {
        match c.send(s, 1, vec![0u8; PIECE]) {
            Ok(_) => sent += 1,
            Err(e) => break e,
        }
    };
    h.join().unwrap();
    assert!(sent >= 3, "only {sent} pieces before the stream filled");
    let want = CloseReason::Peer {
        code: 7,
        reason: bytes::Bytes::from_static(b"bye"),
    };
    match e {
        Error::SessionClosed(r) => assert_eq!(r, want),
        other => panic!("{other:?}"),
    }
}

#[test]
fn datagrams_each_way_and_the_rate() {
    let (addr, _, h) = server(|n, s| {
        let d = n.receive_datagram(s, Some(WAIT)).unwrap();
        n.send_datagram(s, [&b"re: "[..], &d].concat(), None, false)
            .unwrap();
        n.closed_timeout(s, WAIT).unwrap();
    });
    let mut c = node("client", NET);
    let s = c.connect(addr).unwrap();
    let max = c.max_datagram_payload(s).unwrap().unwrap();
    assert!(matches!(
        c.send_datagram(s, vec![0u8; max + 1], None, false),
        Err(Error::Datagram(stt::DatagramError::TooLarge { .. }))
    ));
    // Loopback loses nothing; resend now and then in case it did.
    let answer = loop {
        c.send_datagram(s, &b"hello"[..], Some(Duration::from_secs(1)), false)
            .unwrap();
        match c.receive_datagram(s, Some(Duration::from_millis(500))) {
            Ok(a) => break a,
            Err(Error::Timeout) => continue,
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(answer, &b"re: hello"[..]);
    // Fates are forwarded: one already past its deadline never leaves.
    let late = c
        .send_datagram(s, &b"late"[..], Some(Duration::ZERO), true)
        .unwrap();
    assert_eq!(
        c.datagram_fate(s, Some(WAIT)).unwrap(),
        stt::DatagramEvent::Expired(late)
    );
    assert!(matches!(
        c.datagram_fate(s, Some(Duration::from_millis(10))),
        Err(Error::Timeout)
    ));
    let (rate, rtt) = c.rate(s).unwrap();
    assert!(rtt > Duration::ZERO);
    let _ = rate;
    c.close(s, 0, b"").unwrap();
    h.join().unwrap();
}

#[test]
fn a_message_past_its_deadline_is_reported_expired_and_the_next_arrives() {
    let (addr, _, h) = server(|n, s| {
        let m = n.receive_timeout(s, 0, WAIT).unwrap().unwrap();
        n.closed_timeout(s, WAIT).unwrap();
        m
    });
    let mut c = node("client", NET);
    let s = c.connect(addr).unwrap();
    // No time to arrive: dropped unsent; the message after it is delivered.
    let seq = c
        .send_within(s, 0, &b"too late"[..], Duration::ZERO)
        .unwrap();
    c.send_within(s, 0, &b"in time"[..], WAIT).unwrap();
    c.flush_session(s, WAIT).unwrap();
    let expired = c.expired(s);
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(
        (expired[0].stream, expired[0].seq, expired[0].sent),
        (0, seq, false)
    );
    c.close(s, 0, b"").unwrap();
    assert_eq!(h.join().unwrap(), &b"in time"[..]);
}

#[test]
fn tickets_exported_by_one_node_let_the_next_with_its_seed_resume() {
    let (addr, _, h) = server(|n, s| {
        n.receive_timeout(s, 0, WAIT).unwrap().unwrap();
        let again = n.accept_timeout(WAIT).unwrap();
        let resumed = n.is_resumed(again).unwrap();
        n.closed_timeout(again, WAIT).unwrap();
        resumed
    });
    let mut c = node("client", NET);
    let s = c.connect(addr).unwrap();
    assert!(!c.is_resumed(s).unwrap());
    c.send(s, 0, &b"hi"[..]).unwrap();
    let start = Instant::now();
    while !c.has_ticket(addr) {
        assert!(start.elapsed() < WAIT, "no ticket arrived");
        c.run_for(Duration::from_millis(5)).unwrap();
    }
    let file = c.export_tickets();
    drop(c);
    // A restarted process: a new node with the same seed.
    let mut c = node("client", NET);
    assert_eq!(c.import_tickets(&file).unwrap(), 1);
    let s = c.connect(addr).unwrap();
    assert!(c.is_resumed(s).unwrap());
    c.close(s, 0, b"").unwrap();
    c.run_for(Duration::from_millis(50)).unwrap();
    assert!(h.join().unwrap(), "the server saw a resumed session");
    let mut other = node("stranger", NET);
    assert!(matches!(
        other.import_tickets(&file),
        Err(Error::Tickets(stt::TicketImportError::Auth))
    ));
}

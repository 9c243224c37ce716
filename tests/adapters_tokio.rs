//! The tokio adapter of examples/adapters/ over real loopback sockets.

#[path = "../examples/adapters/tokio_node.rs"]
mod tokio_node;

use std::time::Duration;

use stt::{CloseReason, Config, StreamError};
use tokio_node::{Error, Node, Session};

const NET: &[u8] = b"shared_secret_32bytes_minimum!";
const WAIT: Duration = Duration::from_secs(10);

fn config(name: &str, net: &[u8]) -> stt::ConfigBuilder {
    Config::builder(format!("{name:-<32}").as_bytes(), net)
}

async fn node(name: &str) -> Node {
    Node::bind("127.0.0.1:0", config(name, NET).build().unwrap())
        .await
        .unwrap()
}

/// A client and a server node with one session between them:
/// (client, server, client's session, server's session).
async fn pair() -> (Node, Node, Session, Session) {
    let (client, server) = (node("client").await, node("server").await);
    let (c, s) = tokio::join!(client.connect(server.local_addr()), server.accept());
    (client, server, c.unwrap(), s.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_proves_both_identities() {
    let (client, server, c, s) = pair().await;
    assert_eq!(c.remote_node(), Some(server.node_id()));
    assert_eq!(s.remote_node(), Some(client.node_id()));
    assert_eq!(c.peer(), server.local_addr());
    assert_eq!(s.peer(), client.local_addr());
    assert!(c.stats().await.unwrap().is_established);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_go_each_way_on_stream_0_and_a_created_stream() {
    let (_client, _server, c, s) = pair().await;
    let c0 = c.stream(0).await.unwrap().expect("stream 0 always exists");
    let s0 = s.stream(0).await.unwrap().unwrap();
    c0.send(&b"ping"[..]).await.unwrap();
    assert_eq!(
        s0.receive_timeout(WAIT).await.unwrap().unwrap(),
        &b"ping"[..]
    );
    s0.send(&b"pong"[..]).await.unwrap();
    assert_eq!(
        c0.receive_timeout(WAIT).await.unwrap().unwrap(),
        &b"pong"[..]
    );

    let c5 = c.create_stream(5).await.unwrap();
    assert!(matches!(
        c.create_stream(5).await,
        Err(Error::Stream(StreamError::AlreadyExists(5)))
    ));
    for i in 0..3u8 {
        c5.send(vec![i; 10]).await.unwrap();
    }
    let s5 = tokio::time::timeout(WAIT, s.accept_stream())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(s5.id(), 5);
    for i in 0..3u8 {
        assert_eq!(
            s5.receive_timeout(WAIT).await.unwrap().unwrap(),
            vec![i; 10]
        );
    }
    s5.send(&b"back on 5"[..]).await.unwrap();
    assert_eq!(
        c5.receive_timeout(WAIT).await.unwrap().unwrap(),
        &b"back on 5"[..]
    );
    let ids: Vec<u32> = c.streams().await.unwrap().iter().map(|s| s.id()).collect();
    assert_eq!(ids, [0, 5]);
    c5.flush().await.unwrap();
    let st = c5.stats().await.unwrap();
    assert_eq!((st.messages_sent, st.bytes_sent, st.unacked), (3, 30, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receive_timeout_is_a_typed_error_and_loses_nothing() {
    let (_client, _server, c, s) = pair().await;
    let s0 = s.stream(0).await.unwrap().unwrap();
    let started = std::time::Instant::now();
    let r = s0.receive_timeout(Duration::from_millis(100)).await;
    assert!(matches!(r, Err(Error::Timeout)), "{r:?}");
    assert!(started.elapsed() >= Duration::from_millis(100));

    // Receives that time out while messages stream in (some of them after
    // the core handed a message over) must neither lose nor reorder any.
    let c0 = c.stream(0).await.unwrap().unwrap();
    let sender = tokio::spawn(async move {
        for i in 0..300u32 {
            c0.send(i.to_be_bytes().to_vec()).await.unwrap();
            if i % 50 == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });
    let mut got = Vec::new();
    let mut timeouts = 0;
    while got.len() < 300 {
        match s0.receive_timeout(Duration::from_micros(30)).await {
            Ok(Some(m)) => got.push(u32::from_be_bytes(m[..].try_into().unwrap())),
            Ok(None) => panic!("stream 0 ended"),
            Err(Error::Timeout) => timeouts += 1,
            Err(e) => panic!("{e}"),
        }
        assert!(timeouts < 1_000_000, "stuck after {} messages", got.len());
    }
    sender.await.unwrap();
    assert_eq!(got, (0..300).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receive_dropped_after_its_message_was_handed_over_gives_it_back() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    let (_client, _server, c, s) = pair().await;
    let c0 = c.stream(0).await.unwrap().unwrap();
    let s0 = s.stream(0).await.unwrap().unwrap();
    c0.send(&b"first"[..]).await.unwrap();
    c0.send(&b"second"[..]).await.unwrap();
    c0.flush().await.unwrap(); // both are in the server's core now
    let mut expect: Vec<&[u8]> = vec![b"first", b"second"];
    {
        let mut receiving = std::pin::pin!(s0.receive());
        let mut cx = Context::from_waker(Waker::noop());
        // One poll sends the job; the loop then hands "first" over while
        // nobody polls, and the future is dropped unread.
        if let Poll::Ready(r) = receiving.as_mut().poll(&mut cx) {
            assert_eq!(r.unwrap().unwrap(), expect.remove(0));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for want in expect {
        assert_eq!(s0.receive_timeout(WAIT).await.unwrap().unwrap(), want);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receive_batch_takes_what_is_ready_in_order_and_gives_back_a_dropped_batch() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    let (_client, _server, c, s) = pair().await;
    let c1 = c.create_stream(1).await.unwrap();
    for i in 0..10u8 {
        c1.send(vec![i; 10 + usize::from(i)]).await.unwrap();
    }
    c1.flush().await.unwrap(); // all ten are in the server's core now
    let s1 = s.accept_stream().await.unwrap();
    let mut got: Vec<u8> = Vec::new();
    {
        // Handed a batch while nobody polls, then dropped unread: the
        // messages go back in front of the stream, in order.
        let mut receiving = std::pin::pin!(s1.receive_batch(4));
        let mut cx = Context::from_waker(Waker::noop());
        if let Poll::Ready(r) = receiving.as_mut().poll(&mut cx) {
            got.extend(r.unwrap().unwrap().iter().map(|m| m[0]));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // At most `max` per call, at least one, nothing lost or reordered.
    let first = s1.receive_batch_timeout(4, WAIT).await.unwrap().unwrap();
    assert!(!first.is_empty() && first.len() <= 4, "{}", first.len());
    got.extend(first.iter().map(|m| m[0]));
    c1.close().await.unwrap();
    while let Some(batch) = s1.receive_batch_timeout(4, WAIT).await.unwrap() {
        assert!(!batch.is_empty() && batch.len() <= 4, "{}", batch.len());
        for m in batch {
            assert_eq!(m.len(), 10 + usize::from(m[0]), "a message's own bytes");
            got.push(m[0]);
        }
    }
    assert_eq!(got, (0..10).collect::<Vec<u8>>());
    // Ended and read: every later call says so.
    assert!(s1.receive_batch(4).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_all_of_1_mib_is_reassembled() {
    let (_client, _server, c, s) = pair().await;
    let data: Vec<u8> = (0..1u32 << 20).map(|i| (i % 251) as u8).collect();
    let c1 = c.create_stream(1).await.unwrap();
    let seqs = c1.send_all(data.clone()).await.unwrap();
    assert_eq!(seqs, 0..16, "16 segments of 64 KiB");
    c1.close().await.unwrap();
    let s1 = s.accept_stream().await.unwrap();
    let mut got = Vec::new();
    let mut messages = 0;
    while let Some(m) = s1.receive_timeout(WAIT).await.unwrap() {
        got.extend_from_slice(&m);
        messages += 1;
    }
    assert_eq!(messages, 16);
    assert!(got == data, "reassembled data differs");

    // A segment size of our own.
    let c2 = c.create_stream(2).await.unwrap();
    assert_eq!(c2.send_all_with(vec![7u8; 1000], 300).await.unwrap(), 0..4);
    let s2 = s.accept_stream().await.unwrap();
    let lens: Vec<usize> = futures_lens(&s2, 4).await;
    assert_eq!(lens, [300, 300, 300, 100]);
}

/// On one thread, a writer that calls again as soon as it is answered (the
/// loop lets it, a bounded number of times, before sending): its many small
/// messages all arrive once and in order, and a shutdown still ends the node
/// while another writer never stops calling.
#[tokio::test(flavor = "current_thread")]
async fn a_writer_that_keeps_calling_starves_neither_sending_nor_shutdown() {
    let (client, _server, c, s) = pair().await;
    let tx = c.create_stream(3).await.unwrap();
    let writer = tokio::spawn(async move {
        for i in 0..600u32 {
            tx.send_all(vec![(i % 256) as u8; 4096]).await.unwrap();
        }
        tx.close().await.unwrap();
    });
    let rx = s.accept_stream().await.unwrap();
    let mut firsts = Vec::new();
    while let Some(m) = rx.receive_timeout(WAIT).await.unwrap() {
        assert_eq!(m.len(), 4096);
        assert!(m.iter().all(|&b| b == m[0]), "one message's bytes mixed");
        firsts.push(m[0]);
    }
    writer.await.unwrap();
    let want: Vec<u8> = (0..600u32).map(|i| (i % 256) as u8).collect();
    assert_eq!(firsts, want, "every message once, in order");

    // A writer that only stops when the node is gone.
    let tx = c.create_stream(4).await.unwrap();
    let endless = tokio::spawn(async move {
        let mut calls = 0u64;
        loop {
            match tx.send_all(vec![1u8; 4096]).await {
                Ok(_) => calls += 1,
                Err(e) => return (calls, e),
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    tokio::time::timeout(WAIT, client.shutdown())
        .await
        .expect("shutdown ends the loop while a writer keeps calling")
        .unwrap();
    let (calls, e) = tokio::time::timeout(WAIT, endless)
        .await
        .expect("the writer hears that the node is gone")
        .unwrap();
    assert!(
        calls > 0,
        "the writer got calls through before the shutdown"
    );
    // Gone with the node, or refused by its closed session if the call
    // was waiting for room when the shutdown closed it.
    assert!(
        matches!(
            e,
            Error::NodeGone | Error::SessionClosed(_) | Error::Stream(StreamError::SessionClosed)
        ),
        "{e:?}"
    );
}

async fn futures_lens(s: &tokio_node::Stream, n: usize) -> Vec<usize> {
    let mut v = Vec::new();
    for _ in 0..n {
        v.push(s.receive_timeout(WAIT).await.unwrap().unwrap().len());
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closes_are_seen_by_the_peer() {
    let (client, _server, c, s) = pair().await;
    // A stream close: the peer reads what was sent, then the end.
    let c3 = c.create_stream(3).await.unwrap();
    c3.send(&b"last"[..]).await.unwrap();
    c3.close().await.unwrap();
    assert!(
        c.stream(3).await.unwrap().is_none(),
        "closed streams are hidden"
    );
    assert!(matches!(
        c3.send(&b"more"[..]).await,
        Err(Error::Stream(StreamError::Closed(3)))
    ));
    let s3 = s.accept_stream().await.unwrap();
    assert_eq!(
        s3.receive_timeout(WAIT).await.unwrap().unwrap(),
        &b"last"[..]
    );
    assert_eq!(s3.receive_timeout(WAIT).await.unwrap(), None);

    // A session close: a waiting receive and `closed` both learn why.
    let s0 = s.stream(0).await.unwrap().unwrap();
    let waiting = tokio::spawn(async move { s0.receive_timeout(WAIT).await });
    tokio::time::sleep(Duration::from_millis(20)).await;
    c.close(7, b"bye").await.unwrap();
    let want = CloseReason::Peer {
        code: 7,
        reason: bytes::Bytes::from_static(b"bye"),
    };
    let r = tokio::time::timeout(WAIT, s.closed())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r, Some(want.clone()));
    match waiting.await.unwrap() {
        Err(Error::SessionClosed(r)) => assert_eq!(r, want),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        c.closed().await.unwrap(),
        Some(CloseReason::Local { code: 7 })
    );
    // After shutdown, handles report the node is gone.
    client.shutdown().await.unwrap();
    assert!(matches!(c.stats().await, Err(Error::NodeGone)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_shared_seed_fails_the_handshake() {
    let server = node("server").await;
    let client = Node::bind(
        "127.0.0.1:0",
        config("client", b"another network's seed!!")
            .handshake_timeout(Duration::from_millis(800))
            .build()
            .unwrap(),
    )
    .await
    .unwrap();
    let r = tokio::time::timeout(WAIT, client.connect(server.local_addr()))
        .await
        .unwrap();
    match r {
        Err(Error::ConnectFailed(CloseReason::HandshakeTimeout)) => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(server.sessions().await.unwrap(), vec![]);
    assert!(server.stats().await.unwrap().handshakes_rejected > 0);
}

/// A server with three clients "a", "b", "c": (server, each client with
/// its session, the server's side of each session in the same order).
async fn star() -> (Node, Vec<(Node, Session)>, Vec<Session>) {
    let server = node("server").await;
    let mut clients = Vec::new();
    let mut sessions = Vec::new();
    for name in ["a", "b", "c"] {
        let n = node(name).await;
        let (c, s) = tokio::join!(n.connect(server.local_addr()), server.accept());
        sessions.push(s.unwrap());
        clients.push((n, c.unwrap()));
    }
    (server, clients, sessions)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_to_sessions_reaches_stream_0_of_each() {
    let (server, clients, sessions) = star().await;
    let ids: Vec<_> = sessions.iter().map(Session::id).collect();
    let r = server.send_to_sessions(&ids, &b"all"[..]).await.unwrap();
    assert!(r.iter().all(|(_, r)| r == &Ok(0)), "{r:?}");
    for (_, c) in &clients {
        let s0 = c.stream(0).await.unwrap().unwrap();
        assert_eq!(
            s0.receive_timeout(WAIT).await.unwrap().unwrap(),
            &b"all"[..]
        );
    }
}

/// The server's datagrams to three peers at once come out of the core
/// interleaved by session, so the adapter's GSO runs end at every change of
/// destination and at every short datagram (small messages between the
/// bulk): every peer still gets exactly its bytes, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_to_three_peers_at_once_arrives_intact() {
    let (_server, clients, sessions) = star().await;
    let data = |k: usize| -> Vec<u8> {
        (0..(1usize << 20) + 333 * k)
            .map(|i| (i * (k + 3) % 251) as u8)
            .collect()
    };
    let sends = sessions.iter().enumerate().map(|(k, s)| {
        let s = s.clone();
        let bulk = data(k);
        async move {
            let st = s.create_stream(5).await.unwrap();
            st.send(&b"small first"[..]).await.unwrap();
            st.send_all(bulk).await.unwrap();
            st.send(&b"small last"[..]).await.unwrap();
            st.close().await.unwrap();
        }
    });
    let receives = clients.iter().map(|(_, c)| async move {
        let st = c.accept_stream().await.unwrap();
        let mut got = Vec::new();
        let mut messages = Vec::new();
        while let Some(m) = st.receive_timeout(WAIT).await.unwrap() {
            messages.push(m.len());
            got.extend_from_slice(&m);
        }
        (got, messages)
    });
    let (_, received) = tokio::join!(
        each_in_turn(sends.collect()),
        each_in_turn(receives.collect())
    );
    for (k, (got, messages)) in received.into_iter().enumerate() {
        let mut want = b"small first".to_vec();
        want.extend_from_slice(&data(k));
        want.extend_from_slice(b"small last");
        assert!(
            got == want,
            "peer {k}: bytes differ ({} against {})",
            got.len(),
            want.len()
        );
        assert_eq!(messages.first(), Some(&11), "peer {k}");
        assert_eq!(messages.last(), Some(&10), "peer {k}");
    }
}

/// Runs every future to completion (in turn: each is polled only once the
/// previous is done, which is enough here as the node tasks do the work).
async fn each_in_turn<F: std::future::Future>(fs: Vec<F>) -> Vec<F::Output> {
    let handles: Vec<_> = fs.into_iter().map(Box::pin).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await);
    }
    out
}

/// Unacknowledged bytes the writers below may hold on a stream.
const SEND_QUEUE: u64 = 64 << 10;
const PIECE: usize = 16 << 10;

/// A UDP relay between one client and `server` that can hold the client's
/// datagrams (they queue, and go on once released); the server's always
/// pass. Holding them holds back every acknowledgement, so a writer's
/// stream fills and stays full until released.
struct Relay {
    addr: std::net::SocketAddr,
    hold: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Relay {
    async fn new(server: std::net::SocketAddr) -> Relay {
        use std::sync::atomic::{AtomicBool, Ordering};
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let hold = std::sync::Arc::new(AtomicBool::new(false));
        let held_flag = hold.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; 65_536];
            let mut client = None;
            let mut held: Vec<Vec<u8>> = Vec::new();
            loop {
                let got =
                    tokio::time::timeout(Duration::from_millis(5), socket.recv_from(&mut buf))
                        .await;
                let holding = held_flag.load(Ordering::SeqCst);
                if !holding {
                    for d in held.drain(..) {
                        let _ = socket.send_to(&d, server).await;
                    }
                }
                let Ok(Ok((n, from))) = got else { continue };
                if from == server {
                    if let Some(c) = client {
                        let _ = socket.send_to(&buf[..n], c).await;
                    }
                } else {
                    client = Some(from);
                    if holding {
                        held.push(buf[..n].to_vec());
                    } else {
                        let _ = socket.send_to(&buf[..n], server).await;
                    }
                }
            }
        });
        Relay { addr, hold }
    }

    fn hold(&self, on: bool) {
        self.hold.store(on, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A client whose streams refuse sends past `SEND_QUEUE`, connected through
/// a relay to a server: (client, server, relay, client's session, server's).
async fn relayed_pair() -> (Node, Node, Relay, Session, Session) {
    let limits = {
        let mut limits = stt::StreamLimits::default();
        limits.max_send_queue = SEND_QUEUE;
        limits
    };
    let cfg = config("client", NET).streams(limits).build().unwrap();
    let client = Node::bind("127.0.0.1:0", cfg).await.unwrap();
    let server = node("server").await;
    let relay = Relay::new(server.local_addr()).await;
    let (c, s) = tokio::join!(client.connect(relay.addr), server.accept());
    (client, server, relay, c.unwrap(), s.unwrap())
}

/// Sends pieces on `stream` until one fails; how many went, and why the
/// last did not.
async fn write_until_refused(stream: tokio_node::Stream) -> (usize, Error) {
    for n in 0.. {
        if let Err(e) = stream.send(vec![n as u8; PIECE]).await {
            return (n, e);
        }
    }
    unreachable!()
}

/// A writer on stream `id` of `c`, once it waits on the full stream.
async fn blocked_writer(c: &Session, id: u32) -> tokio::task::JoinHandle<(usize, Error)> {
    let stream = c.open_stream(id).await.unwrap();
    let writer = tokio::spawn(write_until_refused(stream));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!writer.is_finished(), "stream {id}: never blocked");
    writer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_blocked_on_a_full_stream_resumes_once_acks_return() {
    let (_client, _server, relay, c, s) = relayed_pair().await;
    let c1 = c.open_stream(1).await.unwrap();
    relay.hold(true);
    let pieces = 16;
    let writer = tokio::spawn(async move {
        for i in 0..pieces {
            c1.send(vec![i as u8; PIECE]).await.unwrap();
        }
    });
    // No acknowledgement can come: the writer waits on the full stream.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!writer.is_finished(), "the writer never blocked");
    let st = c.with(|x| Ok(x.stream_stats(1).unwrap())).await.unwrap();
    assert!(st.unacked >= SEND_QUEUE, "{st:?}");
    assert!(st.messages_sent < pieces as u64, "{st:?}");
    // Acknowledgements return: the stream becomes writable, the writer goes on.
    relay.hold(false);
    tokio::time::timeout(WAIT, writer).await.unwrap().unwrap();
    let s1 = tokio::time::timeout(WAIT, s.accept_stream())
        .await
        .unwrap()
        .unwrap();
    for i in 0..pieces {
        let m = s1.receive_timeout(WAIT).await.unwrap().unwrap();
        assert_eq!(m, vec![i as u8; PIECE]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_blocked_on_a_full_stream_fails_when_the_stream_or_session_ends() {
    let (_client, _server, relay, c, s) = relayed_pair().await;
    // The peer knows stream 1 before the client's datagrams are held.
    let c1 = c.open_stream(1).await.unwrap();
    c1.send(&b"hello"[..]).await.unwrap();
    let s1 = tokio::time::timeout(WAIT, s.accept_stream())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        s1.receive_timeout(WAIT).await.unwrap().unwrap(),
        &b"hello"[..]
    );
    relay.hold(true);

    // The peer resets the stream (its datagrams still pass).
    let writer = blocked_writer(&c, 1).await;
    s1.reset(9).await.unwrap();
    let (n, e) = tokio::time::timeout(WAIT, writer).await.unwrap().unwrap();
    assert!(n >= 3, "only {n} pieces before the stream filled");
    assert!(matches!(e, Error::Stream(StreamError::Reset(1))), "{e:?}");

    // This side closes the stream.
    let writer = blocked_writer(&c, 2).await;
    c.close_stream(2).await.unwrap();
    let (_, e) = tokio::time::timeout(WAIT, writer).await.unwrap().unwrap();
    assert!(matches!(e, Error::Stream(StreamError::Closed(2))), "{e:?}");

    // This side closes the session.
    let writer = blocked_writer(&c, 3).await;
    c.close(5, b"done").await.unwrap();
    let (_, e) = tokio::time::timeout(WAIT, writer).await.unwrap().unwrap();
    assert!(
        matches!(e, Error::SessionClosed(CloseReason::Local { code: 5 })),
        "{e:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_to_a_restarted_listener_fails_within_a_second() {
    let (client, server, c, s) = pair().await;
    let addr = server.local_addr();
    let out = c.create_stream(1).await.unwrap();
    out.send(vec![1u8; 1_000]).await.unwrap();
    let inc = tokio::time::timeout(WAIT, s.accept_stream())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        inc.receive_timeout(WAIT).await.unwrap().unwrap().len(),
        1_000
    );
    // The listener dies without a word (every handle dropped: its loop
    // ends, its socket closes) and starts again on the same port with the
    // same identity and none of its sessions.
    drop((inc, s, server));
    let started = std::time::Instant::now();
    let restarted = loop {
        match Node::bind(addr, config("server", NET).build().unwrap()).await {
            Ok(n) => break n,
            Err(_) if started.elapsed() < WAIT => {
                tokio::time::sleep(Duration::from_millis(5)).await
            }
            Err(e) => panic!("cannot bind {addr} again: {e}"),
        }
    };
    assert_eq!(Some(restarted.node_id()), c.remote_node());
    let restart = std::time::Instant::now();
    // The sender keeps sending until its session fails.
    let err = loop {
        match out.send(vec![2u8; 10_000]).await {
            Ok(_) if restart.elapsed() < WAIT => tokio::time::sleep(Duration::from_millis(2)).await,
            Ok(_) => panic!("still sending after {WAIT:?}"),
            Err(e) => break e,
        }
    };
    let took = restart.elapsed();
    assert!(
        matches!(err, Error::SessionClosed(CloseReason::StatelessReset)),
        "{err}"
    );
    assert!(took < Duration::from_secs(1), "failed only after {took:?}");
    assert_eq!(c.closed().await.unwrap(), Some(CloseReason::StatelessReset));
    assert!(restarted.stats().await.unwrap().stateless_resets_sent >= 1);
    drop(client);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datagrams_each_way_and_the_rate() {
    let (_client, _server, c, s) = pair().await;
    let max = c.max_datagram_payload().await.unwrap().unwrap();
    assert!(matches!(
        c.send_datagram(vec![0u8; max + 1], None, false).await,
        Err(Error::Datagram(stt::DatagramError::TooLarge { .. }))
    ));
    let echo = tokio::spawn(async move {
        let d = s.receive_datagram().await.unwrap();
        s.send_datagram([&b"re: "[..], &d].concat(), None, false)
            .await
            .unwrap();
    });
    let hello = c
        .send_datagram(&b"hello"[..], Some(WAIT), true)
        .await
        .unwrap();
    let answer = tokio::time::timeout(WAIT, c.receive_datagram())
        .await
        .expect("loopback delivers")
        .unwrap();
    assert_eq!(answer, &b"re: hello"[..]);
    // Its fate is forwarded: the peer has it.
    let fate = tokio::time::timeout(WAIT, c.datagram_fate()).await;
    assert_eq!(
        fate.expect("a fate").unwrap(),
        stt::DatagramEvent::Acknowledged(hello)
    );
    // One already past its deadline never leaves.
    let late = c
        .send_datagram(&b"late"[..], Some(Duration::ZERO), true)
        .await
        .unwrap();
    let fate = tokio::time::timeout(WAIT, c.datagram_fate()).await;
    assert_eq!(
        fate.expect("a fate").unwrap(),
        stt::DatagramEvent::Expired(late)
    );
    echo.await.unwrap();
    let (_rate, rtt) = c.rate().await.unwrap();
    assert!(rtt > Duration::ZERO);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_past_its_deadline_is_reported_expired_and_the_next_arrives() {
    let (_client, _server, c, s) = pair().await;
    let c0 = c.stream(0).await.unwrap().unwrap();
    let s0 = s.stream(0).await.unwrap().unwrap();
    // No time to arrive: dropped unsent; the message after it is delivered.
    let seq = c0
        .send_within(&b"too late"[..], Duration::ZERO)
        .await
        .unwrap();
    c0.send_within(&b"in time"[..], WAIT).await.unwrap();
    assert_eq!(
        s0.receive_timeout(WAIT).await.unwrap().unwrap(),
        &b"in time"[..]
    );
    c0.flush().await.unwrap();
    let expired = c.expired().await.unwrap();
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(
        (expired[0].stream, expired[0].seq, expired[0].sent),
        (0, seq, false)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_saved_by_one_node_let_the_next_with_its_seed_resume() {
    let path = std::env::temp_dir().join(format!("stt-tix-tokio-{}", std::process::id()));
    let (client, server, c, s) = pair().await;
    assert!(!c.is_resumed().await.unwrap());
    let (c0, s0) = (
        c.stream(0).await.unwrap().unwrap(),
        s.stream(0).await.unwrap().unwrap(),
    );
    c0.send(&b"hi"[..]).await.unwrap();
    assert_eq!(s0.receive_timeout(WAIT).await.unwrap().unwrap(), &b"hi"[..]);
    let addr = server.local_addr();
    let deadline = tokio::time::Instant::now() + WAIT;
    while !client.has_ticket(addr).await.unwrap() {
        assert!(tokio::time::Instant::now() < deadline, "no ticket arrived");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    client.save_tickets(&path).await.unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    client.shutdown().await.unwrap();
    // A new node with the same seed (a restarted process) loads them.
    let again = node("client").await;
    assert_eq!(again.load_tickets(&path).await.unwrap(), 1);
    let (c2, s2) = tokio::join!(again.connect(addr), server.accept());
    let (c2, s2) = (c2.unwrap(), s2.unwrap());
    assert!(c2.is_resumed().await.unwrap());
    assert!(s2.is_resumed().await.unwrap());
    // Another node cannot use them.
    let other = node("stranger").await;
    assert!(matches!(
        other.load_tickets(&path).await,
        Err(Error::Tickets(stt::TicketImportError::Auth))
    ));
    assert_eq!(
        other
            .load_tickets(&path.with_extension("none"))
            .await
            .unwrap(),
        0
    );
    let _ = std::fs::remove_file(&path);
}

//! The tokio adapter with tracing turned on per node, on real loopback
//! sockets: the client's node writes qlog through `Node::set_trace_sink`,
//! the server's stays silent, and the file shows the session's steps.
#![cfg(feature = "trace")]

#[path = "../examples/adapters/qlog.rs"]
mod qlog;
#[path = "../examples/adapters/tokio_node.rs"]
mod tokio_node;

use std::time::Duration;

use stt::Config;
use tokio_node::Node;

const NET: &[u8] = b"shared_secret_32bytes_minimum!";

async fn node(name: &str) -> Node {
    let cfg = Config::builder(format!("{name:-<32}").as_bytes(), NET)
        .build()
        .unwrap();
    Node::bind("127.0.0.1:0", cfg).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_traces_to_qlog_when_asked() {
    let dir = std::env::temp_dir().join(format!("stt-trace-tokio-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (client, server) = (node("client").await, node("server").await);
    let sink = qlog::QlogSink::per_session(&dir, "tokio", qlog::Vantage::Client).unwrap();
    client.set_trace_sink(Some(Box::new(sink))).await.unwrap();
    let (c, s) = tokio::join!(client.connect(server.local_addr()), server.accept());
    let (c, s) = (c.unwrap(), s.unwrap());
    let c0 = c.stream(0).await.unwrap().unwrap();
    let s0 = s.stream(0).await.unwrap().unwrap();
    c0.send(&b"traced"[..]).await.unwrap();
    let got = s0.receive_timeout(Duration::from_secs(10)).await.unwrap();
    assert_eq!(got.unwrap(), &b"traced"[..]);
    // A reply, so the client's trace holds a packet it received (the
    // server's acknowledgement alone may still be on its way).
    s0.send(&b"back"[..]).await.unwrap();
    let back = c0.receive_timeout(Duration::from_secs(10)).await.unwrap();
    assert_eq!(back.unwrap(), &b"back"[..]);
    // Off again: the sink is dropped, which flushes the file.
    client.set_trace_sink(None).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1, "one session, one file: {files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    assert!(text.starts_with('\u{1e}'));
    for name in [
        "connectivity:connection_started",
        "connectivity:connection_state_updated",
        "transport:packet_sent",
        "transport:packet_received",
    ] {
        assert!(text.contains(name), "no {name} in {text}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

//! Broadcast two ways:
//! 1. to every stream of one session (the chapter's `broadcast_to_streams`:
//!    list the streams, send on all of them concurrently);
//! 2. to stream 0 of several sessions at once with `send_to_sessions`.
//!
//! Run: `cargo run --example broadcast`

#[path = "adapters/tokio_node.rs"]
mod tokio_node;

use std::time::Duration;

use bytes::Bytes;
use stt::{Config, StreamId};
use tokio_node::{Error, Node, Session};

const SHARED_SEED: &[u8] = b"shared_secret_32bytes_minimum!";
const WAIT: Duration = Duration::from_secs(5);

fn config(name: &str, server: bool) -> Result<Config, stt::ConfigError> {
    Config::builder(&name.repeat(8).into_bytes(), SHARED_SEED)
        .accept_incoming(server)
        .build()
}

/// Sends `data` on every open stream of the session, all at once.
async fn broadcast_to_streams(session: &Session, data: Bytes) -> Result<Vec<StreamId>, Error> {
    let mut sends = tokio::task::JoinSet::new();
    for stream in session.streams().await? {
        let data = data.clone();
        sends.spawn(async move { stream.send(data).await.map(|_| stream.id()) });
    }
    let mut ids = Vec::new();
    while let Some(r) = sends.join_next().await {
        ids.push(r.map_err(|_| Error::NodeGone)??);
    }
    ids.sort_unstable();
    Ok(ids)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = Node::bind("127.0.0.1:0", config("server", true)?).await?;

    // --- 1. every stream of one session ---
    let client = Node::bind("127.0.0.1:0", config("client", false)?).await?;
    let session = client.connect(server.local_addr()).await?;
    let at_server = server.accept().await?;
    for id in 1..=3 {
        session.create_stream(id).await?;
    }
    let sent_on =
        broadcast_to_streams(&session, Bytes::from_static(b"news for every stream")).await?;
    println!("broadcast on streams {sent_on:?}");
    // Stream 0 exists on both sides from the start; 1..=3 the server accepts.
    let mut streams = vec![at_server.stream(0).await?.ok_or("no stream 0")?];
    for _ in 1..=3 {
        streams.push(at_server.accept_stream().await?);
    }
    let mut heard_on = Vec::new();
    for s in &streams {
        let m = s.receive_timeout(WAIT).await?;
        if m.as_deref() == Some(&b"news for every stream"[..]) {
            heard_on.push(s.id());
        }
    }
    heard_on.sort_unstable();
    println!("server heard it on streams {heard_on:?}");

    // --- 2. stream 0 of several sessions ---
    let mut listeners = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let node = Node::bind("127.0.0.1:0", config(name, false)?).await?;
        let s = node.connect(server.local_addr()).await?;
        listeners.push((name, node, s));
    }
    let mut ids = Vec::new();
    for _ in &listeners {
        ids.push(server.accept().await?.id());
    }
    let results = server
        .send_to_sessions(&ids, &b"to all sessions"[..])
        .await?;
    let queued = results.iter().filter(|(_, r)| r.is_ok()).count();
    let mut reached = 0;
    for (name, node, s) in &listeners {
        let stream0 = s.stream(0).await?.ok_or("no stream 0")?;
        let m = stream0.receive_timeout(WAIT).await?;
        println!("{name} got {:?}", m.as_deref().map(String::from_utf8_lossy));
        if m.as_deref() == Some(&b"to all sessions"[..]) {
            reached += 1;
        }
        node.shutdown().await?;
    }
    client.shutdown().await?;
    server.shutdown().await?;

    if sent_on != [0, 1, 2, 3] || heard_on != [0, 1, 2, 3] || queued != 3 || reached != 3 {
        return Err(format!(
            "broadcast FAILED: sent on {sent_on:?}, heard on {heard_on:?}, \
             send_to_sessions queued {queued}/3 and reached {reached}/3"
        )
        .into());
    }
    println!("broadcast OK");
    Ok(())
}

//! The chapter's stream pool: `acquire` hands out a fresh stream (ids 1, 2,
//! 3...), `release` closes it. The server reads each pooled stream to its
//! end and reports what arrived where.
//!
//! Run: `cargo run --example stream_pool`

#[path = "adapters/tokio_node.rs"]
mod tokio_node;

use std::collections::BTreeMap;
use std::time::Duration;

use stt::{Config, StreamId};
use tokio_node::{Error, Node, Session, Stream};

const SHARED_SEED: &[u8] = b"shared_secret_32bytes_minimum!";

/// Hands out streams of one session with increasing ids.
struct StreamPool {
    session: Session,
    next_stream_id: StreamId,
}

impl StreamPool {
    fn new(session: Session) -> Self {
        StreamPool {
            session,
            next_stream_id: 1,
        }
    }

    /// A new stream from the pool.
    async fn acquire(&mut self) -> Result<Stream, Error> {
        let id = self.next_stream_id;
        self.next_stream_id += 1;
        self.session.create_stream(id).await
    }

    /// Gives a stream back: it is closed (the peer sees its end).
    async fn release(&self, stream_id: StreamId) -> Result<(), Error> {
        self.session.close_stream(stream_id).await
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = Node::bind(
        "127.0.0.1:0",
        Config::builder(&b"server".repeat(8), SHARED_SEED).build()?,
    )
    .await?;
    let client = Node::bind(
        "127.0.0.1:0",
        Config::builder(&b"client".repeat(8), SHARED_SEED)
            .accept_incoming(false)
            .build()?,
    )
    .await?;

    // The server collects what arrives on each stream until it ends.
    let collector = tokio::spawn({
        let server = server.clone();
        async move {
            let session = server.accept().await?;
            let mut got = BTreeMap::new();
            for _ in 0..3 {
                let stream = session.accept_stream().await?;
                let mut msgs = Vec::new();
                while let Some(m) = stream.receive_timeout(Duration::from_secs(5)).await? {
                    msgs.push(String::from_utf8_lossy(&m).into_owned());
                }
                got.insert(stream.id(), msgs);
            }
            Ok::<_, Error>(got)
        }
    });

    let session = client.connect(server.local_addr()).await?;
    let mut pool = StreamPool::new(session.clone());
    let mut used = Vec::new();
    for job in ["alpha", "beta", "gamma"] {
        let stream = pool.acquire().await?;
        stream
            .send(format!("{job} on stream {}", stream.id()))
            .await?;
        println!("acquired stream {} for {job}", stream.id());
        used.push(stream.id());
        pool.release(stream.id()).await?;
    }
    let open_after = session
        .streams()
        .await?
        .iter()
        .map(|s| s.id())
        .collect::<Vec<_>>();
    let got = tokio::time::timeout(Duration::from_secs(10), collector).await???;

    client.shutdown().await?;
    server.shutdown().await?;

    let want: BTreeMap<StreamId, Vec<String>> = [(1, "alpha"), (2, "beta"), (3, "gamma")]
        .into_iter()
        .map(|(id, j)| (id, vec![format!("{j} on stream {id}")]))
        .collect();
    if used != [1, 2, 3] || open_after != [0] || got != want {
        return Err(format!(
            "stream_pool FAILED: used {used:?}, open after release {open_after:?}, server got {got:?}"
        )
        .into());
    }
    println!("stream_pool OK: server got {got:?}; only stream 0 stays open");
    Ok(())
}

//! Request/response over ephemeral streams (the chapter's `rpc_call`): each
//! call creates a stream with a random id, sends the request, waits for the
//! answer with a timeout and closes the stream. The server answers every
//! stream a client opens.
//!
//! Run: `cargo run --example rpc`

#[path = "adapters/tokio_node.rs"]
mod tokio_node;

use std::time::Duration;

use bytes::Bytes;
use stt::{Config, StreamError};
use tokio_node::{Error, Node, Session, Stream};

const SHARED_SEED: &[u8] = b"shared_secret_32bytes_minimum!";

/// One call on its own stream, answered within 10 s.
async fn rpc_call(session: &Session, request: &[u8]) -> Result<Bytes, Error> {
    let stream = loop {
        // An ephemeral stream: a random id in 1000..=9999, tried again if in use.
        let mut r = [0u8; 2];
        getrandom::fill(&mut r).map_err(|e| Error::Io(e.into()))?;
        let id = 1000 + u32::from(u16::from_le_bytes(r)) % 9000;
        match session.create_stream(id).await {
            Ok(s) => break s,
            Err(Error::Stream(StreamError::AlreadyExists(_) | StreamError::Closed(_))) => continue,
            Err(e) => return Err(e),
        }
    };
    stream.send(request.to_vec()).await?;
    let response = stream.receive_timeout(Duration::from_secs(10)).await?;
    session.close_stream(stream.id()).await?;
    response.ok_or(Error::Stream(StreamError::Finished(stream.id())))
}

/// The server side: answers each request on the stream it came on.
async fn answer(stream: Stream) -> Result<(), Error> {
    while let Some(req) = stream.receive().await? {
        let mut resp = b"echo: ".to_vec();
        resp.extend_from_slice(&req);
        stream.send(resp).await?;
    }
    Ok(())
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
    tokio::spawn({
        let server = server.clone();
        async move {
            let session = server.accept().await?;
            while let Ok(stream) = session.accept_stream().await {
                tokio::spawn(answer(stream));
            }
            Ok::<_, Error>(())
        }
    });

    let session = client.connect(server.local_addr()).await?;
    let requests = ["get /status", "sum 1 2 3", "bye"];
    // Sequential calls, then the same three at once on three streams.
    let mut answers = Vec::new();
    for r in requests {
        let a = rpc_call(&session, r.as_bytes()).await?;
        println!("{r:?} -> {:?}", String::from_utf8_lossy(&a));
        answers.push(a);
    }
    let (a, b, c) = tokio::join!(
        rpc_call(&session, requests[0].as_bytes()),
        rpc_call(&session, requests[1].as_bytes()),
        rpc_call(&session, requests[2].as_bytes()),
    );
    answers.extend([a?, b?, c?]);
    let left_open = session.streams().await?.len();

    client.shutdown().await?;
    server.shutdown().await?;

    let want: Vec<String> = requests
        .iter()
        .chain(&requests)
        .map(|r| format!("echo: {r}"))
        .collect();
    let got: Vec<String> = answers
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    if got != want || left_open != 1 {
        return Err(format!(
            "rpc FAILED: answers {got:?}, {left_open} streams open (want only stream 0)"
        )
        .into());
    }
    println!(
        "rpc OK: {} calls answered, ephemeral streams closed",
        got.len()
    );
    Ok(())
}

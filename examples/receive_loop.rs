//! Continuous reception: receive with a short timeout in a loop, carry on
//! after each timeout, stop when the peer ends the stream (the chapter's
//! `while stream.is_active` loop).
//!
//! Run: `cargo run --example receive_loop`

#[path = "adapters/tokio_node.rs"]
mod tokio_node;

use std::time::Duration;

use stt::Config;
use tokio_node::{Error, Node};

const SHARED_SEED: &[u8] = b"shared_secret_32bytes_minimum!";

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

    // The client sends five messages with pauses longer than the server's
    // receive timeout, then ends the stream.
    let session = client.connect(server.local_addr()).await?;
    let sender = tokio::spawn(async move {
        let stream = session.create_stream(1).await?;
        for i in 0..5 {
            stream.send(format!("reading {i}")).await?;
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        stream.close().await?;
        Ok::<_, Error>(session)
    });

    let session = server.accept().await?;
    let stream = session.accept_stream().await?;
    let (mut got, mut timeouts) = (Vec::new(), 0);
    loop {
        match stream.receive_timeout(Duration::from_millis(100)).await {
            Ok(Some(data)) => {
                println!("received {:?}", String::from_utf8_lossy(&data));
                got.push(data);
            }
            Ok(None) => {
                println!("the stream ended");
                break;
            }
            Err(Error::Timeout) => {
                timeouts += 1; // keep waiting
                if timeouts > 100 {
                    return Err("receive_loop FAILED: the stream never ended".into());
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    let client_session = sender.await??;
    client_session.close(0, b"done").await?;
    client.shutdown().await?;
    server.shutdown().await?;

    let want: Vec<String> = (0..5).map(|i| format!("reading {i}")).collect();
    let got: Vec<String> = got
        .iter()
        .map(|m| String::from_utf8_lossy(m).into_owned())
        .collect();
    if got != want || timeouts < 4 {
        return Err(format!("receive_loop FAILED: got {got:?} with {timeouts} timeouts").into());
    }
    println!(
        "receive_loop OK: {} messages in order, {timeouts} timeouts survived",
        got.len()
    );
    Ok(())
}

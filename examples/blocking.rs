//! The blocking adapter: no async runtime, plain calls that run the event
//! loop in the calling thread. A server thread echoes what it receives on
//! stream 1, upper-cased; the client checks the answers.
//!
//! Run: `cargo run --example blocking`

#[path = "adapters/blocking_node.rs"]
mod blocking_node;

use std::time::Duration;

use blocking_node::{BlockingNode, Error};
use stt::Config;

const SHARED_SEED: &[u8] = b"shared_secret_32bytes_minimum!";
const WAIT: Duration = Duration::from_secs(5);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut server = BlockingNode::bind(
        "127.0.0.1:0",
        Config::builder(&b"server".repeat(8), SHARED_SEED).build()?,
    )?;
    let server_addr = server.local_addr()?;

    // The server: accept one session, echo stream 1 until the client ends
    // it, then serve until the client closes the session.
    let echo = std::thread::spawn(move || -> Result<usize, Error> {
        let s = server.accept_timeout(WAIT)?;
        let id = server.accept_stream_timeout(s, WAIT)?;
        let mut echoed = 0;
        while let Some(m) = server.receive_timeout(s, id, WAIT)? {
            server.send(s, id, m.to_ascii_uppercase())?;
            echoed += 1;
        }
        server.closed_timeout(s, WAIT)?;
        Ok(echoed)
    });

    let mut client = BlockingNode::bind(
        "127.0.0.1:0",
        Config::builder(&b"client".repeat(8), SHARED_SEED)
            .accept_incoming(false)
            .build()?,
    )?;
    let s = client.connect(server_addr)?;
    client.create_stream(s, 1)?;
    let words = ["hello", "blocking", "world"];
    let mut answers = Vec::new();
    for w in words {
        client.send(s, 1, w.as_bytes().to_vec())?;
        let a = client
            .receive_timeout(s, 1, WAIT)?
            .ok_or("the server ended the stream early")?;
        println!("sent {w:?}, got {:?}", String::from_utf8_lossy(&a));
        answers.push(a);
    }
    let stats = client.stream_stats(s, 1)?;
    client.close_stream(s, 1)?;
    client.flush_session(s, WAIT)?;
    client.close(s, 0, b"bye")?;
    let echoed = echo.join().map_err(|_| "server thread panicked")??;

    let want: Vec<Vec<u8>> = words
        .iter()
        .map(|w| w.to_uppercase().into_bytes())
        .collect();
    if answers != want || echoed != words.len() || stats.messages_sent != 3 {
        return Err(format!(
            "blocking FAILED: answers {answers:?}, server echoed {echoed}, client stats {stats:?}"
        )
        .into());
    }
    println!("blocking exchange OK: {echoed} messages echoed");
    Ok(())
}

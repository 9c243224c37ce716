//! Stream priority: an 8 MiB bulk transfer at priority 100 is queued, then
//! ten 16 KiB messages at priority 900 on another stream. The scheduler
//! always serves the highest priority first, so every urgent message
//! arrives before the first bulk segment completes; with round-robin or
//! first-come-first-served, bulk segments would arrive in between.
//!
//! Run: `cargo run --example priorities`

#[path = "adapters/tokio_node.rs"]
mod tokio_node;

use std::time::Duration;

use bytes::Bytes;
use stt::Config;
use tokio_node::{Error, Node, Stream};

const SHARED_SEED: &[u8] = b"shared_secret_32bytes_minimum!";
const BULK: usize = 8 << 20;
const SEGMENT: usize = 64 << 10;
const URGENT: usize = 10;
const URGENT_LEN: usize = 16 << 10;

/// Reads both streams to their ends in one task, noting the order in which
/// messages became readable: ("bulk" or "urgent", place). When both have a
/// message ready at once, the urgent one is taken first, so the order shown
/// is the order the messages completed, not how tasks were scheduled.
async fn read_both(bulk: Stream, urgent: Stream) -> Result<(Vec<usize>, Vec<usize>), Error> {
    let wait = Duration::from_secs(10);
    let (mut b, mut u) = (Vec::new(), Vec::new());
    let (mut b_open, mut u_open) = (true, true);
    let mut place = 0;
    while b_open || u_open {
        tokio::select! {
            biased;
            m = urgent.receive_timeout(wait), if u_open => match m? {
                Some(_) => u.push(place),
                None => u_open = false,
            },
            m = bulk.receive_timeout(wait), if b_open => match m? {
                Some(_) => b.push(place),
                None => b_open = false,
            },
        }
        place += 1;
    }
    Ok((b, u))
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
    let session = client.connect(server.local_addr()).await?;

    let bulk = session.create_stream(1).await?;
    bulk.set_priority(100).await?; // background transfer
    let urgent = session.create_stream(2).await?;
    urgent.set_priority(900).await?; // interactive

    // The server reads both streams as messages complete.
    let reader = tokio::spawn({
        let server = server.clone();
        async move {
            let s = server.accept().await?;
            let (first, second) = (s.accept_stream().await?, s.accept_stream().await?);
            let (bulk, urgent) = if first.id() == 1 {
                (first, second)
            } else {
                (second, first)
            };
            read_both(bulk, urgent).await
        }
    });

    // Queue the bulk transfer, then the urgent messages, in one step of the
    // event loop, so that what is compared is the scheduler's order and not
    // how fast this task got to the second call.
    let (b, u) = (bulk.id(), urgent.id());
    session
        .with(move |s| {
            s.send_all_with(b, Bytes::from(vec![0u8; BULK]), SEGMENT)?;
            for i in 0..URGENT {
                let mut m = format!("urgent {i} ").into_bytes();
                m.resize(URGENT_LEN, b'!');
                s.send(u, m)?;
            }
            Ok(())
        })
        .await?;
    println!(
        "queued {} bulk segments (priority 100), then {URGENT} urgent messages (priority 900)",
        BULK / SEGMENT
    );
    bulk.flush().await?;
    urgent.flush().await?;
    bulk.close().await?;
    urgent.close().await?;
    let arrivals = tokio::time::timeout(Duration::from_secs(20), reader).await???;
    client.shutdown().await?;
    server.shutdown().await?;

    let (bulk_places, urgent_places) = arrivals;
    let last_urgent = urgent_places.iter().copied().max().unwrap_or(usize::MAX);
    let bulk_before = bulk_places.iter().filter(|&&p| p < last_urgent).count();
    println!(
        "urgent messages arrived at places {urgent_places:?} of {}; \
         {bulk_before} bulk segments arrived before the last of them",
        bulk_places.len() + urgent_places.len()
    );
    if urgent_places.len() != URGENT || bulk_places.len() != BULK / SEGMENT || bulk_before != 0 {
        return Err(
            "priorities FAILED: the urgent messages did not overtake the bulk transfer".into(),
        );
    }
    println!("priorities OK: the 900-priority stream overtook the queued 100-priority transfer");
    Ok(())
}

//! Game state beside a bulk transfer on one session: 60 unreliable
//! datagrams a second, each a snapshot worth nothing once the next is out
//! (a 50 ms lifetime), while an 8 MiB asset download fills stream 1. The
//! datagrams are never resent and never wait behind the download's lost
//! packets; the sender reads the session's delivery rate and RTT, as an
//! encoder would to pick its bitrate, and sizes its snapshots to fit one
//! packet (`max_datagram_payload`).
//!
//! Run: `cargo run --example game_state`

#[path = "adapters/tokio_node.rs"]
mod tokio_node;

use std::time::Duration;

use bytes::Bytes;
use stt::Config;
use tokio_node::{Error, Node};

const SHARED_SEED: &[u8] = b"shared_secret_32bytes_minimum!";
const TICKS: u64 = 120;
const TICK: Duration = Duration::from_micros(16_667);
const ASSETS: usize = 8 << 20;

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

    // The server reads snapshots and the download until the download ends,
    // then the snapshots still queued; the client closes only after that,
    // so no close can overtake what was delivered.
    let reader = tokio::spawn({
        let server = server.clone();
        async move {
            let s = server.accept().await?;
            let assets = s.open_stream(1).await?;
            let mut snapshots = Vec::new();
            let mut bytes = 0usize;
            let first = |d: &[u8]| u64::from_be_bytes(d[..8].try_into().unwrap_or([0; 8]));
            loop {
                tokio::select! {
                    d = s.receive_datagram() => snapshots.push(first(&d?)),
                    m = assets.receive() => match m? {
                        Some(m) => bytes += m.len(),
                        None => break,
                    },
                }
            }
            while let Ok(d) =
                tokio::time::timeout(Duration::from_millis(100), s.receive_datagram()).await
            {
                snapshots.push(first(&d?));
            }
            Ok::<_, Error>((snapshots, bytes))
        }
    });

    let assets = session.create_stream(1).await?;
    assets.send_all(Bytes::from(vec![0u8; ASSETS])).await?;
    let max = session
        .max_datagram_payload()
        .await?
        .ok_or("the server does not accept datagrams")?;
    println!("snapshots of up to {max} bytes fit one packet");
    let mut tick = tokio::time::interval(TICK);
    for n in 0..TICKS {
        tick.tick().await;
        let mut snapshot = n.to_be_bytes().to_vec();
        snapshot.resize(200.min(max), 0);
        session
            .send_datagram(snapshot, Some(Duration::from_millis(50)), false)
            .await?;
        if n % 30 == 29 {
            let (rate, rtt) = session.rate().await?;
            println!(
                "tick {n}: path delivers {:.1} Mbit/s, smoothed RTT {:.2} ms",
                rate as f64 * 8.0 / 1e6,
                rtt.as_secs_f64() * 1e3
            );
        }
    }
    assets.flush().await?;
    assets.close().await?;
    let (snapshots, bytes) = tokio::time::timeout(Duration::from_secs(20), reader).await???;
    let stats = session.stats().await?;
    session.close(0, b"game over").await?;
    client.shutdown().await?;
    server.shutdown().await?;

    println!(
        "{} of {TICKS} snapshots arrived ({} sent, {} expired unsent, {} lost); \
         {:.1} MiB of assets beside them",
        snapshots.len(),
        stats.datagrams_sent,
        stats.datagrams_expired,
        stats.datagrams_lost,
        bytes as f64 / (1 << 20) as f64,
    );
    let in_order = snapshots.windows(2).filter(|w| w[0] < w[1]).count();
    // Loopback loses nothing, but a datagram may expire unsent: a handful
    // short is fine, a stalled game state is not.
    if snapshots.len() as u64 + 5 < TICKS || bytes != ASSETS || in_order + 1 < snapshots.len() {
        return Err("game_state FAILED: snapshots or assets went missing".into());
    }
    println!("game_state OK: snapshots flowed beside the download, none resent");
    Ok(())
}

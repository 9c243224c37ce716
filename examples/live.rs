//! Live video over one stream: 30 frames a second for three seconds, each
//! due 150 ms after it is produced. The stream has a lifetime (every
//! message's deadline is its send time plus 150 ms), so a frame that can no
//! longer arrive in time is abandoned and skipped instead of holding the
//! frames behind it. The source reads the session's delivery rate before
//! each frame and picks its bitrate from it, as an encoder would; the
//! receiver times every frame and prints the on-time fraction and the
//! delay percentiles.
//!
//! Run: `cargo run --example live`

#[path = "adapters/tokio_node.rs"]
mod tokio_node;

use std::time::{Duration, Instant};

use bytes::Bytes;
use stt::Config;
use tokio_node::{Error, Node};

const SHARED_SEED: &[u8] = b"shared_secret_32bytes_minimum!";
const FPS: u64 = 30;
const FRAMES: u64 = 90;
const DEADLINE: Duration = Duration::from_millis(150);
/// The stream the frames go on.
const VIDEO: u32 = 1;
/// Frame sizes the source picks from: 6, 3, 1.5 and 0.75 Mbit/s at 30
/// frames a second.
const SIZES: [usize; 4] = [25_000, 12_500, 6_250, 3_125];
/// Share of the delivery rate the source spends, per cent.
const SHARE: u64 = 80;

/// The largest frame size whose bitrate fits `SHARE` of `rate` (bytes per
/// second); the smallest before the first estimate.
fn frame_size(rate: u64) -> usize {
    let budget = rate * SHARE / 100;
    SIZES
        .iter()
        .copied()
        .find(|&s| s as u64 * FPS <= budget)
        .unwrap_or(SIZES[SIZES.len() - 1])
}

/// The `p`-th percentile (nearest rank) of ascending `v`.
fn percentile(v: &[Duration], p: usize) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v[(v.len() * p).div_ceil(100).clamp(1, v.len()) - 1]
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Both ends share this process's clock: a frame carries its production
    // time as microseconds since `epoch`.
    let epoch = Instant::now();
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

    // The receiver times each frame until the sender ends the stream.
    let receiver = tokio::spawn({
        let server = server.clone();
        async move {
            let s = server.accept().await?;
            let video = s.accept_stream().await?;
            let mut delays = Vec::new();
            while let Some(frame) = video.receive().await? {
                let us = u64::from_be_bytes(frame[8..16].try_into().unwrap_or([0; 8]));
                let produced = epoch + Duration::from_micros(us);
                delays.push(produced.elapsed());
            }
            let stats = s.stats().await?;
            Ok::<_, Error>((delays, stats))
        }
    });

    let video = session.create_stream(VIDEO).await?;
    session
        .with(|s| s.set_stream_lifetime(VIDEO, Some(DEADLINE)))
        .await?;
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / FPS));
    let mut size = 0;
    let mut bytes = 0;
    for seq in 0..FRAMES {
        tick.tick().await;
        let (rate, rtt) = session.rate().await?;
        let pick = frame_size(rate);
        if pick != size {
            println!(
                "frame {seq}: path delivers {:.1} Mbit/s (RTT {:.2} ms): {:.2} Mbit/s frames",
                rate as f64 * 8.0 / 1e6,
                rtt.as_secs_f64() * 1e3,
                (pick as u64 * FPS * 8) as f64 / 1e6,
            );
            size = pick;
        }
        let mut frame = vec![0u8; size];
        frame[..8].copy_from_slice(&seq.to_be_bytes());
        let now = epoch.elapsed().as_micros() as u64;
        frame[8..16].copy_from_slice(&now.to_be_bytes());
        video.send(Bytes::from(frame)).await?;
        bytes += size;
    }
    video.flush().await?;
    let sent = video.stats().await?;
    video.close().await?;
    let (mut delays, _) = tokio::time::timeout(Duration::from_secs(10), receiver).await???;
    session.close(0, b"the end").await?;
    client.shutdown().await?;
    server.shutdown().await?;

    delays.sort_unstable();
    let on_time = delays.iter().filter(|&&d| d <= DEADLINE).count();
    let fraction = on_time as f64 / FRAMES as f64;
    println!(
        "{FRAMES} frames ({:.1} MiB) sent, {} abandoned by the sender; {} read, {on_time} on time: \
         on-time fraction {fraction:.3}",
        bytes as f64 / (1 << 20) as f64,
        sent.messages_expired,
        delays.len(),
    );
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "delay ms: p50 {:.2}, p99 {:.2}, max {:.2} (deadline {})",
        ms(percentile(&delays, 50)),
        ms(percentile(&delays, 99)),
        ms(percentile(&delays, 100)),
        DEADLINE.as_millis(),
    );
    // Loopback loses nothing; a loaded machine may still make a frame or
    // two late, but not many.
    if fraction < 0.9 {
        return Err("live FAILED: fewer than 0.9 of the frames were on time".into());
    }
    println!("live OK");
    Ok(())
}

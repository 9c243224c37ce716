//! The sending end: checks the files, then sends each on its own stream
//! (header, the data, then its SHA-256 as a trailer) and waits for every
//! listener's answer, with a progress bar on a terminal.
//!
//! Each file is read and hashed in one pass on its own thread, a few chunks
//! ahead of the stream: the thread that drives the endpoint only moves
//! packets, and memory per file stays bounded (the chunks in flight plus
//! the stream's send queue), whatever the file's size.

use std::fs::File;
use std::io::{IsTerminal, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};
use stt::CloseReason;

use crate::args::hex;
use crate::budget::{chunk_size, AHEAD};
use crate::header::{encode_trailer, safe_name, Header};
use crate::tokio_node::{Error, Node, Session, Stream};
use crate::{transfer, Fail, HANDSHAKE_TIMEOUT, IDLE};

/// A file to send, checked.
pub(crate) struct Outgoing {
    pub(crate) path: PathBuf,
    pub(crate) header: Header,
}

/// Checks every file is a readable regular file with a distinct UTF-8 base
/// name.
pub(crate) async fn prepare(files: Vec<PathBuf>) -> Result<Vec<Outgoing>, Fail> {
    let mut names = std::collections::HashSet::new();
    let mut out = Vec::new();
    for path in files {
        let meta = std::fs::metadata(&path)
            .map_err(|e| Fail::Input(format!("cannot read {}: {e}", path.display())))?;
        if !meta.is_file() {
            return Err(Fail::Input(format!(
                "{} is not a regular file",
                path.display()
            )));
        }
        File::open(&path)
            .map_err(|e| Fail::Input(format!("cannot read {}: {e}", path.display())))?;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Fail::Input(format!("{}: name is not UTF-8", path.display())))?
            .to_owned();
        safe_name(&name).map_err(Fail::Input)?;
        if !names.insert(name.clone()) {
            return Err(Fail::Input(format!("two files are named {name:?}")));
        }
        out.push(Outgoing {
            path,
            header: Header {
                name,
                size: meta.len(),
            },
        });
    }
    Ok(out)
}

/// What the reading thread hands the stream.
enum Piece {
    /// The next bytes of the file.
    Chunk(Bytes),
    /// The end of the file: bytes read in all, and their SHA-256.
    End(u64, [u8; 32]),
}

/// Reads and hashes `path` in chunks of `chunk` bytes on its own thread,
/// `AHEAD` chunks ahead of the stream.
fn read_ahead(path: PathBuf, chunk: usize) -> tokio::sync::mpsc::Receiver<std::io::Result<Piece>> {
    let (tx, rx) = tokio::sync::mpsc::channel(AHEAD);
    std::thread::spawn(move || {
        let r = read_and_hash(&path, chunk, |bytes| {
            tx.blocking_send(Ok(Piece::Chunk(bytes))).is_ok()
        });
        let _ = tx.blocking_send(r.map(|(n, sha)| Piece::End(n, sha)));
    });
    rx
}

/// Reads `path` to its end, handing each chunk to `give` (which answers
/// false when nobody wants more); the bytes read and their SHA-256.
fn read_and_hash(
    path: &Path,
    chunk: usize,
    mut give: impl FnMut(Bytes) -> bool,
) -> std::io::Result<(u64, [u8; 32])> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut total = 0u64;
    loop {
        // Read into fresh capacity, never zeroed first (zeroing each 1 MiB
        // chunk was 3 % of the sender's CPU); `read_to_end` retries
        // interrupted reads and stops at the chunk's end or the file's.
        // Fresh, not pooled: reading into recycled buffers cost the kernel
        // more (sender system time 0.8-0.9 s per 800 MiB against 0.5).
        let mut buf = Vec::with_capacity(chunk);
        (&mut f).take(chunk as u64).read_to_end(&mut buf)?;
        let n = buf.len();
        if n == 0 {
            return Ok((total, h.finalize().into()));
        }
        h.update(&buf);
        total += n as u64;
        if !give(Bytes::from(buf)) {
            return Err(std::io::ErrorKind::BrokenPipe.into());
        }
    }
}

/// Sends every file on its own stream, the files spread round robin over
/// `sessions` sessions (at most one per file), and waits for every answer.
pub(crate) async fn send(
    node: &Node,
    addr: SocketAddr,
    files: Vec<Outgoing>,
    sessions: usize,
    verbose: bool,
) -> Result<(), Fail> {
    let n = sessions.clamp(1, files.len().max(1));
    let mut connects = tokio::task::JoinSet::new();
    for i in 0..n {
        let node = node.clone();
        connects.spawn(async move { (i, node.connect(addr).await) });
    }
    let mut opened = Vec::with_capacity(n);
    while let Some(r) = connects.join_next().await {
        let (i, r) = r.map_err(|e| Fail::Transfer(e.to_string()))?;
        let session = r.map_err(|e| match e {
            Error::ConnectFailed(CloseReason::HandshakeTimeout) => Fail::Transfer(format!(
                "no answer from {addr} within {} s: is `stt-send listen` running there, \
                 with the same shared seed?",
                HANDSHAKE_TIMEOUT.as_secs()
            )),
            e => Fail::Transfer(format!("cannot connect to {addr}: {e}")),
        })?;
        opened.push((i, session));
    }
    opened.sort_by_key(|(i, _)| *i);
    let sessions: Vec<Session> = opened.into_iter().map(|(_, s)| s).collect();
    if verbose {
        for (i, s) in sessions.iter().enumerate() {
            let how = match s.is_resumed().await {
                Ok(true) => "resumed (session ticket)",
                Ok(false) => "full handshake",
                Err(_) => "closed",
            };
            eprintln!("session {}: connected to {addr}, {how}", i + 1);
        }
    }
    let total: u64 = files.iter().map(|f| f.header.size).sum();
    let bar = progress_bar(total);
    let start = Instant::now();
    let mut streams = Vec::new();
    for i in 0..files.len() {
        // File i goes to session i % n, as that session's (i / n + 1)th stream.
        let id = u32::try_from(i / n + 1).map_err(|_| Fail::Input("too many files".into()))?;
        streams.push(sessions[i % n].create_stream(id).await.map_err(transfer)?);
    }
    let ticker = tokio::spawn(track_progress(streams.clone(), bar.clone()));
    let chunk = chunk_size(files.len());
    let mut tasks = tokio::task::JoinSet::new();
    for (f, stream) in files.into_iter().zip(streams) {
        tasks.spawn(send_file(stream, f, chunk, bar.clone()));
    }
    let mut failures = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(e),
            Err(e) => failures.push(e.to_string()),
        }
    }
    // Stopped, not awaited: it may be in its 100 ms sleep, which the
    // reported time (and every run of the scripts) would otherwise include.
    ticker.abort();
    let secs = start.elapsed().as_secs_f64();
    if failures.is_empty() {
        bar.finish_and_clear();
        let mib = total as f64 / (1024.0 * 1024.0);
        println!(
            "sent {mib:.1} MiB in {secs:.2} s: {:.1} MiB/s ({:.0} Mbit/s)",
            mib / secs,
            total as f64 * 8.0 / secs / 1e6
        );
        print_stats(&sessions).await;
        for s in &sessions {
            let _ = s.close(0, b"done").await;
        }
        Ok(())
    } else {
        bar.abandon();
        for s in &sessions {
            let _ = s.close(1, b"failed").await;
        }
        Err(Fail::Transfer(failures.join("\n")))
    }
}

/// One session: its packets, losses, RTT and window (scripts read the
/// RTT). Several: the sums, and the RTT and window of the first.
async fn print_stats(sessions: &[Session]) {
    let mut all = Vec::with_capacity(sessions.len());
    for s in sessions {
        if let Ok(st) = s.stats().await {
            all.push(st);
        }
    }
    let Some(first) = all.first() else {
        return;
    };
    let sent: u64 = all.iter().map(|st| st.packets_sent).sum();
    let lost: u64 = all.iter().map(|st| st.packets_lost).sum();
    let prefix = if all.len() > 1 {
        format!("{} sessions: ", all.len())
    } else {
        String::new()
    };
    let which = if all.len() > 1 {
        " (first session)"
    } else {
        ""
    };
    println!(
        "  {prefix}{sent} packets sent, {lost} lost, rtt {:.2} ms, congestion window {} KiB{which}",
        first.rtt.as_secs_f64() * 1e3,
        first.congestion_window >> 10
    );
}

async fn send_file(
    stream: Stream,
    f: Outgoing,
    chunk: usize,
    bar: ProgressBar,
) -> Result<(), String> {
    let name = f.header.name.clone();
    let r = send_file_inner(&stream, f, chunk).await;
    let _ = stream.close().await;
    match r {
        Ok(()) => {
            // Above the bar on a terminal, plain otherwise.
            let line = format!("{name}: confirmed (sha256 ok)");
            if bar.is_hidden() {
                println!("{line}");
            } else {
                bar.println(line);
            }
            Ok(())
        }
        Err(e) => Err(format!("{name}: {e}")),
    }
}

/// A failed call in the words a user of `stt-send` needs.
fn explain(e: Error) -> String {
    match e {
        Error::SessionClosed(CloseReason::StatelessReset) => "the listener restarted and no \
            longer knows this transfer (it answered with a stateless reset): send again"
            .into(),
        e => e.to_string(),
    }
}

async fn send_file_inner(stream: &Stream, f: Outgoing, chunk: usize) -> Result<(), String> {
    stream.send(f.header.encode()).await.map_err(explain)?;
    let mut chunks = read_ahead(f.path.clone(), chunk);
    let sha256 = loop {
        match chunks.recv().await {
            Some(Ok(Piece::Chunk(bytes))) => {
                stream.send_all(bytes).await.map_err(explain)?;
            }
            Some(Ok(Piece::End(sent, sha256))) if sent == f.header.size => break sha256,
            Some(Ok(Piece::End(sent, _))) => {
                return Err(format!(
                    "the file changed while sending ({sent} bytes, was {})",
                    f.header.size
                ))
            }
            Some(Err(e)) => return Err(format!("read error: {e}")),
            None => return Err("the file reader died".into()),
        }
    };
    stream
        .send(encode_trailer(&sha256))
        .await
        .map_err(explain)?;
    // The listener answers once it has written and checked everything.
    let answer = loop {
        match stream.receive_timeout(IDLE).await {
            Ok(Some(a)) => break a,
            Ok(None) => return Err("the listener closed the stream without an answer".into()),
            // Large files: the listener is still busy, the session alive.
            Err(Error::Timeout) => continue,
            Err(e) => return Err(explain(e)),
        }
    };
    let answer = String::from_utf8_lossy(&answer);
    match answer.strip_prefix("OK ") {
        Some(sha) if sha == hex(&sha256) => Ok(()),
        _ => Err(format!("the listener said: {answer}")),
    }
}

fn progress_bar(total: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Moves the bar to the bytes the listener has acknowledged.
/// Runs until aborted.
async fn track_progress(streams: Vec<Stream>, bar: ProgressBar) {
    loop {
        let mut acked = 0u64;
        for s in &streams {
            if let Ok(st) = s.stats().await {
                // Units: message bytes plus one per message.
                acked += (st.bytes_sent + st.messages_sent).saturating_sub(st.unacked);
            }
        }
        bar.set_position(
            acked
                .max(bar.position())
                .min(bar.length().unwrap_or(u64::MAX)),
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

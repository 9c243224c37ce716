//! `stt-send`: send files to another machine over an encrypted stt session,
//! one stream per file, each verified by SHA-256 on arrival.
//!
//! ```text
//! stt-send                                  demo: both ends here, an 8 MiB file
//! stt-send listen ADDR [--out DIR] [--once] receive files into DIR (default .)
//! stt-send send ADDR FILE...                send files to a listener
//!
//! options (both ends):
//!   --seed HEX        shared network seed (or env STT_SHARED_SEED), >= 16 bytes
//!   --node-seed HEX   this node's identity seed (default: random)
//! ```
//!
//! On each stream the sender first sends a header message (name, size,
//! SHA-256), then the file with `send_all`; the listener writes it under its
//! base name (never a path), checks size and hash, and answers `OK` or
//! `ERROR ...` on the same stream. The sender exits 0 once every file was
//! confirmed.
//!
//! The argument parser is hand-written: two subcommands and five flags do
//! not justify clap's ~15 extra crates, which every `cargo test` run would
//! compile for this example on a 2-core CI machine.

#[path = "adapters/tokio_node.rs"]
mod tokio_node;

use std::ffi::OsString;
use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};
use stt::{CloseReason, Config, StreamLimits};
use tokio_node::{Error, Node, Session, Stream};

/// First bytes of a header message.
const MAGIC: &[u8; 8] = b"STTSEND1";
/// Bytes read from disk per `send_all` call.
const CHUNK: usize = 1 << 20;
/// Unacknowledged bytes a file stream may hold in the core.
const SEND_QUEUE: u64 = 16 << 20;
/// The sender gives up a handshake after this long.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest silence inside a transfer.
const IDLE: Duration = Duration::from_secs(30);
const DEMO_SIZE: usize = 8 << 20;

const USAGE: &str = "\
usage:
  stt-send                                  demo: both ends on loopback, an 8 MiB file
  stt-send listen ADDR [--out DIR] [--once] receive files into DIR (default: .)
  stt-send send ADDR FILE...                send files to a listener

options:
  --seed HEX        shared network seed, at least 16 bytes (or env STT_SHARED_SEED)
  --node-seed HEX   this node's identity seed (default: random)
  --once            listen: exit after the first sender is done (status 1 if a file failed)
  -h, --help        this text";

/// Why the program stops early.
#[derive(Debug, thiserror::Error)]
enum Fail {
    #[error("{0}\n\n{USAGE}")]
    Usage(String),
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Transfer(String),
}

impl Fail {
    fn code(&self) -> u8 {
        match self {
            Fail::Usage(_) | Fail::Input(_) => 2,
            Fail::Transfer(_) => 1,
        }
    }
}

fn transfer(e: impl std::fmt::Display) -> Fail {
    Fail::Transfer(e.to_string())
}

// ----- arguments -----

enum Command {
    Demo,
    Listen {
        addr: SocketAddr,
        out: PathBuf,
        once: bool,
    },
    Send {
        addr: SocketAddr,
        files: Vec<PathBuf>,
    },
}

struct Args {
    command: Command,
    seed: Option<Vec<u8>>,
    node_seed: Option<Vec<u8>>,
}

fn parse_args(args: Vec<OsString>) -> Result<Option<Args>, Fail> {
    let mut positional = Vec::new();
    let (mut seed, mut node_seed, mut out, mut once) = (None, None, None, false);
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .ok_or_else(|| Fail::Usage(format!("{flag} needs a value")))
        };
        match a.to_str() {
            Some("-h" | "--help") => return Ok(None),
            Some("--seed") => seed = Some(hex_arg("--seed", &value("--seed")?)?),
            Some("--node-seed") => {
                node_seed = Some(hex_arg("--node-seed", &value("--node-seed")?)?)
            }
            Some("--out") => out = Some(PathBuf::from(value("--out")?)),
            Some("--once") => once = true,
            Some(s) if s.starts_with("--") => {
                return Err(Fail::Usage(format!("unknown option {s}")))
            }
            _ => positional.push(a),
        }
    }
    if seed.is_none() {
        if let Some(v) = std::env::var_os("STT_SHARED_SEED") {
            seed = Some(hex_arg("STT_SHARED_SEED", &v)?);
        }
    }
    let mut pos = positional.into_iter();
    let addr = |a: Option<OsString>| -> Result<SocketAddr, Fail> {
        let a = a.ok_or_else(|| Fail::Usage("missing ADDR".into()))?;
        let s = a.to_string_lossy();
        s.parse()
            .map_err(|_| Fail::Usage(format!("ADDR must be IP:PORT, not {s:?}")))
    };
    let command = match pos.next() {
        None => Command::Demo,
        Some(c) if c == "listen" => {
            let addr = addr(pos.next())?;
            if let Some(extra) = pos.next() {
                return Err(Fail::Usage(format!("unexpected {extra:?}")));
            }
            let out = out.unwrap_or_else(|| PathBuf::from("."));
            Command::Listen { addr, out, once }
        }
        Some(c) if c == "send" => {
            let addr = addr(pos.next())?;
            let files: Vec<PathBuf> = pos.map(PathBuf::from).collect();
            if files.is_empty() {
                return Err(Fail::Usage("send needs at least one FILE".into()));
            }
            Command::Send { addr, files }
        }
        Some(c) => return Err(Fail::Usage(format!("unknown command {c:?}"))),
    };
    Ok(Some(Args {
        command,
        seed,
        node_seed,
    }))
}

fn hex_arg(what: &str, v: &std::ffi::OsStr) -> Result<Vec<u8>, Fail> {
    let s = v.to_string_lossy();
    let bad = || Fail::Usage(format!("{what}: {s:?} is not an even number of hex digits"));
    if s.len() % 2 != 0 {
        return Err(bad());
    }
    let bytes = (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect::<Option<Vec<u8>>>()
        .ok_or_else(bad)?;
    if bytes.len() < 16 {
        return Err(Fail::Usage(format!(
            "{what}: {} bytes is too short (at least 16, i.e. 32 hex digits)",
            bytes.len()
        )));
    }
    Ok(bytes)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn random_bytes(n: usize) -> Result<Vec<u8>, Fail> {
    let mut v = vec![0u8; n];
    getrandom::fill(&mut v).map_err(|e| transfer(format!("no OS randomness: {e}")))?;
    Ok(v)
}

fn config(node_seed: &Option<Vec<u8>>, shared: &[u8], listener: bool) -> Result<Config, Fail> {
    let node_seed = match node_seed {
        Some(s) => s.clone(),
        None => random_bytes(32)?,
    };
    let streams = StreamLimits {
        max_send_queue: SEND_QUEUE,
        ..StreamLimits::default()
    };
    let mut b = Config::builder(&node_seed, shared)
        .accept_incoming(listener)
        .streams(streams);
    if !listener {
        b = b.handshake_timeout(HANDSHAKE_TIMEOUT);
    }
    b.build().map_err(|e| Fail::Usage(e.to_string()))
}

// ----- the header message -----

/// What the sender announces before a file's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Header {
    name: String,
    size: u64,
    sha256: [u8; 32],
}

impl Header {
    fn encode(&self) -> Vec<u8> {
        let name = self.name.as_bytes();
        let mut v = Vec::with_capacity(8 + 8 + 32 + 2 + name.len());
        v.extend_from_slice(MAGIC);
        v.extend_from_slice(&self.size.to_be_bytes());
        v.extend_from_slice(&self.sha256);
        v.extend_from_slice(&(name.len() as u16).to_be_bytes());
        v.extend_from_slice(name);
        v
    }

    fn decode(b: &[u8]) -> Result<Header, String> {
        let rest = b.strip_prefix(MAGIC).ok_or("not an stt-send header")?;
        let (size, rest) = rest.split_first_chunk::<8>().ok_or("short header")?;
        let (sha256, rest) = rest.split_first_chunk::<32>().ok_or("short header")?;
        let (len, name) = rest.split_first_chunk::<2>().ok_or("short header")?;
        if name.len() != usize::from(u16::from_be_bytes(*len)) {
            return Err("header name length is wrong".into());
        }
        let name = std::str::from_utf8(name).map_err(|_| "file name is not UTF-8")?;
        Ok(Header {
            name: safe_name(name)?.to_owned(),
            size: u64::from_be_bytes(*size),
            sha256: *sha256,
        })
    }
}

/// `name` if it is a plain file name: no directory part, no `..`, nothing a
/// file system could read as a path or a drive.
fn safe_name(name: &str) -> Result<&str, String> {
    let plain = !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', ':', '\0'])
        && Path::new(name).file_name().and_then(|n| n.to_str()) == Some(name);
    if plain {
        Ok(name)
    } else {
        Err(format!("refused file name {name:?}: not a plain file name"))
    }
}

// ----- listening -----

/// Serves sessions until stopped; with `once`, until the first session
/// ends, returning whether all its files arrived intact.
async fn listen(node: Node, out: PathBuf, once: bool) -> Result<bool, Fail> {
    loop {
        let session = node.accept().await.map_err(transfer)?;
        eprintln!(
            "session from {} (node {})",
            session.peer(),
            fmt_node(&session)
        );
        let task = tokio::spawn(serve_session(session, out.clone()));
        if once {
            let (ok, failed) = task.await.map_err(transfer)?;
            return Ok(failed == 0 && ok > 0);
        }
    }
}

fn fmt_node(s: &Session) -> String {
    s.remote_node()
        .map(|n| hex(&n.0[..8]))
        .unwrap_or_else(|| "?".into())
}

/// Receives files on every stream the peer opens; (files ok, files failed).
async fn serve_session(session: Session, out: PathBuf) -> (usize, usize) {
    let mut tasks = tokio::task::JoinSet::new();
    let why = loop {
        match session.accept_stream().await {
            Ok(stream) => {
                tasks.spawn(receive_file(stream, out.clone()));
            }
            Err(e) => break e,
        }
    };
    let (mut ok, mut failed) = (0, 0);
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Ok(())) => ok += 1,
            _ => failed += 1,
        }
    }
    match why {
        Error::SessionClosed(CloseReason::Peer { code: 0, .. }) => {
            eprintln!(
                "session from {} done: {ok} file(s) ok, {failed} failed",
                session.peer()
            )
        }
        e => eprintln!("session from {} ended: {e}", session.peer()),
    }
    (ok, failed)
}

/// One file: header, data, verification, answer.
async fn receive_file(stream: Stream, out: PathBuf) -> Result<(), String> {
    let r = receive_file_inner(&stream, &out).await;
    let answer = match &r {
        Ok(h) => format!("OK {}", hex(&h.sha256)),
        Err(e) => format!("ERROR {e}"),
    };
    match &r {
        Ok(h) => eprintln!(
            "  received {} ({} bytes, sha256 ok)",
            out.join(&h.name).display(),
            h.size
        ),
        Err(e) => eprintln!("  stream {}: {e}", stream.id()),
    }
    // The answer is best effort when the session is already gone.
    if stream.send(answer.into_bytes()).await.is_ok() {
        let _ = stream.flush().await;
    }
    let _ = stream.close().await;
    r.map(|_| ())
}

async fn receive_file_inner(stream: &Stream, out: &Path) -> Result<Header, String> {
    let first = stream
        .receive_timeout(IDLE)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("stream ended before its header")?;
    let header = Header::decode(&first)?;
    let part = out.join(format!(".{}.stt-part-{}", header.name, stream.id()));
    let file = File::create(&part).map_err(|e| format!("cannot create {}: {e}", part.display()))?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Bytes>(16);
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = done_tx.send(write_and_hash(file, rx));
    });
    let mut got = 0u64;
    let received: Result<(), String> = async {
        while got < header.size {
            let m = stream
                .receive_timeout(IDLE)
                .await
                .map_err(|e| e.to_string())?
                .ok_or("stream ended before the whole file arrived")?;
            got += m.len() as u64;
            if got > header.size {
                return Err(format!("more than the {} bytes announced", header.size));
            }
            tx.send(m)
                .map_err(|_| "the file writer stopped".to_string())?;
        }
        Ok(())
    }
    .await;
    drop(tx);
    let written = done_rx
        .await
        .map_err(|_| "the file writer died".to_string())?;
    let check = received.and_then(|()| {
        let (n, sha) = written.map_err(|e| format!("cannot write {}: {e}", part.display()))?;
        if n != header.size {
            Err(format!(
                "size mismatch: {n} bytes, {} announced",
                header.size
            ))
        } else if sha != header.sha256 {
            Err(format!(
                "sha256 mismatch: got {}, announced {}",
                hex(&sha),
                hex(&header.sha256)
            ))
        } else {
            Ok(())
        }
    });
    match check {
        Ok(()) => {
            let dest = out.join(&header.name);
            std::fs::rename(&part, &dest)
                .map_err(|e| format!("cannot move into {}: {e}", dest.display()))?;
            Ok(header)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}

fn write_and_hash(
    file: File,
    rx: std::sync::mpsc::Receiver<Bytes>,
) -> std::io::Result<(u64, [u8; 32])> {
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    let mut h = Sha256::new();
    let mut n = 0u64;
    for m in rx {
        h.update(&m);
        w.write_all(&m)?;
        n += m.len() as u64;
    }
    w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    Ok((n, h.finalize().into()))
}

// ----- sending -----

/// A file to send, checked and hashed.
struct Outgoing {
    path: PathBuf,
    header: Header,
}

/// Checks every file is a readable regular file with a distinct UTF-8 base
/// name, and hashes it.
async fn prepare(files: Vec<PathBuf>) -> Result<Vec<Outgoing>, Fail> {
    let mut names = std::collections::HashSet::new();
    let mut jobs = Vec::new();
    for path in files {
        let meta = std::fs::metadata(&path)
            .map_err(|e| Fail::Input(format!("cannot read {}: {e}", path.display())))?;
        if !meta.is_file() {
            return Err(Fail::Input(format!(
                "{} is not a regular file",
                path.display()
            )));
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Fail::Input(format!("{}: name is not UTF-8", path.display())))?
            .to_owned();
        safe_name(&name).map_err(Fail::Input)?;
        if !names.insert(name.clone()) {
            return Err(Fail::Input(format!("two files are named {name:?}")));
        }
        jobs.push(tokio::task::spawn_blocking(move || {
            let (size, sha256) = hash_file(&path)
                .map_err(|e| Fail::Input(format!("cannot read {}: {e}", path.display())))?;
            Ok::<_, Fail>(Outgoing {
                path,
                header: Header { name, size, sha256 },
            })
        }));
    }
    let mut out = Vec::new();
    for j in jobs {
        out.push(j.await.map_err(transfer)??);
    }
    Ok(out)
}

fn hash_file(path: &Path) -> std::io::Result<(u64, [u8; 32])> {
    let mut f = File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            return Ok((n, h.finalize().into()));
        }
        h.update(buf.get(..k).unwrap_or_default());
        n += k as u64;
    }
}

/// Reads `path` in chunks on its own thread, a few chunks ahead.
fn read_ahead(path: PathBuf) -> tokio::sync::mpsc::Receiver<std::io::Result<Bytes>> {
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    std::thread::spawn(move || {
        let mut f = match File::open(&path) {
            Ok(f) => f,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        loop {
            let mut buf = vec![0u8; CHUNK];
            let mut n = 0;
            while n < CHUNK {
                match f.read(buf.get_mut(n..).unwrap_or_default()) {
                    Ok(0) => break,
                    Ok(k) => n += k,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                }
            }
            if n == 0 {
                return;
            }
            buf.truncate(n);
            if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                return;
            }
        }
    });
    rx
}

/// Sends every file on its own stream and waits for every answer.
async fn send(node: &Node, addr: SocketAddr, files: Vec<Outgoing>) -> Result<(), Fail> {
    let session = node.connect(addr).await.map_err(|e| match e {
        Error::ConnectFailed(CloseReason::HandshakeTimeout) => Fail::Transfer(format!(
            "no answer from {addr} within {} s: is `stt-send listen` running there, \
             with the same shared seed?",
            HANDSHAKE_TIMEOUT.as_secs()
        )),
        e => Fail::Transfer(format!("cannot connect to {addr}: {e}")),
    })?;
    let total: u64 = files.iter().map(|f| f.header.size).sum();
    let bar = progress_bar(total);
    let start = Instant::now();
    let mut streams = Vec::new();
    for i in 0..files.len() {
        let id = u32::try_from(i + 1).map_err(|_| Fail::Input("too many files".into()))?;
        streams.push(session.create_stream(id).await.map_err(transfer)?);
    }
    let done = Arc::new(AtomicBool::new(false));
    let ticker = tokio::spawn(track_progress(streams.clone(), bar.clone(), done.clone()));
    let mut tasks = tokio::task::JoinSet::new();
    for (f, stream) in files.into_iter().zip(streams) {
        tasks.spawn(send_file(stream, f));
    }
    let mut failures = Vec::new();
    while let Some(r) = tasks.join_next().await {
        match r {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(e),
            Err(e) => failures.push(e.to_string()),
        }
    }
    done.store(true, Ordering::Relaxed);
    let _ = ticker.await;
    let secs = start.elapsed().as_secs_f64();
    if failures.is_empty() {
        bar.finish_and_clear();
        let mib = total as f64 / (1024.0 * 1024.0);
        println!(
            "sent {mib:.1} MiB in {secs:.2} s: {:.1} MiB/s ({:.0} Mbit/s)",
            mib / secs,
            total as f64 * 8.0 / secs / 1e6
        );
        if let Ok(st) = session.stats().await {
            println!(
                "  {} packets sent, {} lost, rtt {:.2} ms, congestion window {} KiB",
                st.packets_sent,
                st.packets_lost,
                st.rtt.as_secs_f64() * 1e3,
                st.congestion_window >> 10
            );
        }
        let _ = session.close(0, b"done").await;
        Ok(())
    } else {
        bar.abandon();
        let _ = session.close(1, b"failed").await;
        Err(Fail::Transfer(failures.join("\n")))
    }
}

async fn send_file(stream: Stream, f: Outgoing) -> Result<(), String> {
    let name = f.header.name.clone();
    let r = send_file_inner(&stream, f).await;
    let _ = stream.close().await;
    match r {
        Ok(()) => {
            println!("{name}: confirmed (sha256 ok)");
            Ok(())
        }
        Err(e) => Err(format!("{name}: {e}")),
    }
}

async fn send_file_inner(stream: &Stream, f: Outgoing) -> Result<(), String> {
    stream
        .send(f.header.encode())
        .await
        .map_err(|e| e.to_string())?;
    let mut chunks = read_ahead(f.path.clone());
    let mut sent = 0u64;
    while let Some(chunk) = chunks.recv().await {
        let chunk = chunk.map_err(|e| format!("read error: {e}"))?;
        sent += chunk.len() as u64;
        stream.send_all(chunk).await.map_err(|e| e.to_string())?;
    }
    if sent != f.header.size {
        return Err(format!(
            "the file changed while sending ({sent} bytes, was {})",
            f.header.size
        ));
    }
    // The listener answers once it has written and checked everything.
    let answer = loop {
        match stream.receive_timeout(IDLE).await {
            Ok(Some(a)) => break a,
            Ok(None) => return Err("the listener closed the stream without an answer".into()),
            // Large files: the listener is still busy, the session alive.
            Err(Error::Timeout) => continue,
            Err(e) => return Err(e.to_string()),
        }
    };
    let answer = String::from_utf8_lossy(&answer);
    match answer.strip_prefix("OK ") {
        Some(sha) if sha == hex(&f.header.sha256) => Ok(()),
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
async fn track_progress(streams: Vec<Stream>, bar: ProgressBar, done: Arc<AtomicBool>) {
    while !done.load(Ordering::Relaxed) {
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

// ----- the demo -----

async fn demo(node_seed: Option<Vec<u8>>) -> Result<(), Fail> {
    let dir = std::env::temp_dir().join(format!("stt-send-demo-{}", std::process::id()));
    let r = demo_in(&dir, node_seed).await;
    let _ = std::fs::remove_dir_all(&dir);
    r
}

async fn demo_in(dir: &Path, node_seed: Option<Vec<u8>>) -> Result<(), Fail> {
    let (inbox, outbox) = (dir.join("to-send"), dir.join("received"));
    for d in [&inbox, &outbox] {
        std::fs::create_dir_all(d).map_err(|e| Fail::Input(format!("{}: {e}", d.display())))?;
    }
    let file = inbox.join("demo-8MiB.bin");
    let data = random_bytes(DEMO_SIZE)?;
    std::fs::write(&file, &data).map_err(|e| Fail::Input(format!("{}: {e}", file.display())))?;
    let shared = random_bytes(32)?;
    println!(
        "demo: a listener and a sender on loopback, one {} MiB file",
        DEMO_SIZE >> 20
    );

    let listener = Node::bind("127.0.0.1:0", config(&None, &shared, true)?)
        .await
        .map_err(transfer)?;
    let addr = listener.local_addr();
    println!("  listening on {addr}, writing into {}", outbox.display());
    let serving = tokio::spawn(listen(listener.clone(), outbox.clone(), true));

    let sender = Node::bind("127.0.0.1:0", config(&node_seed, &shared, false)?)
        .await
        .map_err(transfer)?;
    let files = prepare(vec![file]).await?;
    send(&sender, addr, files).await?;
    let _ = sender.shutdown().await;

    let all_ok = tokio::time::timeout(Duration::from_secs(10), serving)
        .await
        .map_err(|_| transfer("the listener did not see the session end"))?
        .map_err(transfer)??;
    let _ = listener.shutdown().await;
    let got = std::fs::read(outbox.join("demo-8MiB.bin"))
        .map_err(|e| transfer(format!("received file missing: {e}")))?;
    if !all_ok || got != data {
        return Err(transfer("the received file differs from the one sent"));
    }
    println!("demo OK: the received file is identical. Now try, on two machines:");
    println!("  STT_SHARED_SEED=$(openssl rand -hex 32)   # the same on both");
    println!("  stt-send listen 0.0.0.0:7400 --out ./inbox");
    println!("  stt-send send HOST:7400 FILE...");
    Ok(())
}

// ----- main -----

async fn run(args: Args) -> Result<(), Fail> {
    match args.command {
        Command::Demo => demo(args.node_seed).await,
        Command::Listen { addr, out, once } => {
            if !out.is_dir() {
                return Err(Fail::Input(format!(
                    "--out {}: not a directory",
                    out.display()
                )));
            }
            let shared = match args.seed {
                Some(s) => s,
                None => {
                    let s = random_bytes(32)?;
                    eprintln!("no --seed given; generated shared seed {}", hex(&s));
                    eprintln!("senders need: --seed {}", hex(&s));
                    s
                }
            };
            let node = Node::bind(addr, config(&args.node_seed, &shared, true)?)
                .await
                .map_err(|e| Fail::Transfer(format!("cannot listen on {addr}: {e}")))?;
            eprintln!(
                "listening on {} (node {})",
                node.local_addr(),
                hex(&node.node_id().0[..8])
            );
            let ok = listen(node.clone(), out, once).await?;
            let _ = node.shutdown().await;
            if ok {
                Ok(())
            } else {
                Err(Fail::Transfer("some files failed".into()))
            }
        }
        Command::Send { addr, files } => {
            let shared = args.seed.ok_or_else(|| {
                Fail::Usage("no shared seed: pass --seed HEX or set STT_SHARED_SEED".into())
            })?;
            let files = prepare(files).await?;
            let bind = if addr.is_ipv4() {
                "0.0.0.0:0"
            } else {
                "[::]:0"
            };
            let node = Node::bind(bind, config(&args.node_seed, &shared, false)?)
                .await
                .map_err(transfer)?;
            let r = send(&node, addr, files).await;
            let _ = node.shutdown().await;
            r
        }
    }
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args_os().skip(1).collect()) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("stt-send: {e}");
            return ExitCode::from(e.code());
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("stt-send: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("stt-send: {e}");
            ExitCode::from(e.code())
        }
    }
}

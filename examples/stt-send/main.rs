//! `stt-send`: send files to another machine over an encrypted stt session,
//! one stream per file, each verified by SHA-256 on arrival.
//!
//! ```text
//! stt-send                                  demo: both ends here, an 8 MiB file
//! stt-send listen ADDR [--out DIR] [--once] receive files into DIR (default .)
//! stt-send send ADDR FILE...                send files to a listener
//! ```
//! (`stt-send --help` for the options: `--seed HEX` or `STT_SHARED_SEED`,
//! `--node-seed HEX`, `--qlog DIR`, `-v`; a sender's `--tickets PATH` or
//! `--no-tickets`.)
//!
//! A sender keeps its session tickets in a file (mode 0600, its key
//! beside it; `state.rs`), so its next run to the same listener resumes.
//!
//! `RUST_LOG=stt=debug` (or `info`, `trace`) prints the sessions' trace on
//! stderr through `tracing` (feature `trace`); nothing is printed without it.
//!
//! Each file travels on its own stream as a header message (`STTSEND2`,
//! size, name), the file's bytes in messages, and a trailer message
//! (`STTSHA32` and the SHA-256 of those bytes); the listener writes it
//! under its plain name (never a path), checks size and hash, answers
//! `OK <hex sha256>` or `ERROR ...` on the same stream and ends it. The
//! listener serves stream 0 as well as the streams the sender opens. The
//! sender exits 0 once every file was confirmed. The byte layout, for a
//! sender or listener of your own, is in `docs/STT-SEND.md`.

mod args;
mod budget;
mod header;
mod listen;
mod observe;
mod send;
mod state;
#[path = "../adapters/tokio_node.rs"]
mod tokio_node;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use stt::{Config, StreamLimits};
use tokio_node::Node;

use args::{hex, parse_args, usage_error, Args, Command};

/// Starting flow-control window of a stream and of a session (they grow
/// from there as the core sees the reader keep up). The core's default of
/// 256 KiB held a loopback transfer between two processes to one window
/// per (scheduling-inflated) round trip, about 100 MiB/s; this is what one
/// session may make the listener buffer before it grows.
const WINDOW: u64 = 4 << 20;
/// The sender gives up a handshake after this long.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest silence inside a transfer.
const IDLE: Duration = Duration::from_secs(30);
/// Size of the demo's generated file.
const DEMO_SIZE: usize = 8 << 20;

/// Why the program stops early.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Fail {
    /// A usage error clap could not catch (shown in clap's style).
    #[error("{0}")]
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

pub(crate) fn transfer(e: impl std::fmt::Display) -> Fail {
    Fail::Transfer(e.to_string())
}

pub(crate) fn random_bytes(n: usize) -> Result<Vec<u8>, Fail> {
    let mut v = vec![0u8; n];
    getrandom::fill(&mut v).map_err(|e| transfer(format!("no OS randomness: {e}")))?;
    Ok(v)
}

/// The node's configuration: a listener, or a sender of `files` files at
/// once (their streams share its send-queue budget).
fn config(
    node_seed: &Option<Vec<u8>>,
    shared: &[u8],
    listener: bool,
    files: usize,
    reset_key: Option<[u8; 32]>,
) -> Result<Config, Fail> {
    let node_seed = match node_seed {
        Some(s) => s.clone(),
        None => random_bytes(32)?,
    };
    let streams = {
        let mut limits = StreamLimits::default();
        limits.max_send_queue = budget::send_queue(files);
        limits.stream_window = WINDOW;
        limits.session_window = WINDOW;
        limits
    };
    let mut b = Config::builder(&node_seed, shared)
        .accept_incoming(listener)
        .streams(streams);
    if !listener {
        b = b.handshake_timeout(HANDSHAKE_TIMEOUT);
    }
    if let Some(key) = reset_key {
        b = b.reset_key(key);
    }
    b.build().map_err(|e| Fail::Usage(e.to_string()))
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

    let listener = Node::bind("127.0.0.1:0", config(&None, &shared, true, 1, None)?)
        .await
        .map_err(transfer)?;
    observe::attach(&listener, observe::Vantage::Server).await?;
    let addr = listener.local_addr();
    println!("  listening on {addr}, writing into {}", outbox.display());
    let serving = tokio::spawn(listen::listen(listener.clone(), outbox.clone(), true));

    let sender = Node::bind("127.0.0.1:0", config(&node_seed, &shared, false, 1, None)?)
        .await
        .map_err(transfer)?;
    observe::attach(&sender, observe::Vantage::Client).await?;
    let files = send::prepare(vec![file]).await?;
    send::send(&sender, addr, files, 1, false).await?;
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
    let node_seed = args.node_seed.map(|s| s.0);
    match args.command {
        None => demo(node_seed).await,
        Some(Command::Listen { addr, out, once }) => {
            if !out.is_dir() {
                return Err(Fail::Input(format!(
                    "--out {}: not a directory",
                    out.display()
                )));
            }
            let shared = match args.seed {
                Some(s) => s.0,
                None => {
                    let s = random_bytes(32)?;
                    eprintln!("no --seed given; generated shared seed {}", hex(&s));
                    eprintln!("senders need: --seed {}", hex(&s));
                    s
                }
            };
            // A listener restarted with the same identity derives the same
            // reset key; with a random identity it keeps one under --out,
            // so its senders still learn of a restart at once.
            let reset_key = match node_seed {
                Some(_) => None,
                None => Some(listen::stored_reset_key(&out)?),
            };
            let node = Node::bind(addr, config(&node_seed, &shared, true, 1, reset_key)?)
                .await
                .map_err(|e| Fail::Transfer(format!("cannot listen on {addr}: {e}")))?;
            observe::attach(&node, observe::Vantage::Server).await?;
            eprintln!(
                "listening on {} (node {})",
                node.local_addr(),
                hex(&node.node_id().0[..8])
            );
            let ok = listen::listen(node.clone(), out, once).await?;
            let _ = node.shutdown().await;
            if ok {
                Ok(())
            } else {
                Err(Fail::Transfer("some files failed".into()))
            }
        }
        Some(Command::Send {
            addr,
            files,
            sessions,
            tickets,
            no_tickets,
        }) => {
            let shared = args.seed.map(|s| s.0).ok_or_else(|| {
                Fail::Usage("no shared seed: pass --seed HEX or set STT_SHARED_SEED".into())
            })?;
            let files = send::prepare(files).await?;
            let tickets = match no_tickets {
                true => None,
                false => tickets.or_else(state::default_tickets),
            };
            // The ticket file is sealed for one identity: keep the same one.
            let node_seed = match (node_seed, &tickets) {
                (Some(s), _) => Some(s),
                (None, Some(path)) => Some(state::sender_seed(path)?),
                (None, None) => None,
            };
            let bind = if addr.is_ipv4() {
                "0.0.0.0:0"
            } else {
                "[::]:0"
            };
            let node = Node::bind(bind, config(&node_seed, &shared, false, files.len(), None)?)
                .await
                .map_err(transfer)?;
            observe::attach(&node, observe::Vantage::Client).await?;
            if let Some(path) = &tickets {
                state::load(&node, path, args.verbose).await;
            }
            let r = send::send(&node, addr, files, sessions as usize, args.verbose).await;
            if let Some(path) = &tickets {
                state::save(&node, path, args.verbose).await;
            }
            let _ = node.shutdown().await;
            r
        }
    }
}

fn main() -> ExitCode {
    // --help, or a usage error in clap's style (status 2).
    let args = parse_args(std::env::args_os().skip(1).collect()).unwrap_or_else(|e| e.exit());
    if let Err(e) = observe::setup(args.qlog.clone()) {
        match e {
            Fail::Usage(m) => usage_error(m).exit(),
            e => {
                eprintln!("stt-send: {e}");
                return ExitCode::from(e.code());
            }
        }
    }
    let rt = match tokio::runtime::Builder::new_current_thread()
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
        Err(Fail::Usage(m)) => usage_error(m).exit(),
        Err(e) => {
            eprintln!("stt-send: {e}");
            ExitCode::from(e.code())
        }
    }
}

//! The adapters over real UDP sockets on loopback, against the in-memory
//! `pair` (and, given its binary, quinn's loopback anchor) in the same run.
//!
//!     cargo run --release --example loopback -- [--adapter tokio|blocking]
//!         [--cipher chacha20poly1305|aes256gcm] [--bytes N] [--write N]
//!         [--rounds N] [--quinn PATH/TO/quinn-loopback]
//!
//! Each round runs, one after the other: quinn's anchor (if given, as a
//! child process), the in-memory pair with the same cipher and datagram
//! size, then the adapter: two nodes on 127.0.0.1, one stream carrying
//! `--bytes` in `send_all` calls of `--write` bytes (64 KiB by default, as
//! quinn's anchor writes; at most 1 MiB), read as it arrives. The tokio
//! adapter runs both nodes on one current-thread runtime (one thread, as
//! quinn's anchor does); the blocking adapter needs a thread per node.
//!
//! `pair_over_quinn` bounds `adapter_over_quinn`: the adapter does the
//! pair's protocol and cipher work plus the kernel's, so it reaches
//! `adapter_over_quinn = r` only where `pair_over_quinn` is well above `r`.
//!
//! Goodput is application bytes read over wall time from the first send to
//! the last byte read (handshake excluded). The machine is shared: only the
//! ratios of one run mean anything; the summary gives each figure's best
//! round and the ratios of those bests. `cpu_s` is the process's CPU time
//! (user + system) during the adapter's transfer.

// Each adapter includes common.rs and udp_batch.rs for itself.
#![allow(clippy::duplicate_mod)]

#[path = "adapters/blocking_node.rs"]
mod blocking_node;
#[path = "pair/driver.rs"]
mod driver;
#[path = "adapters/tokio_node.rs"]
mod tokio_node;

use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Parser, ValueEnum};
use stt::Cipher;
use stt::Config;

/// The most each `send_all` call hands the adapter (sliced, never copied).
const CHUNK: usize = 1 << 20;
/// What each `send_all` call hands the adapter by default: what quinn's
/// anchor hands `write_all`.
const WRITE: usize = 64 << 10;
static PAYLOAD: [u8; CHUNK] = [0xab; CHUNK];

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Adapter {
    /// `examples/adapters/tokio_node.rs`, both ends on one thread.
    Tokio,
    /// `examples/adapters/blocking_node.rs`, a thread per end.
    Blocking,
}

/// The adapters over loopback UDP against the in-memory pair and quinn.
#[derive(Debug, Parser)]
#[command(name = "loopback")]
struct Args {
    /// Which adapter carries the transfer.
    #[arg(long, value_enum, default_value_t = Adapter::Tokio)]
    adapter: Adapter,
    /// Packet protection (the initiator's choice).
    #[arg(long, default_value = "aes256gcm", value_parser = parse_cipher)]
    cipher: Cipher,
    /// Application bytes per transfer.
    #[arg(long, default_value_t = 256 << 20)]
    bytes: u64,
    /// Bytes per `send_all` call (1..=1 MiB; quinn's anchor writes 64 KiB).
    #[arg(long, default_value_t = WRITE, value_parser = parse_write)]
    write: usize,
    /// Rounds of every figure, interleaved.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// quinn's loopback anchor binary (../shared/anchors/quinn-loopback),
    /// run as a child with the same byte count each round.
    #[arg(long)]
    quinn: Option<std::path::PathBuf>,
    /// Skip the in-memory pair (for profiling the adapter alone).
    #[arg(long)]
    no_pair: bool,
}

fn parse_cipher(s: &str) -> Result<Cipher, String> {
    Cipher::from_name(s).ok_or(format!("chacha20poly1305 or aes256gcm, not {s:?}"))
}

fn parse_write(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=CHUNK).contains(&n) => Ok(n),
        _ => Err(format!("1..={CHUNK} bytes, not {s:?}")),
    }
}

fn mib_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / (1u64 << 20) as f64 / d.as_secs_f64()
}

/// User plus system CPU time of the whole process so far.
fn process_cpu() -> Duration {
    cpu_of(libc::RUSAGE_SELF)
}

/// User plus system CPU time of `who` (this process, or its children that
/// were waited for).
fn cpu_of(who: libc::c_int) -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
        return Duration::ZERO;
    }
    let tv = |t: libc::timeval| {
        Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
    };
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Both nodes' configuration: the pair's windows (quinn's anchor's), the
/// chosen cipher, and a 16 MiB send queue so the writer is held back as an
/// application would be.
fn config(name: &str, cipher: Cipher) -> Config {
    let opts = driver::Opts {
        cipher,
        ..driver::Opts::default()
    };
    let limits = {
        let mut limits = driver::big_limits(1);
        limits.max_send_queue = 16 << 20;
        limits
    };
    Config::builder(
        format!("{name:-<32}").as_bytes(),
        b"loopback benchmark network seed",
    )
    .max_datagram_size(opts.datagram)
    .cipher(cipher)
    .streams(limits)
    .build()
    .expect("valid configuration")
}

/// (wall time, process CPU time) of one transfer.
type Timed = (Duration, Duration);

fn tokio_transfer(cipher: Cipher, bytes: u64, write: usize) -> Timed {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        use tokio_node::Node;
        let a = Node::bind("127.0.0.1:0", config("a", cipher))
            .await
            .expect("bind");
        let b = Node::bind("127.0.0.1:0", config("b", cipher))
            .await
            .expect("bind");
        let (sa, sb) = tokio::join!(a.connect(b.local_addr()), b.accept());
        let (sa, sb) = (sa.expect("connect"), sb.expect("accept"));
        let tx = sa.create_stream(1).await.expect("stream");
        let (t0, c0) = (Instant::now(), process_cpu());
        let reader = tokio::spawn(async move {
            let rx = sb.accept_stream().await.expect("accept stream");
            let mut got = 0u64;
            while got < bytes {
                match rx.receive().await.expect("receive") {
                    Some(m) => got += m.len() as u64,
                    None => break,
                }
            }
            got
        });
        let mut sent = 0u64;
        while sent < bytes {
            let n = (bytes - sent).min(write as u64) as usize;
            tx.send_all(Bytes::from_static(&PAYLOAD[..n]))
                .await
                .expect("send");
            sent += n as u64;
        }
        let got = reader.await.expect("reader");
        let timed = (t0.elapsed(), process_cpu() - c0);
        assert_eq!(got, bytes, "the receiver read every byte");
        let _ = a.shutdown().await;
        let _ = b.shutdown().await;
        timed
    })
}

fn blocking_transfer(cipher: Cipher, bytes: u64, write: usize) -> Timed {
    use blocking_node::BlockingNode;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let wait = Duration::from_secs(60);
    let mut b = BlockingNode::bind("127.0.0.1:0", config("b", cipher)).expect("bind");
    let addr = b.local_addr().expect("address");
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    let reader = std::thread::spawn(move || {
        let s = b.accept().expect("accept");
        let id = b.accept_stream_timeout(s, wait).expect("accept stream");
        let _ = ready_tx.send(());
        let mut got = 0u64;
        while got < bytes {
            match b.receive_timeout(s, id, wait).expect("receive") {
                Some(m) => got += m.len() as u64,
                None => break,
            }
        }
        let _ = done_tx.send((Instant::now(), got));
        // Keep acknowledging until the sender is done too.
        while !stopped.load(Ordering::Relaxed) {
            let _ = b.run_for(Duration::from_millis(5));
        }
    });
    let mut a = BlockingNode::bind("127.0.0.1:0", config("a", cipher)).expect("bind");
    let s = a.connect(addr).expect("connect");
    a.create_stream(s, 1).expect("stream");
    // The stream opens at the peer with its first message.
    a.send(s, 1, Bytes::from_static(&PAYLOAD[..0]))
        .expect("send");
    while ready_rx.try_recv().is_err() {
        a.run_for(Duration::from_millis(1)).expect("run");
    }
    let (t0, c0) = (Instant::now(), process_cpu());
    let mut sent = 0u64;
    while sent < bytes {
        let n = (bytes - sent).min(write as u64) as usize;
        a.send_all(s, 1, Bytes::from_static(&PAYLOAD[..n]))
            .expect("send");
        sent += n as u64;
    }
    let (end, got) = loop {
        if let Ok(done) = done_rx.try_recv() {
            break done;
        }
        a.run_for(Duration::from_millis(1)).expect("run");
    };
    let timed = (end - t0, process_cpu() - c0);
    stop.store(true, Ordering::Relaxed);
    reader.join().expect("reader");
    assert_eq!(got, bytes, "the receiver read every byte");
    let _ = a.shutdown();
    timed
}

/// (wall time, thread CPU time) of the pair's transfer.
fn pair_transfer(cipher: Cipher, bytes: u64) -> Timed {
    let opts = driver::Opts {
        cipher,
        ..driver::Opts::default()
    };
    let mut p = driver::Pair::new(&opts);
    p.connect(1);
    p.transfer((bytes / 16).max(1 << 20));
    let m = p.transfer(bytes);
    (m.elapsed, m.cpu)
}

/// quinn's goodput (as it prints it) and its whole process's CPU time
/// (certificate, handshake and all, so a little more than the transfer's).
fn quinn_transfer(bin: &std::path::Path, bytes: u64) -> Option<(f64, Duration)> {
    let c0 = cpu_of(libc::RUSAGE_CHILDREN);
    let out = std::process::Command::new(bin)
        .arg(bytes.to_string())
        .output()
        .ok()?;
    let cpu = cpu_of(libc::RUSAGE_CHILDREN) - c0;
    let text = String::from_utf8_lossy(&out.stdout);
    let rate = text.rsplit("= ").next()?.split_whitespace().next()?;
    Some((rate.parse().ok()?, cpu))
}

/// The figures of one round, in MiB/s: wall clock, and per CPU second.
#[derive(Debug, Clone, Copy, Default)]
struct Figures {
    quinn: f64,
    quinn_cpu: f64,
    pair: f64,
    pair_cpu: f64,
    adapter: f64,
    adapter_cpu: f64,
    adapter_cpu_s: f64,
}

impl Figures {
    fn print(&self, label: &str) {
        let f = |v: f64| {
            if v > 0.0 {
                format!("{v:.1}")
            } else {
                "-".into()
            }
        };
        let r = |a: f64, b: f64| {
            if a > 0.0 && b > 0.0 {
                format!("{:.2}", a / b)
            } else {
                "-".into()
            }
        };
        println!(
            "{label} quinn_mib_s={} pair_mib_s={} adapter_mib_s={} adapter_cpu_s={:.2} \
             | per CPU second: quinn={} pair={} adapter={} \
             | adapter_over_pair={} adapter_over_quinn={} cpu_adapter_over_pair={} cpu_adapter_over_quinn={} \
             | pair_over_quinn={}",
            f(self.quinn),
            f(self.pair),
            f(self.adapter),
            self.adapter_cpu_s,
            f(self.quinn_cpu),
            f(self.pair_cpu),
            f(self.adapter_cpu),
            r(self.adapter, self.pair),
            r(self.adapter, self.quinn),
            r(self.adapter_cpu, self.pair_cpu),
            r(self.adapter_cpu, self.quinn_cpu),
            r(self.pair, self.quinn),
        );
    }
}

fn main() {
    let args = Args::parse();
    println!(
        "adapter={:?} cipher={} bytes={} write={} rounds={}",
        args.adapter,
        args.cipher.name(),
        args.bytes,
        args.write,
        args.rounds
    );
    let mut best = Figures::default();
    for round in 1..=args.rounds {
        let mut f = Figures::default();
        if let Some((q, cpu)) = args
            .quinn
            .as_deref()
            .and_then(|q| quinn_transfer(q, args.bytes))
        {
            f.quinn = q;
            f.quinn_cpu = mib_s(args.bytes, cpu);
        }
        if !args.no_pair {
            let (wall, cpu) = pair_transfer(args.cipher, args.bytes);
            f.pair = mib_s(args.bytes, wall);
            f.pair_cpu = mib_s(args.bytes, cpu);
        }
        let (wall, cpu) = match args.adapter {
            Adapter::Tokio => tokio_transfer(args.cipher, args.bytes, args.write),
            Adapter::Blocking => blocking_transfer(args.cipher, args.bytes, args.write),
        };
        f.adapter = mib_s(args.bytes, wall);
        f.adapter_cpu = mib_s(args.bytes, cpu);
        f.adapter_cpu_s = cpu.as_secs_f64();
        f.print(&format!("round={round}"));
        best = Figures {
            quinn: best.quinn.max(f.quinn),
            quinn_cpu: best.quinn_cpu.max(f.quinn_cpu),
            pair: best.pair.max(f.pair),
            pair_cpu: best.pair_cpu.max(f.pair_cpu),
            adapter: best.adapter.max(f.adapter),
            adapter_cpu: best.adapter_cpu.max(f.adapter_cpu),
            adapter_cpu_s: if round == 1 {
                f.adapter_cpu_s
            } else {
                best.adapter_cpu_s.min(f.adapter_cpu_s)
            },
        };
    }
    best.print("best:");
}
